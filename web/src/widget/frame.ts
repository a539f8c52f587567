// The chat frame (/widget/frame.html?site=SITEKEY): the visitor's side of a conversation. The
// key is in the query so the server can send the site's frame-ancestors; an old `#site=` URL
// still works, framed by this server's own pages only.
//
// Plain DOM code over the skeleton in frame.html. Every piece of message data goes into the page
// through textContent or text nodes, never as markup.
//
// Delivery (docs/protocol.md): messages are kept by `seq` (for a visitor, the public sequence) and
// only the next expected one is appended, so the view has no gap and no duplicate; a gap asks for
// a `sync`. Unsent messages sit in a localStorage outbox and are resent with their original
// `client_id` after every reconnect, so the server stores each exactly once.

import { EMOJI, parse, toDom } from "../shared/rich";
import type { Attachment } from "../generated/Attachment";
import type { Availability } from "../generated/Availability";
import type { EndOfChat } from "../generated/EndOfChat";
import type { FieldError } from "../generated/FieldError";
import type { FormField } from "../generated/FormField";
import type { PrechatForm } from "../generated/PrechatForm";
import type { RatingRequest } from "../generated/RatingRequest";
import type { ClientFrame } from "../generated/ClientFrame";
import type { IdentifyRequest } from "../generated/IdentifyRequest";
import type { IdentifyResponse } from "../generated/IdentifyResponse";
import type { Message } from "../generated/Message";
import type { PageContext } from "../generated/PageContext";
import type { Problem } from "../generated/Problem";
import type { QueueStatus } from "../generated/QueueStatus";
import type { ServerFrame } from "../generated/ServerFrame";
import type { VisitorConversation } from "../generated/VisitorConversation";
import type { WidgetSessionRequest } from "../generated/WidgetSessionRequest";
import type { WidgetSessionResponse } from "../generated/WidgetSessionResponse";
import { backoff, MAX_FRAME_BYTES, wsUrl } from "../shared/backoff";
import { errorText as sharedErrorText, isRetryable } from "../shared/errors";
import { carriesFiles, fileSize, filesOf, nameQuery } from "../shared/files";
import { newClientId } from "../shared/ids";
import { splitLinks } from "../shared/text";
import type { ChatLook } from "../generated/ChatLook";
import { errorKey, language, setLanguage, t, translatePage } from "./i18n";

/** A message not acknowledged yet; `files` were uploaded before it was sent. */
/** `g`: the proactive trigger whose greeting this message answers (its first reply only). */
type Outgoing = { client_id: string; text: string; files?: Attachment[]; g?: string };
/** A file picked, dropped or pasted: uploading, ready to go with the next message, or refused. */
type Upload = { el: HTMLElement; file: Attachment | null; state: "uploading" | "ready" | "failed" };
type Pending = Outgoing & { el: HTMLElement; meta: HTMLElement; tries: number };
type Shown = { m: Message; tick: HTMLElement | null };
type Session = WidgetSessionResponse;

const site =
  new URLSearchParams(location.search).get("site") || new URLSearchParams(location.hash.slice(1)).get("site") || "";
const TOKEN_KEY = "fd_token_" + site;
const OUTBOX_KEY = "fd_outbox_" + site;
const SEEN_KEY = "fd_seen_" + site;
const EMAIL_KEY = "fd_email_" + site;
/** Set once the pre-chat form was answered (until a conversation exists, which settles it). */
const FORM_KEY = "fd_form_" + site;
/** The conversation last rated here. */
const RATED_KEY = "fd_rated_" + site;
const TYPING_EVERY_MS = 2000;
/** New text reaches an agent who watches the preview at most this often. */
const PREVIEW_EVERY_MS = 300;
const TYPING_LAPSE_MS = 6000;
const HOUR_MS = 3_600_000;
/** setTimeout's longest delay; a later wake-up just checks again. */
const MAX_DELAY_MS = 2 ** 31 - 1;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const titleEl = $("title");
const dotEl = $("dot");
const presenceEl = $("presence");
const presenceLine = $("presence-line");
const hoursEl = $("hours");
const bannerEl = $("banner");
const scrollEl = $("scroll");
const offlineEl = $("offline");
const offlineText = $("offline-text");
const contactForm = $<HTMLFormElement>("contact");
const emailEl = $<HTMLInputElement>("email");
const contactStatus = $("contact-status");
const msgsEl = $("msgs");
const pendingEl = $("pending");
const typingEl = $("typing");
const queueEl = $("queue-status");
const transcriptRow = $("transcript-row");
const transcriptButton = $<HTMLButtonElement>("transcript");
const transcriptForm = $<HTMLFormElement>("transcript-form");
const transcriptEmail = $<HTMLInputElement>("transcript-email");
const transcriptNote = $("transcript-note");
const queuePosition = $("queue-position");
const queueWait = $("queue-wait");
const leaveButton = $("leave-message");
const leftNote = $("left-note");
const composerError = $("composer-error");
const prechatEl = $<HTMLFormElement>("prechat");
const ratingEl = $("rating");
const composer = $<HTMLFormElement>("composer");
const input = $<HTMLTextAreaElement>("input");
const trayEl = $("tray");
const fileInput = $<HTMLInputElement>("file");
const attachButton = $<HTMLButtonElement>("attach");
const dropEl = $("drop");
const agentsEl = $("agents");
const welcomeEl = $("welcome");
const replyEl = $("reply-time");

const embedded = window.parent !== window;
/** The page that embeds the frame (its frame-ancestors allowed it): the only origin the frame
 * talks to and listens to. Chromium and Safari say it in ancestorOrigins; elsewhere the
 * referrer says it; a page that sends no referrer is taken to be one of this server's own. */
const parentOrigin = ((): string => {
  const a = location.ancestorOrigins;
  if (a && a.length) return a[0]!;
  try {
    return new URL(document.referrer).origin;
  } catch (_) {
    return location.origin;
  }
})();

// --- state ---------------------------------------------------------------------------------
let token: string | null = load(TOKEN_KEY);
/** The contact the token names (the session says). */
let contactId: string | null = null;
let context: PageContext | null = null;
let sessionContextUrl: string | null = null;
let ws: WebSocket | null = null;
/** True between `welcome` and the socket's close. */
let live = false;
let attempt = 0;
let heartbeatMs = 25_000;
let lastFrameAt = 0;
let heartbeatTimer = 0;
let reconnectTimer = 0;
let needSession = true;
let fatal = false;

let convId: string | null = null;
let conv: VisitorConversation | null = null;
const shown = new Map<number, Shown>();
let lastSeq = 0;
/** Highest seq of a message not written by the visitor: what receipts are about. */
let lastOtherSeq = 0;
let syncing = false;
let deliveredSent = 0;
let readSent = 0;
let lastAuthor = "";
/** The highest seq the page was told of (or that was history when the socket opened). */
let heardUpTo = 0;

const pending = new Map<string, Pending>();
let outbox: Outgoing[] = loadJson<Outgoing[]>(OUTBOX_KEY) || [];

let panelOpen = !embedded;
let agentsOnline = false;
let unread = 0;
let seen = loadJson<{ c: string; s: number }>(SEEN_KEY);
let typingSentAt = 0;
let typingTimer = 0;
let previewTimer = 0;
/** The text last sent as a typing preview. */
let previewSent = "";
let contactSaving = false;
/** Outside the site's hours: the chat takes messages to answer by email. */
let closed = false;
let hoursTimer = 0;
let queue: QueueStatus | null = null;
/** Leaving a message instead of waiting: 1 = asked for an email first, 2 = left. */
let leaving: 0 | 1 | 2 = 0;
/** The site's pre-chat form (its department field fed by routing); null when it asks none. */
let form: PrechatForm | null = null;
let endOfChat: EndOfChat = { csat: true, ces: false };
/** The form was answered; messages may go. */
let formDone = load(FORM_KEY) === "1";
let formBusy = false;
/** What the form on screen was built for: the form, and whether as an offline message. */
let formBuilt = "";
/** Set once a message was queued here or a conversation exists: the form is settled. */
let started = outbox.length > 0;
/** Known to have no conversation yet (a new visitor, or the welcome said so). */
let fresh = false;
/** The largest file the server takes (the welcome says; this until then). */
let maxUpload = 10 * 1024 * 1024;
let uploads: Upload[] = [];
/** A proactive trigger's greeting shown at the top of a chat not started yet (from the loader). */
let greeting: { id: string; el: HTMLElement } | null = null;
/** Trigger counts to report once the session has a token. */
let reports: [string, string][] = [];

