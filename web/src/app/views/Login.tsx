import { useEffect, useState } from "preact/hooks";
import { api, problemText } from "../api";
import { navigate } from "../router";
import { me } from "../store";
import { ErrorNote } from "../ui";

export function Login() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [needsSetup, setNeedsSetup] = useState(false);

  useEffect(() => {
    api
      .setupStatus()
      .then((s) => setNeedsSetup(s.needs_setup))
      .catch(() => {
        // Only a hint; the form works without it.
      });
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      me.value = await api.login({ email: email.trim(), password });
      navigate("/app");
    } catch (err) {
      setError(problemText(err));
      setBusy(false);
    }
  };

  return (
    <main class="auth">
      <form class="card auth-card" onSubmit={submit} aria-labelledby="login-title">
        <div class="brand-mark" aria-hidden="true" />
        <h1 id="login-title">Log in to Frontdesk</h1>
        {needsSetup && (
          <p class="note">This server is not set up yet. Open the setup link that the server printed when it started.</p>
        )}
        <label class="field">
          <span>Email</span>
          <input
            type="email"
            autocomplete="username"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
            data-testid="login-email"
          />
        </label>
        <label class="field">
          <span>Password</span>
          <input
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            data-testid="login-password"
          />
        </label>
        <ErrorNote text={error} />
        <button class="btn btn-primary btn-block" type="submit" disabled={busy} data-testid="login-submit">
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
    </main>
  );
}
