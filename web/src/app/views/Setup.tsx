import { useEffect, useState } from "preact/hooks";
import type { SetupRequest } from "../../generated/SetupRequest";
import type { SetupResponse } from "../../generated/SetupResponse";
import { api, problemText } from "../api";
import { linkClick } from "../router";
import { me } from "../store";
import { ErrorNote, Snippet } from "../ui";

type Field = Exclude<keyof SetupRequest, "token">;
const FIELDS: { key: Field; label: string; type: "text" | "email" | "password"; testId: string; auto: string; hint?: string }[] = [
  { key: "organization_name", label: "Organization name", type: "text", testId: "setup-org", auto: "organization" },
  { key: "name", label: "Your name", type: "text", testId: "setup-name", auto: "name" },
  { key: "email", label: "Email", type: "email", testId: "setup-email", auto: "email" },
  { key: "password", label: "Password", type: "password", testId: "setup-password", auto: "new-password" },
  { key: "website_name", label: "Website name", type: "text", testId: "setup-site-name", auto: "off" },
  {
    key: "website_domain",
    label: "Website domain",
    type: "text",
    testId: "setup-site-domain",
    auto: "off",
    hint: "For example shop.example.com",
  },
];

export function Setup() {
  const urlToken = new URLSearchParams(location.search).get("token") || "";
  const [token, setToken] = useState(urlToken);
  const [form, setForm] = useState<Record<Field, string>>({
    organization_name: "",
    name: "",
    email: "",
    password: "",
    website_name: "",
    website_domain: "",
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<SetupResponse | null>(null);
  const [alreadyDone, setAlreadyDone] = useState(false);

  useEffect(() => {
    api
      .setupStatus()
      .then((s) => setAlreadyDone(!s.needs_setup))
      .catch(() => {
        // The form reports errors itself.
      });
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api.setup({ token: token.trim(), ...form });
      me.value = res.agent;
      setDone(res);
    } catch (err) {
      setError(problemText(err));
    }
    setBusy(false);
  };

  if (done) {
    return (
      <main class="auth">
        <section class="card auth-card wide" aria-labelledby="setup-done">
          <h1 id="setup-done">You're all set</h1>
          <p>
            Paste this line into the HTML of <strong>{done.website.domain}</strong>, just before <code>&lt;/body&gt;</code>:
          </p>
          <Snippet code={done.website.snippet} testId="setup-snippet" />
          <a class="btn btn-primary btn-block" href="/app" onClick={(e) => linkClick(e, "/app")}>
            Go to inbox
          </a>
        </section>
      </main>
    );
  }

  return (
    <main class="auth">
      <form class="card auth-card wide" onSubmit={submit} aria-labelledby="setup-title">
        <div class="brand-mark" aria-hidden="true" />
        <h1 id="setup-title">Set up Frontdesk</h1>
        {alreadyDone ? (
          <p class="note">
            This server is already set up. <a href="/login" onClick={(e) => linkClick(e, "/login")}>Log in</a> instead.
          </p>
        ) : (
          <p class="muted">Create your organization, your admin account and your first website.</p>
        )}
        {!urlToken && (
          <label class="field">
            <span>Setup token</span>
            <input required value={token} onInput={(e) => setToken(e.currentTarget.value)} autocomplete="off" />
            <small>The server printed it, in the setup link, when it first started.</small>
          </label>
        )}
        {FIELDS.map((f) => (
          <label class="field" key={f.key}>
            <span>{f.label}</span>
            <input
              type={f.type as "text"}
              required
              autocomplete={f.auto}
              value={form[f.key]}
              onInput={(e) => setForm({ ...form, [f.key]: e.currentTarget.value })}
              data-testid={f.testId}
              minLength={f.key === "password" ? 8 : undefined}
            />
            {f.hint && <small>{f.hint}</small>}
          </label>
        ))}
        <ErrorNote text={error} />
        <button class="btn btn-primary btn-block" type="submit" disabled={busy} data-testid="setup-submit">
          {busy ? "Setting up…" : "Create organization"}
        </button>
      </form>
    </main>
  );
}
