// Settings: websites (with each one's routing and hours), teams, people, canned responses, bans.
import { BansSection } from "./Ban";
import { useEffect, useRef, useState } from "preact/hooks";
import type { AgentView } from "../../generated/AgentView";
import type { Role } from "../../generated/Role";
import type { WebsiteView } from "../../generated/WebsiteView";
import { api, ApiError, problemText } from "../api";
import { agents, me, showError } from "../store";
import { ErrorNote, Snippet } from "../ui";
import { CannedSection } from "./Canned";
import { PrechatFormPanel } from "./PrechatForm";
import { DomainsPanel } from "./Domains";
import { IdentityPanel } from "./Identity";
import { SiteRoutingPanel } from "./Routing";
import { TagsSection } from "./Tags";
import { WidgetLookPanel } from "./WidgetLook";
import { TriggersPanel } from "./Triggers";
import { Chips, PresenceDot, TeamsSection } from "./Teams";

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
              <Site key={w.id} site={w} isAdmin={isAdmin} />
            ))}
          </ul>
        )}
      </section>
      {isAdmin && <AddWebsite onAdded={(w) => setSites((s) => (s ? s.concat(w) : [w]))} />}
      <TeamsSection isAdmin={isAdmin} />
      <TagsSection isAdmin={isAdmin} />
      <Agents isAdmin={isAdmin} />
      <CannedSection isAdmin={isAdmin} />
      {me.value?.role !== "agent" && <BansSection />}
    </main>
  );
}

/** A site's settings panels, one open at a time (admins only). */
const SITE_PANELS = [
  { key: "routing", label: "Routing & hours", testid: "site-routing-toggle" },
  { key: "look", label: "Widget look", testid: "site-look-toggle" },
  { key: "forms", label: "Pre-chat form & ratings", testid: "site-forms-toggle" },
  { key: "triggers", label: "Triggers", testid: "site-triggers-toggle" },
  { key: "identity", label: "Identity verification", testid: "site-identity-toggle" },
  { key: "domains", label: "Allowed domains", testid: "site-domains-toggle" },
] as const;
type SitePanel = (typeof SITE_PANELS)[number]["key"];

function Site({ site, isAdmin }: { site: WebsiteView; isAdmin: boolean }) {
  const [open, setOpen] = useState<SitePanel | null>(null);
  const id = (k: SitePanel) => k + "-" + site.id;
  return (
    <li class="site" data-testid="website" data-id={site.id}>
      <div class="site-head">
        <strong>{site.name}</strong>
        <span class="muted">{site.domain}</span>
        <code class="muted small" title="Site key">
          {site.site_key}
        </code>
      </div>
      {isAdmin && (
        <div class="site-panels" role="group" aria-label={"Settings of " + site.name}>
          {SITE_PANELS.map((p) => (
            <button
              key={p.key}
              type="button"
              class="btn btn-small site-routing-toggle"
              aria-expanded={open === p.key}
              aria-controls={open === p.key ? id(p.key) : undefined}
              onClick={() => setOpen(open === p.key ? null : p.key)}
              data-testid={p.testid}
            >
              {p.label} <span aria-hidden="true">{open === p.key ? "▴" : "▾"}</span>
            </button>
          ))}
        </div>
      )}
      <Snippet code={site.snippet} />
      {open === "routing" && <SiteRoutingPanel site={site} id={id("routing")} />}
      {open === "look" && <WidgetLookPanel site={site} id={id("look")} />}
      {open === "forms" && <PrechatFormPanel site={site} id={id("forms")} />}
      {open === "triggers" && <TriggersPanel site={site} id={id("triggers")} />}
      {open === "identity" && <IdentityPanel site={site} id={id("identity")} />}
      {open === "domains" && <DomainsPanel site={site} id={id("domains")} />}
    </li>
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
      <h2 id="agents-title">People</h2>
      <p class="muted">
        Everyone who can answer chats for {self?.organization_name ?? "your organization"}. Routing gives an online agent chats up to
        their chat limit; the skills strategy also looks at their skills and languages.
      </p>
      <ErrorNote text={error} />
      {list === null && !error && <p class="muted">Loading…</p>}
      {list && (
        <ul class="agents">
          {list.map((a) => (
            <AgentRow key={a.id} agent={a} isSelf={a.id === self?.id} isAdmin={isAdmin} />
          ))}
        </ul>
      )}
      {isAdmin && <AddAgent onAdded={(a) => (agents.value = (agents.value ?? []).filter((x) => x.id !== a.id).concat(a))} />}
    </section>
  );
}

