// Settings → a website's "Widget look" (admins): the accent colour, corner, launcher text, the
// agents the chat's header shows (with their photos), the welcome, the reply-time line, and
// greeting by page (page rules). A live preview follows every keystroke. The rules are the
// server's (crates/core/src/widget.rs); its typed errors are shown as they come.
import { useEffect, useRef, useState } from "preact/hooks";
import type { LookAgent } from "../../generated/LookAgent";
import type { PageRule } from "../../generated/PageRule";
import type { WebsiteView } from "../../generated/WebsiteView";
import type { WidgetLook } from "../../generated/WidgetLook";
import type { WidgetLookView } from "../../generated/WidgetLookView";
import type { WidgetPosition } from "../../generated/WidgetPosition";
import { ApiError, problemText, request } from "../api";
import { loadTeams, showError, teams } from "../store";
import { ErrorNote } from "../ui";

const DEFAULT_GREETING = "Hi! How can we help?";

const lookPath = (site: string) => "/api/v1/websites/" + encodeURIComponent(site) + "/look";
const photoPath = (agent: string) => "/api/v1/agents/" + encodeURIComponent(agent) + "/photo";

type RuleDraft = { key: number; url_pattern: string; welcome: string; team: string };
type Draft = {
  color: string;
  position: WidgetPosition;
  launcher_text: string;
  agents: string[];
  welcome: string;
  reply: string;
  rules: RuleDraft[];
};

let nextKey = 1;

function draftOf(l: WidgetLook): Draft {
  return {
    color: l.color,
    position: l.position,
    launcher_text: l.launcher_text,
    agents: l.agents.slice(),
    welcome: l.welcome,
    reply: l.reply_minutes === null ? "" : String(l.reply_minutes),
    rules: l.page_rules.map((r) => ({ key: nextKey++, url_pattern: r.url_pattern, welcome: r.welcome, team: r.team ?? "" })),
  };
}

function lookOf(d: Draft): WidgetLook {
  const n = d.reply.trim() === "" ? null : Number(d.reply);
  return {
    color: d.color.trim(),
    position: d.position,
    launcher_text: d.launcher_text,
    agents: d.agents,
    welcome: d.welcome,
    reply_minutes: n !== null && Number.isFinite(n) ? n : null,
    page_rules: d.rules.map((r): PageRule => ({ url_pattern: r.url_pattern, welcome: r.welcome, team: r.team || null })),
  };
}

/** `#rgb` or `#rrggbb` as `#rrggbb`, else null (as `parse_color` in the core). */
export function hexColor(raw: string): string | null {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(raw.trim());
  if (!m) return null;
  const h = m[1]!;
  return ("#" + (h.length === 3 ? h.replace(/./g, "$&$&") : h)).toLowerCase();
}

