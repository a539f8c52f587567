// The inbox: tabs and the conversation list, the open conversation (with its transfer and
// invite dialogs), the contact panel, and the notices ("Ann transferred a conversation to you").
import {
  AttachButton,
  DropOverlay,
  filesToSend,
  MessageFiles,
  pasteFiles,
  PendingFiles,
  takeReady,
  UploadTray,
  useFileDrop,
} from "./Attachments";
import { BanDialog, TranscriptButton } from "./Ban";
import { EmojiButton } from "./Emoji";
import { Component, type ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { AgentView } from "../../generated/AgentView";
import type { Conversation } from "../../generated/Conversation";
import type { Message } from "../../generated/Message";
import type { Participant } from "../../generated/Participant";
import type { Presence } from "../../generated/Presence";
import type { Priority } from "../../generated/Priority";
import { api, problemText, type Tab } from "../api";
import { VisitorPanel } from "./VisitorPanel";
import { ContactSidebar } from "./ContactProfile";
import { FeedbackPanel } from "./Feedback";
import { clockTime, contactLabel, dateTime, initial, now, relativeTime, waitingTime } from "../format";
import { activeKeys, filters } from "../filters";
import { linkClick } from "../router";
import {
  accessTo,
  act,
  agents,
  cache,
  counts,
  detail,
  dismissFailed,
  dismissNotice,
  hostNotices,
  invite,
  join,
  loadAgents,
  loadTeams,
  notices,
  teams,
  transfer,
  listError,
  listIds,
  listLoading,
  loadList,
  me,
  nextCursor,
  onTyping,
  openId,
  outbox,
  rev,
  selectTab,
  sendMessage,
  showError,
  step,
  stopTyping,
  tab,
  TABS,
  thread,
  upsert,
  visitorTyping,
  typingPreview,
  setTypingPreview,
  type Access,
  type Outgoing,
} from "../store";
import { Rich, StatusBadge, Text, Tick, type TickState } from "../ui";
import { useCannedPicker } from "./CannedPicker";
import { FilterBar } from "./Filters";
import { ConversationTags, RowTags } from "./Tags";

const REPLY_BOX_ID = "reply-box";

export function Inbox() {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      // An open dialog owns the keyboard (its Escape closes it).
      if (document.querySelector("dialog[open]")) return;
      if (e.key === "Escape") {
        const a = document.activeElement as HTMLElement | null;
        if (a && a !== document.body) a.blur();
        return;
      }
      if (e.ctrlKey || e.metaKey || e.isComposing) return;
      if (e.altKey && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
        e.preventDefault();
        step(e.key === "ArrowDown" ? 1 : -1);
        return;
      }
      if (isEditable(e.target)) return;
      if (e.key === "?") {
        e.preventDefault();
        setHelp(true);
        return;
      }
      if (e.altKey || e.shiftKey) return;
      const click = (testId: string) => {
        const b = document.querySelector<HTMLButtonElement>(`[data-testid="${testId}"]:not([disabled])`);
        if (b) {
          e.preventDefault();
          b.click();
        }
        return !!b;
      };
      if (e.key === "j") step(1);
      else if (e.key === "k") step(-1);
      else if (e.key === "r" || e.key === "n") {
        const box = document.getElementById(REPLY_BOX_ID);
        const toggle = document.querySelector<HTMLButtonElement>('[data-testid="note-toggle"]');
        // `n` writes a note, `r` a reply: switch the composer if it is in the other mode.
        if (toggle && !toggle.disabled && (toggle.getAttribute("aria-pressed") === "true") !== (e.key === "n")) toggle.click();
        if (box) {
          e.preventDefault();
          box.focus();
        }
      } else if (e.key === "e") click("resolve");
      else if (e.key === "a") click("take") || click("transfer-button");
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);
  useEffect(() => hostNotices(), []);
  const [help, setHelp] = useState(false);

  return (
    <main class="inbox">
      <h1 class="sr-only">Inbox</h1>
      <ConversationList />
      <ConversationPane />
      <ContactPanel />
      <Notices />
      {help && <ShortcutHelp onClose={() => setHelp(false)} />}
    </main>
  );
}

const SHORTCUTS: [string, string][] = [
  ["j / k", "Next / previous conversation"],
  ["Alt+↓ / Alt+↑", "Next / previous, even while typing"],
  ["r", "Reply"],
  ["n", "Write an internal note"],
  ["/", "At the start of the reply box: pick a canned response"],
  ["e", "Resolve"],
  ["a", "Take the chat, or assign it (transfer)"],
  ["Ctrl+K", "Search conversations and contacts (⌘K on a Mac)"],
  ["Esc", "Leave the box you are typing in"],
  ["?", "This list"],
];

