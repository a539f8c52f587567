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
//
// A supervisor or admin who opens a colleague's conversation without being invited observes it
// silently: no read or delivered receipts and no typing go out for it (`isSilent`), so neither
// the visitor nor the assignee is told anyone joined.

import { batch, computed, effect, signal, untracked } from "@preact/signals";
import type { AgentView } from "../generated/AgentView";
import type { ContactProfile } from "../generated/ContactProfile";
import type { Attachment } from "../generated/Attachment";
import type { Conversation } from "../generated/Conversation";
import type { ConversationDetail } from "../generated/ConversationDetail";
import type { InboxCounts } from "../generated/InboxCounts";
import type { Message } from "../generated/Message";
import type { NoticeKind } from "../generated/NoticeKind";
import type { ServerFrame } from "../generated/ServerFrame";
import type { TeamView } from "../generated/TeamView";
import type { TransferRequest } from "../generated/TransferRequest";
import { errorText, isRetryable } from "../shared/errors";
import { newClientId } from "../shared/ids";
import { api, ApiError, problemText, type Tab } from "./api";
import { feedbackChanged } from "./feedback";
import { filterQuery, filters, matchesFilters } from "./filters";
import { contactLabel } from "./format";
import { beep, notify } from "./notify";
import { conversationIdOf, navigate, path } from "./router";
import { AgentSocket } from "./socket";
import { learnTags, retag, tagList } from "./tags";

export const TABS: Tab[] = ["unassigned", "mine", "all", "resolved"];
const TAB_KEY = "fd_tab";
const OUTBOX_KEY = "fd_agent_outbox";
const TYPING_EVERY_MS = 2000;
const TYPING_LAPSE_MS = 6000;
const BOOT = Date.now();

export const me = signal<AgentView | null>(null);
/** The largest file the server takes (the welcome says; this until then). */
export const maxUpload = signal(10 * 1024 * 1024);
export const counts = signal<InboxCounts | null>(null);
export const tab = signal<Tab>(readTab());
export const toast = signal<string | null>(null);
/** The organization's agents, once loaded (`loadAgents`); kept current by `agent_status`. */
export const agents = signal<AgentView[] | null>(null);
/** The organization's teams, once loaded (`loadTeams`). */
export const teams = signal<TeamView[] | null>(null);

/** "Ann transferred a conversation to you": shown as toasts with a link, newest last. */
export type Notice = { key: number; kind: NoticeKind; conversationId: string; text: string };
export const notices = signal<Notice[]>([]);
const MAX_NOTICES = 3;
let noticeKey = 0;
/** How many views show `notices`; with none mounted a notice falls back to the plain toast. */
let noticeHosts = 0;

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
/** The latest change of a contact's profile (`contact` frame, or a save here); contact views follow it. */
export const contactChange = signal<{ contact: ContactProfile; mergedFrom: string | null } | null>(null);
/** The latest page change of any visitor (the visitor panel refetches when it is theirs). */
export const visitorPage = signal<{ contactId: string; at: number } | null>(null);
export const visitorTyping = signal<{ conversationId: string; name: string | null; preview: string | null } | null>(null);
/** Whether this agent chose to see what visitors type before they send it (kept in this browser). */
export const typingPreview = signal<boolean>(readPreviewChoice());

function readPreviewChoice(): boolean {
  try {
    return localStorage.getItem("fd_typing_preview") === "1";
  } catch {
    return false;
  }
}

