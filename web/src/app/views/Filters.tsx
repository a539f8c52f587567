// The inbox's filter bar: a "Filter" button opening a small panel (tag, team, assignee,
// website, priority, dates), and one chip per active filter with a one-click clear. The state
// lives in the URL (filters.ts), so a reload or Back keeps it. Tab counts stay unfiltered.
import { signal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Priority } from "../../generated/Priority";
import type { WebsiteView } from "../../generated/WebsiteView";
import { api } from "../api";
import { activeKeys, clearFilters, filters, setFilter, setFilters, type FilterKey, type Filters } from "../filters";
import { agents, loadAgents, loadTeams, teams } from "../store";
import { loadTags, tagList } from "../tags";
import { TagChip } from "./Tags";

const PRIORITY_LABEL: Record<Priority, string> = { normal: "Normal", high: "High", urgent: "Urgent" };
const websites = signal<WebsiteView[] | null>(null);
let websitesLoading = false;
function loadWebsites() {
  if (websites.value || websitesLoading) return;
  websitesLoading = true;
  api
    .websites()
    .then((w) => (websites.value = w))
    .catch(() => {
      // The chips fall back to "Unknown"; the panel shows no choices.
    })
    .finally(() => (websitesLoading = false));
}

/** Everything the chips and the panel name, loaded once. */
function loadChoices() {
  void loadTags();
  void loadTeams();
  void loadAgents();
  loadWebsites();
}

function shortDay(day: string): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(y, m - 1, d).toLocaleDateString([], { day: "numeric", month: "short" });
}

/** "Active May 1 – May 7", "Created since May 1". */
function dateLabel(f: Filters): string {
  const what = f.date === "created" ? "Created" : "Active";
  if (f.from && f.to) return what + " " + shortDay(f.from) + " – " + shortDay(f.to);
  if (f.from) return what + " since " + shortDay(f.from);
  return what + " until " + shortDay(f.to ?? "");
}

function Chip({ label, value, k, testId, children }: { label: string; value?: string; k: FilterKey | "dates"; testId?: string; children?: ComponentChildren }) {
  const clear = () => {
    if (k === "dates") {
      const f = { ...filters.value };
      delete f.from;
      delete f.to;
      delete f.date;
      setFilters(f);
      return;
    }
    setFilter(k, undefined);
  };
  return (
    <li class="filter-chip" data-testid={testId ?? "filter-chip"} data-filter={k}>
      <span class="filter-chip-label">{label}</span>
      {children ?? <span class="filter-chip-value">{value}</span>}
      <button type="button" class="filter-chip-x" aria-label={"Remove filter: " + label + " " + (value ?? "")} onClick={clear}>
        ×
      </button>
    </li>
  );
}

export function FilterBar() {
  const [open, setOpen] = useState(false);
  const f = filters.value;
  const active = activeKeys(f);
  const btn = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (active.length) loadChoices();
  }, [active.length]);

  const tag = f.tag ? (tagList.value ?? []).find((t) => t.id === f.tag) : undefined;
  const name = <T extends { id: string; name: string }>(list: T[] | null, id: string | undefined) =>
    (list ?? []).find((x) => x.id === id)?.name ?? (list ? "Unknown" : "…");
  const hasDates = !!(f.from || f.to);

  return (
    <div class="filter-bar" data-testid="filter-bar">
      <div class="filter-row">
        <button
          ref={btn}
          type="button"
          class={"btn btn-small filter-btn" + (active.length ? " is-active" : "")}
          aria-expanded={open}
          aria-controls="filter-panel"
          data-testid="filter-button"
          onClick={() => {
            if (!open) loadChoices();
            setOpen(!open);
          }}
        >
          <FunnelIcon /> Filter
          {active.length > 0 && <span class="filter-count">{active.length}</span>}
        </button>
        {active.length > 0 && (
          <button type="button" class="link-btn filter-clear" data-testid="filter-clear" onClick={clearFilters}>
            Clear
          </button>
        )}
      </div>
      {active.length > 0 && (
        <ul class="filter-chips" aria-label="Active filters">
          {f.tag && (
            <Chip label="Tag" k="tag" value={tag ? tag.name : name(null, f.tag)}>
              {tag ? <TagChip tag={tag} small /> : undefined}
            </Chip>
          )}
          {f.team && <Chip label="Team" k="team" value={name(teams.value, f.team)} />}
          {f.assignee && <Chip label="Assignee" k="assignee" value={name(agents.value, f.assignee)} />}
          {f.website && <Chip label="Site" k="website" value={name(websites.value, f.website)} />}
          {f.priority && <Chip label="Priority" k="priority" value={PRIORITY_LABEL[f.priority]} />}
          {hasDates && <Chip label="" k="dates" value={dateLabel(f)} />}
        </ul>
      )}
      {open && (
        <FilterPanel
          onClose={(refocus) => {
            setOpen(false);
            if (refocus) setTimeout(() => btn.current?.focus());
          }}
        />
      )}
    </div>
  );
}