function ShortcutHelp({ onClose }: { onClose: () => void }) {
  return (
    <Modal title="Keyboard shortcuts" testId="shortcut-help" onClose={onClose}>
      <dl class="shortcuts">
        {SHORTCUTS.map(([keys, what]) => (
          <div key={keys}>
            <dt>
              {keys.split(" / ").map((k, i) => (
                <span key={k}>
                  {i > 0 && " / "}
                  <kbd>{k}</kbd>
                </span>
              ))}
            </dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
      <div class="form-actions">
        <button type="button" class="btn" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}

function isEditable(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT";
}

// --- the list ----------------------------------------------------------------------------------------
// "unassigned" holds queued live chats and offline messages: to people, they are new.
const TAB_LABEL: Record<Tab, string> = { unassigned: "New", mine: "Mine", all: "All", resolved: "Resolved" };
const ROW = 76;

function Tabs() {
  const c = counts.value;
  const count = (t: Tab) => (c && t !== "resolved" ? c[t] : null);
  const unread = (t: Tab) => (c ? (t === "unassigned" ? c.unread_unassigned : t === "mine" ? c.unread_mine : t === "all" ? c.unread_all : 0) : 0);
  return (
    <div class="tabs" role="tablist" aria-label="Conversations">
      {TABS.map((t) => {
        const n = count(t);
        const selected = tab.value === t;
        return (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={selected}
            aria-controls="conv-list"
            class={"tab" + (selected ? " is-selected" : "")}
            data-testid={"tab-" + t}
            onClick={() => selectTab(t)}
          >
            {TAB_LABEL[t]}
            {n !== null && <span class="count">{n}</span>}
            {unread(t) > 0 && <span class="unread-dot" role="img" aria-label="unread" />}
          </button>
        );
      })}
    </div>
  );
}

/** A virtualised list: only the rows in view (plus a margin) are in the DOM. */
function ConversationList() {
  const ids = listIds.value;
  const selected = openId.value;
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(800);
  rev.value; // re-render when any conversation changes
  now.value; // and as relative times age

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    setHeight(el.clientHeight);
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const start = Math.max(0, Math.floor(scrollTop / ROW) - 5);
  const end = Math.min(ids.length, Math.ceil((scrollTop + height) / ROW) + 5);

  useEffect(() => {
    if (end >= ids.length - 10 && nextCursor.value && !listLoading.value) void loadList(false);
  }, [end, ids.length, nextCursor.value]);

  useEffect(() => {
    // Keep the open conversation in view when j/k moves past the edge.
    const el = ref.current;
    const i = selected ? ids.indexOf(selected) : -1;
    if (!el || i < 0) return;
    const top = i * ROW;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW - el.clientHeight;
  }, [selected]);

  return (
    <section class="list-col" aria-label="Conversation list">
      <Tabs />
      <FilterBar />
      <div class="list" id="conv-list" role="tabpanel" ref={ref} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
        <ul class="list-inner" style={{ height: ids.length * ROW + "px" }}>
          {ids.slice(start, end).map((id, k) => {
            const c = cache.get(id);
            return c ? <RowMemo key={id} c={c} top={(start + k) * ROW} selected={id === selected} /> : null;
          })}
        </ul>
        {!ids.length && !listLoading.value && !listError.value && (
          <p class="list-empty">{activeKeys(filters.value).length ? "No conversations match the filters." : "No conversations here."}</p>
        )}
        {listLoading.value && <p class="list-empty">Loading…</p>}
        {listError.value && (
          <p class="form-error" role="alert">
            {listError.value}{" "}
            <button type="button" class="btn btn-small" onClick={() => void loadList(true)}>
              Retry
            </button>
          </p>
        )}
      </div>
    </section>
  );
}

type RowProps = { c: Conversation; top: number; selected: boolean };

/**
 * A row renders again only when its conversation, place or selection changes (it follows
 * `now` by itself): scrolling or an event renders the rows that changed, not all in view.
 */
class RowMemo extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps) {
    return next.c !== this.props.c || next.top !== this.props.top || next.selected !== this.props.selected;
  }
  override render() {
    return <Row {...this.props} />;
  }
}

function Row({ c, top, selected }: RowProps) {
  const href = "/app/c/" + encodeURIComponent(c.id);
  return (
    <li class="row" style={{ transform: "translateY(" + top + "px)" }}>
      <a
        href={href}
        class={"conv-item" + (selected ? " is-selected" : "") + (c.unread > 0 ? " is-unread" : "")}
        aria-current={selected ? "true" : undefined}
        data-testid="conv-item"
        data-id={c.id}
        onClick={(e) => linkClick(e, href)}
      >
        <span class="row-line">
          <span class="row-name">{contactLabel(c.contact_name, c.contact_id)}</span>
          <time class="row-time" dateTime={c.last_message_at ? new Date(c.last_message_at).toISOString() : undefined}>
            {relativeTime(c.last_message_at ?? c.updated_at, now.value)}
          </time>
        </span>
        <span class="row-line">
          <span class="row-site">{c.website_name}</span>
          <RowTags tags={c.tags} />
          <RowBadges c={c} at={now.value} />
        </span>
        <span class="row-line">
          <span class="row-preview">{c.last_message_preview ?? ""}</span>
          {c.unread > 0 && (
            <span class="unread-count" aria-label={c.unread + " unread"}>
              {c.unread}
            </span>
          )}
        </span>
      </a>
    </li>
  );
}

const PRIORITY_LABEL: Record<Priority, string> = { normal: "Normal", high: "High", urgent: "Urgent" };
/** Waiting longer than this shows in the warning colour. */
const LONG_WAIT_MS = 3 * 60_000;

/** A live chat in the queue: nobody has it yet and the visitor is still waiting in the widget. */
function queued(c: Conversation): boolean {
  return c.status === "open" && c.assignee_id === null && !c.offline && c.enqueued_at !== null;
}

function TeamBadge({ name }: { name: string }) {
  return (
    <span class="badge badge-team" data-testid="badge-team" title={"Team: " + name}>
      <span class="sr-only">Team: </span>
      {name}
    </span>
  );
}

function RowBadges({ c, at }: { c: Conversation; at: number }) {
  const since = queued(c) ? c.enqueued_at : null;
  return (
    <span class="row-badges">
      {c.team_name && <TeamBadge name={c.team_name} />}
      {c.priority !== "normal" && (
        <span class={"badge prio-" + c.priority} data-testid="badge-priority">
          {PRIORITY_LABEL[c.priority]}
        </span>
      )}
      {c.offline && (
        <span class="badge badge-offline" data-testid="badge-offline" title="Left as an offline message: replies go by email">
          Offline
        </span>
      )}
      {since !== null ? (
        <span class={"badge badge-wait" + (at - since >= LONG_WAIT_MS ? " is-long" : "")} data-testid="badge-waiting">
          {waitingTime(since, at)}
        </span>
      ) : (
        // An unanswered offline message needs no "Open" beside "Offline".
        !(c.offline && c.assignee_id === null && c.status === "open") && <StatusBadge status={c.status} />
      )}
    </span>
  );
}

// --- the open conversation -------------------------------------------------------------------------
/** The open conversation's participants, once its detail is loaded. */
function participantsFor(id: string): Participant[] | null {
  const d = detail.value;
  return d && d.conversation.id === id ? d.participants : null;
}

function ConversationPane() {
  const id = openId.value;
  rev.value;
  const t = thread.value;
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const pendingHere = outbox.value.filter((o) => o.conversation_id === id);
  const count = (t ? t.messages.length : 0) + pendingHere.length;
  // Files dropped anywhere on the conversation go with its next reply or note.
  const drop = useFileDrop(id, () => document.getElementById(REPLY_BOX_ID)?.focus());

  useLayoutEffect(() => {
    stick.current = true;
  }, [id]);
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [id, count, t && t.loading]);

  if (!id) {
    return (
      <section class="pane pane-empty" aria-label="Conversation">
        <p>Select a conversation.</p>
        <p class="muted">
          <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>r</kbd> reply, <kbd>n</kbd> note, <kbd>e</kbd> resolve, <kbd>?</kbd> all shortcuts
        </p>
      </section>
    );
  }
  const c = cache.get(id) ?? null;
  const typing = visitorTyping.value;
  const participants = participantsFor(id);
  const access: Access = c ? accessTo(c, participants ? participants.map((p) => p.id) : null, me.value) : "reply";
  const d = detail.value;
  const email = c ? c.contact_email ?? (d && d.conversation.id === id ? d.contact.email : null) : null;
  return (
    <section class="pane" aria-label="Conversation" {...drop.props}>
      {drop.over && <DropOverlay />}
      <PaneHeader id={id} c={c} participants={participants} access={access} />
      {c && access === "observe" && (
        <div class="banner banner-observe" role="status" data-testid="observe-banner">
          <EyeIcon />
          <span class="banner-text">
            You're observing — the visitor and {c.assignee_name ?? "the assignee"} don't see you.
          </span>
          <button type="button" class="btn btn-small btn-primary" data-testid="join" onClick={() => void join(id)}>
            Join
          </button>
        </div>
      )}
      <div
        class="messages"
        ref={scroller}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
        }}
        onLoadCapture={(e) => {
          // An image that loads grows the thread: stay at the end if we were there.
          const el = e.currentTarget;
          if (stick.current) el.scrollTop = el.scrollHeight;
        }}
      >
        {t && t.loading && <p class="muted center">Loading messages…</p>}
        {t && t.error && (
          <p class="form-error" role="alert">
            {t.error}
          </p>
        )}
        <div class="msg-list" role="log" aria-live="polite" aria-label="Messages">
          {t && t.id === id && t.messages.map((m) => <MessageRow key={m.seq} m={m} tick={m.kind === "agent" ? tickFor(m, c) : null} />)}
          {pendingHere.map((o) => (
            <PendingItem key={o.client_id} o={o} />
          ))}
        </div>
      </div>
      <div class="typing-row">
        <p class="typing" aria-live="polite" data-testid="visitor-typing">
          {typing && typing.conversationId === id ? (typing.name || "Visitor") + " is typing…" : ""}
          {typing && typing.conversationId === id && typingPreview.value && typing.preview ? (
            <span class="typing-preview" data-testid="typing-preview">
              {" "}“{typing.preview}”
            </span>
          ) : null}
        </p>
        <label class="typing-toggle" title="See what visitors type before they send it. Their unsent text is never stored.">
          <input
            type="checkbox"
            checked={typingPreview.value}
            onChange={(e) => setTypingPreview(e.currentTarget.checked)}
            data-testid="typing-preview-toggle"
          />
          <span>Preview typing</span>
        </label>
      </div>
      {c && c.offline && (
        <p class="banner banner-offline" data-testid="offline-banner">
          <MailIcon />
          <span class="banner-text">
            {email ? (
              <>
                The visitor left this as an offline message. Your reply is sent to <strong>{email}</strong> by email.
              </>
            ) : (
              "No email address: the visitor sees your reply only if they come back to the chat."
            )}
          </span>
        </p>
      )}
      <Composer key={id} id={id} access={access} assigneeName={c ? c.assignee_name : null} />
    </section>
  );
}

