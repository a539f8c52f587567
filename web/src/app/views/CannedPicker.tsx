// The canned response picker of the composer. Typing `/` at the start of the reply opens it; the
// letters after the slash filter it; ↑/↓ choose, Enter or Tab insert, Esc closes, and a click
// works too. The chosen reply replaces the `/shortcut`, filled in by the server for this
// conversation (the server owns the variable rules: crates/core/src/canned.rs), and stays
// editable before it is sent.
//
// The reply box keeps its textbox role (it is multi-line) and points at the list with
// aria-controls and aria-activedescendant, the combobox pattern's wiring; the list is a listbox.
import type { RefObject } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { CannedResponse } from "../../generated/CannedResponse";
import { api, problemText } from "../api";

const LIST_ID = "canned-listbox";
const optionId = (r: CannedResponse) => "canned-opt-" + r.id;

/** The shortcut being typed: `/hel|` at the start of the box, the caret right after it. */
function typedShortcut(text: string, caret: number): string | null {
  const m = /^\/([a-z0-9_-]{0,32})$/i.exec(text.slice(0, caret));
  if (!m) return null;
  const next = text.charAt(caret);
  return next === "" || /\s/.test(next) ? (m[1] ?? "").toLowerCase() : null;
}

/** Shortcuts starting with the query first, then shortcuts or titles containing it. */
export function filterCanned(list: CannedResponse[], query: string): CannedResponse[] {
  const q = query.toLowerCase();
  const starts = list.filter((r) => r.shortcut.startsWith(q));
  const contains = list.filter((r) => !r.shortcut.startsWith(q) && (r.shortcut.includes(q) || r.title.toLowerCase().includes(q)));
  return starts.concat(contains);
}

type Props = {
  conversationId: string;
  text: string;
  box: RefObject<HTMLTextAreaElement | null>;
  /** Puts the new text in the box (as typing would). */
  onPick: (text: string) => void;
};

export function useCannedPicker({ conversationId, text, box, onPick }: Props) {
  const [, setCaretMoves] = useState(0);
  const [dismissedAt, setDismissedAt] = useState<string | null>(null);
  const [active, setActive] = useState(0);
  const [list, setList] = useState<CannedResponse[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const caretAfter = useRef<number | null>(null);

  // The caret can move without the text changing (a click, the arrow keys): look again then.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const look = () => setCaretMoves((n) => n + 1);
    el.addEventListener("click", look);
    el.addEventListener("keyup", look);
    return () => {
      el.removeEventListener("click", look);
      el.removeEventListener("keyup", look);
    };
  }, [box]);

  const el = box.current;
  const caret = el && document.activeElement === el ? el.selectionStart : text.length;
  const query = text === dismissedAt ? null : typedShortcut(text, caret);
  const open = query !== null;
  const items = open && list ? filterCanned(list, query) : [];
  const current = items[Math.min(active, items.length - 1)] ?? null;

  // Fetched each time it opens: cheap, and always the latest list and contact details.
  useEffect(() => {
    if (!open) return;
    let live = true;
    setError(null);
    api
      .canned(conversationId)
      .then((l) => live && setList(l))
      .catch((e) => live && setError(problemText(e)));
    return () => {
      live = false;
    };
  }, [open, conversationId]);

  useEffect(() => setActive(0), [query]);

  useEffect(() => {
    if (current) document.getElementById(optionId(current))?.scrollIntoView({ block: "nearest" });
  }, [current?.id]);

  useLayoutEffect(() => {
    const c = caretAfter.current;
    if (c !== null && box.current) {
      caretAfter.current = null;
      box.current.setSelectionRange(c, c);
    }
  }, [text]);

  const pick = (r: CannedResponse) => {
    const inserted = r.rendered ?? r.body;
    const next = inserted + text.slice(caret);
    caretAfter.current = inserted.length;
    // A reply that itself starts with "/word" must not reopen the picker.
    setDismissedAt(next);
    onPick(next);
    box.current?.focus();
  };

  /** Handles the picker's keys; true when the key was its own. */
  const onKeyDown = (e: KeyboardEvent): boolean => {
    if (!open || e.isComposing) return false;
    const n = items.length;
    if (e.key === "Escape") {
      e.preventDefault();
      // The inbox's own Escape would leave the box.
      e.stopPropagation();
      setDismissedAt(text);
      return true;
    }
    if (n === 0) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const i = Math.min(active, n - 1);
      setActive(e.key === "ArrowDown" ? (i + 1) % n : (i - 1 + n) % n);
      return true;
    }
    if ((e.key === "Enter" || e.key === "Tab") && !e.shiftKey && current) {
      e.preventDefault();
      pick(current);
      return true;
    }
    return false;
  };

  const inputProps = {
    "aria-autocomplete": "list" as const,
    "aria-controls": open ? LIST_ID : undefined,
    "aria-activedescendant": current ? optionId(current) : undefined,
  };

  const popup = open ? (
    <div class="canned-picker" data-testid="canned-picker">
      <div class="canned-head">
        <span>
          Canned responses{query ? <> matching <code>/{query}</code></> : null}
        </span>
        <span class="canned-keys" aria-hidden="true">
          <kbd>↑</kbd> <kbd>↓</kbd> choose · <kbd>Enter</kbd> insert · <kbd>Esc</kbd> close
        </span>
      </div>
      {error && (
        <p class="canned-empty form-error" role="alert">
          {error}
        </p>
      )}
      {!error && list === null && <p class="canned-empty muted">Loading…</p>}
      {list !== null && items.length === 0 && (
        <p class="canned-empty muted" data-testid="canned-none">
          {list.length === 0 ? "No canned responses yet. Add them in Settings." : "No canned response matches /" + query + "."}
        </p>
      )}
      <ul id={LIST_ID} role="listbox" aria-label="Canned responses" class="canned-options" hidden={items.length === 0}>
        {items.map((r) => (
          <li
            key={r.id}
            id={optionId(r)}
            role="option"
            aria-selected={r === current}
            class={"canned-option" + (r === current ? " is-active" : "")}
            data-testid="canned-option"
            data-shortcut={r.shortcut}
            onMouseDown={(e) => {
              // Keep the focus (and the caret) in the reply box.
              e.preventDefault();
              pick(r);
            }}
            onMouseMove={() => r !== current && setActive(items.indexOf(r))}
          >
            <span class="canned-line">
              <code class="canned-shortcut">/{r.shortcut}</code>
              <span class="canned-title">{r.title}</span>
              {r.scope === "personal" && <span class="badge canned-personal">Personal</span>}
            </span>
            <span class="canned-preview">{r.rendered ?? r.body}</span>
          </li>
        ))}
      </ul>
      <p class="sr-only" role="status">
        {list === null ? "" : items.length === 1 ? "1 canned response" : items.length + " canned responses"}
      </p>
    </div>
  ) : null;

  return { open, onKeyDown, inputProps, popup };
}
