// Settings → Teams: the list of teams (everyone), and creating, editing and deleting them (admins).
// Also the small presence and strategy pieces the other admin views share.
import { useEffect, useRef, useState } from "preact/hooks";
import type { AgentId } from "../../generated/AgentId";
import type { AwayAction } from "../../generated/AwayAction";
import type { Presence } from "../../generated/Presence";
import type { Strategy } from "../../generated/Strategy";
import type { TeamId } from "../../generated/TeamId";
import type { TeamView } from "../../generated/TeamView";
import { makeOverflow, overflowAfterMs } from "../admin-api";
import { api, ApiError, problemText } from "../api";
import { agents, showError, teams } from "../store";
import { ErrorNote } from "../ui";
import { HoursEditor, hoursDraft, hoursFromDraft, hoursSummary, type HoursDraft } from "./Hours";

export const STRATEGY: Record<Strategy, { label: string; help: string }> = {
  manual: { label: "Manual pool", help: "Chats wait in the team's queue; members take them." },
  round_robin: { label: "Round robin", help: "Each chat goes to the free member who has waited longest for one." },
  least_busy: { label: "Least busy", help: "Each chat goes to the free member with the most room." },
  skills: { label: "Skills", help: "Only members with the skill a routing rule asks for; the visitor's language first." },
};
const STRATEGIES = Object.keys(STRATEGY) as Strategy[];

const PRESENCE_LABEL: Record<Presence, string> = { online: "Online", away: "Away", offline: "Offline" };

export function PresenceDot({ presence }: { presence: Presence }) {
  const label = PRESENCE_LABEL[presence];
  return <span class={"dot is-" + presence} role="img" aria-label={label} title={label} />;
}

export function Chips({ items, kind }: { items: string[]; kind: "skill" | "lang" }) {
  if (!items.length) return null;
  return (
    <span class="tags">
      {items.map((t) => (
        <span key={t} class={"tag tag-" + kind}>
          {t}
        </span>
      ))}
    </span>
  );
}

export function teamName(id: TeamId | null, list: TeamView[] | null): string {
  if (id === null) return "";
  return list?.find((t) => t.id === id)?.name ?? "Unknown team";
}

// --- the list ----------------------------------------------------------------------------------

type Editing = { kind: "new" } | { kind: "edit"; id: TeamId } | null;

export function TeamsSection({ isAdmin }: { isAdmin: boolean }) {
  const [editing, setEditing] = useState<Editing>(null);
  const [error, setError] = useState<string | null>(null);
  const list = teams.value;
  const newBtn = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    api
      .teams()
      .then((t) => (teams.value = t))
      .catch((e) => {
        setError(problemText(e));
        if (e instanceof ApiError && e.status === 401) showError(e);
      });
  }, []);

  const saved = (t: TeamView) => {
    const have = teams.value ?? [];
    teams.value = have.some((x) => x.id === t.id) ? have.map((x) => (x.id === t.id ? t : x)) : have.concat(t);
    setEditing(null);
  };

  return (
    <section class="card" aria-labelledby="teams-title" data-testid="teams-card">
      <div class="card-head">
        <h2 id="teams-title">Teams</h2>
        {isAdmin && editing?.kind !== "new" && (
          <button ref={newBtn} type="button" class="btn btn-small" onClick={() => setEditing({ kind: "new" })} data-testid="team-new">
            New team
          </button>
        )}
      </div>
      <p class="muted">
        A team shares one queue of chats. Each website's routing rules pick the team; without a team, chats wait under New for
        anyone to take.
      </p>
      <ErrorNote text={error} />
      {list === null && !error && <p class="muted">Loading…</p>}
      {list && list.length === 0 && editing === null && <p class="muted">No teams yet.</p>}
      {list && list.length > 0 && (
        <ul class="teams">
          {list.map((t) =>
            editing?.kind === "edit" && editing.id === t.id ? (
              <li key={t.id} class="team is-editing">
                <TeamEditor team={t} onSaved={saved} onCancel={() => setEditing(null)} />
              </li>
            ) : (
              <TeamRow key={t.id} team={t} isAdmin={isAdmin} busy={editing !== null} onEdit={() => setEditing({ kind: "edit", id: t.id })} />
            ),
          )}
        </ul>
      )}
      {editing?.kind === "new" && (
        <div class="team is-editing is-new">
          <h3 class="form-title">New team</h3>
          <TeamEditor
            team={null}
            onSaved={saved}
            onCancel={() => {
              setEditing(null);
              setTimeout(() => newBtn.current?.focus());
            }}
          />
        </div>
      )}
    </section>
  );
}

