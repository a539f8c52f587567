// The Contacts page: the organization's people with search and filters (kept in the URL's
// query), a page at a time; and one contact's page (/app/contacts/{id}): the profile to edit,
// their conversations, their last visit, and "Merge with…" another contact.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { ContactProfile } from "../../generated/ContactProfile";
import type { WebsiteView } from "../../generated/WebsiteView";
import { api, problemText } from "../api";
import {
  contactFiltersSearch,
  contactQuery,
  type ContactFilters,
  hasContactFilters,
  parseContactFilters,
  SEEN,
  type Seen,
  attributeKey,
} from "../contact-rules";
import { contactsApi, mergeContacts, useContact } from "../contacts";
import { contactLabel, dateTime, now, relativeTime } from "../format";
import { linkClick, navigate, path, search } from "../router";
import { contactChange } from "../store";
import { ContactHead, ConversationLinks, ProfileSection } from "./ContactProfile";
import { Modal } from "./Inbox";
import { VisitorPanel } from "./VisitorPanel";

const PAGE = 50;
/** The list's query when it was last shown, so "All contacts" goes back to the same list. */
let lastListSearch = "";

function contactIdOf(p: string): string | null {
  const m = /^\/app\/contacts\/([^/]+)\/?$/.exec(p);
  return m && m[1] ? decodeURIComponent(m[1]) : null;
}

export function Contacts() {
  const id = contactIdOf(path.value);
  return id ? <ContactPage key={id} id={id} /> : <ContactList />;
}

// --- the list ---------------------------------------------------------------------------------

