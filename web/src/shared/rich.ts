// Safe rich text for chat messages, shared by the widget and the dashboard.
//
// Agents may write a little Markdown: **bold**, *italic* (or _italic_), `code`, [links](https://…)
// and lists ("- " or "1. " at the start of a line). Everyone's web addresses become links.
// Visitors' messages get links only: nothing a visitor types ever becomes markup.
//
// The parser returns a small tree, never HTML; each client builds elements from it with text
// nodes (the widget with the DOM, the dashboard with Preact). Only http(s) and mailto links are
// ever made, so `javascript:` and friends stay text.

export type Inline =
  | { t: "text"; v: string }
  | { t: "b" | "i"; c: Inline[] }
  | { t: "code"; v: string }
  | { t: "a"; href: string; c: Inline[] };

export type Block = { t: "p"; c: Inline[] } | { t: "ul" | "ol"; items: Inline[][] };

const LIST = /^\s{0,3}(?:([-*•])|(\d{1,3})[.)])\s+(.*)$/;

/** Parses a message. `markdown`: an agent's message; otherwise links only. */
export function parse(text: string, markdown: boolean): Block[] {
  const blocks: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) blocks.push({ t: "p", c: inline(para.join("\n"), markdown) });
    para = [];
  };
  for (const line of text.split("\n")) {
    const m = markdown ? LIST.exec(line) : null;
    if (m) {
      flush();
      const kind = m[1] ? "ul" : "ol";
      const last = blocks[blocks.length - 1];
      const item = inline(m[3] ?? "", true);
      if (last && last.t === kind) last.items.push(item);
      else blocks.push({ t: kind, items: [item] });
    } else if (markdown && line.trim() === "") {
      flush();
    } else {
      para.push(line);
    }
  }
  flush();
  return blocks;
}

/** A link target we are willing to make: http(s) or mailto, nothing else. */
export function safeHref(url: string): string | null {
  const u = url.trim();
  if (/^https?:\/\/[^\s<>"]+$/i.test(u)) return u;
  if (/^mailto:[^\s<>"@]+@[^\s<>"]+$/i.test(u)) return u;
  return null;
}

const URL_RE = /https?:\/\/[^\s<>"]+/gi;

/** Plain text with its web addresses made links; trailing punctuation stays outside the link. */
function autolink(s: string, out: Inline[]) {
  let at = 0;
  for (const m of s.matchAll(URL_RE)) {
    let url = m[0];
    const start = m.index ?? 0;
    // "see https://x.test." or "(https://x.test)": the dot and bracket are not the address's.
    while (/[.,;:!?)\]'"]$/.test(url) && !(url.endsWith(")") && url.includes("("))) url = url.slice(0, -1);
    if (start > at) out.push({ t: "text", v: s.slice(at, start) });
    out.push({ t: "a", href: url, c: [{ t: "text", v: url }] });
    at = start + url.length;
  }
  if (at < s.length) out.push({ t: "text", v: s.slice(at) });
}

/** Inline Markdown (when `markdown`), then links. Unclosed markers stay as typed. */
export function inline(s: string, markdown: boolean): Inline[] {
  const out: Inline[] = [];
  if (!markdown) {
    autolink(s, out);
    return merge(out);
  }
  let text = "";
  const emit = () => {
    if (text) autolink(text, out);
    text = "";
  };
  let i = 0;
  while (i < s.length) {
    const rest = s.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^`([^`\n]+)`/.exec(rest))) {
      emit();
      out.push({ t: "code", v: m[1] ?? "" });
      i += m[0].length;
    } else if ((m = /^\*\*(?=\S)([\s\S]*?\S)\*\*/.exec(rest))) {
      emit();
      out.push({ t: "b", c: inline(m[1] ?? "", true) });
      i += m[0].length;
    } else if ((m = /^([*_])(?=\S)([^*_\n]*?\S)\1(?![*_\w])/.exec(rest)) && !/\w$/.test(text)) {
      emit();
      out.push({ t: "i", c: inline(m[2] ?? "", true) });
      i += m[0].length;
    } else if ((m = /^\[([^\]\n]+)\]\(([^)\s]+)\)/.exec(rest)) && safeHref(m[2] ?? "")) {
      emit();
      out.push({ t: "a", href: safeHref(m[2] ?? "") as string, c: inline(m[1] ?? "", true).filter((x) => x.t !== "a") });
      i += m[0].length;
    } else {
      text += s[i];
      i += 1;
    }
  }
  emit();
  return merge(out);
}

/** Joins neighbouring text pieces. */
function merge(list: Inline[]): Inline[] {
  const out: Inline[] = [];
  for (const x of list) {
    const last = out[out.length - 1];
    if (x.t === "text" && last && last.t === "text") last.v += x.v;
    else if (!(x.t === "text" && x.v === "")) out.push(x);
  }
  return out;
}

/** The message's text without markup (for previews, notifications, tests). */
export function plain(blocks: Block[]): string {
  const flat = (c: Inline[]): string => c.map((x) => (x.t === "text" || x.t === "code" ? x.v : flat(x.c))).join("");
  return blocks.map((b) => (b.t === "p" ? flat(b.c) : b.items.map(flat).join("\n"))).join("\n");
}

/** Builds DOM nodes from the tree: elements and text nodes only (the widget). */
export function toDom(blocks: Block[], doc: Document = document): DocumentFragment {
  const frag = doc.createDocumentFragment();
  const inl = (parent: Node, list: Inline[]) => {
    for (const x of list) {
      if (x.t === "text") parent.appendChild(doc.createTextNode(x.v));
      else if (x.t === "code") {
        const el = doc.createElement("code");
        el.textContent = x.v;
        parent.appendChild(el);
      } else if (x.t === "a") {
        const a = doc.createElement("a");
        a.href = x.href;
        a.target = "_blank";
        a.rel = "noopener noreferrer nofollow ugc";
        inl(a, x.c);
        parent.appendChild(a);
      } else {
        const el = doc.createElement(x.t === "b" ? "strong" : "em");
        inl(el, x.c);
        parent.appendChild(el);
      }
    }
  };
  for (const b of blocks) {
    if (b.t === "p") {
      const p = doc.createElement("p");
      inl(p, b.c);
      frag.appendChild(p);
    } else {
      const list = doc.createElement(b.t);
      for (const item of b.items) {
        const li = doc.createElement("li");
        inl(li, item);
        list.appendChild(li);
      }
      frag.appendChild(list);
    }
  }
  return frag;
}

/** A few common emoji for the composers' picker. */
export const EMOJI = [
  "😀", "😊", "😂", "🙂", "😉", "😍", "🤔", "😅",
  "😢", "😮", "🙏", "👍", "👎", "👋", "👏", "🙌",
  "🎉", "❤️", "🔥", "✅", "❌", "⭐", "💡", "📦",
  "🚚", "💳", "📧", "📞", "⏰", "🛒", "🎁", "😎",
];
