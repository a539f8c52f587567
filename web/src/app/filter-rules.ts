// The inbox filter's rules, pure (unit-tested in web/test/filters.test.mjs): what a query string
// says, the query it makes for `GET /api/v1/conversations` (docs/api.md), and the same test the
// server applies, so a live `conversation` frame can add or drop a row without a refetch.
//
// In the URL the dates are local calendar days (`from=2025-05-01&to=2025-05-07`, both days
// included); the API gets milliseconds, `to` being the start of the day after.

import type { Conversation } from "../generated/Conversation";
import type { ConversationQuery } from "../generated/ConversationQuery";
import type { DateField } from "../generated/DateField";
import type { Priority } from "../generated/Priority";

export type Filters = {
  tag?: string;
  team?: string;
  assignee?: string;
  website?: string;
  priority?: Priority;
  date?: DateField;
  /** YYYY-MM-DD, local. */
  from?: string;
  to?: string;
};
export type FilterKey = keyof Filters;
export const FILTER_KEYS: FilterKey[] = ["tag", "team", "assignee", "website", "priority", "date", "from", "to"];

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const PRIORITIES: Priority[] = ["normal", "high", "urgent"];

/** The filters a query string names; a malformed value is left out rather than sent. */
export function parseFilters(query: string): Filters {
  const p = new URLSearchParams(query);
  const f: Filters = {};
  for (const k of ["tag", "team", "assignee", "website"] as const) {
    const v = p.get(k);
    if (v && ID.test(v)) f[k] = v.toLowerCase();
  }
  const prio = p.get("priority");
  if (prio && (PRIORITIES as string[]).includes(prio)) f.priority = prio as Priority;
  const date = p.get("date");
  if (date === "created") f.date = "created";
  for (const k of ["from", "to"] as const) {
    const v = p.get(k);
    if (v && DAY.test(v) && !Number.isNaN(dayStart(v))) f[k] = v;
  }
  // Days compare as text; an empty range would be refused by the server.
  if (f.from && f.to && f.from > f.to) delete f.to;
  return f;
}

/** The filters that narrow the list (a date field alone does not). */
export function activeKeys(f: Filters): FilterKey[] {
  return FILTER_KEYS.filter((k) => f[k] !== undefined && k !== "date");
}

/** Midnight at the start of a local YYYY-MM-DD, in ms. */
function dayStart(day: string): number {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(y, m - 1, d).getTime();
}

/** The `[from, to)` the date filter means, in ms. */
function range(f: Filters): [number | null, number | null] {
  const from = f.from ? dayStart(f.from) : null;
  let to: number | null = null;
  if (f.to) {
    const t = new Date(dayStart(f.to));
    t.setDate(t.getDate() + 1);
    to = t.getTime();
  }
  return [from, to];
}

/** The filter part of the list's query. */
export function filterQuery(f: Filters): ConversationQuery {
  const q: ConversationQuery = {};
  if (f.tag) q.tag = f.tag;
  if (f.team) q.team = f.team;
  if (f.assignee) q.assignee = f.assignee;
  if (f.website) q.website = f.website;
  if (f.priority) q.priority = f.priority;
  const [from, to] = range(f);
  if (from !== null || to !== null) {
    q.date = f.date ?? "activity";
    if (from !== null) q.from = String(from);
    if (to !== null) q.to = String(to);
  }
  return q;
}

/** The same test the server applies, for conversations that change while the list is shown. */
export function matchesFilters(c: Conversation, f: Filters): boolean {
  if (f.tag && !c.tags.some((t) => t.id === f.tag)) return false;
  if (f.team && c.team_id !== f.team) return false;
  if (f.assignee && c.assignee_id !== f.assignee) return false;
  if (f.website && c.website_id !== f.website) return false;
  if (f.priority && c.priority !== f.priority) return false;
  const [from, to] = range(f);
  const at = f.date === "created" ? c.created_at : c.updated_at;
  if (from !== null && at < from) return false;
  if (to !== null && at >= to) return false;
  return true;
}
