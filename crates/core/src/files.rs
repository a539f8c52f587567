//! Files people send in a conversation: which kinds are accepted, told by their bytes (never by
//! the name or the browser's claim), the size limit, the safe name a file is shown and saved
//! under, and which kinds a browser may show inline.
//!
//! The rules, in short:
//! - A file is accepted only if its first bytes are one of a short list of kinds ([`FileKind`]):
//!   PNG, JPEG, GIF, WebP, PDF, ZIP (and the Office formats inside one), or plain UTF-8 text.
//!   Anything else (an executable, an unknown binary) is refused.
//! - Markup is refused, whatever its name: text that starts with `<` (HTML, SVG, XML) could run
//!   script if a browser ever rendered it.
//! - Only raster images ([`FileKind::inline`]) are ever shown inline; everything else is served
//!   as an attachment to save. The content type served is the sniffed kind's, never the
//!   uploader's.
//! - The name is cleaned ([`safe_name`]): no path, no control or direction-changing characters,
//!   bounded length, and an extension that agrees with the bytes (`x.html` holding text becomes
//!   `x.html.txt`), so a saved file opens as what it is.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use ts_rs::TS;

/// The default for `max_upload_bytes`: 10 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;
/// Most files one message may carry.
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 10;
/// Most characters of a file's shown name, extension included.
pub const MAX_FILE_NAME_CHARS: usize = 100;
/// How many of a file's first bytes [`sniff`] looks at.
pub const SNIFF_BYTES: usize = 4096;
/// Longest extension kept as one (`.docx`, `.jpeg`).
const MAX_EXTENSION_CHARS: usize = 8;

/// A file of a conversation: 128 random bits as 32 lowercase hex digits. It names the file in
/// download URLs and on disk, so it must not be guessable: it carries no time and no counter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(transparent)]
#[ts(export, type = "string")]
pub struct AttachmentId(pub String);

impl AttachmentId {
    /// A new id from 128 bits of randomness (the caller's: the core draws none).
    pub fn new(entropy: u128) -> Self {
        Self(format!("{entropy:032x}"))
    }
    /// Parses an id from untrusted input: exactly 32 lowercase hex digits.
    pub fn parse(s: &str) -> Result<Self, crate::input::InputError> {
        if s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(s.to_owned()))
        } else {
            Err(crate::input::InputError::BadId)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AttachmentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A file as clients see it, on the message that carries it (or as the upload's answer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Attachment {
    pub id: AttachmentId,
    /// The safe name ([`safe_name`]); shown as text, and the name a download is saved under.
    pub name: String,
    /// Told from the file's bytes ([`sniff`]), never from the uploader.
    pub content_type: String,
    #[ts(type = "number")]
    pub size: i64,
    /// Where to fetch it, relative to the server: `/files/{id}/{name}`. Agents' browsers send
    /// their session cookie; the widget sends the visitor token as `Authorization: Bearer`.
    pub url: String,
    /// A raster image (PNG, JPEG, GIF, WebP): clients may show it as a preview.
    pub image: bool,
}

impl Attachment {
    /// The wire form of a stored file.
    pub fn new(id: AttachmentId, name: String, content_type: String, size: i64) -> Self {
        let image = FileKind::from_content_type(&content_type).is_some_and(FileKind::inline);
        let url = download_path(&id, &name);
        Self {
            id,
            name,
            content_type,
            size,
            url,
            image,
        }
    }
}

/// The kinds of file Frontdesk accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Pdf,
    Zip,
    Docx,
    Xlsx,
    Pptx,
    Text,
}

const ALL_KINDS: [FileKind; 10] = [
    FileKind::Png,
    FileKind::Jpeg,
    FileKind::Gif,
    FileKind::Webp,
    FileKind::Pdf,
    FileKind::Zip,
    FileKind::Docx,
    FileKind::Xlsx,
    FileKind::Pptx,
    FileKind::Text,
];

