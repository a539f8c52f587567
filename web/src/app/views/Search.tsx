// Search in the top bar: type to find conversations (by what was written, notes included) and
// contacts (by name, email, phone or company). Results come as you type (debounced, the last
// word matching as a prefix); ↑/↓ move, Enter opens, Esc closes. Ctrl+K (⌘K) jumps here from
// anywhere. Snippets are plain-text segments from the server; matches are <mark>ed text
// nodes, never HTML.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { ContactHit } from "../../generated/ContactHit";
import type { ConversationHit } from "../../generated/ConversationHit";
import type { SearchResults } from "../../generated/SearchResults";
import type { Segment } from "../../generated/Segment";
import { api, ApiError, problemText } from "../api";
import { contactLabel, relativeTime, now } from "../format";
import { navigate } from "../router";
import { showError } from "../store";
import { StatusBadge } from "../ui";

/** What the server takes (`MAX_SEARCH_CHARS`); longer input is cut in the box. */
const MAX_CHARS = 200;
const DEBOUNCE_MS = 150;
const KIND_LABEL = { visitor: "Visitor", agent: "Reply", note: "Note", system: "System" } as const;

/** Something a search can open: a conversation. Contacts without one are shown, not offered. */
/** A result the keyboard can reach, and where choosing it goes. */
type Option = { key: string; path: string };

/** Whether the text has anything to search for: a letter or a digit. */
export function searchable(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text);
}

export function Snippet({ segments }: { segments: Segment[] }) {
  return (
    <>
      {segments.map((s, i) =>
        s.hit ? (
          <mark key={i} class="search-hit">
            {s.text}
          </mark>
        ) : (
          s.text
        ),
      )}
    </>
  );
}

