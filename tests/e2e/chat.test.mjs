// The foundation's acceptance test, in real browsers: a visitor on the demo website chats with an
// agent on the dashboard, live both ways, and the conversation survives a reload and is resolved.
// A second suite covers a visitor who arrives while no agent is online.
//
// Each suite has its own server (fresh data directory) and its own Chromium; the agent and the
// visitor are separate browser contexts, so they share no cookies or storage.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ALICE,
  attend,
  eventually,
  launchBrowser,
  loginAgent,
  newPerson,
  openWidget,
  shot,
  startServer,
  tabUnread,
  waitForCount,
  waitForCounts,
  widgetConnected,
  widgetFrame,
  widgetSend,
} from "./harness.mjs";

const HOSTILE = "Hello from the visitor <b>bold</b> <img src=x onerror=alert(1)>";
const REPLY = "Hi! How can I help?";

/** Messages a browser may log that say nothing about the product (none expected today). */
const harmless = (line) => /favicon\.ico/.test(line);

describe("chat between a visitor and an agent", () => {
  let server;
  let browser;
  let agent;
  let visitor;
  let convId;

  before(async () => {
    server = await startServer("chat");
    browser = await launchBrowser();
    agent = await newPerson(browser, { viewport: { width: 1440, height: 900 } });
    visitor = await newPerson(browser, { viewport: { width: 1280, height: 800 } });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("logs the agent in and lands in the inbox", async () => {
    const page = agent.page;
    await loginAgent(page, server, ALICE);
    assert.equal(new URL(page.url()).pathname, "/app");
    await page.getByText("Select a conversation.").waitFor();
    // The agent is online (the demo admin starts online), which the widget will show.
    assert.equal(await page.getByTestId("status-toggle").getAttribute("aria-checked"), "true");
    // The four tabs fit their column: nothing is cut off or needs a sideways scroll.
    const tabs = page.locator(".tabs");
    const overflow = await tabs.evaluate((el) => el.scrollWidth - el.clientWidth);
    assert.ok(overflow <= 0, `the tabs overflow their column by ${overflow}px`);
    await waitForCounts(page, { unassigned: 0, mine: 0, all: 0 });
    // Marks this document: if it is still there later, the inbox updated without a reload.
    await page.evaluate(() => {
      window.__e2eNoReload = true;
    });
    await shot(page, "dashboard-inbox-empty");
  });

  it("lets the visitor open the widget and send a message", async () => {
    const page = visitor.page;
    await page.goto(server.demoUrl);
    const frame = await openWidget(page);
    await widgetConnected(frame);
    // An agent is online: no away notice, and the header says so.
    await frame.getByTestId("fd-offline").waitFor({ state: "hidden" });
    await eventually("the widget header to say Online", async () => /Online/.test(await frame.locator("#presence").textContent()));
    await shot(page, "widget-open");

    await widgetSend(frame, HOSTILE);
    const mine = frame.locator('[data-testid="fd-message"][data-kind="visitor"]');
    await waitForCount(mine, 1, "one visitor message in the widget");
    // Acknowledged by the server: it has its sequence number and is no longer pending.
    await eventually("the visitor's message to be acknowledged", async () => {
      const m = mine.first();
      return (await m.getAttribute("data-seq")) !== null && (await m.getAttribute("data-pending")) === null;
    });
    assert.equal(await mine.first().locator(".bu").textContent(), HOSTILE, "the widget shows the text as typed");
    assert.equal(await frame.locator('[data-testid="fd-message"] img, [data-testid="fd-message"] b').count(), 0);
    assert.equal(await frame.getByTestId("fd-input").inputValue(), "", "the composer is cleared after sending");
    await shot(page, "widget-sent");
  });

  it("shows the new conversation in the agent's inbox live, with the text as literal text", async () => {
    const page = agent.page;
    const item = page.getByTestId("conv-item");
    await waitForCount(item, 1, "the new conversation in the inbox");
    assert.equal(await page.evaluate(() => window.__e2eNoReload === true), true, "the inbox was not reloaded");
    convId = await item.first().getAttribute("data-id");
    assert.ok(convId, "the row carries the conversation id");
    await eventually("the row's preview to show the message", async () => (await item.first().textContent()).includes("Hello from the visitor"));
    await shot(page, "dashboard-inbox-live");

    // The agent is looking at the dashboard (reading needs a focused, visible page; the
    // visitor's page had the focus a moment ago).
    await attend(page);
    await item.first().click();
    await page.waitForURL((u) => u.pathname === "/app/c/" + convId);
    const msg = page.locator('[data-testid="msg"][data-kind="visitor"]');
    await waitForCount(msg, 1, "the visitor's message in the thread");
    const text = await msg.first().locator(".bubble").textContent();
    assert.ok(text.includes("<b>bold</b>"), `literal markup in ${JSON.stringify(text)}`);
    assert.equal(text, HOSTILE);
    assert.equal(await page.locator('[data-testid="msg"] img').count(), 0, "no <img> element was created");
    assert.equal(await page.locator('[data-testid="msg"] b').count(), 0, "no <b> element was created");
    assert.equal(await page.locator(".row-preview img, .row-preview b").count(), 0);
    assert.deepEqual(agent.dialogs, [], "no dialog fired in the dashboard");
    assert.deepEqual(visitor.dialogs, [], "no dialog fired on the visitor's page");
    // Opening it reads it: the row and the tabs stop showing it as unread.
    await eventually("the conversation to be marked read", async () =>
      !(await tabUnread(page, "unassigned")) && !(await tabUnread(page, "all")) && (await page.locator(".conv-item.is-unread").count()) === 0,
    );
    await waitForCounts(page, { unassigned: 1, mine: 0, all: 1 });
  });

  it("shows the agent that the visitor is typing", async () => {
    const frame = widgetFrame(visitor.page);
    await frame.getByTestId("fd-input").pressSequentially("I have a question", { delay: 10 });
    await agent.page.locator(".typing", { hasText: "is typing" }).waitFor();
    await frame.getByTestId("fd-input").fill("");
    await eventually("the typing line to clear", async () => ((await agent.page.locator(".typing").textContent()) || "").trim() === "");
  });

  it("shows the visitor's context in the contact panel", async () => {
    const page = agent.page;
    const panel = page.getByTestId("contact-panel");
    await panel.locator(".facts").waitFor();
    const fact = (label) => panel.locator(".fact", { has: page.locator("dt", { hasText: label }) }).locator("dd");
    const current = await fact("Current page").textContent();
    assert.ok(current.includes("/demo"), `current page: ${current}`);
    assert.ok(current.startsWith(server.base), `current page is on the demo site: ${current}`);
    const browserName = (await fact("Browser").textContent()).trim();
    assert.match(browserName, /Chrom/, `browser: ${browserName}`);
    const os = (await fact("OS").textContent()).trim();
    assert.match(os, /Linux/, `os: ${os}`);
    const language = (await fact("Language").textContent()).trim();
    assert.equal(language, "en-US · American English", "the tag and its name");
    const timezone = (await fact("Timezone").textContent()).trim();
    assert.equal(timezone, "Europe/Berlin");
    await shot(page, "dashboard-conversation");
  });

  it("delivers the agent's reply to the widget live", async () => {
    const page = agent.page;
    await page.getByTestId("composer").fill(REPLY);
    await page.getByTestId("send").click();
    const sent = page.locator('[data-testid="msg"][data-kind="agent"]:not([data-pending])', { hasText: REPLY });
    await eventually("the reply to be stored", async () => (await sent.count()) === 1 && (await sent.first().getAttribute("data-seq")) !== null);
    assert.equal(await page.getByTestId("composer").inputValue(), "");

    const frame = widgetFrame(visitor.page);
    const reply = frame.locator('[data-testid="fd-message"][data-kind="agent"]', { hasText: REPLY });
    await reply.waitFor();
    assert.equal(await reply.locator(".bu").textContent(), REPLY);
    await shot(visitor.page, "widget-reply");
    // The visitor has the chat open (and looks at it), so the agent's tick turns to "read".
    await attend(visitor.page);
    await eventually("the reply's tick to say Read", async () =>
      (await sent.first().locator('[aria-label="Read"], [title="Read"]').count()) > 0,
    );
    // Replying assigned the conversation to the agent.
    await waitForCounts(page, { unassigned: 0, mine: 1, all: 1 });
    await page.getByTestId("take").waitFor({ state: "detached" });
    await shot(page, "dashboard-replied");
  });

  it("keeps the chat open and its history across a reload of the visitor's page", async () => {
    const page = visitor.page;
    await page.reload();
    // The open state is remembered: the chat comes back open without a click.
    const launcher = page.getByTestId("fd-launcher");
    await eventually("the chat to reopen by itself", async () => (await launcher.getAttribute("aria-expanded")) === "true");
    const frame = widgetFrame(page);
    await widgetConnected(frame);
    const all = frame.locator('[data-testid="fd-message"]');
    await frame.locator('[data-testid="fd-message"][data-kind="agent"]', { hasText: REPLY }).waitFor();
    const visitorMsgs = frame.locator('[data-testid="fd-message"][data-kind="visitor"]');
    assert.equal(await visitorMsgs.count(), 1, "the visitor's message is there once");
    assert.equal(await visitorMsgs.first().locator(".bu").textContent(), HOSTILE);
    // In order, with no duplicates.
    const seqs = await all.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-seq"))));
    assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b), `seqs ${seqs}`);
    assert.equal(await frame.locator('[data-testid="fd-message"] img').count(), 0);
    await shot(page, "widget-reloaded");
  });

  it("badges the closed launcher with an unread reply, cleared on opening", async () => {
    const page = visitor.page;
    const launcher = page.getByTestId("fd-launcher");
    const frame = widgetFrame(page);
    await frame.locator("#close").click();
    await eventually("the chat to close", async () => (await launcher.getAttribute("aria-expanded")) === "false");
    await page.locator('iframe[title="Chat"]').waitFor({ state: "hidden" });
    assert.equal(await launcher.evaluate((el) => document.activeElement === el.getRootNode().host && el.getRootNode().activeElement === el), true, "focus returns to the launcher");

    await agent.page.getByTestId("composer").fill("Are you still there?");
    await agent.page.getByTestId("composer").press("Enter");
    const badge = launcher.locator(".b");
    await eventually("the launcher badge to show 1", async () => (await badge.isVisible()) && (await badge.textContent()) === "1");
    assert.equal(await launcher.getAttribute("aria-label"), "Open chat, 1 unread");
    await shot(page, "widget-unread-badge");

    await launcher.click();
    await frame.locator('[data-testid="fd-message"][data-kind="agent"]', { hasText: "Are you still there?" }).waitFor();
    await badge.waitFor({ state: "hidden" });
    assert.equal(await launcher.getAttribute("aria-label"), "Close chat");
  });

  it("resolves the conversation, which moves to the Resolved tab", async () => {
    const page = agent.page;
    await page.getByTestId("resolve").click();
    await page.getByTestId("reopen").waitFor();
    const row = page.locator(`[data-testid="conv-item"][data-id="${convId}"]`);
    await page.getByTestId("tab-resolved").click();
    await eventually("the Resolved tab to be selected", async () => (await page.getByTestId("tab-resolved").getAttribute("aria-selected")) === "true");
    await row.waitFor();
    await shot(page, "dashboard-resolved");
    for (const t of ["unassigned", "mine", "all"]) {
      await page.getByTestId("tab-" + t).click();
      await eventually(`the ${t} tab to load without the conversation`, async () =>
        (await page.getByTestId("tab-" + t).getAttribute("aria-selected")) === "true" &&
        !(await page.locator(".list-empty", { hasText: "Loading" }).count()) &&
        (await row.count()) === 0,
      );
    }
    await waitForCounts(page, { unassigned: 0, mine: 0, all: 0 });
    await widgetFrame(visitor.page).locator('[data-testid="fd-message"][data-kind="system"]', { hasText: "resolved" }).waitFor();
  });

  it("reopens the conversation when the visitor writes again", async () => {
    const frame = widgetFrame(visitor.page);
    await widgetSend(frame, "One more thing, please.");
    const page = agent.page;
    await page.getByTestId("tab-all").click();
    const row = page.locator(`[data-testid="conv-item"][data-id="${convId}"]`);
    await row.waitFor();
    await eventually("the row to show the new message", async () => (await row.textContent()).includes("One more thing"));
    await page.locator('[data-testid="msg"][data-kind="visitor"]', { hasText: "One more thing, please." }).waitFor();
    await page.getByTestId("resolve").waitFor();
    await waitForCounts(page, { all: 1 });
    await shot(page, "dashboard-reopened");
  });

  it("logged no errors in either browser", () => {
    assert.deepEqual(agent.pageErrors, [], "uncaught errors in the dashboard");
    assert.deepEqual(visitor.pageErrors, [], "uncaught errors on the visitor's page");
    assert.deepEqual(agent.consoleErrors.filter((l) => !harmless(l)), [], "console errors in the dashboard");
    assert.deepEqual(visitor.consoleErrors.filter((l) => !harmless(l)), [], "console errors on the visitor's page");
    assert.deepEqual(agent.dialogs, []);
    assert.deepEqual(visitor.dialogs, []);
  });
});