// --- storage (may be blocked: third-party contexts, privacy modes) ---------------------------
function load(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch (_) {
    return null;
  }
}
function save(key: string, value: string | null) {
  try {
    value === null ? localStorage.removeItem(key) : localStorage.setItem(key, value);
  } catch (_) {
    // Keep working from memory.
  }
}
function loadJson<T>(key: string): T | null {
  try {
    return JSON.parse(load(key) || "null") as T | null;
  } catch (_) {
    return null;
  }
}
const saveOutbox = () => save(OUTBOX_KEY, outbox.length ? JSON.stringify(outbox) : null);

// --- the parent page ---------------------------------------------------------------------
function toParent(m: object) {
  if (embedded) window.parent.postMessage(m, parentOrigin);
}

function visible() {
  return panelOpen && document.visibilityState === "visible";
}

addEventListener("message", (e: MessageEvent) => {
  if (!embedded || e.source !== window.parent || e.origin !== parentOrigin) return;
  const m = e.data as { type?: unknown; context?: unknown; open?: unknown } | null;
  if (!m || typeof m !== "object") return;
  if (m.type === "fd:context" && m.context && typeof m.context === "object") {
    const langBefore = context ? context.language : null;
    context = cleanContext(m.context as Record<string, unknown>);
    applyLanguage(context.language);
    contextArrived();
    // A new page, or a language chosen by `setLanguage`: the agent's visitor panel shows both.
    if (!needSession && (context.url !== sessionContextUrl || context.language !== langBefore)) refreshContextSoon();
  } else if (m.type === "fd:greet") {
    showGreeting((m as { greeting?: unknown }).greeting);
  } else if (m.type === "fd:trigger") {
    const r = m as { id?: unknown; event?: unknown };
    if (typeof r.id === "string" && (r.event === "shown" || r.event === "accepted")) {
      reports.push([r.id, r.event]);
      flushReports();
    }
  } else if (m.type === "fd:visibility") {
    panelOpen = m.open === true;
    if (panelOpen) {
      scrollDown();
      if (matchMedia("(pointer: fine)").matches) input.focus();
    } else {
      stopTyping();
    }
    receipts();
  } else if (m.type === "fd:identify" || m.type === "fd:attributes" || m.type === "fd:track" || m.type === "fd:logout") {
    sdk(m as Record<string, unknown>);
  }
});

/** Whether a conversation is running (not resolved): no greeting may interrupt it. */
function chatting(): boolean {
  return conv ? conv.status !== "resolved" : convId !== null || outbox.length > 0;
}

/** Tells the loader what its triggers need to know. */
function reportState() {
  toParent({ type: "fd:state", online: agentsOnline, chatting: chatting() });
}

/** The loader's greeting, shown as the chat's first message until the visitor replies. */
function showGreeting(g: unknown) {
  if (greeting) greeting.el.remove();
  greeting = null;
  const f = g as { id?: unknown; text?: unknown; from?: { type?: unknown; name?: unknown } } | null;
  if (!f || typeof f.id !== "string" || typeof f.text !== "string" || chatting()) return;
  const item = el("div", "m a");
  item.setAttribute("data-testid", "fd-greeting");
  const name = f.from && f.from.type === "agent" && typeof f.from.name === "string" ? f.from.name : t("trigger.team");
  item.append(el("div", "au", name), bubble(f.text.slice(0, 500)));
  msgsEl.appendChild(item);
  lastAuthor = "";
  greeting = { id: f.id, el: item };
  scrollDown();
}

/** Sends the counts the loader asked for (`POST /widget/trigger`), once there is a token. */
function flushReports() {
  if (!token) return;
  for (const [id, event] of reports.splice(0)) {
    fetch("/api/v1/widget/trigger", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, trigger_id: id, event }),
    }).catch(() => {
      // A count is best effort.
    });
  }
}

function cleanContext(c: Record<string, unknown>): PageContext {
  const s = (v: unknown) => (typeof v === "string" && v ? v.slice(0, 2048) : null);
  return { url: s(c.url), title: s(c.title), referrer: s(c.referrer), language: s(c.language), timezone: s(c.timezone) };
}

let contextArrived = () => {};
function waitForContext(): Promise<void> {
  if (!embedded || context) return Promise.resolve();
  return new Promise((resolve) => {
    contextArrived = resolve;
    setTimeout(resolve, 1000);
  });
}

let contextTimer = 0;
function refreshContextSoon() {
  clearTimeout(contextTimer);
  contextTimer = window.setTimeout(() => {
    startSession().catch(() => {
      // The page trail is best effort; the chat goes on.
    });
  }, 1000);
}

// --- the JS SDK (docs/sdk.md): commands the loader passes on -----------------------------------
/** Commands waiting for a session (the token) to act on. */
const afterSession: (() => void)[] = [];
function whenSession(f: () => void) {
  if (token && !needSession) f();
  else afterSession.push(f);
}

/** Errors the page hears as `Frontdesk('on', 'error', fn)`; the loader logs them too. */
function sdkError(code: string, message: string) {
  toParent({ type: "fd:error", code, message });
}

/** A widget API call with the visitor token; `null` (and an `fd:error`) when it fails. */
async function widgetCall<T>(path: string, body: object): Promise<T | null> {
  try {
    const r = await fetch("/api/v1/widget/" + path, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer " + token },
      body: JSON.stringify(body),
    });
    const j = await r.json().catch(() => ({}));
    if (r.ok) return j as T;
    const p = j as Partial<Problem>;
    sdkError(p.code || "http_" + r.status, p.detail || "");
  } catch (_) {
    sdkError("unavailable", "the request failed");
  }
  return null;
}