function PaneHeader({ id, c, participants, access }: { id: string; c: Conversation | null; participants: Participant[] | null; access: Access }) {
  const agent = me.value;
  const [dialog, setDialog] = useState<"transfer" | "invite" | "ban" | null>(null);
  const elevated = !!agent && (agent.role === "supervisor" || agent.role === "admin");
  const live = !!c && c.status !== "resolved";
  // Plain agents hand on only what they could reply in; supervisors and admins anything.
  const canTransfer = live && (elevated || access === "reply");
  const canInvite = live && !!c && c.assignee_id !== null && (elevated || access === "reply");
  // The server's rule: plain agents set the priority of what is free or theirs (an invited
  // colleague may not); supervisors and admins of anything.
  const canPrioritize = live && !!agent && (elevated || c.assignee_id === null || c.assignee_id === agent.id);
  return (
    <header class="pane-header">
      <div class="pane-title">
        <h2>{c ? contactLabel(c.contact_name, c.contact_id) : "Conversation"}</h2>
        {c && (
          <div class="pane-meta muted">
            <span>
              {c.website_name}
              {c.assignee_name ? " · Assigned to " + (agent && c.assignee_id === agent.id ? "you" : c.assignee_name) : " · Unassigned"}
            </span>
            {c.team_name && <TeamBadge name={c.team_name} />}
            {c.priority !== "normal" && <span class={"badge prio-" + c.priority}>{PRIORITY_LABEL[c.priority]}</span>}
            {participants && participants.length > 0 && <Participants list={participants} />}
          </div>
        )}
        {c && <ConversationTags c={c} />}
      </div>
      <div class="pane-actions">
        {c && <StatusBadge status={c.status} />}
        {c && c.status !== "resolved" && c.assignee_id === null && (
          <button type="button" class="btn btn-primary" data-testid="take" onClick={() => void act("take", id)}>
            Take
          </button>
        )}
        {c && canPrioritize && <PrioritySelect c={c} />}
        {canTransfer && (
          <button
            type="button"
            class="btn"
            data-testid="transfer-button"
            aria-haspopup="dialog"
            onClick={() => setDialog("transfer")}
          >
            Transfer
          </button>
        )}
        {canInvite && (
          <button type="button" class="btn" data-testid="invite-button" aria-haspopup="dialog" onClick={() => setDialog("invite")}>
            Invite
          </button>
        )}
        {c && (
          <button type="button" class="btn" data-testid="ban-button" aria-haspopup="dialog" onClick={() => setDialog("ban")}>
            Ban
          </button>
        )}
        {c && c.status !== "resolved" && (
          <button type="button" class="btn" data-testid="resolve" onClick={() => void act("resolve", id)}>
            Resolve
          </button>
        )}
        {c && c.status === "resolved" && (
          <button type="button" class="btn" data-testid="reopen" onClick={() => void act("reopen", id)}>
            Reopen
          </button>
        )}
      </div>
      {c && dialog === "transfer" && <TransferDialog c={c} onClose={() => setDialog(null)} />}
      {c && dialog === "invite" && <InviteDialog c={c} participants={participants ?? []} onClose={() => setDialog(null)} />}
      {c && dialog === "ban" && <BanDialog c={c} onClose={() => setDialog(null)} />}
    </header>
  );
}

