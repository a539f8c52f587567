// My mentions: internal notes in which a colleague named me (`@name`), newest first. Opening
// one opens its conversation, which marks it read.

import { useEffect, useState } from "preact/hooks";
import type { MentionView } from "../../generated/MentionView";
import { request } from "../api";
import { contactLabel, dateTime, relativeTime } from "../format";
import { navigate } from "../router";
import { showError } from "../store";

export function Mentions() {
  const [list, setList] = useState<MentionView[] | null>(null);
  useEffect(() => {
    request<MentionView[]>("GET", "/api/v1/mentions").then(setList, showError);
  }, []);
  return (
    <main class="settings" aria-labelledby="mentions-title">
      <h1 id="mentions-title">Mentions</h1>
      <p class="muted">Notes in which a colleague named you with @. Only agents see notes.</p>
      {list === null ? (
        <p class="muted">Loading…</p>
      ) : list.length === 0 ? (
        <p class="muted" data-testid="mentions-empty">
          Nobody has mentioned you yet. Write @ and a colleague's name in a note to ask for their help.
        </p>
      ) : (
        <ul class="mention-list">
          {list.map((m) => (
            <li key={m.id} class={"mention" + (m.read ? "" : " is-unread")} data-testid="mention">
              <a
                href={"/app/c/" + encodeURIComponent(m.conversation_id)}
                onClick={(e) => {
                  e.preventDefault();
                  navigate("/app/c/" + encodeURIComponent(m.conversation_id));
                }}
              >
                <span class="mention-head">
                  <strong>{m.by_name ?? "A colleague"}</strong> in the chat with {contactLabel(m.contact_name, m.conversation_id)}
                  <time dateTime={new Date(m.created_at).toISOString()} title={dateTime(m.created_at)}>
                    {relativeTime(m.created_at, Date.now())}
                  </time>
                </span>
                <span class="mention-text">{m.text}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
