// The inbox: tabs and the conversation list, the open conversation, and the contact panel.
import type { ComponentChild } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Conversation } from "../../generated/Conversation";
import type { Message } from "../../generated/Message";
import { isWebUrl } from "../../shared/text";
import type { Tab } from "../api";
import { clockTime, contactLabel, dateTime, now, relativeTime } from "../format";
import { linkClick } from "../router";
import {
  act,
  cache,
  counts,
  detail,
  dismissFailed,
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
  step,
  stopTyping,
  tab,
  TABS,
  thread,
  visitorTyping,
  type Outgoing,
} from "../store";
import { StatusBadge, Text, Tick, type TickState } from "../ui";

const REPLY_BOX_ID = "reply-box";

export function Inbox() {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
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
      if (e.altKey || e.shiftKey || isEditable(e.target)) return;
      if (e.key === "j") step(1);
      else if (e.key === "k") step(-1);
      else if (e.key === "r") {
        const box = document.getElementById(REPLY_BOX_ID);
        if (box) {
          e.preventDefault();
          box.focus();
        }
      }
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);

  return (
    <main class="inbox">
      <h1 class="sr-only">Inbox</h1>
      <ConversationList />
      <ConversationPane />
      <ContactPanel />
    </main>
  );
}

function isEditable(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT";
}

// --- the list ----------------------------------------------------------------------------------------
const TAB_LABEL: Record<Tab, string> = { unassigned: "Unassigned", mine: "Mine", all: "All", resolved: "Resolved" };
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
      <div class="list" id="conv-list" role="tabpanel" ref={ref} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
        <ul class="list-inner" style={{ height: ids.length * ROW + "px" }}>
          {ids.slice(start, end).map((id, k) => {
            const c = cache.get(id);
            return c ? <Row key={id} c={c} top={(start + k) * ROW} selected={id === selected} /> : null;
          })}
        </ul>
        {!ids.length && !listLoading.value && !listError.value && <p class="list-empty">No conversations here.</p>}
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

function Row({ c, top, selected }: { c: Conversation; top: number; selected: boolean }) {
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
          <StatusBadge status={c.status} />
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

// --- the open conversation -------------------------------------------------------------------------
function ConversationPane() {
  const id = openId.value;
  rev.value;
  const t = thread.value;
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const pendingHere = outbox.value.filter((o) => o.conversation_id === id);
  const count = (t ? t.messages.length : 0) + pendingHere.length;

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
          <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>r</kbd> reply, <kbd>Esc</kbd> leave the box
        </p>
      </section>
    );
  }
  const c = cache.get(id) ?? null;
  const typing = visitorTyping.value;
  return (
    <section class="pane" aria-label="Conversation">
      <PaneHeader id={id} c={c} />
      <div
        class="messages"
        ref={scroller}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
        }}
      >
        {t && t.loading && <p class="muted center">Loading messages…</p>}
        {t && t.error && (
          <p class="form-error" role="alert">
            {t.error}
          </p>
        )}
        <div class="msg-list" role="log" aria-live="polite" aria-label="Messages">
          {t && t.id === id && t.messages.map((m) => <MessageItem key={m.seq} m={m} c={c} />)}
          {pendingHere.map((o) => (
            <PendingItem key={o.client_id} o={o} />
          ))}
        </div>
      </div>
      <p class="typing" aria-live="polite">
        {typing && typing.conversationId === id ? (typing.name || "Visitor") + " is typing…" : ""}
      </p>
      <Composer key={id} id={id} />
    </section>
  );
}

