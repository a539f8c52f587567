// The organization's tag list, kept current by `tags` frames, and what the tag views share.
// Conversations carry their own tags (id, name, colour); when the list changes (a rename, a
// recolour, a delete) store.ts patches the conversations it holds with `retag`.

import { signal } from "@preact/signals";
import type { Conversation } from "../generated/Conversation";
import type { Tag } from "../generated/Tag";
import type { TagColor } from "../generated/TagColor";
import { api, ApiError } from "./api";

export const TAG_COLORS: TagColor[] = ["gray", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink"];
/** Longest tag name, as the server checks it (`MAX_TAG_NAME_CHARS`). */
export const TAG_NAME_MAX = 40;

/** The organization's tags, sorted by name; `null` until loaded. */
export const tagList = signal<Tag[] | null>(null);

export function byName(a: Tag, b: Tag): number {
  return a.name.toLowerCase().localeCompare(b.name.toLowerCase()) || a.id.localeCompare(b.id);
}

let loading = false;
export async function loadTags(fresh = false) {
  if (loading || (tagList.value && !fresh)) return;
  loading = true;
  try {
    tagList.value = (await api.tags()).sort(byName);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) location.assign("/login");
  } finally {
    loading = false;
  }
}

/** Adds tags seen on a conversation that the list does not know yet (created elsewhere). */
export function learnTags(tags: readonly Tag[]) {
  const list = tagList.value;
  if (!list || !tags.length) return;
  const missing = tags.filter((t) => !list.some((x) => x.id === t.id));
  if (missing.length) tagList.value = list.concat(missing).sort(byName);
}

/** `c` with its tags renamed, recoloured or dropped as `list` says; `null` when nothing changes. */
export function retag(c: Conversation, list: readonly Tag[]): Conversation | null {
  if (!c.tags.length) return null;
  let changed = false;
  const tags: Tag[] = [];
  for (const t of c.tags) {
    const now = list.find((x) => x.id === t.id);
    if (!now) changed = true;
    else {
      if (now.name !== t.name || now.color !== t.color) changed = true;
      tags.push(now);
    }
  }
  return changed ? { ...c, tags: tags.sort(byName) } : null;
}
