// Accessibility, checked by axe-core (from npm) in a real browser: the demo page with the
// widget's launcher, and the chat frame open with a thread of messages from both sides. Any
// serious or critical violation fails the test, with axe's account of it.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import { ALICE, eventually, launchBrowser, loginAgent, newPerson, openWidget, shot, startServer, widgetConnected, widgetSend } from "./harness.mjs";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Runs axe in a page or frame; returns its serious and critical violations, described. */
async function violations(target, include) {
  await target.evaluate(AXE);
  const found = await target.evaluate(
    ([include]) =>
      window.axe.run(include ? { include: [include] } : document, { iframes: false }).then((r) => ({
        passes: r.passes.map((p) => p.id),
        bad: r.violations
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ") + " (" + n.failureSummary.replace(/\s+/g, " ") + ")").join("; ")}`),
        minor: r.violations.filter((v) => v.impact !== "serious" && v.impact !== "critical").map((v) => `${v.impact} ${v.id}`),
      })),
    [include],
  );
  // The check really ran: the rules that matter most here were evaluated and passed.
  for (const rule of ["color-contrast", "button-name", "aria-allowed-attr"]) {
    assert.ok(found.passes.includes(rule), `axe did not pass ${rule}: ${found.passes.join(", ")}`);
  }
  if (found.minor.length) console.log("axe, moderate or minor:", found.minor.join(", "));
  return found.bad;
}

describe("accessibility (axe-core)", () => {
  let server;
  let browser;
  let agent;
  let visitor;

  before(async () => {
    server = await startServer("a11y");
    browser = await launchBrowser();
    agent = await newPerson(browser, { viewport: { width: 1440, height: 900 } });
    // The demo page's policy allows no injected script; axe is injected by the test only.
    visitor = await newPerson(browser, { bypassCSP: true });
    await loginAgent(agent.page, server, ALICE);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("the demo page with the launcher has no serious or critical violation", async () => {
    const page = visitor.page;
    await page.goto(server.demoUrl);
    await page.getByTestId("fd-launcher").waitFor();
    const found = await violations(page);
    assert.deepEqual(found, [], found.join("\n"));
  });

  it("the open chat with a thread has no serious or critical violation", async () => {
    const page = visitor.page;
    const frame = await openWidget(page);
    await widgetConnected(frame);
    await widgetSend(frame, "Hello, do you ship to Norway?");
    await frame.locator('[data-testid="fd-message"][data-kind="visitor"]').waitFor();
    // An agent's reply, through the API as the dashboard sends it.
    const id = await eventually("the conversation on the dashboard's side", () =>
      agent.page.evaluate(async () => {
        const list = await (await fetch("/api/v1/conversations")).json();
        return list.items && list.items[0] && list.items[0].id;
      }),
    );
    const reply = await agent.page.evaluate(async (id) => {
      const r = await fetch(`/api/v1/conversations/${id}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ client_id: "a11y-reply-1", text: "Yes, **we do**: 3–5 days." }),
      });
      return r.status;
    }, id);
    assert.equal(reply, 200);
    await frame.locator('[data-testid="fd-message"]:not([data-kind="visitor"])', { hasText: "3–5 days" }).first().waitFor();
    const chat = await eventually("the chat frame", () => page.frames().find((f) => f.url().includes("/widget/frame.html")));
    await shot(page, "a11y-open-chat");
    const inFrame = await violations(chat);
    assert.deepEqual(inFrame, [], inFrame.join("\n"));
    // The page around it, with the chat open (the launcher is now its close button).
    const onPage = await violations(page);
    assert.deepEqual(onPage, [], onPage.join("\n"));
  });
});
