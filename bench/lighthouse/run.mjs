// What the widget adds to a page, measured by Lighthouse (npm) in Debian's Chromium: the demo
// page with the widget and the same page without it (`/demo?widget=0`), several runs each,
// interleaved; prints the medians and what the widget adds (transfer size, main-thread time,
// total blocking time) and, per run, the main-thread time of the widget's own scripts.
//
//   cargo build --release -p frontdesk-server
//   cd bench/lighthouse && npm ci && CHROME_PATH=/usr/bin/chromium node run.mjs
//
// It starts `frontdesk demo` itself (target/release/frontdesk, or FRONTDESK_BIN) on a free port
// with a fresh data directory, and measures two ways:
//   - same origin: the page at http://127.0.0.1:PORT/demo, the widget from the same origin.
//     The chat frame then runs in the page's own process and on its main thread: pessimistic.
//   - cross-site, as on a customer's site: the page at http://localhost:PORT/demo, the widget
//     from http://127.0.0.1:PORT (the server's public_url; the demo site's allowed domains get
//     localhost:PORT). Chromium isolates the cross-site frame in its own process.
// RUNS=N sets the runs per variant (default 5); CROSS_SITE_ONLY=1 skips the same-origin runs. Lighthouse's desktop preset: no CPU slowdown, no
// simulated network, so the times are this machine's own; each run is a first visit.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktop from "lighthouse/core/config/desktop-config.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.RUNS || 5);
const CHROME = process.env.CHROME_PATH || "/usr/bin/chromium";

/** A free TCP port on 127.0.0.1. */
async function freePort() {
  const { createServer } = await import("node:net");
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const port = srv.address().port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Starts `frontdesk demo`; resolves with the demo page's URL and a stop function. */
async function startDemo() {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const bin = resolve(HERE, process.env.FRONTDESK_BIN || "../../target/release/frontdesk");
  const dataDir = mkdtempSync(join(tmpdir(), "frontdesk-lighthouse-"));
  const env = { NO_COLOR: "1" };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("FRONTDESK_")) env[k] = v;
  const child = spawn(bin, ["demo", "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`, "--public-url", publicUrl], { stdio: ["ignore", "pipe", "pipe"], env });
  let log = "";
  const url = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error("frontdesk demo printed no URL in 60 s:\n" + log)), 60_000);
    const onData = (c) => {
      log += c;
      const m = /Visitor \(demo website\):\s+(http:\/\/\S+\/demo)\s*$/m.exec(log);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", rej);
    child.once("exit", (code) => rej(new Error(`frontdesk demo exited (${code}):\n${log}`)));
  });
  // Let pages on localhost:PORT embed the demo site's widget, as its admin would.
  const login = await fetch(publicUrl + "/api/v1/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json", origin: publicUrl },
    body: JSON.stringify({ email: "alice@demo.frontdesk.test", password: "demo-password" }),
  });
  const cookie = (login.headers.get("set-cookie") || "").split(";")[0];
  const auth = { cookie, origin: publicUrl, "content-type": "application/json" };
  const sites = await (await fetch(publicUrl + "/api/v1/websites", { headers: auth })).json();
  const put = await fetch(`${publicUrl}/api/v1/websites/${sites[0].id}/domains`, {
    method: "PUT",
    headers: auth,
    body: JSON.stringify({ allowed_domains: [sites[0].domain, `localhost:${port}`] }),
  });
  if (!put.ok) throw new Error("could not allow localhost: " + (await put.text()));
  return {
    url,
    crossSite: `http://localhost:${port}/demo`,
    stop() {
      child.kill("SIGTERM");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function measure(url, port) {
  const r = await lighthouse(url, { port, output: "json", logLevel: "error", onlyCategories: ["performance"] }, desktop);
  const a = r.lhr.audits;
  if (r.lhr.runtimeError) throw new Error(r.lhr.runtimeError.message);
  const requests = (a["network-requests"].details?.items || []).map((i) => new URL(i.url).pathname);
  return {
    bytes: a["total-byte-weight"].numericValue,
    mainThread: a["mainthread-work-breakdown"].numericValue,
    tbt: a["total-blocking-time"].numericValue,
    groups: Object.fromEntries((a["mainthread-work-breakdown"].details?.items || []).map((i) => [i.group, i.duration])),
    requests,
  };
}

const demo = await startDemo();
const chrome = await chromeLauncher.launch({
  chromePath: CHROME,
  chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
const report = (title, runs) => {
  const med = (v, k) => median(runs[v].map((r) => r[k]));
  const row = (label, k, unit, digits) => {
    const w = med("with", k);
    const wo = med("without", k);
    console.log(`${label.padEnd(24)} ${wo.toFixed(digits).padStart(9)} ${w.toFixed(digits).padStart(9)} ${(w - wo).toFixed(digits).padStart(9)} ${unit}`);
  };
  console.log(`\n${title}: Lighthouse (desktop preset), ${RUNS} runs each, medians`);
  console.log(`${"".padEnd(24)} ${"without".padStart(9)} ${"with".padStart(9)} ${"added".padStart(9)}`);
  row("transfer size", "bytes", "bytes", 0);
  row("main-thread time", "mainThread", "ms", 1);
  row("total blocking time", "tbt", "ms", 1);
  const groups = new Set(runs.with.flatMap((r) => Object.keys(r.groups)));
  console.log(
    "main-thread time added, by kind: " +
      [...groups].map((g) => `${g} ${(median(runs.with.map((r) => r.groups[g] || 0)) - median(runs.without.map((r) => r.groups[g] || 0))).toFixed(1)} ms`).join(", "),
  );
  console.log(`widget requests (last run): ${runs.with.at(-1).requests.filter((p) => !runs.without.at(-1).requests.includes(p)).join(", ")}`);
};
try {
  for (const [title, page] of [
    ["Cross-site (as on a customer's site)", demo.crossSite],
    ["Same origin (the demo page as served)", demo.url],
  ].slice(0, process.env.CROSS_SITE_ONLY ? 1 : 2)) {
    const without = new URL(page);
    without.searchParams.set("widget", "0");
    const runs = { with: [], without: [] };
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, so a burst of load on a shared machine hits both variants alike.
      runs.without.push(await measure(without.href, chrome.port));
      runs.with.push(await measure(page, chrome.port));
      process.stderr.write(`${title}: run ${i + 1}/${RUNS} done\n`);
    }
    report(title, runs);
  }
} finally {
  await chrome.kill();
  demo.stop();
}
