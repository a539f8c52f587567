// Splitting message text into plain runs and web links, so both apps can render links as real
// <a> elements while every character of the text still goes into the DOM as text, never markup.

export type Run = { text: string; href?: string };

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;

/** Text runs in order; a run with `href` is an http(s) link whose text is the address itself. */
export function splitLinks(text: string): Run[] {
  const runs: Run[] = [];
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    const start = m.index ?? 0;
    const url = m[0].replace(TRAILING, "");
    if (start > at) runs.push({ text: text.slice(at, start) });
    runs.push({ text: url, href: url });
    at = start + url.length;
  }
  if (at < text.length) runs.push({ text: text.slice(at) });
  return runs;
}

/** True for an address that may become a link: http(s) only, never javascript: or data:. */
export function isWebUrl(s: string | null | undefined): s is string {
  return !!s && /^https?:\/\//i.test(s);
}
