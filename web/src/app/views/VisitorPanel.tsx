// The visitor's context in the contact panel: where they are now, how they came (referrer, UTM
// tags), their device, language, time zone, rough location, visits, and the page trail. It
// refetches when the server says the visitor moved to another page (`visitor_page`).

import type { ComponentChild } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { VisitorDetails } from "../../generated/VisitorDetails";
import { isWebUrl } from "../../shared/text";
import { api } from "../api";
import { clockTime, dateTime, now, relativeTime } from "../format";
import { visitorPage } from "../store";

/** A URL's path and query ("/pricing?plan=pro"), to tell apart pages that share a title. */
export function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch (_) {
    return url;
  }
}

export function PageLink({ url, title }: { url: string | null; title?: string | null }): ComponentChild {
  if (!url) return null;
  const label = title || url;
  const link = isWebUrl(url) ? (
    <a href={url} target="_blank" rel="noopener noreferrer" title={url}>
      {label}
    </a>
  ) : (
    label
  );
  if (!title) return link;
  return (
    <>
      {link}
      <span class="page-path muted small">{pathOf(url)}</span>
    </>
  );
}

export function VisitorPanel({ contactId }: { contactId: string }) {
  const [d, setD] = useState<VisitorDetails | null>(null);
  const [failed, setFailed] = useState(false);
  const moved = visitorPage.value;
  const bump = moved && moved.contactId === contactId ? moved.at : 0;

  useEffect(() => {
    let stale = false;
    api.visitorDetails(contactId).then(
      (v) => {
        if (!stale) {
          setD(v);
          setFailed(false);
        }
      },
      () => !stale && setFailed(true),
    );
    return () => {
      stale = true;
    };
  }, [contactId, bump]);

  if (!d || d.contact_id !== contactId) {
    return <p class="muted small">{failed ? "Visitor details are not available." : "Loading visitor…"}</p>;
  }
  const utm = [
    ["source", d.utm.source],
    ["medium", d.utm.medium],
    ["campaign", d.utm.campaign],
    ["term", d.utm.term],
    ["content", d.utm.content],
  ].filter(([, v]) => v) as [string, string][];
  const rows: [string, ComponentChild][] = [
    [
      "Current page",
      d.current_url ? (
        <span data-testid="visitor-current-page">
          <PageLink url={d.current_url} />
          {d.page_title && <span class="page-path muted small">{d.page_title}</span>}
        </span>
      ) : null,
    ],
    ["Referrer", d.referrer ? <PageLink url={d.referrer} /> : null],
    ["Campaign", utm.length ? utm.map(([k, v]) => k + ": " + v).join(", ") : null],
    ["Location", d.location],
    ["Browser", d.browser],
    ["OS", d.os],
    ["Device", d.device],
    ["Language", d.language ? languageName(d.language) : null],
    ["Timezone", d.timezone],
    [
      "Visits",
      d.visit_count > 0
        ? String(d.visit_count) + (d.visit_started_at ? " · this one since " + dateTime(d.visit_started_at) : "")
        : null,
    ],
  ];
  return (
    <div class="visitor-panel" data-testid="visitor-panel">
      <p class={"visitor-online small" + (d.online ? " is-on" : "")}>
        <span class="live-dot" aria-hidden="true" /> {d.online ? "On the site now" : "Not on the site"}
      </p>
      <dl class="facts-visit">
        {rows.map(([label, value]) => (
          <div key={label} class="fact">
            <dt>{label}</dt>
            <dd>{value ?? <span class="muted">—</span>}</dd>
          </div>
        ))}
      </dl>
      {d.pages.length > 0 && (
        <section aria-labelledby="trail-h">
          <h3 id="trail-h" class="trail-head">
            Pages viewed
          </h3>
          <ol class="trail" data-testid="page-trail">
            {d.pages.slice(0, 15).map((p) => (
              <li key={p.at + p.url}>
                <span class="trail-page">
                  <PageLink url={p.url} title={p.title} />
                </span>
                <time class="muted small" dateTime={new Date(p.at).toISOString()} title={dateTime(p.at)}>
                  {now.value - p.at < 3600000 ? relativeTime(p.at, now.value) : clockTime(p.at)}
                </time>
              </li>
            ))}
          </ol>
        </section>
      )}
      {d.events.length > 0 && (
        <section aria-labelledby="events-h">
          <h3 id="events-h" class="trail-head">
            Events
          </h3>
          <ol class="trail" data-testid="event-trail">
            {d.events.slice(0, 15).map((e) => (
              <li key={e.at + e.name}>
                <span class="trail-page">
                  <span>{e.name}</span>
                  {Object.keys(e.data).length > 0 && (
                    <span class="page-path muted small">
                      {Object.entries(e.data)
                        .map(([k, v]) => k + ": " + String(v))
                        .join(", ")}
                    </span>
                  )}
                </span>
                <time class="muted small" dateTime={new Date(e.at).toISOString()} title={dateTime(e.at)}>
                  {now.value - e.at < 3600000 ? relativeTime(e.at, now.value) : clockTime(e.at)}
                </time>
              </li>
            ))}
          </ol>
        </section>
      )}
    </div>
  );
}

/** "de-DE · German": the tag the widget reported, and its name in English. */
function languageName(tag: string): string {
  try {
    const name = new Intl.DisplayNames(["en"], { type: "language" }).of(tag);
    return name && name !== tag ? tag + " · " + name : tag;
  } catch (_) {
    return tag;
  }
}
