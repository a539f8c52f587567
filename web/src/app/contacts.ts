// Contacts for the dashboard: the REST calls (docs/api.md, "Contacts") and `useContact`, one
// contact's detail kept current by `contact` frames (store.ts) and by saves in this tab.

import { useEffect, useRef, useState } from "preact/hooks";
import type { ContactDetail } from "../generated/ContactDetail";
import type { ContactPage } from "../generated/ContactPage";
import type { ContactProfile } from "../generated/ContactProfile";
import type { MergeContactRequest } from "../generated/MergeContactRequest";
import type { UpdateContactRequest } from "../generated/UpdateContactRequest";
import { problemText, request } from "./api";
import { contactChange, contactChanged } from "./store";

const path = (id: string) => "/api/v1/contacts/" + encodeURIComponent(id);

export const contactsApi = {
  /** `query` from `contactQuery` (contact-rules.ts), with its `?`. */
  list: (query: string) => request<ContactPage>("GET", "/api/v1/contacts" + query),
  get: (id: string) => request<ContactDetail>("GET", path(id)),
  update: (id: string, body: UpdateContactRequest) => request<ContactProfile>("PATCH", path(id), body),
  /** Merges `otherId` into `keptId`, which stays. */
  merge: (keptId: string, otherId: string) =>
    request<ContactDetail>("POST", path(keptId) + "/merge", { other_id: otherId } satisfies MergeContactRequest),
};

/** Saves a profile change and tells every view of this tab (the socket tells the others). */
export async function saveContact(id: string, body: UpdateContactRequest): Promise<ContactProfile> {
  const p = await contactsApi.update(id, body);
  contactChanged(p, null);
  return p;
}

/** Merges and tells every view of this tab; returns the kept contact's detail. */
export async function mergeContacts(keptId: string, otherId: string): Promise<ContactDetail> {
  const d = await contactsApi.merge(keptId, otherId);
  contactChanged(d.contact, otherId);
  return d;
}

export type ContactState = {
  detail: ContactDetail | null;
  error: string | null;
  /** This contact was merged into another (whose id this is) while shown. */
  mergedInto: string | null;
};

/**
 * One contact's detail: loaded when `id` changes, patched in place when its profile changes, and
 * reloaded (for the conversations list) when another contact is merged into it.
 */
export function useContact(id: string): ContactState {
  const [state, setState] = useState<ContactState>({ detail: null, error: null, mergedInto: null });
  const [reload, setReload] = useState(0);
  const change = contactChange.value;
  // Only changes heard after this view opened: what it loads is newer than any before.
  const before = useRef(contactChange.peek());

  useEffect(() => {
    let stale = false;
    setState((s) => (s.detail && s.detail.contact.id === id ? s : { detail: null, error: null, mergedInto: null }));
    contactsApi.get(id).then(
      (detail) => !stale && setState({ detail, error: null, mergedInto: null }),
      (e) => !stale && setState({ detail: null, error: problemText(e), mergedInto: null }),
    );
    return () => {
      stale = true;
    };
  }, [id, reload]);

  useEffect(() => {
    if (!change || change === before.current) return;
    if (change.mergedFrom === id) {
      setState((s) => ({ ...s, mergedInto: change.contact.id }));
      return;
    }
    if (change.contact.id !== id) return;
    if (change.mergedFrom) setReload((n) => n + 1);
    else setState((s) => (s.detail ? { ...s, detail: { ...s.detail, contact: change.contact } } : s));
  }, [change]);

  return state;
}
