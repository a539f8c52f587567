// Settings → a website's "Routing & hours" (admins): the default team, the ordered rules that
// pick a team, the site's hours and what the widget does while closed, and when a waiting
// visitor is offered to leave a message instead.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { RoutingRule } from "../../generated/RoutingRule";
import type { RuleCondition } from "../../generated/RuleCondition";
import type { SiteRouting } from "../../generated/SiteRouting";
import type { TeamId } from "../../generated/TeamId";
import type { WebsiteView } from "../../generated/WebsiteView";
import type { WhenClosed } from "../../generated/WhenClosed";
import { api, ApiError, problemText } from "../api";
import { loadTeams, showError, teams } from "../store";
import { ErrorNote } from "../ui";
import { HoursEditor, hoursDraft, hoursFromDraft, type HoursDraft } from "./Hours";

type Kind = "url_pattern" | "department" | "language" | "attribute";

const KIND: Record<Kind, { label: string; placeholder: string; help: string }> = {
  url_pattern: { label: "Page URL matches", placeholder: "*/pricing*", help: "The whole page address; * stands for any text." },
  department: { label: "Department is", placeholder: "Billing", help: "Picked by the visitor in the pre-chat form." },
  language: { label: "Language is", placeholder: "de", help: "“de” also matches de-AT and de-CH." },
  attribute: { label: "Contact attribute", placeholder: "enterprise", help: "The contact has this attribute with this value." },
};
const KINDS = Object.keys(KIND) as Kind[];

type RuleDraft = { key: number; kind: Kind; attrKey: string; value: string; team: TeamId | ""; skill: string };
type Draft = { defaultTeam: TeamId | ""; rules: RuleDraft[]; hours: HoursDraft; whenClosed: WhenClosed; offerSecs: string };

let nextKey = 1;

function ruleDraft(r: RoutingRule): RuleDraft {
  const c = r.condition;
  const base = { key: nextKey++, team: r.team, skill: r.skill ?? "", attrKey: "" };
  if ("url_pattern" in c) return { ...base, kind: "url_pattern", value: c.url_pattern };
  if ("department" in c) return { ...base, kind: "department", value: c.department };
  if ("language" in c) return { ...base, kind: "language", value: c.language };
  return { ...base, kind: "attribute", attrKey: c.attribute.key, value: c.attribute.value };
}

function draftOf(s: SiteRouting): Draft {
  return {
    defaultTeam: s.default_team ?? "",
    rules: s.rules.map(ruleDraft),
    hours: hoursDraft(s.hours),
    whenClosed: s.when_closed,
    offerSecs: String(s.offer_offline_after_secs),
  };
}

function conditionOf(r: RuleDraft): RuleCondition {
  const value = r.value.trim();
  switch (r.kind) {
    case "url_pattern":
      return { url_pattern: value };
    case "department":
      return { department: value };
    case "language":
      return { language: value };
    case "attribute":
      return { attribute: { key: r.attrKey.trim(), value } };
  }
}

function routingOf(d: Draft, usesSkills: (team: TeamId) => boolean): { ok: true; routing: SiteRouting } | { ok: false; error: string } {
  const rules: RoutingRule[] = [];
  for (const [i, r] of d.rules.entries()) {
    const n = "Rule " + (i + 1) + ": ";
    if (r.kind === "attribute" && !r.attrKey.trim()) return { ok: false, error: n + "enter the attribute's name." };
    if (!r.value.trim()) return { ok: false, error: n + "enter a value to match." };
    if (!r.team) return { ok: false, error: n + "choose a team." };
    const skill = usesSkills(r.team) ? r.skill.trim() : "";
    rules.push({ condition: conditionOf(r), team: r.team, skill: skill || null });
  }
  const hours = hoursFromDraft(d.hours);
  if (!hours.ok) return { ok: false, error: "Website hours: " + hours.error };
  const secs = Number(d.offerSecs);
  if (!Number.isInteger(secs) || secs < 0) return { ok: false, error: "Enter the seconds before a waiting visitor may leave a message (a whole number)." };
  return {
    ok: true,
    routing: { default_team: d.defaultTeam || null, rules, hours: hours.hours, when_closed: d.whenClosed, offer_offline_after_secs: secs },
  };
}

