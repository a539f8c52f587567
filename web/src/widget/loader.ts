// The widget loader: the one script a website embeds, served as /widget.js.
//
//   <script async src="https://HOST/widget.js" data-site="SITEKEY"></script>
//
// It runs on other people's pages, so it is tiny, framework-free and polite: nothing heavy before
// the page's load event, every element inside a shadow root (no style leaks either way), no
// innerHTML (pages with Trusted Types would refuse it), and the chat itself lives in an iframe
// on our own origin that is created only when the visitor first opens the chat.
//
// The launcher's look (colour, its text colour, corner, label) comes from the same config; the
// last answer is kept in fd_look_SITE and painted at once on the next page, while the config is
// asked again (quietly: the launcher shows meanwhile) so an admin's change shows within a page.
//
// One exception: a site may hide its chat outside its hours. With no answer remembered, the
// loader asks GET /api/v1/widget/config (a tiny, cacheable, contact-free read) and keeps
// the launcher hidden until the answer, or for 6 s at most. If the page's CSP forbids that fetch,
// it creates the frame (closed) instead, which tells it the same (fd:hours). The answer is kept
// in fd_hours_SITE while it cannot change: a day for a site that never hides, until opening time
// for one that is hidden now; a site that hides but is open now is asked every view.
//
// The hosted chat page (/chat/SITEKEY, see chat.ts) marks <html data-frontdesk="page">: the chat
// opens at start, centred on wide screens.
//
// SDK: `window.Frontdesk` is a command queue, usable before this script arrives:
//   window.Frontdesk = window.Frontdesk || function () { (Frontdesk.q = Frontdesk.q || []).push(arguments) };
//   Frontdesk('open') | Frontdesk('close') | Frontdesk('toggle') | Frontdesk('identify', {id, email,
//   name, hash}) | Frontdesk('setAttributes', {...}) | Frontdesk('setLanguage', 'de') |
//   Frontdesk('track', 'event', {...}) | Frontdesk('on', 'message'|'open'|'close'|'unread'|'error', fn)
//   | Frontdesk('logout'); unknown commands are ignored. See docs/sdk.md.
//
// Proactive triggers (triggers.ts): the config's rules run here, once the frame has said
// whether agents are online and whether a chat runs (fd:state). A greeting shows as a bubble by
// the launcher (text nodes only; its close button dismisses it for good) or opens the chat; the
// frame shows it as the chat's first message, and sends its id with the visitor's reply.
//
// A site's allowed domains: when the config answers 403 (origin_not_allowed: this page's origin
// is not one of them), the loader removes itself, loads no frame and logs one warning. The frame
// (frame.html?site=KEY) carries the site's frame-ancestors, so the browser keeps it off such
// pages as well.
//
// Messages with the frame (postMessage, checked by origin and source; the frame checks ours):
//   frame -> loader: fd:ready, fd:open (an agent started a chat), fd:close, fd:unread {count},
//                    fd:hours {hide, until} (hide the launcher; remember the answer until `until`),
//                    fd:state {online, chatting}, fd:message {message} (an agent's message arrived),
//                    fd:error {code, message}
//   loader -> frame: fd:context {context}, fd:visibility {open}, fd:greet {greeting} (null: none),
//                    fd:trigger {id, event} (count a greeting shown or accepted), fd:identify {user},
//                    fd:attributes {attributes}, fd:track {name, data}, fd:logout
//   (commands for the frame wait for its fd:ready; they create the frame if there is none)

type Command = ArrayLike<unknown>;
interface Sdk {
  (...args: unknown[]): void;
  q?: Command[];
  /** Set once the real dispatcher is installed, so a second copy of the loader does nothing. */
  fd?: 1;
}
type FrameMessage = { type?: unknown; count?: unknown; hide?: unknown; until?: unknown; online?: unknown; chatting?: unknown; message?: unknown; code?: unknown };
type Look = { color?: unknown; text_color?: unknown; position?: unknown; launcher_text?: unknown };

import type { Fire } from "../generated/Fire";
import type { SiteTriggers } from "../generated/SiteTriggers";
import { type Runner, startTriggers } from "./triggers";