impl FileKind {
    /// The content type it is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Pdf => "application/pdf",
            Self::Zip => "application/zip",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            Self::Text => "text/plain",
        }
    }

    /// The kind a stored content type names; `None` for anything this module never produces.
    pub fn from_content_type(ct: &str) -> Option<Self> {
        ALL_KINDS.into_iter().find(|k| k.content_type() == ct)
    }

    /// Extensions a file of this kind may have, lower case; the first is the one added when a
    /// name has none of them.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Png => &["png"],
            Self::Jpeg => &["jpg", "jpeg", "jfif"],
            Self::Gif => &["gif"],
            Self::Webp => &["webp"],
            Self::Pdf => &["pdf"],
            Self::Zip => &["zip"],
            Self::Docx => &["docx"],
            Self::Xlsx => &["xlsx"],
            Self::Pptx => &["pptx"],
            Self::Text => &["txt", "csv", "log", "md"],
        }
    }

    /// Whether a browser may show it inline (as an `<img>` or in its own tab). Raster images
    /// only: they cannot run script. SVG, HTML and everything else is only ever downloaded.
    pub fn inline(self) -> bool {
        matches!(self, Self::Png | Self::Jpeg | Self::Gif | Self::Webp)
    }
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {}", human_size(*max))]
    TooLarge { max: u64 },
    #[error(
        "this kind of file is not accepted: send an image (PNG, JPEG, GIF, WebP), a PDF, a text file, a ZIP or an Office document"
    )]
    NotAllowed,
    #[error("HTML, SVG and other markup files are not accepted")]
    Markup,
}

impl FileError {
    pub fn code(&self) -> crate::input::ErrorCode {
        use crate::input::ErrorCode;
        match self {
            FileError::TooLarge { .. } => ErrorCode::FileTooLarge,
            FileError::Empty | FileError::NotAllowed | FileError::Markup => {
                ErrorCode::FileTypeNotAllowed
            }
        }
    }
}

/// Checks a file's size against the limit.
pub fn check_size(size: u64, max: u64) -> Result<(), FileError> {
    if size == 0 {
        Err(FileError::Empty)
    } else if size > max {
        Err(FileError::TooLarge { max })
    } else {
        Ok(())
    }
}

/// Tells a file's kind from its first bytes (`head`, up to [`SNIFF_BYTES`]) and, only to tell
/// the Office formats from a plain ZIP, the extension of its name. `head` shorter than
/// [`SNIFF_BYTES`] is the whole file.
pub fn sniff(head: &[u8], name: &str) -> Result<FileKind, FileError> {
    let head = &head[..head.len().min(SNIFF_BYTES)];
    if head.is_empty() {
        return Err(FileError::Empty);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(FileKind::Png);
    }
    if head.starts_with(b"\xff\xd8\xff") {
        return Ok(FileKind::Jpeg);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Ok(FileKind::Gif);
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Ok(FileKind::Webp);
    }
    if head.starts_with(b"%PDF-") {
        return Ok(FileKind::Pdf);
    }
    if head.starts_with(b"PK\x03\x04") {
        // An Office document is a ZIP; which one is only in the entries, so trust the
        // extension between these three. All of them are served as attachments anyway.
        return Ok(match extension(name).as_deref() {
            Some("docx") => FileKind::Docx,
            Some("xlsx") => FileKind::Xlsx,
            Some("pptx") => FileKind::Pptx,
            _ => FileKind::Zip,
        });
    }
    if let Some(text) = as_text(head) {
        // Markup, as browsers sniff it: a `<` first (after a BOM and blank space). HTML, SVG
        // and XML could run script if anything ever rendered them.
        if text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('<')
        {
            return Err(FileError::Markup);
        }
        return Ok(FileKind::Text);
    }
    Err(FileError::NotAllowed)
}

