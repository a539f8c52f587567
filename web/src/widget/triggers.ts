// Proactive triggers on the page: the same evaluation as crates/core/src/triggers.rs (the cases
// in web/test/trigger-cases.json, written by the Rust tests, keep the two in agreement), and the
// runner the loader starts with the site's rules. No round trip per trigger: the rules come
// with the widget's config, and everything is measured here.
//
// Kept in localStorage (fd_t_SITE, one small JSON): the visit count and when the visitor was
// last seen (a new visit after 30 idle minutes, as crates/core/src/visitors.rs counts), the
// visit's UTM tags, the rules shown this visit, and the rules the visitor closed (never again).
import type { Condition } from "../generated/Condition";
import type { Fire } from "../generated/Fire";
import type { PageFacts } from "../generated/PageFacts";
import type { SiteTriggers } from "../generated/SiteTriggers";
import type { TriggerState } from "../generated/TriggerState";
import type { Utm } from "../generated/Utm";

/** ASCII letters lower-cased, nothing else: what Rust's `eq_ignore_ascii_case` compares. */
const low = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** `*` stands for any run of characters; ASCII letters compare without case (routing.rs). */
export function urlMatches(p: string, s: string): boolean {
  let pi = 0;
  let si = 0;
  let sp = -1;
  let ss = 0;
  while (si < s.length) {
    if (p[pi] === "*") {
      sp = pi++;
      ss = si;
    } else if (pi < p.length && low(p[pi]!) === low(s[si]!)) {
      pi++;
      si++;
    } else if (sp >= 0) {
      pi = sp + 1;
      si = ++ss;
    } else return false;
  }
  while (p[pi] === "*") pi++;
  return pi === p.length;
}

export function holds(c: Condition, f: PageFacts): boolean {
  switch (c.type) {
    case "url": {
      const t = c.value[0] === "/" ? f.path : f.url;
      return c.how === "exact" ? low(t) === low(c.value) : c.how === "prefix" ? low(t).startsWith(low(c.value)) : urlMatches(c.value, t);
    }
    case "time_on_page":
      return f.seconds_on_page >= c.seconds;
    case "scroll_depth":
      return f.scroll_percent >= c.percent;
    case "visits":
      return f.visits >= c.at_least;
    case "referrer":
      return c.how === "contains" ? low(f.referrer).includes(low(c.value)) : urlMatches(c.value, f.referrer);
    case "utm": {
      const h = f.utm[c.key];
      return h != null && low(h) === low(c.value);
    }
    case "exit_intent":
      return f.desktop && f.exit_intent;
  }
}

/** The first enabled rule whose conditions all hold, unless a guardrail says no. */
export function evaluate(site: SiteTriggers, f: PageFacts, st: TriggerState): Fire | null {
  if (st.chatting || st.shown.length >= site.max_per_visit) return null;
  for (const r of site.rules) {
    if (
      r.enabled &&
      st.shown.indexOf(r.id) < 0 &&
      st.dismissed.indexOf(r.id) < 0 &&
      (r.agents === "any" || (r.agents === "online") === f.agents_online) &&
      r.conditions.every((c) => holds(c, f))
    ) {
      return { id: r.id, text: r.action.text, from: r.action.from, open: r.action.open };
    }
  }
  return null;
}

/** What the runner keeps (fd_t_SITE). */
type Kept = { n: number; at: number; u: Utm; s: string[]; d: string[] };

export interface Runner {
  /** From the chat frame: whether agents are online and whether a chat is running. */
  state(online: boolean, chatting: boolean): void;
  /** The visitor closed the greeting: never again. */
  dismiss(id: string): void;
}

const VISIT_GAP_MS = 30 * 60 * 1000;

/**
 * Measures the page once a second and calls `fire` with each greeting due (at most one a tick).
 * Nothing fires before the frame said whether agents are online and a chat runs, nor while
 * `paused()` (the chat is open).
 *
 * `stored`/`store` are the loader's storage helpers (blocked storage reads as empty): then the
 * guardrails hold for this page only.
 */
export function startTriggers(
  site: SiteTriggers,
  key: string,
  fire: (f: Fire) => void,
  paused: () => boolean,
  stored: (k: string) => string,
  store: (k: string, v: string) => void,
): Runner {
  const d = document;
  const read = (): Kept | null => {
    try {
      return JSON.parse(stored(key) || "null");
    } catch (_) {
      return null;
    }
  };
  const write = () => store(key, JSON.stringify(k));
  const q = new URLSearchParams(location.search);
  const utm = {} as Record<keyof Utm, string | null>;
  let tagged = false;
  for (const n of ["source", "medium", "campaign", "term", "content"] as const) tagged = !!(utm[n] = q.get("utm_" + n)) || tagged;
  const now = Date.now();
  let k = read() || { n: 0, at: 0, u: utm, s: [], d: [] };
  if (now - k.at > VISIT_GAP_MS) k = { n: k.n + 1, at: now, u: utm, s: [], d: k.d };
  // A page of the visit with tags of its own (a second campaign link) replaces the landing's.
  if (tagged) k.u = utm;
  k.at = now;
  write();

  let start = now;
  let href = location.href;
  let scroll = 0;
  let exit = false;
  let online: boolean | null = null;
  let chatting = false;
  const desktop = matchMedia("(hover: hover) and (pointer: fine)").matches;

  d.addEventListener("mouseout", (e: MouseEvent) => {
    if (e.clientY <= 0 && !e.relatedTarget) exit = true;
  });
  // The scroll depth is read (which may lay the page out) only after the page scrolled or
  // resized, not on every tick.
  let moved = true;
  const move = () => (moved = true);
  addEventListener("scroll", move, { passive: true });
  addEventListener("resize", move, { passive: true });
  const tick = () => {
    const t = Date.now();
    if (location.href !== href) {
      // A single-page app moved: a new page, with its own time and scroll.
      href = location.href;
      start = t;
      scroll = 0;
      moved = true;
    }
    if (moved) {
      moved = false;
      const h = d.documentElement.scrollHeight;
      scroll = Math.max(scroll, h > 0 ? Math.min(100, Math.floor(((scrollY + innerHeight) * 100) / h)) : 100);
    }
    // Seen now: the visit goes on (written at most once a minute).
    if (t - k.at > 60000) {
      k.at = t;
      write();
    }
    if (online === null || paused()) return;
    const f = evaluate(
      site,
      {
        url: href,
        path: location.pathname + location.search,
        seconds_on_page: Math.floor((t - start) / 1000),
        scroll_percent: scroll,
        visits: k.n,
        referrer: d.referrer,
        utm: k.u,
        exit_intent: exit,
        desktop,
        agents_online: online,
      },
      { shown: k.s, dismissed: k.d, chatting },
    );
    if (f) {
      k.s.push(f.id);
      write();
      fire(f);
    }
  };
  setInterval(tick, 1000);
  return {
    state(o, c) {
      online = o;
      chatting = c;
    },
    dismiss(id) {
      if (k.d.indexOf(id) < 0) k.d.push(id);
      write();
    },
  };
}
