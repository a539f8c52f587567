// Files in the dashboard: the paperclip, a drop on the conversation and a paste into the reply
// box upload them; the tray above the box holds them until the next reply or note sends them;
// the thread shows images as previews and other files as chips with name and size.
//
// Uploads are kept per conversation in a signal, so a drop anywhere on the pane and the
// composer's tray see the same list, and switching conversations keeps each one's files.
import { signal } from "@preact/signals";
import { useRef, useState } from "preact/hooks";
import type { Attachment } from "../../generated/Attachment";
import { carriesFiles, fileSize, filesOf } from "../../shared/files";
import { api, ApiError, problemText } from "../api";
import { maxUpload } from "../store";

export type Upload = {
  key: number;
  conversationId: string;
  name: string;
  state: "uploading" | "ready" | "failed";
  file: Attachment | null;
  error: { text: string; code: string } | null;
};

export const uploads = signal<Upload[]>([]);
let nextKey = 1;

function patch(key: number, p: Partial<Upload>) {
  uploads.value = uploads.value.map((u) => (u.key === key ? { ...u, ...p } : u));
}

/** Uploads files to a conversation; each shows in its tray while it goes, then waits there. */
export function addFiles(conversationId: string, files: File[]) {
  for (const f of files) {
    const u: Upload = { key: nextKey++, conversationId, name: f.name || "Pasted image", state: "uploading", file: null, error: null };
    uploads.value = uploads.value.concat(u);
    if (f.size > maxUpload.value) {
      // Said at once, rather than after sending it all to be refused.
      patch(u.key, { state: "failed", error: { text: "Too large: files can be up to " + fileSize(maxUpload.value) + ".", code: "file_too_large" } });
      continue;
    }
    api.upload(conversationId, f).then(
      (file) => patch(u.key, { state: "ready", file }),
      (e) => patch(u.key, { state: "failed", error: { text: problemText(e), code: e instanceof ApiError ? e.code : "network" } }),
    );
  }
}

export function removeUpload(key: number) {
  uploads.value = uploads.value.filter((u) => u.key !== key);
}

/** A conversation's uploaded files waiting to be sent, and whether more are still uploading. */
export function filesToSend(conversationId: string): { ready: Attachment[]; uploading: boolean } {
  const mine = uploads.value.filter((u) => u.conversationId === conversationId);
  return {
    ready: mine.flatMap((u) => (u.state === "ready" && u.file ? [u.file] : [])),
    uploading: mine.some((u) => u.state === "uploading"),
  };
}

/** Takes a conversation's ready files out of its tray, to go with the message being sent. */
export function takeReady(conversationId: string): Attachment[] {
  const { ready } = filesToSend(conversationId);
  uploads.value = uploads.value.filter((u) => !(u.conversationId === conversationId && u.state === "ready"));
  return ready;
}

/** A paste of files into the reply box uploads them; a paste of text goes on as usual. */
export function pasteFiles(conversationId: string, e: ClipboardEvent) {
  const files = filesOf(e.clipboardData);
  if (!files.length) return;
  e.preventDefault();
  addFiles(conversationId, files);
}

/** Props that make an element a drop target for files, and whether files are over it now. */
export function useFileDrop(conversationId: string | null, onDropped: () => void) {
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  const accepts = (e: DragEvent) => conversationId !== null && carriesFiles(e.dataTransfer);
  const props = {
    onDragEnter: (e: DragEvent) => {
      if (!accepts(e)) return;
      depth.current++;
      setOver(true);
    },
    onDragOver: (e: DragEvent) => {
      if (accepts(e)) e.preventDefault();
    },
    onDragLeave: () => {
      if (depth.current > 0 && --depth.current === 0) setOver(false);
    },
    onDrop: (e: DragEvent) => {
      if (!accepts(e) || conversationId === null) return;
      e.preventDefault();
      depth.current = 0;
      setOver(false);
      addFiles(conversationId, filesOf(e.dataTransfer));
      onDropped();
    },
  };
  return { over, props };
}

export function DropOverlay() {
  return (
    <div class="drop-overlay" aria-hidden="true" data-testid="drop-overlay">
      <PaperclipIcon />
      Drop files to attach them
    </div>
  );
}

export function AttachButton({ conversationId, onPicked }: { conversationId: string; onPicked: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        data-testid="file-input"
        onChange={(e) => {
          addFiles(conversationId, Array.from(e.currentTarget.files || []));
          e.currentTarget.value = "";
          onPicked();
        }}
      />
      <button
        type="button"
        class="btn btn-small attach-button"
        aria-label="Attach files"
        title="Attach files (or drop or paste them)"
        data-testid="attach"
        onClick={() => input.current?.click()}
      >
        <PaperclipIcon />
      </button>
    </>
  );
}

/** The files waiting to go with the next reply or note of this conversation. */
export function UploadTray({ conversationId }: { conversationId: string }) {
  const mine = uploads.value.filter((u) => u.conversationId === conversationId);
  if (!mine.length) return null;
  return (
    <ul class="upload-tray" aria-label="Files to send" data-testid="upload-tray">
      {mine.map((u) => (
        <li key={u.key} class={"upload-chip is-" + u.state} data-testid="upload" data-state={u.state} data-name={u.name}>
          <FileIcon />
          <span class="upload-name" title={u.name}>
            {u.name}
          </span>
          <span class="upload-note" role={u.error ? "alert" : undefined}>
            {u.state === "uploading" ? "Uploading…" : u.file ? fileSize(u.file.size) : u.error ? u.error.text : ""}
            {u.error && <code>{u.error.code}</code>}
          </span>
          <button type="button" class="upload-remove" aria-label={"Remove " + u.name} onClick={() => removeUpload(u.key)}>
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}

/**
 * A message's files: images as previews (the browser sends the session cookie, and only raster
 * images are ever served inline), other files as chips that download under their safe name.
 */
export function MessageFiles({ files }: { files: Attachment[] }) {
  if (!files.length) return null;
  return (
    <div class="msg-files">
      {files.map((a) =>
        a.image ? (
          <a
            key={a.id}
            class="file-image"
            href={a.url}
            target="_blank"
            rel="noopener"
            data-testid="msg-file"
            data-name={a.name}
            title={a.name + " · " + fileSize(a.size)}
          >
            <img src={a.url} alt={a.name} loading="lazy" />
          </a>
        ) : (
          <a key={a.id} class="file-chip" href={a.url} download={a.name} data-testid="msg-file" data-name={a.name}>
            <FileIcon />
            <span class="file-name">{a.name}</span>
            <span class="file-size">{fileSize(a.size)}</span>
          </a>
        ),
      )}
    </div>
  );
}

/** Names of files on a message that is still on its way. */
export function PendingFiles({ files }: { files: Attachment[] }) {
  if (!files.length) return null;
  return (
    <div class="msg-files">
      {files.map((a) => (
        <span key={a.id} class="file-chip">
          <FileIcon />
          <span class="file-name">{a.name}</span>
        </span>
      ))}
    </div>
  );
}

function PaperclipIcon() {
  return (
    <svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
      <path d="m21.4 11.1-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5" />
    </svg>
  );
}

function FileIcon() {
  return (
    <svg class="file-icon" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
      <path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z" />
      <path d="M14 3v5h5" />
    </svg>
  );
}
