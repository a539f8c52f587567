import { useEffect, useState } from "preact/hooks";
import type { WebsiteView } from "../../generated/WebsiteView";
import { api, problemText } from "../api";
import { me, showError } from "../store";
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
