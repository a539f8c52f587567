// Settings → a website's "Pre-chat form & ratings" (admins): the form the widget asks before
// the first message (and, with the email required, before an offline message): which fields,
// custom fields, required or not, their order; and the end-of-chat questions (CSAT, CES).
// The server checks everything again (`frontdesk_core::prechat`), naming the field it refuses.
import { useEffect, useState } from "preact/hooks";
import type { FieldKind } from "../../generated/FieldKind";
import type { FormField } from "../../generated/FormField";
import type { SiteForms } from "../../generated/SiteForms";
import type { WebsiteView } from "../../generated/WebsiteView";
import { ApiError, problemText } from "../api";
import { formsApi } from "../feedback";
import { showError } from "../store";
import { ErrorNote } from "../ui";

const STANDARD: { kind: FieldKind; label: string }[] = [
  { kind: "name", label: "Your name" },
  { kind: "email", label: "Your email" },
  { kind: "phone", label: "Phone" },
  { kind: "department", label: "What is this about?" },
];
const KIND_NAME: Record<FieldKind, string> = {
  name: "Name",
  email: "Email",
  phone: "Phone",
  department: "Department",
  text: "Text",
  number: "Number",
  select: "Choice",
  checkbox: "Checkbox",
};
const CUSTOM: FieldKind[] = ["text", "number", "select", "checkbox"];

/** A field being edited: a select's options as one per line. */
type Draft = FormField & { id: number; optionsText: string };
let nextId = 1;
const draftOf = (f: FormField): Draft => ({ ...f, id: nextId++, optionsText: f.options.join("\n") });
const fieldOf = (d: Draft): FormField => ({
  key: d.key.trim(),
  kind: d.kind,
  label: d.label,
  required: d.required,
  options:
    d.kind === "select"
      ? d.optionsText
          .split("\n")
          .map((o) => o.trim())
          .filter((o) => o)
      : [],
});