export function SiteRoutingPanel({ site, id }: { site: WebsiteView; id: string }) {
  const [draft, setDraft] = useState<Draft | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [focusAfter, setFocusAfter] = useState<string | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const list = teams.value;

  useEffect(() => {
    if (teams.value === null) void loadTeams();
    api
      .routing(site.id)
      .then((r) => setDraft(draftOf(r)))
      .catch((e) => {
        setLoadError(problemText(e));
        if (e instanceof ApiError && e.status === 401) showError(e);
      });
  }, [site.id]);

  // Moving a rule re-orders the DOM; keep the keyboard on the button that was pressed.
  useLayoutEffect(() => {
    if (!focusAfter) return;
    const el = formRef.current?.querySelector<HTMLButtonElement>(focusAfter);
    if (el && !el.disabled) el.focus();
    else formRef.current?.querySelector<HTMLButtonElement>(focusAfter.replace(/up$|down$/, (m) => (m === "up" ? "down" : "up")))?.focus();
    setFocusAfter(null);
  }, [focusAfter]);

  if (loadError) return <ErrorNote text={loadError} />;
  if (!draft) return <p class="muted">Loading…</p>;

  const set = (patch: Partial<Draft>) => {
    setSaved(false);
    setDraft({ ...draft, ...patch });
  };
  const setRule = (key: number, patch: Partial<RuleDraft>) => set({ rules: draft.rules.map((r) => (r.key === key ? { ...r, ...patch } : r)) });
  const move = (i: number, by: -1 | 1) => {
    const rules = draft.rules.slice();
    const r = rules[i];
    const j = i + by;
    if (!r || j < 0 || j >= rules.length) return;
    rules.splice(i, 1);
    rules.splice(j, 0, r);
    set({ rules });
    setFocusAfter('[data-rule="' + r.key + '"] .move-' + (by < 0 ? "up" : "down"));
  };
  const usesSkills = (team: TeamId) => list?.find((t) => t.id === team)?.strategy === "skills";
  const prefix = "site-" + site.id;

  const submit = async (e: Event) => {
    e.preventDefault();
    const r = routingOf(draft, usesSkills);
    if (!r.ok) {
      setError(r.error);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      setDraft(draftOf(await api.setRouting(site.id, r.routing)));
      setSaved(true);
    } catch (err) {
      setError(problemText(err));
      if (err instanceof ApiError && err.status === 401) showError(err);
    }
    setBusy(false);
  };

  const noTeams = list !== null && list.length === 0;
  return (
    <form ref={formRef} id={id} class="routing compact" onSubmit={submit} data-testid="routing-form" aria-label={"Routing and hours of " + site.name}>
      <div class="row-fields">
        <label class="field inline">
          <span>Default team</span>
          <select value={draft.defaultTeam} onChange={(e) => set({ defaultTeam: e.currentTarget.value })} data-testid="routing-default-team">
            <option value="">No team (waits under New)</option>
            {(list ?? []).map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <span class="muted small">for chats that match no rule</span>
      </div>

      <fieldset class="group">
        <legend>Rules</legend>
        <p class="muted small">Tried from the top; the first that matches picks the team.</p>
        {draft.rules.length > 0 && (
          <ol class="rules">
            {draft.rules.map((r, i) => {
              const n = "Rule " + (i + 1);
              return (
                <li key={r.key} class="rule" data-rule={r.key} data-testid="rule">
                  <span class="rule-n" aria-hidden="true">
                    {i + 1}
                  </span>
                  <select aria-label={n + ": condition"} value={r.kind} onChange={(e) => setRule(r.key, { kind: e.currentTarget.value as Kind })} data-testid="rule-kind">
                    {KINDS.map((k) => (
                      <option key={k} value={k}>
                        {KIND[k].label}
                      </option>
                    ))}
                  </select>
                  <span class="rule-value">
                    {r.kind === "attribute" && (
                      <>
                        <input
                          class="attr-key"
                          aria-label={n + ": attribute name"}
                          placeholder="plan"
                          value={r.attrKey}
                          onInput={(e) => setRule(r.key, { attrKey: e.currentTarget.value })}
                          data-testid="rule-attr-key"
                        />
                        <span aria-hidden="true">=</span>
                      </>
                    )}
                    <input
                      aria-label={n + ": " + (r.kind === "attribute" ? "attribute value" : KIND[r.kind].label.toLowerCase())}
                      title={KIND[r.kind].help}
                      placeholder={KIND[r.kind].placeholder}
                      value={r.value}
                      onInput={(e) => setRule(r.key, { value: e.currentTarget.value })}
                      data-testid="rule-value"
                    />
                  </span>
                  <span class="rule-arrow" aria-hidden="true">
                    →
                  </span>
                  <select aria-label={n + ": team"} value={r.team} onChange={(e) => setRule(r.key, { team: e.currentTarget.value })} data-testid="rule-team">
                    <option value="" disabled>
                      Team…
                    </option>
                    {(list ?? []).map((t) => (
                      <option key={t.id} value={t.id}>
                        {t.name}
                      </option>
                    ))}
                  </select>
                  <span class="rule-tools">
                    <button type="button" class="icon-btn move-up" aria-label={"Move " + n.toLowerCase() + " up"} title="Move up" disabled={i === 0} onClick={() => move(i, -1)}>
                      ↑
                    </button>
                    <button
                      type="button"
                      class="icon-btn move-down"
                      aria-label={"Move " + n.toLowerCase() + " down"}
                      title="Move down"
                      disabled={i === draft.rules.length - 1}
                      onClick={() => move(i, 1)}
                    >
                      ↓
                    </button>
                    <button
                      type="button"
                      class="icon-btn"
                      aria-label={"Delete " + n.toLowerCase()}
                      title="Delete"
                      onClick={() => {
                        set({ rules: draft.rules.filter((x) => x.key !== r.key) });
                        setFocusAfter(".add-rule");
                      }}
                      data-testid="rule-delete"
                    >
                      ×
                    </button>
                  </span>
                  {r.team && usesSkills(r.team) && (
                    <label class="rule-skill">
                      <span>Only agents with the skill</span>
                      <input
                        aria-label={n + ": required skill (optional)"}
                        placeholder="billing"
                        value={r.skill}
                        onInput={(e) => setRule(r.key, { skill: e.currentTarget.value })}
                        data-testid="rule-skill"
                      />
                      <span class="muted">(optional)</span>
                    </label>
                  )}
                </li>
              );
            })}
          </ol>
        )}
        <button
          type="button"
          class="btn btn-small add-rule"
          disabled={noTeams}
          onClick={() => {
            const key = nextKey++;
            set({ rules: draft.rules.concat({ key, kind: "url_pattern", attrKey: "", value: "", team: list?.[0]?.id ?? "", skill: "" }) });
            setFocusAfter('[data-rule="' + key + '"] select');
          }}
          data-testid="rule-add"
        >
          Add a rule
        </button>
        {noTeams && <span class="muted small"> Create a team first.</span>}
      </fieldset>

      <HoursEditor draft={draft.hours} onChange={(hours) => set({ hours })} idPrefix={prefix} legend="Website hours"
        help="Outside them the chat is closed on this website."
      />

      {draft.hours.weekly && (
        <fieldset class="group">
          <legend>While closed</legend>
          <div class="inline-choices">
            <label class="check">
              <input type="radio" name={prefix + "-closed"} checked={draft.whenClosed === "message"} onChange={() => set({ whenClosed: "message" })} data-testid="routing-closed-message" />
              <span>take an offline message</span>
            </label>
            <label class="check">
              <input type="radio" name={prefix + "-closed"} checked={draft.whenClosed === "hide"} onChange={() => set({ whenClosed: "hide" })} data-testid="routing-closed-hide" />
              <span>hide the widget</span>
            </label>
          </div>
        </fieldset>
      )}

      <fieldset class="group">
        <legend>Waiting visitors</legend>
        <div class="sentence">
          <label for={prefix + "-offer"}>Offer to leave a message after</label>
          <input
            id={prefix + "-offer"}
            type="number"
            class="num"
            min={0}
            step={1}
            value={draft.offerSecs}
            onInput={(e) => set({ offerSecs: e.currentTarget.value })}
            aria-describedby={prefix + "-offer-unit"}
            data-testid="routing-offer-secs"
          />
          <span id={prefix + "-offer-unit"}>seconds in the queue</span>
        </div>
      </fieldset>

      {error && (
        <p class="form-error" role="alert" data-testid="routing-error">
          {error}
        </p>
      )}
      <div class="form-actions">
        <button class="btn btn-primary" type="submit" disabled={busy} data-testid="routing-save">
          {busy ? "Saving…" : "Save routing & hours"}
        </button>
        <span class="muted small" role="status" data-testid="routing-saved">
          {saved ? "Saved." : ""}
        </span>
      </div>
    </form>
  );
}