/// `head` as text, if it is UTF-8 (allowing a character cut off at the end) without NUL or
/// other control characters than tab, line breaks, form feed and escape.
fn as_text(head: &[u8]) -> Option<&str> {
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // Cut in the middle of a character by the sniff window: the part before is the text.
        Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => {
            std::str::from_utf8(&head[..e.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    let plain = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c' | '\x1b'));
    plain.then_some(text)
}

/// The lower-cased extension of a name, if it has a plausible one.
fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    let ok = !stem.is_empty()
        && (1..=MAX_EXTENSION_CHARS).contains(&ext.chars().count())
        && ext.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then(|| ext.to_ascii_lowercase())
}

/// Characters that change the direction or visibility of text (`photo\u{202e}gnp.exe` shows as
/// `photoexe.png`): dropped from names.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}')
}

/// The name a file is shown and saved under: the last part of `raw` after any `/` or `\`,
/// without control or direction-changing characters, with `<>:"|?*` made `_`, runs of blank
/// space made one space, no leading or trailing dots or spaces, at most
/// [`MAX_FILE_NAME_CHARS`] characters (the extension is kept when cut), and an extension that
/// agrees with `kind` (one is added when it does not). Never empty: `file.ext` at worst.
pub fn safe_name(raw: &str, kind: FileKind) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    // Bounded work on hostile input: the start and the end (where the extension is) of a
    // name far longer than any kept one.
    const KEEP: usize = 8 * MAX_FILE_NAME_CHARS;
    let n = last.chars().count();
    let chars = last
        .chars()
        .take(KEEP)
        .chain(last.chars().skip(n.saturating_sub(KEEP).max(KEEP)));
    let mut name = String::with_capacity(last.len().min(4 * MAX_FILE_NAME_CHARS));
    let mut blank = false;
    for c in chars {
        if c.is_whitespace() {
            blank = true;
            continue;
        }
        if c.is_control() || invisible(c) {
            continue;
        }
        if blank && !name.is_empty() {
            name.push(' ');
        }
        blank = false;
        name.push(if "<>:\"|?*".contains(c) { '_' } else { c });
    }
    let trim = |s: &str| s.trim_matches(|c: char| c == '.' || c == ' ').to_owned();
    let name = trim(&name);
    let (stem, ext) = match extension(&name) {
        Some(ext) if kind.extensions().contains(&ext.as_str()) => {
            let at = name.len() - ext.len() - 1;
            (trim(&name[..at]), name[at + 1..].to_owned())
        }
        _ => (name, kind.extensions()[0].to_owned()),
    };
    let room = MAX_FILE_NAME_CHARS - ext.chars().count() - 1;
    let mut stem = trim(&crate::input::clip_chars(&stem, room));
    if stem.is_empty() {
        stem = "file".into();
    }
    // Names Windows keeps for devices cannot be saved there.
    let base = stem.split('.').next().unwrap_or("").to_ascii_uppercase();
    let reserved = matches!(base.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((base.starts_with("COM") || base.starts_with("LPT"))
            && base.len() == 4
            && base.as_bytes()[3].is_ascii_digit());
    if reserved {
        stem.insert(0, '_');
    }
    format!("{stem}.{ext}")
}

/// `/files/{id}/{name}`, the name percent-encoded. The name in the path is only for people and
/// for browsers that save under it; the server finds the file by its id alone.
pub fn download_path(id: &AttachmentId, name: &str) -> String {
    format!("/files/{}/{}", id.as_str(), percent_encode(name, b"-._~"))
}

/// The `Content-Disposition` of a download: `inline` or `attachment`, with the name as an
/// ASCII fallback (anything else made `_`) and in full as RFC 8187 UTF-8.
pub fn content_disposition(name: &str, inline: bool) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        percent_encode(name, b"!#$&+-.^_`|~")
    )
}

