// The inbox's state and its live updates.
//
// Conversations live in one cache keyed by id; the current tab is a list of ids into it. A
// `conversation` frame updates the cache in place and moves the row, and the tab counts are
// re-fetched at most once a second: an event never triggers a full list reload.
//
// The open conversation keeps its messages in `seq` order with no gap: a live message is appended
// only if its seq is the next one, anything else asks for a `sync` from the last seq held.
// Sends go through an outbox (kept in localStorage) and are resent with the same client_id after
// a reconnect; the server stores each client_id once.

import { batch, computed, effect, signal, untracked } from "@preact/signals";
import type { AgentView } from "../generated/AgentView";
import type { Conversation } from "../generated/Conversation";
import type { ConversationDetail } from "../generated/ConversationDetail";
import type { InboxCounts } from "../generated/InboxCounts";
import type { Message } from "../generated/Message";
import type { ServerFrame } from "../generated/ServerFrame";
import { errorText, isRetryable } from "../shared/errors";
import { newClientId } from "../shared/ids";
import { api, ApiError, problemText, type Tab } from "./api";
import { contactLabel } from "./format";
import { beep, notify } from "./notify";
import { conversationIdOf, navigate, path } from "./router";
import { AgentSocket } from "./socket";

export const TABS: Tab[] = ["unassigned", "mine", "all", "resolved"];
const TAB_KEY = "fd_tab";
const OUTBOX_KEY = "fd_agent_outbox";
const TYPING_EVERY_MS = 2000;
const TYPING_LAPSE_MS = 6000;
const BOOT = Date.now();

export const me = signal<AgentView | null>(null);
export const counts = signal<InboxCounts | null>(null);
export const tab = signal<Tab>(readTab());
export const toast = signal<string | null>(null);
/** The organization's agents, once Settings has loaded them; kept current by `agent_status`. */
export const agents = signal<AgentView[] | null>(null);

/** Every conversation seen, by id. `rev` changes whenever the map does. */
export const cache = new Map<string, Conversation>();
export const rev = signal(0);
export const listIds = signal<string[]>([]);
export const nextCursor = signal<string | null>(null);
export const listLoading = signal(false);
export const listError = signal<string | null>(null);

export const openId = computed(() => conversationIdOf(path.value));

export type Thread = {
  id: string;
  messages: Message[];
  lastSeq: number;
  loading: boolean;
  error: string | null;
};
export const thread = signal<Thread | null>(null);
export const detail = signal<ConversationDetail | null>(null);
export const visitorTyping = signal<{ conversationId: string; name: string | null } | null>(null);

export type Outgoing = {
  client_id: string;
  conversation_id: string;
  text: string;
  note: boolean;
  /** pending: not acknowledged; sent: acknowledged, waiting for its place in the thread. */
  state: "pending" | "sent" | "failed";
  error: { code: string; text: string } | null;
  tries: number;
};
export const outbox = signal<Outgoing[]>(readOutbox());

const seenIds = new Set<string>();
const deliveredSent = new Map<string, number>();
const readSent = new Map<string, number>();
let syncingId: string | null = null;
let welcomedBefore = false;
let typingSentAt = 0;
let typingFor: string | null = null;
let typingTimer = 0;

export const socket = new AgentSocket(onFrame, onDown);

/** The unread total shown in the tab title. */
effect(() => {
  const n = counts.value ? counts.value.unread_all : 0;
  document.title = n > 0 ? "(" + n + ") Frontdesk" : "Frontdesk";
});

