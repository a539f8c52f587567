// Settings → Canned responses: the organization's shared replies (admins add, edit and delete
// them; everyone sees them) and the agent's own. Picked in the composer by typing `/`.
import { useEffect, useRef, useState } from "preact/hooks";
import type { CannedResponse } from "../../generated/CannedResponse";
import type { CannedScope } from "../../generated/CannedScope";
import type { CannedVariable } from "../../generated/CannedVariable";
import { api, problemText } from "../api";
import { ErrorNote } from "../ui";

/** Every variable a reply may use (the Record makes the compiler check the list is complete). */
export const VARIABLES: Record<CannedVariable, string> = {
  "contact.first_name": "The visitor's first name, or “there”",
  "contact.name": "The visitor's full name, or “there”",
  "contact.email": "The visitor's email, or “your email address”",
  "agent.name": "Your full name",
  "agent.first_name": "Your first name",
  "website.name": "The website's name",
};
const VARIABLE_NAMES = Object.keys(VARIABLES) as CannedVariable[];

type Editing = { kind: "new"; scope: CannedScope } | { kind: "edit"; id: string } | null;

export function CannedSection({ isAdmin }: { isAdmin: boolean }) {
  const [list, setList] = useState<CannedResponse[] | null>(null);
  const [editing, setEditing] = useState<Editing>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api
      .canned()
      .then(setList)
      .catch((e) => setError(problemText(e)));
  }, []);

  const saved = (r: CannedResponse) => {
    setList((l) => {
      const have = l ?? [];
      const next = have.some((x) => x.id === r.id) ? have.map((x) => (x.id === r.id ? r : x)) : have.concat(r);
      return next.sort((a, b) => (a.shortcut < b.shortcut ? -1 : a.shortcut > b.shortcut ? 1 : 0));
    });
    setEditing(null);
  };
  const removed = (id: string) => setList((l) => (l ?? []).filter((x) => x.id !== id));

  const group = (scope: CannedScope) => {
    const mine = (list ?? []).filter((r) => r.scope === scope);
    const canEdit = scope === "personal" || isAdmin;
    const title = scope === "shared" ? "Shared" : "Yours";
    const newOpen = editing?.kind === "new" && editing.scope === scope;
    return (
      <div class="canned-group" data-testid={"canned-" + scope}>
        <div class="card-head">
          <h3 class="form-title" id={"canned-" + scope + "-title"}>
            {title}
          </h3>
          {canEdit && !newOpen && (
            <button
              type="button"
              class="btn btn-small"
              disabled={editing !== null}
              onClick={() => setEditing({ kind: "new", scope })}
              data-testid={"canned-new-" + scope}
            >
              {scope === "shared" ? "New shared reply" : "New personal reply"}
            </button>
          )}
        </div>
        <p class="muted small">
          {scope === "shared"
            ? isAdmin
              ? "Everyone in the team can use these."
              : "Everyone can use these; admins change them."
            : "Only you see and use these."}
        </p>
        {list !== null && mine.length === 0 && !newOpen && <p class="muted canned-none">None yet.</p>}
        {mine.length > 0 && (
          <ul class="canned-list" aria-labelledby={"canned-" + scope + "-title"}>
            {mine.map((r) =>
              editing?.kind === "edit" && editing.id === r.id ? (
                <li key={r.id} class="canned-row is-editing">
                  <CannedEditor scope={scope} canned={r} onSaved={saved} onCancel={() => setEditing(null)} />
                </li>
              ) : (
                <CannedRow
                  key={r.id}
                  canned={r}
                  canEdit={canEdit}
                  busy={editing !== null}
                  onEdit={() => setEditing({ kind: "edit", id: r.id })}
                  onRemoved={() => removed(r.id)}
                />
              ),
            )}
          </ul>
        )}
        {newOpen && (
          <div class="canned-row is-editing is-new">
            <CannedEditor scope={scope} canned={null} onSaved={saved} onCancel={() => setEditing(null)} />
          </div>
        )}
      </div>
    );
  };

  return (
    <section class="card" aria-labelledby="canned-title" data-testid="canned-card">
      <h2 id="canned-title">Canned responses</h2>
      <p class="muted">
        Replies you insert by typing <kbd>/</kbd> and a shortcut in the reply box, then edit before sending. Variables such as{" "}
        <code>{"{{contact.first_name}}"}</code> are filled in for the conversation.
      </p>
      <ErrorNote text={error} />
      {list === null && !error && <p class="muted">Loading…</p>}
      {list !== null && (
        <>
          {group("shared")}
          {group("personal")}
        </>
      )}
    </section>
  );
}

/** The text with its variables marked; text nodes only. */
function Body({ text }: { text: string }) {
  const parts = text.split(/(\{\{ *[A-Za-z0-9_.]+ *\}\})/);
  return (
    <>
      {parts.map((p, i) =>
        i % 2 === 1 ? (
          <span key={i} class="canned-var">
            {p}
          </span>
        ) : (
          p
        ),
      )}
    </>
  );
}

