// What the admin views need beyond api.ts's calls: building a backup team's overflow, and the
// count of one's open chats (asked before going away).

import type { Overflow } from "../generated/Overflow";
import type { TeamId } from "../generated/TeamId";
import { api } from "./api";

/** A backup team's timer in ms. */
export function overflowAfterMs(o: Overflow): number | null {
  return o.after_ms;
}
export function makeOverflow(to: TeamId, afterMs: number | null, whenFull: boolean): Overflow {
  return { to, after_ms: afterMs, when_full: whenFull };
}

/** How many chats I hold now (the first page of my tab is plenty to ask about them). */
export async function openChatCount(): Promise<number> {
  const page = await api.conversations("mine", null, 50);
  return page.items.filter((c) => c.status === "assigned").length;
}
