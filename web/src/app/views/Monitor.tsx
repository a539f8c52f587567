// The Queue page (/app/monitor, supervisors and admins): chats waiting and for how long, each
// team's load, and each agent's. Polls GET /monitor every 2 s while the page is visible.
import { useEffect, useState } from "preact/hooks";
import type { AgentLoad } from "../../generated/AgentLoad";
import type { MonitorView } from "../../generated/MonitorView";
import type { Presence } from "../../generated/Presence";
import type { Role } from "../../generated/Role";
import { api, ApiError, problemText } from "../api";
import { linkClick } from "../router";
import { me, showError } from "../store";
import { PresenceDot, STRATEGY } from "./Teams";

const EVERY_MS = 2000;
/** A wait this long is shown as a problem (the default offer-to-leave-a-message time). */
const LONG_WAIT_MS = 120_000;

const ROLE_LABEL: Record<Role, string> = { agent: "Agent", supervisor: "Supervisor", admin: "Admin" };
const PRESENCE_ORDER: Record<Presence, number> = { online: 0, away: 1, offline: 2 };

/** 200_000 → "3m 20s"; null → "—". */
export function waitText(ms: number | null): string {
  if (ms === null) return "—";
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return s + "s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + "m " + (s % 60) + "s";
  return Math.floor(m / 60) + "h " + (m % 60) + "m";
}