const str = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v).slice(0, 1000) : undefined);
const obj = (v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

function sdk(m: Record<string, unknown>) {
  if (m.type === "fd:logout") return logout();
  whenSession(() => {
    if (m.type === "fd:identify") {
      const u = obj(m.user) || {};
      const body = { id: str(u.id) || "", email: str(u.email), name: str(u.name), hash: str(u.hash) } as IdentifyRequest;
      widgetCall<IdentifyResponse>("identify", body).then((r) => {
        if (!r) return;
        const other = r.contact_id !== contactId;
        token = r.token;
        contactId = r.contact_id;
        save(TOKEN_KEY, token);
        if (other) {
          // Now the site's user: their conversations, not the anonymous visitor's.
          forgetVisitor();
          ws && ws.close();
        }
      });
    } else if (m.type === "fd:attributes" && obj(m.attributes)) {
      widgetCall("attributes", { attributes: m.attributes });
    } else if (m.type === "fd:track") {
      widgetCall("events", { name: str(m.name) || "", data: obj(m.data) || undefined });
    }
  });
}

/** What belongs to whoever used this chat before: their conversation, unsent messages, email. */
function forgetVisitor() {
  resetConversation(null);
  for (const p of pending.values()) p.el.remove();
  pending.clear();
  outbox = [];
  saveOutbox();
  save(EMAIL_KEY, null);
  save(SEEN_KEY, null);
  seen = null;
  started = false;
  setUnread(0);
  setQueue(null);
  endLeaving();
  contactForm.hidden = false;
  contactStatus.textContent = "";
}

/** `Frontdesk('logout')`: forget the token; the next chat is a new anonymous visitor. */
function logout() {
  token = null;
  contactId = null;
  save(TOKEN_KEY, null);
  forgetVisitor();
  needSession = true;
  if (ws) ws.close();
  else if (!fatal) connect();
}

/** Speaks `tag`'s language (or English): the page's words, and those shown now. */
function applyLanguage(tag: string | null) {
  const was = language();
  if (setLanguage(tag) === was && document.documentElement.lang === was) return;
  translatePage();
  if (!needSession) agentName(conv ? conv.agent_name : null);
  if (fatal) presenceEl.textContent = t("chat.unavailable");
  if (availability) setHours(availability);
  else offlineView();
  setQueue(queue);
}

function errorText(code: string, fallback?: string): string {
  const k = errorKey(code);
  return k ? t(k) : sharedErrorText(code, fallback);
}

// --- session and socket --------------------------------------------------------------------
/** The session request in flight, and whether another is wanted once it answers. */
let sessionRun: Promise<void> | null = null;
let sessionAgain = false;

/**
 * Starts (or refreshes) the visitor's session, one request at a time: a call while one is in
 * flight runs once more after it, with the token the first one brought. Two requests side by
 * side would make a new visitor into two contacts.
 */
function startSession(): Promise<void> {
  if (sessionRun) {
    sessionAgain = true;
    return sessionRun;
  }
  const run = (async () => {
    try {
      do {
        sessionAgain = false;
        await sessionOnce();
      } while (sessionAgain);
    } finally {
      sessionRun = null;
    }
  })();
  sessionRun = run;
  return run;
}

async function sessionOnce(): Promise<void> {
  const body: WidgetSessionRequest = {
    site_key: site,
    token,
    context: context || { url: null, title: null, referrer: null, language: navigator.language || null, timezone: null },
  };
  const res = await fetch("/api/v1/widget/session", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  if (!res.ok) {
    const p = (await res.json().catch(() => null)) as Problem | null;
    const err = new Error(p ? p.detail : "HTTP " + res.status) as Error & { code?: string | undefined; status?: number };
    err.code = p ? p.code : undefined;
    err.status = res.status;
    throw err;
  }
  const s = (await res.json()) as Session;
  sessionContextUrl = body.context.url;
  titleEl.textContent = s.website_name || s.organization_name || t("chat.title");
  contactId = s.contact_id;
  setPresence(s.agents_online);
  // An older server sends no availability: always open.
  setHours(s.availability || null);
  if (s.new_visitor) fresh = true;
  // An older server sends no look: the defaults stay.
  if (s.look) applyLook(s.look);
  // An older server sends no form: nothing to ask.
  if (s.end_of_chat) endOfChat = s.end_of_chat;
  setForm(s.prechat || null);
  const changed = s.token !== token;
  token = s.token;
  save(TOKEN_KEY, token);
  needSession = false;
  flushReports();
  for (const f of afterSession.splice(0)) f();
  // A new visitor means a new identity: the open socket (if any) belongs to the old one.
  if (changed && ws) ws.close();
}

async function connect() {
  clearTimeout(reconnectTimer);
  if (fatal) return;
  if (needSession) {
    try {
      await startSession();
    } catch (e) {
      const err = e as { code?: string; message?: string; status?: number };
      if (err.code === "unknown_site_key" || (err.status && err.status >= 400 && err.status < 500 && err.status !== 429)) {
        fatal = true;
        banner(errorText(err.code || "", err.message) + (err.code ? " (" + err.code + ")" : ""), true);
        presenceEl.textContent = t("chat.unavailable");
        // Let the loader show its launcher now, so the visitor can read why.
        toParent({ type: "fd:hours", hide: false, until: 0 });
        return;
      }
      scheduleReconnect();
      return;
    }
  }
  const sock = new WebSocket(wsUrl("/ws/visitor"));
  ws = sock;
  sock.onopen = () => {
    lastFrameAt = Date.now();
    send({ type: "hello", v: 1, token });
    clearInterval(heartbeatTimer);
    heartbeatTimer = window.setInterval(heartbeat, 5000);
  };
  sock.onmessage = (e: MessageEvent) => {
    if (sock !== ws) return;
    lastFrameAt = Date.now();
    let f: ServerFrame;
    try {
      f = JSON.parse(String(e.data)) as ServerFrame;
    } catch (_) {
      return;
    }
    onFrame(f);
  };
  sock.onclose = () => {
    if (sock !== ws) return;
    ws = null;
    live = false;
    syncing = false;
    clearInterval(heartbeatTimer);
    scheduleReconnect();
  };
}

function scheduleReconnect() {
  if (fatal) return;
  banner(t("chat.reconnecting"));
  clearTimeout(reconnectTimer);
  reconnectTimer = window.setTimeout(connect, backoff(attempt++));
}

let lastPingAt = 0;
function heartbeat() {
  const now = Date.now();
  if (now - lastFrameAt > 2 * heartbeatMs) {
    // Nothing heard for two intervals: the connection is dead even if the browser has not noticed.
    ws && ws.close();
    return;
  }
  if (live && now - lastPingAt >= heartbeatMs) {
    lastPingAt = now;
    send({ type: "ping" });
  }
}

addEventListener("online", () => {
  if (!ws && !fatal) {
    attempt = 0;
    connect();
  }
});

function send(f: ClientFrame): boolean {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(f));
  return true;
}

function onFrame(f: ServerFrame) {
  switch (f.type) {
    case "welcome":
      live = true;
      attempt = 0;
      heartbeatMs = f.heartbeat_ms > 0 ? f.heartbeat_ms : 25_000;
      if (f.max_upload_bytes > 0) maxUpload = f.max_upload_bytes;
      lastPingAt = Date.now();
      banner(null);
      setPresence(f.agents_online);
      if (f.conversation) {
        useConversation(f.conversation.id);
        // What was there before this socket is history, not news for the page.
        heardUpTo = Math.max(heardUpTo, f.conversation.last_public_seq);
        setConversation(f.conversation);
        sync();
      } else {
        fresh = true;
        formView();
      }
      for (const o of outbox) transmit(o);
      break;
    case "message":
      accept(f.message, true);
      receipts();
      break;
    case "ack": {
      dropFromOutbox(f.client_id);
      const m = f.message;
      useConversation(m.conversation_id);
      const p = pending.get(f.client_id);
      if (!accept(m, false) && p && m.seq > lastSeq) {
        // Stored, but earlier messages are still on their way: show it as sent meanwhile.
        p.el.classList.remove("pend");
        setTick(p.meta, "sent");
      }
      break;
    }
    case "synced":
      if (f.conversation_id === convId) syncing = false;
      receipts();
      break;
    case "visitor_conversation":
      useConversation(f.conversation.id);
      setConversation(f.conversation);
      break;
    case "queue":
      setQueue(f.status);
      break;
    case "typing":
      if (f.side === "agent" && f.conversation_id === convId) showTyping(f.typing ? f.name : null);
      break;
    case "presence":
      setPresence(f.agents_online);
      break;
    case "error":
      onError(f.code, f.message, f.client_id);
      break;
    case "open_widget":
      // An agent started a chat: ask the loader to open the panel (the message comes as usual).
      useConversation(f.conversation_id);
      toParent({ type: "fd:open" });
      break;
    case "conversation":
    case "notice":
    case "agent_status":
    case "pong":
      break;
  }
}

function onError(code: string, message: string, clientId: string | null) {
  if (clientId) {
    const p = pending.get(clientId);
    if (isRetryable(code)) {
      // Kept in the outbox; try again with the same client_id, later each time.
      const tries = p ? ++p.tries : 1;
      setTimeout(() => {
        const o = outbox.find((x) => x.client_id === clientId);
        if (o) transmit(o);
      }, Math.min(30_000, 1000 * 2 ** tries));
      return;
    }
    dropFromOutbox(clientId);
    if (p) failPending(p, code, message);
    return;
  }
  if (code === "banned") {
    // Refused for good: say so politely and stop trying (no reconnects, no load).
    fatal = true;
    clearTimeout(reconnectTimer);
    banner(errorText(code, message), true);
    setQueue(null);
    dotEl.className = "dot";
    presenceEl.textContent = t("chat.unavailable");
    input.disabled = true;
    attachButton.disabled = true;
    $<HTMLButtonElement>("send").disabled = true;
    ws && ws.close();
    return;
  }
  if (code === "invalid_visitor_token" || code === "visitor_token_expired") {
    // Start over as a new visitor; the server closes this socket.
    token = null;
    save(TOKEN_KEY, null);
    needSession = true;
    ws && ws.close();
    return;
  }
  if (contactSaving && (code === "invalid_email" || code === "invalid_name" || code === "invalid_frame")) {
    contactSaving = false;
    save(EMAIL_KEY, null);
    if (leaving) {
      // The message is left already; it only needs an address that works.
      leaving = 1;
      leftNote.hidden = true;
      offlineView();
    }
    contactForm.hidden = false;
    contactStatus.className = "cs err";
    contactStatus.textContent = errorText(code, message) + " (" + code + ")";
    return;
  }
  if (code === "not_found" && convId) {
    // Our conversation is gone (or not ours): forget it and let the next send start a new one.
    resetConversation(null);
  }
  composerError.hidden = false;
  composerError.textContent = errorText(code, message) + " (" + code + ")";
}

// --- conversation and messages --------------------------------------------------------------
function useConversation(id: string) {
  if (convId !== id) resetConversation(id);
}

function resetConversation(id: string | null) {
  const had = convId !== null;
  convId = id;
  conv = null;
  transcriptRow.hidden = id === null;
  if (id) {
    started = true;
    formView();
  }
  ratingView();
  shown.clear();
  msgsEl.textContent = "";
  lastSeq = lastOtherSeq = deliveredSent = heardUpTo = 0;
  readSent = seen && seen.c === id ? seen.s : 0;
  lastAuthor = "";
  syncing = false;
  reportState();
  if (had) {
    setQueue(null);
    endLeaving();
  }
  // A conversation we did not know yet, after one we did: fetch its history.
  if (had && id) sync();
}

function sync() {
  if (!convId || !live || syncing) return;
  syncing = send({ type: "sync", conversation_id: convId, after_seq: lastSeq });
}

function setConversation(c: VisitorConversation) {
  conv = c;
  reportState();
  agentName(c.agent_name);
  if (c.status !== "open") {
    // Someone took it (or it is over): no more waiting in line, and no email reply to announce.
    setQueue(null);
    endLeaving();
  }
  for (const [seq, s] of shown) {
    if (s.tick) setTick(s.tick, c.agent_read_seq >= seq ? "read" : c.agent_delivered_seq >= seq ? "delivered" : "sent");
  }
  if (c.last_public_seq > lastSeq) sync();
  ratingView();
}

/**
 * Keeps `m` if it is the next message expected; returns whether it is now shown (true as well
 * for one already shown). A gap asks the server for the missing messages.
 */
function accept(m: Message, fromFrame: boolean): boolean {
  if (m.kind === "note") return false;
  if (convId === null) useConversation(m.conversation_id);
  if (m.conversation_id !== convId) {
    if (!fromFrame) return false;
    useConversation(m.conversation_id);
  }
  if (m.seq <= lastSeq) {
    if (m.client_id) removePending(m.client_id);
    return true;
  }
  if (m.seq !== lastSeq + 1) {
    sync();
    return false;
  }
  const stick = nearBottom();
  lastSeq = m.seq;
  const tick = render(m);
  shown.set(m.seq, { m, tick });
  if (m.client_id) removePending(m.client_id);
  if (m.kind !== "visitor") {
    lastOtherSeq = m.seq;
    if (m.kind === "agent") {
      showTyping(null);
      // New, not history: the page's `Frontdesk('on', 'message', fn)` hears it.
      if (m.seq > heardUpTo) {
        heardUpTo = m.seq;
        toParent({ type: "fd:message", message: { text: m.text, author: m.author_name, conversation_id: m.conversation_id, at: m.created_at } });
      }
      if (!visible() && (!seen || seen.c !== convId || m.seq > seen.s)) setUnread(unread + 1);
    }
  }
  if (stick || m.kind === "visitor") scrollDown();
  return true;
}

function render(m: Message): HTMLElement | null {
  // A proactive greeting is stored as a system message named after its agent (or the team).
  const greeted = m.kind === "system" && !!m.author_name;
  if (greeted && greeting) {
    greeting.el.remove();
    greeting = null;
  }
  const kind = m.kind === "visitor" ? "v" : m.kind === "system" && !greeted ? "s" : "a";
  const item = el("div", "m " + kind);
  item.setAttribute("data-testid", "fd-message");
  item.setAttribute("data-kind", m.kind);
  item.setAttribute("data-seq", String(m.seq));
  const author = m.kind === "agent" || greeted ? m.author_name || t("chat.agent") : "";
  if (author && author !== lastAuthor) item.appendChild(el("div", "au", author));
  lastAuthor = m.kind === "system" && !greeted ? "" : author || "\u0000visitor";
  if (m.text || !m.attachments.length) item.appendChild(m.kind === "agent" ? richBubble(m.text) : bubble(m.text));
  if (m.attachments.length) item.appendChild(filesEl(m.attachments));
  let tick: HTMLElement | null = null;
  if (m.kind !== "system") {
    const meta = el("div", "mt");
    const time = el("time", "", clock(m.created_at));
    time.setAttribute("datetime", new Date(m.created_at).toISOString());
    meta.appendChild(time);
    if (m.kind === "visitor") {
      tick = el("span", "tk");
      const c = conv;
      setTick(tick, c && c.agent_read_seq >= m.seq ? "read" : c && c.agent_delivered_seq >= m.seq ? "delivered" : "sent");
      meta.appendChild(tick);
    }
    item.appendChild(meta);
  }
  msgsEl.appendChild(item);
  return tick;
}

/** An agent's message: their bit of Markdown, built as elements and text nodes. */
function richBubble(text: string): HTMLElement {
  const b = el("div", "bu rich");
  b.appendChild(toDom(parse(text, true)));
  return b;
}

function bubble(text: string): HTMLElement {
  const b = el("div", "bu");
  for (const run of splitLinks(text)) {
    if (run.href) {
      const a = el("a", "", run.text) as HTMLAnchorElement;
      a.href = run.href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      b.appendChild(a);
    } else {
      b.appendChild(document.createTextNode(run.text));
    }
  }
  return b;
}

// --- files ----------------------------------------------------------------------------------------
/** A message's files: images as thumbnails, others as a chip with name and size. The bytes are
 * fetched with the visitor's token (a download needs it) and shown from a blob: URL. */
function filesEl(list: Attachment[]): HTMLElement {
  const box = el("div", "fs");
  for (const a of list) {
    const link = el("a", a.image ? "fi" : "fc") as HTMLAnchorElement;
    link.href = "#";
    link.setAttribute("data-testid", "fd-file");
    link.setAttribute("data-name", a.name);
    link.title = a.name + " (" + fileSize(a.size) + ")";
    if (a.image) {
      const img = el("img", "") as HTMLImageElement;
      img.alt = a.name;
      link.appendChild(img);
      link.target = "_blank";
      link.rel = "noopener";
      fileUrl(a).then(
        (u) => {
          img.src = u;
          link.href = u;
          if (nearBottom()) img.addEventListener("load", scrollDown, { once: true });
        },
        () => (img.alt = t("files.unloadable", { name: a.name })),
      );
    } else {
      link.download = a.name;
      link.append(el("span", "fn", a.name), el("span", "fz", fileSize(a.size)));
    }
    link.addEventListener("click", (e) => {
      if (link.href.startsWith("blob:")) return;
      e.preventDefault();
      fileUrl(a).then((u) => {
        link.href = u;
        link.click();
      });
    });
    box.appendChild(link);
  }
  return box;
}

const blobUrls = new Map<string, Promise<string>>();
function fileUrl(a: Attachment): Promise<string> {
  let p = blobUrls.get(a.id);
  if (!p) {
    p = fetch(a.url, { headers: { authorization: "Bearer " + token } })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error("HTTP " + r.status))))
      .then((b) => URL.createObjectURL(b));
    // A failed fetch is tried again the next time the file is wanted.
    p.catch(() => blobUrls.delete(a.id));
    blobUrls.set(a.id, p);
  }
  return p;
}