/// Percent-encodes every byte but ASCII letters, digits and `keep`.
fn percent_encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `1.5 MB`, `320 KB`, `12 bytes`: a size for people (powers of 1024, as the limit is set).
pub fn human_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    if bytes >= MB {
        let tenths = (bytes * 10 + MB / 2) / MB;
        if tenths.is_multiple_of(10) {
            format!("{} MB", tenths / 10)
        } else {
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    } else if bytes >= KB {
        format!("{} KB", (bytes + KB / 2) / KB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn kinds_are_told_by_their_bytes() {
        assert_eq!(sniff(PNG, "x"), Ok(FileKind::Png));
        assert_eq!(
            sniff(b"\xff\xd8\xff\xe0\0\x10JFIF", "a.png"),
            Ok(FileKind::Jpeg)
        );
        assert_eq!(sniff(b"GIF89a\x01\0", ""), Ok(FileKind::Gif));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 ", ""), Ok(FileKind::Webp));
        assert_eq!(sniff(b"%PDF-1.7\n", "x.txt"), Ok(FileKind::Pdf));
        assert_eq!(sniff(b"PK\x03\x04\x14\0", "a.zip"), Ok(FileKind::Zip));
        assert_eq!(
            sniff(b"PK\x03\x04\x14\0", "Report.DOCX"),
            Ok(FileKind::Docx)
        );
        assert_eq!(sniff(b"PK\x03\x04\x14\0", "a.xlsx"), Ok(FileKind::Xlsx));
        assert_eq!(sniff(b"PK\x03\x04\x14\0", "a.pptx"), Ok(FileKind::Pptx));
        assert_eq!(sniff(b"PK\x03\x04\x14\0", "a.exe"), Ok(FileKind::Zip));
        assert_eq!(
            sniff("Grüße,\r\n\ttab\x1b[0m".as_bytes(), ""),
            Ok(FileKind::Text)
        );
    }

    #[test]
    fn markup_is_refused_whatever_it_is_called() {
        for bytes in [
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"[..],
            b"<?xml version=\"1.0\"?><svg/>",
            b"<!DOCTYPE html><html><body>hi",
            b"\xef\xbb\xbf  \n\t<html>",
            b"<script>alert(1)</script>",
        ] {
            assert_eq!(sniff(bytes, "photo.png"), Err(FileError::Markup));
        }
    }

    #[test]
    fn executables_and_unknown_binaries_are_refused() {
        assert_eq!(
            sniff(b"MZ\x90\0\x03\0\0\0", "a.png"),
            Err(FileError::NotAllowed)
        );
        assert_eq!(
            sniff(b"\x7fELF\x02\x01\x01", "a.txt"),
            Err(FileError::NotAllowed)
        );
        assert_eq!(sniff(b"\0\0\0\0", ""), Err(FileError::NotAllowed));
        assert_eq!(sniff(b"", "a.txt"), Err(FileError::Empty));
        // Invalid UTF-8 in the middle is not text.
        assert_eq!(sniff(b"abc\xffdef", ""), Err(FileError::NotAllowed));
    }

    #[test]
    fn text_cut_mid_character_by_the_window_is_still_text() {
        let mut head = "a".repeat(SNIFF_BYTES - 1).into_bytes();
        head.extend_from_slice("é".as_bytes());
        assert_eq!(sniff(&head, ""), Ok(FileKind::Text));
    }

    #[test]
    fn only_raster_images_are_inline() {
        let inline: Vec<_> = ALL_KINDS.into_iter().filter(|k| k.inline()).collect();
        assert_eq!(
            inline,
            [FileKind::Png, FileKind::Jpeg, FileKind::Gif, FileKind::Webp]
        );
        for k in ALL_KINDS {
            assert_eq!(FileKind::from_content_type(k.content_type()), Some(k));
            assert!(!k.content_type().contains("html") && !k.content_type().contains("svg"));
        }
        assert_eq!(FileKind::from_content_type("image/svg+xml"), None);
        assert!(Attachment::new(AttachmentId::new(1), "a.png".into(), "image/png".into(), 1).image);
        assert!(
            !Attachment::new(
                AttachmentId::new(1),
                "a.pdf".into(),
                "application/pdf".into(),
                1
            )
            .image
        );
    }

    #[test]
    fn sizes_are_checked() {
        assert_eq!(check_size(0, 10), Err(FileError::Empty));
        assert_eq!(check_size(10, 10), Ok(()));
        assert_eq!(check_size(11, 10), Err(FileError::TooLarge { max: 10 }));
        assert_eq!(
            FileError::TooLarge {
                max: DEFAULT_MAX_UPLOAD_BYTES
            }
            .to_string(),
            "the file is larger than 10 MB"
        );
        assert_eq!(human_size(1536 * 1024), "1.5 MB");
        assert_eq!(human_size(2047), "2 KB");
        assert_eq!(human_size(12), "12 bytes");
    }

    #[test]
    fn names_lose_their_paths_and_hostile_characters() {
        use FileKind::*;
        let cases: &[(&str, FileKind, &str)] = &[
            ("../../etc/passwd", Text, "passwd.txt"),
            ("..\\..\\windows\\win.ini", Text, "win.ini.txt"),
            ("..\\x", Png, "x.png"),
            ("..", Png, "file.png"),
            ("", Pdf, "file.pdf"),
            ("/", Pdf, "file.pdf"),
            ("a\0b.png", Png, "ab.png"),
            ("evil\u{202e}gnp.exe", Png, "evilgnp.exe.png"),
            ("page.html", Text, "page.html.txt"),
            ("photo.svg", Png, "photo.svg.png"),
            ("Photo.JPG", Jpeg, "Photo.JPG"),
            ("  .hidden  ", Text, "hidden.txt"),
            ("a  b\t\nc.pdf", Pdf, "a b c.pdf"),
            ("what?<is>:this|*\".txt", Text, "what__is__this___.txt"),
            ("CON.txt", Text, "_CON.txt"),
            ("com1.tar.txt", Text, "_com1.tar.txt"),
            ("Über Straße.pdf", Pdf, "Über Straße.pdf"),
            ("report.pdf.", Pdf, "report.pdf"),
        ];
        for (raw, kind, want) in cases {
            assert_eq!(safe_name(raw, *kind), *want, "{raw:?}");
        }
    }

    #[test]
    fn long_names_are_cut_keeping_the_extension() {
        let n = safe_name(&format!("{}.jpeg", "x".repeat(100_000)), FileKind::Jpeg);
        assert!(n.ends_with("x.jpeg"), "{n}");
        let n = safe_name(&format!("{}.pdf", "x".repeat(10_000)), FileKind::Pdf);
        assert_eq!(n.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(n.ends_with("x.pdf"));
        let n = safe_name(&"é".repeat(500), FileKind::Png);
        assert_eq!(n.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(n.ends_with(".png"));
    }

    #[test]
    fn ids_are_128_random_bits_in_hex() {
        let id = AttachmentId::new(u128::MAX);
        assert_eq!(id.as_str(), "f".repeat(32));
        assert_eq!(AttachmentId::new(1).as_str().len(), 32);
        assert!(AttachmentId::parse(id.as_str()).is_ok());
        for bad in [
            "",
            "../../etc/passwd",
            &"F".repeat(32),
            &"a".repeat(31),
            &"a".repeat(33),
        ] {
            assert!(AttachmentId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn downloads_name_the_file_safely() {
        let id = AttachmentId::new(0xab);
        assert_eq!(
            download_path(&id, "a b/ü.png"),
            format!("/files/{}/a%20b%2F%C3%BC.png", id.as_str())
        );
        assert_eq!(
            content_disposition("Grüße \"x\".pdf", false),
            "attachment; filename=\"Gr__e _x_.pdf\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%22x%22.pdf"
        );
        assert!(content_disposition("a.png", true).starts_with("inline; "));
    }

    fn any_kind() -> impl Strategy<Value = FileKind> {
        (0..ALL_KINDS.len()).prop_map(|i| ALL_KINDS[i])
    }

    proptest! {
        #[test]
        fn safe_names_are_safe_whatever_comes_in(raw in "\\PC{0,300}|[./\\\\\\x00-\\x1f \u{202e}a]{0,40}", kind in any_kind()) {
            let n = safe_name(&raw, kind);
            prop_assert!(!n.is_empty());
            prop_assert!(n.chars().count() <= MAX_FILE_NAME_CHARS);
            prop_assert!(!n.contains(['/', '\\']));
            prop_assert!(!n.chars().any(|c| c.is_control() || invisible(c) || "<>:\"|?*".contains(c)));
            prop_assert!(!n.starts_with('.') && !n.starts_with(' ') && !n.ends_with(' '));
            let ext = extension(&n).unwrap();
            prop_assert!(kind.extensions().contains(&ext.as_str()));
            // Cleaning is done once: a clean name stays as it is.
            prop_assert_eq!(safe_name(&n, kind), n.clone());
        }

        #[test]
        fn sniffing_never_panics_and_never_accepts_markup(bytes in proptest::collection::vec(any::<u8>(), 0..64), lead in "[ \t\r\n]{0,4}") {
            let _ = sniff(&bytes, "x.png");
            let mut markup = lead.into_bytes();
            markup.push(b'<');
            markup.extend_from_slice(&bytes);
            prop_assert!(sniff(&markup, "x.txt").is_err(), "{:?}", markup);
        }

        #[test]
        fn dispositions_never_break_out_of_their_header(name in "\\PC{0,120}", inline in any::<bool>()) {
            let d = content_disposition(&name, inline);
            prop_assert!(d.is_ascii());
            prop_assert!(!d.chars().any(|c| c.is_control()));
            // The quoted name holds no quote or backslash of its own.
            let quoted = d.split('"').nth(1).unwrap();
            prop_assert!(!quoted.contains('\\'));
            prop_assert_eq!(d.matches('"').count(), 2);
        }
    }
}
