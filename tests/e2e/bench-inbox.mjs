// The dashboard with 10,000 open conversations, measured in headless Chromium (not a test: the
// e2e suite runs *.test.mjs only). Figures and the command are in docs/benchmarks.md.
//
//   cargo build --release -p frontdesk-server
//   cargo build --release -p frontdesk-store --features seed --example seed
//   cd tests/e2e && FRONTDESK_BIN=../../target/release/frontdesk node bench-inbox.mjs
//
// Environment: SEED_BIN (default ../../target/release/examples/seed), BENCH_CONVERSATIONS
// (10000), BENCH_SCROLL_ROWS (2000), BENCH_EVENTS (200), BENCH_JSON=1 (print the figures as JSON).
//
// 1. `frontdesk demo` on a fresh data directory; the seeder writes N open conversations (offline
//    messages, each with a named contact and 1–5 messages) into the demo organization.
// 2. Alice opens /app on the New tab: time to the first rows (navigation start → first row
//    in the DOM), and how many rows the DOM holds.
// 3. The list is scrolled, 4 rows a frame, to row 2,000, loading pages of 50 by cursor as it
//    goes: frame times (requestAnimationFrame deltas), long tasks (PerformanceObserver),
//    main-thread time (Chromium's Performance domain), list requests, and the most rows the
//    DOM held at once.
// 4. Bob sends 200 replies to random seeded conversations through the REST API, 20 at a
//    time (the real server, writer and hub): Alice's dashboard receives a `conversation`
//    frame for each. Measured until the last frame has arrived and the page is idle: frame
//    times, long tasks, main-thread time, and the list requests (there should be none: a
//    frame patches the list in place).

import { execFileSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ALICE, BOB, eventually, launchBrowser, loginAgent, newPerson, shot, startServer } from "./harness.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const SEED_BIN = resolve(HERE, process.env.SEED_BIN || "../../target/release/examples/seed");
const N = Number(process.env.BENCH_CONVERSATIONS || 10_000);
const SCROLL_ROWS = Number(process.env.BENCH_SCROLL_ROWS || 2_000);
const EVENTS = Number(process.env.BENCH_EVENTS || 200);
const ROW = 76; // Inbox.tsx's row height

/** In the page before any script: frame times, long tasks and the first row's arrival. */
function instrument() {
  const w = window;
  w.__bench = { frames: [], longTasks: [], firstRowAt: null, recording: false, last: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__bench.longTasks.push({ at: e.startTime, ms: e.duration });
  }).observe({ type: "longtask", buffered: true });
  const tick = (t) => {
    if (w.__bench.recording && w.__bench.last) w.__bench.frames.push(t - w.__bench.last);
    w.__bench.last = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  const seen = () => {
    if (w.__bench.firstRowAt === null && document.querySelector('[data-testid="conv-item"]')) {
      w.__bench.firstRowAt = performance.now();
      return true;
    }
    return false;
  };
  const mo = new MutationObserver(() => seen() && mo.disconnect());
  document.addEventListener("DOMContentLoaded", () => mo.observe(document.body, { childList: true, subtree: true }));
}

const pct = (xs, p) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(s.length * p) - 1))];
};
const r1 = (x) => Math.round(x * 10) / 10;

function frameStats(frames) {
  return {
    frames: frames.length,
    p50_ms: r1(pct(frames, 0.5)),
    p99_ms: r1(pct(frames, 0.99)),
    max_ms: r1(Math.max(0, ...frames)),
    over_50ms: frames.filter((f) => f > 50).length,
  };
}

async function mainThread(cdp) {
  const { metrics } = await cdp.send("Performance.getMetrics");
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  return { task: m.TaskDuration * 1000, script: m.ScriptDuration * 1000, layout: m.LayoutDuration * 1000, style: m.RecalcStyleDuration * 1000 };
}
const diff = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k + "_ms", r1(b[k] - a[k])]));