/** Uploads files the visitor picked, dropped or pasted; each shows in the tray above the box. */
function addFiles(files: File[]) {
  if (fatal) return;
  for (const f of files) {
    const chip = el("div", "up");
    chip.setAttribute("data-testid", "fd-upload");
    const u: Upload = { el: chip, file: null, state: "uploading" };
    const remove = el("button", "", "\u00d7") as HTMLButtonElement;
    remove.type = "button";
    remove.setAttribute("aria-label", t("files.remove", { name: f.name || t("files.pasted") }));
    remove.addEventListener("click", () => {
      uploads = uploads.filter((x) => x !== u);
      chip.remove();
      trayView();
      input.focus();
    });
    chip.append(el("span", "fn", f.name || t("files.pasted")), el("span", "fz", t("files.uploading")), remove);
    uploads.push(u);
    trayEl.appendChild(chip);
    if (f.size > maxUpload) {
      uploadDone(u, null, t("files.too_large", { size: fileSize(maxUpload) }));
    } else if (!token) {
      uploadDone(u, null, t("files.not_connected"));
    } else {
      fetch("/api/v1/widget/attachments" + nameQuery(f), { method: "POST", headers: { authorization: "Bearer " + token }, body: f })
        .then(async (r) => {
          const body = await r.json().catch(() => null);
          if (r.ok) return uploadDone(u, body as Attachment, "");
          const p = body as Problem | null;
          uploadDone(u, null, p ? errorText(p.code, p.detail) : t("files.failed_status", { status: r.status }));
        })
        .catch(() => uploadDone(u, null, t("files.failed")));
    }
  }
  trayView();
}