// --- storage -----------------------------------------------------------------------------------
function readTab(): Tab {
  try {
    const t = localStorage.getItem(TAB_KEY);
    return TABS.includes(t as Tab) ? (t as Tab) : "unassigned";
  } catch (_) {
    return "unassigned";
  }
}
function readOutbox(): Outgoing[] {
  try {
    const list = JSON.parse(localStorage.getItem(OUTBOX_KEY) || "[]") as Outgoing[];
    return Array.isArray(list) ? list.filter((o) => o.state === "pending") : [];
  } catch (_) {
    return [];
  }
}
effect(() => {
  const unacked = outbox.value.filter((o) => o.state === "pending");
  try {
    if (unacked.length) localStorage.setItem(OUTBOX_KEY, JSON.stringify(unacked));
    else localStorage.removeItem(OUTBOX_KEY);
  } catch (_) {
    // Memory only, then.
  }
});

// --- start and stop ------------------------------------------------------------------------------
let started = false;

/** Loads the inbox and opens the socket; idempotent. */
export function startInbox() {
  if (started) return;
  started = true;
  socket.start();
  void refreshCounts();
  void loadList(true);
}

export async function logout() {
  socket.stop();
  try {
    await api.logout();
  } catch (_) {
    // Logged out or not, the next page is the login form.
  }
  try {
    localStorage.removeItem(OUTBOX_KEY);
  } catch (_) {
    // ignore
  }
  location.assign("/login");
}

export function showError(e: unknown) {
  if (e instanceof ApiError && e.status === 401) {
    location.assign("/login");
    return;
  }
  const code = e instanceof ApiError && e.code !== "network" ? " (" + e.code + ")" : "";
  toast.value = problemText(e) + code;
}

// --- conversations list -----------------------------------------------------------------------------
export function inTab(c: Conversation, t: Tab, agentId: string | null): boolean {
  switch (t) {
    case "unassigned":
      return c.status === "open" && c.assignee_id === null;
    case "mine":
      return c.assignee_id !== null && c.assignee_id === agentId && c.status !== "resolved";
    case "all":
      return c.status !== "resolved";
    case "resolved":
      return c.status === "resolved";
  }
}

export function selectTab(t: Tab) {
  if (t === tab.value) return;
  tab.value = t;
  try {
    localStorage.setItem(TAB_KEY, t);
  } catch (_) {
    // ignore
  }
  void loadList(true);
}

let listToken = 0;
export async function loadList(reset: boolean) {
  const t = tab.value;
  const cursor = reset ? null : nextCursor.value;
  if (!reset && (cursor === null || listLoading.value)) return;
  const mine = ++listToken;
  listLoading.value = true;
  listError.value = null;
  try {
    const page = await api.conversations(t, cursor, 50);
    if (mine !== listToken) return;
    batch(() => {
      for (const c of page.items) {
        cache.set(c.id, c);
        seenIds.add(c.id);
      }
      const ids = page.items.map((c) => c.id);
      if (reset) {
        listIds.value = ids;
      } else {
        const have = new Set(listIds.value);
        listIds.value = listIds.value.concat(ids.filter((id) => !have.has(id)));
      }
      nextCursor.value = page.next_cursor;
      rev.value++;
    });
  } catch (e) {
    if (mine !== listToken) return;
    if (e instanceof ApiError && e.status === 401) return showError(e);
    listError.value = problemText(e);
  } finally {
    if (mine === listToken) listLoading.value = false;
  }
}

/** Puts a changed conversation into the cache and moves its row; no refetch. */
export function upsert(c: Conversation) {
  const prev = cache.get(c.id);
  cache.set(c.id, c);
  const agentId = me.value ? me.value.id : null;
  const ids = listIds.value;
  const at = ids.indexOf(c.id);
  const belongs = inTab(c, tab.value, agentId);
  if (!belongs) {
    if (at >= 0) listIds.value = ids.filter((id) => id !== c.id);
  } else if (at < 0 || (prev && (c.last_message_at ?? 0) > (prev.last_message_at ?? 0))) {
    listIds.value = [c.id].concat(at < 0 ? ids : ids.filter((id) => id !== c.id));
  }
  const d = detail.value;
  if (d && d.conversation.id === c.id) detail.value = { ...d, conversation: c };
  rev.value++;
}

