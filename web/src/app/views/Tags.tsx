// Tags in the dashboard: the chips on list rows, the conversation header's tags with its
// "Add tag" combobox (type to find a tag, or to create one by naming it), and Settings → Tags
// (everyone sees the list; admins rename, recolour and delete).
import { useEffect, useRef, useState } from "preact/hooks";
import type { Conversation } from "../../generated/Conversation";
import type { Tag } from "../../generated/Tag";
import type { TagColor } from "../../generated/TagColor";
import { api, ApiError, problemText } from "../api";
import { showError, upsert } from "../store";
import { byName, loadTags, TAG_COLORS, TAG_NAME_MAX, tagList } from "../tags";
import { ErrorNote } from "../ui";

const COLOR_LABEL: Record<TagColor, string> = {
  gray: "Gray",
  red: "Red",
  orange: "Orange",
  yellow: "Yellow",
  green: "Green",
  teal: "Teal",
  blue: "Blue",
  purple: "Purple",
  pink: "Pink",
};

/** One tag as a coloured chip; with `onRemove`, a × that takes it off. */
export function TagChip({ tag, onRemove, small }: { tag: Tag; onRemove?: () => void; small?: boolean }) {
  return (
    <span class={"tag-chip tc-" + tag.color + (small ? " is-small" : "")} data-testid="tag-chip" data-tag={tag.name}>
      <span class="tag-chip-name">{tag.name}</span>
      {onRemove && (
        <button type="button" class="tag-chip-x" aria-label={"Remove tag " + tag.name} title="Remove" onClick={onRemove}>
          ×
        </button>
      )}
    </span>
  );
}

/** A row's tags: the first two, then "+N" (all of them in the tooltip). */
export function RowTags({ tags }: { tags: Tag[] }) {
  if (!tags.length) return null;
  const shown = tags.slice(0, 2);
  const more = tags.length - shown.length;
  return (
    <span class="row-tags" title={tags.map((t) => t.name).join(", ")}>
      <span class="sr-only">Tags: </span>
      {shown.map((t) => (
        <TagChip key={t.id} tag={t} small />
      ))}
      {more > 0 && <span class="tag-more">+{more}</span>}
    </span>
  );
}

/** The conversation header's tags, each removable, and the "Add tag" combobox. */
export function ConversationTags({ c }: { c: Conversation }) {
  const [adding, setAdding] = useState(false);
  const addBtn = useRef<HTMLButtonElement>(null);
  const remove = async (t: Tag) => {
    try {
      upsert(await api.removeTag(c.id, t.id));
    } catch (e) {
      showError(e);
    }
  };
  return (
    <div class="conv-tags" data-testid="conversation-tags">
      <ul class="conv-tags-list" aria-label="Tags">
        {c.tags.map((t) => (
          <li key={t.id}>
            <TagChip tag={t} onRemove={() => void remove(t)} />
          </li>
        ))}
      </ul>
      {adding ? (
        <AddTag
          c={c}
          onClose={(refocus) => {
            setAdding(false);
            if (refocus) setTimeout(() => addBtn.current?.focus());
          }}
        />
      ) : (
        <button ref={addBtn} type="button" class="add-tag-btn" data-testid="add-tag" onClick={() => setAdding(true)}>
          <span aria-hidden="true">+</span> {c.tags.length ? "Tag" : "Add tag"}
        </button>
      )}
    </div>
  );
}

type Option = { kind: "tag"; tag: Tag } | { kind: "create"; name: string };
let comboSeq = 0;

/**
 * A combobox: typing filters the organization's tags (those not on the conversation yet);
 * when no tag has exactly that name, the last option creates it. ↑/↓ move, Enter picks,
 * Escape closes. Picking keeps the box open for the next tag.
 */
