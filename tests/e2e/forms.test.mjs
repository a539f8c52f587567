// The widget's forms in real browsers: an admin sets a site's pre-chat form in Settings (with a
// department, fed by the routing rules, and a custom choice); a visitor answers it before their
// first message and the conversation lands in the department's team, with the answers in the
// agent's side panel (visitor text as text); once the agent resolves it, the visitor rates it
// 4 with a comment and the agent sees the rating on the conversation, live.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ALICE, attend, eventually, launchBrowser, loginAgent, newPerson, openWidget, shot, startServer, widgetConnected, api } from "./harness.mjs";

describe("a pre-chat form routes by its department, and the visitor rates the chat", () => {
  let server;
  let browser;
  let alice;
  let visitor;
  let convId;
  const NAME = 'Ann <img src=x onerror="window.__xss=1">';

  before(async () => {
    server = await startServer("forms");
    browser = await launchBrowser();
    alice = await newPerson(browser, { viewport: { width: 1440, height: 1000 } });
    visitor = await newPerson(browser, { viewport: { width: 420, height: 760 } });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("an admin sets the site's teams, routing and pre-chat form", async () => {
    const page = alice.page;
    await loginAgent(page, server, ALICE);
    const { body: agents } = await api(page, "GET", "/agents");
    const aliceId = agents.find((a) => a.email === ALICE.email).id;
    const team = async (name) => {
      const r = await api(page, "POST", "/teams", { name, strategy: "manual", members: [aliceId], overflow: null, away_action: "return", hours: null });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.id;
    };
    const billing = await team("Billing team");
    const sales = await team("Sales team");
    const { body: sites } = await api(page, "GET", "/websites");
    const routed = await api(page, "PUT", `/websites/${sites[0].id}/routing`, {
      default_team: sales,
      rules: [
        { condition: { department: "Sales" }, team: sales, skill: null },
        { condition: { department: "Billing" }, team: billing, skill: null },
      ],
      hours: null,
      when_closed: "message",
      offer_offline_after_secs: 120,
    });
    assert.equal(routed.status, 200);

    // The form, in Settings → Websites → "Pre-chat form & ratings".
    await page.goto(server.base + "/app/settings");
    await page.getByTestId("site-forms-toggle").first().click();
    const form = page.getByTestId("forms-form");
    await form.waitFor();
    await form.getByTestId("forms-enabled").check();
    await form.getByTestId("forms-add-name").click();
    await form.getByTestId("forms-add-department").click();
    await form.getByTestId("forms-custom-kind").selectOption("select");
    await form.getByTestId("forms-add-custom").click();
    const plan = form.locator('[data-testid="forms-field"][data-kind="select"]');
    await plan.getByTestId("forms-key").fill("plan");
    await plan.getByTestId("forms-label").fill("Your plan");
    await plan.getByTestId("forms-options").fill("Free\nPro");
    await plan.getByTestId("forms-required").check();
    await form.getByTestId("forms-ces").check();
    await form.getByTestId("forms-save").click();
    await eventually("the form to be saved", async () => (await form.getByTestId("forms-saved").textContent()) === "Saved.");
    await shot(page, "forms-settings");
    const saved = await api(page, "GET", `/websites/${sites[0].id}/forms`);
    assert.deepEqual(
      saved.body.prechat.fields.map((f) => [f.key, f.kind, f.required]),
      [
        ["name", "name", false],
        ["department", "department", true],
        ["plan", "select", true],
      ],
    );
    assert.deepEqual(saved.body.end_of_chat, { csat: true, ces: true });
  });

  it("the visitor answers before the first message and the department picks the team", async () => {
    await visitor.page.goto(server.demoUrl);
    const frame = await openWidget(visitor.page);
    await widgetConnected(frame);
    const card = frame.getByTestId("fd-prechat");
    await card.waitFor();
    // The department's choices are the routing rules' departments.
    const dept = frame.getByTestId("fd-department");
    assert.deepEqual(await dept.locator("option").allTextContents(), ["Choose…", "Sales", "Billing"]);
    // Sending before answering keeps the text and marks what is missing.
    await frame.getByTestId("fd-input").fill("I was charged twice");
    await frame.getByTestId("fd-send").click();
    await eventually("the department to be marked", async () => (await dept.getAttribute("aria-invalid")) === "true");
    assert.equal(await frame.getByTestId("fd-field-plan").getAttribute("aria-invalid"), "true");
    assert.equal(await frame.getByTestId("fd-input").inputValue(), "I was charged twice");
    await frame.getByTestId("fd-field-name").fill(NAME);
    await dept.selectOption("Billing");
    await frame.getByTestId("fd-field-plan").selectOption("Pro");
    await shot(visitor.page, "forms-prechat");
    await frame.getByTestId("fd-send").click();
    await frame.locator('[data-testid="fd-message"][data-kind="visitor"]:not([data-pending])', { hasText: "I was charged twice" }).waitFor();
    await card.waitFor({ state: "hidden" });

    const { body: inbox } = await api(alice.page, "GET", "/conversations?tab=unassigned");
    assert.equal(inbox.items.length, 1);
    assert.equal(inbox.items[0].team_name, "Billing team");
    convId = inbox.items[0].id;
    assert.deepEqual(visitor.pageErrors, []);
  });

  it("the agent sees the answers in the side panel, as text", async () => {
    const page = alice.page;
    await page.goto(server.base + "/app/c/" + convId);
    await attend(page);
    const panel = page.getByTestId("feedback-form");
    await panel.waitFor();
    assert.equal(await panel.locator('dd[data-key="name"]').textContent(), NAME);
    assert.equal(await panel.locator('dd[data-key="department"]').textContent(), "Billing");
    assert.equal(await panel.locator('dd[data-key="plan"]').textContent(), "Pro");
    assert.equal(await panel.locator("img").count(), 0, "the visitor's text is not markup");
    assert.equal(await page.evaluate(() => window.__xss), undefined);
  });

  it("after the agent resolves, the visitor rates 4 with a comment and the agent sees it", async () => {
    const page = alice.page;
    await page.getByTestId("resolve").click();
    const frame = openFrame();
    const card = frame.getByTestId("fd-rating");
    await card.waitFor();
    await frame.getByTestId("fd-star-4").click();
    await frame.getByTestId("fd-ces-5").click();
    await frame.getByTestId("fd-rating-comment").fill("Quick and helpful");
    await shot(visitor.page, "forms-rating");
    await frame.getByTestId("fd-rating-send").click();
    await eventually("the thanks", async () => (await frame.getByTestId("fd-rating-status").textContent()) === "Thanks for your feedback!");
    assert.equal(await frame.getByTestId("fd-rating-transcript").isVisible(), true, "the card offers the transcript");

    const rating = page.getByTestId("feedback-rating");
    await rating.waitFor();
    assert.equal(await rating.getByTestId("feedback-csat").textContent(), "4/5");
    assert.match(await rating.getByTestId("feedback-ces").textContent(), /Effort 5\/5/);
    assert.equal(await rating.getByTestId("feedback-comment").textContent(), "Quick and helpful");
    await shot(page, "forms-rating-agent");
    const fb = await api(page, "GET", `/conversations/${convId}/feedback`);
    assert.deepEqual([fb.body.rating.csat, fb.body.rating.ces, fb.body.rating.comment], [4, 5, "Quick and helpful"]);
    assert.deepEqual(visitor.pageErrors, []);
    assert.deepEqual(alice.pageErrors, []);
  });

  function openFrame() {
    return visitor.page.frameLocator('iframe[title="Chat"]');
  }
});
