// Proactive triggers in real browsers: an admin makes a rule in Settings → Websites → Triggers;
// "after 2 s on the page" greets a visitor of the demo page with a bubble by the launcher; once
// closed it never comes back (not after a reload either); a rule that opens the chat opens it
// with the greeting; the visitor's reply starts a conversation whose first message is the
// greeting, which the agent sees; and the counters move.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ALICE, BOB, eventually, launchBrowser, loginAgent, newPerson, shot, startServer, widgetConnected, widgetFrame } from "./harness.mjs";

describe("proactive triggers", () => {
  let server;
  let browser;
  let alice;

  before(async () => {
    server = await startServer("triggers");
    browser = await launchBrowser();
    alice = await newPerson(browser);
    await loginAgent(alice.page, server, ALICE);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const panel = () => alice.page.getByTestId("triggers-form");
  async function openPanel() {
    await alice.page.goto(server.base + "/app/settings");
    await alice.page.getByTestId("site-triggers-toggle").first().click();
    await panel().waitFor();
  }
  async function save() {
    await alice.page.getByTestId("triggers-save").click();
    await eventually("the triggers to be saved", async () => (await alice.page.getByTestId("triggers-saved").count()) === 1);
  }
  const stat = (n, what) => alice.page.getByTestId("trigger").nth(n).getByTestId("trigger-" + what);

  it("greets after 2 s with a bubble, and never again once closed", async () => {
    await openPanel();
    await alice.page.getByTestId("trigger-add").click();
    const rule = alice.page.getByTestId("trigger").first();
    await rule.getByTestId("trigger-name").fill("Two seconds");
    await rule.getByTestId("condition-seconds").fill("2");
    await rule.getByTestId("trigger-text").fill("Hi there! Questions about <b>plans</b>?");
    await rule.getByTestId("trigger-from").selectOption({ label: BOB.name });
    await save();
    await shot(alice.page, "triggers-settings");

    const visitor = await newPerson(browser);
    const started = Date.now();
    await visitor.page.goto(server.demoUrl);
    const bubble = visitor.page.getByTestId("fd-greeting");
    await bubble.waitFor({ state: "visible" });
    assert.ok(Date.now() - started >= 1900, "not before 2 s on the page");
    assert.match((await bubble.textContent()) || "", /Bob Agent/);
    assert.match((await bubble.textContent()) || "", /Questions about <b>plans<\/b>\?/, "shown as text, never as markup");
    assert.equal(await bubble.locator("b >> text=plans").count(), 0);
    assert.equal(await bubble.getAttribute("aria-live"), "polite");
    await shot(visitor.page, "trigger-bubble");

    // Closed from the keyboard: the close button is a real button.
    await visitor.page.getByTestId("fd-greeting-close").focus();
    await visitor.page.keyboard.press("Enter");
    await bubble.waitFor({ state: "hidden" });

    // Not again: not after a reload, however long the visitor stays.
    await visitor.page.reload();
    await visitor.page.getByTestId("fd-launcher").waitFor();
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(await bubble.isVisible(), false, "a closed greeting never comes back");

    await openPanel();
    await eventually("the show to be counted", async () => (await stat(0, "shows").textContent()) === "1");
    assert.equal(await stat(0, "accepts").textContent(), "0");
    assert.deepEqual(visitor.pageErrors, []);
  });

  it("opens the chat with the greeting, and a reply starts the conversation with it", async () => {
    await openPanel();
    // The bubble rule off; a second one opens the chat.
    await alice.page.getByTestId("trigger").first().getByTestId("trigger-enabled").uncheck();
    await alice.page.getByTestId("trigger-add").click();
    const rule = alice.page.getByTestId("trigger").nth(1);
    await rule.getByTestId("trigger-name").fill("Open on demo");
    await rule.getByTestId("condition-seconds").fill("2");
    await rule.getByTestId("condition-add").click();
    await rule.getByTestId("condition-how").selectOption("prefix");
    await rule.getByTestId("condition-value").fill("/demo");
    await rule.getByTestId("trigger-text").fill("Welcome! Shall we help you choose?");
    await rule.getByTestId("trigger-open").check();
    await save();

    const visitor = await newPerson(browser);
    await visitor.page.goto(server.demoUrl);
    const launcher = visitor.page.getByTestId("fd-launcher");
    await eventually("the chat to open by itself", async () => (await launcher.getAttribute("aria-expanded")) === "true");
    const frame = widgetFrame(visitor.page);
    await widgetConnected(frame);
    const greeting = frame.getByTestId("fd-greeting");
    await greeting.waitFor();
    assert.match((await greeting.textContent()) || "", /Welcome! Shall we help you choose\?/);
    assert.match((await greeting.textContent()) || "", /The team/);
    await shot(visitor.page, "trigger-opened-chat");

    await frame.getByTestId("fd-input").fill("Yes please, which plan fits a team of 5?");
    await frame.getByTestId("fd-send").click();
    // The stored greeting replaces the local one, before the reply.
    const msgs = frame.getByTestId("fd-message");
    await eventually("the greeting and the reply stored", async () => (await msgs.count()) === 2 && (await msgs.nth(1).getAttribute("data-pending")) === null);
    assert.equal(await msgs.first().getAttribute("data-kind"), "system");
    assert.match((await msgs.first().textContent()) || "", /Welcome! Shall we help you choose\?/);
    assert.equal(await frame.getByTestId("fd-greeting").count(), 0);

    // The agent sees the greeting first, then the reply.
    await alice.page.goto(server.base + "/app");
    await alice.page.getByTestId("conv-item").filter({ hasText: "team of 5" }).first().click();
    const thread = alice.page.getByTestId("msg");
    await eventually("the thread", async () => (await thread.count()) >= 2);
    assert.equal(await thread.first().getAttribute("data-kind"), "system");
    assert.match((await thread.first().textContent()) || "", /Greeting from .*: Welcome! Shall we help you choose\?/);
    assert.match((await thread.nth(1).textContent()) || "", /team of 5/);
    await shot(alice.page, "trigger-greeting-in-inbox");

    await openPanel();
    await eventually("the counts", async () => (await stat(1, "shows").textContent()) === "1");
    assert.equal(await stat(1, "accepts").textContent(), "1");
    assert.equal(await stat(1, "conversions").textContent(), "1");
    assert.equal(await stat(0, "shows").textContent(), "1", "the first rule's counts are kept");
    await shot(alice.page, "triggers-counts");
    assert.deepEqual(visitor.pageErrors, []);
    assert.deepEqual(alice.pageErrors, []);
  });
});
