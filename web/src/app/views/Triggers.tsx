// Settings → Websites → Triggers: a site's proactive triggers (admins). Rules are edited as a
// draft and saved together (`PUT /websites/{id}/triggers`); the server checks them with the
// core's rules and answers with the saved set and each rule's shows, accepts and conversions.
import { useEffect, useState } from "preact/hooks";
import type { AgentsWhen } from "../../generated/AgentsWhen";
import type { Condition } from "../../generated/Condition";
import type { SiteTriggers } from "../../generated/SiteTriggers";
import type { SiteTriggersView } from "../../generated/SiteTriggersView";
import type { TriggerRule } from "../../generated/TriggerRule";
import type { TriggerStats } from "../../generated/TriggerStats";
import type { WebsiteView } from "../../generated/WebsiteView";
import { ApiError, problemText, request } from "../api";
import { agents, loadAgents, showError } from "../store";
import { ErrorNote } from "../ui";

const path = (site: string) => "/api/v1/websites/" + encodeURIComponent(site) + "/triggers";

type Kind = Condition["type"];
const KINDS: [Kind, string][] = [
  ["time_on_page", "Seconds on the page"],
  ["url", "Page URL"],
  ["scroll_depth", "Scrolled down (%)"],
  ["visits", "Visit number at least"],
  ["referrer", "Came from (referrer)"],
  ["utm", "UTM tag"],
  ["exit_intent", "About to leave (desktop)"],
];

function fresh(kind: Kind): Condition {
  switch (kind) {
    case "time_on_page":
      return { type: kind, seconds: 10 };
    case "url":
      return { type: kind, how: "prefix", value: "/" };
    case "scroll_depth":
      return { type: kind, percent: 50 };
    case "visits":
      return { type: kind, at_least: 2 };
    case "referrer":
      return { type: kind, how: "contains", value: "" };
    case "utm":
      return { type: kind, key: "source", value: "" };
    case "exit_intent":
      return { type: kind };
  }
}

function newRule(n: number): TriggerRule {
  return {
    id: "",
    name: "Trigger " + n,
    enabled: true,
    conditions: [fresh("time_on_page")],
    agents: "any",
    action: { text: "Hi! Can we help you with anything?", from: { type: "team" }, open: false },
  };
}

export function TriggersPanel({ site, id }: { site: WebsiteView; id: string }) {
  const [draft, setDraft] = useState<SiteTriggers | null>(null);
  const [stats, setStats] = useState<TriggerStats[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);

  const take = (v: SiteTriggersView) => {
    setDraft(v.triggers);
    setStats(v.stats);
  };
  useEffect(() => {
    if (agents.value === null) void loadAgents();
    request<SiteTriggersView>("GET", path(site.id))
      .then(take)
      .catch((e) => {
        setLoadError(problemText(e));
        if (e instanceof ApiError && e.status === 401) showError(e);
      });
  }, [site.id]);

  if (loadError) return <ErrorNote text={loadError} />;
  if (!draft) return <p class="muted">Loading…</p>;

  const set = (patch: Partial<SiteTriggers>) => {
    setSaved(false);
    setDraft({ ...draft, ...patch });
  };
  const setRule = (i: number, patch: Partial<TriggerRule>) => set({ rules: draft.rules.map((r, j) => (j === i ? { ...r, ...patch } : r)) });

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      take(await request<SiteTriggersView>("PUT", path(site.id), draft));
      setSaved(true);
    } catch (err) {
      setError(problemText(err));
      if (err instanceof ApiError && err.status === 401) showError(err);
    }
    setBusy(false);
  };

  return (
    <form id={id} class="routing compact triggers" onSubmit={submit} data-testid="triggers-form" aria-label={"Triggers of " + site.name}>
      <p class="muted small">
        Greet visitors at the right moment. The widget checks these rules on the page itself; the first rule whose conditions all hold shows
        its greeting. A visitor never sees a trigger again after closing it, and none while chatting.
      </p>
      <label class="field inline">
        <span>At most</span>
        <input
          type="number"
          min={1}
          max={10}
          value={draft.max_per_visit}
          onInput={(e) => set({ max_per_visit: Number(e.currentTarget.value) || 0 })}
          data-testid="triggers-cap"
          style={{ width: "5em" }}
        />
        <span>greetings per visit</span>
      </label>
      {draft.rules.length === 0 && <p class="muted">No triggers yet.</p>}
      <ol class="trigger-list">
        {draft.rules.map((r, i) => (
          <Rule key={i} n={i + 1} rule={r} stats={stats.find((s) => s.trigger_id === r.id)} set={(p) => setRule(i, p)} remove={() => set({ rules: draft.rules.filter((_, j) => j !== i) })} />
        ))}
      </ol>
      <div class="form-actions">
        <button type="button" class="btn" onClick={() => set({ rules: [...draft.rules, newRule(draft.rules.length + 1)] })} data-testid="trigger-add">
          Add trigger
        </button>
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="triggers-save">
          {busy ? "Saving…" : "Save triggers"}
        </button>
        {saved && (
          <span class="muted small" role="status" data-testid="triggers-saved">
            Saved
          </span>
        )}
      </div>
      {error && <ErrorNote text={error} />}
    </form>
  );
}