export function SearchBox() {
  const [text, setText] = useState("");
  const [results, setResults] = useState<SearchResults | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const token = useRef(0);

  // Ctrl+K / ⌘K, from anywhere (even a text box: it is not a character anyone types).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "k") {
        e.preventDefault();
        input.current?.focus();
        input.current?.select();
      }
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);

  // Ask as the text settles; a late reply to older text is dropped.
  useEffect(() => {
    const q = text.trim();
    const mine = ++token.current;
    if (!searchable(q)) {
      setResults(null);
      setError(null);
      setLoading(false);
      return;
    }
    setLoading(true);
    const timer = setTimeout(() => {
      api
        .search(q)
        .then((r) => {
          if (mine !== token.current) return;
          setResults(r);
          setError(null);
          setActive(0);
        })
        .catch((e) => {
          if (mine !== token.current) return;
          if (e instanceof ApiError && e.status === 401) return showError(e);
          setResults(null);
          setError(problemText(e));
        })
        .finally(() => {
          if (mine === token.current) setLoading(false);
        });
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const convs = results ? results.conversations : [];
  const contacts = results ? results.contacts : [];
  const options: Option[] = [
    ...convs.map((h) => ({ key: "c-" + h.conversation_id, path: conversationPath(h.conversation_id) })),
    ...contacts.map((c) => ({ key: "p-" + c.id, path: contactPath(c.id) })),
  ];
  const at = Math.min(active, Math.max(0, options.length - 1));
  const optionId = (key: string) => "search-opt-" + key;
  const showing = open && searchable(text.trim());

  // Arrowing past the panel's edge brings the active result into view.
  const activeKey = showing && options[at] ? options[at]!.key : null;
  useEffect(() => {
    if (activeKey) document.getElementById(optionId(activeKey))?.scrollIntoView({ block: "nearest" });
  }, [activeKey]);

  const choose = (o: Option | undefined) => {
    if (!o) return;
    setOpen(false);
    input.current?.blur();
    navigate(o.path);
  };

  const index = (key: string) => options.findIndex((o) => o.key === key);

  return (
    <div class="search" role="search">
      <input
        ref={input}
        type="text"
        class="search-input"
        role="combobox"
        aria-label="Search conversations and contacts"
        aria-expanded={showing}
        aria-controls="search-results"
        aria-autocomplete="list"
        aria-activedescendant={activeKey ? optionId(activeKey) : undefined}
        aria-keyshortcuts="Control+K Meta+K"
        placeholder="Search  (Ctrl+K)"
        maxLength={MAX_CHARS}
        value={text}
        data-testid="search-input"
        onFocus={() => setOpen(true)}
        // Tabbing away closes it; a click on a result keeps the focus (mousedown is prevented).
        onBlur={() => setOpen(false)}
        onInput={(e) => {
          setText(e.currentTarget.value);
          setOpen(true);
        }}
        onKeyDown={(e) => {
          if (e.isComposing) return;
          if (e.key === "ArrowDown" || e.key === "ArrowUp") {
            e.preventDefault();
            // Alt+↑/↓ is the inbox's "next conversation"; here the arrows move in the results.
            e.stopPropagation();
            setOpen(true);
            const n = options.length;
            if (n) setActive(e.key === "ArrowDown" ? (at + 1) % n : (at - 1 + n) % n);
          } else if (e.key === "Enter") {
            e.preventDefault();
            choose(options[at]);
          } else if (e.key === "Escape") {
            e.preventDefault();
            e.stopPropagation();
            if (open && text) setOpen(false);
            else {
              setText("");
              input.current?.blur();
            }
          }
        }}
      />
      {showing && (
        <div class="search-panel" data-testid="search-panel">
          {error && (
            <p class="search-note is-error" role="alert">
              {error}
            </p>
          )}
          {!error && results && !convs.length && !contacts.length && (
            <p class="search-note" role="status">
              Nothing found.
            </p>
          )}
          {!error && !results && loading && <p class="search-note">Searching…</p>}
          <div id="search-results" role="listbox" aria-label="Search results" aria-busy={loading} data-testid="search-results">
            {convs.length > 0 && (
              <div role="group" aria-label="Conversations">
                <div class="search-group" aria-hidden="true">
                  Conversations
                </div>
                {convs.map((h) => {
                  const i = index("c-" + h.conversation_id);
                  return <ConversationOption key={h.conversation_id} h={h} id={optionId("c-" + h.conversation_id)} active={i === at} onHover={() => setActive(i)} onChoose={() => choose({ key: "", path: conversationPath(h.conversation_id) })} />;
                })}
              </div>
            )}
            {contacts.length > 0 && (
              <div role="group" aria-label="Contacts">
                <div class="search-group" aria-hidden="true">
                  Contacts
                </div>
                {contacts.map((c) => {
                  const i = index("p-" + c.id);
                  return <ContactOption key={c.id} c={c} id={optionId("p-" + c.id)} active={i === at} onHover={() => setActive(i)} onChoose={() => choose({ key: "", path: contactPath(c.id) })} />;
                })}
              </div>
            )}
          </div>
        </div>
      )}
    </div>
  );
}

const conversationPath = (id: string) => "/app/c/" + encodeURIComponent(id);
/** A contact result opens the contact's page (profile, conversations, merge). */
const contactPath = (id: string) => "/app/contacts/" + encodeURIComponent(id);

type OptionProps = { id: string; active: boolean; onHover: () => void; onChoose: () => void };

/** One result row: keyboard-reachable (the input keeps the focus), chosen by a click. */
function OptionRow({ id, active, onHover, onChoose, testId, dataId, children }: OptionProps & { testId: string; dataId: string; children: ComponentChildren }) {
  return (
    <div
      id={id}
      role="option"
      aria-selected={active}
      class={"search-option" + (active ? " is-active" : "")}
      data-testid={testId}
      data-id={dataId}
      onMouseDown={(e) => e.preventDefault()}
      onMouseEnter={onHover}
      onClick={onChoose}
    >
      {children}
    </div>
  );
}

function ConversationOption({ h, ...row }: OptionProps & { h: ConversationHit }) {
  return (
    <OptionRow {...row} testId="search-conversation" dataId={h.conversation_id}>
      <span class="search-line">
        <span class="search-name">{contactLabel(h.contact_name, h.contact_id)}</span>
        <StatusBadge status={h.status} />
        <time class="search-time" dateTime={new Date(h.message_at).toISOString()}>
          {relativeTime(h.message_at, now.value)}
        </time>
      </span>
      <span class="search-snippet">
        <span class={"search-kind kind-" + h.message_kind}>{KIND_LABEL[h.message_kind]}</span>
        <Snippet segments={h.snippet} />
      </span>
    </OptionRow>
  );
}

function ContactOption({ c, ...row }: OptionProps & { c: ContactHit }) {
  return (
    <OptionRow {...row} testId="search-contact" dataId={c.id}>
      <span class="search-line">
        <span class="search-name">{contactLabel(c.name, c.id)}</span>
        <span class="search-time">{[c.email, c.company].filter(Boolean).join(" · ") || "Contact"}</span>
      </span>
      <span class="search-snippet">
        <Snippet segments={c.snippet} />
      </span>
    </OptionRow>
  );
}
