// Client-side routing by location.pathname. The server serves index.html for /app, /app/*,
// /login and /setup. The inbox keeps its filters in the query string (filters.ts): moving
// between its conversations carries the query along, so a reload shows the same list.
import { signal } from "@preact/signals";

export const path = signal(location.pathname);
/** `location.search`, kept in step with `path`. */
export const search = signal(location.search);

function isInbox(p: string): boolean {
  return p === "/app" || p === "/app/" || p.startsWith("/app/c/");
}

/** With `keepQuery` (the default), a move within the inbox keeps the current query. */
export function navigate(to: string, replace = false, keepQuery = true) {
  if (keepQuery && !to.includes("?") && isInbox(to) && isInbox(location.pathname)) to += location.search;
  if (to === location.pathname + location.search) return;
  history[replace ? "replaceState" : "pushState"](null, "", to);
  path.value = location.pathname;
  search.value = location.search;
}

addEventListener("popstate", () => {
  path.value = location.pathname;
  search.value = location.search;
});

/** The conversation id in /app/c/{id}, if any. */
export function conversationIdOf(p: string): string | null {
  const m = /^\/app\/c\/([^/]+)\/?$/.exec(p);
  return m && m[1] ? decodeURIComponent(m[1]) : null;
}

/** A click handler for in-app links: keeps new-tab clicks working. */
export function linkClick(e: MouseEvent, to: string) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(to);
}
