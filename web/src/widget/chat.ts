// The hosted chat page's first script (/chat/SITEKEY, served as /widget/chat.js before the usual
// loader snippet): the page an email reply links to, `/chat/SITEKEY#token=VISITORTOKEN`.
//
// It hands the token to the chat frame, which runs on this same origin and keeps its token in
// localStorage under `fd_token_` + site key, then takes the token out of the address bar (and so
// out of history, bookmarks and screenshots), and marks the page so the loader opens the chat at
// start: <html data-frontdesk="page">.

(() => {
  const d = document;
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (token) {
    try {
      // Keyed as the frame keys it: by the data-site value, the page address's last segment.
      const site = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
      if (site && localStorage.getItem("fd_token_" + site) !== token) {
        localStorage.setItem("fd_token_" + site, token);
        // Unsent messages and the saved email belong to whoever used this browser before.
        localStorage.removeItem("fd_outbox_" + site);
        localStorage.removeItem("fd_email_" + site);
      }
    } catch (_) {
      // Storage is blocked (or the address is malformed): the chat starts as a new visitor.
    }
    history.replaceState(history.state, "", location.pathname + location.search);
  }
  d.documentElement.setAttribute("data-frontdesk", "page");
})();
