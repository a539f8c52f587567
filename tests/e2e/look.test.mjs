// The widget's look in real browsers: the admin changes the colour, the launcher text and the
// welcome in Settings → Websites → Widget look and the live preview follows as they type; the
// real widget on the demo page then shows them. A page rule gives a different welcome on a
// matching page (reached by a single-page-app navigation) and routes its chat to its team.
// Small screens: the chat fills a 375×667 screen, and the launcher and close are keyboard
// reachable and labelled.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ALICE, eventually, launchBrowser, loginAgent, newPerson, openWidget, shot, startServer, widgetConnected, widgetSend, widgetFrame, api } from "./harness.mjs";

/** A real 1×1 PNG. */
const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415478da63f0777b0a000262017bffdbacdd0000000049454e44ae426082", "hex");

/** The launcher's computed background and text colours. */
async function launcherColours(page) {
  return page.getByTestId("fd-launcher").evaluate((el) => {
    const s = getComputedStyle(el);
    return { bg: s.backgroundColor, fg: s.color, left: el.getBoundingClientRect().left, text: el.querySelector("span").textContent };
  });
}

describe("widget look", () => {
  let server;
  let browser;
  let alice;
  let salesId;

  before(async () => {
    server = await startServer("look");
    browser = await launchBrowser();
    alice = await newPerson(browser, { viewport: { width: 1440, height: 1000 } });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("lets the admin change the colour and welcome, with a preview that follows the typing", async () => {
    const page = alice.page;
    await page.bringToFront();
    await loginAgent(page, server, ALICE);
    await page.goto(server.base + "/app/settings");
    await page.getByTestId("site-look-toggle").first().click();
    const preview = page.getByTestId("look-preview");
    await preview.waitFor();
    assert.equal(await page.getByTestId("look-preview-welcome").textContent(), "Hi! How can we help?");

    await page.getByTestId("look-color").fill("#fde047");
    // A light colour: the preview's text turns dark, as the widget's will.
    await eventually("the preview header to turn yellow with dark text", async () => {
      const s = await page.getByTestId("look-preview-header").evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]);
      return s[0] === "rgb(253, 224, 71)" && s[1] === "rgb(17, 24, 39)";
    });
    await page.getByTestId("look-color").fill("#0f766e");
    await page.getByTestId("look-welcome").fill("Welcome to the demo shop!");
    await page.getByTestId("look-launcher-text").fill("Ask us");
    await page.getByTestId("look-reply").fill("5");
    await eventually("the preview to follow", async () => {
      const bg = await page.getByTestId("look-preview-launcher").evaluate((el) => getComputedStyle(el).backgroundColor);
      return (
        bg === "rgb(15, 118, 110)" &&
        (await page.getByTestId("look-preview-welcome").textContent()) === "Welcome to the demo shop!" &&
        (await page.getByTestId("look-preview-launcher").textContent()) === "Ask us" &&
        (await page.getByTestId("look-preview-reply").textContent()) === "We usually reply in about 5 minutes"
      );
    });
    // The header shows the admin, with initials (no photo yet).
    await page.locator('[data-testid="look-agent"]', { hasText: ALICE.name }).locator('input[type="checkbox"]').check();
    await eventually("the preview header to show the agent", async () => (await page.getByTestId("look-preview-agents").textContent()) === "AA");
    // Their photo, uploaded here, replaces the initials in the preview.
    await page.locator('[data-testid="look-agent"]', { hasText: ALICE.name }).getByTestId("look-photo-upload").click();
    await page.getByTestId("look-photo-input").setInputFiles({ name: "alice.png", mimeType: "image/png", buffer: PNG });
    await page.getByTestId("look-preview-agents").locator(`img[alt="${ALICE.name}"]`).waitFor();
    await shot(page, "look-settings-preview");

    // A broken colour is refused with the server's typed error, and nothing is saved.
    await page.getByTestId("look-color").fill("#12");
    await page.getByTestId("look-save").click();
    await page.getByText("the colour must be #rrggbb in hex").waitFor();
    await page.getByTestId("look-color").fill("#0f766e");
    await page.getByTestId("look-save").click();
    await page.getByTestId("look-saved").waitFor();
  });

  it("shows the look in the real widget on the demo page", async () => {
    const visitor = await newPerson(browser);
    try {
      await visitor.page.goto(server.demoUrl);
      await eventually("the launcher to take the colour and text", async () => {
        const c = await launcherColours(visitor.page);
        return c.bg === "rgb(15, 118, 110)" && c.fg === "rgb(255, 255, 255)" && c.text === "Ask us";
      });
      assert.equal(await visitor.page.getByTestId("fd-launcher").getAttribute("aria-label"), "Ask us");
      const frame = await openWidget(visitor.page);
      await widgetConnected(frame);
      await eventually("the welcome to be the admin's", async () => (await frame.getByTestId("fd-welcome").textContent()) === "Welcome to the demo shop!");
      assert.equal(await frame.getByTestId("fd-reply-time").textContent(), "We usually reply in about 5 minutes");
      // The agent's photo, served by the server, loaded in the header.
      const photo = frame.getByTestId("fd-agents").locator(`img[alt="${ALICE.name}"]`);
      await eventually("the agent's photo to load", () => photo.evaluate((img) => img.complete && img.naturalWidth === 1));
      const header = await frame.locator(".hd").evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.equal(header, "rgb(15, 118, 110)");
      await shot(visitor.page, "look-widget");
      assert.deepEqual(visitor.pageErrors, []);
    } finally {
      await visitor.context.close();
    }
  });

  it("greets by page and routes the page's chat to the rule's team", async () => {
    const page = alice.page;
    await page.bringToFront();
    const { body: team } = await api(page, "POST", "/teams", {
      name: "Sales",
      strategy: "manual",
      members: [],
      overflow: null,
      away_action: "return",
      hours: null,
    });
    salesId = team.id;
    // The admin adds the page rule in the panel.
    await page.reload();
    await page.getByTestId("site-look-toggle").first().click();
    await page.getByTestId("look-add-rule").click();
    await page.getByTestId("look-rule-pattern").fill("*/demo?topic=pricing*");
    await page.getByTestId("look-rule-welcome").fill("Questions about pricing? Sales is here.");
    await page.getByTestId("look-rule-team").selectOption(salesId);
    await page.getByTestId("look-save").click();
    await page.getByTestId("look-saved").waitFor();
    await shot(page, "look-page-rule");

    const visitor = await newPerson(browser);
    let conv;
    try {
      await visitor.page.goto(server.demoUrl);
      const frame = await openWidget(visitor.page);
      await widgetConnected(frame);
      await eventually("the site's welcome", async () => (await frame.getByTestId("fd-welcome").textContent()) === "Welcome to the demo shop!");
      // A single-page-app navigation to the pricing page: the frame hears it and greets anew.
      await visitor.page.evaluate(() => history.pushState({}, "", "/demo?topic=pricing"));
      await eventually("the pricing welcome", async () => (await frame.getByTestId("fd-welcome").textContent()) === "Questions about pricing? Sales is here.");
      // The Sales team has no members: the header shows nobody.
      assert.equal(await frame.getByTestId("fd-agents").isHidden(), true);
      await widgetSend(frame, "How much is the pro plan?");
      await frame.locator('[data-testid="fd-message"][data-kind="visitor"]:not([data-pending])', { hasText: "pro plan" }).waitFor();
      await shot(visitor.page, "look-widget-pricing");
      // The visitor stays on the page until the message is stored (the navigation renewed the
      // session, so the send may have waited for the new socket).
      conv = await eventually("the conversation to reach the inbox", async () => {
        const { body } = await api(page, "GET", "/conversations?tab=all");
        return body.items.find((c) => c.last_message_preview === "How much is the pro plan?");
      });
    } finally {
      await visitor.context.close();
    }
    assert.equal(conv.team_id, salesId);
  });

  it("fills a small screen, with a labelled launcher and close that the keyboard reaches", async () => {
    const phone = await newPerson(browser, { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
    try {
      await phone.page.goto(server.demoUrl);
      const launcher = phone.page.getByTestId("fd-launcher");
      await launcher.waitFor();
      // Tab from the page reaches the launcher (its shadow root is open, its button focusable).
      await eventually("Tab to reach the launcher", async () => {
        await phone.page.keyboard.press("Tab");
        return launcher.evaluate((el) => el.getRootNode().activeElement === el);
      });
      await phone.page.keyboard.press("Enter");
      const frame = widgetFrame(phone.page);
      await frame.getByTestId("fd-input").waitFor();
      const box = await phone.page.locator('iframe[title="Chat"]').boundingBox();
      assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, 375, 667]);
      const close = frame.locator("#close");
      assert.equal(await close.getAttribute("aria-label"), "Close chat");
      await close.focus();
      await shot(phone.page, "look-small-screen");
      await phone.page.keyboard.press("Enter");
      await eventually("the chat to close and the launcher to come back", async () => (await launcher.getAttribute("aria-expanded")) === "false" && (await launcher.isVisible()));
    } finally {
      await phone.context.close();
    }
  });
});