export function setTypingPreview(on: boolean) {
  typingPreview.value = on;
  try {
    localStorage.setItem("fd_typing_preview", on ? "1" : "0");
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}

export type Outgoing = {
  client_id: string;
  conversation_id: string;
  text: string;
  note: boolean;
  /** Uploaded before the message was sent. */
  files: Attachment[];
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
    return Array.isArray(list) ? list.filter((o) => o.state === "pending").map((o) => ({ ...o, files: o.files || [] })) : [];
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

/** Called by a view that renders `notices`; returns its cleanup. */
export function hostNotices(): () => void {
  noticeHosts++;
  return () => {
    noticeHosts--;
  };
}

export function dismissNotice(key: number) {
  notices.value = notices.value.filter((n) => n.key !== key);
}

export function showError(e: unknown) {
  if (e instanceof ApiError && e.status === 401) {
    location.assign("/login");
    return;
  }
  const code = e instanceof ApiError && e.code !== "network" ? " (" + e.code + ")" : "";
  toast.value = problemText(e) + code;
}

// --- who may do what in a conversation ---------------------------------------------------------------
/**
 * What the current agent can do in a conversation:
 * - `reply`: it is theirs, unassigned (replying takes it) or they were invited;
 * - `observe`: a supervisor or admin looking at a colleague's conversation: notes only, and
 *   silent (no receipts, no typing) until they join;
 * - `notes`: a plain agent looking at a colleague's conversation: notes only.
 */
export type Access = "reply" | "observe" | "notes";

export function accessTo(c: Conversation, participantIds: readonly string[] | null, agent: AgentView | null): Access {
  if (!agent || c.assignee_id === null || c.assignee_id === agent.id) return "reply";
  if (participantIds && participantIds.includes(agent.id)) return "reply";
  const elevated = agent.role === "supervisor" || agent.role === "admin";
  // Participants not known yet (the detail is loading): a supervisor stays silent meanwhile.
  if (!participantIds) return elevated ? "observe" : "reply";
  return elevated ? "observe" : "notes";
}

/** The open conversation's participants' ids, when its detail is loaded. */
function participantsOf(id: string): string[] | null {
  const d = detail.value;
  return d && d.conversation.id === id ? d.participants.map((p) => p.id) : null;
}

/**
 * True when nothing may tell the visitor or the assignee that this agent is looking: a supervisor
 * or admin in a colleague's conversation they have not joined (or whose participants are unknown).
 */
function isSilent(conversationId: string): boolean {
  const agent = me.value;
  if (!agent || (agent.role !== "supervisor" && agent.role !== "admin")) return false;
  const c = cache.get(conversationId);
  if (!c) return true;
  return accessTo(c, participantsOf(conversationId), agent) === "observe";
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

/** A new filter (the URL's query changed) reloads the list, once started. */
let shownFilter = JSON.stringify(filters.value);
effect(() => {
  const key = JSON.stringify(filters.value);
  if (key === shownFilter) return;
  shownFilter = key;
  if (started) untracked(() => void loadList(true));
});

let listToken = 0;
export async function loadList(reset: boolean) {
  const t = tab.value;
  const cursor = reset ? null : nextCursor.value;
  if (!reset && (cursor === null || listLoading.value)) return;
  const mine = ++listToken;
  listLoading.value = true;
  listError.value = null;
  try {
    const page = await api.conversations(t, cursor, 50, filterQuery(filters.value));
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
  const belongs = inTab(c, tab.value, agentId) && matchesFilters(c, filters.value);
  learnTags(c.tags);
  if (!belongs) {
    if (at >= 0) listIds.value = ids.filter((id) => id !== c.id);
  } else if (at < 0 || (prev && (c.last_message_at ?? 0) > (prev.last_message_at ?? 0))) {
    listIds.value = [c.id].concat(at < 0 ? ids : ids.filter((id) => id !== c.id));
  }
  const d = detail.value;
  if (d && d.conversation.id === c.id) {
    detail.value = { ...d, conversation: c };
    // Transferred, taken or reassigned: the participants may have changed with it.
    const p = d.conversation;
    if (p.assignee_id !== c.assignee_id || p.team_id !== c.team_id || p.status !== c.status) void loadDetail(c.id);
  }
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
    // Receipts were held back while it was unknown whether this agent only observes.
    receiptsFor(id);
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
  if (isSilent(conversationId)) return;
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
  if (!t || t.id !== id || t.loading || isSilent(id)) return;
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
/** Sends a reply or note with files already uploaded; either may be empty, not both. */
export function sendMessage(text: string, note: boolean, files: Attachment[] = []) {
  const t = thread.value;
  if (!t || (!text.trim() && !files.length)) return;
  const o: Outgoing = {
    client_id: newClientId(),
    conversation_id: t.id,
    text: text.trim(),
    note,
    files,
    state: "pending",
    error: null,
    tries: 0,
  };
  stopTyping();
  outbox.value = outbox.value.concat(o);
  transmit(o);
}

function transmit(o: Outgoing) {
  socket.send({ type: "send", client_id: o.client_id, conversation_id: o.conversation_id, text: o.text, note: o.note, attachments: o.files.map((f) => f.id) });
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
  if (!t || note || isSilent(t.id)) return;
  if (!text) return stopTyping();
  const now = Date.now();
  if (now - typingSentAt >= TYPING_EVERY_MS) {
    if (socket.send({ type: "typing", conversation_id: t.id, typing: true, preview: null })) {
      typingSentAt = now;
      typingFor = t.id;
    }
  }
}

export function stopTyping() {
  if (typingFor) socket.send({ type: "typing", conversation_id: typingFor, typing: false, preview: null });
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

/** Hands the conversation to a colleague or a team; throws, so the dialog can show the problem. */
export async function transfer(id: string, body: TransferRequest) {
  const c = await api.transfer(id, body);
  upsert(c); // reloads the open detail when the assignee or team changed
  scheduleCounts();
}

/** Asks a colleague (or, to join a conversation one observes, oneself) in; throws like `transfer`. */
export async function invite(id: string, agentId: string) {
  const c = await api.invite(id, { agent_id: agentId });
  upsert(c);
  if (openId.value === id) await loadDetail(id);
}

/** Stops observing: invites oneself, so replies, receipts and typing go out again. */
export async function join(id: string) {
  const agent = me.value;
  if (!agent) return;
  try {
    await invite(id, agent.id);
  } catch (e) {
    showError(e);
  }
}

let agentsLoading = false;
/** Loads (or, with `fresh`, reloads) the organization's agents into `agents`. */
export async function loadAgents(fresh = false) {
  if (agentsLoading || (agents.value && !fresh)) return;
  agentsLoading = true;
  try {
    agents.value = await api.agents();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showError(e);
  } finally {
    agentsLoading = false;
  }
}

let teamsLoading = false;
export async function loadTeams(fresh = false) {
  if (teamsLoading || (teams.value && !fresh)) return;
  teamsLoading = true;
  try {
    teams.value = await api.teams();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showError(e);
  } finally {
    teamsLoading = false;
  }
}

/** With `release` (going away): my open conversations go back to their teams now. */
export async function setStatus(status: "online" | "away", release = false) {
  try {
    me.value = await api.setStatus(status, release);
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
      if (f.max_upload_bytes > 0) maxUpload.value = f.max_upload_bytes;
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
      visitorTyping.value = f.typing ? { conversationId: f.conversation_id, name: f.name, preview: f.preview } : null;
      if (f.typing) typingTimer = window.setTimeout(() => (visitorTyping.value = null), TYPING_LAPSE_MS);
      break;
    case "agent_status": {
      // A status change comes from a connected dashboard, so presence follows the status.
      const patch = { status: f.status, presence: f.status };
      if (me.value && f.agent_id === me.value.id) me.value = { ...me.value, ...patch };
      if (agents.value?.some((a) => a.id === f.agent_id)) {
        agents.value = agents.value.map((a) => (a.id === f.agent_id ? { ...a, ...patch } : a));
      }
      break;
    }
    case "notice":
      onNotice(f.kind, f.conversation_id, f.by_name, f.text);
      break;
    case "error":
      onError(f.code, f.message, f.client_id);
      break;
    case "tags":
      onTagList(f.tags);
      break;
    case "visitor_page":
      visitorPage.value = { contactId: f.contact_id, at: f.page.at };
      break;
    case "contact":
      contactChanged(f.contact, f.merged_from);
      break;
    case "feedback":
      feedbackChanged(f.conversation_id, f.feedback);
      break;
    case "open_widget":
    case "visitor_conversation":
    case "presence":
    case "queue":
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
    // "Ann invited Bob", "Transferred to Billing": the participants or the team changed.
    if (m.kind === "system" && openId.value === m.conversation_id) void loadDetail(m.conversation_id);
    if (m.kind === "visitor" && Date.now() - detailAt > 5000 && openId.value === m.conversation_id) {
      // The visitor may have moved to another page: refresh the contact panel now and then.
      void loadDetail(m.conversation_id);
    }
  }
}

/** The tag list changed: patch the conversations held (a rename or a delete sends none). */
function onTagList(list: Conversation["tags"]) {
  tagList.value = list;
  batch(() => {
    for (const c of Array.from(cache.values())) {
      const patched = retag(c, list);
      if (patched) upsert(patched);
    }
  });
}

/**
 * A contact's profile changed, or `mergedFrom` was merged into it: held conversations of either
 * take its id, name and email (a merge sends no `conversation` frames), and so does the open one.
 */
export function contactChanged(p: ContactProfile, mergedFrom: string | null) {
  const ours = (id: string) => id === p.id || id === mergedFrom;
  batch(() => {
    contactChange.value = { contact: p, mergedFrom };
    for (const c of Array.from(cache.values())) {
      if (ours(c.contact_id) && (c.contact_id !== p.id || c.contact_name !== p.name || c.contact_email !== p.email)) {
        upsert({ ...c, contact_id: p.id, contact_name: p.name, contact_email: p.email });
      }
    }
    const d = detail.value;
    if (d && ours(d.contact.id)) {
      if (d.contact.id !== p.id) void loadDetail(d.conversation.id);
      else detail.value = { ...d, contact: { ...d.contact, name: p.name, email: p.email } };
    }
  });
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

/** What a notice says, in the words of the person it is for. */
export function noticeText(kind: NoticeKind, byName: string | null, text: string | null): string {
  const reason = text && text.trim() ? ": " + text.trim() : "";
  switch (kind) {
    case "transfer":
      return (byName ? byName + " transferred a conversation to you" : "A conversation was transferred to you") + reason;
    case "invite":
      return (byName ? byName + " invited you to a conversation" : "You were invited to a conversation") + reason;
    case "assigned":
      return "A new chat was assigned to you";
    case "mention":
      return (byName ? byName + " mentioned you" : "You were mentioned") + reason;
  }
}

function onNotice(kind: NoticeKind, conversationId: string, byName: string | null, text: string | null) {
  const message = noticeText(kind, byName, text);
  const open = () => navigate("/app/c/" + encodeURIComponent(conversationId));
  scheduleCounts();
  if (openId.value === conversationId) void loadDetail(conversationId);
  const c = cache.get(conversationId);
  const who = c ? contactLabel(c.contact_name, c.contact_id) : null;
  beep();
  if (document.visibilityState !== "visible") {
    // Same tag as the "new conversation" notification, so a routed chat shows one, not two.
    notify(message, who ? "Chat with " + who : "Open the conversation", "fd-" + conversationId, open);
  }
  if (openId.value === conversationId && document.visibilityState === "visible") return;
  if (!noticeHosts) {
    toast.value = message;
    return;
  }
  const n: Notice = { key: ++noticeKey, kind, conversationId, text: message };
  notices.value = notices.value.filter((x) => x.conversationId !== conversationId).concat(n).slice(-MAX_NOTICES);
}

/** Opening a conversation settles the notices about it. */
effect(() => {
  const id = openId.value;
  if (id && untracked(() => notices.value.some((n) => n.conversationId === id))) {
    notices.value = notices.value.filter((n) => n.conversationId !== id);
  }
});

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
