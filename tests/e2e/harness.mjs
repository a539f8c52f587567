// The end-to-end harness: one real Frontdesk server per test file, one headless Chromium, and
// small helpers that wait on conditions (never on fixed sleeps).
//
//   FRONTDESK_BIN   the server binary (default: ../../target/debug/frontdesk from this folder)
//   CHROMIUM        the browser (default: /usr/bin/chromium)
//   E2E_HEADED=1    show the browser (needs a display)
//
// Screenshots and server logs go to tests/e2e/out/ (gitignored).

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
export const OUT = join(HERE, "out");
export const BIN = resolve(HERE, process.env.FRONTDESK_BIN || "../../target/debug/frontdesk");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

/** How long one wait may take before the test fails. Generous: CI machines have 2 cores. */
export const WAIT_MS = Number(process.env.E2E_WAIT_MS || 15_000);

export const ALICE = { email: "alice@demo.frontdesk.test", password: "demo-password", name: "Alice Admin" };
export const BOB = { email: "bob@demo.frontdesk.test", password: "demo-password", name: "Bob Agent" };

mkdirSync(OUT, { recursive: true });

// --- the server --------------------------------------------------------------------------------

/**
 * The server's environment: ours without any FRONTDESK_* variable. The server reads every
 * FRONTDESK_* variable as configuration and refuses unknown ones (FRONTDESK_BIN is ours), and a
 * FRONTDESK_DATABASE_URL or FRONTDESK_LISTEN from the caller's shell must not leak into a test.
 */
function serverEnv() {
  const env = { NO_COLOR: "1" };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("FRONTDESK_")) env[k] = v;
  return env;
}

/**
 * Starts `frontdesk demo` on a free port with a fresh data directory and resolves once it has
 * printed its URLs. `name` labels the log file (out/server-NAME.log), written when it stops.
 */
export async function startServer(name, { startupMs = 60_000 } = {}) {
  if (!existsSync(BIN)) {
    throw new Error(`no server binary at ${BIN}: run \`cargo build -p frontdesk-server\` or set FRONTDESK_BIN`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), "frontdesk-e2e-"));
  const child = spawn(BIN, ["demo", "--data-dir", dataDir, "--listen", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: serverEnv(),
  });
  // Never outlive the test process, however it ends.
  const reap = () => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL");
  process.once("exit", reap);
  let log = "";
  const onData = (chunk) => {
    log += chunk.toString("utf8");
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise((res) => child.once("exit", (code, signal) => res({ code, signal })));

  let urls;
  try {
    urls = await new Promise((res, rej) => {
      const check = () => {
        const visitor = /Visitor \(demo website\):\s+(http:\/\/\S+\/demo)\s*$/m.exec(log);
        const agent = /Agent dashboard:\s+(http:\/\/\S+\/app)\s*$/m.exec(log);
        if (visitor && agent) finish(null, { demo: visitor[1], app: agent[1] });
      };
      const onExit = (code, signal) => finish(new Error(`server exited early (code ${code}, signal ${signal}):\n${log}`));
      const timer = setTimeout(() => finish(new Error(`server printed no URLs within ${startupMs} ms:\n${log}`)), startupMs);
      function finish(err, value) {
        clearTimeout(timer);
        child.stdout.off("data", check);
        child.stderr.off("data", check);
        child.off("exit", onExit);
        err ? rej(err) : res(value);
      }
      child.stdout.on("data", check);
      child.stderr.on("data", check);
      child.once("exit", onExit);
      child.once("error", (e) => finish(new Error(`cannot start ${BIN}: ${e.message}`)));
      check();
    });
  } catch (e) {
    child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }

  const base = new URL(urls.app).origin;
  let stopped = false;
  return {
    base,
    demoUrl: urls.demo,
    appUrl: urls.app,
    loginUrl: base + "/login",
    dataDir,
    log: () => log,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timeout = new Promise((res) => setTimeout(() => res("timeout"), 10_000).unref());
        if ((await Promise.race([exited, timeout])) === "timeout") {
          child.kill("SIGKILL");
          await exited;
        }
      }
      process.off("exit", reap);
      writeFileSync(join(OUT, `server-${name}.log`), log);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// --- the browser ---------------------------------------------------------------------------------

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: process.env.E2E_HEADED !== "1",
    args: CHROMIUM_ARGS,
  });
}

/**
 * A fresh browser context (its own cookies and storage, like a separate person) with a page that
 * records dialogs (dismissing them), uncaught page errors and console errors.
 */
export async function newPerson(browser, { viewport = { width: 1280, height: 800 }, ...options } = {}) {
  const context = await browser.newContext({ viewport, locale: "en-US", timezoneId: "Europe/Berlin", ...options });
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  const dialogs = [];
  const pageErrors = [];
  const consoleErrors = [];
  const watch = (p) => {
    p.on("dialog", (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    p.on("pageerror", (e) => pageErrors.push(String(e && e.stack ? e.stack : e)));
    p.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(`${m.text()} (${m.location().url || "?"})`);
    });
  };
  context.on("page", watch);
  watch(page);
  return { context, page, dialogs, pageErrors, consoleErrors };
}

