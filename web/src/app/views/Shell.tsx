// The signed-in frame: the top bar (organization, navigation, notifications, status, logout)
// around the inbox, the queue or the settings.
import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { AgentStatus } from "../../generated/AgentStatus";
import { openChatCount } from "../admin-api";
import { api, ApiError, problemText } from "../api";
import { askPermission, permission } from "../notify";
import { linkClick, navigate, path } from "../router";
import { logout, me, setStatus, socket, startInbox, toast } from "../store";
import { SearchBox } from "./Search";

type Section = "inbox" | "contacts" | "mentions" | "monitor" | "settings" | "visitors";
function sectionOf(p: string): Section {
  if (p.startsWith("/app/settings")) return "settings";
  if (p.startsWith("/app/mentions")) return "mentions";
  if (p.startsWith("/app/monitor")) return "monitor";
  if (p.startsWith("/app/visitors")) return "visitors";
  if (p.startsWith("/app/contacts")) return "contacts";
  return "inbox";
}

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
  const section = sectionOf(path.value);
  const sock = socket.state.value;
  const current = (s: Section) => (section === s ? "page" : undefined);
  return (
    <div class="shell">
      <header class="topbar">
        <div class="org">
          <span class="brand-mark small" aria-hidden="true" />
          <span class="org-name">{agent.organization_name}</span>
        </div>
        <nav class="nav" aria-label="Main">
          <a href="/app" aria-current={current("inbox")} onClick={(e) => linkClick(e, "/app")}>
            Inbox
          </a>
          <a href="/app/visitors" aria-current={current("visitors")} onClick={(e) => linkClick(e, "/app/visitors")} data-testid="nav-visitors">
            Visitors
          </a>
          <a href="/app/contacts" aria-current={current("contacts")} onClick={(e) => linkClick(e, "/app/contacts")} data-testid="nav-contacts">
            Contacts
          </a>
          <a href="/app/mentions" aria-current={current("mentions")} onClick={(e) => linkClick(e, "/app/mentions")} data-testid="nav-mentions">
            Mentions
          </a>
          {agent.role !== "agent" && (
            <a href="/app/monitor" aria-current={current("monitor")} onClick={(e) => linkClick(e, "/app/monitor")} data-testid="nav-monitor">
              Queue
            </a>
          )}
          <a href="/app/settings" aria-current={current("settings")} onClick={(e) => linkClick(e, "/app/settings")}>
            Settings
          </a>
        </nav>
        <SearchBox />
        <div class="topbar-right">
          {permission.value === "default" && (
            <button class="btn btn-small btn-ghost" type="button" onClick={() => void askPermission()}>
              Enable notifications
            </button>
          )}
          <StatusToggle status={agent.status} />
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

/**
 * Online ⇄ Away. Going away while holding chats first asks, in a small popover, whether to
 * return them to their teams now or keep them.
 */
function StatusToggle({ status }: { status: AgentStatus }) {
  const online = status === "online";
  /** null: closed; a number: asking about that many chats; "?": asking, the count unknown. */
  const [asking, setAsking] = useState<number | "?" | null>(null);
  const [checking, setChecking] = useState(false);
  const toggleRef = useRef<HTMLButtonElement>(null);
  const popRef = useRef<HTMLDivElement>(null);

  const close = (refocus: boolean) => {
    setAsking(null);
    if (refocus) setTimeout(() => toggleRef.current?.focus());
  };

  useLayoutEffect(() => {
    if (asking !== null) popRef.current?.querySelector<HTMLButtonElement>("button")?.focus();
  }, [asking !== null]);

  useEffect(() => {
    if (asking === null) return;
    const outside = (e: PointerEvent) => {
      const t = e.target as Node | null;
      if (t && !popRef.current?.contains(t) && !toggleRef.current?.contains(t)) close(false);
    };
    document.addEventListener("pointerdown", outside);
    return () => document.removeEventListener("pointerdown", outside);
  }, [asking !== null]);

  // Gone away elsewhere (another tab, or the server): nothing to ask any more.
  useEffect(() => {
    if (!online) setAsking(null);
  }, [online]);

  const click = async () => {
    if (asking !== null) return close(false);
    if (!online) return void setStatus("online", false);
    setChecking(true);
    let n: number | "?" = "?";
    try {
      n = await openChatCount();
    } catch (_) {
      // Ask anyway: keeping them is the safe answer either way.
    }
    setChecking(false);
    if (n === 0) void setStatus("away", false);
    else setAsking(n);
  };

  const answer = (release: boolean) => {
    close(true);
    void setStatus("away", release);
  };

  const question =
    asking === "?" ? "Return your open chats to their teams?" : "Return your " + (asking === 1 ? "open chat" : asking + " open chats") + " to " + (asking === 1 ? "its team" : "their teams") + "?";

  return (
    <div class="status-wrap">
      <button
        ref={toggleRef}
        type="button"
        class={"status-toggle " + (online ? "is-online" : "is-away")}
        role="switch"
        aria-checked={online}
        aria-label={"Status: " + (online ? "Online" : "Away") + ". Switch to " + (online ? "Away" : "Online")}
        aria-busy={checking}
        title={online ? "You are online: click to go away" : "You are away: click to go online"}
        data-testid="status-toggle"
        onClick={() => void click()}
      >
        <span class="dot" aria-hidden="true" />
        {online ? "Online" : "Away"}
      </button>
      {asking !== null && (
        <div
          ref={popRef}
          class="popover"
          role="dialog"
          aria-label="Going away"
          aria-describedby="status-question"
          data-testid="status-popover"
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.stopPropagation();
              close(true);
            }
          }}
        >
          <p id="status-question">{question}</p>
          <p class="muted small">Returned chats go to a colleague or back to the queue. Kept chats wait for you.</p>
          <div class="popover-actions">
            <button type="button" class="btn btn-small" onClick={() => answer(false)} data-testid="status-keep">
              Keep them
            </button>
            <button type="button" class="btn btn-small btn-primary" onClick={() => answer(true)} data-testid="status-release">
              Return them
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