function uploadDone(u: Upload, file: Attachment | null, error: string) {
  u.file = file;
  u.state = file ? "ready" : "failed";
  u.el.setAttribute("data-state", u.state);
  u.el.className = file ? "up" : "up fail";
  const note = u.el.querySelector(".fz") as HTMLElement;
  note.textContent = file ? fileSize(file.size) : error;
  if (!file) note.setAttribute("role", "alert");
  if (file && composerError.textContent === t("files.wait")) composerError.hidden = true;
}

function trayView() {
  trayEl.hidden = uploads.length === 0;
}


attachButton.addEventListener("click", () => fileInput.click());
fileInput.addEventListener("change", () => {
  addFiles(Array.from(fileInput.files || []));
  fileInput.value = "";
  input.focus();
});
input.addEventListener("paste", (e: ClipboardEvent) => {
  const files = filesOf(e.clipboardData);
  if (!files.length) return;
  e.preventDefault();
  addFiles(files);
});
// Files dragged over the chat: an overlay says where they go; dropped, they upload.
let dragDepth = 0;
document.addEventListener("dragenter", (e) => {
  if (!carriesFiles(e.dataTransfer) || fatal) return;
  dragDepth++;
  dropEl.hidden = false;
});
document.addEventListener("dragover", (e) => {
  if (carriesFiles(e.dataTransfer)) e.preventDefault();
});
document.addEventListener("dragleave", () => {
  if (dragDepth > 0 && --dragDepth === 0) dropEl.hidden = true;
});
document.addEventListener("drop", (e) => {
  if (!carriesFiles(e.dataTransfer)) return;
  e.preventDefault();
  dragDepth = 0;
  dropEl.hidden = true;
  addFiles(filesOf(e.dataTransfer));
  input.focus();
});

type TickState = "pending" | "sent" | "delivered" | "read";
function setTick(tick: HTMLElement, state: TickState) {
  let target = tick;
  if (!tick.classList.contains("tk")) {
    // `tick` is a message's meta line: find or add its tick.
    target = (tick.querySelector(".tk") as HTMLElement | null) || tick.appendChild(el("span", "tk"));
  }
  if (target.getAttribute("data-state") === state) return;
  target.setAttribute("data-state", state);
  target.setAttribute("role", "img");
  const label = t(("tick." + state) as "tick.sent");
  target.setAttribute("aria-label", label);
  target.title = label;
  target.className = state === "read" ? "tk rd" : "tk";
  target.textContent = state === "sent" ? "\u2713" : state === "pending" ? "" : "\u2713\u2713";
  if (state === "pending") target.appendChild(clockIcon());
}

function clockIcon(): SVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "12");
  svg.setAttribute("height", "12");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "2.5");
  svg.setAttribute("stroke-linecap", "round");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M12 7v5l3 2M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0z");
  svg.appendChild(path);
  return svg;
}

// --- sending --------------------------------------------------------------------------------
/** Sends the composer's text; false when it moved the focus elsewhere (to the pre-chat form). */
function submit(): boolean {
  const text = input.value.trim();
  const ready = uploads.filter((u) => u.state === "ready");
  if (!text && !ready.length) return true;
  if (uploads.some((u) => u.state === "uploading")) {
    composerError.hidden = false;
    composerError.textContent = t("files.wait");
    return true;
  }
  if (needsForm()) {
    // The text stays in the box; the form goes first, then this message.
    sendForm(true);
    return false;
  }
  composerError.hidden = true;
  const o: Outgoing = { client_id: newClientId(), text };
  // The first reply to a greeting names it: the server stores the greeting ahead of it.
  if (greeting && !chatting()) o.g = greeting.id;
  if (ready.length) {
    o.files = ready.map((u) => u.file as Attachment);
    for (const u of ready) u.el.remove();
    uploads = uploads.filter((u) => u.state !== "ready");
    trayView();
  }
  input.value = "";
  autosize();
  stopTyping();
  const p = addPending(o);
  if (new TextEncoder().encode(frameFor(o)).length > MAX_FRAME_BYTES) {
    // The server would close the socket over a frame this big; refuse it here instead.
    failPending(p, "message_too_long", "");
    return true;
  }
  outbox.push(o);
  saveOutbox();
  reportState();
  started = true;
  formView();
  transmit(o);
  scrollDown();
  return true;
}

function frameFor(o: Outgoing): string {
  const f: ClientFrame = {
    type: "send",
    client_id: o.client_id,
    conversation_id: convId,
    text: o.text,
    note: false,
    attachments: (o.files || []).map((a) => a.id),
  };
  if (o.g) f.greeting = o.g;
  return JSON.stringify(f);
}

function transmit(o: Outgoing) {
  if (!live || !ws || ws.readyState !== WebSocket.OPEN) return;
  ws.send(frameFor(o));
}

function addPending(o: Outgoing): Pending {
  const item = el("div", "m v pend");
  item.setAttribute("data-testid", "fd-message");
  item.setAttribute("data-kind", "visitor");
  item.setAttribute("data-pending", "true");
  if (o.text) item.appendChild(bubble(o.text));
  if (o.files && o.files.length) {
    // Names only while it is on its way; the thumbnails come with the stored message.
    const box = el("div", "fs");
    for (const a of o.files) box.appendChild(el("span", "fc", a.name));
    item.appendChild(box);
  }
  const meta = el("div", "mt");
  item.appendChild(meta);
  setTick(meta, "pending");
  pendingEl.appendChild(item);
  const p: Pending = { ...o, el: item, meta, tries: 0 };
  pending.set(o.client_id, p);
  return p;
}

function failPending(p: Pending, code: string, message: string) {
  p.el.classList.remove("pend");
  p.el.classList.add("fail");
  p.el.removeAttribute("data-pending");
  p.el.setAttribute("data-error", code);
  const t = p.meta.querySelector(".tk");
  if (t) t.remove();
  const e = el("div", "er", errorText(code, message) + " ");
  e.setAttribute("role", "alert");
  e.appendChild(el("code", "", code));
  p.el.appendChild(e);
  pending.delete(p.client_id);
}

function removePending(clientId: string) {
  const p = pending.get(clientId);
  if (p) {
    p.el.remove();
    pending.delete(clientId);
  }
  dropFromOutbox(clientId);
}

function dropFromOutbox(clientId: string) {
  const n = outbox.length;
  outbox = outbox.filter((o) => o.client_id !== clientId);
  if (outbox.length !== n) saveOutbox();
}

// --- typing, receipts, unread ----------------------------------------------------------------
function stopTyping() {
  clearTimeout(previewTimer);
  if (typingSentAt && convId) send({ type: "typing", conversation_id: convId, typing: false, preview: null });
  typingSentAt = 0;
  previewSent = "";
}

function showTyping(name: string | null) {
  clearTimeout(typingTimer);
  typingEl.textContent = name === null ? "" : t("chat.typing", { name: name || t("chat.agent") });
  if (name !== null) typingTimer = window.setTimeout(() => showTyping(null), TYPING_LAPSE_MS);
}

let receiptsTimer = 0;
function receipts() {
  clearTimeout(receiptsTimer);
  receiptsTimer = window.setTimeout(() => {
    if (!convId || !live) return;
    if (lastOtherSeq > deliveredSent) {
      deliveredSent = lastSeq;
      send({ type: "delivered", conversation_id: convId, public_seq: lastSeq });
    }
    if (visible()) {
      if (lastOtherSeq > readSent) {
        readSent = lastSeq;
        send({ type: "read", conversation_id: convId, public_seq: lastSeq });
      }
      seen = { c: convId, s: lastSeq };
      save(SEEN_KEY, JSON.stringify(seen));
      setUnread(0);
    }
  }, 150);
}
document.addEventListener("visibilitychange", receipts);