function Rule(props: { n: number; rule: TriggerRule; stats: TriggerStats | undefined; set: (p: Partial<TriggerRule>) => void; remove: () => void }) {
  const { n, rule: r, stats, set } = props;
  const label = "Trigger " + n;
  const setCond = (i: number, c: Condition) => set({ conditions: r.conditions.map((x, j) => (j === i ? c : x)) });
  const from = r.action.from;
  return (
    <li class="trigger" data-testid="trigger" data-id={r.id}>
      <div class="row-fields">
        <input class="trigger-name" aria-label={label + ": name"} value={r.name} maxLength={80} onInput={(e) => set({ name: e.currentTarget.value })} data-testid="trigger-name" />
        <label class="inline">
          <input type="checkbox" checked={r.enabled} onChange={(e) => set({ enabled: e.currentTarget.checked })} data-testid="trigger-enabled" /> Enabled
        </label>
        {stats && (
          <span class="muted small" data-testid="trigger-stats">
            <span data-testid="trigger-shows">{stats.shows}</span> shown · <span data-testid="trigger-accepts">{stats.accepts}</span> accepted ·{" "}
            <span data-testid="trigger-conversions">{stats.conversions}</span> conversations
          </span>
        )}
        <button type="button" class="icon-btn" aria-label={"Delete " + label.toLowerCase()} title="Delete" onClick={props.remove} data-testid="trigger-delete">
          ×
        </button>
      </div>
      <fieldset class="group">
        <legend>When all of these hold</legend>
        {r.conditions.map((c, i) => (
          <div class="row-fields" key={i} data-testid="trigger-condition">
            <select
              aria-label={label + ": condition " + (i + 1)}
              value={c.type}
              onChange={(e) => setCond(i, fresh(e.currentTarget.value as Kind))}
              data-testid="condition-kind"
            >
              {KINDS.map(([k, text]) => (
                <option key={k} value={k}>
                  {text}
                </option>
              ))}
            </select>
            <CondValue c={c} label={label + ": condition " + (i + 1)} set={(x) => setCond(i, x)} />
            <button
              type="button"
              class="icon-btn"
              aria-label={"Remove condition " + (i + 1) + " of " + label.toLowerCase()}
              onClick={() => set({ conditions: r.conditions.filter((_, j) => j !== i) })}
            >
              ×
            </button>
          </div>
        ))}
        <div class="row-fields">
          <button type="button" class="btn btn-small" onClick={() => set({ conditions: [...r.conditions, fresh("url")] })} data-testid="condition-add">
            Add condition
          </button>
          <label class="field inline">
            <span>Agents</span>
            <select value={r.agents} onChange={(e) => set({ agents: e.currentTarget.value as AgentsWhen })} data-testid="trigger-agents">
              <option value="any">online or not</option>
              <option value="online">online</option>
              <option value="offline">all offline</option>
            </select>
          </label>
        </div>
      </fieldset>
      <fieldset class="group">
        <legend>Greeting</legend>
        <textarea
          aria-label={label + ": greeting"}
          rows={2}
          maxLength={500}
          value={r.action.text}
          onInput={(e) => set({ action: { ...r.action, text: e.currentTarget.value } })}
          data-testid="trigger-text"
        />
        <div class="row-fields">
          <label class="field inline">
            <span>From</span>
            <select
              value={from.type === "agent" ? from.id : ""}
              onChange={(e) => {
                const a = (agents.value ?? []).find((x) => x.id === e.currentTarget.value);
                set({ action: { ...r.action, from: a ? { type: "agent", id: a.id, name: a.name } : { type: "team" } } });
              }}
              data-testid="trigger-from"
            >
              <option value="">The team</option>
              {(agents.value ?? []).map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
            </select>
          </label>
          <label class="inline">
            <input
              type="checkbox"
              checked={r.action.open}
              onChange={(e) => set({ action: { ...r.action, open: e.currentTarget.checked } })}
              data-testid="trigger-open"
            />{" "}
            Open the chat (otherwise a bubble by the launcher)
          </label>
        </div>
      </fieldset>
    </li>
  );
}

function CondValue({ c, label, set }: { c: Condition; label: string; set: (c: Condition) => void }) {
  const num = (v: number, max: number, make: (n: number) => Condition, test: string) => (
    <input
      type="number"
      min={0}
      max={max}
      aria-label={label + ": value"}
      value={v}
      onInput={(e) => set(make(Number(e.currentTarget.value) || 0))}
      data-testid={test}
      style={{ width: "6em" }}
    />
  );
  const text = (v: string, make: (s: string) => Condition, placeholder: string) => (
    <input aria-label={label + ": value"} placeholder={placeholder} maxLength={500} value={v} onInput={(e) => set(make(e.currentTarget.value))} data-testid="condition-value" />
  );
  switch (c.type) {
    case "time_on_page":
      return num(c.seconds, 3600, (seconds) => ({ ...c, seconds }), "condition-seconds");
    case "scroll_depth":
      return num(c.percent, 100, (percent) => ({ ...c, percent }), "condition-percent");
    case "visits":
      return num(c.at_least, 1000, (at_least) => ({ ...c, at_least }), "condition-visits");
    case "url":
      return (
        <>
          <select aria-label={label + ": how"} value={c.how} onChange={(e) => set({ ...c, how: e.currentTarget.value as typeof c.how })} data-testid="condition-how">
            <option value="prefix">starts with</option>
            <option value="exact">is</option>
            <option value="pattern">matches (* = anything)</option>
          </select>
          {text(c.value, (value) => ({ ...c, value }), "/pricing")}
        </>
      );
    case "referrer":
      return (
        <>
          <select aria-label={label + ": how"} value={c.how} onChange={(e) => set({ ...c, how: e.currentTarget.value as typeof c.how })}>
            <option value="contains">contains</option>
            <option value="pattern">matches (* = anything)</option>
          </select>
          {text(c.value, (value) => ({ ...c, value }), "google.")}
        </>
      );
    case "utm":
      return (
        <>
          <select aria-label={label + ": tag"} value={c.key} onChange={(e) => set({ ...c, key: e.currentTarget.value as typeof c.key })}>
            {["source", "medium", "campaign", "term", "content"].map((k) => (
              <option key={k} value={k}>
                utm_{k}
              </option>
            ))}
          </select>
          <span aria-hidden="true">=</span>
          {text(c.value, (value) => ({ ...c, value }), "newsletter")}
        </>
      );
    case "exit_intent":
      return <span class="muted small">the pointer leaves toward the top</span>;
  }
}