function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function Monitor() {
  const role = me.value?.role;
  const allowed = role === "admin" || role === "supervisor";
  const [view, setView] = useState<MonitorView | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!allowed) return;
    let stopped = false;
    let timer = 0;
    let inFlight = false;
    const tick = async () => {
      timer = 0;
      if (stopped || inFlight || document.visibilityState !== "visible") return;
      inFlight = true;
      try {
        const v = await api.monitor();
        if (stopped) return;
        setView(v);
        setError(null);
      } catch (e) {
        if (stopped) return;
        if (e instanceof ApiError && e.status === 401) return showError(e);
        setError(problemText(e));
        if (e instanceof ApiError && e.status === 403) stopped = true;
      } finally {
        inFlight = false;
      }
      if (!stopped && document.visibilityState === "visible") timer = window.setTimeout(tick, EVERY_MS);
    };
    const onVisibility = () => {
      if (document.visibilityState !== "visible") {
        clearTimeout(timer);
        timer = 0;
      } else if (!timer) void tick();
    };
    document.addEventListener("visibilitychange", onVisibility);
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [allowed]);

  if (!allowed) {
    return (
      <main class="monitor">
        <h1>Queue</h1>
        <p class="muted">Only supervisors and admins can see the queue.</p>
      </main>
    );
  }

  const teamNames = new Map((view?.teams ?? []).map((t) => [t.id, t.name]));
  const agents = (view?.agents ?? []).slice().sort((a, b) => PRESENCE_ORDER[a.presence] - PRESENCE_ORDER[b.presence] || a.name.localeCompare(b.name));
  const longest = view?.longest_wait_ms ?? null;

  return (
    <main class="monitor" data-testid="monitor">
      <div class="monitor-head">
        <h1>Queue</h1>
        {view && (
          <span class="muted small live">
            <span class="live-dot" aria-hidden="true" />
            Live · updated {clockTime(view.now)}
          </span>
        )}
      </div>
      {error && (
        <p class="form-error" role="alert">
          {error}
          {view ? " Showing the last numbers." : ""}
        </p>
      )}
      {!view && !error && <p class="muted">Loading…</p>}
      {view && (
        <>
          <dl class="stats">
            <div class={"stat" + (view.waiting > 0 ? " is-warn" : "")}>
              <dt>Chats waiting</dt>
              <dd data-testid="monitor-waiting">{view.waiting}</dd>
            </div>
            <div class={"stat" + (longest !== null && longest >= LONG_WAIT_MS ? " is-bad" : "")}>
              <dt>Longest wait</dt>
              <dd data-testid="monitor-longest">{waitText(longest)}</dd>
            </div>
            <div class="stat">
              <dt>Offline messages waiting</dt>
              <dd data-testid="monitor-offline">{view.offline_waiting}</dd>
            </div>
            <div class="stat">
              <dt>Missed today</dt>
              <dd data-testid="monitor-missed">{view.missed_today}</dd>
            </div>
          </dl>

          <section class="card" aria-labelledby="monitor-teams">
            <h2 id="monitor-teams">Teams</h2>
            {view.teams.length === 0 ? (
              <p class="muted">
                No teams yet: every chat waits under New.{" "}
                {me.value?.role === "admin" && (
                  <a href="/app/settings" onClick={(e) => linkClick(e, "/app/settings")}>
                    Create a team
                  </a>
                )}
              </p>
            ) : (
              <table class="table">
                <thead>
                  <tr>
                    <th scope="col">Team</th>
                    <th scope="col" class="num">Waiting</th>
                    <th scope="col" class="num">Longest wait</th>
                    <th scope="col" class="num">In chats</th>
                    <th scope="col" class="num">Agents online</th>
                    <th scope="col" class="num">Capacity</th>
                    <th scope="col">Hours</th>
                  </tr>
                </thead>
                <tbody>
                  {view.teams.map((t) => (
                    <tr key={t.id} data-testid={"team-" + t.id}>
                      <th scope="row">
                        <span class="cell-name">{t.name}</span>
                        <span class="muted small"> {STRATEGY[t.strategy].label}</span>
                      </th>
                      <td class={"num" + (t.waiting > 0 ? " warn" : "")} data-testid="team-waiting">
                        {t.waiting}
                      </td>
                      <td class={"num" + (t.longest_wait_ms !== null && t.longest_wait_ms >= LONG_WAIT_MS ? " bad" : "")} data-testid="team-longest">
                        {waitText(t.longest_wait_ms)}
                      </td>
                      <td class="num">{t.active}</td>
                      <td class="num">{t.online_agents}</td>
                      <td class="num">{t.capacity}</td>
                      <td>
                        <span class={"badge " + (t.open ? "is-open" : "is-closed")}>{t.open ? "Open" : "Closed"}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>

          <section class="card" aria-labelledby="monitor-agents">
            <h2 id="monitor-agents">Agents</h2>
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">Role</th>
                  <th scope="col">Chats</th>
                  <th scope="col">Teams</th>
                </tr>
              </thead>
              <tbody>
                {agents.map((a) => (
                  <AgentLine key={a.id} agent={a} teamNames={teamNames} />
                ))}
              </tbody>
            </table>
          </section>
        </>
      )}
    </main>
  );
}

function AgentLine({ agent: a, teamNames }: { agent: AgentLoad; teamNames: Map<string, string> }) {
  const full = a.limit > 0 && a.active >= a.limit;
  const pct = a.limit > 0 ? Math.min(100, Math.round((a.active / a.limit) * 100)) : 0;
  const names = a.teams.map((id) => teamNames.get(id)).filter((n): n is string => !!n);
  return (
    <tr data-testid={"agent-" + a.id} class={"is-" + a.presence}>
      <th scope="row">
        <span class="cell-agent">
          <PresenceDot presence={a.presence} />
          <span class="cell-name">{a.name}</span>
        </span>
      </th>
      <td>
        <span class={"badge role-" + a.role}>{ROLE_LABEL[a.role]}</span>
      </td>
      <td>
        <span class={"load" + (full ? " is-full" : "")}>
          <span class="load-text" data-testid="agent-load">
            {a.active} / {a.limit}
          </span>
          <span class="load-bar" aria-hidden="true">
            <span style={{ width: pct + "%" }} />
          </span>
        </span>
      </td>
      <td class="muted">{names.length ? names.join(", ") : "—"}</td>
    </tr>
  );
}