function setUnread(n: number) {
  if (n === unread) return;
  unread = n;
  toParent({ type: "fd:unread", count: n });
}

// --- presence, banners -------------------------------------------------------------------------
function setPresence(online: boolean) {
  agentsOnline = online;
  reportState();
  dotEl.className = online ? "dot on" : "dot";
  agentName(conv ? conv.agent_name : null);
  offlineView();
}

/**
 * The email form: shown while nobody can answer live (no agent online, or outside the hours),
 * and when a waiting visitor chooses to leave a message instead.
 */
function offlineView() {
  offlineEl.hidden = agentsOnline && !closed && leaving !== 1;
  // The pre-chat form asks the email itself while it is on screen.
  formView();
  if (leaving === 1) return;
  offlineEl.setAttribute("aria-label", t("offline.label"));
  // While closed the header already says we're away, and until when.
  offlineText.textContent =
    (closed ? "" : t("offline.away") + " ") + t("offline.leave");
}

// --- operating hours ---------------------------------------------------------------------------
let availability: Availability | null = null;
function setHours(a: Availability | null) {
  availability = a;
  const now = Date.now();
  closed = !!a && !a.open;
  const hides = !!a && a.when_closed === "hide";
  const back = a && a.next_open_at;
  presenceLine.hidden = closed;
  hoursEl.hidden = !closed;
  // "back Monday 09:00" wraps as one piece.
  hoursEl.textContent = closed ? t("hours.away") + (back ? " · " + t("hours.back", { when: when(back) }).replace(/ /g, "\u00a0") : "") : "";
  offlineView();
  // The loader shows its launcher by this, and remembers the answer while it cannot change: until
  // opening time for a site hidden while closed, a day for a site that never hides, not at all
  // for an open site that hides when it closes.
  const reopen = back || now + HOUR_MS;
  toParent({ type: "fd:hours", hide: closed && hides, until: !hides ? now + 24 * HOUR_MS : closed ? reopen : 0 });
  clearTimeout(hoursTimer);
  if (closed) {
    // Opens by itself at opening time, without a reload.
    const delay = Math.min(MAX_DELAY_MS, Math.max(60_000, reopen - now + 1000));
    hoursTimer = window.setTimeout(() => startSession().catch(() => {}), delay);
  }
}

/** "at 17:00", "tomorrow 09:00", "Monday 09:00": in the visitor's own locale and time zone. */
function when(ms: number): string {
  const d = new Date(ms);
  const fmt = (o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat(language(), o).format(d);
  const time = fmt({ hour: "2-digit", minute: "2-digit" });
  const midnight = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  // Rounded: a day across a daylight-saving change is 23 or 25 hours long.
  const days = Math.round((midnight(d) - midnight(new Date())) / (24 * HOUR_MS));
  if (days < 1) return t("hours.at", { time });
  if (days === 1) return t("hours.tomorrow", { time });
  // A week or more ahead (holidays), the weekday alone would point at the wrong one.
  return fmt(days < 7 ? { weekday: "long" } : { weekday: "short", day: "numeric", month: "short" }) + " " + time;
}

// --- waiting in line ---------------------------------------------------------------------------
function setQueue(q: QueueStatus | null) {
  if (q && (leaving === 2 || (convId !== null && q.conversation_id !== convId))) return;
  queue = q;
  queueEl.hidden = !q;
  if (!q) return;
  // Unchanged text is left alone, so screen readers announce only real changes.
  text(queuePosition, q.position <= 1 ? t("queue.next") : t("queue.position", { n: q.position }));
  text(queueWait, q.estimated_wait_ms === null ? "" : " · " + waitText(q.estimated_wait_ms));
  leaveButton.hidden = !q.offer_offline;
}

function waitText(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (min < 1) return t("queue.less_than_minute");
  if (min < 60) return t("queue.minutes", { n: min });
  return min < 90 ? t("queue.hour") : t("queue.hours", { n: Math.round(min / 60) });
}

function askToLeave() {
  const email = load(EMAIL_KEY);
  if (email) {
    leave(email);
    return;
  }
  leaving = 1;
  offlineEl.setAttribute("aria-label", t("leave.label"));
  offlineText.textContent = t("leave.text");
  contactForm.hidden = false;
  contactStatus.textContent = "";
  // At the end of the conversation, where the visitor is looking.
  scrollEl.appendChild(offlineEl);
  offlineView();
  scrollDown();
  emailEl.focus();
}

let leftConv: string | null = null;
/** Stops waiting: the conversation becomes an offline message, answered at `email`. */
function leave(email: string) {
  const id = queue ? queue.conversation_id : convId;
  if (id && leftConv !== id) {
    if (!send({ type: "leave_message", conversation_id: id })) {
      composerError.hidden = false;
      composerError.textContent = t("chat.not_connected");
      return;
    }
    leftConv = id;
  }
  leaving = 2;
  setQueue(null);
  offlineView();
  leftNote.hidden = false;
  leftNote.textContent = t("leave.done", { email });
  // The button or form the visitor used is gone: keep focus in the chat, on the composer.
  input.focus();
}

function endLeaving() {
  leaving = 0;
  leftNote.hidden = true;
  offlineView();
}

/** Once an email is saved the notice stays (while away) but says where the reply will go. */
function showSavedEmail(email: string) {
  contactForm.hidden = true;
  contactStatus.className = "cs";
  contactStatus.textContent = t("offline.saved", { email });
}

function agentName(name: string | null) {
  presenceEl.textContent = (name ? name + " · " : "") + (agentsOnline ? t("chat.online") : t("chat.away"));
}

// --- the pre-chat form (also the offline message's form) --------------------------------------------
function needsForm(): boolean {
  return form !== null && !formDone && !started && convId === null;
}

/** Nobody can answer live: the form is an offline message's, with the email required. */
function isOffline(): boolean {
  return !agentsOnline || closed;
}

function setForm(f: PrechatForm | null) {
  form = f && f.fields.length ? f : null;
  formView();
}

/** The fields as asked now: offline, the email is required (and asked first if missing). */
function askedFields(offline: boolean): FormField[] {
  const fields = (form ? form.fields : []).map((f) => ({ ...f, required: f.required || (offline && f.kind === "email") }));
  if (offline && !fields.some((f) => f.kind === "email")) {
    fields.unshift({ key: "email", kind: "email", label: t("form.offline_email"), required: true, options: [] });
  }
  return fields;
}

/** Shown while the first message still needs it, once it is known that none was started. */
function formView() {
  const show = needsForm() && fresh;
  contactForm.hidden = needsForm() || !!load(EMAIL_KEY);
  if (show) {
    const offline = isOffline();
    const key = JSON.stringify([form, offline]);
    if (key !== formBuilt) buildForm(offline);
    formBuilt = key;
  } else if (prechatEl.contains(document.activeElement)) {
    input.focus();
  }
  prechatEl.hidden = !show;
}

type Control = HTMLInputElement | HTMLSelectElement;
const controls = new Map<string, { f: FormField; c: Control; err: HTMLElement }>();

function buildForm(offline: boolean) {
  // Values typed so far survive a rebuild (the chat went offline meanwhile, say).
  const kept = new Map<string, string | boolean>();
  for (const [k, x] of controls) kept.set(k, x.c instanceof HTMLInputElement && x.c.type === "checkbox" ? x.c.checked : x.c.value);
  controls.clear();
  prechatEl.textContent = "";
  prechatEl.setAttribute("aria-labelledby", "pc-title");
  const h = el("h2", "", t(offline ? "form.offline_title" : "form.title"));
  h.id = "pc-title";
  prechatEl.appendChild(h);
  for (const f of askedFields(offline)) {
    const id = "pc-" + f.key;
    const box = el("div", "ff");
    const err = el("p", "fe");
    err.id = id + "-e";
    err.hidden = true;
    let c: Control;
    if (f.kind === "checkbox") {
      c = document.createElement("input");
      c.type = "checkbox";
      const lab = el("label", "ck");
      lab.appendChild(c);
      lab.appendChild(el("span", "", f.label + (f.required ? " *" : "")));
      box.appendChild(lab);
    } else {
      const lab = el("label", "", f.label + (f.required ? " *" : ""));
      lab.setAttribute("for", id);
      box.appendChild(lab);
      if (f.kind === "select" || f.kind === "department") {
        const s = document.createElement("select");
        const none = el("option", "", t("form.choose")) as HTMLOptionElement;
        none.value = "";
        s.appendChild(none);
        for (const o of f.options) {
          // Every option is a text node.
          const opt = el("option", "", o) as HTMLOptionElement;
          opt.value = o;
          s.appendChild(opt);
        }
        c = s;
      } else {
        const i = document.createElement("input");
        const kind = { name: ["text", "name", 200], email: ["email", "email", 254], phone: ["tel", "tel", 32], number: ["text", "off", 32], text: ["text", "off", 500] }[f.kind];
        i.type = String(kind[0]);
        i.autocomplete = String(kind[1]) as AutoFill;
        i.maxLength = Number(kind[2]);
        if (f.kind === "number") i.inputMode = "decimal";
        c = i;
      }
      box.appendChild(c);
    }
    c.id = id;
    c.name = f.key;
    c.setAttribute("data-testid", f.kind === "department" ? "fd-department" : "fd-field-" + f.key);
    if (f.required) c.setAttribute("aria-required", "true");
    const v = kept.get(f.key);
    if (typeof v === "boolean" && c instanceof HTMLInputElement) c.checked = v;
    else if (typeof v === "string") c.value = v;
    c.addEventListener("change", () => fieldError(f.key, null));
    box.appendChild(err);
    prechatEl.appendChild(box);
    controls.set(f.key, { f, c, err });
  }
  const general = el("p", "fe");
  general.id = "pc-error";
  general.setAttribute("role", "alert");
  general.hidden = true;
  prechatEl.appendChild(general);
  const b = el("button", "pb", t(offline ? "form.continue" : "form.start")) as HTMLButtonElement;
  b.type = "submit";
  b.setAttribute("data-testid", "fd-prechat-submit");
  prechatEl.appendChild(b);
}

function fieldError(key: string, text: string | null) {
  const x = controls.get(key);
  if (!x) return;
  x.err.hidden = text === null;
  x.err.textContent = text || "";
  if (text === null) {
    x.c.removeAttribute("aria-invalid");
    x.c.removeAttribute("aria-describedby");
  } else {
    x.c.setAttribute("aria-invalid", "true");
    x.c.setAttribute("aria-describedby", x.err.id);
  }
}

function formError(text: string | null) {
  const g = $("pc-error");
  if (!g) return;
  g.hidden = text === null;
  g.textContent = text || "";
}

/** Checks what is required, sends the answers, and then (`thenSend`) the composer's message. */
async function sendForm(thenSend: boolean) {
  if (!form || formBusy) return;
  formView();
  const answers: Record<string, string | boolean | null> = {};
  let first: Control | null = null;
  for (const [key, { f, c }] of controls) {
    const v = c instanceof HTMLInputElement && c.type === "checkbox" ? c.checked : c.value.trim();
    answers[key] = v === "" || v === false ? null : v;
    const missing = f.required && answers[key] === null;
    fieldError(key, missing ? t("form.required") : null);
    if (missing && !first) first = c;
  }
  formError(null);
  if (first) {
    first.focus();
    return;
  }
  formBusy = true;
  const button = prechatEl.querySelector("button");
  if (button) button.disabled = true;
  try {
    const res = await fetch("/api/v1/widget/prechat", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer " + token },
      body: JSON.stringify({ answers, offline: isOffline() }),
    });
    if (res.ok) {
      formDone = true;
      save(FORM_KEY, "1");
      const email = answers.email;
      if (typeof email === "string") {
        save(EMAIL_KEY, email);
        showSavedEmail(email);
      }
      formView();
      if (thenSend) submit();
      else input.focus();
    } else {
      const p = (await res.json().catch(() => null)) as (Problem & { fields?: FieldError[] }) | null;
      const fields = (p && p.fields) || [];
      for (const e of fields) fieldError(e.key, e.message);
      const bad = fields.map((e) => controls.get(e.key)).find((x) => x);
      if (bad) bad.c.focus();
      else formError(p ? errorText(p.code, p.detail) + " (" + p.code + ")" : "HTTP " + res.status);
    }
  } catch (_) {
    formError(t("form.not_connected"));
  }
  formBusy = false;
  if (button) button.disabled = false;
}