const PRIORITIES: Priority[] = ["normal", "high", "urgent"];

function PrioritySelect({ c }: { c: Conversation }) {
  const change = async (e: Event) => {
    const el = e.currentTarget as HTMLSelectElement;
    const priority = el.value as Priority;
    try {
      upsert(await api.setPriority(c.id, { priority }));
    } catch (err) {
      // Back to what the server has; the toast says why.
      el.value = (cache.get(c.id) ?? c).priority;
      showError(err);
    }
  };
  return (
    <select class="prio-select" data-testid="priority-select" aria-label="Priority" value={c.priority} onChange={change}>
      {PRIORITIES.map((p) => (
        <option key={p} value={p}>
          {PRIORITY_LABEL[p]}
        </option>
      ))}
    </select>
  );
}

/** Invited colleagues as small chips: first names (full names on hover and for screen readers). */
function Participants({ list }: { list: Participant[] }) {
  const self = me.value ? me.value.id : null;
  return (
    <ul class="participants" aria-label="Invited colleagues" data-testid="participants">
      {list.map((p) => {
        const full = p.id === self ? "You" : p.name;
        const short = p.id === self ? "You" : p.name.trim().split(/\s+/)[0] || p.name;
        return (
          <li key={p.id} class="chip" title={full + (p.id === self ? " joined" : " was invited") + " and can reply"} data-id={p.id}>
            <span class="avatar avatar-xs" aria-hidden="true">
              {initial(p.name)}
            </span>
            <span class="chip-name" aria-hidden={short !== full ? "true" : undefined}>
              {short}
            </span>
            {short !== full && <span class="sr-only">{full}</span>}
          </li>
        );
      })}
    </ul>
  );
}

