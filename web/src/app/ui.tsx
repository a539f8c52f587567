// Small shared pieces of the dashboard's UI.
import type { ComponentChildren } from "preact";
import { useRef, useState } from "preact/hooks";
import type { ConversationStatus } from "../generated/ConversationStatus";
import { type Inline, parse } from "../shared/rich";
import { splitLinks } from "../shared/text";

/** Message text: plain text, with http(s) addresses as links. Never markup. */
/** An agent's message or note: their bit of Markdown, as elements and text (never HTML). */
export function Rich({ text }: { text: string }) {
  return <>{parse(text, true).map((b, i) => (b.t === "p" ? <p key={i}>{inlines(b.c)}</p> : <List key={i} kind={b.t} items={b.items} />))}</>;
}

function List({ kind, items }: { kind: "ul" | "ol"; items: Inline[][] }) {
  const li = items.map((it, i) => <li key={i}>{inlines(it)}</li>);
  return kind === "ul" ? <ul>{li}</ul> : <ol>{li}</ol>;
}

function inlines(list: Inline[]): ComponentChildren {
  return list.map((x, i) => {
    switch (x.t) {
      case "text":
        return x.v;
      case "code":
        return <code key={i}>{x.v}</code>;
      case "b":
        return <strong key={i}>{inlines(x.c)}</strong>;
      case "i":
        return <em key={i}>{inlines(x.c)}</em>;
      case "a":
        return (
          <a key={i} href={x.href} target="_blank" rel="noopener noreferrer nofollow ugc">
            {inlines(x.c)}
          </a>
        );
    }
  });
}

export function Text({ text }: { text: string }) {
  return (
    <>
      {splitLinks(text).map((r, i) =>
        r.href ? (
          <a key={i} href={r.href} target="_blank" rel="noopener noreferrer">
            {r.text}
          </a>
        ) : (
          r.text
        ),
      )}
    </>
  );
}

const STATUS_LABEL: Record<ConversationStatus, string> = { open: "Open", assigned: "Assigned", resolved: "Resolved" };

export function StatusBadge({ status }: { status: ConversationStatus }) {
  return <span class={"badge st-" + status}>{STATUS_LABEL[status]}</span>;
}

export type TickState = "pending" | "sent" | "delivered" | "read";
const TICK_LABEL: Record<TickState, string> = { pending: "Sending", sent: "Sent", delivered: "Delivered", read: "Read" };

export function Tick({ state }: { state: TickState }) {
  return (
    <span class={"tick tick-" + state} role="img" aria-label={TICK_LABEL[state]} title={TICK_LABEL[state]}>
      {state === "pending" ? <ClockIcon /> : state === "sent" ? "\u2713" : "\u2713\u2713"}
    </span>
  );
}

function ClockIcon() {
  return (
    <svg viewBox="0 0 24 24" width="12" height="12" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" aria-hidden="true">
      <path d="M12 7v5l3 2M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0z" />
    </svg>
  );
}

/** The install snippet in a <pre>, with a Copy button. */
export function Snippet({ code, testId }: { code: string; testId?: string }) {
  const [copied, setCopied] = useState<"idle" | "done" | "failed">("idle");
  const preRef = useRef<HTMLPreElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(code);
      setCopied("done");
    } catch (_) {
      // No clipboard permission: select the text so Ctrl+C works.
      const pre = preRef.current;
      if (pre) {
        const range = document.createRange();
        range.selectNodeContents(pre);
        const sel = getSelection();
        sel?.removeAllRanges();
        sel?.addRange(range);
      }
      setCopied("failed");
    }
    setTimeout(() => setCopied("idle"), 2000);
  };
  return (
    <div class="snippet">
      <pre ref={preRef} data-testid={testId}>
        {code}
      </pre>
      <button type="button" class="btn btn-small" onClick={copy}>
        {copied === "done" ? "Copied" : copied === "failed" ? "Press Ctrl+C" : "Copy"}
      </button>
    </div>
  );
}

export function ErrorNote({ text }: { text: string | null }) {
  return text ? (
    <p class="form-error" role="alert">
      {text}
    </p>
  ) : null;
}
