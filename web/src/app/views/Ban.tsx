// What an agent does about a visitor beyond chatting: ban them (the list of bans is in
// Settings, where supervisors and admins lift them), or email them the transcript.

import { useEffect, useState } from "preact/hooks";
import type { BanRequest } from "../../generated/BanRequest";
import type { BanView } from "../../generated/BanView";
import type { Conversation } from "../../generated/Conversation";
import { problemText, request } from "../api";
import { contactLabel, dateTime } from "../format";
import { showError } from "../store";
import { Modal } from "./Inbox";

const DURATIONS: { label: string; days: number | null }[] = [
  { label: "1 day", days: 1 },
  { label: "7 days", days: 7 },
  { label: "30 days", days: 30 },
  { label: "Until lifted", days: null },
];

export function BanDialog({ c, onClose }: { c: Conversation; onClose: () => void }) {
  const [reason, setReason] = useState("");
  const [duration, setDuration] = useState(1);
  const [ip, setIp] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const who = contactLabel(c.contact_name, c.contact_id);

  const submit = async () => {
    if (!reason.trim() || busy) return;
    setBusy(true);
    setError(null);
    const body: BanRequest = { reason: reason.trim(), days: DURATIONS[duration]?.days ?? null, ip };
    try {
      await request<BanView>("POST", "/api/v1/conversations/" + encodeURIComponent(c.id) + "/ban", body);
      onClose();
    } catch (e) {
      setError(problemText(e));
      setBusy(false);
    }
  };

  return (
    <Modal title={"Ban " + who} testId="ban-dialog" onClose={onClose}>
      <p class="muted small">
        They are disconnected at once, and their chat window will say it is not available to them. The reason is kept as an
        internal note.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label class="field">
          <span>Reason</span>
          <textarea
            rows={2}
            maxLength={500}
            value={reason}
            required
            data-testid="ban-reason"
            onInput={(e) => setReason(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>For</span>
          <select value={String(duration)} data-testid="ban-duration" onChange={(e) => setDuration(Number(e.currentTarget.value))}>
            {DURATIONS.map((d, i) => (
              <option key={d.label} value={String(i)}>
                {d.label}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={ip} data-testid="ban-ip" onChange={(e) => setIp(e.currentTarget.checked)} />
          <span>Also refuse anyone from their IP address (a shared office or school may be behind one address)</span>
        </label>
        {error && (
          <p class="form-error" role="alert" data-testid="ban-error">
            {error}
          </p>
        )}
        <div class="form-actions">
          <button type="submit" class="btn btn-danger" disabled={busy || !reason.trim()} data-testid="ban-submit">
            {busy ? "Banning…" : "Ban visitor"}
          </button>
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Settings: the bans that hold now, with a way to lift each. Supervisors and admins. */
export function BansSection() {
  const [bans, setBans] = useState<BanView[] | null>(null);
  useEffect(() => {
    request<BanView[]>("GET", "/api/v1/bans").then(setBans, showError);
  }, []);
  const lift = async (b: BanView) => {
    try {
      await request<null>("DELETE", "/api/v1/bans/" + encodeURIComponent(b.id));
      setBans((list) => (list ? list.filter((x) => x.id !== b.id) : list));
    } catch (e) {
      showError(e);
    }
  };
  return (
    <section class="card" aria-labelledby="bans-title" data-testid="bans-card">
      <h2 id="bans-title">Banned visitors</h2>
      {bans === null ? (
        <p class="muted">Loading…</p>
      ) : bans.length === 0 ? (
        <p class="muted">Nobody is banned.</p>
      ) : (
        <ul class="ban-list">
          {bans.map((b) => (
            <li key={b.id} class="ban-row" data-testid="ban-row">
              <div>
                <strong>{b.contact_id ? contactLabel(b.contact_name, b.contact_id) : "A visitor"}</strong>
                {b.ip && <span class="muted small"> · and address {b.ip}</span>}
                <p class="muted small">
                  {b.reason} · by {b.created_by_name ?? "a former colleague"} · {b.expires_at ? "until " + dateTime(b.expires_at) : "until lifted"}
                </p>
              </div>
              <button type="button" class="btn btn-small" data-testid="ban-lift" onClick={() => void lift(b)}>
                Lift
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Emails the visitor a transcript of the conversation (what they saw; never notes). */
export function TranscriptButton({ conversationId, email }: { conversationId: string; email: string }) {
  const [state, setState] = useState<"idle" | "sending" | "sent">("idle");
  useEffect(() => setState("idle"), [conversationId]);
  const send = async () => {
    setState("sending");
    try {
      await request<{ to: string }>("POST", "/api/v1/conversations/" + encodeURIComponent(conversationId) + "/transcript", {});
      setState("sent");
    } catch (e) {
      setState("idle");
      showError(e);
    }
  };
  return (
    <p class="contact-action">
      <button type="button" class="btn btn-small" disabled={state !== "idle"} data-testid="send-transcript" onClick={() => void send()}>
        {state === "sending" ? "Sending…" : "Email the transcript"}
      </button>
      <span class="muted small" role="status" data-testid="send-transcript-note">
        {state === "sent" ? "Sent to " + email + "." : ""}
      </span>
    </p>
  );
}
