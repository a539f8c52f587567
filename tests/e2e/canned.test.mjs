// Canned responses in real browsers: an admin writes a shared reply with variables in Settings;
// a visitor chats; the agent types /hel in the reply box, picks the reply with the keyboard,
// edits it and sends it; the visitor's widget shows it with the variables filled in. First the
// visitor is anonymous (the picker shows the friendly fallback), then they give their name and
// the picker fills it in.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ALICE, BOB, OUT, eventually, launchBrowser, loginAgent, newPerson, openWidget, shot, startServer, waitForCount, widgetConnected, widgetSend } from "./harness.mjs";

const TEMPLATE = "Hi {{contact.first_name}}, I'm {{agent.name}}. How can I help?";

/** Creates a canned response through the API, from a logged-in dashboard page. */
async function createCanned(page, body) {
  const status = await page.evaluate(async (b) => {
    const r = await fetch("/api/v1/canned-responses", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(b),
    });
    return r.status;
  }, body);
  assert.equal(status, 200, `creating /${body.shortcut}`);
}

/**
 * What a widget would send if it asked for the visitor's name: `set_contact`, over a socket of
 * its own with the visitor's token (the demo widget asks only for an email, when offline).
 */
async function visitorGivesName(frame, name) {
  await frame.locator("body").evaluate(async (_, name) => {
    const token = localStorage.getItem("fd_token_demo-site");
    const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws/visitor");
    await new Promise((resolve, reject) => {
      ws.onerror = () => reject(new Error("socket error"));
      ws.onmessage = (m) => {
        const f = JSON.parse(m.data);
        if (f.type === "welcome") {
          ws.send(JSON.stringify({ type: "set_contact", name, email: null, department: null }));
          // Frames are handled in order: the pong means the name is stored.
          ws.send(JSON.stringify({ type: "ping" }));
        } else if (f.type === "pong") {
          ws.close();
          resolve();
        } else if (f.type === "error") {
          reject(new Error(f.message));
        }
      };
      ws.onopen = () => ws.send(JSON.stringify({ type: "hello", v: 1, token }));
    });
  }, name);
}