function TeamRow({ team, isAdmin, busy, onEdit }: { team: TeamView; isAdmin: boolean; busy: boolean; onEdit: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const deleteRef = useRef<HTMLButtonElement>(null);
  const people = agents.value ?? [];
  const names = team.members.map((id) => people.find((a) => a.id === id)?.name).filter((n): n is string => !!n);
  const o = team.overflow;
  const after = o ? overflowAfterMs(o) : null;
  const when = o ? [after !== null ? "after " + Math.round(after / 1000) + " s" : "", o.when_full ? "when full" : ""].filter(Boolean).join(" or ") : "";

  useEffect(() => {
    if (confirming) cancelRef.current?.focus();
  }, [confirming]);

  const remove = async () => {
    setDeleting(true);
    setError(null);
    try {
      await api.deleteTeam(team.id);
      teams.value = (teams.value ?? []).filter((t) => t.id !== team.id);
    } catch (e) {
      setError(problemText(e));
      setDeleting(false);
      setConfirming(false);
    }
  };

  return (
    <li class="team" data-testid="team-row" data-id={team.id}>
      <div class="team-main">
        <div class="team-title">
          <strong>{team.name}</strong>
          <span class="badge strategy">{STRATEGY[team.strategy].label}</span>
        </div>
        <p class="muted small team-facts">
          {team.members.length === 0 ? "No members" : team.members.length + (team.members.length === 1 ? " member: " : " members: ") + names.join(", ")}
          <br />
          {[
            hoursSummary(team.hours),
            o ? "overflows to " + teamName(o.to, teams.value) + " " + when : "",
            team.away_action === "return" ? "chats of agents who go away return to the team" : "agents who go away keep their chats",
          ]
            .filter(Boolean)
            .join(" · ")}
        </p>
        <ErrorNote text={error} />
      </div>
      {isAdmin && !confirming && (
        <div class="row-actions">
          <button type="button" class="btn btn-small" disabled={busy} onClick={onEdit} data-testid="team-edit">
            Edit
          </button>
          <button ref={deleteRef} type="button" class="btn btn-small btn-ghost danger" disabled={busy} onClick={() => setConfirming(true)} data-testid="team-delete">
            Delete
          </button>
        </div>
      )}
      {isAdmin && confirming && (
        <div
          class="confirm"
          role="group"
          aria-label={"Delete " + team.name}
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              setConfirming(false);
              setTimeout(() => deleteRef.current?.focus());
            }
          }}
        >
          <span>Delete “{team.name}”?</span>
          <button
            ref={cancelRef}
            type="button"
            class="btn btn-small"
            onClick={() => {
              setConfirming(false);
              setTimeout(() => deleteRef.current?.focus());
            }}
          >
            Cancel
          </button>
          <button type="button" class="btn btn-small btn-danger" disabled={deleting} onClick={() => void remove()} data-testid="team-delete-confirm">
            {deleting ? "Deleting…" : "Delete"}
          </button>
        </div>
      )}
    </li>
  );
}

// --- the form ----------------------------------------------------------------------------------

type Draft = {
  name: string;
  strategy: Strategy;
  members: AgentId[];
  backup: TeamId | "";
  afterOn: boolean;
  afterSecs: string;
  whenFull: boolean;
  away: AwayAction;
  hours: HoursDraft;
};

function draftOf(t: TeamView | null): Draft {
  const o = t?.overflow ?? null;
  const after = o ? overflowAfterMs(o) : null;
  return {
    name: t?.name ?? "",
    strategy: t?.strategy ?? "round_robin",
    members: t?.members.slice() ?? [],
    backup: o?.to ?? "",
    afterOn: o ? after !== null : true,
    afterSecs: after !== null ? String(Math.round(after / 1000)) : "120",
    whenFull: o ? o.when_full : false,
    away: t?.away_action ?? "return",
    hours: hoursDraft(t?.hours ?? null),
  };
}

function teamOf(d: Draft, id: TeamId): { ok: true; team: TeamView } | { ok: false; error: string } {
  const name = d.name.trim();
  if (!name) return { ok: false, error: "Give the team a name." };
  let overflow: TeamView["overflow"] = null;
  if (d.backup) {
    const secs = Number(d.afterSecs);
    if (d.afterOn && (!Number.isInteger(secs) || secs < 1)) return { ok: false, error: "Enter the seconds before chats move to the backup team (a whole number, 1 or more)." };
    if (!d.afterOn && !d.whenFull) return { ok: false, error: "Choose when chats move to the backup team, or pick no backup team." };
    overflow = makeOverflow(d.backup, d.afterOn ? secs * 1000 : null, d.whenFull);
  }
  const hours = hoursFromDraft(d.hours);
  if (!hours.ok) return { ok: false, error: "Team hours: " + hours.error };
  return { ok: true, team: { id, name, strategy: d.strategy, members: d.members, overflow, away_action: d.away, hours: hours.hours } };
}