async function main() {
  const server = await startServer("bench-inbox");
  const out = { conversations: N };
  let browser;
  try {
    const t0 = Date.now();
    execFileSync(SEED_BIN, [join(server.dataDir, "frontdesk.db"), "--conversations", String(N), "--max-messages", "5", "--open"], { stdio: "inherit" });
    out.seed_s = r1((Date.now() - t0) / 1000);

    browser = await launchBrowser();
    const alice = await newPerson(browser);
    const page = alice.page;
    await page.bringToFront();
    await loginAgent(page, server, ALICE);
    await page.getByTestId("tab-unassigned").click();
    await page.addInitScript(instrument);
    const listRequests = [];
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.pathname === "/api/v1/conversations") listRequests.push({ at: Date.now(), cursor: u.searchParams.get("cursor") });
    });
    // `conversation` frames on the dashboard's socket (opened at load).
    let frames = 0;
    let counting = false;
    page.on("websocket", (ws) =>
      ws.on("framereceived", (f) => {
        const text = typeof f.payload === "string" ? f.payload : f.payload.toString();
        if (counting && text.startsWith('{"type":"conversation"')) frames++;
      }),
    );
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Performance.enable");

    // --- 2: the first rows, cold (a reload: the session and the tab are kept) ---
    await page.reload();
    await page.getByTestId("conv-item").first().waitFor();
    const firstRow = await eventually("the first row's time", () => page.evaluate(() => window.__bench.firstRowAt));
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType("navigation")[0];
      return { domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd };
    });
    const rows = await page.getByTestId("conv-item").count();
    out.first_rows = { first_row_ms: r1(firstRow), dom_content_loaded_ms: r1(nav.domContentLoaded), dom_rows: rows };
    const countText = await page.getByTestId("tab-unassigned").locator(".count").textContent();
    out.first_rows.new_tab_count = Number(countText);
    await shot(page, "bench-inbox-loaded");

    // --- 3: scroll to row SCROLL_ROWS, loading pages by cursor ---
    const beforeScroll = listRequests.length;
    const mt0 = await mainThread(cdp);
    const scroll = await page.evaluate(
      ({ target, row }) =>
        new Promise((done) => {
          const b = window.__bench;
          const list = document.getElementById("conv-list");
          b.frames = [];
          b.longTasks = [];
          b.recording = true;
          let maxRows = 0;
          let waits = 0;
          const start = performance.now();
          const step = () => {
            maxRows = Math.max(maxRows, list.querySelectorAll('[data-testid="conv-item"]').length);
            if (list.scrollTop >= target * row) {
              b.recording = false;
              done({ ms: performance.now() - start, maxRows, waits, frames: b.frames, longTasks: b.longTasks });
              return;
            }
            const room = list.scrollHeight - list.clientHeight - list.scrollTop;
            if (room > 1) list.scrollTop += Math.min(4 * row, room);
            else waits++; // at the end of what is loaded: the next page is on its way
            requestAnimationFrame(step);
          };
          requestAnimationFrame(step);
        }),
      { target: SCROLL_ROWS, row: ROW },
    );
    const mt1 = await mainThread(cdp);
    out.scroll = {
      rows: SCROLL_ROWS,
      seconds: r1(scroll.ms / 1000),
      ...frameStats(scroll.frames),
      long_tasks: scroll.longTasks.length,
      long_task_ms: r1(scroll.longTasks.reduce((a, t) => a + t.ms, 0)),
      main_thread: diff(mt0, mt1),
      frames_waiting_for_a_page: scroll.waits,
      list_requests: listRequests.length - beforeScroll,
      max_dom_rows: scroll.maxRows,
      loaded_ids: await page.evaluate(() => document.querySelector(".list-inner").style.height).then((h) => Math.round(parseFloat(h) / ROW)),
    };
    await shot(page, "bench-inbox-scrolled");

    // --- 4: a burst of live events through the real server ---
    await page.evaluate(() => (document.getElementById("conv-list").scrollTop = 0));
    // Ids to write to: the first 400 of the New tab (the loaded part of the list and beyond).
    const ids = await page.evaluate(async () => {
      const all = [];
      let cursor = null;
      for (let i = 0; i < 4; i++) {
        const r = await fetch("/api/v1/conversations?tab=unassigned&limit=100" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
        const p = await r.json();
        all.push(...p.items.map((c) => c.id));
        cursor = p.next_cursor;
      }
      return all;
    });
    // Bob, logged in from Node.
    const login = await fetch(server.base + "/api/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.base },
      body: JSON.stringify({ email: BOB.email, password: BOB.password }),
    });
    const cookie = (login.headers.get("set-cookie") || "").split(";")[0];
    if (!login.ok || !cookie) throw new Error("Bob cannot log in: " + login.status);
    const bob = async (path, body) => {
      const r = await fetch(server.base + path, {
        method: "POST",
        headers: { "content-type": "application/json", origin: server.base, cookie },
        body: JSON.stringify(body),
      });
      if (!r.ok) throw new Error(path + ": " + r.status + " " + (await r.text()));
    };

    // The page at rest, for comparison: main-thread time over two quiet seconds.
    const q0 = await mainThread(cdp);
    await new Promise((r) => setTimeout(r, 2000));
    out.idle_main_thread_ms_per_s = r1(((await mainThread(cdp)).task - q0.task) / 2);

    let sent = 0;
    const burst = async (label, text) => {
      const before = listRequests.length;
      frames = 0;
      counting = true;
      await page.evaluate(() => {
        const b = window.__bench;
        b.frames = [];
        b.longTasks = [];
        b.recording = true;
      });
      const m0 = await mainThread(cdp);
      const started = Date.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (next < EVENTS) {
            const k = next++;
            const n = sent++;
            await bob("/api/v1/conversations/" + ids[(n * 7919) % ids.length] + "/messages", { client_id: "bench-" + n, text: text + " " + k, note: false });
          }
        }),
      );
      const sentMs = Date.now() - started;
      await eventually(`${EVENTS} conversation frames`, () => frames >= EVENTS, { timeout: 60_000 });
      const receivedMs = Date.now() - started;
      // Settled: two animation frames after the last socket frame.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const m1 = await mainThread(cdp);
      const settledMs = Date.now() - started;
      const got = await page.evaluate(() => {
        const b = window.__bench;
        b.recording = false;
        return { frames: b.frames, longTasks: b.longTasks };
      });
      counting = false;
      await new Promise((r) => setTimeout(r, 1500)); // the tab counts (debounced to 1/s) come in
      out[label] = {
        events: EVENTS,
        sent_ms: sentMs,
        all_received_ms: receivedMs,
        conversation_frames: frames,
        ...frameStats(got.frames),
        long_tasks: got.longTasks.length,
        long_task_ms: r1(got.longTasks.reduce((a, t) => a + t.ms, 0)),
        main_thread: diff(m0, m1),
        main_thread_per_event_ms: r1((m1.task - m0.task - (out.idle_main_thread_ms_per_s * settledMs) / 1000) / EVENTS),
        list_requests: listRequests.length - before,
        dom_rows: await page.getByTestId("conv-item").count(),
      };
    };

    await burst("burst", "Reply from the benchmark");
    await shot(page, "bench-inbox-burst");

    // The same with a long conversation open (200 notes), as an agent would have one.
    const open = ids[ids.length - 1];
    for (let k = 0; k < 200; k++) await bob("/api/v1/conversations/" + open + "/messages", { client_id: "long-" + k, text: "Note **" + k + "** about _this_ conversation: see https://example.com/" + k, note: true });
    await page.evaluate((id) => {
      history.pushState(null, "", "/app/c/" + id);
      dispatchEvent(new PopStateEvent("popstate"));
    }, open);
    await eventually("the long conversation to show", async () => (await page.locator('[data-testid="msg"]').count()) >= 200, { timeout: 30_000 });
    await burst("burst_with_open_conversation", "Another reply");
    await shot(page, "bench-inbox-burst-open");
    out.page_errors = alice.pageErrors.length + alice.consoleErrors.length;
  } finally {
    await browser?.close();
    await server.stop();
  }
  if (process.env.BENCH_JSON === "1") console.log(JSON.stringify(out, null, 2));
  else print(out);
}

function print(o) {
  console.log(`\ninbox with ${o.conversations} open conversations (seeded in ${o.seed_s} s)`);
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== "object") continue;
    console.log(`  ${k}:`);
    for (const [kk, vv] of Object.entries(v)) console.log(`    ${kk.padEnd(26)} ${typeof vv === "object" ? JSON.stringify(vv) : vv}`);
  }
  console.log(`  page errors: ${o.page_errors}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
