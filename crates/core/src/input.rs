//! Inputs parsed once at the edge ("parse, don't validate"). A value of these types is known to
//! be within its limits, so the rest of the code never re-checks it.

use serde::Serialize;
use thiserror::Error;
use ts_rs::TS;

/// Most characters a message may carry. Large enough for a pasted log, small enough to bound memory.
pub const MAX_MESSAGE_CHARS: usize = 5_000;
/// Most bytes a client id may have.
pub const MAX_CLIENT_ID_BYTES: usize = 64;
pub const MAX_NAME_CHARS: usize = 120;
pub const MAX_EMAIL_BYTES: usize = 254;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;
pub const MAX_URL_BYTES: usize = 2_048;

/// Why an input was refused. Each variant has a stable snake_case code that clients can match.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InputError {
    #[error("message text is empty")]
    MessageEmpty,
    #[error("message text is longer than {MAX_MESSAGE_CHARS} characters")]
    MessageTooLong,
    #[error("client id must be 1 to {MAX_CLIENT_ID_BYTES} characters of A-Z, a-z, 0-9, '-' or '_'")]
    BadClientId,
    #[error("not a valid id")]
    BadId,
    #[error("name must be 1 to {MAX_NAME_CHARS} characters")]
    BadName,
    #[error("not a valid email address")]
    BadEmail,
    #[error("password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")]
    BadPassword,
    #[error("not a valid http(s) URL of at most {MAX_URL_BYTES} bytes")]
    BadUrl,
    #[error("not a valid domain name")]
    BadDomain,
}

impl InputError {
    pub fn code(&self) -> ErrorCode {
        match self {
            InputError::MessageEmpty => ErrorCode::MessageEmpty,
            InputError::MessageTooLong => ErrorCode::MessageTooLong,
            InputError::BadClientId => ErrorCode::InvalidClientId,
            InputError::BadId => ErrorCode::InvalidId,
            InputError::BadName => ErrorCode::InvalidName,
            InputError::BadEmail => ErrorCode::InvalidEmail,
            InputError::BadPassword => ErrorCode::InvalidPassword,
            InputError::BadUrl => ErrorCode::InvalidUrl,
            InputError::BadDomain => ErrorCode::InvalidDomain,
        }
    }
}