function ContactList() {
  const filters = useMemo(() => parseContactFilters(search.value), [search.value]);
  const key = contactFiltersSearch(filters);
  const [items, setItems] = useState<ContactProfile[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [websites, setWebsites] = useState<WebsiteView[]>([]);
  const token = useRef(0);
  lastListSearch = key;

  const load = async (more: boolean) => {
    const mine = ++token.current;
    setLoading(true);
    setError(null);
    try {
      const page = await contactsApi.list(contactQuery(filters, Date.now(), more ? cursor : null, PAGE));
      if (mine !== token.current) return;
      setItems((list) => {
        if (!more || !list) return page.items;
        const have = new Set(list.map((c) => c.id));
        return list.concat(page.items.filter((c) => !have.has(c.id)));
      });
      setCursor(page.next_cursor);
    } catch (e) {
      if (mine === token.current) setError(problemText(e));
    } finally {
      if (mine === token.current) setLoading(false);
    }
  };

  useEffect(() => {
    void load(false);
  }, [key]);

  useEffect(() => {
    api.websites().then(setWebsites, () => setWebsites([]));
  }, []);

  // Edits and merges made anywhere show in the rows held.
  const change = contactChange.value;
  useEffect(() => {
    if (!change) return;
    setItems((list) =>
      list
        ? list.filter((c) => c.id !== change.mergedFrom).map((c) => (c.id === change.contact.id ? change.contact : c))
        : list,
    );
  }, [change]);

  const setFilters = (f: ContactFilters) => navigate("/app/contacts" + contactFiltersSearch(f), true, false);

  return (
    <main class="monitor contacts" data-testid="contacts">
      <div class="monitor-head">
        <h1>Contacts</h1>
        {items && (
          <span class="muted small" role="status">
            {items.length === 0 ? "None" : items.length + (cursor ? "+" : "")} {hasContactFilters(filters) ? "matching" : "in all"}
          </span>
        )}
      </div>
      <section class="card contacts-card">
        <ContactFilterBar filters={filters} websites={websites} onChange={setFilters} />
        {error && (
          <p class="form-error" role="alert">
            {error}{" "}
            <button type="button" class="link-btn" onClick={() => void load(false)}>
              Try again
            </button>
          </p>
        )}
        {items === null && !error && <p class="muted">Loading…</p>}
        {items && items.length === 0 && (
          <p class="muted contacts-empty" data-testid="contacts-empty">
            {hasContactFilters(filters)
              ? "No contact matches these filters."
              : "No contacts yet. Everyone who chats with you, or whom you give a name, email or phone, is listed here."}
          </p>
        )}
        {items && items.length > 0 && (
          <div class="contacts-scroll">
            <table class="table contacts-table" data-testid="contacts-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Company</th>
                  <th scope="col">Phone</th>
                  <th scope="col">Last seen</th>
                  <th scope="col" class="num">
                    Conversations
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((c) => (
                  <ContactRow key={c.id} c={c} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {cursor && items && (
          <div class="contacts-more">
            <button type="button" class="btn" disabled={loading} onClick={() => void load(true)} data-testid="contacts-more">
              {loading ? "Loading…" : "Load more"}
            </button>
          </div>
        )}
      </section>
    </main>
  );
}

function ContactRow({ c }: { c: ContactProfile }) {
  const href = "/app/contacts/" + encodeURIComponent(c.id);
  const dash = <span class="muted">—</span>;
  return (
    <tr
      class="contact-row"
      data-testid="contact-row"
      data-id={c.id}
      onClick={(e) => {
        // The whole row opens the contact; links and selections inside it keep their own meaning.
        const t = e.target as HTMLElement;
        if (t.closest("a") || String(getSelection() ?? "")) return;
        navigate(href);
      }}
    >
      <th scope="row">
        <a href={href} onClick={(e) => linkClick(e, href)} class="cell-name">
          {contactLabel(c.name, c.id)}
        </a>
        <span class="muted small contact-site">{c.website_name}</span>
      </th>
      <td class="cell-text">{c.email ?? dash}</td>
      <td class="cell-text">{c.company ?? dash}</td>
      <td class="cell-nowrap">{c.phone ?? dash}</td>
      <td class="cell-nowrap">
        <time dateTime={new Date(c.last_seen_at).toISOString()} title={dateTime(c.last_seen_at)}>
          {relativeTime(c.last_seen_at, now.value)}
        </time>
      </td>
      <td class="num">{c.conversation_count}</td>
    </tr>
  );
}

function ContactFilterBar({ filters, websites, onChange }: { filters: ContactFilters; websites: WebsiteView[]; onChange: (f: ContactFilters) => void }) {
  const [q, setQ] = useState(filters.q ?? "");
  const [attrKey, setAttrKey] = useState(filters.attrKey ?? "");
  const [attrValue, setAttrValue] = useState(filters.attrValue ?? "");
  const timer = useRef(0);
  // The URL changed from elsewhere (Back, "Clear"): the inputs follow it.
  useEffect(() => setQ(filters.q ?? ""), [filters.q]);
  useEffect(() => {
    setAttrKey(filters.attrKey ?? "");
    setAttrValue(filters.attrValue ?? "");
  }, [filters.attrKey, filters.attrValue]);
  useEffect(() => () => clearTimeout(timer.current), []);

  const soon = (f: ContactFilters) => {
    clearTimeout(timer.current);
    timer.current = window.setTimeout(() => onChange(f), 250);
  };
  const without = <K extends keyof ContactFilters>(f: ContactFilters, k: K, v: ContactFilters[K] | undefined): ContactFilters => {
    const next = { ...f };
    if (v === undefined || v === "") delete next[k];
    else next[k] = v;
    return next;
  };
  const setAttr = (k: string, v: string) => {
    const key = attributeKey(k);
    let next = without(filters, "attrKey", undefined);
    next = without(next, "attrValue", undefined);
    if (key && v.trim()) next = { ...next, attrKey: key, attrValue: v.trim() };
    soon(next);
  };
  const badKey = attrKey.trim() !== "" && !attributeKey(attrKey);

  return (
    <div class="contacts-filters compact" role="search" aria-label="Find contacts">
      <input
        type="search"
        class="contacts-search"
        placeholder="Search name, email, phone or company"
        aria-label="Search contacts"
        value={q}
        maxLength={200}
        onInput={(e) => {
          setQ(e.currentTarget.value);
          soon(without(filters, "q", e.currentTarget.value.trim()));
        }}
        data-testid="contacts-search"
      />
      {websites.length > 1 && (
        <select aria-label="Website" value={filters.website ?? ""} onChange={(e) => onChange(without(filters, "website", e.currentTarget.value))} data-testid="contacts-website">
          <option value="">All websites</option>
          {websites.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name}
            </option>
          ))}
        </select>
      )}
      <select
        aria-label="Email"
        value={filters.email ?? ""}
        onChange={(e) => onChange(without(filters, "email", (e.currentTarget.value || undefined) as ContactFilters["email"]))}
        data-testid="contacts-email"
      >
        <option value="">With or without email</option>
        <option value="yes">Has an email</option>
        <option value="no">No email</option>
      </select>
      <select
        aria-label="Last seen"
        value={filters.seen ?? ""}
        onChange={(e) => onChange(without(filters, "seen", (e.currentTarget.value || undefined) as Seen | undefined))}
        data-testid="contacts-seen"
      >
        <option value="">Seen any time</option>
        {(Object.keys(SEEN) as Seen[]).map((s) => (
          <option key={s} value={s}>
            Seen in the {SEEN[s].label.toLowerCase()}
          </option>
        ))}
      </select>
      <span class="attr-filter" role="group" aria-label="Custom attribute">
        <input
          class="attr-filter-key"
          placeholder="Attribute"
          aria-label="Attribute name"
          aria-invalid={badKey}
          title={badKey ? "Letters a–z, digits and _" : undefined}
          maxLength={40}
          spellcheck={false}
          value={attrKey}
          onInput={(e) => {
            setAttrKey(e.currentTarget.value);
            setAttr(e.currentTarget.value, attrValue);
          }}
          data-testid="contacts-attr-key"
        />
        <span aria-hidden="true">=</span>
        <input
          class="attr-filter-value"
          placeholder="value"
          aria-label="Attribute value"
          maxLength={500}
          value={attrValue}
          onInput={(e) => {
            setAttrValue(e.currentTarget.value);
            setAttr(attrKey, e.currentTarget.value);
          }}
          data-testid="contacts-attr-value"
        />
      </span>
      {hasContactFilters(filters) && (
        <button
          type="button"
          class="link-btn small"
          onClick={() => {
            clearTimeout(timer.current);
            onChange({});
          }}
          data-testid="contacts-clear"
        >
          Clear filters
        </button>
      )}
    </div>
  );
}

// --- one contact ------------------------------------------------------------------------------

function ContactPage({ id }: { id: string }) {
  const { detail, error, mergedInto } = useContact(id);
  const [merging, setMerging] = useState(false);
  const back = "/app/contacts" + lastListSearch;

  // Merged into another while open (here or by a colleague): show that one.
  useEffect(() => {
    if (mergedInto) navigate("/app/contacts/" + encodeURIComponent(mergedInto), true);
  }, [mergedInto]);

  return (
    <main class="monitor contacts" data-testid="contact-page">
      <p class="contacts-back">
        <a href={back} onClick={(e) => linkClick(e, back)}>
          ← All contacts
        </a>
      </p>
      {!detail && (
        <p class={error ? "form-error" : "muted"} role={error ? "alert" : undefined}>
          {error ? "This contact is not available: " + error : "Loading…"}
        </p>
      )}
      {detail && (
        <div class="contact-page">
          <section class="card contact-card" aria-label="Contact">
            <ContactHead profile={detail.contact} headingLevel={1} />
            <ProfileSection profile={detail.contact} />
            <div class="contact-card-foot">
              <button type="button" class="btn btn-small" onClick={() => setMerging(true)} data-testid="merge-open">
                Merge with…
              </button>
              <span class="muted small">The same person twice? Merge the two contacts.</span>
            </div>
          </section>
          <div class="contact-side">
            <section class="card" aria-labelledby="convs-h">
              <h2 id="convs-h">
                Conversations <span class="muted small">{detail.contact.conversation_count}</span>
              </h2>
              <ConversationLinks items={detail.conversations} total={detail.contact.conversation_count} empty="No conversations yet." />
            </section>
            <section class="card" aria-labelledby="visit-h">
              <h2 id="visit-h">Last visit</h2>
              <VisitorPanel contactId={detail.contact.id} />
            </section>
          </div>
        </div>
      )}
      {merging && detail && (
        <MergeDialog
          contact={detail.contact}
          onClose={() => setMerging(false)}
          onMerged={(keptId) => {
            setMerging(false);
            if (keptId !== id) navigate("/app/contacts/" + encodeURIComponent(keptId), true);
          }}
        />
      )}
    </main>
  );
}

/**
 * "Merge with…": find the other contact, choose which of the two is kept, and confirm. The text
 * says exactly what happens to each before anything changes.
 */
function MergeDialog({ contact, onClose, onMerged }: { contact: ContactProfile; onClose: () => void; onMerged: (keptId: string) => void }) {
  const [q, setQ] = useState("");
  const [found, setFound] = useState<ContactProfile[] | null>(null);
  const [other, setOther] = useState<ContactProfile | null>(null);
  const [keepThis, setKeepThis] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    let stale = false;
    const t = window.setTimeout(() => {
      contactsApi.list(contactQuery({ q }, Date.now(), null, 8)).then(
        (p) => !stale && setFound(p.items.filter((c) => c.id !== contact.id)),
        (e) => !stale && setError(problemText(e)),
      );
    }, q ? 200 : 0);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [q]);

  useEffect(() => {
    if (!other) searchRef.current?.focus();
  }, [other]);

  const name = (c: ContactProfile) => contactLabel(c.name, c.id);
  const merge = async () => {
    if (!other) return;
    const [kept, gone] = keepThis ? [contact, other] : [other, contact];
    setBusy(true);
    setError(null);
    try {
      await mergeContacts(kept.id, gone.id);
      onMerged(kept.id);
    } catch (e) {
      setError(problemText(e));
      setBusy(false);
    }
  };

  return (
    <Modal title={"Merge " + name(contact) + " with…"} testId="merge-dialog" onClose={onClose}>
      {!other ? (
        <>
          <p class="muted small">Find the other contact: the same person, seen on another device, site or channel.</p>
          <input
            ref={searchRef}
            type="search"
            class="merge-search"
            placeholder="Search name, email, phone or company"
            aria-label="Find the other contact"
            value={q}
            onInput={(e) => setQ(e.currentTarget.value)}
            data-testid="merge-search"
          />
          {error && (
            <p class="form-error" role="alert">
              {error}
            </p>
          )}
          <ul class="merge-results" aria-label="Contacts found">
            {found === null && <li class="muted small">Searching…</li>}
            {found && found.length === 0 && <li class="muted small">No other contact matches.</li>}
            {found &&
              found.map((c) => (
                <li key={c.id}>
                  <button type="button" class="merge-pick" onClick={() => setOther(c)} data-testid="merge-pick" data-id={c.id}>
                    <strong>{name(c)}</strong>
                    <span class="muted small">{[c.email, c.company, c.phone].filter(Boolean).join(" · ") || c.website_name}</span>
                    <span class="muted small">
                      {c.conversation_count} conversation{c.conversation_count === 1 ? "" : "s"} · seen {relativeTime(c.last_seen_at, now.value)}
                      {relativeTime(c.last_seen_at, now.value) === "now" ? "" : " ago"}
                    </span>
                  </button>
                </li>
              ))}
          </ul>
          <div class="modal-actions">
            <button type="button" class="btn" onClick={onClose}>
              Cancel
            </button>
          </div>
        </>
      ) : (
        <MergeConfirm
          a={contact}
          b={other}
          keepA={keepThis}
          setKeepA={setKeepThis}
          busy={busy}
          error={error}
          onBack={() => {
            setOther(null);
            setError(null);
          }}
          onMerge={() => void merge()}
        />
      )}
    </Modal>
  );
}

function MergeConfirm(props: {
  a: ContactProfile;
  b: ContactProfile;
  keepA: boolean;
  setKeepA: (v: boolean) => void;
  busy: boolean;
  error: string | null;
  onBack: () => void;
  onMerge: () => void;
}) {
  const { a, b, keepA, setKeepA, busy, error, onBack, onMerge } = props;
  const [kept, gone] = keepA ? [a, b] : [b, a];
  const name = (c: ContactProfile) => contactLabel(c.name, c.id);
  const option = (c: ContactProfile, on: boolean, set: () => void) => (
    <label class={"choice" + (on ? " is-on" : "")}>
      <input type="radio" name="merge-keep" checked={on} onChange={set} data-testid={"merge-keep-" + (c.id === a.id ? "this" : "other")} />
      <span>
        <strong>{name(c)}</strong>
        <small>{[c.email, c.phone, c.company].filter(Boolean).join(" · ") || c.website_name}</small>
      </span>
    </label>
  );
  const moved = gone.conversation_count;
  return (
    <>
      <fieldset class="group">
        <legend>Which one is kept?</legend>
        <div class="choices">
          {option(a, keepA, () => setKeepA(true))}
          {option(b, !keepA, () => setKeepA(false))}
        </div>
      </fieldset>
      <p class="note small" data-testid="merge-summary">
        <strong>{name(kept)}</strong> is kept: its name, email, phone and company stay, and <strong>{name(gone)}</strong>'s fill in
        what is blank; custom attributes are joined. {name(gone)}'s {moved} conversation{moved === 1 ? "" : "s"}, visits and any ban
        move to {name(kept)}, and {name(gone)} is removed. This cannot be undone.
      </p>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <div class="modal-actions">
        <button type="button" class="btn" onClick={onBack} disabled={busy}>
          Back
        </button>
        <button type="button" class="btn btn-primary" onClick={onMerge} disabled={busy} data-testid="merge-confirm">
          {busy ? "Merging…" : "Merge into " + name(kept)}
        </button>
      </div>
    </>
  );
}
