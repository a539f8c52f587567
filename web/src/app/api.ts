// The typed REST client for the dashboard (docs/api.md). Bodies and replies are the generated
// wire types; every failure becomes an ApiError carrying the problem's stable `code` and `detail`.

import type { AddTagRequest } from "../generated/AddTagRequest";
import type { AgentSettingsRequest } from "../generated/AgentSettingsRequest";
import type { AgentStatus } from "../generated/AgentStatus";
import type { AgentView } from "../generated/AgentView";
import type { AssignRequest } from "../generated/AssignRequest";
import type { Attachment } from "../generated/Attachment";
import type { CannedResponse } from "../generated/CannedResponse";
import type { Conversation } from "../generated/Conversation";
import type { ConversationDetail } from "../generated/ConversationDetail";
import type { ConversationPage } from "../generated/ConversationPage";
import type { ConversationQuery } from "../generated/ConversationQuery";
import type { CreateAgentRequest } from "../generated/CreateAgentRequest";
import type { CreateCannedRequest } from "../generated/CreateCannedRequest";
import type { CreateTagRequest } from "../generated/CreateTagRequest";
import type { CreateWebsiteRequest } from "../generated/CreateWebsiteRequest";
import type { InboxCounts } from "../generated/InboxCounts";
import type { InviteRequest } from "../generated/InviteRequest";
import type { LoginRequest } from "../generated/LoginRequest";
import type { Message } from "../generated/Message";
import type { MessagePage } from "../generated/MessagePage";
import type { MonitorView } from "../generated/MonitorView";
import type { PriorityRequest } from "../generated/PriorityRequest";
import type { Problem } from "../generated/Problem";
import type { SendMessageRequest } from "../generated/SendMessageRequest";
import type { SetupRequest } from "../generated/SetupRequest";
import type { SetupResponse } from "../generated/SetupResponse";
import type { SetupStatus } from "../generated/SetupStatus";
import type { SiteRouting } from "../generated/SiteRouting";
import type { StatusRequest } from "../generated/StatusRequest";
import type { SearchResults } from "../generated/SearchResults";
import type { Tag } from "../generated/Tag";
import type { TeamView } from "../generated/TeamView";
import type { TransferRequest } from "../generated/TransferRequest";
import type { UpdateCannedRequest } from "../generated/UpdateCannedRequest";
import type { UpdateTagRequest } from "../generated/UpdateTagRequest";
import type { WebsiteView } from "../generated/WebsiteView";
import type { LiveVisitor } from "../generated/LiveVisitor";
import type { ProactiveChatRequest } from "../generated/ProactiveChatRequest";
import type { VisitorDetails } from "../generated/VisitorDetails";

import { errorText } from "../shared/errors";
import { nameQuery } from "../shared/files";

export type Tab = "unassigned" | "mine" | "all" | "resolved";

export class ApiError extends Error {
  readonly status: number;
  /** An `ErrorCode`, or `network` when the server could not be reached. */
  readonly code: string;
  constructor(status: number, code: string, detail: string) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const init: RequestInit = { method, credentials: "same-origin", headers };
  if (body instanceof Blob) {
    // A file's upload: the body is the file itself (its type is not believed anyway).
    init.body = body;
  } else if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (_) {
    throw new ApiError(0, "network", "Cannot reach the server. Check your connection.");
  }
  const text = res.status === 204 ? "" : await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (_) {
    data = null;
  }
  if (!res.ok) {
    const p = (data && typeof data === "object" ? data : {}) as Partial<Problem>;
    throw new ApiError(res.status, p.code ?? "http_" + res.status, p.detail || p.title || "Request failed (HTTP " + res.status + ").");
  }
  return data as T;
}

const q = (params: Record<string, string | number | null | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") s.set(k, String(v));
  const out = s.toString();
  return out ? "?" + out : "";
};
const conv = (id: string) => "/api/v1/conversations/" + encodeURIComponent(id);

