// Settings → a website's allowed domains (admins): the pages the widget may run on. A site key
// copied onto any other website gets nothing (docs/api.md, "Allowed domains").
import { useEffect, useState } from "preact/hooks";
import type { AllowedDomainsView } from "../../generated/AllowedDomainsView";
import type { WebsiteView } from "../../generated/WebsiteView";
import { problemText, request } from "../api";
import { ErrorNote } from "../ui";

export function DomainsPanel({ site, id }: { site: WebsiteView; id: string }) {
  const path = "/api/v1/websites/" + encodeURIComponent(site.id) + "/domains";
  const [text, setText] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const show = (v: AllowedDomainsView) => setText(v.allowed_domains.join("\n"));
  useEffect(() => {
    request<AllowedDomainsView>("GET", path).then(show, (e) => setError(problemText(e)));
  }, [path]);

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    const list = (text || "")
      .split(/[\s,]+/)
      .map((d) => d.trim())
      .filter(Boolean);
    try {
      show(await request<AllowedDomainsView>("PUT", path, { allowed_domains: list }));
      setSaved(true);
    } catch (err) {
      setError(problemText(err));
    } finally {
      setBusy(false);
    }
  };

  if (text === null) return error ? <ErrorNote text={error} /> : <p class="muted">Loading…</p>;
  return (
    <form id={id} class="site-domains" onSubmit={save} data-testid="domains-panel">
      <label class="field">
        <span>Allowed domains, one a line</span>
        <textarea
          rows={4}
          value={text}
          onInput={(e) => {
            setText((e.target as HTMLTextAreaElement).value);
            setSaved(false);
          }}
          data-testid="domains-text"
        />
      </label>
      <p class="small muted">
        The chat shows only on these sites: <code>example.com</code> (that host), <code>*.example.com</code> (it
        and its subdomains), <code>localhost:3000</code>. Anywhere else, the site key gets nothing.
      </p>
      <ErrorNote text={error} />
      <button type="submit" class="btn btn-small" disabled={busy} data-testid="domains-save">
        Save
      </button>{" "}
      {saved && (
        <span class="small" role="status" data-testid="domains-saved">
          Saved
        </span>
      )}
    </form>
  );
}
