// Small helpers both apps use for files: sizes for people, and the files a drop or a paste
// carries. The rules about which files are accepted live on the server (crates/core/src/files.rs).

/** `12 bytes`, `320 KB`, `1.5 MB`, counted in powers of 1024 as the server's limit is. */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return bytes + " bytes";
  if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + " KB";
  return (Math.round((bytes / (1024 * 1024)) * 10) / 10).toString() + " MB";
}

/** Whether a drag carries files (not text or a link being dragged around the page). */
export function carriesFiles(dt: DataTransfer | null): boolean {
  return !!dt && Array.prototype.indexOf.call(dt.types, "Files") >= 0;
}

/** The files of a drop or a paste; none for text. */
export function filesOf(dt: DataTransfer | null): File[] {
  return dt && dt.files ? Array.from(dt.files) : [];
}

/** The upload URL's query for a file: its name, percent-encoded (a pasted image may have none). */
export function nameQuery(file: File): string {
  return "?name=" + encodeURIComponent(file.name || "pasted-image");
}
