// The agent's workspace in real browsers: what an agent sees of a visitor while they chat.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ALICE, BOB, eventually, launchBrowser, loginAgent, newPerson, openWidget, shot, startServer, widgetConnected, widgetSend, visitorSays } from "./harness.mjs";


describe("an agent may preview what a visitor types", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer("typing-preview");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("shows the unsent text only to an agent who opted in, as text", async () => {
    const alice = await newPerson(browser);
    await loginAgent(alice.page, server, ALICE);
    const visitor = await newPerson(browser);
    const frame = await visitorSays(visitor, server, "Hello");
    await alice.page.getByTestId("conv-item").first().click();
    const typing = alice.page.getByTestId("visitor-typing");
    // Not opted in: "typing…" without the text.
    await frame.getByTestId("fd-input").fill("Where is my <b>order</b>");
    await eventually("the agent to see typing", async () => /typing/.test(await typing.textContent()));
    assert.equal(await alice.page.getByTestId("typing-preview").count(), 0);
    // Opted in: the text as it is typed, as text.
    await alice.page.getByTestId("typing-preview-toggle").check();
    await frame.getByTestId("fd-input").pressSequentially(" 1234");
    const preview = alice.page.getByTestId("typing-preview");
    await eventually("the preview to follow the typing", async () => ((await preview.textContent()) || "").includes("Where is my <b>order</b> 1234"));
    assert.equal(await preview.locator("b").count(), 0, "no markup from the visitor");
    await shot(alice.page, "typing-preview");
    // Cleared text: the preview goes.
    await frame.getByTestId("fd-input").fill("");
    await eventually("the preview to clear", async () => (await alice.page.getByTestId("typing-preview").count()) === 0);
    assert.deepEqual(alice.pageErrors, []);
  });
});

describe("banning a visitor", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer("ban");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("cuts the visitor off with a polite refusal, and they stop retrying", async () => {
    const alice = await newPerson(browser);
    await loginAgent(alice.page, server, ALICE);
    const visitor = await newPerson(browser);
    const sockets = [];
    visitor.page.on("websocket", (ws) => sockets.push(ws.url()));
    const frame = await visitorSays(visitor, server, "buy cheap watches");
    await alice.page.getByTestId("conv-item").first().click();
    await alice.page.getByTestId("ban-button").click();
    await alice.page.getByTestId("ban-reason").fill("Spam");
    await alice.page.getByTestId("ban-duration").selectOption({ label: "7 days" });
    await shot(alice.page, "ban-dialog");
    await alice.page.getByTestId("ban-submit").click();
    await alice.page.getByTestId("msg").filter({ hasText: "banned this visitor for 7 days: Spam" }).waitFor();
    // The widget says so, in words, and does not keep knocking.
    await eventually("the widget to refuse politely", async () => /not available to you/.test((await frame.locator("#banner").textContent()) || ""));
    await shot(visitor.page, "ban-widget");
    const after = sockets.length;
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(sockets.length, after, "no reconnect attempts after the refusal");
    // Supervisors see the ban in Settings and can lift it.
    await alice.page.goto(server.base + "/app/settings");
    await alice.page.getByTestId("ban-row").waitFor();
    await alice.page.getByTestId("ban-lift").click();
    await alice.page.getByText("Nobody is banned.").waitFor();
    assert.deepEqual(alice.pageErrors, []);
  });
});

describe("transcripts by email", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer("transcript");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("lets the visitor ask for one and the agent send one", async () => {
    const alice = await newPerson(browser);
    await loginAgent(alice.page, server, ALICE);
    const visitor = await newPerson(browser);
    const frame = await visitorSays(visitor, server, "Please send me this later");
    await frame.getByTestId("fd-transcript").click();
    await frame.getByTestId("fd-transcript-email").fill("pat@example.test");
    await frame.getByTestId("fd-transcript-email").press("Enter");
    await eventually("the widget to confirm", async () => /Sent to pat@example\.test/.test((await frame.getByTestId("fd-transcript-note").textContent()) || ""));
    await shot(visitor.page, "transcript-widget");
    // The agent sees the address in the sidebar and can send one too.
    await alice.page.getByTestId("conv-item").first().click();
    await alice.page.getByTestId("contact-panel").getByText("pat@example.test").waitFor();
    await alice.page.getByTestId("send-transcript").click();
    await eventually("the dashboard to confirm", async () => /Sent to pat@example\.test/.test((await alice.page.getByTestId("send-transcript-note").textContent()) || ""));
    assert.deepEqual(visitor.pageErrors, []);
    assert.deepEqual(alice.pageErrors, []);
  });
});