describe("a visitor while no agent is online", () => {
  let server;
  let browser;
  let visitor;
  let agent;
  const OFFLINE_TEXT = "Anyone there? I need help with my order.";
  const EMAIL = "visitor@example.com";

  before(async () => {
    server = await startServer("offline");
    browser = await launchBrowser();
    visitor = await newPerson(browser);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("shows the away notice and still accepts a message and an email", async () => {
    const page = visitor.page;
    await page.goto(server.demoUrl);
    const frame = await openWidget(page);
    await widgetConnected(frame);
    await frame.getByTestId("fd-offline").waitFor();
    assert.match(await frame.locator("#presence").textContent(), /Away/);

    await widgetSend(frame, OFFLINE_TEXT);
    const mine = frame.locator('[data-testid="fd-message"][data-kind="visitor"]');
    await waitForCount(mine, 1, "the visitor's message in the widget");
    await eventually("the message to be stored", async () =>
      (await mine.first().getAttribute("data-seq")) !== null && (await mine.first().getAttribute("data-pending")) === null,
    );

    await frame.locator("#email").fill(EMAIL);
    await frame.locator("#contact button[type=submit]").click();
    await frame.locator("#contact-status", { hasText: EMAIL }).waitFor();
    await shot(page, "widget-offline");
  });

  it("hands the message to the agent who comes online, and the notice goes away live", async () => {
    agent = await newPerson(browser, { viewport: { width: 1440, height: 900 } });
    await loginAgent(agent.page, server, ALICE);
    const item = agent.page.getByTestId("conv-item");
    await waitForCount(item, 1, "the offline visitor's conversation in the inbox");
    await item.first().click();
    await agent.page.locator('[data-testid="msg"][data-kind="visitor"]', { hasText: OFFLINE_TEXT }).waitFor();
    await agent.page.getByTestId("contact-panel").getByText(EMAIL).waitFor();

    const frame = widgetFrame(visitor.page);
    await frame.getByTestId("fd-offline").waitFor({ state: "hidden" });
    await eventually("the widget to say Online", async () => /Online/.test(await frame.locator("#presence").textContent()));

    // The agent steps away: the notice comes back without a reload.
    await agent.page.getByTestId("status-toggle").click();
    await eventually("the agent to be away", async () => (await agent.page.getByTestId("status-toggle").getAttribute("aria-checked")) === "false");
    await frame.getByTestId("fd-offline").waitFor();
    await eventually("the widget to say Away", async () => /Away/.test(await frame.locator("#presence").textContent()));
    await shot(visitor.page, "widget-offline-again");
  });

  it("logged no errors", () => {
    assert.deepEqual(visitor.pageErrors, []);
    assert.deepEqual(agent.pageErrors, []);
    assert.deepEqual(visitor.consoleErrors.filter((l) => !harmless(l)), []);
    assert.deepEqual(agent.consoleErrors.filter((l) => !harmless(l)), []);
  });
});

describe("the widget on a phone", () => {
  let server;
  let browser;
  let visitor;

  before(async () => {
    server = await startServer("phone");
    browser = await launchBrowser();
    visitor = await newPerson(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("opens full screen and closes from its own header", async () => {
    const page = visitor.page;
    await page.goto(server.demoUrl);
    await shot(page, "widget-phone-closed");
    const frame = await openWidget(page);
    await widgetConnected(frame);
    const box = await page.locator('iframe[title="Chat"]').boundingBox();
    assert.ok(box, "the chat frame is laid out");
    assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, 390, 844], "the chat fills the screen");
    await widgetSend(frame, "Hello from my phone");
    await frame.locator('[data-testid="fd-message"][data-kind="visitor"]:not([data-pending])', { hasText: "Hello from my phone" }).waitFor();
    await shot(page, "widget-phone-open");

    await frame.locator("#close").tap();
    const launcher = page.getByTestId("fd-launcher");
    await eventually("the chat to close", async () => (await launcher.getAttribute("aria-expanded")) === "false");
    await launcher.waitFor({ state: "visible" });
    assert.deepEqual(visitor.pageErrors, []);
    assert.deepEqual(visitor.consoleErrors.filter((l) => !harmless(l)), []);
  });
});