/// Every error code the API and the socket can return. Exported to TypeScript, so the clients
/// can match on them; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    MessageEmpty,
    MessageTooLong,
    InvalidClientId,
    InvalidId,
    InvalidName,
    InvalidEmail,
    InvalidPassword,
    InvalidUrl,
    InvalidDomain,
    InvalidJson,
    InvalidFrame,
    FrameTooLarge,
    BodyTooLarge,
    UnsupportedVersion,
    HelloRequired,
    UnknownSiteKey,
    InvalidVisitorToken,
    VisitorTokenExpired,
    Unauthenticated,
    InvalidCredentials,
    Forbidden,
    CsrfRejected,
    NotFound,
    Conflict,
    AlreadyAssigned,
    /// The agent already holds as many chats as their limit allows.
    AgentAtCapacity,
    InvalidTransition,
    /// A settings body is well-formed JSON but breaks a rule (an unknown team, bad hours).
    InvalidSettings,
    /// The visitor (or their address) is banned from this organization's chat.
    Banned,
    SetupDone,
    InvalidSetupToken,
    RateLimited,
    Unavailable,
    Internal,
    /// A canned response's shortcut is not 1–32 of `a-z`, `0-9`, `-`, `_`.
    InvalidShortcut,
    /// A canned response's title is empty, too long or not on one line.
    InvalidTitle,
    /// A canned response's text names a variable that does not exist.
    UnknownVariable,
    /// There are already as many of these as allowed (canned responses per agent, say).
    LimitReached,
    /// A proactive chat with a visitor whose widget is not connected now.
    VisitorOffline,
    /// A tag name is empty, longer than 40 characters, or has control characters.
    InvalidTagName,
    /// A query parameter of a list's filter is malformed (`GET /api/v1/conversations`,
    /// `GET /api/v1/contacts`).
    InvalidFilter,
    /// A contact's phone number is not digits with spaces, `-`, `(`, `)` and a leading `+`.
    InvalidPhone,
    /// A contact's company name is too long or has control characters.
    InvalidCompany,
    /// A custom attribute's key or value breaks a rule, or a contact would have too many.
    InvalidAttribute,
    /// Two contacts cannot be merged (a contact with itself).
    InvalidMerge,
    /// An uploaded file is larger than `max_upload_bytes`.
    FileTooLarge,
    /// An uploaded file is empty, markup (HTML, SVG, XML), or of a kind not accepted
    /// (`crates/core/src/files.rs`).
    FileTypeNotAllowed,
    /// A search is empty (no letter or digit), longer than 200 characters, has more than 16
    /// words, or asks for a bad limit (`GET /api/v1/search`).
    InvalidSearch,
    // Widget look (`crates/core/src/widget.rs`).
    /// A widget colour is not `#rrggbb` (or `#rgb`).
    InvalidColor,
    /// A widget text (launcher label, welcome) is too long or has control characters.
    InvalidWidgetText,
    /// A page rule of the widget's look is malformed, or names a team that does not exist.
    InvalidPageRule,
    /// A pre-chat form's answers break a field's rule; the body's `fields` names each field
    /// and why (`POST /api/v1/widget/prechat`).
    InvalidForm,
    /// A rating's scores are not 1–5, its comment is too long, or it rates what the site does
    /// not ask (`POST /api/v1/widget/rating`).
    InvalidRating,
    /// A rating for a conversation that is not resolved.
    NotResolved,
    /// A proactive trigger breaks a rule (a bad condition, name or per-visit cap; see
    /// `crates/core/src/triggers.rs`).
    InvalidTrigger,
    /// A trigger's greeting is empty or longer than 500 characters.
    InvalidGreeting,
    /// `identify` on a site that verifies identities, without a valid `hash` for the id (or
    /// with a malformed id): the visitor stays who they were.
    IdentityInvalid,
    /// A tracked event's name or data breaks a rule (`crates/core/src/identity.rs`).
    InvalidEvent,
    /// A widget request from a page whose origin is not one of the site's allowed domains
    /// (`GET /api/v1/widget/config`, `POST /api/v1/widget/session`).
    OriginNotAllowed,
}

