import { useEffect, useState } from "preact/hooks";
import type { AgentView } from "../../generated/AgentView";
import type { WebsiteView } from "../../generated/WebsiteView";
import { api, ApiError, problemText } from "../api";
import type { Role } from "../../generated/Role";
import { agents, me, showError } from "../store";
import { ErrorNote, Snippet } from "../ui";

export function Settings() {
  const [sites, setSites] = useState<WebsiteView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const isAdmin = me.value?.role === "admin";

  useEffect(() => {
    api
      .websites()
      .then(setSites)
      .catch((e) => {
        setError(problemText(e));
        showError(e);
      });
  }, []);

  return (
    <main class="settings">
      <h1>Settings</h1>
      <section class="card" aria-labelledby="websites-title">
        <h2 id="websites-title">Websites</h2>
        <p class="muted">Paste a website's line into its HTML, just before &lt;/body&gt;, to show the chat there.</p>
        <ErrorNote text={error} />
        {sites === null && !error && <p class="muted">Loading…</p>}
        {sites && sites.length === 0 && <p class="muted">No websites yet.</p>}
        {sites && (
          <ul class="sites">
            {sites.map((w) => (
              <li key={w.id} class="site" data-testid="website" data-id={w.id}>
                <div class="site-head">
                  <strong>{w.name}</strong>
                  <span class="muted">{w.domain}</span>
                  <code class="muted small" title="Site key">
                    {w.site_key}
                  </code>
                </div>
                <Snippet code={w.snippet} />
              </li>
            ))}
          </ul>
        )}
      </section>
      {isAdmin && <AddWebsite onAdded={(w) => setSites((s) => (s ? s.concat(w) : [w]))} />}
      <Agents isAdmin={isAdmin} />
    </main>
  );
}

function AddWebsite({ onAdded }: { onAdded: (w: WebsiteView) => void }) {
  const [name, setName] = useState("");
  const [domain, setDomain] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onAdded(await api.createWebsite({ name: name.trim(), domain: domain.trim() }));
      setName("");
      setDomain("");
    } catch (err) {
      setError(problemText(err));
    }
    setBusy(false);
  };

  return (
    <section class="card" aria-labelledby="add-site-title">
      <h2 id="add-site-title">Add a website</h2>
      <form class="inline-form" onSubmit={submit}>
        <label class="field">
          <span>Name</span>
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="website-name" />
        </label>
        <label class="field">
          <span>Domain</span>
          <input
            required
            placeholder="shop.example.com"
            value={domain}
            onInput={(e) => setDomain(e.currentTarget.value)}
            data-testid="website-domain"
          />
        </label>
        <button class="btn btn-primary" type="submit" disabled={busy} data-testid="website-submit">
          {busy ? "Adding…" : "Add website"}
        </button>
      </form>
      <ErrorNote text={error} />
    </section>
  );
}

/** In the order the select offers them: least access first, the default. */
const ROLE_LABEL: Record<Role, string> = { agent: "Agent", supervisor: "Supervisor", admin: "Admin" };
const ROLES = Object.keys(ROLE_LABEL) as Role[];

function Agents({ isAdmin }: { isAdmin: boolean }) {
  const [error, setError] = useState<string | null>(null);
  const list = agents.value;
  const self = me.value;

  useEffect(() => {
    api
      .agents()
      .then((a) => (agents.value = a))
      .catch((e) => {
        setError(problemText(e));
        showError(e);
      });
  }, []);

  return (
    <section class="card" aria-labelledby="agents-title" data-testid="agents-card">
      <h2 id="agents-title">Agents</h2>
      <p class="muted">Everyone who can answer chats for {self?.organization_name ?? "your organization"}.</p>
      <ErrorNote text={error} />
      {list === null && !error && <p class="muted">Loading…</p>}
      {list && (
        <ul class="agents">
          {list.map((a) => (
            <AgentRow key={a.id} agent={a} isSelf={a.id === self?.id} />
          ))}
        </ul>
      )}
      {isAdmin && <AddAgent onAdded={(a) => (agents.value = (agents.value ?? []).filter((x) => x.id !== a.id).concat(a))} />}
    </section>
  );
}

function AgentRow({ agent, isSelf }: { agent: AgentView; isSelf: boolean }) {
  const online = agent.status === "online";
  return (
    <li class="agent" data-testid="agent-row" data-email={agent.email}>
      <span
        class={"dot " + (online ? "is-online" : "is-away")}
        role="img"
        aria-label={online ? "Online" : "Away"}
        title={online ? "Online" : "Away"}
      />
      <span class="agent-who">
        <strong>{agent.name}</strong>
        {isSelf && <span class="muted"> (you)</span>}
        <span class="muted small agent-mail">{agent.email}</span>
      </span>
      <span class={"badge role-" + agent.role}>{ROLE_LABEL[agent.role] ?? agent.role}</span>
    </li>
  );
}

function AddAgent({ onAdded }: { onAdded: (a: AgentView) => void }) {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("agent");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onAdded(await api.createAgent({ email: email.trim(), name: name.trim(), password, role }));
      setName("");
      setEmail("");
      setPassword("");
      setRole("agent");
    } catch (err) {
      setError(err instanceof ApiError && err.code === "conflict" ? "Someone already has this email." : problemText(err));
    }
    setBusy(false);
  };

  return (
    <form class="add-agent" onSubmit={submit} aria-labelledby="add-agent-title">
      <h3 id="add-agent-title">Add an agent</h3>
      <div class="form-grid">
        <label class="field">
          <span>Name</span>
          <input required autocomplete="off" value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="agent-name" />
        </label>
        <label class="field">
          <span>Email</span>
          <input
            type="email"
            required
            autocomplete="off"
            placeholder="name@example.com"
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
            data-testid="agent-email"
          />
        </label>
        <label class="field">
          <span>Password</span>
          <input
            type="password"
            required
            minLength={8}
            maxLength={256}
            autocomplete="new-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            data-testid="agent-password"
          />
          <small>At least 8 characters — share it with them.</small>
        </label>
        <label class="field">
          <span>Role</span>
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)} data-testid="agent-role">
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABEL[r]}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && (
        <p class="form-error" role="alert" data-testid="agent-error">
          {error}
        </p>
      )}
      <button class="btn btn-primary" type="submit" disabled={busy} data-testid="agent-submit">
        {busy ? "Adding…" : "Add agent"}
      </button>
    </form>
  );
}