function CannedRow({
  canned,
  canEdit,
  busy,
  onEdit,
  onRemoved,
}: {
  canned: CannedResponse;
  canEdit: boolean;
  busy: boolean;
  onEdit: () => void;
  onRemoved: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const deleteRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (confirming) cancelRef.current?.focus();
  }, [confirming]);

  const stopConfirming = () => {
    setConfirming(false);
    setTimeout(() => deleteRef.current?.focus());
  };

  const remove = async () => {
    setDeleting(true);
    setError(null);
    try {
      await api.deleteCanned(canned.id);
      onRemoved();
    } catch (e) {
      setError(problemText(e));
      setDeleting(false);
      setConfirming(false);
    }
  };

  return (
    <li class="canned-row" data-testid="canned-row" data-shortcut={canned.shortcut} data-id={canned.id}>
      <div class="canned-main">
        <div class="canned-line">
          <code class="canned-shortcut">/{canned.shortcut}</code>
          <strong class="canned-title">{canned.title}</strong>
        </div>
        <p class="canned-body">
          <Body text={canned.body} />
        </p>
        <ErrorNote text={error} />
      </div>
      {canEdit && !confirming && (
        <div class="row-actions">
          <button type="button" class="btn btn-small" disabled={busy} onClick={onEdit} aria-label={"Edit /" + canned.shortcut} data-testid="canned-edit">
            Edit
          </button>
          <button
            ref={deleteRef}
            type="button"
            class="btn btn-small btn-ghost danger"
            disabled={busy}
            onClick={() => setConfirming(true)}
            aria-label={"Delete /" + canned.shortcut}
            data-testid="canned-delete"
          >
            Delete
          </button>
        </div>
      )}
      {canEdit && confirming && (
        <div
          class="confirm"
          role="group"
          aria-label={"Delete /" + canned.shortcut}
          onKeyDown={(e) => {
            if (e.key === "Escape") stopConfirming();
          }}
        >
          <span>Delete /{canned.shortcut}?</span>
          <button ref={cancelRef} type="button" class="btn btn-small" onClick={stopConfirming}>
            Cancel
          </button>
          <button type="button" class="btn btn-small btn-danger" disabled={deleting} onClick={() => void remove()} data-testid="canned-delete-confirm">
            {deleting ? "Deleting…" : "Delete"}
          </button>
        </div>
      )}
    </li>
  );
}

function CannedEditor({
  scope,
  canned,
  onSaved,
  onCancel,
}: {
  scope: CannedScope;
  canned: CannedResponse | null;
  onSaved: (r: CannedResponse) => void;
  onCancel: () => void;
}) {
  const [shortcut, setShortcut] = useState(canned?.shortcut ?? "");
  const [title, setTitle] = useState(canned?.title ?? "");
  const [body, setBody] = useState(canned?.body ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const shortcutRef = useRef<HTMLInputElement>(null);
  const bodyRef = useRef<HTMLTextAreaElement>(null);
  const prefix = "canned-" + (canned?.id ?? "new-" + scope);

  useEffect(() => shortcutRef.current?.focus(), []);

  /** Puts `{{v}}` at the caret (over any selection) and leaves the caret after it, at once. */
  const insertVariable = (v: CannedVariable) => {
    const el = bodyRef.current;
    if (!el) return;
    el.focus();
    el.setRangeText("{{" + v + "}}", el.selectionStart, el.selectionEnd, "end");
    setBody(el.value);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const fields = { shortcut: shortcut.trim(), title: title.trim(), body };
    try {
      onSaved(canned ? await api.updateCanned(canned.id, fields) : await api.createCanned({ scope, ...fields }));
    } catch (err) {
      setError(problemText(err));
      setBusy(false);
    }
  };

  return (
    <form
      class="canned-form"
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === "Escape") onCancel();
      }}
      aria-label={canned ? "Edit /" + canned.shortcut : scope === "shared" ? "New shared reply" : "New personal reply"}
      data-testid="canned-form"
    >
      <div class="canned-form-grid">
        <label class="field">
          <span>Shortcut</span>
          <span class="canned-slash-input">
            <span aria-hidden="true">/</span>
            <input
              ref={shortcutRef}
              required
              maxLength={33}
              autocomplete="off"
              spellcheck={false}
              placeholder="hello"
              value={shortcut}
              onInput={(e) => setShortcut(e.currentTarget.value)}
              aria-describedby={prefix + "-shortcut-help"}
              data-testid="canned-shortcut"
            />
          </span>
          <small id={prefix + "-shortcut-help"}>Letters, digits, - and _</small>
        </label>
        <label class="field">
          <span>Title</span>
          <input
            required
            maxLength={80}
            autocomplete="off"
            placeholder="Greeting"
            value={title}
            onInput={(e) => setTitle(e.currentTarget.value)}
            data-testid="canned-title"
          />
        </label>
      </div>
      <label class="field">
        <span>Reply</span>
        <textarea
          ref={bodyRef}
          required
          rows={4}
          maxLength={5000}
          value={body}
          placeholder={"Hi {{contact.first_name}}, I'm {{agent.first_name}}. How can I help?"}
          onInput={(e) => setBody(e.currentTarget.value)}
          aria-describedby={prefix + "-vars"}
          data-testid="canned-body"
        />
      </label>
      <div class="canned-vars" id={prefix + "-vars"}>
        <span class="muted small">Insert:</span>
        {VARIABLE_NAMES.map((v) => (
          <button
            key={v}
            type="button"
            class="canned-var-btn"
            title={VARIABLES[v]}
            // A click leaves the focus (and the caret) in the text.
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => insertVariable(v)}
          >
            {"{{" + v + "}}"}
          </button>
        ))}
      </div>
      {error && (
        <p class="form-error" role="alert" data-testid="canned-error">
          {error}
        </p>
      )}
      <div class="form-actions">
        <button class="btn btn-primary btn-small" type="submit" disabled={busy} data-testid="canned-save">
          {busy ? "Saving…" : "Save"}
        </button>
        <button class="btn btn-small" type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
