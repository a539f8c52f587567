// A contact's profile, shown and edited in place (name, email, phone, company, custom
// attributes), and the list of their conversations, each opening in the inbox. Used by the
// inbox's contact panel (`ContactSidebar`) and by the Contacts page (views/Contacts.tsx).

import type { ComponentChild } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { ContactConversation } from "../../generated/ContactConversation";
import type { ContactProfile } from "../../generated/ContactProfile";
import { problemText } from "../api";
import { type AttrRow, type AttrType, formOf, profilePatch, showValue, type ProfileForm } from "../contact-rules";
import { saveContact, useContact } from "../contacts";
import { contactLabel, dateTime, initial, now, relativeTime } from "../format";
import { linkClick } from "../router";
import { StatusBadge } from "../ui";

/** The round initial and the name, with the website under it. */
export function ContactHead({ profile, headingLevel = 2 }: { profile: ContactProfile; headingLevel?: 1 | 2 }) {
  const name = contactLabel(profile.name, profile.id);
  return (
    <div class="contact-head">
      <span class="avatar" aria-hidden="true">
        {initial(profile.name || "V")}
      </span>
      <div>
        {headingLevel === 1 ? <h1 data-testid="profile-name">{name}</h1> : <h2 data-testid="profile-name">{name}</h2>}
        <p class="muted small">
          {profile.website_name}
          {profile.company && <span data-testid="head-company"> · {profile.company}</span>}
        </p>
      </div>
    </div>
  );
}

/** The inbox's contact panel: the profile (editable) and the contact's other conversations. */
export function ContactSidebar({ contactId, conversationId }: { contactId: string; conversationId: string }) {
  const { detail, error } = useContact(contactId);
  if (!detail) return <p class="muted">{error ? "The contact is not available: " + error : "Loading contact…"}</p>;
  const others = detail.conversations.filter((c) => c.id !== conversationId);
  return (
    <>
      <ContactHead profile={detail.contact} />
      <ProfileSection profile={detail.contact} />
      <section class="contact-convs" aria-labelledby="earlier-h">
        <h3 id="earlier-h" class="section-head">
          Earlier conversations
        </h3>
        <ConversationLinks items={others} total={detail.contact.conversation_count - 1} empty="No earlier conversations." />
      </section>
    </>
  );
}

