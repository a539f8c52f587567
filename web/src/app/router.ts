// Client-side routing by location.pathname. The server serves index.html for /app, /app/*,
// /login and /setup.
import { signal } from "@preact/signals";

export const path = signal(location.pathname);

export function navigate(to: string, replace = false) {
  if (to === location.pathname + location.search) return;
  history[replace ? "replaceState" : "pushState"](null, "", to);
  path.value = location.pathname;
}

addEventListener("popstate", () => {
  path.value = location.pathname;
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