/** Saves a full-page screenshot to out/NAME.png. */
export async function shot(page, name) {
  await page.screenshot({ path: join(OUT, name.endsWith(".png") ? name : name + ".png") });
}

// --- waiting -----------------------------------------------------------------------------------------

/** Polls `fn` until it returns a truthy value (returned) or the deadline passes (throws `what`). */
export async function eventually(what, fn, { timeout = WAIT_MS, interval = 50 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * Puts a person's page in front and waits until it has the focus, as a person looking at it
 * would (reads need a visible, focused page; background pages of a busy headless browser can
 * lose it, so each try brings the page to the front again).
 */
export async function attend(page) {
  await eventually("the page to have the focus", async () => {
    await page.bringToFront();
    return page.evaluate(() => document.visibilityState === "visible" && document.hasFocus());
  });
}

/** Waits until `locator` matches exactly `n` elements. */
export async function waitForCount(locator, n, what = `${n} elements`) {
  return eventually(what, async () => (await locator.count()) === n);
}

// --- the product ---------------------------------------------------------------------------------------

/** Logs an agent in through the /login form and waits for the inbox. */
export async function loginAgent(page, server, who = ALICE) {
  await page.goto(server.loginUrl);
  await page.getByTestId("login-email").fill(who.email);
  await page.getByTestId("login-password").fill(who.password);
  await page.getByTestId("login-submit").click();
  await page.waitForURL((u) => u.pathname === "/app" || u.pathname.startsWith("/app/c/"));
  await page.getByTestId("tab-unassigned").waitFor();
  await page.getByTestId("status-toggle").waitFor();
}

/** The chat frame of the widget on a host page (created when the chat is first opened). */
export function widgetFrame(page) {
  return page.frameLocator('iframe[title="Chat"]');
}

/** Opens the widget on a host page by its launcher (inside the loader's open shadow root). */
export async function openWidget(page) {
  const launcher = page.getByTestId("fd-launcher");
  await launcher.waitFor();
  if ((await launcher.getAttribute("aria-expanded")) !== "true") await launcher.click();
  await eventually("the launcher to say the chat is open", async () => (await launcher.getAttribute("aria-expanded")) === "true");
  const frame = widgetFrame(page);
  await frame.getByTestId("fd-input").waitFor();
  return frame;
}

/** Waits until the widget frame has its session and socket (presence says Online or Away). */
export async function widgetConnected(frame) {
  await eventually("the widget to connect", async () => {
    const t = (await frame.locator("#presence").textContent()) || "";
    return /Online|Away/.test(t) && (await frame.locator("#banner").isHidden());
  });
}

/** Types a message into the widget and sends it with the send button. */
export async function widgetSend(frame, text) {
  await frame.getByTestId("fd-input").fill(text);
  await frame.getByTestId("fd-send").click();
}

/** A visitor on the demo site who has sent one message; returns the widget frame. */
export async function visitorSays(person, server, text) {
  await person.page.goto(server.demoUrl);
  const frame = await openWidget(person.page);
  await widgetConnected(frame);
  await widgetSend(frame, text);
  await frame.locator('[data-testid="fd-message"][data-kind="visitor"]:not([data-pending])', { hasText: text }).waitFor();
  return frame;
}

/** The count shown on a dashboard tab (null when it shows none). */
export async function tabCount(page, tab) {
  const c = page.getByTestId("tab-" + tab).locator(".count");
  return (await c.count()) ? Number((await c.textContent()).trim()) : null;
}

/** Waits until the dashboard's tab counts are exactly `want` ({unassigned: 0, mine: 1, …}). */
export async function waitForCounts(page, want) {
  let seen = {};
  try {
    await eventually(`tab counts ${JSON.stringify(want)}`, async () => {
      seen = {};
      for (const t of Object.keys(want)) seen[t] = await tabCount(page, t);
      return Object.entries(want).every(([t, n]) => seen[t] === n);
    });
  } catch (e) {
    throw new Error(`${e.message}; the tabs show ${JSON.stringify(seen)}`);
  }
}

/** Whether a dashboard tab shows its unread dot. */
export async function tabUnread(page, tab) {
  return (await page.getByTestId("tab-" + tab).locator(".unread-dot").count()) > 0;
}

/** The dashboard's REST API at `/api/v1` + `path`, called from `page` with its own cookie and Origin. */
export async function api(page, method, path, body) {
  return page.evaluate(
    async ([method, path, body]) => {
      const r = await fetch("/api/v1" + path, {
        method,
        headers: body ? { "Content-Type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: r.status, body: r.status === 204 ? null : await r.json() };
    },
    [method, path, body],
  );
}
