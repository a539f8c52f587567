// Routing in real browsers: an admin sets up teams and the site's routing in Settings; a chat
// overflows from a team with nobody online to its backup team; visitors waiting in a queue see
// their position fall until an agent takes their chat; and a transfer with a reason reaches a
// colleague as a notice. The queue monitor shows the waiting chats live.

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
  waitForCounts,
  widgetConnected,
  widgetSend,
  visitorSays,
  api,
} from "./harness.mjs";

async function agentId(page, email) {
  const { body } = await api(page, "GET", "/agents");
  return body.find((a) => a.email === email).id;
}


describe("overflow to a backup team, set up in Settings", () => {
  let server;
  let browser;
  let alice;
  let bob;
  let visitor;
  let aliceId;

  before(async () => {
    server = await startServer("routing-overflow");
    browser = await launchBrowser();
    alice = await newPerson(browser, { viewport: { width: 1440, height: 1000 } });
    bob = await newPerson(browser, { viewport: { width: 1440, height: 900 } });
    visitor = await newPerson(browser);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("lets the admin create two teams, Sales backed up by Support", async () => {
    const page = alice.page;
    // Keys and focus go to the page in front (a page behind has its frames throttled).
    await page.bringToFront();
    await loginAgent(page, server, ALICE);
    await loginAgent(bob.page, server, BOB);
    const bobId = await agentId(page, BOB.email);
    aliceId = await agentId(page, ALICE.email);
    await page.goto(server.base + "/app/settings");

    await page.getByTestId("team-new").click();
    await page.getByTestId("team-name").fill("Support");
    await page.getByTestId("team-strategy-round_robin").check();
    await page.locator(`[data-testid="team-member"][data-id="${bobId}"]`).check();
    await page.getByTestId("team-save").click();
    await page.getByTestId("team-row").filter({ hasText: "Support" }).waitFor();

    await page.getByTestId("team-new").click();
    await page.getByTestId("team-name").fill("Sales");
    await page.getByTestId("team-strategy-round_robin").check();
    await page.locator(`[data-testid="team-member"][data-id="${aliceId}"]`).check();
    await page.getByTestId("team-backup").selectOption({ label: "Support" });
    await page.getByTestId("team-when-full").check();
    await shot(page, "routing-team-form");
    await page.getByTestId("team-save").click();
    await page.getByTestId("team-row").filter({ hasText: "Sales" }).waitFor();

    // The demo website sends every chat to Sales.
    await page.getByTestId("site-routing-toggle").first().click();
    await page.getByTestId("routing-default-team").selectOption({ label: "Sales" });
    await page.getByTestId("routing-save").click();
    await eventually("the routing to be saved", async () => (await page.getByTestId("routing-saved").textContent()) === "Saved.");
    await shot(page, "routing-site-settings");

    const { body: teams } = await api(page, "GET", "/teams");
    const sales = teams.find((t) => t.name === "Sales");
    const support = teams.find((t) => t.name === "Support");
    assert.equal(sales.overflow.to, support.id);
    assert.equal(sales.overflow.when_full, true);
    assert.deepEqual(sales.members, [aliceId]);
    assert.deepEqual(support.members, [bobId]);
  });

  it("sends the visitor's chat to Support when nobody in Sales is online", async () => {
    // Alice (Sales) goes away; Bob (Support) is online.
    await alice.page.goto(server.appUrl);
    const toggle = alice.page.getByTestId("status-toggle");
    await toggle.click();
    await eventually("Alice to be away", async () => (await toggle.getAttribute("aria-checked")) === "false");
    const bobToggle = bob.page.getByTestId("status-toggle");
    if ((await bobToggle.getAttribute("aria-checked")) !== "true") await bobToggle.click();
    await eventually("Bob to be online", async () => (await bobToggle.getAttribute("aria-checked")) === "true");

    const frame = await visitorSays(visitor, server, "Do you ship tents to Norway?");
    // The visitor sees Bob join, without anyone clicking anything.
    await frame.locator('[data-testid="fd-message"]', { hasText: "Bob Agent joined the conversation" }).waitFor();
    await shot(visitor.page, "routing-overflow-widget");

    // Bob has it in Mine, marked as Support's, with the move noted for agents.
    await bob.page.getByTestId("tab-mine").click();
    const row = bob.page.getByTestId("conv-item").first();
    await row.getByTestId("badge-team").filter({ hasText: "Support" }).waitFor();
    await row.click();
    await bob.page.getByTestId("msg").filter({ hasText: "Moved to Support" }).waitFor();
    await shot(bob.page, "routing-overflow-dashboard");
  });

  it("lets Bob transfer the chat to Alice with a reason, and tells her", async () => {
    // Alice is back online to receive it.
    const toggle = alice.page.getByTestId("status-toggle");
    await toggle.click();
    await eventually("Alice to be online", async () => (await toggle.getAttribute("aria-checked")) === "true");
    await bob.page.getByTestId("transfer-button").click();
    await bob.page.getByTestId("transfer-dialog").waitFor();
    await bob.page.getByTestId("transfer-agent").selectOption(aliceId);
    await bob.page.getByTestId("transfer-reason").fill("Asks about a wholesale order");
    await shot(bob.page, "routing-transfer-dialog");
    await bob.page.getByTestId("transfer-submit").click();
    // Alice hears of it, with the reason.
    const notice = alice.page.getByTestId("notice");
    await notice.filter({ hasText: "Asks about a wholesale order" }).waitFor();
    await shot(alice.page, "routing-transfer-notice");
    await waitForCounts(alice.page, { mine: 1 });
    await alice.page.getByTestId("notice-open").first().click();
    await alice.page.getByTestId("msg").filter({ hasText: "Bob Agent transferred the conversation to Alice Admin" }).waitFor();
    await alice.page.getByTestId("msg").filter({ hasText: "Asks about a wholesale order" }).waitFor();
    for (const p of [alice, bob, visitor]) {
      assert.deepEqual(p.pageErrors, []);
    }
  });
});

describe("a queued visitor sees their position fall", () => {
  let server;
  let browser;
  let bob;
  let first;
  let second;
  let alice;

  before(async () => {
    server = await startServer("routing-queue");
    browser = await launchBrowser();
    bob = await newPerson(browser, { viewport: { width: 1440, height: 900 } });
    first = await newPerson(browser);
    second = await newPerson(browser, { viewport: { width: 390, height: 760 }, isMobile: true, hasTouch: true });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("queues two visitors in a manual team and shows each their place", async () => {
    const page = bob.page;
    // Keys and focus go to the page in front (a page behind has its frames throttled).
    await page.bringToFront();
    await loginAgent(page, server, BOB);
    const toggle = page.getByTestId("status-toggle");
    if ((await toggle.getAttribute("aria-checked")) !== "true") await toggle.click();
    await eventually("Bob to be online", async () => (await toggle.getAttribute("aria-checked")) === "true");
    // The team and the site's routing, through the API (Settings is covered above); Bob is an
    // agent, so Alice does it.
    alice = await newPerson(browser, { viewport: { width: 1280, height: 800 } });
    await loginAgent(alice.page, server, ALICE);
    const bobId = await agentId(alice.page, BOB.email);
    const team = await api(alice.page, "POST", "/teams", {
      name: "Support",
      strategy: "manual",
      members: [bobId],
      overflow: null,
      away_action: "return",
      hours: null,
    });
    assert.equal(team.status, 200);
    const { body: sites } = await api(alice.page, "GET", "/websites");
    const saved = await api(alice.page, "PUT", `/websites/${sites[0].id}/routing`, {
      default_team: team.body.id,
      rules: [],
      hours: null,
      when_closed: "message",
      offer_offline_after_secs: 600,
    });
    assert.equal(saved.status, 200);
    // Alice steps away, so only Bob takes chats; she watches the queue.
    await api(alice.page, "PUT", "/me/status", { status: "away", release: false });
    await alice.page.goto(server.base + "/app/monitor");
    await alice.page.getByTestId("monitor-waiting").waitFor();

    const f1 = await visitorSays(first, server, "First in line");
    await eventually("the first visitor to be next", async () => /next/i.test((await f1.getByTestId("queue-position").textContent()) || ""));
    const f2 = await visitorSays(second, server, "Second in line");
    await eventually("the second visitor to be number 2", async () => /\b2\b/.test((await f2.getByTestId("queue-position").textContent()) || ""));
    await shot(second.page, "routing-queue-position-2");

    // The queue monitor shows both waiting, live.
    await eventually("the monitor to show 2 waiting", async () => (await alice.page.getByTestId("monitor-waiting").textContent()).includes("2"));
    await shot(alice.page, "routing-queue-monitor");
    await page.goto(server.base + "/app");
    await page.getByTestId("tab-unassigned").click();
    await eventually("two chats under New", async () => (await page.getByTestId("conv-item").count()) === 2);
  });

  it("moves the second visitor up when Bob takes the first chat, then takes theirs", async () => {
    const page = bob.page;
    // Keys and focus go to the page in front (a page behind has its frames throttled).
    await page.bringToFront();
    const f1 = first.page.frameLocator('iframe[title="Chat"]');
    const f2 = second.page.frameLocator('iframe[title="Chat"]');
    // Oldest first: the first visitor's chat is the one at the bottom of the newest-first list.
    await page.getByTestId("conv-item").filter({ hasText: "First in line" }).click();
    await page.getByTestId("take").click();
    await f1.locator('[data-testid="fd-message"]', { hasText: "Bob Agent joined the conversation" }).waitFor();
    await f1.getByTestId("queue-status").waitFor({ state: "hidden" });
    await eventually("the second visitor to be next", async () => /next/i.test((await f2.getByTestId("queue-position").textContent()) || ""));
    await shot(second.page, "routing-queue-position-1");
    await eventually("the monitor to show 1 waiting", async () => (await alice.page.getByTestId("monitor-waiting").textContent()).includes("1"));
    await alice.page.locator(`[data-testid="agent-${await agentId(alice.page, BOB.email)}"]`).getByTestId("agent-load").filter({ hasText: "1" }).waitFor();

    await page.getByTestId("tab-unassigned").click();
    await page.getByTestId("conv-item").filter({ hasText: "Second in line" }).click();
    await page.getByTestId("composer").fill("Hi, thanks for waiting!");
    await page.getByTestId("send").click();
    await f2.locator('[data-testid="fd-message"]', { hasText: "Hi, thanks for waiting!" }).waitFor();
    await f2.getByTestId("queue-status").waitFor({ state: "hidden" });
    await shot(second.page, "routing-queue-served");
    for (const p of [bob, first, second]) assert.deepEqual(p.pageErrors, []);
  });
});

describe("a site that hides its chat outside its hours", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer("routing-hours");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("shows no launcher while closed, and no chat frame is loaded to find out", async () => {
    const alice = await newPerson(browser);
    await loginAgent(alice.page, server, ALICE);
    const { body: sites } = await api(alice.page, "GET", "/websites");
    // Closed all week (open only on the one date that is a holiday).
    const today = new Date().toISOString().slice(0, 10);
    const saved = await api(alice.page, "PUT", `/websites/${sites[0].id}/routing`, {
      default_team: null,
      rules: [],
      hours: { timezone: "UTC", days: [[[0, 1440]], [[0, 1440]], [[0, 1440]], [[0, 1440]], [[0, 1440]], [[0, 1440]], [[0, 1440]]], holidays: [today] },
      when_closed: "hide",
      offer_offline_after_secs: 120,
    });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    const visitor = await newPerson(browser);
    const page = visitor.page;
    // Keys and focus go to the page in front (a page behind has its frames throttled).
    await page.bringToFront();
    const frames = [];
    page.on("request", (r) => /frame\.html/.test(r.url()) && frames.push(r.url()));
    await page.goto(server.demoUrl);
    // The loader remembers "hidden until tomorrow" once the answer arrived.
    const stored = await eventually("the loader to learn the site is closed", async () => {
      const v = await page.evaluate(() => localStorage.getItem("fd_hours_demo-site"));
      return v && v.startsWith("h") ? v : null;
    });
    assert.ok(Number(stored.slice(1)) > Date.now(), stored);
    assert.equal(await page.getByTestId("fd-launcher").isVisible(), false);
    assert.deepEqual(frames, [], "the chat frame was not loaded");
    await shot(page, "routing-hours-hidden");
    // The same site open again: a new visitor sees the launcher.
    await api(alice.page, "PUT", `/websites/${sites[0].id}/routing`, {
      default_team: null,
      rules: [],
      hours: null,
      when_closed: "hide",
      offer_offline_after_secs: 120,
    });
    const other = await newPerson(browser);
    await other.page.goto(server.demoUrl);
    await other.page.getByTestId("fd-launcher").waitFor();
    assert.deepEqual(visitor.pageErrors, []);
  });
});

describe("a visitor picks a department, which picks the team", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer("routing-department");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("asks before the first message and routes by the answer", async () => {
    const alice = await newPerson(browser);
    await loginAgent(alice.page, server, ALICE);
    const bobId = await agentId(alice.page, BOB.email);
    const billing = await api(alice.page, "POST", "/teams", {
      name: "Billing",
      strategy: "manual",
      members: [bobId],
      overflow: null,
      away_action: "return",
      hours: null,
    });
    const { body: sites } = await api(alice.page, "GET", "/websites");
    const saved = await api(alice.page, "PUT", `/websites/${sites[0].id}/routing`, {
      default_team: null,
      rules: [
        { condition: { department: "Invoices and refunds" }, team: billing.body.id, skill: null },
        { condition: { department: "Something else" }, team: billing.body.id, skill: null },
      ],
      hours: null,
      when_closed: "message",
      offer_offline_after_secs: 120,
    });
    assert.equal(saved.status, 200);

    const visitor = await newPerson(browser, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    await visitor.page.goto(server.demoUrl);
    const frame = await openWidget(visitor.page);
    await widgetConnected(frame);
    const picker = frame.getByTestId("fd-department");
    await picker.waitFor();
    // Sending without a choice keeps the text and asks for one.
    await frame.getByTestId("fd-input").fill("I was charged twice");
    await frame.getByTestId("fd-send").click();
    await eventually("the picker to ask", async () => (await picker.getAttribute("aria-invalid")) === "true");
    assert.equal(await frame.getByTestId("fd-input").inputValue(), "I was charged twice");
    await shot(visitor.page, "routing-department-picker");
    await picker.selectOption("Invoices and refunds");
    await frame.getByTestId("fd-send").click();
    await frame.locator('[data-testid="fd-message"][data-kind="visitor"]:not([data-pending])', { hasText: "I was charged twice" }).waitFor();
    await picker.waitFor({ state: "hidden" });

    const { body: page } = await api(alice.page, "GET", "/conversations?tab=unassigned");
    assert.equal(page.items.length, 1);
    assert.equal(page.items[0].team_name, "Billing");
    assert.deepEqual(visitor.pageErrors, []);
  });
});