export function PrechatFormPanel({ site, id }: { site: WebsiteView; id: string }) {
  const [enabled, setEnabled] = useState(false);
  const [fields, setFields] = useState<Draft[] | null>(null);
  const [csat, setCsat] = useState(true);
  const [ces, setCes] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [custom, setCustom] = useState<FieldKind>("text");

  const show = (f: SiteForms) => {
    setEnabled(f.prechat.enabled);
    setFields(f.prechat.fields.map(draftOf));
    setCsat(f.end_of_chat.csat);
    setCes(f.end_of_chat.ces);
  };
  useEffect(() => {
    formsApi
      .get(site.id)
      .then(show)
      .catch((e) => {
        setLoadError(problemText(e));
        if (e instanceof ApiError && e.status === 401) showError(e);
      });
  }, [site.id]);

  if (loadError) return <ErrorNote text={loadError} />;
  if (!fields) return <p class="muted">Loading…</p>;

  const change = (next: Draft[]) => {
    setSaved(false);
    setFields(next);
  };
  const setField = (fid: number, patch: Partial<Draft>) => change(fields.map((f) => (f.id === fid ? { ...f, ...patch } : f)));
  const move = (i: number, by: -1 | 1) => {
    const next = fields.slice();
    const [f] = next.splice(i, 1);
    if (!f) return;
    next.splice(i + by, 0, f);
    change(next);
  };
  const missing = STANDARD.filter((s) => !fields.some((f) => f.kind === s.kind));
  const addCustom = () => {
    const n = fields.filter((f) => f.kind === custom).length + 1;
    change(fields.concat(draftOf({ key: custom + (n > 1 ? "_" + n : ""), kind: custom, label: KIND_NAME[custom], required: false, options: [] })));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      show(await formsApi.save(site.id, { prechat: { enabled, fields: fields.map(fieldOf) }, end_of_chat: { csat, ces: csat && ces } }));
      setSaved(true);
    } catch (err) {
      setError(problemText(err));
      if (err instanceof ApiError && err.status === 401) showError(err);
    }
    setBusy(false);
  };

  return (
    <form id={id} class="routing compact" onSubmit={submit} data-testid="forms-form" aria-label={"Pre-chat form and ratings of " + site.name}>
      <fieldset class="group">
        <legend>Pre-chat form</legend>
        <label class="field inline">
          <input
            type="checkbox"
            checked={enabled}
            onChange={(e) => {
              setSaved(false);
              setEnabled(e.currentTarget.checked);
            }}
            data-testid="forms-enabled"
          />
          <span>Ask these questions before the first message</span>
        </label>
        <p class="muted small">
          Answers go to the contact (name, email, phone, attributes) and to the conversation. The department's choices are the departments of
          the routing rules, so the answer picks the team. Offline, the same form asks for the email too.
        </p>
        {fields.length > 0 && (
          <ol class="forms-fields">
            {fields.map((f, i) => {
              const n = "Field " + (i + 1);
              const fixed = f.kind === "name" || f.kind === "email" || f.kind === "phone" || f.kind === "department";
              return (
                <li key={f.id} class="forms-field" data-testid="forms-field" data-kind={f.kind}>
                  <span class="kind">{KIND_NAME[f.kind]}</span>
                  <label class="field">
                    <span>Label</span>
                    <input aria-label={n + ": label"} value={f.label} maxLength={100} onInput={(e) => setField(f.id, { label: e.currentTarget.value })} data-testid="forms-label" />
                  </label>
                  {!fixed && (
                    <label class="field">
                      <span>Attribute key</span>
                      <input
                        aria-label={n + ": attribute key"}
                        value={f.key}
                        maxLength={40}
                        pattern="[a-z0-9_]+"
                        title="a-z, 0-9 and _"
                        onInput={(e) => setField(f.id, { key: e.currentTarget.value })}
                        data-testid="forms-key"
                      />
                    </label>
                  )}
                  {f.kind === "select" && (
                    <label class="field">
                      <span>Choices (one a line)</span>
                      <textarea aria-label={n + ": choices"} rows={3} value={f.optionsText} onInput={(e) => setField(f.id, { optionsText: e.currentTarget.value })} data-testid="forms-options" />
                    </label>
                  )}
                  <label class="field inline">
                    <input type="checkbox" checked={f.required} onChange={(e) => setField(f.id, { required: e.currentTarget.checked })} data-testid="forms-required" />
                    <span>Required</span>
                  </label>
                  <span class="rule-tools">
                    <button type="button" class="icon-btn" aria-label={"Move " + n.toLowerCase() + " up"} title="Move up" disabled={i === 0} onClick={() => move(i, -1)}>
                      ↑
                    </button>
                    <button type="button" class="icon-btn" aria-label={"Move " + n.toLowerCase() + " down"} title="Move down" disabled={i === fields.length - 1} onClick={() => move(i, 1)}>
                      ↓
                    </button>
                    <button type="button" class="icon-btn" aria-label={"Remove " + n.toLowerCase()} title="Remove" onClick={() => change(fields.filter((x) => x.id !== f.id))}>
                      ×
                    </button>
                  </span>
                </li>
              );
            })}
          </ol>
        )}
        <div class="form-actions">
          {missing.map((s) => (
            <button
              key={s.kind}
              type="button"
              class="btn btn-small"
              onClick={() => change(fields.concat(draftOf({ key: s.kind, kind: s.kind, label: s.label, required: s.kind === "department", options: [] })))}
              data-testid={"forms-add-" + s.kind}
            >
              + {KIND_NAME[s.kind]}
            </button>
          ))}
          <select aria-label="Kind of custom field" value={custom} onChange={(e) => setCustom(e.currentTarget.value as FieldKind)} data-testid="forms-custom-kind">
            {CUSTOM.map((k) => (
              <option key={k} value={k}>
                {KIND_NAME[k]}
              </option>
            ))}
          </select>
          <button type="button" class="btn btn-small" onClick={addCustom} data-testid="forms-add-custom">
            + Custom field
          </button>
        </div>
      </fieldset>

      <fieldset class="group">
        <legend>End of chat</legend>
        <label class="field inline">
          <input type="checkbox" checked={csat} onChange={(e) => (setSaved(false), setCsat(e.currentTarget.checked))} data-testid="forms-csat" />
          <span>Ask for a rating (CSAT, 1–5 with a comment) when a chat is resolved</span>
        </label>
        <label class="field inline">
          <input type="checkbox" checked={ces && csat} disabled={!csat} onChange={(e) => (setSaved(false), setCes(e.currentTarget.checked))} data-testid="forms-ces" />
          <span>Also ask how easy it was to get help (customer effort, 1–5)</span>
        </label>
      </fieldset>

      {error && (
        <p class="form-error" role="alert" data-testid="forms-error">
          {error}
        </p>
      )}
      <div class="form-actions">
        <button class="btn btn-primary" type="submit" disabled={busy} data-testid="forms-save">
          {busy ? "Saving…" : "Save form & ratings"}
        </button>
        <span class="muted small" role="status" data-testid="forms-saved">
          {saved ? "Saved." : ""}
        </span>
      </div>
    </form>
  );
}
