// The widget loader: the one script a website embeds, served as /widget.js.
//
//   <script async src="https://HOST/widget.js" data-site="SITEKEY"></script>
//
// It runs on other people's pages, so it is tiny, framework-free and polite: nothing heavy before
// the page's load event, every element inside a shadow root (no style leaks either way), no
// innerHTML (pages with Trusted Types would refuse it), and the chat itself lives in an iframe
// on our own origin that is created only when the visitor first opens the chat.
//
// One exception: a site may hide its chat outside its hours. With no answer remembered, the
// loader asks GET /api/v1/widget/availability (a tiny, cacheable, contact-free read) and keeps
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
//   Frontdesk('open') | Frontdesk('close') | Frontdesk('toggle'); unknown commands are ignored.
//
// Messages with the frame (postMessage, checked by origin and source):
//   frame -> loader: fd:ready, fd:open (an agent started a chat), fd:close, fd:unread {count},
//                    fd:hours {hide, until} (hide the launcher; remember the answer until `until`)
//   loader -> frame: fd:context {context}, fd:visibility {open}

type Command = ArrayLike<unknown>;
interface Sdk {
  (...args: unknown[]): void;
  q?: Command[];
  /** Set once the real dispatcher is installed, so a second copy of the loader does nothing. */
  fd?: 1;
}
type FrameMessage = { type?: unknown; count?: unknown; hide?: unknown; until?: unknown };

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
  const HOURS_KEY = "fd_hours_" + site;
  const page = d.documentElement.getAttribute("data-frontdesk") === "page";
  const SVG = "http://www.w3.org/2000/svg";
  const CHAT_ICON = "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z";
  const CLOSE_ICON = "M18 6 6 18M6 6l12 12";
  const CSS =
    ":host{all:initial}" +
    ".l{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;border:0;padding:0;margin:0;" +
    "background:#4f46e5;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(15,23,42,.3);display:flex;align-items:center;justify-content:center;transition:transform .15s}" +
    ".l:hover{transform:scale(1.06)}.l:focus-visible{outline:3px solid #a5b4fc;outline-offset:2px}" +
    ".b{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;box-sizing:border-box;border-radius:10px;" +
    "background:#dc2626;color:#fff;font:600 11px/20px system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;text-align:center}" +
    "[hidden]{display:none!important}" +
    ".p{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:370px;height:600px;max-width:calc(100vw - 40px);" +
    "max-height:calc(100vh - 108px);border-radius:16px;overflow:hidden;background:#fff;box-shadow:0 12px 40px rgba(15,23,42,.28)}" +
    ".p iframe{display:block;width:100%;height:100%;border:0}" +
    ".pg~.o{display:none}@media (min-width:480px){.pg{right:50%;bottom:50%;transform:translate(50%,50%);width:420px;height:680px;max-height:calc(100vh - 40px)}}" +
    "@media (max-width:479px){.p{right:0;bottom:0;width:100%;height:100%;max-width:none;max-height:none;border-radius:0}.o{display:none}}";

  let open = false;
  /** The site is closed and hides its chat: no launcher (unless the chat is open). */
  let hidden = false;
  let probeTimer = 0;
  let ready = false;
  let unread = 0;
  let lastUrl = "";
  let iframe: HTMLIFrameElement | undefined;
  let panel: HTMLDivElement;
  let launcher: HTMLButtonElement;
  let badge: HTMLSpanElement;
  let icon: SVGPathElement;

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
      language: navigator.language || null,
      timezone,
    };
  };

  const draw = () => {
    const n = unread > 99 ? "99+" : String(unread);
    badge.textContent = n;
    badge.hidden = open || unread < 1;
    launcher.setAttribute("aria-label", open ? "Close chat" : unread > 0 ? "Open chat, " + n + " unread" : "Open chat");
    launcher.setAttribute("aria-expanded", String(open));
    launcher.className = open ? "l o" : "l";
    launcher.hidden = hidden && !open;
    icon.setAttribute("d", open ? CLOSE_ICON : CHAT_ICON);
  };

  const frame = () => {
    if (iframe) return;
    iframe = d.createElement("iframe");
    iframe.title = "Chat";
    iframe.src = origin + "/widget/frame.html#site=" + encodeURIComponent(site);
    panel.appendChild(iframe);
  };

  /** While the chat is shown, the frame (closed) keeps the visitor's socket, so agents see them
   * on the live visitors page and can start a chat. A hidden chat loads no frame. */
  const live = () => {
    if (!hidden) frame();
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

  /** Asks the server whether the site is open now; falls back to the frame. */
  const ask = () => {
    hidden = true;
    clearTimeout(probeTimer);
    probeTimer = setTimeout(() => {
      hidden = false;
      draw();
    }, 6000);
    fetch(origin + "/api/v1/widget/availability?site_key=" + encodeURIComponent(site))
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((a: { open?: unknown; next_open_at?: unknown; when_closed?: unknown }) => {
        const now = Date.now();
        const hides = a.when_closed === "hide";
        const closed = a.open === false;
        const back = Number(a.next_open_at) || now + 3600000;
        hours(closed && hides, !hides ? now + 86400000 : closed ? back : 0);
        // Hidden until opening time: ask again then, without a reload.
        if (closed && hides) setTimeout(ask, Math.min(Math.max(back - now, 60000), 2147483647));
      }, probe);
  };

  const setOpen = (v: boolean) => {
    open = v;
    if (v) frame();
    panel.hidden = !v;
    store(OPEN_KEY, v ? "1" : null);
    draw();
    post({ type: "fd:visibility", open: v });
  };

  const run = (c: Command) => {
    const cmd = c[0];
    if (cmd === "open") setOpen(true);
    else if (cmd === "close") setOpen(false);
    else if (cmd === "toggle") setOpen(!open);
  };

  // The page moved without a reload (single-page apps): tell the frame the new page, once the
  // app has had a moment to set the new title.
  const navigated = () =>
    setTimeout(() => {
      if (ready && location.href !== lastUrl) post({ type: "fd:context", context: context() });
    }, 300);

  const init = () => {
    const host = d.createElement("div");
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
    launcher.append(svg, badge);
    launcher.onclick = () => setOpen(!open);
    root.append(panel, launcher);
    d.body.appendChild(host);

    addEventListener("message", (e: MessageEvent) => {
      if (!iframe || e.origin !== origin || e.source !== iframe.contentWindow) return;
      const m = e.data as FrameMessage | null;
      if (!m || typeof m !== "object") return;
      if (m.type === "fd:ready") {
        ready = true;
        post({ type: "fd:context", context: context() });
        post({ type: "fd:visibility", open });
      } else if (m.type === "fd:open") {
        // An agent started a chat with this visitor.
        if (!open) setOpen(true);
      } else if (m.type === "fd:close") {
        setOpen(false);
        launcher.focus();
      } else if (m.type === "fd:unread") {
        unread = Math.max(0, Math.floor(Number(m.count)) || 0);
        draw();
      } else if (m.type === "fd:hours") {
        hours(m.hide === true, Number(m.until) || 0);
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
    if (wait <= 0) ask();
    else if (known[0] === "h") {
      hidden = true;
      // setTimeout's longest delay is about 24 days; waking up earlier just asks again.
      setTimeout(ask, Math.min(wait, 2147483647));
    }
    draw();
    if (page || stored(OPEN_KEY) === "1") setOpen(true);
    else if (known[0] === "s" && wait > 0) live();
    queued.forEach(run);
  };

  const idle = () => {
    const ric = (window as unknown as { requestIdleCallback?: (f: () => void, o: object) => void })
      .requestIdleCallback;
    ric ? ric(init, { timeout: 2000 }) : setTimeout(init, 1);
  };
  d.readyState === "complete" ? idle() : addEventListener("load", idle);
})();