(() => {
  const w = window as unknown as { Frontdesk?: Sdk };
  const d = document;
  const script = (d.currentScript || d.querySelector("script[data-site]")) as HTMLScriptElement | null;
  const site = script && script.getAttribute("data-site");
  if (!script || !site || !script.src || (w.Frontdesk && w.Frontdesk.fd)) return;
  const origin = new URL(script.src, location.href).origin;

  let sdk = w.Frontdesk;
  if (!sdk) {
    const queue: Sdk = function () {
      // eslint-disable-next-line prefer-rest-params
      (queue.q = queue.q || []).push(arguments);
    };
    sdk = w.Frontdesk = queue;
  }

  const OPEN_KEY = "fd_open_" + site;
  /** "1" while the frame last said a chat runs, for the triggers before a frame exists. */
  const CHAT_KEY = "fd_chat_" + site;
  /** The visitor's first of these creates the closed frame (see `live`). */
  const EVENTS = ["pointermove", "pointerdown", "keydown", "scroll", "touchstart", "focusin"];
  const HOURS_KEY = "fd_hours_" + site;
  const LOOK_KEY = "fd_look_" + site;
  const page = d.documentElement.getAttribute("data-frontdesk") === "page";
  const SVG = "http://www.w3.org/2000/svg";
  const CHAT_ICON = "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z";
  const CLOSE_ICON = "M18 6 6 18M6 6l12 12";
  const CSS =
    ":host{all:initial}" +
    ".l{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;border:0;padding:0;margin:0;" +
    "background:var(--c,#4f46e5);color:var(--t,#fff);cursor:pointer;box-shadow:0 4px 14px rgba(15,23,42,.3);display:flex;align-items:center;justify-content:center;transition:transform .15s}" +
    ".l:hover{transform:scale(1.06)}.l:focus-visible{outline:3px solid #a5b4fc;outline-offset:2px}" +
    ".x{width:auto;padding:0 20px 0 16px;border-radius:28px;gap:8px;font:600 15px system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    ".lf{right:auto;left:20px}" +
    ".b{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;box-sizing:border-box;border-radius:10px;" +
    "background:#dc2626;color:#fff;font:600 11px/20px system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;text-align:center}" +
    "[hidden]{display:none!important}" +
    ".p{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:370px;height:600px;max-width:calc(100vw - 40px);" +
    "max-height:calc(100vh - 108px);border-radius:16px;overflow:hidden;background:#fff;box-shadow:0 12px 40px rgba(15,23,42,.28)}" +
    ".p iframe{display:block;width:100%;height:100%;border:0}" +
    ".p.lf{right:auto;left:20px}" +
    ".pg~.o{display:none}@media (min-width:480px){.pg{right:50%;bottom:50%;transform:translate(50%,50%);width:420px;height:680px;max-height:calc(100vh - 40px)}}" +
    "@media (max-width:479px){.p,.p.lf{left:0;right:0;bottom:0;width:100%;height:100%;max-width:none;max-height:none;border-radius:0}.o{display:none}}" +
    ".g{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:260px;max-width:calc(100vw - 40px);box-sizing:border-box;padding:12px 34px 12px 14px;" +
    "border-radius:14px;background:#fff;color:#0f172a;box-shadow:0 8px 28px rgba(15,23,42,.22);font:14px/1.45 system-ui,sans-serif}" +
    ".g b{display:block;font-size:12px;color:#475569}.g button{font:inherit;color:inherit;background:none;border:0;padding:0;cursor:pointer;text-align:left;white-space:pre-wrap;overflow-wrap:anywhere}" +
    ".g.lf{right:auto;left:20px}.g .gx{position:absolute;top:6px;right:6px;width:26px;height:26px;font-size:18px;color:#64748b;text-align:center}";

  let open = false;
  /** The site is closed and hides its chat: no launcher (unless the chat is open). */
  let hidden = false;
  /** This page may not show the site's chat (origin_not_allowed). */
  let refused = false;
  let probeTimer = 0;
  let ready = false;
  let unread = 0;
  let lastUrl = "";
  let iframe: HTMLIFrameElement | undefined;
  let panel: HTMLDivElement;
  let launcher: HTMLButtonElement;
  let badge: HTMLSpanElement;
  let icon: SVGPathElement;
  let host: HTMLDivElement;
  let label: HTMLSpanElement;
  /** The launcher's text and corner, from the site's look. */
  let text = "";
  let side = "";
  let greet: HTMLDivElement;
  let runner: Runner | undefined;
  /** The greeting shown in the bubble now. */
  let bubble: Fire | null = null;
  /** The frame's last fd:state: agents online, a chat running. */
  let frameState: [boolean, boolean] | undefined;
  /** Waiting for the visitor's first move to create the (closed) frame. */
  let armed = 0;
  /** `setLanguage`'s choice; the browser's language otherwise. */
  let lang = "";
  /** SDK commands for the frame, until it is ready. */
  let toSend: object[] = [];
  const on: Record<string, ((a?: unknown) => void)[]> = {};
  const emit = (ev: string, a?: unknown) =>
    (on[ev] || []).forEach((f) => {
      try {
        f(a);
      } catch (e) {
        setTimeout(() => {
          throw e;
        });
      }
    });

  const store = (k: string, v: string | null) => {
    try {
      v === null ? localStorage.removeItem(k) : localStorage.setItem(k, v);
    } catch (_) {
      // Storage can be blocked (privacy modes, sandboxes); the widget still works without it.
    }
  };
  const stored = (k: string) => {
    try {
      return localStorage.getItem(k) || "";
    } catch (_) {
      return "";
    }
  };

  const post = (m: object) => {
    const win = iframe && iframe.contentWindow;
    if (win) win.postMessage(m, origin);
  };
  /** An SDK command for the frame (which holds the token and socket). */
  const toFrame = (m: object) => {
    if (ready) post(m);
    else {
      toSend.push(m);
      frame();
    }
  };

  const context = () => {
    let timezone: string | null = null;
    try {
      timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || null;
    } catch (_) {
      // Old engines: leave it out.
    }
    lastUrl = location.href;
    return {
      url: lastUrl,
      title: d.title || null,
      referrer: d.referrer || null,
      language: lang || navigator.language || null,
      timezone,
    };
  };

  const draw = () => {
    const n = unread > 99 ? "99+" : String(unread);
    badge.textContent = n;
    badge.hidden = open || unread < 1;
    const shown = open ? "" : text;
    const [, , opens, closes, unseen] = words();
    launcher.setAttribute("aria-label", open ? closes : (shown || opens) + (unread > 0 ? ", " + n + " " + unseen : ""));
    launcher.setAttribute("aria-expanded", String(open));
    launcher.className = "l" + (open ? " o" : "") + (shown ? " x" : "") + side;
    label.textContent = shown;
    panel.className = page ? "p pg" : "p" + side;
    launcher.hidden = hidden && !open;
    icon.setAttribute("d", open ? CLOSE_ICON : CHAT_ICON);
    if (!launcher.hidden) attach();
  };

  /** Puts the widget into the page the first time something of it shows (or its frame must
   * load): a page whose chat waits for its config pays for one style pass, not two. */
  const attach = () => {
    if (!refused && !host.isConnected) d.body.appendChild(host);
  };

  const frame = () => {
    if (iframe || refused) return;
    iframe = d.createElement("iframe");
    iframe.title = "Chat";
    iframe.src = origin + "/widget/frame.html?site=" + encodeURIComponent(site);
    panel.appendChild(iframe);
    attach();
  };

  /** While the chat is shown, the frame (closed) keeps the visitor's socket, so agents see them
   * on the live visitors page and can start a chat. It is created at the visitor's first move
   * (pointer, key, scroll, touch, focus), not at load: the page a visitor only loads pays for
   * the loader alone (docs/benchmarks.md, Lighthouse). A hidden chat loads no frame. */
  const live = () => {
    if (hidden || iframe || armed) return;
    armed = 1;
    const go = () => {
      EVENTS.forEach((e) => removeEventListener(e, go, true));
      armed = 0;
      if (!hidden) frame();
    };
    EVENTS.forEach((e) => addEventListener(e, go, { capture: true, passive: true }));
  };

  /** Shows or hides the launcher by the site's hours, and remembers the answer while it holds. */
  const hours = (hide: boolean, until: number) => {
    clearTimeout(probeTimer);
    hidden = hide;
    store(HOURS_KEY, until > Date.now() ? (hide ? "h" : "s") + until : null);
    draw();
    live();
  };

  /** Creates the frame to learn whether the site is open; the launcher waits, but not forever. */
  const probe = () => {
    // A frame already there checks again by itself at opening time.
    if (iframe) return;
    hidden = true;
    frame();
  };

  /** This page is not one of the site's allowed domains: show nothing, say why once. */
  const refuse = () => {
    refused = true;
    clearTimeout(probeTimer);
    store(HOURS_KEY, null);
    host.remove();
    console.warn("Frontdesk: this chat is not allowed on " + location.origin + "; add it to the site's allowed domains.");
  };

  /** Paints the site's look: the colour and its text colour (checked: they go into CSS), the
   * corner, the label (a text node). */
  const paint = (l: Look | null) => {
    if (!l) return;
    const hex = (v: unknown, d: string) => (typeof v == "string" && /^#[0-9a-f]{6}$/i.test(v) ? v : d);
    host.style.setProperty("--c", hex(l.color, "#4f46e5"));
    host.style.setProperty("--t", hex(l.text_color, "#fff"));
    side = l.position === "bottom_left" ? " lf" : "";
    text = typeof l.launcher_text == "string" ? l.launcher_text.slice(0, 24) : "";
    draw();
  };

  /** Reads the site's config: its look and triggers, and whether it is open now (falling back to
   * the frame). `quiet`: the hours are known; the launcher stays as it is meanwhile, and a
   * failure changes nothing. */
  const ask = (quiet?: boolean) => {
    if (!quiet) {
      hidden = true;
      clearTimeout(probeTimer);
      probeTimer = setTimeout(() => {
        hidden = false;
        draw();
      }, 6000);
    }
    fetch(origin + "/api/v1/widget/config?site_key=" + encodeURIComponent(site))
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then(
        (c: {
          availability: { open?: unknown; next_open_at?: unknown; when_closed?: unknown };
          agents_online?: unknown;
          look?: Look;
          triggers?: SiteTriggers;
        }) => {
        if (c.look) {
          paint(c.look);
          store(LOOK_KEY, JSON.stringify(c.look));
        }
        const tr = c.triggers;
        if (!runner && tr && tr.rules && tr.rules.length) {
          runner = startTriggers(tr, "fd_t_" + site, fired, () => open, stored, store);
          runner.state(...(frameState || [c.agents_online === true, stored(CHAT_KEY) === "1"]));
        }
        if (quiet) return;
        const a = c.availability;
        const now = Date.now();
        const hides = a.when_closed === "hide";
        const closed = a.open === false;
        const back = Number(a.next_open_at) || now + 3600000;
        hours(closed && hides, !hides ? now + 86400000 : closed ? back : 0);
        // Hidden until opening time: ask again then, without a reload.
        if (closed && hides) setTimeout(ask, Math.min(Math.max(back - now, 60000), 2147483647));
      }, (e) => (e === 403 ? refuse() : quiet ? undefined : probe()));
  };

  /** The loader's few words in the visitor's language (the frame's tables would weigh too much
   * here): who a greeting is from when no agent is named, the greeting's close button, and the
   * launcher's labels for screen readers (open, close, unread). */
  const words = () => {
    const w: Record<string, [string, string, string, string, string]> = {
      de: ["Das Team", "Begrüßung schließen", "Chat öffnen", "Chat schließen", "ungelesen"],
      fr: ["L'équipe", "Fermer le message", "Ouvrir le chat", "Fermer le chat", "non lus"],
      es: ["El equipo", "Cerrar el saludo", "Abrir el chat", "Cerrar el chat", "sin leer"],
      pt: ["A equipe", "Fechar a saudação", "Abrir o chat", "Fechar o chat", "não lidas"],
      ar: ["الفريق", "إغلاق التحية", "فتح المحادثة", "إغلاق المحادثة", "غير مقروءة"],
    };
    return w[(lang || navigator.language || "").slice(0, 2).toLowerCase()] || ["The team", "Close greeting", "Open chat", "Close chat", "unread"];
  };

  /** Shows a greeting: in the opened chat, or as the bubble. */
  const fired = (f: Fire) => {
    toFrame({ type: "fd:greet", greeting: f });
    toFrame({ type: "fd:trigger", id: f.id, event: "shown" });
    if (f.open) return setOpen(true);
    bubble = f;
    greet.textContent = "";
    const who = d.createElement("b");
    who.textContent = f.from.type === "agent" ? f.from.name : words()[0];
    const button = (text: string, id: string, click: () => void) => {
      const b = d.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.setAttribute("data-testid", "fd-greeting-" + id);
      b.onclick = click;
      return b;
    };
    const x = button("\u00d7", "close", () => {
      runner && runner.dismiss(f.id);
      toFrame({ type: "fd:greet", greeting: null });
      hideBubble();
      launcher.focus();
    });
    x.className = "gx";
    x.setAttribute("aria-label", words()[1]);
    greet.append(who, button(f.text, "open", () => setOpen(true)), x);
    greet.className = "g" + side;
    attach();
    greet.hidden = false;
  };

  const hideBubble = () => {
    bubble = null;
    greet.hidden = true;
    greet.textContent = "";
  };

  const setOpen = (v: boolean) => {
    if (refused) return;
    // Opening the chat while a greeting shows accepts it.
    if (v && bubble) {
      toFrame({ type: "fd:trigger", id: bubble.id, event: "accepted" });
      hideBubble();
    }
    if (v !== open) emit(v ? "open" : "close");
    open = v;
    if (v) frame();
    panel.hidden = !v;
    store(OPEN_KEY, v ? "1" : null);
    draw();
    post({ type: "fd:visibility", open: v });
  };

  const run = (c: Command) => {
    const [cmd, a, b] = c as unknown[];
    const o = a && typeof a === "object" ? a : 0;
    if (cmd === "open") setOpen(true);
    else if (cmd === "close") setOpen(false);
    else if (cmd === "toggle") setOpen(!open);
    else if (cmd === "on" && typeof b === "function") (on[a as string] = on[a as string] || []).push(b as () => void);
    else if (cmd === "identify" && o) toFrame({ type: "fd:identify", user: JSON.parse(JSON.stringify(o)) });
    else if (cmd === "setAttributes" && o) toFrame({ type: "fd:attributes", attributes: JSON.parse(JSON.stringify(o)) });
    else if (cmd === "track" && typeof a === "string")
      toFrame({ type: "fd:track", name: a, data: b && typeof b === "object" ? JSON.parse(JSON.stringify(b)) : null });
    else if (cmd === "setLanguage" && typeof a === "string") {
      lang = a;
      draw();
      if (ready) post({ type: "fd:context", context: context() });
    } else if (cmd === "logout") toFrame({ type: "fd:logout" });
  };

  // The page moved without a reload (single-page apps): tell the frame the new page, once the
  // app has had a moment to set the new title.
  const navigated = () =>
    setTimeout(() => {
      if (ready && location.href !== lastUrl) post({ type: "fd:context", context: context() });
    }, 300);

  const init = () => {
    host = d.createElement("div");
    host.id = "frontdesk-widget";
    const root = host.attachShadow({ mode: "open" });
    // A constructed stylesheet is not subject to the host page's style-src; fall back to <style>.
    const r = root as ShadowRoot & { adoptedStyleSheets?: CSSStyleSheet[] };
    try {
      const sheet = new CSSStyleSheet() as CSSStyleSheet & { replaceSync(css: string): void };
      sheet.replaceSync(CSS);
      r.adoptedStyleSheets = [sheet];
    } catch (_) {
      const style = d.createElement("style");
      style.textContent = CSS;
      root.appendChild(style);
    }

    panel = d.createElement("div");
    panel.className = page ? "p pg" : "p";
    panel.hidden = true;

    launcher = d.createElement("button");
    launcher.type = "button";
    launcher.setAttribute("data-testid", "fd-launcher");
    const svg = d.createElementNS(SVG, "svg");
    for (const [k, v] of [
      ["viewBox", "0 0 24 24"],
      ["width", "26"],
      ["height", "26"],
      ["fill", "none"],
      ["stroke", "currentColor"],
      ["stroke-width", "2"],
      ["stroke-linecap", "round"],
      ["stroke-linejoin", "round"],
      ["aria-hidden", "true"],
    ]) {
      svg.setAttribute(k!, v!);
    }
    icon = d.createElementNS(SVG, "path");
    svg.appendChild(icon);
    badge = d.createElement("span");
    badge.className = "b";
    label = d.createElement("span");
    launcher.append(svg, label, badge);
    launcher.onclick = () => setOpen(!open);
    greet = d.createElement("div");
    greet.className = "g";
    greet.hidden = true;
    greet.setAttribute("role", "status");
    greet.setAttribute("aria-live", "polite");
    greet.setAttribute("data-testid", "fd-greeting");
    greet.onkeydown = (e: KeyboardEvent) => {
      if (e.key === "Escape" && bubble) (greet.lastChild as HTMLButtonElement).click();
    };
    root.append(panel, greet, launcher);

    addEventListener("message", (e: MessageEvent) => {
      if (!iframe || e.origin !== origin || e.source !== iframe.contentWindow) return;
      const m = e.data as FrameMessage | null;
      if (!m || typeof m !== "object") return;
      if (m.type === "fd:ready") {
        ready = true;
        post({ type: "fd:context", context: context() });
        post({ type: "fd:visibility", open });
        toSend.forEach(post);
        toSend = [];
      } else if (m.type === "fd:open") {
        // An agent started a chat with this visitor.
        if (!open) setOpen(true);
      } else if (m.type === "fd:close") {
        setOpen(false);
        launcher.focus();
      } else if (m.type === "fd:unread") {
        unread = Math.max(0, Math.floor(Number(m.count)) || 0);
        draw();
        emit("unread", unread);
      } else if (m.type === "fd:message") {
        emit("message", m.message);
      } else if (m.type === "fd:error") {
        console.warn("Frontdesk: " + m.code + " " + m.message);
        emit("error", { code: m.code, message: m.message });
      } else if (m.type === "fd:hours") {
        hours(m.hide === true, Number(m.until) || 0);
      } else if (m.type === "fd:state") {
        frameState = [m.online === true, m.chatting === true];
        store(CHAT_KEY, m.chatting === true ? "1" : null);
        runner && runner.state(...frameState);
        if (m.chatting === true && bubble) hideBubble();
      }
    });
    addEventListener("popstate", navigated);
    addEventListener("hashchange", navigated);
    const push = history.pushState;
    history.pushState = function (this: History, ...a: Parameters<History["pushState"]>) {
      push.apply(this, a);
      navigated();
    };

    const queued = (sdk && sdk.q) || [];
    const real: Sdk = function () {
      // eslint-disable-next-line prefer-rest-params
      run(arguments);
    };
    real.fd = 1;
    w.Frontdesk = real;
    // "h<ms>": hidden until then; "s<ms>": shown until then; otherwise ask the frame.
    const known = stored(HOURS_KEY);
    const until = +known.slice(1) || 0;
    const wait = until - Date.now();
    try {
      paint(JSON.parse(stored(LOOK_KEY) || "null") as Look | null);
    } catch (_) {
      // A broken copy: the config's answer replaces it.
    }
    if (wait <= 0) ask();
    else if (known[0] === "h") {
      hidden = true;
      // setTimeout's longest delay is about 24 days; waking up earlier just asks again.
      setTimeout(ask, Math.min(wait, 2147483647));
    } else ask(true);
    draw();
    // Listeners first, so they hear the chat opening at start.
    queued.forEach((c) => c[0] === "on" && run(c));
    if (page || stored(OPEN_KEY) === "1") setOpen(true);
    else if (known[0] === "s" && wait > 0) live();
    queued.forEach((c) => c[0] !== "on" && run(c));
  };

  const idle = () => {
    const ric = (window as unknown as { requestIdleCallback?: (f: () => void, o: object) => void })
      .requestIdleCallback;
    ric ? ric(init, { timeout: 2000 }) : setTimeout(init, 1);
  };
  d.readyState === "complete" ? idle() : addEventListener("load", idle);
})();
