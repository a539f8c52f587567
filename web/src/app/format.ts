import { signal } from "@preact/signals";

/** Ticks every 30 s so relative times re-render without each row owning a timer. */
export const now = signal(Date.now());
setInterval(() => (now.value = Date.now()), 30_000);

// Formatters made once: `toLocaleDateString` and friends build one on every call, which was
// the dashboard's biggest cost while scrolling a list of old conversations.
const SHORT_DAY = new Intl.DateTimeFormat([], { day: "numeric", month: "short" });
const CLOCK = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit" });
const DATE_TIME = new Intl.DateTimeFormat([], { dateStyle: "medium", timeStyle: "short" });

export function relativeTime(ms: number | null, at: number): string {
  if (ms === null) return "";
  const s = Math.max(0, Math.round((at - ms) / 1000));
  if (s < 45) return "now";
  if (s < 3600) return Math.round(s / 60) + "m";
  if (s < 86_400) return Math.round(s / 3600) + "h";
  if (s < 7 * 86_400) return Math.round(s / 86_400) + "d";
  return SHORT_DAY.format(ms);
}

export function clockTime(ms: number): string {
  return CLOCK.format(ms);
}

export function dateTime(ms: number): string {
  return DATE_TIME.format(ms);
}

/** "Visitor 3f9a2c" for a contact with no name. */
export function contactLabel(name: string | null, contactId: string): string {
  return name || "Visitor " + contactId.replace(/[^a-zA-Z0-9]/g, "").slice(-6);
}

/** "waiting 4m" for a chat in the queue since `since`; coarse, as `now` ticks every 30 s. */
export function waitingTime(since: number, at: number): string {
  const m = Math.floor(Math.max(0, at - since) / 60_000);
  if (m < 1) return "waiting <1m";
  if (m < 60) return "waiting " + m + "m";
  const h = Math.floor(m / 60);
  return "waiting " + h + "h" + (m % 60 ? " " + (m % 60) + "m" : "");
}

/** The first letter of a name, for an avatar. */
export function initial(name: string | null): string {
  return (Array.from((name || "?").trim())[0] || "?").toUpperCase();
}