/** White or near-black, whichever contrasts more with `color` (as `text_color` in the core). */
export function textColor(color: string): string {
  const lum = (c: string) => {
    const ch = (i: number) => {
      const v = parseInt(c.slice(i, i + 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * ch(1) + 0.7152 * ch(3) + 0.0722 * ch(5);
  };
  const contrast = (a: string, b: string) => {
    const [x, y] = [lum(a), lum(b)];
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  return contrast(color, "#ffffff") >= contrast(color, "#111827") ? "#ffffff" : "#111827";
}

export function initials(name: string): string {
  const w = name.trim().split(/\s+/).filter(Boolean);
  const first = (s: string | undefined) => (s ? Array.from(s)[0]!.toUpperCase() : "");
  return first(w[0]) + (w.length > 1 ? first(w[w.length - 1]) : "");
}

function Face({ agent, size }: { agent: LookAgent; size: number }) {
  return agent.photo_url ? (
    <img class="look-face" src={agent.photo_url} alt={agent.name} title={agent.name} width={size} height={size} />
  ) : (
    <span class="look-face" role="img" aria-label={agent.name} title={agent.name}>
      {initials(agent.name)}
    </span>
  );
}

/** A faithful miniature of the widget: the chat (header with the agents, welcome, reply line)
 * above the launcher, in the chosen corner and colours. */
function Preview({ d, agents }: { d: Draft; agents: LookAgent[] }) {
  const color = hexColor(d.color) ?? "#4f46e5";
  const on = textColor(color);
  const shown = d.agents.map((id) => agents.find((a) => a.id === id)).filter((a): a is LookAgent => !!a);
  const n = Number(d.reply);
  const reply = d.reply.trim() && Number.isInteger(n) && n > 0 ? (n === 1 ? "We usually reply in about a minute" : "We usually reply in about " + n + " minutes") : "";
  const label = d.launcher_text.trim();
  return (
    <figure class={"look-preview" + (d.position === "bottom_left" ? " left" : "")} data-testid="look-preview" aria-label="Preview of the widget">
      <div class="look-chat">
        <div class="look-head" style={{ background: color, color: on }} data-testid="look-preview-header">
          {shown.length > 0 && (
            <span class="look-faces" data-testid="look-preview-agents">
              {shown.map((a) => (
                <Face key={a.id} agent={a} size={28} />
              ))}
            </span>
          )}
          <span class="look-title">Chat</span>
        </div>
        <div class="look-body">
          <p class="look-hi" data-testid="look-preview-welcome">
            {d.welcome.trim() || DEFAULT_GREETING}
          </p>
          {reply && (
            <p class="look-reply" data-testid="look-preview-reply">
              {reply}
            </p>
          )}
        </div>
      </div>
      <span class={"look-launcher" + (label ? " labelled" : "")} style={{ background: color, color: on }} data-testid="look-preview-launcher">
        <svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
          <path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z" />
        </svg>
        {label && <span>{label}</span>}
      </span>
    </figure>
  );
}

export function WidgetLookPanel({ site, id }: { site: WebsiteView; id: string }) {
  const [draft, setDraft] = useState<Draft | null>(null);
  const [agents, setAgents] = useState<LookAgent[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const photoFor = useRef<string | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const list = teams.value;

  useEffect(() => {
    if (teams.value === null) void loadTeams();
    request<WidgetLookView>("GET", lookPath(site.id))
      .then((v) => {
        setDraft(draftOf(v.look));
        setAgents(v.agents);
      })
      .catch((e) => {
        setLoadError(problemText(e));
        if (e instanceof ApiError && e.status === 401) showError(e);
      });
  }, [site.id]);

  if (loadError) return <ErrorNote text={loadError} />;
  if (!draft) return <p class="muted">Loading…</p>;

  const set = (patch: Partial<Draft>) => {
    setSaved(false);
    setDraft({ ...draft, ...patch });
  };
  const setRule = (key: number, patch: Partial<RuleDraft>) => set({ rules: draft.rules.map((r) => (r.key === key ? { ...r, ...patch } : r)) });
  const toggleAgent = (agent: string, on: boolean) => set({ agents: on ? [...draft.agents, agent] : draft.agents.filter((a) => a !== agent) });
  const prefix = "look-" + site.id;
  const hex = hexColor(draft.color);

  const fail = (e: unknown) => {
    setError(problemText(e));
    if (e instanceof ApiError && e.status === 401) showError(e);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const v = await request<WidgetLookView>("PUT", lookPath(site.id), lookOf(draft));
      setDraft(draftOf(v.look));
      setAgents(v.agents);
      setSaved(true);
    } catch (err) {
      fail(err);
    }
    setBusy(false);
  };

  const pickPhoto = (agent: string) => {
    photoFor.current = agent;
    fileRef.current?.click();
  };
  const upload = async (file: File | undefined) => {
    const agent = photoFor.current;
    if (!file || !agent) return;
    setError(null);
    try {
      const a = await request<LookAgent>("PUT", photoPath(agent), file);
      setAgents(agents.map((x) => (x.id === a.id ? a : x)));
    } catch (err) {
      fail(err);
    }
    if (fileRef.current) fileRef.current.value = "";
  };
  const removePhoto = async (agent: string) => {
    setError(null);
    try {
      await request<void>("DELETE", photoPath(agent));
      setAgents(agents.map((x) => (x.id === agent ? { ...x, photo_url: null } : x)));
    } catch (err) {
      fail(err);
    }
  };

  return (
    <div class="look" id={id}>
      <form class="look-form compact" onSubmit={submit} data-testid="look-form" aria-label={"Widget look of " + site.name}>
        <div class="row-fields">
          <label class="field inline">
            <span>Colour</span>
            <input type="color" value={hex ?? "#4f46e5"} onInput={(e) => set({ color: e.currentTarget.value })} aria-label="Colour picker" data-testid="look-color-picker" />
            <input
              class="look-hex"
              value={draft.color}
              maxLength={7}
              aria-invalid={hex === null}
              onInput={(e) => set({ color: e.currentTarget.value })}
              aria-label="Colour (hex)"
              data-testid="look-color"
            />
          </label>
          <label class="field inline">
            <span>Position</span>
            <select value={draft.position} onChange={(e) => set({ position: e.currentTarget.value as WidgetPosition })} data-testid="look-position">
              <option value="bottom_right">Bottom right</option>
              <option value="bottom_left">Bottom left</option>
            </select>
          </label>
        </div>
        {hex === null && <p class="muted small">Enter a colour as #rrggbb.</p>}
        <label class="field">
          <span>Launcher text</span>
          <input value={draft.launcher_text} maxLength={24} placeholder="Empty: the icon alone" onInput={(e) => set({ launcher_text: e.currentTarget.value })} data-testid="look-launcher-text" />
        </label>
        <label class="field">
          <span>Welcome</span>
          <textarea value={draft.welcome} maxLength={300} rows={2} placeholder={DEFAULT_GREETING} onInput={(e) => set({ welcome: e.currentTarget.value })} data-testid="look-welcome" />
        </label>
        <label class="field inline">
          <span>We usually reply in about</span>
          <input class="look-minutes" type="number" min={1} max={1440} value={draft.reply} onInput={(e) => set({ reply: e.currentTarget.value })} data-testid="look-reply" />
          <span class="muted small">minutes (empty: no such line)</span>
        </label>

        <fieldset class="group">
          <legend>Agents in the header</legend>
          <p class="muted small">Up to five, with their photo (PNG, JPEG, GIF or WebP up to 2 MB) or their initials.</p>
          <input ref={fileRef} type="file" accept="image/png,image/jpeg,image/gif,image/webp" hidden onChange={(e) => void upload(e.currentTarget.files?.[0])} data-testid="look-photo-input" />
          <ul class="look-agents">
            {agents.map((a) => (
              <li key={a.id} data-testid="look-agent" data-id={a.id}>
                <label>
                  <input type="checkbox" checked={draft.agents.includes(a.id)} onChange={(e) => toggleAgent(a.id, e.currentTarget.checked)} />
                  <Face agent={a} size={28} />
                  {a.name}
                </label>
                <button type="button" class="btn btn-small" onClick={() => pickPhoto(a.id)} aria-label={"Upload a photo of " + a.name} data-testid="look-photo-upload">
                  Photo…
                </button>
                {a.photo_url && (
                  <button type="button" class="btn btn-small" onClick={() => void removePhoto(a.id)} aria-label={"Remove the photo of " + a.name}>
                    Remove photo
                  </button>
                )}
              </li>
            ))}
          </ul>
        </fieldset>

        <fieldset class="group">
          <legend>Greeting by page</legend>
          <p class="muted small">
            Tried from the top; the first whose pattern matches the page's address (* stands for any text) gives the welcome. With a team, the header shows that team and
            chats started there go to it, ahead of the routing rules.
          </p>
          {draft.rules.length > 0 && (
            <ol class="look-rules">
              {draft.rules.map((r, i) => {
                const n = "Page rule " + (i + 1);
                return (
                  <li key={r.key} data-testid="look-rule">
                    <input aria-label={n + ": URL pattern"} placeholder="*/pricing*" value={r.url_pattern} onInput={(e) => setRule(r.key, { url_pattern: e.currentTarget.value })} data-testid="look-rule-pattern" />
                    <input aria-label={n + ": welcome"} placeholder="Welcome on that page" maxLength={300} value={r.welcome} onInput={(e) => setRule(r.key, { welcome: e.currentTarget.value })} data-testid="look-rule-welcome" />
                    <select aria-label={n + ": team"} value={r.team} onChange={(e) => setRule(r.key, { team: e.currentTarget.value })} data-testid="look-rule-team">
                      <option value="">No team (routing rules decide)</option>
                      {(list ?? []).map((t) => (
                        <option key={t.id} value={t.id}>
                          {t.name}
                        </option>
                      ))}
                    </select>
                    <button type="button" class="btn btn-small" aria-label={"Remove " + n.toLowerCase()} onClick={() => set({ rules: draft.rules.filter((x) => x.key !== r.key) })}>
                      Remove
                    </button>
                  </li>
                );
              })}
            </ol>
          )}
          {draft.rules.length < 20 && (
            <button type="button" class="btn btn-small" onClick={() => set({ rules: [...draft.rules, { key: nextKey++, url_pattern: "", welcome: "", team: "" }] })} data-testid="look-add-rule">
              Add a page rule
            </button>
          )}
        </fieldset>

        {error && <ErrorNote text={error} />}
        <div class="row-fields">
          <button type="submit" class="btn btn-primary" disabled={busy} data-testid="look-save">
            {busy ? "Saving…" : "Save look"}
          </button>
          {saved && (
            <span class="muted small" role="status" data-testid="look-saved" id={prefix + "-saved"}>
              Saved. Visitors see it on their next page.
            </span>
          )}
        </div>
      </form>
      <Preview d={draft} agents={agents} />
    </div>
  );
}