prechatEl.addEventListener("submit", (e) => {
  e.preventDefault();
  sendForm(input.value.trim() !== "");
});

// --- end of chat: the rating card ---------------------------------------------------------------------
let ratingFor: string | null = null;
let csat = 0;
let ces = 0;

function ratingView() {
  const show = conv !== null && conv.id === convId && conv.status === "resolved" && endOfChat.csat;
  if (show && ratingFor !== convId) buildRating();
  const appears = show && ratingEl.hidden;
  ratingEl.hidden = !show;
  if (appears) scrollDown();
}

function scoreGroup(labelId: string, cls: string, testid: string, mark: (n: number) => string, pick: (n: number) => void): HTMLElement {
  const g = el("div", cls);
  g.setAttribute("role", "group");
  g.setAttribute("aria-labelledby", labelId);
  for (let n = 1; n <= 5; n++) {
    const b = el("button", "", mark(n)) as HTMLButtonElement;
    b.type = "button";
    b.setAttribute("aria-label", t("rating.star", { n }));
    b.setAttribute("aria-pressed", "false");
    b.setAttribute("data-testid", testid + n);
    b.addEventListener("click", () => {
      pick(n);
      Array.from(g.children).forEach((x, i) => {
        x.setAttribute("aria-pressed", String(x === b));
        x.classList.toggle("on", i < n);
      });
    });
    g.appendChild(b);
  }
  return g;
}

function buildRating() {
  ratingFor = convId;
  csat = ces = 0;
  ratingEl.textContent = "";
  ratingEl.setAttribute("aria-labelledby", "rt-title");
  const h = el("h2", "", t("rating.title"));
  h.id = "rt-title";
  ratingEl.appendChild(h);
  const status = el("p", "", "");
  status.setAttribute("role", "status");
  status.setAttribute("data-testid", "fd-rating-status");
  const transcript = el("button", "tl", t("rating.transcript")) as HTMLButtonElement;
  transcript.type = "button";
  transcript.setAttribute("data-testid", "fd-rating-transcript");
  transcript.addEventListener("click", askTranscript);
  const actions = el("div", "ra");
  if (load(RATED_KEY) === convId) {
    status.textContent = t("rating.thanks");
    ratingEl.appendChild(status);
    actions.appendChild(transcript);
    ratingEl.appendChild(actions);
    return;
  }
  ratingEl.appendChild(scoreGroup("rt-title", "sg", "fd-star-", () => "★", (n) => (csat = n)));
  if (endOfChat.ces) {
    const q = el("p", "", t("rating.effort"));
    q.id = "rt-effort";
    ratingEl.appendChild(q);
    ratingEl.appendChild(scoreGroup("rt-effort", "sg n", "fd-ces-", (n) => String(n), (n) => (ces = n)));
    ratingEl.appendChild(el("p", "rl", t("rating.effort_low")));
  }
  const comment = document.createElement("textarea");
  comment.maxLength = 1000;
  comment.rows = 2;
  comment.placeholder = t("rating.comment");
  comment.setAttribute("aria-label", t("rating.comment"));
  comment.setAttribute("data-testid", "fd-rating-comment");
  ratingEl.appendChild(comment);
  const sendB = el("button", "pb", t("rating.send")) as HTMLButtonElement;
  sendB.type = "button";
  sendB.setAttribute("data-testid", "fd-rating-send");
  sendB.addEventListener("click", async () => {
    if (!csat) {
      status.textContent = t("rating.choose");
      return;
    }
    const id = convId;
    if (!id) return;
    const body: RatingRequest = { conversation_id: id, csat, ces: endOfChat.ces && ces ? ces : null };
    if (comment.value.trim()) body.comment = comment.value.trim();
    sendB.disabled = true;
    try {
      const res = await fetch("/api/v1/widget/rating", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer " + token },
        body: JSON.stringify(body),
      });
      if (res.ok) {
        save(RATED_KEY, id);
        buildRating();
        return;
      }
      const p = (await res.json().catch(() => null)) as Problem | null;
      status.textContent = p ? errorText(p.code, p.detail) + " (" + p.code + ")" : "HTTP " + res.status;
    } catch (_) {
      status.textContent = t("form.not_connected");
    }
    sendB.disabled = false;
  });
  actions.appendChild(sendB);
  actions.appendChild(transcript);
  ratingEl.appendChild(actions);
  ratingEl.appendChild(status);
}

