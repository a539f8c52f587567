// A small emoji picker for the composer: a button, a grid, Escape closes, arrow keys move.

import { useEffect, useRef, useState } from "preact/hooks";
import { EMOJI } from "../../shared/rich";

export function EmojiButton({ onPick }: { onPick: (emoji: string) => void }) {
  const [open, setOpen] = useState(false);
  const grid = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (open) grid.current?.querySelector<HTMLButtonElement>("button")?.focus();
  }, [open]);
  const move = (e: KeyboardEvent) => {
    const buttons = Array.from(grid.current?.querySelectorAll<HTMLButtonElement>("button") ?? []);
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 8, ArrowUp: -8 }[e.key];
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
    } else if (step !== undefined && at >= 0) {
      e.preventDefault();
      buttons[Math.max(0, Math.min(buttons.length - 1, at + step))]?.focus();
    }
  };
  return (
    <span class="emoji">
      <button
        type="button"
        class="btn btn-small"
        aria-label="Insert an emoji"
        aria-expanded={open}
        data-testid="emoji-button"
        onClick={() => setOpen(!open)}
      >
        😊
      </button>
      {open && (
        <div class="emoji-grid" role="group" aria-label="Emoji" ref={grid} onKeyDown={move} data-testid="emoji-grid">
          {EMOJI.map((e) => (
            <button
              key={e}
              type="button"
              aria-label={e}
              onClick={() => {
                onPick(e);
                setOpen(false);
              }}
            >
              {e}
            </button>
          ))}
        </div>
      )}
    </span>
  );
}
