/**
 * Reconnect delay for the given attempt (0-based): 0.5 s doubling to 30 s, with "equal jitter"
 * (half fixed, half random) so a server restart does not bring every client back at once.
 */
export function backoff(attempt: number): number {
  const base = Math.min(30_000, 500 * 2 ** Math.min(attempt, 16));
  return Math.round(base / 2 + (Math.random() * base) / 2);
}

/** The WebSocket address for a path on this page's own server. */
export function wsUrl(path: string): string {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
}

/** Largest frame a client may send (`MAX_FRAME_BYTES`); a bigger one makes the server close. */
export const MAX_FRAME_BYTES = 32 * 1024;
