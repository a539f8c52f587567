// Settings → a website's identity verification (admins): on or off, the secret (shown on
// demand, copyable), and rotating it. docs/sdk.md explains what the site's server does with it.
import { useEffect, useState } from "preact/hooks";
import type { IdentitySettings } from "../../generated/IdentitySettings";
import type { WebsiteView } from "../../generated/WebsiteView";
import { problemText, request } from "../api";
import { ErrorNote } from "../ui";

export function IdentityPanel({ site, id }: { site: WebsiteView; id: string }) {
  const path = "/api/v1/websites/" + encodeURIComponent(site.id) + "/identity";
  const [s, setS] = useState<IdentitySettings | null>(null);
  const [shown, setShown] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    request<IdentitySettings>("GET", path).then(setS, (e) => setError(problemText(e)));
  }, [path]);

  const run = async (method: string, url: string, body?: unknown) => {
    setBusy(true);
    setError(null);
    try {
      setS(await request<IdentitySettings>(method, url, body));
    } catch (e) {
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };
  const rotate = () => {
    if (confirm("Make a new secret? Hashes made with the current one stop working at once.")) run("POST", path + "/rotate");
  };

  if (!s) return error ? <ErrorNote text={error} /> : null;
  return (
    <div id={id} class="site-identity" data-testid="identity-panel">
      <label class="small">
        <input
          type="checkbox"
          checked={s.enabled}
          disabled={busy}
          onChange={(e) => run("PUT", path, { enabled: (e.target as HTMLInputElement).checked })}
          data-testid="identity-enabled"
        />{" "}
        Identity verification: <code>identify</code> needs a hash of the user id made with this site's secret (see the SDK docs)
      </label>
      {s.enabled && s.secret && (
        <p class="small">
          Secret:{" "}
          {shown ? (
            <code data-testid="identity-secret">{s.secret}</code>
          ) : (
            <button type="button" class="btn btn-small" onClick={() => setShown(true)} data-testid="identity-show">
              Show
            </button>
          )}{" "}
          <button type="button" class="btn btn-small" disabled={busy} onClick={rotate} data-testid="identity-rotate">
            Rotate
          </button>
        </p>
      )}
      {error && <ErrorNote text={error} />}
    </div>
  );
}
