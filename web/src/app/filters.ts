// The inbox filter's state: the URL's query (so a reload, a link or Back keeps it). The rules
// (parsing, the API query, the client-side match) are in filter-rules.ts.

import { computed } from "@preact/signals";
import { FILTER_KEYS, parseFilters, type FilterKey, type Filters } from "./filter-rules";
import { navigate, search } from "./router";

export { activeKeys, filterQuery, matchesFilters, type FilterKey, type Filters } from "./filter-rules";

export const filters = computed(() => parseFilters(search.value));

/** Replaces the filters in the URL (a new history entry, so Back undoes it). */
export function setFilters(f: Filters) {
  const p = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const v = f[k];
    if (v) p.set(k, v);
  }
  const q = p.toString();
  navigate(location.pathname + (q ? "?" + q : ""), false, false);
}

export function setFilter<K extends FilterKey>(k: K, v: Filters[K] | undefined) {
  setFilters({ ...filters.value, [k]: v });
}

export function clearFilters() {
  setFilters({});
}