function TeamEditor({ team, onSaved, onCancel }: { team: TeamView | null; onSaved: (t: TeamView) => void; onCancel: () => void }) {
  const [d, setD] = useState<Draft>(() => draftOf(team));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const nameRef = useRef<HTMLInputElement>(null);
  const set = (patch: Partial<Draft>) => setD((x) => ({ ...x, ...patch }));
  const prefix = "team-" + (team?.id ?? "new");
  const people = agents.value;
  const others = (teams.value ?? []).filter((t) => t.id !== team?.id);

  useEffect(() => nameRef.current?.focus(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const r = teamOf(d, team?.id ?? "");
    if (!r.ok) {
      setError(r.error);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSaved(team ? await api.updateTeam(team.id, r.team) : await api.createTeam(r.team));
    } catch (err) {
      setError(problemText(err));
      setBusy(false);
    }
  };

  const toggleMember = (id: AgentId, on: boolean) => set({ members: on ? d.members.concat(id) : d.members.filter((m) => m !== id) });

  return (
    <form class="team-form compact" onSubmit={submit} data-testid="team-form" aria-label={team ? "Edit " + team.name : "New team"}>
      <label class="field narrow">
        <span>Name</span>
        <input ref={nameRef} required maxLength={80} value={d.name} onInput={(e) => set({ name: e.currentTarget.value })} data-testid="team-name" />
      </label>

      <fieldset class="group">
        <legend>How chats are handed out</legend>
        <div class="choices">
          {STRATEGIES.map((s) => (
            <label key={s} class={"choice" + (d.strategy === s ? " is-on" : "")}>
              <input type="radio" name={prefix + "-strategy"} value={s} checked={d.strategy === s} onChange={() => set({ strategy: s })} data-testid={"team-strategy-" + s} />
              <span>
                <strong>{STRATEGY[s].label}</strong>
                <small>{STRATEGY[s].help}</small>
              </span>
            </label>
          ))}
        </div>
      </fieldset>

      <fieldset class="group">
        <legend>Members</legend>
        {people === null && <p class="muted small">Loading agents…</p>}
        {people && people.length === 0 && <p class="muted small">No agents yet.</p>}
        {people && people.length > 0 && (
          <div class="checks">
            {people.map((a) => (
              <label key={a.id} class="check">
                <input type="checkbox" checked={d.members.includes(a.id)} onChange={(e) => toggleMember(a.id, e.currentTarget.checked)} data-testid="team-member" data-id={a.id} />
                <PresenceDot presence={a.presence} />
                <span>{a.name}</span>
              </label>
            ))}
          </div>
        )}
      </fieldset>

      <fieldset class="group">
        <legend>Backup team</legend>
        <div class="row-fields">
          <label class="field inline">
            <span class="sr-only">Backup team</span>
            <select value={d.backup} onChange={(e) => set({ backup: e.currentTarget.value })} data-testid="team-backup">
              <option value="">No backup team</option>
              {others.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          </label>
          {d.backup && <span class="muted small">Chats move there:</span>}
        </div>
        {d.backup && (
          <div class="sub-options">
            <div class="sentence">
              <label class="check">
                <input type="checkbox" checked={d.afterOn} onChange={(e) => set({ afterOn: e.currentTarget.checked })} data-testid="team-after-on" />
                <span>after waiting</span>
              </label>
              <input
                type="number"
                class="num"
                min={1}
                step={1}
                aria-label="Seconds of waiting before a chat moves to the backup team"
                disabled={!d.afterOn}
                value={d.afterSecs}
                onInput={(e) => set({ afterSecs: e.currentTarget.value })}
                data-testid="team-after-secs"
              />
              <span class={d.afterOn ? "" : "muted"}>seconds in this team's queue</span>
            </div>
            <label class="check">
              <input type="checkbox" checked={d.whenFull} onChange={(e) => set({ whenFull: e.currentTarget.checked })} data-testid="team-when-full" />
              <span>at once, when every online member is at their chat limit (or nobody is online)</span>
            </label>
          </div>
        )}
      </fieldset>

      <fieldset class="group">
        <legend>When a member goes away, their open chats…</legend>
        <div class="inline-choices">
          <label class="check">
            <input type="radio" name={prefix + "-away"} checked={d.away === "return"} onChange={() => set({ away: "return" })} data-testid="team-away-return" />
            <span>return to the team</span>
          </label>
          <label class="check">
            <input type="radio" name={prefix + "-away"} checked={d.away === "keep"} onChange={() => set({ away: "keep" })} data-testid="team-away-keep" />
            <span>stay with them</span>
          </label>
        </div>
      </fieldset>

      <HoursEditor draft={d.hours} onChange={(hours) => set({ hours })} idPrefix={prefix} legend="Team hours"
        help="Outside its hours the team takes no chats; they wait, or move to the backup team."
      />

      {error && (
        <p class="form-error" role="alert" data-testid="team-error">
          {error}
        </p>
      )}
      <div class="form-actions">
        <button class="btn btn-primary" type="submit" disabled={busy} data-testid="team-save">
          {busy ? "Saving…" : team ? "Save team" : "Create team"}
        </button>
        <button class="btn" type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