export const api = {
  visitorDetails: (contactId: string) => request<VisitorDetails>("GET", "/api/v1/contacts/" + encodeURIComponent(contactId) + "/visit"),
  liveVisitors: () => request<LiveVisitor[]>("GET", "/api/v1/visitors"),
  startChat: (contactId: string, body: ProactiveChatRequest) =>
    request<Conversation>("POST", "/api/v1/visitors/" + encodeURIComponent(contactId) + "/chat", body),
  setupStatus: () => request<SetupStatus>("GET", "/api/v1/setup"),
  setup: (body: SetupRequest) => request<SetupResponse>("POST", "/api/v1/setup", body),
  login: (body: LoginRequest) => request<AgentView>("POST", "/api/v1/auth/login", body),
  logout: () => request<void>("POST", "/api/v1/auth/logout"),
  me: () => request<AgentView>("GET", "/api/v1/me"),
  /** With `release` (and "away"): hand my open conversations back to their teams now. */
  setStatus: (status: AgentStatus, release = false) =>
    request<AgentView>("PUT", "/api/v1/me/status", { status, release } satisfies StatusRequest),
  agents: () => request<AgentView[]>("GET", "/api/v1/agents"),
  createAgent: (body: CreateAgentRequest) => request<AgentView>("POST", "/api/v1/agents", body),
  updateAgent: (id: string, body: AgentSettingsRequest) =>
    request<AgentView>("PUT", "/api/v1/agents/" + encodeURIComponent(id), body),
  teams: () => request<TeamView[]>("GET", "/api/v1/teams"),
  /** The body's `id` is ignored. */
  createTeam: (body: TeamView) => request<TeamView>("POST", "/api/v1/teams", body),
  updateTeam: (id: string, body: TeamView) => request<TeamView>("PUT", "/api/v1/teams/" + encodeURIComponent(id), body),
  deleteTeam: (id: string) => request<void>("DELETE", "/api/v1/teams/" + encodeURIComponent(id)),
  monitor: () => request<MonitorView>("GET", "/api/v1/monitor"),
  counts: () => request<InboxCounts>("GET", "/api/v1/inbox/counts"),
  /** `filter`: the inbox filter's part of the query (filters.ts). */
  conversations: (tab: Tab, cursor: string | null, limit = 50, filter: ConversationQuery = {}) =>
    request<ConversationPage>("GET", "/api/v1/conversations" + q({ ...filter, tab, cursor, limit })),
  conversation: (id: string) => request<ConversationDetail>("GET", conv(id)),
  messages: (id: string, afterSeq: number, limit = 200) =>
    request<MessagePage>("GET", conv(id) + "/messages" + q({ after_seq: afterSeq, limit })),
  sendMessage: (id: string, body: SendMessageRequest) => request<Message>("POST", conv(id) + "/messages", body),
  /** Uploads a file to send with a reply or note; it is unsent until a message names it. */
  upload: (id: string, file: File) => request<Attachment>("POST", conv(id) + "/attachments" + nameQuery(file), file),
  take: (id: string) => request<Conversation>("POST", conv(id) + "/take"),
  assign: (id: string, body: AssignRequest) => request<Conversation>("POST", conv(id) + "/assign", body),
  /** To an agent or to a team (exactly one); the reason is kept as an internal note. */
  transfer: (id: string, body: TransferRequest) => request<Conversation>("POST", conv(id) + "/transfer", body),
  invite: (id: string, body: InviteRequest) => request<Conversation>("POST", conv(id) + "/invite", body),
  setPriority: (id: string, body: PriorityRequest) => request<Conversation>("POST", conv(id) + "/priority", body),
  resolve: (id: string) => request<Conversation>("POST", conv(id) + "/resolve"),
  reopen: (id: string) => request<Conversation>("POST", conv(id) + "/reopen"),
  websites: () => request<WebsiteView[]>("GET", "/api/v1/websites"),
  createWebsite: (body: CreateWebsiteRequest) => request<WebsiteView>("POST", "/api/v1/websites", body),
  routing: (websiteId: string) => request<SiteRouting>("GET", "/api/v1/websites/" + encodeURIComponent(websiteId) + "/routing"),
  setRouting: (websiteId: string, body: SiteRouting) =>
    request<SiteRouting>("PUT", "/api/v1/websites/" + encodeURIComponent(websiteId) + "/routing", body),
  /** Shared and my personal ones; with a conversation, each carries its text filled in for it. */
  canned: (conversationId: string | null = null) =>
    request<CannedResponse[]>("GET", "/api/v1/canned-responses" + q({ conversation_id: conversationId })),
  createCanned: (body: CreateCannedRequest) => request<CannedResponse>("POST", "/api/v1/canned-responses", body),
  updateCanned: (id: string, body: UpdateCannedRequest) =>
    request<CannedResponse>("PUT", "/api/v1/canned-responses/" + encodeURIComponent(id), body),
  deleteCanned: (id: string) => request<void>("DELETE", "/api/v1/canned-responses/" + encodeURIComponent(id)),
  tags: () => request<Tag[]>("GET", "/api/v1/tags"),
  createTag: (body: CreateTagRequest) => request<Tag>("POST", "/api/v1/tags", body),
  updateTag: (id: string, body: UpdateTagRequest) => request<Tag>("PUT", "/api/v1/tags/" + encodeURIComponent(id), body),
  deleteTag: (id: string) => request<void>("DELETE", "/api/v1/tags/" + encodeURIComponent(id)),
  /** A tag of the list by id, or by name (created if the organization has none of that name). */
  addTag: (id: string, body: AddTagRequest) => request<Conversation>("POST", conv(id) + "/tags", body),
  removeTag: (id: string, tagId: string) => request<Conversation>("DELETE", conv(id) + "/tags/" + encodeURIComponent(tagId)),
  /** Conversations and contacts matching `text` (the last word as a prefix). */
  search: (text: string, limit = 20) => request<SearchResults>("GET", "/api/v1/search" + q({ q: text, limit })),
};

/** Codes whose server detail says exactly what to fix ("password must be 8 to 128 characters"). */
const SPECIFIC = new Set([
  "invalid_name",
  "invalid_email",
  "invalid_password",
  "invalid_url",
  "invalid_domain",
  "message_too_long",
  // "Ann already has 5 of 5 chats": the detail names who and how many.
  "agent_at_capacity",
  "invalid_settings",
  "invalid_tag_name",
  "invalid_filter",
  "invalid_phone",
  "invalid_company",
  "invalid_attribute",
  "invalid_merge",
  // "the file is larger than 10 MB"
  "file_too_large",
  "invalid_search",
]);

/**
 * The message to show for any thrown value: the shared plain-language text for a known code
 * (as the widget shows), else the server's detail written as a sentence.
 */
export function problemText(e: unknown): string {
  if (!(e instanceof Error)) return "Something went wrong.";
  if (e instanceof ApiError && !SPECIFIC.has(e.code)) {
    const text = errorText(e.code, "");
    if (text) return text;
  }
  return sentence(e.message) || "Something went wrong.";
}

function sentence(s: string): string {
  const t = s.trim();
  if (!t) return t;
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?…]$/.test(t) ? "" : ".");
}