function FilterPanel({ onClose }: { onClose: (refocus: boolean) => void }) {
  const f = filters.value;
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>("select, input")?.focus();
    const away = (e: MouseEvent) => {
      const t = e.target as HTMLElement;
      if (ref.current && !ref.current.contains(t) && !t.closest(".filter-btn")) onClose(false);
    };
    document.addEventListener("mousedown", away);
    return () => document.removeEventListener("mousedown", away);
  }, []);

  const select = (k: "tag" | "team" | "assignee" | "website", label: string, list: { id: string; name: string }[] | null) => (
    <label class="field">
      <span>{label}</span>
      <select value={f[k] ?? ""} data-testid={"filter-" + k} onChange={(e) => setFilter(k, e.currentTarget.value || undefined)}>
        <option value="">{list ? "Any" : "Loading…"}</option>
        {(list ?? []).map((x) => (
          <option key={x.id} value={x.id}>
            {x.name}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <div
      class="filter-panel compact"
      id="filter-panel"
      role="group"
      aria-label="Filters"
      ref={ref}
      data-testid="filter-panel"
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          e.stopPropagation();
          onClose(true);
        }
      }}
    >
      <div class="filter-grid">
        {select("tag", "Tag", tagList.value)}
        {select("team", "Team", teams.value)}
        {select("assignee", "Assignee", agents.value)}
        {select("website", "Website", websites.value)}
        <label class="field">
          <span>Priority</span>
          <select
            value={f.priority ?? ""}
            data-testid="filter-priority"
            onChange={(e) => setFilter("priority", (e.currentTarget.value || undefined) as Priority | undefined)}
          >
            <option value="">Any</option>
            {(["urgent", "high", "normal"] as Priority[]).map((p) => (
              <option key={p} value={p}>
                {PRIORITY_LABEL[p]}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Date</span>
          <select
            value={f.date ?? "activity"}
            data-testid="filter-date"
            onChange={(e) => setFilter("date", e.currentTarget.value === "created" ? "created" : undefined)}
          >
            <option value="activity">Last activity</option>
            <option value="created">Started</option>
          </select>
        </label>
        <label class="field">
          <span>From</span>
          <input type="date" value={f.from ?? ""} max={f.to} data-testid="filter-from" onChange={(e) => setFilter("from", e.currentTarget.value || undefined)} />
        </label>
        <label class="field">
          <span>To</span>
          <input type="date" value={f.to ?? ""} min={f.from} data-testid="filter-to" onChange={(e) => setFilter("to", e.currentTarget.value || undefined)} />
        </label>
      </div>
      <div class="filter-panel-foot">
        <span class="muted small">Tab counts are not filtered.</span>
        <button type="button" class="btn btn-small btn-primary" data-testid="filter-done" onClick={() => onClose(true)}>
          Done
        </button>
      </div>
    </div>
  );
}

function FunnelIcon() {
  return (
    <svg viewBox="0 0 24 24" width="14" height="14" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
      <path d="M3 5h18l-7 8v6l-4-2v-4z" />
    </svg>
  );
}