function banner(text: string | null, error?: boolean) {
  bannerEl.hidden = text === null;
  bannerEl.className = error ? "bn err" : "bn";
  bannerEl.textContent = text || "";
}

// --- DOM helpers ----------------------------------------------------------------------------------
function text(e: HTMLElement, t: string) {
  if (e.textContent !== t) e.textContent = t;
}

function el(tag: string, cls: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString(language(), { hour: "2-digit", minute: "2-digit" });
}

function nearBottom() {
  return scrollEl.scrollHeight - scrollEl.scrollTop - scrollEl.clientHeight < 80;
}

function scrollDown() {
  scrollEl.scrollTop = scrollEl.scrollHeight;
}

function autosize() {
  // CSSOM writes are allowed under the frame's style-src 'self'; style attributes are not.
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight + 2, 120) + "px";
}

// --- wiring -------------------------------------------------------------------------------------
composer.addEventListener("submit", (e) => {
  e.preventDefault();
  if (submit()) input.focus();
});
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    submit();
  }
});
/** Tells the agents we are typing, with the text so far (agents may choose to see it; it is
 * never stored). At most every PREVIEW_EVERY_MS, and once more after the last keystroke. */
function typingNow() {
  clearTimeout(previewTimer);
  if (!convId || !input.value.trim()) return;
  const now = Date.now();
  const preview = input.value.slice(0, 500);
  const due = now - typingSentAt >= TYPING_EVERY_MS || (preview !== previewSent && now - typingSentAt >= PREVIEW_EVERY_MS);
  if (!due) {
    if (preview !== previewSent) previewTimer = window.setTimeout(typingNow, PREVIEW_EVERY_MS);
    return;
  }
  if (send({ type: "typing", conversation_id: convId, typing: true, preview })) {
    typingSentAt = now;
    previewSent = preview;
  }
}

input.addEventListener("input", () => {
  autosize();
  if (!input.value) stopTyping();
  else typingNow();
});
input.addEventListener("blur", stopTyping);
leaveButton.addEventListener("click", askToLeave);
$("close").addEventListener("click", () => {
  stopTyping();
  toParent({ type: "fd:close" });
});
contactForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const email = emailEl.value.trim();
  if (!email) return;
  contactStatus.className = "cs";
  if (!send({ type: "set_contact", name: null, email, department: null })) {
    contactStatus.className = "cs err";
    contactStatus.textContent = t("chat.not_connected");
    return;
  }
  contactSaving = true;
  save(EMAIL_KEY, email);
  showSavedEmail(email);
  if (leaving) leave(email);
  setTimeout(() => (contactSaving = false), 5000);
});

// --- emoji ------------------------------------------------------------------------------------------
const emojiButton = $<HTMLButtonElement>("emoji");
const emojiGrid = $("emoji-grid");
function emojiOpen(open: boolean) {
  emojiGrid.hidden = !open;
  emojiButton.setAttribute("aria-expanded", String(open));
  if (open) {
    if (!emojiGrid.firstChild) {
      for (const e of EMOJI) {
        const b = el("button", "", e) as HTMLButtonElement;
        b.type = "button";
        b.setAttribute("aria-label", e);
        emojiGrid.appendChild(b);
      }
    }
    (emojiGrid.firstChild as HTMLButtonElement).focus();
  }
}
emojiButton.addEventListener("click", () => emojiOpen(emojiGrid.hidden));
emojiGrid.addEventListener("click", (e) => {
  const b = (e.target as HTMLElement).closest("button");
  if (!b) return;
  const emoji = b.textContent || "";
  const at = input.selectionStart ?? input.value.length;
  const end = input.selectionEnd ?? input.value.length;
  input.value = input.value.slice(0, at) + emoji + input.value.slice(end);
  emojiOpen(false);
  input.focus();
  input.setSelectionRange(at + emoji.length, at + emoji.length);
  input.dispatchEvent(new Event("input"));
});
emojiGrid.addEventListener("keydown", (e) => {
  const buttons = Array.from(emojiGrid.children) as HTMLButtonElement[];
  const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
  const step = ({ ArrowRight: 1, ArrowLeft: -1, ArrowDown: 8, ArrowUp: -8 } as Record<string, number>)[e.key];
  if (e.key === "Escape") {
    e.preventDefault();
    e.stopPropagation();
    emojiOpen(false);
    emojiButton.focus();
  } else if (step !== undefined && i >= 0) {
    e.preventDefault();
    buttons[Math.max(0, Math.min(buttons.length - 1, i + step))]?.focus();
  }
});

/** Asks for a transcript by email; the address comes first when we have none yet. */
function sendTranscript(email: string) {
  if (!convId) return;
  const ok = send({ type: "set_contact", name: null, email, department: null }) && send({ type: "transcript", conversation_id: convId });
  transcriptForm.hidden = true;
  transcriptButton.hidden = false;
  transcriptNote.textContent = ok ? t("transcript.sent", { email }) : t("chat.not_connected");
  if (ok) save(EMAIL_KEY, email);
}
/** "Email me this conversation": at once to the address we have, else asks for one. */
function askTranscript() {
  const email = load(EMAIL_KEY);
  if (email) return sendTranscript(email);
  transcriptRow.hidden = false;
  transcriptButton.hidden = true;
  transcriptForm.hidden = false;
  transcriptNote.textContent = "";
  transcriptEmail.focus();
}
transcriptButton.addEventListener("click", askTranscript);
transcriptForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const email = transcriptEmail.value.trim();
  if (email) sendTranscript(email);
});

applyLanguage(navigator.language);
for (const o of outbox) addPending(o);
const savedEmail = load(EMAIL_KEY);
if (savedEmail) showSavedEmail(savedEmail);

if (!site) {
  fatal = true;
  banner(t("chat.no_site_key"), true);
} else {
  toParent({ type: "fd:ready" });
  waitForContext().then(connect);
}

// --- the site's look ------------------------------------------------------------------------
/** Applies the site's look for this page (a new session answer comes after each navigation):
 * colours as CSS custom properties (checked hex only), texts as text, faces as images or
 * initials. */
function applyLook(l: ChatLook) {
  const hex = (v: string) => (/^#[0-9a-f]{6}$/i.test(v) ? v : null);
  const color = hex(l.color);
  const on = hex(l.text_color) || "#ffffff";
  const root = document.documentElement.style;
  if (color) {
    root.setProperty("--brand", color);
    root.setProperty("--brand-dark", color);
    root.setProperty("--brand-ink", on === "#ffffff" ? color : "#0f172a");
    root.setProperty("--on-brand", on);
  }
  welcomeEl.textContent = l.welcome || t("greeting.default");
  replyEl.hidden = !l.reply_minutes;
  replyEl.textContent = l.reply_minutes ? t(l.reply_minutes === 1 ? "look.reply_one" : "look.reply", { n: l.reply_minutes }) : "";
  agentsEl.replaceChildren(
    ...l.agents.map((a) => {
      let face: HTMLElement;
      if (a.photo_url && a.photo_url.startsWith("/agent-photos/")) {
        const img = document.createElement("img");
        img.src = a.photo_url;
        img.alt = a.name;
        face = img;
      } else {
        face = el("span", "", initials(a.name));
        face.setAttribute("role", "img");
        face.setAttribute("aria-label", a.name);
      }
      face.title = a.name;
      return face;
    }),
  );
  agentsEl.hidden = l.agents.length === 0;
}

/** "Ann Lee" → "AL" (as `initials` in crates/core/src/widget.rs). */
function initials(name: string): string {
  const w = name.trim().split(/\s+/).filter(Boolean);
  const first = (s: string | undefined) => (s ? Array.from(s)[0]!.toUpperCase() : "");
  return first(w[0]) + (w.length > 1 ? first(w[w.length - 1]) : "");
}