/** The profile's facts with an Edit button, or the form that edits them. */
export function ProfileSection({ profile }: { profile: ContactProfile }) {
  const [editing, setEditing] = useState(false);
  const editRef = useRef<HTMLButtonElement>(null);
  const close = () => {
    setEditing(false);
    setTimeout(() => editRef.current?.focus());
  };
  if (editing) return <ProfileEditor profile={profile} onDone={close} />;
  const attrs = Object.entries(profile.attributes);
  const row = (label: string, value: ComponentChild, testId?: string) => (
    <div class="fact" key={label}>
      <dt>{label}</dt>
      <dd data-testid={testId}>{value ?? <span class="muted">—</span>}</dd>
    </div>
  );
  return (
    <section class="profile" aria-label="Profile" data-testid="contact-profile">
      <div class="section-bar">
        <h3 class="section-head">Profile</h3>
        <button ref={editRef} type="button" class="btn btn-small" onClick={() => setEditing(true)} data-testid="contact-edit">
          Edit
        </button>
      </div>
      <dl class="facts">
        {row("Email", profile.email ? <a href={"mailto:" + profile.email}>{profile.email}</a> : null, "profile-email")}
        {row("Phone", profile.phone ? <a href={"tel:" + profile.phone.replace(/[^+\d]/g, "")}>{profile.phone}</a> : null, "profile-phone")}
        {row("Company", profile.company, "profile-company")}
        {row("First seen", dateTime(profile.created_at))}
        {row("Last seen", dateTime(profile.last_seen_at))}
      </dl>
      {attrs.length > 0 && (
        <dl class="facts attr-facts" aria-label="Custom attributes" data-testid="profile-attributes">
          {attrs.map(([k, v]) => (
            <div class="fact" key={k} data-key={k}>
              <dt>{k.replace(/_/g, " ")}</dt>
              <dd>{v === undefined ? "" : showValue(v)}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

const TYPE_LABEL: Record<AttrType, string> = { text: "Text", number: "Number", boolean: "Yes/No" };

function ProfileEditor({ profile, onDone }: { profile: ContactProfile; onDone: () => void }) {
  const [form, setForm] = useState<ProfileForm>(() => formOf(profile));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const rowsRef = useRef<HTMLDivElement>(null);
  const id = "pf-" + profile.id.slice(-8);

  useEffect(() => formRef.current?.querySelector("input")?.focus(), []);

  const set = (k: "name" | "email" | "phone" | "company", v: string) => setForm((f) => ({ ...f, [k]: v }));
  const setRow = (i: number, patch: Partial<AttrRow>) =>
    setForm((f) => ({ ...f, rows: f.rows.map((r, j) => (j === i ? { ...r, ...patch } : r)) }));
  const addRow = () => {
    setForm((f) => ({ ...f, rows: f.rows.concat({ key: "", type: "text", value: "" }) }));
    setTimeout(() => rowsRef.current?.querySelector<HTMLInputElement>(".attr-row:last-child .attr-key")?.focus());
  };
  const removeRow = (i: number) => setForm((f) => ({ ...f, rows: f.rows.filter((_, j) => j !== i) }));

  const submit = async (e: Event) => {
    e.preventDefault();
    const r = profilePatch(profile, form);
    if ("error" in r) {
      setError(r.error);
      return;
    }
    if (Object.keys(r.body).length === 0) return onDone();
    setBusy(true);
    setError(null);
    try {
      await saveContact(profile.id, r.body);
      onDone();
    } catch (err) {
      setError(problemText(err));
      setBusy(false);
    }
  };

  const input = (k: "name" | "email" | "phone" | "company", label: string, extra: Record<string, unknown> = {}) => (
    <label class="field">
      <span>{label}</span>
      <input
        value={form[k]}
        autocomplete="off"
        onInput={(e) => set(k, e.currentTarget.value)}
        data-testid={"contact-" + k}
        {...extra}
      />
    </label>
  );

  return (
    <form
      ref={formRef}
      class="profile-form compact"
      aria-label="Edit profile"
      data-testid="contact-form"
      onSubmit={(e) => void submit(e)}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onDone();
        }
      }}
    >
      {input("name", "Name", { maxLength: 200 })}
      {input("email", "Email", { type: "email", maxLength: 254, spellcheck: false })}
      {input("phone", "Phone", { type: "tel", maxLength: 32, placeholder: "+1 555 010 9999" })}
      {input("company", "Company", { maxLength: 200 })}
      <fieldset class="group attr-group">
        <legend>Custom attributes</legend>
        <div class="attr-rows" ref={rowsRef}>
          {form.rows.map((r, i) => (
            <div class="attr-row" key={i} role="group" aria-label={"Attribute " + (r.key || i + 1)}>
              <input
                class="attr-key"
                aria-label="Name"
                placeholder="name, e.g. plan"
                maxLength={40}
                spellcheck={false}
                autocomplete="off"
                value={r.key}
                onInput={(e) => setRow(i, { key: e.currentTarget.value })}
                data-testid="attr-key"
              />
              <select
                class="attr-type"
                aria-label="Type"
                value={r.type}
                onChange={(e) => {
                  const type = e.currentTarget.value as AttrType;
                  setRow(i, { type, value: type === "boolean" ? (r.value === "true" ? "true" : "false") : r.value });
                }}
                data-testid="attr-type"
              >
                {(Object.keys(TYPE_LABEL) as AttrType[]).map((t) => (
                  <option key={t} value={t}>
                    {TYPE_LABEL[t]}
                  </option>
                ))}
              </select>
              <button type="button" class="icon-btn" aria-label={"Remove " + (r.key || "attribute")} onClick={() => removeRow(i)} data-testid="attr-remove">
                ×
              </button>
              {r.type === "boolean" ? (
                <select class="attr-value" aria-label="Value" value={r.value} onChange={(e) => setRow(i, { value: e.currentTarget.value })} data-testid="attr-value">
                  <option value="true">Yes</option>
                  <option value="false">No</option>
                </select>
              ) : (
                <input
                  class="attr-value"
                  aria-label="Value"
                  placeholder={r.type === "number" ? "42" : "value"}
                  inputMode={r.type === "number" ? "decimal" : undefined}
                  maxLength={500}
                  autocomplete="off"
                  value={r.value}
                  onInput={(e) => setRow(i, { value: e.currentTarget.value })}
                  data-testid="attr-value"
                />
              )}
            </div>
          ))}
        </div>
        <button type="button" class="link-btn small" onClick={addRow} disabled={form.rows.length >= 50} data-testid="attr-add">
          + Add attribute
        </button>
      </fieldset>
      {error && (
        <p class="form-error" role="alert" id={id + "-error"}>
          {error}
        </p>
      )}
      <div class="form-actions">
        <button type="submit" class="btn btn-small btn-primary" disabled={busy} data-testid="contact-save">
          {busy ? "Saving…" : "Save"}
        </button>
        <button type="button" class="btn btn-small" onClick={onDone} disabled={busy} data-testid="contact-cancel">
          Cancel
        </button>
      </div>
    </form>
  );
}

/** A contact's conversations, newest first, each a link into the inbox. */
export function ConversationLinks({ items, total, empty }: { items: ContactConversation[]; total: number; empty: string }) {
  if (!items.length) return <p class="muted small">{empty}</p>;
  const at = now.value;
  return (
    <>
      <ul class="contact-conv-list" data-testid="contact-conversations">
        {items.map((c) => {
          const href = "/app/c/" + encodeURIComponent(c.id);
          const when = c.last_message_at ?? c.created_at;
          return (
            <li key={c.id}>
              <a class="contact-conv" href={href} onClick={(e) => linkClick(e, href)} data-testid="contact-conversation" data-id={c.id}>
                <span class="contact-conv-line">
                  <StatusBadge status={c.status} />
                  <time class="muted small" dateTime={new Date(when).toISOString()} title={dateTime(when)}>
                    {at - when < 7 * 86_400_000 ? relativeTime(when, at) + (relativeTime(when, at) === "now" ? "" : " ago") : dateTime(when)}
                  </time>
                </span>
                <span class="contact-conv-preview">{c.last_message_preview || <span class="muted">No messages</span>}</span>
                <span class="muted small">
                  {c.assignee_name ? c.assignee_name : "Unassigned"} · {c.website_name}
                </span>
              </a>
            </li>
          );
        })}
      </ul>
      {total > items.length && (
        <p class="muted small">
          The latest {items.length} of {total}.
        </p>
      )}
    </>
  );
}