describe("rich text and emoji", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer("rich");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("renders an agent's Markdown, keeps a visitor's text literal, and inserts emoji", async () => {
    const alice = await newPerson(browser);
    await loginAgent(alice.page, server, ALICE);
    const visitor = await newPerson(browser);
    const frame = await visitorSays(visitor, server, "**stars** <b>tag</b> https://shop.test/o/1");
    await alice.page.getByTestId("conv-item").first().click();
    const fromVisitor = alice.page.locator('[data-testid="msg"][data-kind="visitor"]');
    await fromVisitor.waitFor();
    assert.equal(await fromVisitor.locator("strong, b, em").count(), 0, "a visitor's asterisks stay text");
    assert.match(await fromVisitor.locator(".bubble").textContent(), /\*\*stars\*\* <b>tag<\/b>/);
    assert.equal(await fromVisitor.locator('a[href="https://shop.test/o/1"]').count(), 1, "their address is a link");
    // The agent writes Markdown, with an emoji from the picker.
    const box = alice.page.getByTestId("composer");
    await box.fill("**Shipped** today, see [tracking](https://track.test/9)\n- box one\n- box two ");
    await alice.page.getByTestId("emoji-button").click();
    await alice.page.getByTestId("emoji-grid").getByRole("button", { name: "👍" }).click();
    assert.ok((await box.inputValue()).endsWith("👍"));
    await alice.page.getByTestId("send").click();
    const reply = frame.locator('[data-testid="fd-message"][data-kind="agent"]');
    await reply.waitFor();
    assert.equal(await reply.locator("strong").textContent(), "Shipped");
    assert.equal(await reply.locator('a[href="https://track.test/9"]').getAttribute("rel"), "noopener noreferrer nofollow ugc");
    assert.equal(await reply.locator("li").count(), 2);
    assert.match(await reply.locator("li").last().textContent(), /box two 👍/);
    // The visitor's picker works the same way.
    await frame.getByTestId("fd-emoji").click();
    await frame.getByTestId("fd-emoji-grid").getByRole("button", { name: "🙏" }).click();
    assert.equal(await frame.getByTestId("fd-input").inputValue(), "🙏");
    await shot(visitor.page, "rich-widget");
    await shot(alice.page, "rich-dashboard");
    assert.deepEqual(visitor.pageErrors, []);
    assert.deepEqual(alice.pageErrors, []);
  });
});

describe("notes and mentions", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer("mentions");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("keeps a note from the visitor and brings the mentioned colleague to it", async () => {
    const alice = await newPerson(browser);
    const bob = await newPerson(browser);
    await loginAgent(alice.page, server, ALICE);
    await loginAgent(bob.page, server, BOB);
    const visitor = await newPerson(browser);
    const frame = await visitorSays(visitor, server, "My parcel is lost");
    await alice.page.getByTestId("conv-item").first().click();
    await alice.page.getByTestId("note-toggle").click();
    await alice.page.getByTestId("composer").fill("@Bob Agent can you check the courier? Do not promise a refund yet.");
    await alice.page.getByTestId("send").click();
    await alice.page.locator('[data-testid="msg"][data-kind="note"]').waitFor();
    // Bob is told, and finds it under Mentions.
    await bob.page.getByTestId("notice").filter({ hasText: "Alice Admin mentioned you" }).waitFor();
    await bob.page.getByTestId("nav-mentions").click();
    await bob.page.getByTestId("mention").filter({ hasText: "check the courier" }).click();
    await bob.page.locator('[data-testid="msg"][data-kind="note"]', { hasText: "check the courier" }).waitFor();
    await shot(bob.page, "mention-opened");
    // The visitor never sees the note.
    await alice.page.getByTestId("note-toggle").click();
    await alice.page.getByTestId("composer").fill("We are on it.");
    await alice.page.getByTestId("send").click();
    await frame.locator('[data-testid="fd-message"]', { hasText: "We are on it." }).waitFor();
    assert.equal(await frame.locator('[data-testid="fd-message"]', { hasText: "courier" }).count(), 0);
    assert.equal(await frame.getByText("refund").count(), 0);
    assert.deepEqual(bob.pageErrors, []);
  });
});

describe("keyboard shortcuts", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer("keys");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("moves, writes notes, takes and resolves from the keyboard, with a help overlay", async () => {
    const alice = await newPerson(browser);
    await loginAgent(alice.page, server, ALICE);
    const page = alice.page;
    // Keys and focus go to the page in front (a page behind has its frames throttled).
    await page.bringToFront();
    const v1 = await newPerson(browser);
    await visitorSays(v1, server, "first visitor");
    const v2 = await newPerson(browser);
    await visitorSays(v2, server, "second visitor");
    await eventually("two chats listed", async () => (await page.getByTestId("conv-item").count()) === 2);
    await page.locator("body").click();
    await page.keyboard.press("?");
    await page.getByTestId("shortcut-help").waitFor();
    await shot(page, "shortcut-help");
    await page.keyboard.press("Escape");
    await page.getByTestId("shortcut-help").waitFor({ state: "hidden" });
    await page.keyboard.press("j");
    await page.waitForURL((u) => u.pathname.startsWith("/app/c/"));
    const first = page.url();
    await page.keyboard.press("j");
    await eventually("j to move on", async () => page.url() !== first);
    // n: a note, typed at once.
    await page.keyboard.press("n");
    await page.keyboard.type("internal only");
    assert.equal(await page.getByTestId("note-toggle").getAttribute("aria-pressed"), "true");
    await page.keyboard.press("Enter");
    await page.locator('[data-testid="msg"][data-kind="note"]', { hasText: "internal only" }).waitFor();
    await page.keyboard.press("Escape");
    // a: take it; e: resolve it.
    await page.keyboard.press("a");
    await page.getByTestId("resolve").waitFor();
    await eventually("taken", async () => (await page.getByTestId("take").count()) === 0);
    await page.keyboard.press("e");
    await page.getByTestId("reopen").waitFor();
    assert.deepEqual(alice.pageErrors, []);
  });
});
