/** A fresh `client_id` for a send: 1–64 of `A-Z a-z 0-9 - _`, as the protocol requires. */
export function newClientId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  let s = "c-";
  for (const x of b) s += (x + 256).toString(16).slice(1);
  return s;
}
