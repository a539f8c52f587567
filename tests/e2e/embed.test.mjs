// Where the widget may run, in a real browser: a page of another origin (a tiny static server on
// this machine; `localhost` and `127.0.0.1` are different origins) that embeds the demo site's
// snippet shows nothing and cannot frame the chat, until an admin adds its domain to the site's
// allowed domains; and the chat frame ignores messages from any window but the page that embeds it.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import {
  eventually,
  launchBrowser,
  loginAgent,
  newPerson,
  openWidget,
  shot,
  startServer,
  widgetConnected,
  widgetSend,
} from "./harness.mjs";

describe("allowed domains", () => {
  let server;
  let browser;
  let agent;
  let pages;
  let port;
  let site;

  /** Calls the API as the logged-in admin (same origin, so the browser sends our Origin). */
  const api = (method, path, body) =>
    agent.page.evaluate(
      async ([method, path, body]) => {
        const r = await fetch(path, {
          method,
          headers: body ? { "content-type": "application/json" } : {},
          body: body ? JSON.stringify(body) : undefined,
        });
        return { status: r.status, body: await r.json().catch(() => null) };
      },
      [method, path, body],
    );

  before(async () => {
    server = await startServer("embed");
    browser = await launchBrowser();
    agent = await newPerson(browser, { viewport: { width: 1440, height: 900 } });
    await loginAgent(agent.page, server);
    const sites = await api("GET", "/api/v1/websites");
    site = sites.body[0];
    // A customer's site: a shop page with the snippet, and a page of someone else that tries
    // to talk to the chat frame.
    pages = createServer((req, res) => {
      const path = new URL(req.url, "http://x").pathname;
      let html;
      if (path === "/shop.html") {
        html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><main><h1>Shop</h1></main>
<script async src="${server.base}/widget.js" data-site="${site.site_key}"></script></body></html>`;
      } else if (path === "/framed.html") {
        // Frames the chat directly, as a copied snippet's page might try.
        html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Framed</title></head>
<body><iframe title="Copied chat" src="${server.base}/widget/frame.html?site=${site.site_key}"></iframe></body></html>`;
      } else if (path === "/evil.html") {
        // Posts to every frame of its parent page: the chat frame must ignore it.
        html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ad</title></head>
<body><script>
for (let i = 0; i < parent.frames.length; i++) {
  if (parent.frames[i] !== window) parent.frames[i].postMessage({ type: "fd:visibility", open: true }, "*");
}
document.title = "posted " + parent.frames.length;
</script></body></html>`;
      } else {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
    });
    await new Promise((r) => pages.listen(0, r));
    port = pages.address().port;
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    pages?.close();
  });

  /** Opens the shop on `host` and waits until the loader has decided. */
  async function visitShop(person, host) {
    const warnings = [];
    person.page.on("console", (m) => {
      if (m.type() === "warning" && /Frontdesk/.test(m.text())) warnings.push(m.text());
    });
    await person.page.goto(`http://${host}:${port}/shop.html`);
    return warnings;
  }

  it("shows nothing on a page whose origin is not allowed, and the frame is refused", async () => {
    // The demo site allows its own domain (127.0.0.1:8080) and this server's pages only.
    const visitor = await newPerson(browser);
    const warnings = await visitShop(visitor, "localhost");
    await eventually("the loader's one warning", () => warnings.length === 1);
    assert.match(warnings[0], /not allowed on http:\/\/localhost:\d+/);
    assert.equal(await visitor.page.locator("#frontdesk-widget").count(), 0, "the loader left nothing on the page");
    assert.equal(await visitor.page.getByTestId("fd-launcher").count(), 0);
    assert.equal(visitor.page.frames().length, 1, "no chat frame");
    // Framing the chat directly is refused by the browser (frame-ancestors).
    await visitor.page.goto(`http://localhost:${port}/framed.html`);
    await eventually("the copied frame to be blocked", async () => {
      const f = visitor.page.frames().find((f) => f !== visitor.page.mainFrame());
      return f && !f.url().includes("/widget/frame.html");
    });
    const f = visitor.page.frames().find((f) => f !== visitor.page.mainFrame());
    assert.equal(await f.locator("#input").count(), 0, "the chat did not load in the copied frame");
    await shot(visitor.page, "embed-refused");
    await visitor.context.close();
  });

  it("works on a page once its domain is allowed, and only there", async () => {
    const bad = await api("PUT", `/api/v1/websites/${site.id}/domains`, { allowed_domains: ["*"] });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.code, "invalid_domain");
    // The admin sets the list in Settings: a bad entry gets its error, then a good list saves.
    await agent.page.goto(server.base + "/app/settings");
    await agent.page.getByTestId("site-domains-toggle").first().click();
    const panel = agent.page.getByTestId("domains-panel");
    await panel.waitFor();
    await panel.getByTestId("domains-text").fill("*.com");
    await panel.getByTestId("domains-save").click();
    await panel.locator(".error, [role=alert]").first().waitFor();
    await panel.getByTestId("domains-text").fill("127.0.0.1");
    await panel.getByTestId("domains-save").click();
    await panel.getByTestId("domains-saved").waitFor();
    await shot(agent.page, "embed-settings-domains");
    const ok = await api("GET", `/api/v1/websites/${site.id}/domains`);
    assert.deepEqual(ok.body.allowed_domains, ["127.0.0.1"]);

    const visitor = await newPerson(browser);
    const warnings = await visitShop(visitor, "127.0.0.1");
    const frame = await openWidget(visitor.page);
    await widgetConnected(frame);
    await widgetSend(frame, "Hello from an allowed shop");
    await frame.locator('[data-testid="fd-message"][data-kind="visitor"]:not([data-pending])', { hasText: "Hello from an allowed shop" }).waitFor();
    assert.deepEqual(warnings, []);
    await shot(visitor.page, "embed-allowed");

    // localhost is another origin: still refused.
    const other = await newPerson(browser);
    const otherWarnings = await visitShop(other, "localhost");
    await eventually("the loader's warning on localhost", () => otherWarnings.length === 1);
    assert.equal(await other.page.locator("#frontdesk-widget").count(), 0);
    await other.context.close();

    // The frame ignores a message from another window of another origin. The loader's frame
    // sits in a shadow root, out of reach of other windows' `frames`; a second chat frame in the
    // page itself is not, so the page adds one and notes what it says.
    await visitor.page.evaluate((src) => {
      window.fdSaid = [];
      const f = document.createElement("iframe");
      f.title = "Second chat";
      f.src = src;
      document.body.appendChild(f);
      window.fdSecond = f;
      addEventListener("message", (e) => {
        if (e.source === f.contentWindow) window.fdSaid.push(e.data);
      });
    }, `${server.base}/widget/frame.html?site=${site.site_key}`);
    const said = () => visitor.page.evaluate(() => window.fdSaid);
    await eventually("the second frame to be ready", async () => (await said()).some((m) => m.type === "fd:ready"));
    await visitor.page.evaluate((src) => {
      const f = document.createElement("iframe");
      f.title = "Ad";
      f.src = src;
      document.body.appendChild(f);
    }, `http://localhost:${port}/evil.html`);
    const evil = await eventually("the other window to load", () =>
      visitor.page.frames().find((f) => f.url().startsWith(`http://localhost:${port}/evil.html`)),
    );
    await eventually("the other window to post to the chat frame", async () => (await evil.title()) === "posted 2");
    // Had the frame believed "you are open", it would take the reply as read; it counts it.
    const list = await api("GET", "/api/v1/conversations");
    const conv = list.body.items[0];
    const sent = await api("POST", `/api/v1/conversations/${conv.id}/messages`, {
      client_id: "e2e-embed-1",
      text: "A reply while the chat is closed",
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    await eventually("the frame to count the reply as unread", async () =>
      (await said()).some((m) => m.type === "fd:unread" && m.count === 1),
    );
    // The same message from the page that embeds it is heard: the reply is read.
    await visitor.page.evaluate((origin) => window.fdSecond.contentWindow.postMessage({ type: "fd:visibility", open: true }, origin), server.base);
    await eventually("the frame to clear its unread count", async () => {
      const m = (await said()).filter((m) => m.type === "fd:unread");
      return m.length && m[m.length - 1].count === 0;
    });
    assert.deepEqual(visitor.pageErrors, []);
    await visitor.context.close();
  });
});