let countsTimer = 0;
let countsAt = 0;
/** Re-fetches the tab counts: at most once a second, however many events arrive. */
export function scheduleCounts() {
  if (countsTimer) return;
  const wait = Math.max(250, 1000 - (Date.now() - countsAt));
  countsTimer = window.setTimeout(() => {
    countsTimer = 0;
    void refreshCounts();
  }, wait);
}
async function refreshCounts() {
  countsAt = Date.now();
  try {
    counts.value = await api.counts();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showError(e);
  }
}

// --- the open conversation -------------------------------------------------------------------------
effect(() => {
  const id = openId.value;
  if (!me.value) return;
  untracked(() => {
    if (id) void openThread(id);
    else {
      stopTyping();
      thread.value = null;
      detail.value = null;
    }
  });
});

async function openThread(id: string) {
  if (thread.value && thread.value.id === id && !thread.value.error) return;
  stopTyping();
  syncingId = null;
  batch(() => {
    thread.value = { id, messages: [], lastSeq: 0, loading: true, error: null };
    detail.value = null;
    visitorTyping.value = null;
  });
  void loadDetail(id);
  try {
    let all: Message[] = [];
    let after = 0;
    // Long histories come in pages of 200; follow them all so the thread starts at seq 1.
    for (let i = 0; i < 100; i++) {
      const page = await api.messages(id, after, 200);
      all = all.concat(page.items);
      const last = page.items[page.items.length - 1];
      if (!page.has_more || !last) break;
      after = last.seq;
    }
    if (!thread.value || thread.value.id !== id) return;
    const last = all[all.length - 1];
    thread.value = { id, messages: all, lastSeq: last ? last.seq : 0, loading: false, error: null };
    for (const m of all) if (m.client_id) settle(m.client_id);
    receiptsFor(id);
    syncThread();
  } catch (e) {
    if (!thread.value || thread.value.id !== id) return;
    if (e instanceof ApiError && e.status === 401) return showError(e);
    thread.value = { id, messages: [], lastSeq: 0, loading: false, error: problemText(e) };
  }
}

let detailAt = 0;
async function loadDetail(id: string) {
  detailAt = Date.now();
  try {
    const d = await api.conversation(id);
    if (openId.value !== id) return;
    detail.value = d;
    cache.set(id, d.conversation);
    seenIds.add(id);
    rev.value++;
  } catch (e) {
    if (openId.value === id) showError(e);
  }
}

/** Asks the server for everything after the last message held in the open thread. */
function syncThread() {
  const t = thread.value;
  if (!t || t.loading || t.error || syncingId === t.id) return;
  if (socket.send({ type: "sync", conversation_id: t.id, after_seq: t.lastSeq })) syncingId = t.id;
}

/** Appends `m` if it is the next message of the open thread; true when it is (now) shown. */
function append(m: Message): boolean {
  const t = thread.value;
  if (!t || t.id !== m.conversation_id || t.loading || t.error) return false;
  if (m.seq <= t.lastSeq) {
    if (m.client_id) settle(m.client_id);
    return true;
  }
  if (m.seq !== t.lastSeq + 1) {
    syncThread();
    return false;
  }
  thread.value = { ...t, messages: t.messages.concat(m), lastSeq: m.seq };
  if (m.client_id) settle(m.client_id);
  if (m.kind === "visitor") visitorTyping.value = null;
  return true;
}

// --- receipts -----------------------------------------------------------------------------------
function delivered(conversationId: string, publicSeq: number) {
  const c = cache.get(conversationId);
  const have = Math.max(deliveredSent.get(conversationId) ?? 0, c ? c.agent_delivered_seq : 0);
  if (publicSeq <= have) return;
  if (socket.send({ type: "delivered", conversation_id: conversationId, public_seq: publicSeq })) {
    deliveredSent.set(conversationId, publicSeq);
  }
}

function attentive() {
  return document.visibilityState === "visible" && document.hasFocus();
}

