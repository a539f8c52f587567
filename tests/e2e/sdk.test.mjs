// The JS SDK in a real browser: calls queued before the loader arrives (open, on('open')), an
// agent's message heard by on('message'), identify with a valid hash showing the user's earlier
// conversation in a fresh browser context (and a forged hash not), tracked events and attributes
// reaching the agent's view, and the widget in German (browser locale and setLanguage) and in
// Arabic, right to left.

import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ALICE, eventually, launchBrowser, loginAgent, newPerson, openWidget, shot, startServer, widgetFrame } from "./harness.mjs";

describe("the JS SDK", () => {
  let server;
  let browser;
  let siteKey;
  let alice;
  let secret;

  /** Alice's API call, with her session cookie and this server's Origin. */
  const api = async (method, path, data) => {
    const r = await alice.page.request.fetch(server.base + path, { method, data, headers: { origin: server.base } });
    assert.ok(r.ok(), `${method} ${path}: ${r.status()} ${await r.text()}`);
    return r.status() === 204 ? null : r.json();
  };

  /** A host page (served at /sdk-test on our origin) whose own script calls the SDK before the
   * loader is there: the snippet's queue stub, then `calls`, then the loader itself. */
  const hostPage = async (person, calls) => {
    await person.page.route(server.base + "/sdk-test", (route) =>
      route.fulfill({
        contentType: "text/html",
        body: `<!doctype html><html><head><title>SDK test shop</title></head><body><h1>Shop</h1>
<script>
window.Frontdesk = window.Frontdesk || function () { (Frontdesk.q = Frontdesk.q || []).push(arguments) };
window.heard = [];
Frontdesk('on', 'open', function () { heard.push('open') });
Frontdesk('on', 'message', function (m) { heard.push('message:' + m.text) });
Frontdesk('on', 'error', function (e) { heard.push('error:' + e.code) });
${calls}
</script>
<script async src="/widget.js" data-site="${siteKey}"></script></body></html>`,
      }),
    );
    await person.page.goto(server.base + "/sdk-test");
  };
  const heard = (person) => person.page.evaluate(() => window.heard);

  /** The contact behind the widget on `person`'s page, as the session names it. */
  const contactOf = async (person) => {
    // The session may still be on its way when the widget already speaks the language.
    const token = await eventually("the widget to keep a token", () =>
      person.page.evaluate((k) => localStorage.getItem("fd_token_" + k), siteKey),
    );
    const r = await person.page.request.post(server.base + "/api/v1/widget/session", { data: { site_key: siteKey, token, context: {} } });
    return (await r.json()).contact_id;
  };

  const hash = (id) => createHmac("sha256", secret).update(id).digest("hex");

  before(async () => {
    server = await startServer("sdk");
    browser = await launchBrowser();
    const demo = await (await fetch(server.demoUrl)).text();
    siteKey = /data-site="([^"]+)"/.exec(demo)[1];
    alice = await newPerson(browser);
    await loginAgent(alice.page, server, ALICE);
    const [site] = await api("GET", "/api/v1/websites");
    secret = (await api("PUT", `/api/v1/websites/${site.id}/identity`, { enabled: true })).secret;
    assert.equal(secret.length, 64);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("runs calls queued before the loader, and tells the page of opening and agents' messages", async () => {
    const visitor = await newPerson(browser);
    await hostPage(
      visitor,
      `Frontdesk('open');
Frontdesk('setAttributes', { plan: 'pro', seats: 5, beta: true });
Frontdesk('track', 'Viewed pricing', { plan: 'pro' });`,
    );
    const launcher = visitor.page.getByTestId("fd-launcher");
    await eventually("the queued open to open the chat", async () => (await launcher.getAttribute("aria-expanded")) === "true");
    const frame = widgetFrame(visitor.page);
    await frame.getByTestId("fd-input").waitFor();
    assert.deepEqual(await heard(visitor), ["open"], "on('open'), queued first, heard the queued open");

    await frame.getByTestId("fd-input").fill("Which plan do I need?");
    await frame.getByTestId("fd-send").click();
    await frame.locator('[data-testid="fd-message"][data-kind="visitor"]:not([data-pending])', { hasText: "Which plan" }).waitFor();

    // The attributes and the event reach the agent's view of the contact.
    const contact = await contactOf(visitor);
    await eventually("the attributes on the contact", async () => {
      const c = await api("GET", `/api/v1/contacts/${contact}`);
      return c.contact.attributes.plan === "pro" && c.contact.attributes.seats === 5 && c.contact.attributes.beta === true;
    });
    const visit = await api("GET", `/api/v1/contacts/${contact}/visit`);
    assert.equal(visit.events[0].name, "Viewed pricing");
    assert.deepEqual(visit.events[0].data, { plan: "pro" });

    // An agent answers: the page hears it through on('message').
    const [conv] = (await api("GET", `/api/v1/contacts/${contact}`)).conversations;
    assert.ok(conv, "the visitor's conversation on the contact");
    await api("POST", `/api/v1/conversations/${conv.id}/messages`, { client_id: randomUUID(), text: "The pro plan fits." });
    await eventually("on('message') to hear the agent", async () => (await heard(visitor)).includes("message:The pro plan fits."));

    // The event shows in the agent's visitor panel.
    await alice.page.goto(`${server.base}/app/c/${conv.id}`);
    const events = alice.page.getByTestId("event-trail");
    await events.waitFor();
    assert.match((await events.textContent()) || "", /Viewed pricing/);
    await shot(alice.page, "sdk-visitor-panel-events");
    assert.deepEqual(visitor.pageErrors, []);
  });

  it("identify with a valid hash shows the user's earlier conversation in a fresh browser; a forged one does not", async () => {
    const user = "user-" + randomUUID();
    const laptop = await newPerson(browser);
    await hostPage(laptop, `Frontdesk('identify', { id: '${user}', name: 'Nora Lind', email: 'nora@example.com', hash: '${hash(user)}' });`);
    const f1 = await openWidget(laptop.page);
    await eventually("the laptop to be the user", async () => {
      await f1.locator("#presence").textContent();
      return (await contactOf(laptop)) && true;
    });
    await f1.getByTestId("fd-input").fill("My order 4711 has not arrived");
    await f1.getByTestId("fd-send").click();
    await f1.locator('[data-testid="fd-message"][data-kind="visitor"]:not([data-pending])', { hasText: "4711" }).waitFor();
    const bound = await contactOf(laptop);

    // A fresh browser context (another device): the same user sees the conversation.
    const phone = await newPerson(browser);
    await hostPage(phone, `Frontdesk('identify', { id: '${user}', hash: '${hash(user)}' });`);
    const f2 = await openWidget(phone.page);
    await f2.locator('[data-testid="fd-message"][data-kind="visitor"]:not([data-pending])', { hasText: "4711" }).waitFor();
    assert.equal(await contactOf(phone), bound);
    await shot(phone.page, "sdk-identified-other-device");

    // Someone else names the same user with a forged hash: anonymous, nothing of the user's.
    const mallory = await newPerson(browser);
    await hostPage(mallory, `Frontdesk('identify', { id: '${user}', hash: '${"0".repeat(64)}' });
Frontdesk('identify', { id: '${user}', hash: '${hash("someone-else")}' });`);
    const f3 = await openWidget(mallory.page);
    await eventually("the typed error to reach the page", async () => (await heard(mallory)).filter((h) => h === "error:identity_invalid").length === 2);
    await f3.locator("#presence").waitFor();
    await eventually("the widget to connect", async () => /Online|Away/.test((await f3.locator("#presence").textContent()) || ""));
    // Give a wrong switch every chance to show up before looking.
    await mallory.page.waitForTimeout(1000);
    assert.equal(await f3.locator('[data-testid="fd-message"]').count(), 0, "no conversation shows");
    assert.notEqual(await contactOf(mallory), bound);
    await shot(mallory.page, "sdk-forged-hash");
  });

  it("speaks German by the browser's locale and by setLanguage, and the agent sees the language", async () => {
    const hans = await newPerson(browser, { locale: "de-DE" });
    await hans.page.goto(server.demoUrl);
    const f1 = await openWidget(hans.page);
    await eventually("German in the widget", async () => (await f1.getByTestId("fd-input").getAttribute("placeholder")) === "Nachricht schreiben…");
    await eventually("German presence", async () => /Online|Abwesend/.test((await f1.locator("#presence").textContent()) || ""));
    assert.equal(await f1.locator(".hi").textContent(), "Hallo! Wie können wir helfen?");
    assert.equal(await f1.locator("html").getAttribute("lang"), "de");
    // The loader's launcher speaks German to a screen reader too.
    assert.equal(await hans.page.getByTestId("fd-launcher").getAttribute("aria-label"), "Chat schließen");
    await shot(hans.page, "sdk-german-locale");

    const anna = await newPerson(browser);
    await hostPage(anna, `Frontdesk('setLanguage', 'de');`);
    const f2 = await openWidget(anna.page);
    await eventually("setLanguage('de') in an English browser", async () => (await f2.getByTestId("fd-send").getAttribute("aria-label")) === "Nachricht senden");
    assert.equal(await anna.page.getByTestId("fd-launcher").getAttribute("aria-label"), "Chat schließen");
    // The choice reaches the agent's visitor panel.
    const contact = await contactOf(anna);
    await eventually("the visitor's language for the agent", async () => (await api("GET", `/api/v1/contacts/${contact}/visit`)).language === "de");
  });

  it("shows an admin the site's identity switch and secret in Settings", async () => {
    await alice.page.goto(server.base + "/app/settings");
    await alice.page.getByTestId("site-identity-toggle").first().click();
    const panel = alice.page.getByTestId("identity-panel").first();
    await panel.waitFor();
    assert.equal(await panel.getByTestId("identity-enabled").isChecked(), true);
    await panel.getByTestId("identity-show").click();
    assert.equal(await panel.getByTestId("identity-secret").textContent(), secret);
    await shot(alice.page, "sdk-settings-identity");
  });

  it("lays Arabic out right to left", async () => {
    const layla = await newPerson(browser);
    await hostPage(layla, `Frontdesk('setLanguage', 'ar');`);
    const frame = await openWidget(layla.page);
    await eventually("the frame to be right to left", async () => (await frame.locator("html").getAttribute("dir")) === "rtl");
    assert.equal(await frame.getByTestId("fd-input").getAttribute("placeholder"), "اكتب رسالة…");
    await frame.getByTestId("fd-input").fill("مرحبا");
    await frame.getByTestId("fd-send").click();
    const mine = frame.locator('[data-testid="fd-message"][data-kind="visitor"]:not([data-pending])');
    await mine.waitFor();
    // The send button sits at the reading end (left), the visitor's bubble at the start edge (left).
    const send = await frame.getByTestId("fd-send").boundingBox();
    const input = await frame.getByTestId("fd-input").boundingBox();
    assert.ok(send.x < input.x, `the send button is left of the box (${send.x} < ${input.x})`);
    const bubble = await mine.boundingBox();
    const log = await frame.locator("#log").boundingBox();
    assert.ok(bubble.x - log.x < 40, "the visitor's message hugs the left edge");
    await shot(layla.page, "sdk-arabic-rtl");
    assert.deepEqual(layla.pageErrors, []);
  });
});
