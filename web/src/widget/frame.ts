// The chat frame (/widget/frame.html#site=SITEKEY): the visitor's side of a conversation.
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
import type { ClientFrame } from "../generated/ClientFrame";
import type { Message } from "../generated/Message";
import type { PageContext } from "../generated/PageContext";
import type { Problem } from "../generated/Problem";
import type { QueueStatus } from "../generated/QueueStatus";
import type { ServerFrame } from "../generated/ServerFrame";
import type { VisitorConversation } from "../generated/VisitorConversation";
import type { WidgetSessionRequest } from "../generated/WidgetSessionRequest";
import type { WidgetSessionResponse } from "../generated/WidgetSessionResponse";
import { backoff, MAX_FRAME_BYTES, wsUrl } from "../shared/backoff";
import { errorText, isRetryable } from "../shared/errors";
import { carriesFiles, fileSize, filesOf, nameQuery } from "../shared/files";
import { newClientId } from "../shared/ids";
import { splitLinks } from "../shared/text";

/** A message not acknowledged yet; `files` were uploaded before it was sent. */
type Outgoing = { client_id: string; text: string; files?: Attachment[] };
/** A file picked, dropped or pasted: uploading, ready to go with the next message, or refused. */
type Upload = { el: HTMLElement; file: Attachment | null; state: "uploading" | "ready" | "failed" };
type Pending = Outgoing & { el: HTMLElement; meta: HTMLElement; tries: number };
type Shown = { m: Message; tick: HTMLElement | null };
type Session = WidgetSessionResponse;

const site = new URLSearchParams(location.hash.slice(1)).get("site") || "";
const TOKEN_KEY = "fd_token_" + site;
const OUTBOX_KEY = "fd_outbox_" + site;
const SEEN_KEY = "fd_seen_" + site;
const EMAIL_KEY = "fd_email_" + site;
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
const pickerEl = $("department-picker");
const departmentEl = $<HTMLSelectElement>("department");
const departmentHint = $("department-hint");
const composer = $<HTMLFormElement>("composer");
const input = $<HTMLTextAreaElement>("input");
const trayEl = $("tray");
const fileInput = $<HTMLInputElement>("file");
const attachButton = $<HTMLButtonElement>("attach");
const dropEl = $("drop");

const embedded = window.parent !== window;

// --- state ---------------------------------------------------------------------------------
let token: string | null = load(TOKEN_KEY);
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
/** The departments the site routes by, in order; empty when it routes by none. */
let departments: string[] = [];
/** The visitor's pick for their first message (memory only); "" while none. */
let department = "";
/** Set once a message was queued here or a conversation exists: the department is settled. */
let started = outbox.length > 0;
/** Known to have no conversation yet (a new visitor, or the welcome said so). */
let fresh = false;
/** The socket the department went out on: once per socket, ahead of its first message. */
let departmentSentOn: WebSocket | null = null;
/** The largest file the server takes (the welcome says; this until then). */
let maxUpload = 10 * 1024 * 1024;
let uploads: Upload[] = [];

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
  // Nothing secret crosses here, and the frame cannot know which site embeds it.
  if (embedded) window.parent.postMessage(m, "*");
}

function visible() {
  return panelOpen && document.visibilityState === "visible";
}

addEventListener("message", (e: MessageEvent) => {
  if (!embedded || e.source !== window.parent) return;
  const m = e.data as { type?: unknown; context?: unknown; open?: unknown } | null;
  if (!m || typeof m !== "object") return;
  if (m.type === "fd:context" && m.context && typeof m.context === "object") {
    context = cleanContext(m.context as Record<string, unknown>);
    contextArrived();
    if (!needSession && context.url !== sessionContextUrl) refreshContextSoon();
  } else if (m.type === "fd:visibility") {
    panelOpen = m.open === true;
    if (panelOpen) {
      scrollDown();
      if (matchMedia("(pointer: fine)").matches) input.focus();
    } else {
      stopTyping();
    }
    receipts();
  }
});

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

// --- session and socket --------------------------------------------------------------------
async function startSession(): Promise<void> {
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
  titleEl.textContent = s.website_name || s.organization_name || "Chat";
  setPresence(s.agents_online);
  // An older server sends no availability: always open.
  setHours(s.availability || null);
  if (s.new_visitor) fresh = true;
  // An older server sends no departments: nothing to choose.
  setDepartments(s.departments || []);
  const changed = s.token !== token;
  token = s.token;
  save(TOKEN_KEY, token);
  needSession = false;
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
        presenceEl.textContent = "Unavailable";
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
  banner("Reconnecting…");
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
        setConversation(f.conversation);
        sync();
      } else {
        fresh = true;
        pickerView();
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
    presenceEl.textContent = "Unavailable";
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
    pickerView();
  }
  shown.clear();
  msgsEl.textContent = "";
  lastSeq = lastOtherSeq = deliveredSent = 0;
  readSent = seen && seen.c === id ? seen.s : 0;
  lastAuthor = "";
  syncing = false;
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
      if (!visible() && (!seen || seen.c !== convId || m.seq > seen.s)) setUnread(unread + 1);
    }
  }
  if (stick || m.kind === "visitor") scrollDown();
  return true;
}