/** Delivered and read receipts for the open thread, in public_seq. */
function receiptsFor(id: string) {
  const t = thread.value;
  if (!t || t.id !== id || t.loading) return;
  let lastVisitor = 0;
  let lastPublic = 0;
  for (const m of t.messages) {
    if (m.public_seq === null) continue;
    lastPublic = Math.max(lastPublic, m.public_seq);
    if (m.kind === "visitor") lastVisitor = Math.max(lastVisitor, m.public_seq);
  }
  if (lastVisitor) delivered(id, lastVisitor);
  if (!attentive()) return;
  const c = cache.get(id);
  const have = Math.max(readSent.get(id) ?? 0, c ? c.agent_read_seq : 0);
  if (lastVisitor > have && socket.send({ type: "read", conversation_id: id, public_seq: lastPublic })) {
    readSent.set(id, lastPublic);
  }
}

const readNow = () => {
  const t = thread.value;
  if (t) receiptsFor(t.id);
};
addEventListener("focus", readNow);
document.addEventListener("visibilitychange", readNow);

// --- sending --------------------------------------------------------------------------------------
export function sendMessage(text: string, note: boolean) {
  const t = thread.value;
  if (!t || !text.trim()) return;
  const o: Outgoing = {
    client_id: newClientId(),
    conversation_id: t.id,
    text: text.trim(),
    note,
    state: "pending",
    error: null,
    tries: 0,
  };
  stopTyping();
  outbox.value = outbox.value.concat(o);
  transmit(o);
}

function transmit(o: Outgoing) {
  socket.send({ type: "send", client_id: o.client_id, conversation_id: o.conversation_id, text: o.text, note: o.note });
}

function patchOutgoing(clientId: string, patch: Partial<Outgoing>) {
  outbox.value = outbox.value.map((o) => (o.client_id === clientId ? { ...o, ...patch } : o));
}

/** The stored message for `clientId` is in the thread (or its thread is not open): done. */
function settle(clientId: string) {
  if (outbox.value.some((o) => o.client_id === clientId)) {
    outbox.value = outbox.value.filter((o) => o.client_id !== clientId);
  }
}

export function dismissFailed(clientId: string) {
  settle(clientId);
}

export function onTyping(text: string, note: boolean) {
  const t = thread.value;
  if (!t || note) return;
  if (!text) return stopTyping();
  const now = Date.now();
  if (now - typingSentAt >= TYPING_EVERY_MS) {
    if (socket.send({ type: "typing", conversation_id: t.id, typing: true })) {
      typingSentAt = now;
      typingFor = t.id;
    }
  }
}

export function stopTyping() {
  if (typingFor) socket.send({ type: "typing", conversation_id: typingFor, typing: false });
  typingFor = null;
  typingSentAt = 0;
}

// --- actions --------------------------------------------------------------------------------------
export async function act(action: "take" | "resolve" | "reopen", id: string) {
  try {
    const c = await api[action](id);
    upsert(c);
    scheduleCounts();
  } catch (e) {
    showError(e);
  }
}

export async function setStatus(status: "online" | "away") {
  try {
    me.value = await api.setStatus(status);
  } catch (e) {
    showError(e);
  }
}

/** j/k: the next or previous conversation of the list. */
export function step(delta: 1 | -1) {
  const ids = listIds.value;
  if (!ids.length) return;
  const at = openId.value ? ids.indexOf(openId.value) : -1;
  const next = at < 0 ? (delta > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, at + delta));
  const id = ids[next];
  if (id && id !== openId.value) navigate("/app/c/" + encodeURIComponent(id));
}

// --- the socket --------------------------------------------------------------------------------------
function onDown(welcomed: boolean) {
  syncingId = null;
  typingFor = null;
  if (!welcomed) {
    // Refused before welcome: maybe the session ended. The API says so with a 401.
    api.me().catch((e) => {
      if (e instanceof ApiError && e.status === 401) location.assign("/login");
    });
  }
}

