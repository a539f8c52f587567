// The signed-in frame: the top bar (organization, navigation, notifications, status, logout)
// around the inbox or the settings.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, problemText } from "../api";
import { askPermission, permission } from "../notify";
import { linkClick, navigate, path } from "../router";
import { logout, me, setStatus, socket, startInbox, toast } from "../store";

export function Shell({ children }: { children: ComponentChildren }) {
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stop = false;
    const load = () =>
      api
        .me()
        .then((a) => {
          if (stop) return;
          me.value = a;
          startInbox();
        })
        .catch((e) => {
          if (stop) return;
          if (e instanceof ApiError && e.status === 401) navigate("/login", true);
          else setError(problemText(e));
        });
    if (!me.value) void load();
    else startInbox();
    return () => {
      stop = true;
    };
  }, []);

  const agent = me.value;
  if (!agent) {
    return (
      <main class="loading" aria-busy="true">
        {error ? (
          <p class="form-error" role="alert">
            {error} <button class="btn btn-small" onClick={() => location.reload()}>Retry</button>
          </p>
        ) : (
          <p class="muted">Loading…</p>
        )}
      </main>
    );
  }
  const online = agent.status === "online";
  const p = path.value;
  const sock = socket.state.value;
  return (
    <div class="shell">
      <header class="topbar">
        <div class="org">
          <span class="brand-mark small" aria-hidden="true" />
          <span class="org-name">{agent.organization_name}</span>
        </div>
        <nav class="nav" aria-label="Main">
          <a href="/app" aria-current={p.startsWith("/app/settings") ? undefined : "page"} onClick={(e) => linkClick(e, "/app")}>
            Inbox
          </a>
          <a
            href="/app/settings"
            aria-current={p.startsWith("/app/settings") ? "page" : undefined}
            onClick={(e) => linkClick(e, "/app/settings")}
          >
            Settings
          </a>
        </nav>
        <div class="topbar-right">
          {permission.value === "default" && (
            <button class="btn btn-small btn-ghost" type="button" onClick={() => void askPermission()}>
              Enable notifications
            </button>
          )}
          <button
            type="button"
            class={"status-toggle " + (online ? "is-online" : "is-away")}
            role="switch"
            aria-checked={online}
            aria-label={"Status: " + (online ? "Online" : "Away") + ". Switch to " + (online ? "Away" : "Online")}
            title={online ? "You are online: click to go away" : "You are away: click to go online"}
            data-testid="status-toggle"
            onClick={() => void setStatus(online ? "away" : "online")}
          >
            <span class="dot" aria-hidden="true" />
            {online ? "Online" : "Away"}
          </button>
          <span class="agent-name" title={agent.email}>
            {agent.name}
          </span>
          <button class="btn btn-small btn-ghost" type="button" onClick={() => void logout()}>
            Logout
          </button>
        </div>
      </header>
      {sock === "down" && (
        <div class="conn-banner" role="status">
          Reconnecting…
        </div>
      )}
      {children}
      {toast.value && (
        <div class="toast" role="alert">
          <span>{toast.value}</span>
          <button type="button" class="btn btn-small btn-ghost" aria-label="Dismiss" onClick={() => (toast.value = null)}>
            ×
          </button>
        </div>
      )}
    </div>
  );
}
