// The widget's strings, by language. Every word the visitor reads goes through `t`, so the chat
// can speak the visitor's language (the browser's, or the one `Frontdesk('setLanguage', …)`
// chose).
//
// `EN` is the source table: a key added to the widget is added here first. Other languages
// (locales.ts) fall back to English for a key they lack; `web/test/i18n.test.mjs` checks that
// none lacks any, and that each keeps the same `{placeholders}`.
// `{name}` in a string is replaced by `t(key, { name })`; values are plain text (they end up in
// text nodes), never markup.
// frame.html marks its words with `data-i` (text), `data-ia` (aria-label), `data-ip`
// (placeholder) and `data-it` (title); `translatePage` fills them in.

import { AR, DE, ES, FR, PT } from "./locales";

export const EN = {
  "greeting.default": "Hi! How can we help?",
  // The site's look (crates/core/src/widget.rs).
  "look.reply": "We usually reply in about {n} minutes",
  "look.reply_one": "We usually reply in about a minute",
  // Pre-chat form and end of chat (forms)
  "form.title": "Before we start",
  "form.offline_title": "Leave us a message",
  "form.offline_email": "Your email",
  "form.choose": "Choose…",
  "form.start": "Start the chat",
  "form.continue": "Continue",
  "form.required": "Please fill this in.",
  "form.not_connected": "Not connected; try again in a moment.",
  "rating.title": "How was this chat?",
  "rating.star": "{n} of 5",
  "rating.effort": "How easy was it to get help?",
  "rating.effort_low": "1 = very hard, 5 = very easy",
  "rating.comment": "Anything to add? (optional)",
  "rating.send": "Send",
  "rating.choose": "Choose a rating first.",
  "rating.thanks": "Thanks for your feedback!",
  "rating.transcript": "Email me the transcript",
  // Proactive triggers: the greeting bubble by the launcher (loader.ts).
  "trigger.team": "The team",
  "trigger.close": "Close greeting",

  // The chat frame (frame.html, frame.ts)
  "chat.title": "Chat",
  "chat.close": "Close chat",
  "chat.connecting": "Connecting…",
  "chat.reconnecting": "Reconnecting…",
  "chat.unavailable": "Unavailable",
  "chat.online": "Online",
  "chat.away": "Away",
  "chat.messages": "Messages",
  "chat.agent": "Agent",
  "chat.typing": "{name} is typing…",
  "chat.no_site_key": "This chat is missing its site key.",
  "chat.not_connected": "Not connected; try again in a moment.",
  "offline.label": "We're away",
  "offline.away": "We're away right now.",
  "offline.leave": "Leave a message and your email — we'll reply by email.",
  "offline.saved": "Thanks! We'll reply to {email}.",
  "email.label": "Your email",
  "email.placeholder": "you@example.com",
  "email.save": "Save",
  "hours.away": "We're away right now",
  "hours.back": "back {when}",
  "hours.at": "at {time}",
  "hours.tomorrow": "tomorrow {time}",
  "queue.next": "You're next",
  "queue.position": "You're number {n} in line",
  "queue.less_than_minute": "less than a minute",
  "queue.minutes": "about {n} min",
  "queue.hour": "about an hour",
  "queue.hours": "about {n} hours",
  "leave.button": "Leave a message instead",
  "leave.label": "Leave a message",
  "leave.text": "Leave your email and we'll reply there, so you don't have to wait here.",
  "leave.done": "Thanks — we'll reply by email to {email}.",
  "composer.label": "Message",
  "composer.placeholder": "Write a message…",
  "composer.send": "Send message",
  "composer.emoji": "Insert an emoji",
  "composer.emoji_grid": "Emoji",
  "files.attach": "Attach a file",
  "files.attach_hint": "Attach a file (or drop or paste one)",
  "files.tray": "Files to send",
  "files.drop": "Drop files to send them",
  "files.remove": "Remove {name}",
  "files.pasted": "Pasted image",
  "files.uploading": "Uploading…",
  "files.too_large": "Too large: files can be up to {size}.",
  "files.not_connected": "Not connected yet; try again in a moment.",
  "files.failed_status": "The upload failed (HTTP {status}).",
  "files.failed": "The upload failed. Check your connection and try again.",
  "files.wait": "Wait until your files have uploaded, then send.",
  "files.unloadable": "{name} (could not be loaded)",
  "tick.pending": "Sending",
  "tick.sent": "Sent",
  "tick.delivered": "Delivered",
  "tick.read": "Read",
  "transcript.ask": "Email me this conversation",
  "transcript.send": "Send",
  "transcript.sent": "Sent to {email}.",
  // Errors the visitor may meet (codes from ErrorCode; others fall back to shared/errors.ts).
  "error.generic": "Something went wrong.",
  "error.message_empty": "The message is empty.",
  "error.message_too_long": "The message is too long (5,000 characters at most).",
  "error.invalid_email": "That email address doesn't look right.",
  "error.invalid_name": "That name doesn't look right.",
  "error.frame_too_large": "The message is too large to send.",
  "error.unknown_site_key": "This chat is not set up for this website.",
  "error.not_found": "Not found.",
  "error.rate_limited": "Too many messages at once; retrying shortly.",
  "error.unavailable": "The server is busy; retrying shortly.",
  "error.internal": "Something went wrong on the server.",
  "error.banned": "Sorry, this chat is not available to you.",
  "error.file_too_large": "That file is too large to send.",
  "error.file_type_not_allowed": "That kind of file can't be sent. Try an image, a PDF, a text file or a document.",
} as const;

export type Key = keyof typeof EN;
export type Table = Partial<Record<Key, string>>;

export const TABLES: Record<string, Table> = { en: EN, de: DE, fr: FR, es: ES, pt: PT, ar: AR };
/** Languages written right to left. */
const RTL = ["ar"];

let table: Table = EN;
let lang = "en";

/** The language in use (a key of the tables). */
export function language(): string {
  return lang;
}

/** Picks the table for a BCP 47 tag (`de-AT` → `de`); unknown languages get English. */
export function setLanguage(tag: string | null | undefined): string {
  const base = String(tag || "").toLowerCase().split("-")[0] || "en";
  lang = TABLES[base] ? base : "en";
  table = TABLES[lang]!;
  return lang;
}

/** "rtl" for a language written right to left. */
export function direction(): "rtl" | "ltr" {
  return RTL.includes(lang) ? "rtl" : "ltr";
}

/** The string for `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: Key, vars?: Record<string, string | number>): string {
  const s = table[key] ?? EN[key];
  return vars ? s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m)) : s;
}

/** What an error code means to the visitor, in their language; `fallback` (or the shared
 * English text) for a code without a key here. */
export function errorKey(code: string): Key | null {
  const k = ("error." + code) as Key;
  return k in EN ? k : null;
}

/** Fills the page's marked words in the current language, and sets `lang` and `dir`. */
export function translatePage(root: Document = document) {
  const el = root.documentElement;
  el.lang = lang;
  el.dir = direction();
  const each = (attr: string, set: (e: HTMLElement, s: string) => void) =>
    root.querySelectorAll<HTMLElement>("[" + attr + "]").forEach((e) => set(e, t(e.getAttribute(attr) as Key)));
  each("data-i", (e, s) => (e.textContent = s));
  each("data-ia", (e, s) => e.setAttribute("aria-label", s));
  each("data-ip", (e, s) => e.setAttribute("placeholder", s));
  each("data-it", (e, s) => (e.title = s));
}
