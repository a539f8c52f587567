// Visitor context and live visitors in real browsers: a page change during a chat updates the
// agent's sidebar without a reload, and a proactive chat started from the live visitors page
// opens the visitor's widget.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ALICE, eventually, launchBrowser, loginAgent, newPerson, openWidget, shot, startServer, widgetConnected, widgetFrame, widgetSend } from "./harness.mjs";

describe("visitor context and live visitors", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer("visitors");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("updates the sidebar live when the visitor moves to another page", async () => {
    const visitor = await newPerson(browser);
    await visitor.page.goto(server.demoUrl + "?utm_source=newsletter&utm_campaign=spring");
    const frame = await openWidget(visitor.page);
    await widgetConnected(frame);
    await widgetSend(frame, "Do you ship to Norway?");
    await frame.locator('[data-testid="fd-message"][data-kind="visitor"]:not([data-pending])', { hasText: "Norway" }).waitFor();

    const alice = await newPerson(browser);
    await loginAgent(alice.page, server, ALICE);
    await alice.page.getByTestId("conv-item").first().click();
    const panel = alice.page.getByTestId("visitor-panel");
    await panel.waitFor();
    const current = alice.page.getByTestId("visitor-current-page");
    await eventually("the landing page in the sidebar", async () => ((await current.textContent()) || "").length > 0);
    await eventually("the campaign in the sidebar", async () => /newsletter/.test((await panel.textContent()) || ""));
    assert.match((await panel.textContent()) || "", /spring/);
    assert.match((await panel.textContent()) || "", /Chrom/, "the browser from the User-Agent");

    // A single-page-app navigation on the visitor's side, during the chat.
    await visitor.page.evaluate(() => {
      history.pushState({}, "", "/demo?page=pricing");
      document.title = "Pricing plans — Acme";
    });
    await eventually(
      "the sidebar to show the new page without a reload",
      async () => ((await current.textContent()) || "").includes("Pricing plans"),
    );
    const trail = alice.page.getByTestId("page-trail").locator("li");
    await eventually("two pages in the trail", async () => (await trail.count()) === 2);
    assert.match((await trail.first().textContent()) || "", /Pricing plans/);
    await shot(alice.page, "visitor-sidebar-page-change");
    assert.deepEqual(alice.pageErrors, []);
    assert.deepEqual(visitor.pageErrors, []);
  });

  it("starts a proactive chat from the live visitors page and opens the visitor's widget", async () => {
    const visitor = await newPerson(browser);
    await visitor.page.goto(server.demoUrl + "?page=help");
    const launcher = visitor.page.getByTestId("fd-launcher");
    await launcher.waitFor();
    assert.equal(await launcher.getAttribute("aria-expanded"), "false", "the chat starts closed");
    // The closed chat (and the visitor's live socket) starts at the visitor's first move, not
    // at load: before it, nothing of the chat runs on the page.
    assert.equal(await visitor.page.locator("#frontdesk-widget").evaluate((h) => h.shadowRoot.querySelector("iframe")), null);
    await visitor.page.mouse.move(200, 200);
    await visitor.page.mouse.move(220, 240);

    const alice = await newPerson(browser);
    await loginAgent(alice.page, server, ALICE);
    await alice.page.getByTestId("nav-visitors").click();
    await alice.page.waitForURL((u) => u.pathname === "/app/visitors");
    const row = alice.page.locator('[data-testid="live-visitor"]:has(a[href*="page=help"])');
    await eventually("the visitor on the live page", async () => (await row.count()) === 1);
    await shot(alice.page, "live-visitors");

    await row.getByTestId("start-chat").click();
    await alice.page.getByTestId("proactive-text").fill("Hi! Looking for the returns policy?");
    await shot(alice.page, "live-visitors-proactive");
    await alice.page.getByTestId("proactive-send").click();
    await alice.page.waitForURL((u) => u.pathname.startsWith("/app/c/"));

    // The visitor's widget opens by itself with the agent's message.
    await eventually("the widget to open", async () => (await launcher.getAttribute("aria-expanded")) === "true");
    const frame = widgetFrame(visitor.page);
    await frame.locator('[data-testid="fd-message"]', { hasText: "returns policy" }).waitFor();
    await shot(visitor.page, "proactive-chat-visitor");
    // The visitor answers in the same conversation, which the agent holds.
    await widgetSend(frame, "Yes, please");
    await alice.page.locator("text=Yes, please").first().waitFor();
    await shot(alice.page, "proactive-chat-agent");
    assert.deepEqual(alice.pageErrors, []);
    assert.deepEqual(visitor.pageErrors, []);
  });
});