describe("canned responses", () => {
  let server;
  let browser;
  let alice;
  let visitor;
  const people = [];

  before(async () => {
    server = await startServer("canned");
    browser = await launchBrowser();
    alice = await newPerson(browser, { viewport: { width: 1440, height: 900 } });
    visitor = await newPerson(browser);
    people.push(alice, visitor);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("lets an admin write a shared reply with variables in Settings", async () => {
    const page = alice.page;
    // Keys and focus go to the page in front (a page behind has its frames throttled).
    await page.bringToFront();
    await loginAgent(page, server, ALICE);
    await page.getByRole("link", { name: "Settings" }).click();
    await page.waitForURL((u) => u.pathname === "/app/settings");
    const card = page.getByTestId("canned-card");
    await card.getByTestId("canned-shared").getByText("None yet.").waitFor();

    await card.getByTestId("canned-new-shared").click();
    const form = card.getByTestId("canned-form");
    // The shortcut field has the focus (once the form has rendered); a shortcut with a space
    // is refused, in words.
    await eventually("the shortcut field to have the focus", async () =>
      page.evaluate(() => document.activeElement?.getAttribute("data-testid") === "canned-shortcut"),
    );
    await page.keyboard.type("hello there");
    await form.getByTestId("canned-title").fill("Greeting");
    // The variable buttons insert at the caret.
    const body = form.getByTestId("canned-body");
    await body.fill("Hi ");
    await form.getByRole("button", { name: "{{contact.first_name}}" }).click();
    await page.keyboard.type(", I'm ");
    await form.getByRole("button", { name: "{{agent.name}}" }).click();
    await page.keyboard.type(". How can I help?");
    assert.equal(await body.inputValue(), TEMPLATE);
    await form.getByTestId("canned-save").click();
    const error = form.getByTestId("canned-error");
    await error.waitFor();
    assert.match(await error.textContent(), /shortcut is 1 to 32 lowercase letters/i);
    await form.screenshot({ path: join(OUT, "canned-form.png") });

    await form.getByTestId("canned-shortcut").fill("hello");
    await form.getByTestId("canned-save").click();
    const row = card.locator('[data-testid="canned-row"][data-shortcut="hello"]');
    await row.waitFor();
    assert.equal(await card.getByTestId("canned-form").count(), 0, "the form closes");
    assert.match(await row.textContent(), /\/hello\s*Greeting/);
    assert.equal(await row.locator(".canned-body").textContent(), TEMPLATE);
    assert.equal(await row.locator(".canned-var").count(), 2, "the variables are marked");

    // Two more, so the picker has something to choose from.
    await createCanned(page, { scope: "shared", shortcut: "help-center", title: "Help center", body: "Our help center has answers to most questions." });
    await createCanned(page, { scope: "personal", shortcut: "thanks", title: "Thanks", body: "Thanks for your patience, {{contact.first_name}}!" });
    await page.reload();
    await waitForCount(card.getByTestId("canned-row"), 3, "three canned responses after a reload");
    assert.equal(await card.getByTestId("canned-shared").getByTestId("canned-row").count(), 2);
    assert.equal(await card.getByTestId("canned-personal").getByTestId("canned-row").count(), 1);
    await card.scrollIntoViewIfNeeded();
    await card.screenshot({ path: join(OUT, "canned-settings.png") });
  });

  it("shows other agents the shared replies without letting them change them", async () => {
    const bob = await newPerson(browser);
    people.push(bob);
    await loginAgent(bob.page, server, BOB);
    await bob.page.getByRole("link", { name: "Settings" }).click();
    const card = bob.page.getByTestId("canned-card");
    const shared = card.getByTestId("canned-shared");
    await shared.locator('[data-shortcut="hello"]').waitFor();
    assert.equal(await shared.getByTestId("canned-edit").count(), 0);
    assert.equal(await shared.getByTestId("canned-delete").count(), 0);
    assert.equal(await card.getByTestId("canned-new-shared").count(), 0);
    // Alice's personal reply is hers alone; Bob may write his own.
    assert.equal(await card.getByTestId("canned-personal").getByTestId("canned-row").count(), 0);
    await card.getByTestId("canned-new-personal").waitFor();
  });

  it("inserts the reply picked with the keyboard, filled in, editable, and the visitor sees it", async () => {
    const vpage = visitor.page;
    await vpage.goto(server.demoUrl);
    const frame = await openWidget(vpage);
    await widgetConnected(frame);
    await widgetSend(frame, "Hi, is anyone there?");

    const page = alice.page;
    // Keys and focus go to the page in front (a page behind has its frames throttled).
    await page.bringToFront();
    await page.getByRole("link", { name: "Inbox" }).click();
    const item = page.getByTestId("conv-item");
    await waitForCount(item, 1, "the visitor's conversation");
    await item.first().click();
    const box = page.getByTestId("composer");
    await box.click();
    await box.pressSequentially("/hel");

    const picker = page.getByTestId("canned-picker");
    await picker.waitFor();
    const options = picker.getByTestId("canned-option");
    await waitForCount(options, 2, "the two replies whose shortcut starts with /hel");
    assert.deepEqual(await options.evaluateAll((els) => els.map((e) => e.dataset.shortcut)), ["hello", "help-center"]);
    const selected = () => picker.locator('[role="option"][aria-selected="true"]').getAttribute("data-shortcut");
    assert.equal(await selected(), "hello");
    // The box points at the list and its active option (the combobox wiring).
    assert.equal(await box.getAttribute("aria-controls"), "canned-listbox");
    assert.equal(await box.getAttribute("aria-activedescendant"), await options.first().getAttribute("id"));
    // The visitor gave no name: the friendly fallback, and the agent's name.
    assert.equal(await options.first().locator(".canned-preview").textContent(), "Hi there, I'm Alice Admin. How can I help?");
    await shot(page, "canned-picker");

    await page.keyboard.press("ArrowDown");
    assert.equal(await selected(), "help-center");
    await page.keyboard.press("ArrowDown");
    assert.equal(await selected(), "hello", "the choice wraps around");
    await page.keyboard.press("ArrowUp");
    assert.equal(await selected(), "help-center");
    await page.keyboard.press("ArrowUp");
    assert.equal(await selected(), "hello");

    // Esc closes the picker and keeps what was typed, and the focus.
    await page.keyboard.press("Escape");
    await picker.waitFor({ state: "detached" });
    assert.equal(await box.inputValue(), "/hel");
    assert.equal(await box.evaluate((el) => document.activeElement === el), true);

    // The visitor tells us their name; the next time the picker opens, it is filled in.
    await visitorGivesName(frame, "Ada Lovelace");
    await eventually("the inbox to show the visitor's name", async () => (await item.first().textContent()).includes("Ada Lovelace"));
    await box.press("l");
    await picker.waitFor();
    await waitForCount(options, 1, "only /hello matches /hell");
    await eventually("the preview to use the visitor's name", async () =>
      (await options.first().locator(".canned-preview").textContent()) === "Hi Ada, I'm Alice Admin. How can I help?",
    );
    await page.keyboard.press("Enter");
    await picker.waitFor({ state: "detached" });
    const inserted = "Hi Ada, I'm Alice Admin. How can I help?";
    assert.equal(await box.inputValue(), inserted, "the shortcut is replaced by the filled-in reply, not sent");
    assert.equal(await page.locator('[data-testid="msg"][data-kind="agent"]').count(), 0);

    // Still editable: the caret sits after the inserted text.
    await page.keyboard.type(" Your order ships today.");
    const final = inserted + " Your order ships today.";
    assert.equal(await box.inputValue(), final);
    await page.keyboard.press("Enter");
    const sent = page.locator('[data-testid="msg"][data-kind="agent"]:not([data-pending])', { hasText: final });
    await eventually("the reply to be stored", async () => (await sent.count()) === 1);
    assert.equal(await box.inputValue(), "");

    const reply = frame.locator('[data-testid="fd-message"][data-kind="agent"]');
    await reply.first().waitFor();
    assert.equal(await reply.first().locator(".bu").textContent(), final);
    assert.ok(!(await frame.locator("body").textContent()).includes("{{"), "no variable reached the visitor");
    await shot(vpage, "canned-widget");
  });

  it("picks with the mouse and with Tab too, and leaves a /word without a match alone", async () => {
    const page = alice.page;
    // Keys and focus go to the page in front (a page behind has its frames throttled).
    await page.bringToFront();
    const box = page.getByTestId("composer");
    const picker = page.getByTestId("canned-picker");
    const options = picker.getByTestId("canned-option");

    // A bare slash lists them all; a click inserts.
    await box.click();
    await box.pressSequentially("/");
    await waitForCount(options, 3, "all three replies");
    await picker.locator('[data-shortcut="thanks"]').click();
    assert.equal(await box.inputValue(), "Thanks for your patience, Ada!");
    assert.equal(await box.evaluate((el) => document.activeElement === el), true, "the focus stays in the box");

    await box.fill("");
    await box.pressSequentially("/help");
    await waitForCount(options, 1, "one match for /help");
    await page.keyboard.press("Tab");
    assert.equal(await box.inputValue(), "Our help center has answers to most questions.");

    // No match: the picker says so, and Enter sends what was typed.
    await box.fill("");
    await box.pressSequentially("/shrug");
    await picker.getByTestId("canned-none").waitFor();
    await page.keyboard.press("Enter");
    await page.locator('[data-testid="msg"][data-kind="agent"]', { hasText: "/shrug" }).waitFor();
  });

  it("logged no errors", () => {
    for (const p of people) {
      assert.deepEqual(p.pageErrors, []);
      assert.deepEqual(p.dialogs, []);
      // The refused shortcut's 422 is logged by the browser as a failed resource, and the demo
      // page has no favicon.
      assert.deepEqual(p.consoleErrors.filter((l) => !/422 \(Unprocessable|favicon\.ico/.test(l)), []);
    }
  });
});