function render(m: Message): HTMLElement | null {
  const kind = m.kind === "visitor" ? "v" : m.kind === "system" ? "s" : "a";
  const item = el("div", "m " + kind);
  item.setAttribute("data-testid", "fd-message");
  item.setAttribute("data-kind", m.kind);
  item.setAttribute("data-seq", String(m.seq));
  const author = m.kind === "agent" ? m.author_name || "Agent" : "";
  if (author && author !== lastAuthor) item.appendChild(el("div", "au", author));
  lastAuthor = m.kind === "system" ? "" : author || "\u0000visitor";
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
        () => (img.alt = a.name + " (could not be loaded)"),
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
    remove.setAttribute("aria-label", "Remove " + (f.name || "file"));
    remove.addEventListener("click", () => {
      uploads = uploads.filter((x) => x !== u);
      chip.remove();
      trayView();
      input.focus();
    });
    chip.append(el("span", "fn", f.name || "Pasted image"), el("span", "fz", "Uploading…"), remove);
    uploads.push(u);
    trayEl.appendChild(chip);
    if (f.size > maxUpload) {
      uploadDone(u, null, "Too large: files can be up to " + fileSize(maxUpload) + ".");
    } else if (!token) {
      uploadDone(u, null, "Not connected yet; try again in a moment.");
    } else {
      fetch("/api/v1/widget/attachments" + nameQuery(f), { method: "POST", headers: { authorization: "Bearer " + token }, body: f })
        .then(async (r) => {
          const body = await r.json().catch(() => null);
          if (r.ok) return uploadDone(u, body as Attachment, "");
          const p = body as Problem | null;
          uploadDone(u, null, p ? errorText(p.code, p.detail) : "The upload failed (HTTP " + r.status + ").");
        })
        .catch(() => uploadDone(u, null, "The upload failed. Check your connection and try again."));
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
  if (file && composerError.textContent === WAIT_FOR_UPLOADS) composerError.hidden = true;
}

function trayView() {
  trayEl.hidden = uploads.length === 0;
}

const WAIT_FOR_UPLOADS = "Wait until your files have uploaded, then send.";

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
const TICK_LABEL: Record<TickState, string> = { pending: "Sending", sent: "Sent", delivered: "Delivered", read: "Read" };
function setTick(t: HTMLElement, state: TickState) {
  let target = t;
  if (!t.classList.contains("tk")) {
    // `t` is a message's meta line: find or add its tick.
    target = (t.querySelector(".tk") as HTMLElement | null) || t.appendChild(el("span", "tk"));
  }
  if (target.getAttribute("data-state") === state) return;
  target.setAttribute("data-state", state);
  target.setAttribute("role", "img");
  target.setAttribute("aria-label", TICK_LABEL[state]);
  target.title = TICK_LABEL[state];
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
/** Sends the composer's text; false when it moved the focus elsewhere (to the department). */
function submit(): boolean {
  const text = input.value.trim();
  const ready = uploads.filter((u) => u.state === "ready");
  if (!text && !ready.length) return true;
  if (uploads.some((u) => u.state === "uploading")) {
    composerError.hidden = false;
    composerError.textContent = WAIT_FOR_UPLOADS;
    return true;
  }
  if (needsDepartment() && !department) {
    // The text stays in the box; the visitor picks, then sends again.
    askDepartment();
    return false;
  }
  composerError.hidden = true;
  const o: Outgoing = { client_id: newClientId(), text };
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
  started = true;
  pickerView();
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
  return JSON.stringify(f);
}

function transmit(o: Outgoing) {
  if (!live || !ws || ws.readyState !== WebSocket.OPEN) return;
  // Ahead of the message that starts the conversation, on the same socket, so routing reads it.
  // Again on a new socket while no conversation exists yet: saving it twice is harmless.
  if (department && convId === null && departmentSentOn !== ws) {
    departmentSentOn = ws;
    send({ type: "set_contact", name: null, email: null, department });
  }
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
  typingEl.textContent = name === null ? "" : (name || "Agent") + " is typing…";
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
  if (leaving === 1) return;
  offlineEl.setAttribute("aria-label", "We're away");
  // While closed the header already says we're away, and until when.
  offlineText.textContent =
    (closed ? "" : "We're away right now. ") + "Leave a message and your email — we'll reply by email.";
}

// --- operating hours ---------------------------------------------------------------------------
function setHours(a: Availability | null) {
  const now = Date.now();
  closed = !!a && !a.open;
  const hides = !!a && a.when_closed === "hide";
  const back = a && a.next_open_at;
  presenceLine.hidden = closed;
  hoursEl.hidden = !closed;
  // "back Monday 09:00" wraps as one piece.
  hoursEl.textContent = closed ? "We're away right now" + (back ? " · " + ("back " + when(back)).replace(/ /g, "\u00a0") : "") : "";
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
  const fmt = (o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat(undefined, o).format(d);
  const time = fmt({ hour: "2-digit", minute: "2-digit" });
  const midnight = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  // Rounded: a day across a daylight-saving change is 23 or 25 hours long.
  const days = Math.round((midnight(d) - midnight(new Date())) / (24 * HOUR_MS));
  if (days < 1) return "at " + time;
  if (days === 1) return "tomorrow " + time;
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
  text(queuePosition, q.position <= 1 ? "You're next" : "You're number " + q.position + " in line");
  text(queueWait, q.estimated_wait_ms === null ? "" : " · " + waitText(q.estimated_wait_ms));
  leaveButton.hidden = !q.offer_offline;
}

function waitText(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (min < 1) return "less than a minute";
  if (min < 60) return "about " + min + " min";
  return min < 90 ? "about an hour" : "about " + Math.round(min / 60) + " hours";
}

function askToLeave() {
  const email = load(EMAIL_KEY);
  if (email) {
    leave(email);
    return;
  }
  leaving = 1;
  offlineEl.setAttribute("aria-label", "Leave a message");
  offlineText.textContent = "Leave your email and we'll reply there, so you don't have to wait here.";
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
      composerError.textContent = "Not connected; try again in a moment.";
      return;
    }
    leftConv = id;
  }
  leaving = 2;
  setQueue(null);
  offlineView();
  leftNote.hidden = false;
  leftNote.textContent = "Thanks — we'll reply by email to " + email + ".";
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
  contactStatus.textContent = "Thanks! We'll reply to " + email + ".";
}

function agentName(name: string | null) {
  presenceEl.textContent = (name ? name + " · " : "") + (agentsOnline ? "Online" : "Away");
}

// --- department -----------------------------------------------------------------------------------
function needsDepartment(): boolean {
  return departments.length > 0 && !started && convId === null;
}

function setDepartments(list: string[]) {
  if (list.join("\n") !== departments.join("\n")) {
    departments = list.slice();
    if (!departments.includes(department)) department = "";
    // The placeholder stays first; every department is a text node.
    while (departmentEl.options.length > 1) departmentEl.remove(1);
    for (const d of departments) {
      const o = el("option", "", d) as HTMLOptionElement;
      o.value = d;
      departmentEl.appendChild(o);
    }
    departmentEl.value = department;
  }
  pickerView();
}

/** Shown while the first message still needs one, once it is known that none was started. */
function pickerView() {
  const show = needsDepartment() && (fresh || !departmentHint.hidden);
  if (!show && document.activeElement === departmentEl) input.focus();
  pickerEl.hidden = !show;
}

function askDepartment() {
  departmentHint.hidden = false;
  departmentEl.setAttribute("aria-invalid", "true");
  departmentEl.setAttribute("aria-describedby", "department-hint");
  pickerView();
  departmentEl.focus();
}

function departmentChosen() {
  department = departmentEl.value;
  if (!department) return;
  departmentHint.hidden = true;
  departmentEl.removeAttribute("aria-invalid");
  departmentEl.removeAttribute("aria-describedby");
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
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
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
departmentEl.addEventListener("change", departmentChosen);
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
  if (!send({ type: "set_contact", name: null, email, department: department || null })) {
    contactStatus.className = "cs err";
    contactStatus.textContent = "Not connected; try again in a moment.";
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
  transcriptNote.textContent = ok ? "Sent to " + email + "." : "Not connected; try again in a moment.";
  if (ok) save(EMAIL_KEY, email);
}
transcriptButton.addEventListener("click", () => {
  const email = load(EMAIL_KEY);
  if (email) return sendTranscript(email);
  transcriptButton.hidden = true;
  transcriptForm.hidden = false;
  transcriptNote.textContent = "";
  transcriptEmail.focus();
});
transcriptForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const email = transcriptEmail.value.trim();
  if (email) sendTranscript(email);
});

for (const o of outbox) addPending(o);
const savedEmail = load(EMAIL_KEY);
if (savedEmail) showSavedEmail(savedEmail);

if (!site) {
  fatal = true;
  banner("This chat is missing its site key.", true);
} else {
  toParent({ type: "fd:ready" });
  waitForContext().then(connect);
}
