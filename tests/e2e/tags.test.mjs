// Tags and inbox filters in real browsers: an agent tags a conversation inline (creating the
// tag), filters the inbox by it, and clears the filter; an admin renames the tag in Settings and
// the agent's dashboard follows live.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ALICE,
  BOB,
  eventually,
  launchBrowser,
  loginAgent,
  newPerson,
  openWidget,
  shot,
  startServer,
  waitForCount,
  waitForCounts,
  widgetConnected,
  widgetSend,
  visitorSays,
} from "./harness.mjs";


describe("tags and inbox filters", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer("tags");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("tags a conversation inline, filters the inbox by the tag, and clears the filter", async () => {
    const bob = await newPerson(browser);
    const page = bob.page;
    // Keys and focus go to the page in front (a page behind has its frames throttled).
    await page.bringToFront();
    await loginAgent(page, server, BOB);
    const refundVisitor = await newPerson(browser);
    const otherVisitor = await newPerson(browser);
    await visitorSays(refundVisitor, server, "Where is my refund?");
    const otherFrame = await visitorSays(otherVisitor, server, "Do you ship to Norway?");

    const rows = page.getByTestId("conv-item");
    await waitForCount(rows, 2, "both conversations in the list");
    const refundRow = rows.filter({ hasText: "Where is my refund?" });
    const otherRow = rows.filter({ hasText: "Do you ship to Norway?" });
    await refundRow.click();

    // Type a new name: the combobox offers to create it; Enter picks.
    const tags = page.getByTestId("conversation-tags");
    await tags.getByTestId("add-tag").click();
    const input = page.getByTestId("tag-input");
    await input.fill("Refund");
    const create = page.getByTestId("tag-create");
    await create.waitFor();
    assert.match(await create.textContent(), /Create “Refund”/);
    await shot(page, "tags-combobox");
    await input.press("Enter");
    await tags.locator('[data-testid="tag-chip"][data-tag="Refund"]').waitFor();
    // The row shows it too, and the note records it (agents only).
    await refundRow.locator('[data-testid="tag-chip"][data-tag="Refund"]').waitFor();
    await page.locator('[data-testid="msg"][data-kind="note"]', { hasText: "added the tag “Refund”" }).waitFor();
    await input.press("Escape");
    await shot(page, "tags-tagged");

    // The visitor never sees the tag or the note.
    const refundFrame = refundVisitor.page.frameLocator('iframe[title="Chat"]');
    const widgetText = await refundFrame.locator("body").textContent();
    assert.ok(!widgetText.includes("Refund") && !widgetText.includes("tag"), widgetText);

    // Filter by the tag: the other conversation leaves the list.
    await page.getByTestId("filter-button").click();
    await page.getByTestId("filter-panel").waitFor();
    await page.getByTestId("filter-tag").selectOption({ label: "Refund" });
    await waitForCount(rows, 1, "only the tagged conversation");
    assert.equal(await otherRow.count(), 0);
    assert.equal(await refundRow.count(), 1);
    assert.match(new URL(page.url()).search, /[?&]tag=[0-9a-f-]{36}/);
    await shot(page, "tags-filter-panel");
    await page.getByTestId("filter-done").click();
    await page.getByTestId("filter-panel").waitFor({ state: "detached" });
    const chip = page.getByTestId("filter-chip");
    assert.equal(await chip.count(), 1);
    assert.match(await chip.textContent(), /Tag.*Refund/);
    // The tab counts are not filtered.
    await waitForCounts(page, { unassigned: 2, all: 2 });
    await shot(page, "tags-filtered");

    // A reload keeps the filter (it is in the URL).
    await page.reload();
    await page.getByTestId("tab-unassigned").waitFor();
    await waitForCount(rows, 1, "still filtered after a reload");
    await page.getByTestId("filter-chip").waitFor();

    // A new message in the other conversation does not bring it into the filtered list.
    await widgetSend(otherFrame, "Hello again");
    await otherFrame.locator('[data-testid="fd-message"][data-kind="visitor"]:not([data-pending])', { hasText: "Hello again" }).waitFor();
    // Bob's dashboard sends a delivered receipt when the message frame arrives (the
    // conversation frame comes with it): once the server has it, the update was handled.
    await eventually("Bob's dashboard to receive the new message", async () => {
      const page1 = await page.evaluate(async () => (await fetch("/api/v1/conversations?tab=all")).json());
      const c = page1.items.find((x) => x.last_message_preview === "Hello again");
      return c && c.agent_delivered_seq === c.last_public_seq;
    });
    await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
    assert.equal(await rows.count(), 1, "a live update of a non-matching conversation stays out");

    // One click clears it: both conversations are back.
    await page.getByTestId("filter-clear").click();
    await waitForCount(rows, 2, "both conversations after clearing");
    assert.ok(!new URL(page.url()).search.includes("tag="), page.url());
    assert.equal(await page.getByTestId("filter-chip").count(), 0);
    await shot(page, "tags-cleared");
    assert.deepEqual(bob.pageErrors, []);

    // An admin renames and recolours the tag in Settings; Bob's dashboard follows live.
    const alice = await newPerson(browser, { viewport: { width: 1280, height: 1000 } });
    await loginAgent(alice.page, server, ALICE);
    await alice.page.getByRole("link", { name: "Settings" }).click();
    const row = alice.page.locator('[data-testid="tag-row"][data-tag="Refund"]');
    await row.waitFor();
    await row.getByTestId("tag-edit").click();
    await alice.page.getByTestId("tag-edit-name").fill("Refunds");
    await alice.page.locator('.tag-row.is-editing [data-color="red"]').click();
    await alice.page.getByTestId("tag-save").click();
    await alice.page.locator('[data-testid="tag-row"][data-tag="Refunds"]').waitFor();
    await alice.page.getByTestId("tags-card").scrollIntoViewIfNeeded();
    await shot(alice.page, "tags-settings");
    await refundRow.locator('[data-testid="tag-chip"][data-tag="Refunds"]').waitFor();
    await tags.locator('[data-testid="tag-chip"][data-tag="Refunds"].tc-red').waitFor();
    assert.deepEqual(alice.pageErrors, []);
  });
});