function AgentRow({ agent, isSelf, isAdmin }: { agent: AgentView; isSelf: boolean; isAdmin: boolean }) {
  const [editing, setEditing] = useState(false);
  const editRef = useRef<HTMLButtonElement>(null);
  const close = () => {
    setEditing(false);
    setTimeout(() => editRef.current?.focus());
  };
  return (
    <li class="agent" data-testid="agent-row" data-email={agent.email} data-id={agent.id}>
      <PresenceDot presence={agent.presence} />
      <span class="agent-who">
        <strong>{agent.name}</strong>
        {isSelf && <span class="muted"> (you)</span>}
        <span class="muted small agent-mail">{agent.email}</span>
        <Chips items={agent.skills} kind="skill" />
        <Chips items={agent.languages} kind="lang" />
      </span>
      <span class="muted small agent-limit" title="Most chats routing gives them at once" data-testid="agent-limit">
        up to {agent.max_chats} {agent.max_chats === 1 ? "chat" : "chats"}
      </span>
      <span class={"badge role-" + agent.role}>{ROLE_LABEL[agent.role] ?? agent.role}</span>
      {isAdmin && (
        <button
          ref={editRef}
          type="button"
          class="btn btn-small btn-ghost"
          aria-expanded={editing}
          aria-label={"Edit " + agent.name}
          onClick={() => (editing ? close() : setEditing(true))}
          data-testid="agent-edit"
        >
          Edit
        </button>
      )}
      {editing && <AgentSettings agent={agent} isSelf={isSelf} onDone={close} />}
    </li>
  );
}

/** "billing, VIP , billing" → ["billing", "VIP"]. */
function tags(s: string): string[] {
  return Array.from(new Set(s.split(",").map((t) => t.trim()).filter((t) => t !== "")));
}

function AgentSettings({ agent, isSelf, onDone }: { agent: AgentView; isSelf: boolean; onDone: () => void }) {
  const [role, setRole] = useState<Role>(agent.role);
  const [max, setMax] = useState(String(agent.max_chats));
  const [skills, setSkills] = useState(agent.skills.join(", "));
  const [languages, setLanguages] = useState(agent.languages.join(", "));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const firstRef = useRef<HTMLSelectElement>(null);
  const maxRef = useRef<HTMLInputElement>(null);
  const id = "agent-" + agent.id;

  useEffect(() => (isSelf ? maxRef.current?.focus() : firstRef.current?.focus()), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const maxChats = Number(max);
    if (!Number.isInteger(maxChats) || maxChats < 1 || maxChats > 50) {
      setError("The chat limit is a whole number from 1 to 50.");
      return;
    }
    const body = { role, max_chats: maxChats, skills: tags(skills), languages: tags(languages) };
    for (const [what, list] of [["skills", body.skills], ["languages", body.languages]] as const) {
      if (list.length > 30) return setError("At most 30 " + what + ".");
      const long = list.find((t) => t.length > 40);
      if (long) return setError("“" + long.slice(0, 20) + "…” is too long (40 characters at most).");
    }
    setBusy(true);
    setError(null);
    try {
      const a = await api.updateAgent(agent.id, body);
      agents.value = (agents.value ?? []).map((x) => (x.id === a.id ? a : x));
      if (me.value && me.value.id === a.id) me.value = { ...me.value, ...a };
      onDone();
    } catch (err) {
      setError(problemText(err));
      setBusy(false);
    }
  };

  return (
    <form
      class="agent-form compact"
      onSubmit={submit}
      aria-label={"Settings of " + agent.name}
      onKeyDown={(e) => {
        if (e.key === "Escape") onDone();
      }}
      data-testid="agent-form"
    >
      <div class="agent-form-grid">
        <label class="field">
          <span>Role</span>
          <select
            ref={firstRef}
            value={role}
            disabled={isSelf}
            title={isSelf ? "Another admin can change your role." : undefined}
            onChange={(e) => setRole(e.currentTarget.value as Role)}
            data-testid="agent-edit-role"
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABEL[r]}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Chat limit</span>
          <input
            ref={maxRef}
            type="number"
            min={1}
            max={50}
            step={1}
            required
            value={max}
            onInput={(e) => setMax(e.currentTarget.value)}
            aria-describedby={id + "-max-help"}
            data-testid="agent-edit-max"
          />
          <small id={id + "-max-help"}>Chats at once, 1–50</small>
        </label>
        <label class="field">
          <span>Skills</span>
          <input
            value={skills}
            placeholder="billing, returns"
            autocomplete="off"
            onInput={(e) => setSkills(e.currentTarget.value)}
            aria-describedby={id + "-skills-help"}
            data-testid="agent-edit-skills"
          />
          <small id={id + "-skills-help"}>
            {tags(skills).length ? <Chips items={tags(skills)} kind="skill" /> : "Comma-separated"}
          </small>
        </label>
        <label class="field">
          <span>Languages</span>
          <input
            value={languages}
            placeholder="en, de"
            autocomplete="off"
            onInput={(e) => setLanguages(e.currentTarget.value)}
            aria-describedby={id + "-lang-help"}
            data-testid="agent-edit-languages"
          />
          <small id={id + "-lang-help"}>
            {tags(languages).length ? <Chips items={tags(languages)} kind="lang" /> : "Comma-separated codes: en, de, pt-BR"}
          </small>
        </label>
      </div>
      {error && (
        <p class="form-error" role="alert" data-testid="agent-edit-error">
          {error}
        </p>
      )}
      <div class="form-actions">
        <button class="btn btn-primary btn-small" type="submit" disabled={busy} data-testid="agent-edit-save">
          {busy ? "Saving…" : "Save"}
        </button>
        <button class="btn btn-small" type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
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