function AddTag({ c, onClose }: { c: Conversation; onClose: (refocus: boolean) => void }) {
  const [text, setText] = useState("");
  const [active, setActive] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [ids] = useState(() => "tag-combo-" + ++comboSeq);
  const input = useRef<HTMLInputElement>(null);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    void loadTags();
    input.current?.focus();
    const away = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) onClose(false);
    };
    document.addEventListener("mousedown", away);
    return () => document.removeEventListener("mousedown", away);
  }, []);

  const typed = text.trim().replace(/\s+/g, " ");
  const key = typed.toLowerCase();
  const have = new Set(c.tags.map((t) => t.id));
  const all = tagList.value ?? [];
  const options: Option[] = all
    .filter((t) => !have.has(t.id) && (!key || t.name.toLowerCase().includes(key)))
    .slice(0, 8)
    .map((tag) => ({ kind: "tag", tag }));
  const exact = all.find((t) => t.name.toLowerCase() === key);
  if (typed && !exact && typed.length <= TAG_NAME_MAX) options.push({ kind: "create", name: typed });
  const at = Math.min(active, Math.max(0, options.length - 1));
  const optionId = (i: number) => ids + "-opt-" + i;

  const pick = async (o: Option | undefined) => {
    if (!o || busy) return;
    setBusy(true);
    setError(null);
    try {
      const updated = await api.addTag(c.id, o.kind === "tag" ? { tag_id: o.tag.id, name: null } : { tag_id: null, name: o.name });
      upsert(updated);
      setText("");
      setActive(0);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return showError(e);
      setError(problemText(e));
    } finally {
      setBusy(false);
      input.current?.focus();
    }
  };

  return (
    <div class="tag-combo" ref={box}>
      <input
        ref={input}
        type="text"
        role="combobox"
        aria-expanded={options.length > 0}
        aria-controls={ids + "-list"}
        aria-activedescendant={options.length ? optionId(at) : undefined}
        aria-autocomplete="list"
        aria-label="Add a tag: type to search or create"
        placeholder="Tag name…"
        maxLength={TAG_NAME_MAX + 10}
        value={text}
        data-testid="tag-input"
        aria-busy={busy}
        onInput={(e) => {
          setText(e.currentTarget.value);
          setActive(0);
          setError(null);
        }}
        onKeyDown={(e) => {
          if (e.isComposing) return;
          if (e.key === "ArrowDown") {
            e.preventDefault();
            setActive(options.length ? (at + 1) % options.length : 0);
          } else if (e.key === "ArrowUp") {
            e.preventDefault();
            setActive(options.length ? (at - 1 + options.length) % options.length : 0);
          } else if (e.key === "Enter") {
            e.preventDefault();
            void pick(options[at]);
          } else if (e.key === "Escape") {
            e.preventDefault();
            e.stopPropagation();
            onClose(true);
          }
        }}
      />
      {options.length > 0 && (
        <ul class="tag-options" id={ids + "-list"} role="listbox" aria-label="Tags" data-testid="tag-options">
          {options.map((o, i) => (
            <li
              key={o.kind === "tag" ? o.tag.id : "create"}
              id={optionId(i)}
              role="option"
              aria-selected={i === at}
              class={"tag-option" + (i === at ? " is-active" : "")}
              data-testid={o.kind === "create" ? "tag-create" : "tag-option"}
              onMouseDown={(e) => e.preventDefault()}
              onMouseEnter={() => setActive(i)}
              onClick={() => void pick(o)}
            >
              {o.kind === "tag" ? (
                <TagChip tag={o.tag} />
              ) : (
                <span>
                  Create <strong>“{o.name}”</strong>
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      {typed.length > TAG_NAME_MAX && <p class="tag-combo-note">At most {TAG_NAME_MAX} characters.</p>}
      {error && (
        <p class="tag-combo-note is-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

// --- Settings → Tags ---------------------------------------------------------------------------

export function TagsSection({ isAdmin }: { isAdmin: boolean }) {
  const [error, setError] = useState<string | null>(null);
  const list = tagList.value;
  useEffect(() => {
    api
      .tags()
      .then((t) => (tagList.value = t.sort(byName)))
      .catch((e) => {
        setError(problemText(e));
        if (e instanceof ApiError && e.status === 401) showError(e);
      });
  }, []);
  const saved = (t: Tag) => {
    const have = tagList.value ?? [];
    tagList.value = (have.some((x) => x.id === t.id) ? have.map((x) => (x.id === t.id ? t : x)) : have.concat(t)).sort(byName);
  };
  return (
    <section class="card" aria-labelledby="tags-title" data-testid="tags-card">
      <h2 id="tags-title">Tags</h2>
      <p class="muted">
        Agents tag conversations from the conversation header, and create a tag by typing a new name. The inbox filters by tag.
        {isAdmin ? " Renaming or deleting a tag changes every conversation that has it." : ""}
      </p>
      <ErrorNote text={error} />
      {list === null && !error && <p class="muted">Loading…</p>}
      {list && list.length === 0 && <p class="muted">No tags yet.</p>}
      {list && list.length > 0 && (
        <ul class="tag-rows">
          {list.map((t) => (
            <TagRow key={t.id} tag={t} isAdmin={isAdmin} onSaved={saved} />
          ))}
        </ul>
      )}
      {isAdmin && <NewTag onSaved={saved} />}
    </section>
  );
}

function ColorPicker({ value, onPick, label }: { value: TagColor; onPick: (c: TagColor) => void; label: string }) {
  return (
    <div class="swatches" role="radiogroup" aria-label={label}>
      {TAG_COLORS.map((col) => (
        <button
          key={col}
          type="button"
          role="radio"
          aria-checked={col === value}
          class={"swatch tc-" + col + (col === value ? " is-on" : "")}
          title={COLOR_LABEL[col]}
          aria-label={COLOR_LABEL[col]}
          data-color={col}
          onClick={() => onPick(col)}
        />
      ))}
    </div>
  );
}

function TagRow({ tag, isAdmin, onSaved }: { tag: Tag; isAdmin: boolean; onSaved: (t: Tag) => void }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(tag.name);
  const [color, setColor] = useState<TagColor>(tag.color);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { name: name.trim() === tag.name ? null : name, color: color === tag.color ? null : color };
      onSaved(body.name === null && body.color === null ? tag : await api.updateTag(tag.id, body));
      setEditing(false);
    } catch (err) {
      setError(problemText(err));
    }
    setBusy(false);
  };
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.deleteTag(tag.id);
      tagList.value = (tagList.value ?? []).filter((t) => t.id !== tag.id);
    } catch (err) {
      setError(problemText(err));
      setBusy(false);
    }
  };

  if (editing) {
    return (
      <li class="tag-row is-editing" data-testid="tag-row" data-tag={tag.name}>
        <form class="tag-edit compact" onSubmit={save}>
          <input
            value={name}
            maxLength={TAG_NAME_MAX}
            required
            aria-label="Tag name"
            data-testid="tag-edit-name"
            onInput={(e) => setName(e.currentTarget.value)}
          />
          <ColorPicker value={color} onPick={setColor} label={"Colour of " + tag.name} />
          <span class="row-actions">
            <button type="button" class="btn btn-small" onClick={() => setEditing(false)}>
              Cancel
            </button>
            <button type="submit" class="btn btn-small btn-primary" disabled={busy} data-testid="tag-save">
              Save
            </button>
          </span>
        </form>
        <ErrorNote text={error} />
      </li>
    );
  }
  return (
    <li class="tag-row" data-testid="tag-row" data-tag={tag.name}>
      <TagChip tag={tag} />
      <span class="muted small tag-row-color">{COLOR_LABEL[tag.color]}</span>
      {isAdmin &&
        (confirming ? (
          <span class="confirm">
            <span class="small">Delete it from every conversation?</span>
            <button type="button" class="btn btn-small" onClick={() => setConfirming(false)}>
              Keep
            </button>
            <button type="button" class="btn btn-small btn-danger" disabled={busy} onClick={() => void remove()} data-testid="tag-delete-confirm">
              Delete
            </button>
          </span>
        ) : (
          <span class="row-actions">
            <button
              type="button"
              class="btn btn-small"
              onClick={() => {
                setName(tag.name);
                setColor(tag.color);
                setEditing(true);
              }}
              data-testid="tag-edit"
            >
              Edit
            </button>
            <button type="button" class="btn btn-small danger" onClick={() => setConfirming(true)} data-testid="tag-delete">
              Delete
            </button>
          </span>
        ))}
      {error && <ErrorNote text={error} />}
    </li>
  );
}

function NewTag({ onSaved }: { onSaved: (t: Tag) => void }) {
  const [name, setName] = useState("");
  const [color, setColor] = useState<TagColor>("blue");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSaved(await api.createTag({ name, color }));
      setName("");
    } catch (err) {
      setError(problemText(err));
    }
    setBusy(false);
  };
  return (
    <form class="tag-new compact" onSubmit={submit}>
      <input
        value={name}
        maxLength={TAG_NAME_MAX}
        required
        placeholder="New tag"
        aria-label="New tag name"
        data-testid="tag-new-name"
        onInput={(e) => setName(e.currentTarget.value)}
      />
      <ColorPicker value={color} onPick={setColor} label="Colour of the new tag" />
      <button type="submit" class="btn btn-small btn-primary" disabled={busy || !name.trim()} data-testid="tag-new-submit">
        Add tag
      </button>
      <ErrorNote text={error} />
    </form>
  );
}