function onFrame(f: ServerFrame) {
  switch (f.type) {
    case "welcome":
      if (f.agent) me.value = f.agent;
      if (welcomedBefore) {
        // Back after a drop: catch up on what happened meanwhile.
        void loadList(true);
        void refreshCounts();
      }
      welcomedBefore = true;
      syncThread();
      for (const o of outbox.value) if (o.state === "pending") transmit(o);
      break;
    case "message":
      onMessage(f.message);
      break;
    case "ack": {
      const o = outbox.value.find((x) => x.client_id === f.client_id);
      const t = thread.value;
      if (!append(f.message) && o) {
        if (t && t.id === o.conversation_id && f.message.seq > t.lastSeq) patchOutgoing(f.client_id, { state: "sent" });
        else settle(f.client_id);
      }
      break;
    }
    case "synced":
      if (syncingId === f.conversation_id) syncingId = null;
      receiptsFor(f.conversation_id);
      break;
    case "conversation":
      onConversation(f.conversation);
      break;
    case "typing":
      if (f.side !== "visitor") break;
      clearTimeout(typingTimer);
      visitorTyping.value = f.typing ? { conversationId: f.conversation_id, name: f.name } : null;
      if (f.typing) typingTimer = window.setTimeout(() => (visitorTyping.value = null), TYPING_LAPSE_MS);
      break;
    case "agent_status":
      if (me.value && f.agent_id === me.value.id) me.value = { ...me.value, status: f.status };
      if (agents.value?.some((a) => a.id === f.agent_id)) {
        agents.value = agents.value.map((a) => (a.id === f.agent_id ? { ...a, status: f.status } : a));
      }
      break;
    case "error":
      onError(f.code, f.message, f.client_id);
      break;
    case "visitor_conversation":
    case "presence":
    case "pong":
      break;
  }
}

function onMessage(m: Message) {
  if (m.kind === "visitor" && m.public_seq !== null) {
    delivered(m.conversation_id, m.public_seq);
    if (document.visibilityState !== "visible" || openId.value !== m.conversation_id) {
      const c = cache.get(m.conversation_id);
      beep();
      notify(
        c ? contactLabel(c.contact_name, c.contact_id) : "New message",
        m.text,
        "fd-" + m.conversation_id,
        () => navigate("/app/c/" + encodeURIComponent(m.conversation_id)),
      );
    }
  }
  if (append(m)) {
    receiptsFor(m.conversation_id);
    if (m.kind === "visitor" && Date.now() - detailAt > 5000 && openId.value === m.conversation_id) {
      // The visitor may have moved to another page: refresh the contact panel now and then.
      void loadDetail(m.conversation_id);
    }
  }
}

function onConversation(c: Conversation) {
  const isNew = !seenIds.has(c.id);
  seenIds.add(c.id);
  upsert(c);
  scheduleCounts();
  if (isNew && c.created_at >= BOOT - 60_000 && (document.visibilityState !== "visible" || openId.value !== c.id)) {
    beep();
    notify("New conversation", contactLabel(c.contact_name, c.contact_id) + " on " + c.website_name, "fd-" + c.id, () =>
      navigate("/app/c/" + encodeURIComponent(c.id)),
    );
  }
}

function onError(code: string, message: string, clientId: string | null) {
  if (clientId) {
    const o = outbox.value.find((x) => x.client_id === clientId);
    if (!o) return;
    if (isRetryable(code)) {
      const tries = o.tries + 1;
      patchOutgoing(clientId, { tries });
      setTimeout(() => {
        const still = outbox.value.find((x) => x.client_id === clientId && x.state === "pending");
        if (still) transmit(still);
      }, Math.min(30_000, 1000 * 2 ** tries));
      return;
    }
    patchOutgoing(clientId, { state: "failed", error: { code, text: errorText(code, message) } });
    return;
  }
  if (code === "unauthenticated") {
    location.assign("/login");
    return;
  }
  toast.value = errorText(code, message) + " (" + code + ")";
}