/// Text of a message, as typed: trimmed of surrounding blank space only, never rewritten or
/// escaped. Rendering is the client's job, and clients render it as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(InputError::MessageEmpty);
        }
        if t.chars().count() > MAX_MESSAGE_CHARS {
            return Err(InputError::MessageTooLong);
        }
        Ok(Self(t.to_owned()))
    }
    /// Like [`MessageText::parse`], but a message that carries files may have no text (an
    /// image on its own): blank text is then stored as empty.
    pub fn parse_with_files(raw: &str, has_files: bool) -> Result<Self, InputError> {
        match Self::parse(raw) {
            Err(InputError::MessageEmpty) if has_files => Ok(Self(String::new())),
            r => r,
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

/// The id a client gives a message before sending it; a retry carries the same one, so the
/// server can store the message once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_CLIENT_ID_BYTES
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InputError::BadClientId)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name for a person or a thing (agent, organization, website).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let t = raw.trim();
        let n = t.chars().count();
        if n == 0 || n > MAX_NAME_CHARS || t.chars().any(char::is_control) {
            return Err(InputError::BadName);
        }
        Ok(Self(t.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, lower-cased. Checks the shape only; delivery proves the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let t = raw.trim().to_lowercase();
        let valid = t.len() <= MAX_EMAIL_BYTES
            && !t
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c))
            && match t.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains("..")
                }
                None => false,
            };
        if valid {
            Ok(Self(t))
        } else {
            Err(InputError::BadEmail)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed; only its length is checked. Never logged, never stored.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let n = raw.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
            return Err(InputError::BadPassword);
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A website's domain (host name, optionally with a port), lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain(String);

impl Domain {
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let t = raw.trim().trim_end_matches('/').to_lowercase();
        let t = t
            .strip_prefix("https://")
            .or_else(|| t.strip_prefix("http://"))
            .unwrap_or(&t)
            .to_owned();
        let valid = !t.is_empty()
            && t.len() <= 253
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':')
            && !t.starts_with('.')
            && !t.starts_with('-');
        if valid {
            Ok(Self(t))
        } else {
            Err(InputError::BadDomain)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Cuts untrusted context text (a page URL, a referrer, a title) to a bound, on a char boundary.
/// Context is informational, so an over-long value is shortened rather than refused.
pub fn clip(s: &str, max_bytes: usize) -> String {
    if s.len() <= max_bytes {
        return s.to_owned();
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// The first `max_chars` characters of `s`.
pub fn clip_chars(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((end, _)) => s[..end].to_owned(),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn message_text_is_stored_as_typed() {
        let t = MessageText::parse("  <b>hi</b> & <script>x</script> ").unwrap();
        assert_eq!(t.as_str(), "<b>hi</b> & <script>x</script>");
    }

    #[test]
    fn message_text_limits() {
        assert_eq!(MessageText::parse("   \n"), Err(InputError::MessageEmpty));
        assert!(MessageText::parse(&"é".repeat(MAX_MESSAGE_CHARS)).is_ok());
        assert_eq!(
            MessageText::parse(&"a".repeat(MAX_MESSAGE_CHARS + 1)),
            Err(InputError::MessageTooLong)
        );
    }

    #[test]
    fn a_message_with_files_may_have_no_text() {
        assert_eq!(
            MessageText::parse_with_files("  ", true).unwrap().as_str(),
            ""
        );
        assert_eq!(
            MessageText::parse_with_files("  ", false),
            Err(InputError::MessageEmpty)
        );
        assert_eq!(
            MessageText::parse_with_files(&"a".repeat(MAX_MESSAGE_CHARS + 1), true),
            Err(InputError::MessageTooLong)
        );
    }

    #[test]
    fn client_id_rules() {
        assert!(ClientId::parse("c-1_A").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse("a b").is_err());
        assert!(ClientId::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "a",
            "a@b",
            "@b.c",
            "a@b..c",
            "a b@c.d",
            "a@b.c@d.e",
            "<a@b.c>",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn domains() {
        assert_eq!(
            Domain::parse("https://Shop.Example.com/").unwrap().as_str(),
            "shop.example.com"
        );
        assert_eq!(
            Domain::parse("localhost:8080").unwrap().as_str(),
            "localhost:8080"
        );
        assert!(Domain::parse("evil.com/<script>").is_err());
    }

    #[test]
    fn names_and_passwords() {
        assert!(Name::parse(" Ann ").is_ok());
        assert!(Name::parse("").is_err());
        assert!(Name::parse("a\u{0}b").is_err());
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("long enough").is_ok());
        assert_eq!(
            format!("{:?}", Password::parse("long enough").unwrap()),
            "Password(..)"
        );
    }

    proptest! {
        #[test]
        fn message_text_never_exceeds_limit_and_never_panics(s in ".{0,6000}") {
            if let Ok(t) = MessageText::parse(&s) {
                prop_assert!(t.as_str().chars().count() <= MAX_MESSAGE_CHARS);
                prop_assert!(!t.as_str().trim().is_empty());
            }
        }

        #[test]
        fn clip_chars_keeps_a_prefix_of_at_most_n_chars(s in ".{0,300}", n in 0usize..300) {
            let c = clip_chars(&s, n);
            prop_assert!(c.chars().count() <= n);
            prop_assert!(s.starts_with(&c));
            prop_assert_eq!(c.chars().count(), s.chars().count().min(n));
        }

        #[test]
        fn clip_respects_bound(s in ".{0,300}", n in 0usize..300) {
            let c = clip(&s, n);
            prop_assert!(c.len() <= n || c == s);
            prop_assert!(s.starts_with(&c));
        }
    }
}