function PaneHeader({ id, c }: { id: string; c: Conversation | null }) {
  const agent = me.value;
  return (
    <header class="pane-header">
      <div class="pane-title">
        <h2>{c ? contactLabel(c.contact_name, c.contact_id) : "Conversation"}</h2>
        {c && (
          <p class="muted">
            {c.website_name}
            {c.assignee_name ? " · Assigned to " + (agent && c.assignee_id === agent.id ? "you" : c.assignee_name) : " · Unassigned"}
          </p>
        )}
      </div>
      <div class="pane-actions">
        {c && <StatusBadge status={c.status} />}
        {c && c.status !== "resolved" && c.assignee_id === null && (
          <button type="button" class="btn btn-primary" data-testid="take" onClick={() => void act("take", id)}>
            Take
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
    </header>
  );
}

function tickFor(m: Message, c: Conversation | null): TickState {
  const p = m.public_seq;
  if (!c || p === null) return "sent";
  return c.visitor_read_seq >= p ? "read" : c.visitor_delivered_seq >= p ? "delivered" : "sent";
}

function MessageItem({ m, c }: { m: Message; c: Conversation | null }) {
  if (m.kind === "system") {
    return (
      <div class="msg msg-system" data-testid="msg" data-kind={m.kind} data-seq={m.seq}>
        <Text text={m.text} /> <time dateTime={new Date(m.created_at).toISOString()}>{clockTime(m.created_at)}</time>
      </div>
    );
  }
  const mine = m.kind === "agent" || m.kind === "note";
  return (
    <div class={"msg msg-" + m.kind + (mine ? " out" : " in")} data-testid="msg" data-kind={m.kind} data-seq={m.seq}>
      {m.kind === "note" && <span class="note-label">Note</span>}
      <div class="bubble">
        <Text text={m.text} />
      </div>
      <div class="meta">
        {mine && m.author_name && <span>{m.author_name}</span>}
        <time dateTime={new Date(m.created_at).toISOString()} title={dateTime(m.created_at)}>
          {clockTime(m.created_at)}
        </time>
        {m.kind === "agent" && <Tick state={tickFor(m, c)} />}
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
      <div class="bubble">
        <Text text={o.text} />
      </div>
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

function Composer({ id }: { id: string }) {
  const [text, setText] = useState(drafts.get(id) ?? "");
  const [note, setNote] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);

  useLayoutEffect(() => {
    // Grow with the text, up to the CSS max-height. CSSOM writes are allowed by the CSP.
    const el = box.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = el.scrollHeight + 2 + "px";
  }, [text]);

  const submit = () => {
    if (!text.trim()) return;
    sendMessage(text, note);
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
      <textarea
        id={REPLY_BOX_ID}
        ref={box}
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
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
        onBlur={stopTyping}
      />
      <div class="composer-bar">
        <button
          type="button"
          class={"btn btn-small note-toggle" + (note ? " is-on" : "")}
          aria-pressed={note}
          data-testid="note-toggle"
          title="Switch between a reply to the visitor and an internal note"
          onClick={() => {
            if (!note) stopTyping();
            setNote(!note);
            box.current?.focus();
          }}
        >
          {note ? "Note" : "Reply"}
        </button>
        <span class="muted small">{note ? "Only agents will see this note." : ""}</span>
        <button type="submit" class="btn btn-primary" data-testid="send" disabled={!text.trim()}>
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
  const rows: [string, ComponentChild][] = [
    ["Email", k.email ? <a href={"mailto:" + k.email}>{k.email}</a> : null],
    [
      "Current page",
      k.current_url ? (
        isWebUrl(k.current_url) ? (
          <a href={k.current_url} target="_blank" rel="noopener noreferrer">
            {k.current_url}
          </a>
        ) : (
          k.current_url
        )
      ) : null,
    ],
    ["Page title", k.page_title],
    ["Referrer", k.referrer],
    ["Browser", k.browser],
    ["OS", k.os],
    ["Device", k.device],
    ["Language", k.language],
    ["Timezone", k.timezone],
    ["First seen", dateTime(k.created_at)],
    ["Last seen", dateTime(k.last_seen_at)],
  ];
  return (
    <aside class="contact" aria-label="Contact" data-testid="contact-panel">
      <div class="contact-head">
        <span class="avatar" aria-hidden="true">
          {(Array.from(k.name || "V")[0] || "V").toUpperCase()}
        </span>
        <div>
          <h2>{contactLabel(k.name, k.id)}</h2>
          <p class="muted small">{d.conversation.website_name}</p>
        </div>
      </div>
      <dl class="facts">
        {rows.map(([label, value]) => (
          <div key={label} class="fact">
            <dt>{label}</dt>
            <dd>{value ?? <span class="muted">—</span>}</dd>
          </div>
        ))}
      </dl>
    </aside>
  );
}
