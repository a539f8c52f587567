// Live visitors: who is on each site now (their widget is connected), polled every 2 s while the
// page is visible. An agent can start a chat with one: the first message opens their widget.

import { useEffect, useState } from "preact/hooks";
import type { LiveVisitor } from "../../generated/LiveVisitor";
import { newClientId } from "../../shared/ids";
import { api, problemText } from "../api";
import { clockTime, contactLabel, now } from "../format";
import { linkClick, navigate } from "../router";
import { PageLink } from "./VisitorPanel";

const EVERY_MS = 2000;

/** Time on site: "<1m", "12m", "1h 5m". */
function onSite(since: number, at: number): string {
  const m = Math.floor(Math.max(0, at - since) / 60_000);
  if (m < 1) return "<1m";
  if (m < 60) return m + "m";
  return Math.floor(m / 60) + "h" + (m % 60 ? " " + (m % 60) + "m" : "");
}

export function Visitors() {
  const [list, setList] = useState<LiveVisitor[] | null>(null);
  const [updated, setUpdated] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [chatWith, setChatWith] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    let timer = 0;
    const tick = async () => {
      try {
        const v = await api.liveVisitors();
        if (stopped) return;
        setList(v);
        setUpdated(Date.now());
        setError(null);
      } catch (e) {
        if (!stopped) setError(problemText(e));
      }
      if (!stopped && document.visibilityState === "visible") timer = window.setTimeout(tick, EVERY_MS);
    };
    const onVisibility = () => {
      if (document.visibilityState !== "visible") {
        clearTimeout(timer);
        timer = 0;
      } else if (!timer) void tick();
    };
    document.addEventListener("visibilitychange", onVisibility);
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, []);

  const sites = new Map<string, LiveVisitor[]>();
  for (const v of list ?? []) {
    const l = sites.get(v.website_name) ?? [];
    l.push(v);
    sites.set(v.website_name, l);
  }

  return (
    <main class="monitor visitors" data-testid="visitors">
      <div class="monitor-head">
        <h1>Visitors</h1>
        {updated && (
          <span class="muted small live">
            <span class="live-dot" aria-hidden="true" />
            Live · {list?.length ?? 0} on your sites · updated {clockTime(updated)}
          </span>
        )}
      </div>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {!list && !error && <p class="muted">Loading…</p>}
      {list && list.length === 0 && (
        <section class="card">
          <p class="muted">Nobody is on your sites right now. Visitors show up here while a page with the widget is open.</p>
        </section>
      )}
      {[...sites.entries()].map(([site, vs]) => (
        <section class="card" key={site} aria-label={site}>
          <h2>
            {site} <span class="muted small">{vs.length} now</span>
          </h2>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Visitor</th>
                <th scope="col">Current page</th>
                <th scope="col">On site</th>
                <th scope="col" class="num">Visits</th>
                <th scope="col">Location</th>
                <th scope="col">Referrer</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {vs.map((v) => (
                <VisitorRow key={v.contact_id} v={v} open={chatWith === v.contact_id} setOpen={(o) => setChatWith(o ? v.contact_id : null)} />
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </main>
  );
}

function VisitorRow({ v, open, setOpen }: { v: LiveVisitor; open: boolean; setOpen: (o: boolean) => void }) {
  return (
    <>
      <tr data-testid="live-visitor" data-contact={v.contact_id}>
        <th scope="row">
          <span class="cell-name">{contactLabel(v.name, v.contact_id)}</span>
        </th>
        <td class="page-cell" data-testid="live-page">
          {v.current_url ? <PageLink url={v.current_url} title={v.page_title} /> : <span class="muted">—</span>}
        </td>
        <td>{onSite(v.visit_started_at, now.value)}</td>
        <td class="num">{v.visit_count}</td>
        <td>{v.location ?? <span class="muted">—</span>}</td>
        <td class="page-cell">{v.referrer ? <PageLink url={v.referrer} /> : <span class="muted">Direct</span>}</td>
        <td>
          {v.open_conversation_id ? (
            <a
              class="btn btn-small"
              href={"/app/c/" + v.open_conversation_id}
              onClick={(e) => linkClick(e, "/app/c/" + v.open_conversation_id)}
            >
              Open chat
            </a>
          ) : (
            <button type="button" class="btn btn-small btn-primary" data-testid="start-chat" aria-expanded={open} onClick={() => setOpen(!open)}>
              Start chat
            </button>
          )}
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={7}>
            <ProactiveForm v={v} onDone={() => setOpen(false)} />
          </td>
        </tr>
      )}
    </>
  );
}

function ProactiveForm({ v, onDone }: { v: LiveVisitor; onDone: () => void }) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // One id per attempt, reused if the request is retried, so a retry starts no second chat.
  const [clientId] = useState(newClientId);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!text.trim() || busy) return;
    setBusy(true);
    setError(null);
    try {
      const c = await api.startChat(v.contact_id, { client_id: clientId, text });
      onDone();
      navigate("/app/c/" + c.id);
    } catch (err) {
      setError(problemText(err));
      setBusy(false);
    }
  };
  return (
    <form class="proactive" onSubmit={(e) => void submit(e)} aria-label={"Start a chat with " + contactLabel(v.name, v.contact_id)}>
      <textarea
        data-testid="proactive-text"
        placeholder="Write the first message… it opens the visitor's chat window"
        value={text}
        maxLength={5000}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        autoFocus
      />
      <button type="submit" class="btn btn-primary" data-testid="proactive-send" disabled={busy || !text.trim()}>
        Send
      </button>
      <button type="button" class="btn btn-ghost" onClick={onDone}>
        Cancel
      </button>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
