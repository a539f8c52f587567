// The contacts views' rules, kept apart from the views so they can be tested alone
// (web/test/contacts.test.mjs): the Contacts page's filters as the URL keeps them and the API
// query they make, and the profile form's change as the PATCH body the server expects.

import type { AttributeValue } from "../generated/AttributeValue";
import type { ContactProfile } from "../generated/ContactProfile";
import type { UpdateContactRequest } from "../generated/UpdateContactRequest";

// --- the list's filters -----------------------------------------------------------------------

export type Seen = "24h" | "7d" | "30d";
export const SEEN: Record<Seen, { label: string; ms: number }> = {
  "24h": { label: "Last 24 hours", ms: 86_400_000 },
  "7d": { label: "Last 7 days", ms: 7 * 86_400_000 },
  "30d": { label: "Last 30 days", ms: 30 * 86_400_000 },
};

/** The Contacts page's filters, as the URL's query keeps them (`?q=ann&email=yes&seen=7d&website=…&attr=plan%3Dpro`). */
export type ContactFilters = {
  q?: string;
  website?: string;
  email?: "yes" | "no";
  seen?: Seen;
  /** The custom attribute's key, lower-cased. */
  attrKey?: string;
  attrValue?: string;
};

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY = /^[a-z0-9_]{1,40}$/;

/** A custom attribute's key as the server keeps it (trimmed, lower-cased), or null if it is not one. */
export function attributeKey(raw: string): string | null {
  const k = raw.trim().toLowerCase();
  return KEY.test(k) ? k : null;
}

/** Keeps only well-formed filters: a link or a reload never makes a query the server refuses. */
export function parseContactFilters(search: string): ContactFilters {
  const p = new URLSearchParams(search);
  const f: ContactFilters = {};
  const q = (p.get("q") ?? "").trim();
  if (q) f.q = Array.from(q).slice(0, 200).join("");
  const w = (p.get("website") ?? "").toLowerCase();
  if (ID.test(w)) f.website = w;
  const e = p.get("email");
  if (e === "yes" || e === "no") f.email = e;
  const s = p.get("seen");
  if (s === "24h" || s === "7d" || s === "30d") f.seen = s;
  const a = p.get("attr") ?? "";
  const at = a.indexOf("=");
  if (at > 0) {
    const key = attributeKey(a.slice(0, at));
    const value = a.slice(at + 1).trim();
    if (key && value) {
      f.attrKey = key;
      f.attrValue = Array.from(value).slice(0, 500).join("");
    }
  }
  return f;
}

/** The URL query (with `?`, or "") that keeps these filters. */
export function contactFiltersSearch(f: ContactFilters): string {
  const p = new URLSearchParams();
  if (f.q && f.q.trim()) p.set("q", f.q.trim());
  if (f.website) p.set("website", f.website);
  if (f.email) p.set("email", f.email);
  if (f.seen) p.set("seen", f.seen);
  if (f.attrKey && f.attrValue) p.set("attr", f.attrKey + "=" + f.attrValue);
  const s = p.toString();
  return s ? "?" + s : "";
}

/** Whether any filter narrows the list. */
export function hasContactFilters(f: ContactFilters): boolean {
  return contactFiltersSearch(f) !== "";
}

/** The `GET /api/v1/contacts` query for these filters at `now`, with `?`. */
export function contactQuery(f: ContactFilters, now: number, cursor: string | null = null, limit = 50): string {
  const p = new URLSearchParams();
  if (f.q && f.q.trim()) p.set("q", f.q.trim());
  if (f.website) p.set("website", f.website);
  if (f.email) p.set("has_email", f.email === "yes" ? "true" : "false");
  if (f.seen) p.set("seen_after", String(Math.max(0, now - SEEN[f.seen].ms)));
  if (f.attrKey && f.attrValue) p.set("attr." + f.attrKey, f.attrValue);
  if (cursor) p.set("cursor", cursor);
  p.set("limit", String(limit));
  return "?" + p.toString();
}

// --- the profile form -------------------------------------------------------------------------

export type AttrType = "text" | "number" | "boolean";
/** One row of the attributes editor; `value` is what the input holds ("true"/"false" for a boolean). */
export type AttrRow = { key: string; type: AttrType; value: string };

export function typeOf(v: AttributeValue): AttrType {
  return typeof v === "boolean" ? "boolean" : typeof v === "number" ? "number" : "text";
}

/** A value as people read it: "Yes"/"No", a number as written, text as is. */
export function showValue(v: AttributeValue): string {
  return typeof v === "boolean" ? (v ? "Yes" : "No") : String(v);
}

export function rowsOf(attrs: { [key in string]?: AttributeValue }): AttrRow[] {
  return Object.entries(attrs)
    .filter((e): e is [string, AttributeValue] => e[1] !== undefined)
    .map(([key, v]) => ({ key, type: typeOf(v), value: String(v) }));
}

export type ProfileForm = { name: string; email: string; phone: string; company: string; rows: AttrRow[] };

export function formOf(p: ContactProfile): ProfileForm {
  return { name: p.name ?? "", email: p.email ?? "", phone: p.phone ?? "", company: p.company ?? "", rows: rowsOf(p.attributes) };
}

/**
 * The PATCH body that turns `before` into what the form holds: only changed fields; attributes as a
 * merge patch (a removed or renamed key is `null`). A row with an empty key and value is ignored;
 * an empty text value removes its key. Returns an error text instead when the form cannot be saved.
 */
export function profilePatch(before: ContactProfile, form: ProfileForm): { body: UpdateContactRequest } | { error: string } {
  const body: UpdateContactRequest = {};
  const text = (now: string, was: string | null, k: "name" | "email" | "phone" | "company") => {
    if (now.trim() !== (was ?? "")) body[k] = now.trim();
  };
  text(form.name, before.name, "name");
  text(form.email, before.email, "email");
  text(form.phone, before.phone, "phone");
  text(form.company, before.company, "company");

  const next: Record<string, AttributeValue> = {};
  for (const r of form.rows) {
    if (!r.key.trim() && !r.value.trim()) continue;
    const key = attributeKey(r.key);
    if (!key) return { error: `“${r.key.trim() || "(empty)"}” is not an attribute name: use letters a–z, digits and _ (40 at most).` };
    if (key in next) return { error: `The attribute “${key}” is there twice.` };
    let v: AttributeValue;
    if (r.type === "boolean") v = r.value === "true";
    else if (r.type === "number") {
      const n = Number(r.value.trim());
      if (!r.value.trim() || !Number.isFinite(n)) return { error: `The value of “${key}” is not a number.` };
      v = n;
    } else {
      const t = r.value.trim();
      if (!t) continue;
      v = t;
    }
    next[key] = v;
  }
  const attrs: { [key in string]: AttributeValue | null } = {};
  let changed = false;
  for (const k of Object.keys(before.attributes)) {
    if (!(k in next)) {
      attrs[k] = null;
      changed = true;
    }
  }
  for (const [k, v] of Object.entries(next)) {
    if (before.attributes[k] !== v) {
      attrs[k] = v;
      changed = true;
    }
  }
  if (changed) body.attributes = attrs;
  return { body };
}