// --- transfer and invite ---------------------------------------------------------------------------
let dialogSeq = 0;

/**
 * A modal dialog: the rest of the page is inert while it is open (the browser traps focus),
 * Escape and a click on the backdrop close it, and focus goes back to what opened it.
 */
export function Modal({ title, testId, onClose, children }: { title: string; testId: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [titleId] = useState(() => "dialog-title-" + ++dialogSeq);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!d.open) d.showModal();
    return () => {
      if (d.open) d.close();
      if (opener && opener.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class="modal"
      aria-labelledby={titleId}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onMouseDown={(e) => {
        // The dialog element itself is only hit on the backdrop: its content fills it.
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div class="modal-body">
        <h2 id={titleId}>{title}</h2>
        {children}
      </div>
    </dialog>
  );
}

const PRESENCE_LABEL: Record<Presence, string> = { online: "Online", away: "Away", offline: "Offline" };
const PRESENCE_ORDER: Record<Presence, number> = { online: 0, away: 1, offline: 2 };
type Load = { active: number; limit: number };

/** Colleagues, the available ones first, and what the monitor says of their load (if allowed). */
function useColleagues(): { list: AgentView[]; loads: Map<string, Load> } {
  const [loads, setLoads] = useState<Map<string, Load>>(new Map());
  useEffect(() => {
    void loadAgents(true);
    const a = me.value;
    if (!a || (a.role !== "supervisor" && a.role !== "admin")) return;
    let stop = false;
    api
      .monitor()
      .then((m) => {
        if (!stop) setLoads(new Map(m.agents.map((x) => [x.id, { active: x.active, limit: x.limit }])));
      })
      .catch(() => {
        // The load is a hint; the list works without it.
      });
    return () => {
      stop = true;
    };
  }, []);
  const list = (agents.value ?? [])
    .slice()
    .sort((x, y) => PRESENCE_ORDER[x.presence] - PRESENCE_ORDER[y.presence] || x.name.localeCompare(y.name));
  return { list, loads };
}

function agentOption(a: AgentView, load: Load | undefined, self: string | null): string {
  const full = load && load.active >= load.limit ? ", full" : "";
  return (
    a.name +
    (a.id === self ? " (you)" : "") +
    " — " +
    PRESENCE_LABEL[a.presence] +
    (load ? ", " + load.active + "/" + load.limit + " chats" + full : "")
  );
}

/** The chosen colleague's presence, with its dot, under the select. */
function AgentHint({ a, load }: { a: AgentView | undefined; load: Load | undefined }) {
  if (!a) return null;
  return (
    <small class="agent-hint">
      <span class={"presence-dot is-" + a.presence} aria-hidden="true" />
      {PRESENCE_LABEL[a.presence]}
      {load ? " · " + load.active + " of " + load.limit + " chats" : " · takes up to " + a.max_chats + " chats"}
      {a.presence !== "online" ? " · may not answer soon" : ""}
    </small>
  );
}

const REASON_MAX = 500;

function TransferDialog({ c, onClose }: { c: Conversation; onClose: () => void }) {
  const { list, loads } = useColleagues();
  const self = me.value ? me.value.id : null;
  const [agentId, setAgentId] = useState("");
  const [teamId, setTeamId] = useState("");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void loadTeams(true);
  }, []);
  const choices = list.filter((a) => a.id !== c.assignee_id);
  const teamList = teams.value ?? [];
  const chosen = choices.find((a) => a.id === agentId);

  const submit = async () => {
    if ((!agentId && !teamId) || busy) return;
    setBusy(true);
    setError(null);
    try {
      await transfer(c.id, { agent_id: agentId || null, team_id: agentId ? null : teamId || null, reason: reason.trim() || null });
      onClose();
    } catch (e) {
      setError(problemText(e));
      setBusy(false);
    }
  };

  return (
    <Modal title="Transfer conversation" testId="transfer-dialog" onClose={onClose}>
      <p class="muted small">
        Hand {contactLabel(c.contact_name, c.contact_id)} to a colleague, or put the chat back in a team's queue.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label class="field">
          <span>To a colleague</span>
          <select
            value={agentId}
            data-testid="transfer-agent"
            onChange={(e) => {
              setAgentId(e.currentTarget.value);
              if (e.currentTarget.value) setTeamId("");
            }}
          >
            <option value="">{agents.value ? "Choose a colleague…" : "Loading…"}</option>
            {choices.map((a) => (
              <option key={a.id} value={a.id}>
                {agentOption(a, loads.get(a.id), self)}
              </option>
            ))}
          </select>
          <AgentHint a={chosen} load={chosen ? loads.get(chosen.id) : undefined} />
        </label>
        <label class="field">
          <span>Or to a team</span>
          <select
            value={teamId}
            data-testid="transfer-team"
            onChange={(e) => {
              setTeamId(e.currentTarget.value);
              if (e.currentTarget.value) setAgentId("");
            }}
          >
            <option value="">{teams.value ? (teamList.length ? "Choose a team…" : "No teams yet") : "Loading…"}</option>
            {teamList.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name + (t.id === c.team_id ? " (current)" : "")}
              </option>
            ))}
          </select>
          {teamId && <small>The first available agent in the team gets it.</small>}
        </label>
        <label class="field">
          <span>
            Reason <span class="muted">(optional)</span>
          </span>
          <textarea
            value={reason}
            rows={3}
            maxLength={REASON_MAX}
            data-testid="transfer-reason"
            placeholder="What's going on, what's been tried"
            onInput={(e) => setReason(e.currentTarget.value)}
          />
          <small>
            Kept as an internal note · {reason.length}/{REASON_MAX}
          </small>
        </label>
        {error && (
          <p class="form-error" role="alert" data-testid="transfer-error">
            {error}
          </p>
        )}
        <div class="modal-actions">
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" data-testid="transfer-submit" disabled={!agentId && !teamId} aria-busy={busy}>
            {busy ? "Transferring…" : "Transfer"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function InviteDialog({ c, participants, onClose }: { c: Conversation; participants: Participant[]; onClose: () => void }) {
  const { list, loads } = useColleagues();
  const self = me.value ? me.value.id : null;
  const [agentId, setAgentId] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const taken = new Set(participants.map((p) => p.id));
  const choices = list.filter((a) => a.id !== c.assignee_id && a.id !== self && !taken.has(a.id));
  const chosen = choices.find((a) => a.id === agentId);

  const submit = async () => {
    if (!agentId || busy) return;
    setBusy(true);
    setError(null);
    try {
      await invite(c.id, agentId);
      onClose();
    } catch (e) {
      setError(problemText(e));
      setBusy(false);
    }
  };

  return (
    <Modal title="Invite a colleague" testId="invite-dialog" onClose={onClose}>
      <p class="muted small">
        They can reply too; {c.assignee_id === self ? "you keep" : (c.assignee_name ?? "the assignee") + " keeps"} the conversation.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label class="field">
          <span>Colleague</span>
          <select value={agentId} data-testid="invite-agent" onChange={(e) => setAgentId(e.currentTarget.value)}>
            <option value="">{agents.value ? (choices.length ? "Choose a colleague…" : "Everyone is already here") : "Loading…"}</option>
            {choices.map((a) => (
              <option key={a.id} value={a.id}>
                {agentOption(a, loads.get(a.id), self)}
              </option>
            ))}
          </select>
          <AgentHint a={chosen} load={chosen ? loads.get(chosen.id) : undefined} />
        </label>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <div class="modal-actions">
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" data-testid="invite-submit" disabled={!agentId} aria-busy={busy}>
            {busy ? "Inviting…" : "Invite"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

// --- notices -------------------------------------------------------------------------------------------
/** "Ann transferred a conversation to you", with a link to it; stays until opened or dismissed. */
function Notices() {
  const list = notices.value;
  return (
    <div class="notices" role="status" aria-live="polite" aria-relevant="additions">
      {list.map((n) => {
        const href = "/app/c/" + encodeURIComponent(n.conversationId);
        return (
          <div key={n.key} class="notice-toast" data-testid="notice" data-kind={n.kind}>
            <span class="notice-text">{n.text}</span>
            <span class="notice-actions">
              <button type="button" class="btn btn-small btn-ghost" onClick={() => dismissNotice(n.key)}>
                Dismiss
              </button>
              <a
                href={href}
                class="btn btn-small btn-primary"
                data-testid="notice-open"
                onClick={(e) => {
                  dismissNotice(n.key);
                  linkClick(e, href);
                }}
              >
                Open
              </a>
            </span>
          </div>
        );
      })}
    </div>
  );
}

function EyeIcon() {
  return (
    <svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" aria-hidden="true">
      <path d="M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12z" />
      <circle cx="12" cy="12" r="3" />
    </svg>
  );
}

function MailIcon() {
  return (
    <svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" aria-hidden="true">
      <path d="M3 6h18v12H3zM3 7l9 6 9-6" />
    </svg>
  );
}

function tickFor(m: Message, c: Conversation | null): TickState {
  const p = m.public_seq;
  if (!c || p === null) return "sent";
  return c.visitor_read_seq >= p ? "read" : c.visitor_delivered_seq >= p ? "delivered" : "sent";
}

type MessageProps = { m: Message; tick: TickState | null };

/**
 * A message renders again only when it or its tick changes. The pane re-renders on every
 * conversation event (`rev`), which would otherwise re-render (and re-parse) the whole thread
 * each time: 110 ms of main thread per event with 200 messages open (tests/e2e/bench-inbox.mjs).
 */
class MessageRow extends Component<MessageProps> {
  override shouldComponentUpdate(next: MessageProps) {
    return next.m !== this.props.m || next.tick !== this.props.tick;
  }
  override render() {
    return <MessageItem m={this.props.m} tick={this.props.tick} />;
  }
}

function MessageItem({ m, tick }: MessageProps) {
  if (m.kind === "system") {
    return (
      <div class="msg msg-system" data-testid="msg" data-kind={m.kind} data-seq={m.seq}>
        {/* A proactive trigger's greeting, stored when the visitor replied to it: named after its author. */}
        {m.author_name && <strong>Greeting from {m.author_name}: </strong>}
        <Text text={m.text} /> <time dateTime={new Date(m.created_at).toISOString()}>{clockTime(m.created_at)}</time>
      </div>
    );
  }
  const mine = m.kind === "agent" || m.kind === "note";
  return (
    <div class={"msg msg-" + m.kind + (mine ? " out" : " in")} data-testid="msg" data-kind={m.kind} data-seq={m.seq}>
      {m.kind === "note" && <span class="note-label">Note</span>}
      {(m.text || !m.attachments.length) && (
        <div class={mine ? "bubble rich" : "bubble"}>{mine ? <Rich text={m.text} /> : <Text text={m.text} />}</div>
      )}
      <MessageFiles files={m.attachments} />
      <div class="meta">
        {mine && m.author_name && <span>{m.author_name}</span>}
        <time dateTime={new Date(m.created_at).toISOString()} title={dateTime(m.created_at)}>
          {clockTime(m.created_at)}
        </time>
        {tick && <Tick state={tick} />}
      </div>
    </div>
  );
}

function PendingItem({ o }: { o: Outgoing }) {
  const kind = o.note ? "note" : "agent";
  return (
    <div
      class={"msg out msg-" + kind + (o.state === "failed" ? " failed" : " pending")}
      data-testid="msg"
      data-kind={kind}
      data-pending={o.state !== "failed" ? "true" : undefined}
      data-error={o.error ? o.error.code : undefined}
    >
      {o.note && <span class="note-label">Note</span>}
      {(o.text || !o.files.length) && (
        <div class="bubble">
          <Text text={o.text} />
        </div>
      )}
      <PendingFiles files={o.files} />
      <div class="meta">
        {o.state === "failed" && o.error ? (
          <span class="msg-error" role="alert">
            {o.error.text} <code>{o.error.code}</code>{" "}
            <button type="button" class="link-btn" onClick={() => dismissFailed(o.client_id)}>
              Dismiss
            </button>
          </span>
        ) : (
          <Tick state={o.state === "sent" ? "sent" : "pending"} />
        )}
      </div>
    </div>
  );
}

const drafts = new Map<string, string>();

/** With `access` other than "reply", only notes can be written. */
function Composer({ id, access, assigneeName }: { id: string; access: Access; assigneeName: string | null }) {
  const [text, setText] = useState(drafts.get(id) ?? "");
  const [noteChosen, setNote] = useState(false);
  const notesOnly = access !== "reply";
  const note = notesOnly || noteChosen;
  const box = useRef<HTMLTextAreaElement>(null);
  const canned = useCannedPicker({
    conversationId: id,
    text,
    box,
    onPick: (v) => {
      setText(v);
      drafts.set(id, v);
      onTyping(v, note);
    },
  });

  useLayoutEffect(() => {
    // Grow with the text, up to the CSS max-height. CSSOM writes are allowed by the CSP.
    const el = box.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = el.scrollHeight + 2 + "px";
  }, [text]);

  const files = filesToSend(id);
  const [waitFiles, setWaitFiles] = useState(false);
  const submit = () => {
    if (!text.trim() && !files.ready.length) return;
    if (files.uploading) {
      // Sent together or not at all: a reply without the file it talks about is worse.
      setWaitFiles(true);
      return;
    }
    setWaitFiles(false);
    sendMessage(text, note, takeReady(id));
    setText("");
    drafts.delete(id);
  };

  return (
    <form
      class={"composer" + (note ? " is-note" : "")}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {access === "notes" && (
        <p class="composer-lock" data-testid="assigned-banner">
          Assigned to {assigneeName ?? "a colleague"}. Ask them to invite you, or leave a note.
        </p>
      )}
      {canned.popup}
      <UploadTray conversationId={id} />
      <textarea
        id={REPLY_BOX_ID}
        ref={box}
        {...canned.inputProps}
        rows={1}
        value={text}
        placeholder={note ? "Internal note: only agents see it" : "Reply to the visitor… (Enter sends, Shift+Enter for a new line)"}
        aria-label={note ? "Internal note" : "Reply"}
        data-testid="composer"
        onInput={(e) => {
          const v = e.currentTarget.value;
          setText(v);
          drafts.set(id, v);
          onTyping(v, note);
        }}
        onKeyDown={(e) => {
          if (canned.onKeyDown(e)) return;
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
        onBlur={stopTyping}
        onPaste={(e) => pasteFiles(id, e)}
      />
      <div class="composer-bar">
        <AttachButton conversationId={id} onPicked={() => box.current?.focus()} />
        <EmojiButton
          onPick={(emoji) => {
            const el = box.current;
            const at = el ? el.selectionStart : text.length;
            const end = el ? el.selectionEnd : text.length;
            const v = text.slice(0, at) + emoji + text.slice(end);
            setText(v);
            drafts.set(id, v);
            requestAnimationFrame(() => {
              el?.focus();
              el?.setSelectionRange(at + emoji.length, at + emoji.length);
            });
          }}
        />
        <button
          type="button"
          class={"btn btn-small note-toggle" + (note ? " is-on" : "")}
          aria-pressed={note}
          data-testid="note-toggle"
          disabled={notesOnly}
          title={
            notesOnly
              ? access === "observe"
                ? "Join the conversation to reply to the visitor"
                : "Only the assignee and invited colleagues can reply"
              : "Switch between a reply to the visitor and an internal note"
          }
          onClick={() => {
            if (!note) stopTyping();
            setNote(!note);
            box.current?.focus();
          }}
        >
          {note ? "Note" : "Reply"}
        </button>
        <span class="muted small" role={waitFiles && files.uploading ? "status" : undefined}>
          {waitFiles && files.uploading
            ? "Wait until the files have uploaded, then send."
            : access === "observe"
              ? "Notes only while you observe. Join to reply."
              : note
                ? "Only agents will see this note."
                : "Type / for canned responses."}
        </span>
        <button type="submit" class="btn btn-primary" data-testid="send" disabled={!text.trim() && !files.ready.length}>
          {note ? "Add note" : "Send"}
        </button>
      </div>
    </form>
  );
}

// --- the contact ----------------------------------------------------------------------------------------
function ContactPanel() {
  const id = openId.value;
  const d = detail.value;
  if (!id) return <aside class="contact" aria-label="Contact" data-testid="contact-panel" />;
  if (!d || d.conversation.id !== id) {
    return (
      <aside class="contact" aria-label="Contact" data-testid="contact-panel">
        <p class="muted">Loading contact…</p>
      </aside>
    );
  }
  const k = d.contact;
  return (
    <aside class="contact" aria-label="Contact" data-testid="contact-panel">
      <ContactSidebar key={k.id} contactId={k.id} conversationId={d.conversation.id} />
      <FeedbackPanel conversationId={d.conversation.id} />
      {k.email && <TranscriptButton conversationId={d.conversation.id} email={k.email} />}
      <VisitorPanel contactId={k.id} />
    </aside>
  );
}
