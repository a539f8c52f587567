// The dashboard around the inbox, in a real browser: signing in and out, and the settings page
// (websites and agents).

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ALICE, BOB, eventually, launchBrowser, loginAgent, newPerson, shot, startServer } from "./harness.mjs";

describe("signing in and the settings", () => {
  let server;
  let browser;
  let people = [];

  before(async () => {
    server = await startServer("dashboard");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const person = async (options) => {
    const p = await newPerson(browser, options);
    people.push(p);
    return p;
  };

  it("sends a visitor without a session from /app to the login form", async () => {
    const { page } = await person();
    await page.goto(server.appUrl);
    await page.waitForURL((u) => u.pathname === "/login");
    await page.getByTestId("login-email").waitFor();
    await shot(page, "dashboard-login");
  });

  it("refuses a wrong password with a message and stays on the form", async () => {
    const { page } = await person();
    await page.goto(server.loginUrl);
    await page.getByTestId("login-email").fill(ALICE.email);
    await page.getByTestId("login-password").fill("not-the-password");
    await page.getByTestId("login-submit").click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.equal((await alert.textContent()).trim(), "Wrong email or password.");
    assert.equal(new URL(page.url()).pathname, "/login");
    assert.equal(await page.getByTestId("login-submit").isEnabled(), true, "the form can be sent again");
    await shot(page, "dashboard-login-error");
  });

  it("keeps the session across a reload, and logs out", async () => {
    const { page } = await person();
    await loginAgent(page, server, ALICE);
    await page.reload();
    await page.getByTestId("tab-unassigned").waitFor();
    assert.equal(new URL(page.url()).pathname, "/app");
    await page.getByRole("button", { name: "Logout" }).click();
    await page.waitForURL((u) => u.pathname === "/login");
    await page.goto(server.appUrl);
    await page.waitForURL((u) => u.pathname === "/login");
  });

  it("lists the demo website with its embed line, and lets an admin add one", async () => {
    const { page } = await person();
    await loginAgent(page, server, ALICE);
    await page.getByRole("link", { name: "Settings" }).click();
    await page.waitForURL((u) => u.pathname === "/app/settings");
    const sites = page.getByTestId("website");
    await sites.first().waitFor();
    assert.equal(await sites.count(), 1);
    const demo = sites.first();
    assert.match(await demo.textContent(), /demo-site/);
    const snippet = await demo.locator("pre").textContent();
    assert.ok(snippet.includes('data-site="demo-site"'), `snippet: ${snippet}`);
    assert.ok(snippet.includes(server.base + "/widget.js"), `snippet: ${snippet}`);

    await page.getByTestId("website-name").fill("Acme Blog");
    await page.getByTestId("website-domain").fill("blog.example.com");
    await page.getByTestId("website-submit").click();
    await eventually("the new website in the list", async () => (await sites.count()) === 2);
    const added = sites.nth(1);
    assert.match(await added.textContent(), /Acme Blog/);
    assert.match(await added.textContent(), /blog\.example\.com/);
    assert.equal(await page.getByTestId("website-name").inputValue(), "", "the form is cleared");
    await shot(page, "dashboard-settings");

    // It is stored: a reload still lists it.
    await page.reload();
    await eventually("both websites after a reload", async () => (await sites.count()) === 2);
  });

  it("shows an agent who is not an admin the websites, but no form to add one", async () => {
    const { page } = await person();
    await loginAgent(page, server, BOB);
    // The seeded agent starts away.
    assert.equal(await page.getByTestId("status-toggle").getAttribute("aria-checked"), "false");
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByTestId("website").first().waitFor();
    assert.equal(await page.getByTestId("website-submit").count(), 0);
  });

  it("lets an admin add a supervisor, refuses a second agent with the same email, and the new agent can log in", async () => {
    const SAM = { email: "sam@demo.frontdesk.test", password: "sam-password-42", name: "Sam Supervisor" };
    // Tall enough for the whole settings page in the screenshot.
    const { page } = await person({ viewport: { width: 1280, height: 1400 } });
    await loginAgent(page, server, ALICE);
    await page.getByRole("link", { name: "Settings" }).click();
    await page.waitForURL((u) => u.pathname === "/app/settings");
    const card = page.getByTestId("agents-card");
    const rows = card.getByTestId("agent-row");
    await rows.first().waitFor();
    const before = await rows.count();
    assert.ok(before >= 2, `the seeded agents are listed (${before})`);
    assert.match(await card.locator(`[data-email="${ALICE.email}"]`).textContent(), /Alice Admin.*Admin/);
    assert.match(await card.locator(`[data-email="${BOB.email}"]`).textContent(), /Bob Agent.*Agent/);

    await page.getByTestId("agent-name").fill(SAM.name);
    await page.getByTestId("agent-email").fill(SAM.email);
    await page.getByTestId("agent-password").fill(SAM.password);
    await page.getByTestId("agent-role").selectOption("supervisor");
    await page.getByTestId("agent-submit").click();
    const sam = card.locator(`[data-testid="agent-row"][data-email="${SAM.email}"]`);
    await sam.waitFor();
    assert.equal(await rows.count(), before + 1);
    assert.match(await sam.textContent(), /Sam Supervisor/);
    assert.equal((await sam.locator(".badge").textContent()).trim(), "Supervisor");
    assert.equal(await page.getByTestId("agent-name").inputValue(), "", "the form is cleared");
    assert.equal(await page.getByTestId("agent-email").inputValue(), "");
    assert.equal(await page.getByTestId("agent-password").inputValue(), "");
    assert.equal(await page.getByTestId("agent-role").inputValue(), "agent");
    assert.equal(await page.getByTestId("agent-error").count(), 0);

    // The same email again is refused, in words, and the list is unchanged.
    await page.getByTestId("agent-name").fill("Sam Again");
    await page.getByTestId("agent-email").fill(SAM.email);
    await page.getByTestId("agent-password").fill("another-password");
    await page.getByTestId("agent-submit").click();
    const error = page.getByTestId("agent-error");
    await error.waitFor();
    assert.equal((await error.textContent()).trim(), "Someone already has this email.");
    assert.equal(await rows.count(), before + 1);
    assert.equal(await page.getByTestId("agent-email").inputValue(), SAM.email, "the form keeps what was typed");
    await card.scrollIntoViewIfNeeded();
    await shot(page, "dashboard-agents");

    // Sam logs in with the password the admin chose, and sees the inbox and the agents, but no form.
    await page.getByRole("button", { name: "Logout" }).click();
    await page.waitForURL((u) => u.pathname === "/login");
    await loginAgent(page, server, SAM);
    assert.equal(new URL(page.url()).pathname, "/app");
    await page.getByRole("link", { name: "Settings" }).click();
    await page.waitForURL((u) => u.pathname === "/app/settings");
    await sam.waitFor();
    assert.equal(await rows.count(), before + 1);
    assert.match(await sam.textContent(), /\(you\)/);
    assert.equal(await page.getByTestId("agent-submit").count(), 0);
    assert.equal(await page.getByTestId("agent-name").count(), 0);
    assert.equal(await page.getByTestId("website-submit").count(), 0, "a supervisor adds no websites either");
    await shot(page, "dashboard-agents-supervisor");
  });

  it("logged no errors", () => {
    for (const p of people) {
      assert.deepEqual(p.pageErrors, []);
      assert.deepEqual(p.dialogs, []);
      // The wrong password's 401 and the duplicate agent's 409 are logged by the browser as failed
      // resources; nothing else may be.
      assert.deepEqual(p.consoleErrors.filter((l) => !/401 \(Unauthorized\)|409 \(Conflict\)/.test(l)), []);
    }
  });
});
