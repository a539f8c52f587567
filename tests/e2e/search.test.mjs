// Search in a real browser: a visitor's message is found from the dashboard's top bar as the
// agent types (a prefix, without the accent), the keyboard opens it, even once it is resolved
// and out of the list; syntax-looking input is just text.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BOB, eventually, launchBrowser, loginAgent, newPerson, shot, startServer, visitorSays, waitForCount } from "./harness.mjs";

describe("search", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer("search");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("finds a visitor's message as the agent types and opens the chat, resolved or not", async () => {
    const bob = await newPerson(browser);
    const page = bob.page;
    await page.bringToFront();
    await loginAgent(page, server, BOB);
    const traveller = await newPerson(browser);
    const other = await newPerson(browser);
    await visitorSays(traveller, server, "Do you deliver to Reykjavík on Sundays?");
    await visitorSays(other, server, "What are your opening hours?");
    await page.bringToFront();

    // Resolve the traveller's chat: it leaves the New tab.
    const rows = page.getByTestId("conv-item");
    await waitForCount(rows, 2, "both conversations in the list");
    await rows.filter({ hasText: "Reykjavík" }).click();
    await page.getByTestId("resolve").click();
    await waitForCount(rows.filter({ hasText: "Reykjavík" }), 0, "the resolved chat to leave the New tab");
    await rows.filter({ hasText: "opening hours" }).click();
    await page.waitForURL((u) => u.pathname.startsWith("/app/c/"));
    const openedBefore = new URL(page.url()).pathname;

    // Ctrl+K, from the page, goes to the search box; a prefix without the accent finds it.
    await page.locator("body").click({ position: { x: 600, y: 400 } });
    await page.keyboard.press("Control+k");
    const input = page.getByTestId("search-input");
    await eventually("the search box to have the focus", () => input.evaluate((el) => el === document.activeElement));
    await page.keyboard.type("reykja");
    const hits = page.getByTestId("search-conversation");
    await waitForCount(hits, 1, "one conversation found");
    const hit = hits.first();
    assert.equal((await hit.locator("mark").allTextContents()).join("|"), "Reykjavík");
    assert.match(await hit.textContent(), /Resolved/);
    assert.equal(await hit.getAttribute("aria-selected"), "true");
    assert.equal(await input.getAttribute("aria-expanded"), "true");
    await shot(page, "search-results");

    // Enter opens it: the chat with the visitor's message, resolved.
    await input.press("Enter");
    await page.waitForURL((u) => u.pathname.startsWith("/app/c/") && u.pathname !== openedBefore);
    await page.locator('[data-testid="msg"][data-kind="visitor"]', { hasText: "Do you deliver to Reykjavík on Sundays?" }).waitFor();
    await page.getByTestId("search-results").waitFor({ state: "detached" });
    await shot(page, "search-opened");

    // Several words, each must match; the arrows move between results.
    await page.keyboard.press("Control+k");
    await input.fill("you");
    await waitForCount(hits, 2, "both conversations for a word in both");
    await input.press("ArrowDown");
    const second = hits.nth(1);
    assert.equal(await second.getAttribute("aria-selected"), "true");
    const secondText = await second.textContent();
    await input.press("Enter");
    await eventually("the second result to open", async () => {
      const pane = (await page.locator('[data-testid="msg"][data-kind="visitor"]').allTextContents()).join(" ");
      return secondText.includes("opening") ? pane.includes("opening hours") : pane.includes("Reykjavík");
    });

    // Input that looks like query syntax is text: nothing found, no error.
    await page.keyboard.press("Control+k");
    await input.fill('AND ( "*');
    await page.getByTestId("search-panel").getByText("Nothing found.").waitFor();
    // Nothing to search for: no request, no panel.
    await input.fill('"*');
    await page.getByTestId("search-panel").waitFor({ state: "detached" });
    // Escape closes, and again clears.
    await input.fill("sundays");
    await waitForCount(hits, 1, "one result");
    await input.press("Escape");
    await page.getByTestId("search-panel").waitFor({ state: "detached" });
    await input.press("Escape");
    assert.equal(await input.inputValue(), "");

    // The shortcut list names it.
    await page.locator("body").click({ position: { x: 600, y: 400 } });
    await page.keyboard.press("?");
    await page.getByTestId("shortcut-help").getByText("Search conversations and contacts").waitFor();

    assert.deepEqual(bob.pageErrors, []);
    assert.deepEqual(bob.consoleErrors, []);
    for (const p of [bob, traveller, other]) await p.context.close();
  });
});
