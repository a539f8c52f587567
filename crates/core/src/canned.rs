//! Canned responses: replies an agent inserts by typing a shortcut (`/hello`) instead of writing
//! them again. A **shared** one belongs to the organization and only admins change it; a
//! **personal** one belongs to one agent, and nobody else sees it.
//!
//! Owns the rules of a shortcut, a title and a body, the template variables a body may use, and
//! the one renderer that fills them in ([`render`]); the server renders, the dashboard only shows
//! the result.
//!
//! Rendering rules (each proved by a test below):
//! - A variable is `{{name}}`, spaces allowed inside the braces: `{{ agent.name }}`.
//! - A known variable without a value gets a friendly word: a contact without a name is
//!   "there" (`Hi {{contact.first_name}}` → "Hi there"), one without an email is
//!   "your email address".
//! - Anything else is left exactly as typed: an unknown variable (`{{order.id}}`), a lone
//!   `{{`, braces around words. Saving a body with an unknown variable is refused
//!   ([`CannedBody::parse`]), so this only matters for text that never went through it.
//! - Values are inserted once, as plain text: a contact called `{{agent.name}}` or
//!   `<b>Ann</b>` stays exactly that. The renderer escapes nothing and adds no markup; clients
//!   render messages as text.
//! - It never panics, whatever the input.

use crate::Millis;
use crate::ids::{new_v7, typed_id};
use crate::input::{ErrorCode, MAX_MESSAGE_CHARS};
use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;
use ts_rs::TS;

/// Longest shortcut, in characters (all ASCII).
pub const MAX_SHORTCUT: usize = 32;
/// Longest title, in characters.
pub const MAX_TITLE: usize = 80;
/// Longest body, in characters: a body is meant to be sent as one message.
pub const MAX_BODY: usize = MAX_MESSAGE_CHARS;
/// Most shared canned responses an organization may have.
pub const MAX_SHARED: usize = 500;
/// Most personal canned responses one agent may have.
pub const MAX_PERSONAL: usize = 200;
/// What a contact's name becomes when it is not known: "Hi there".
pub const NAME_FALLBACK: &str = "there";
/// What a contact's email becomes when it is not known.
pub const EMAIL_FALLBACK: &str = "your email address";

typed_id!(
    /// One canned response.
    CannedResponseId
);

/// Whose a canned response is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CannedScope {
    /// The organization's: every agent sees it, admins change it.
    Shared,
    /// One agent's own: only they see and change it.
    Personal,
}

/// A variable a body may use. The names are what is typed between `{{` and `}}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub enum CannedVariable {
    /// The first word of the contact's name, or "there".
    #[serde(rename = "contact.first_name")]
    ContactFirstName,
    /// The contact's full name, or "there".
    #[serde(rename = "contact.name")]
    ContactName,
    /// The contact's email address, or "your email address".
    #[serde(rename = "contact.email")]
    ContactEmail,
    /// The full name of the agent who inserts the reply.
    #[serde(rename = "agent.name")]
    AgentName,
    /// The first word of that agent's name.
    #[serde(rename = "agent.first_name")]
    AgentFirstName,
    /// The name of the website the conversation came from.
    #[serde(rename = "website.name")]
    WebsiteName,
}

impl CannedVariable {
    pub const ALL: [CannedVariable; 6] = [
        Self::ContactFirstName,
        Self::ContactName,
        Self::ContactEmail,
        Self::AgentName,
        Self::AgentFirstName,
        Self::WebsiteName,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContactFirstName => "contact.first_name",
            Self::ContactName => "contact.name",
            Self::ContactEmail => "contact.email",
            Self::AgentName => "agent.name",
            Self::AgentFirstName => "agent.first_name",
            Self::WebsiteName => "website.name",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == name)
    }
}

/// Why a canned response was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CannedError {
    #[error(
        "a shortcut is 1 to {MAX_SHORTCUT} lowercase letters, digits, '-' or '_' (typed after '/')"
    )]
    BadShortcut,
    #[error("a title is 1 to {MAX_TITLE} characters on one line")]
    BadTitle,
    #[error("the reply text is empty")]
    BodyEmpty,
    #[error("the reply text is longer than {MAX_BODY} characters")]
    BodyTooLong,
    #[error("{{{{{0}}}}} is not a variable; use one of {list}", list = variable_list())]
    UnknownVariable(String),
}

fn variable_list() -> String {
    CannedVariable::ALL
        .iter()
        .map(|v| format!("{{{{{}}}}}", v.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl CannedError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadShortcut => ErrorCode::InvalidShortcut,
            Self::BadTitle => ErrorCode::InvalidTitle,
            Self::BodyEmpty => ErrorCode::MessageEmpty,
            Self::BodyTooLong => ErrorCode::MessageTooLong,
            Self::UnknownVariable(_) => ErrorCode::UnknownVariable,
        }
    }
}

/// What follows `/` in the composer: `hello`, `refund-policy`, `faq_2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortcut(String);

impl Shortcut {
    /// Trims, drops one leading `/` (people type it) and lower-cases ASCII letters, then checks
    /// the rest: 1 to 32 of `a-z`, `0-9`, `-`, `_`.
    pub fn parse(raw: &str) -> Result<Self, CannedError> {
        let t = raw.trim();
        let t = t.strip_prefix('/').unwrap_or(t).to_ascii_lowercase();
        let ok = !t.is_empty()
            && t.len() <= MAX_SHORTCUT
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(t))
        } else {
            Err(CannedError::BadShortcut)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the picker and the settings list show beside the shortcut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedTitle(String);

impl CannedTitle {
    pub fn parse(raw: &str) -> Result<Self, CannedError> {
        let t = raw.trim();
        let n = t.chars().count();
        if n == 0 || n > MAX_TITLE || t.chars().any(char::is_control) {
            return Err(CannedError::BadTitle);
        }
        Ok(Self(t.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of a canned response: trimmed, within [`MAX_BODY`], and using only known
/// variables (a typo such as `{{contact.frist_name}}` is refused when saved, not sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedBody(String);

impl CannedBody {
    pub fn parse(raw: &str) -> Result<Self, CannedError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(CannedError::BodyEmpty);
        }
        if t.chars().count() > MAX_BODY {
            return Err(CannedError::BodyTooLong);
        }
        if let Some(unknown) = scan(t).into_iter().find_map(|p| match p {
            Piece::Unknown { name, .. } => Some(name),
            _ => None,
        }) {
            return Err(CannedError::UnknownVariable(unknown.to_owned()));
        }
        Ok(Self(t.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The values the variables take in one conversation. `None` and blank values fall back.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderContext<'a> {
    pub contact_name: Option<&'a str>,
    pub contact_email: Option<&'a str>,
    pub agent_name: &'a str,
    pub website_name: &'a str,
}

/// A value that says something: not `None`, not blank. Trimmed.
fn known(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl RenderContext<'_> {
    /// What a variable becomes here.
    pub fn value(&self, v: CannedVariable) -> &str {
        match v {
            CannedVariable::ContactName => known(self.contact_name).unwrap_or(NAME_FALLBACK),
            CannedVariable::ContactFirstName => known(self.contact_name)
                .and_then(first_word)
                .unwrap_or(NAME_FALLBACK),
            CannedVariable::ContactEmail => known(self.contact_email).unwrap_or(EMAIL_FALLBACK),
            CannedVariable::AgentName => self.agent_name.trim(),
            CannedVariable::AgentFirstName => first_word(self.agent_name).unwrap_or(""),
            CannedVariable::WebsiteName => self.website_name.trim(),
        }
    }
}

fn first_word(s: &str) -> Option<&str> {
    s.split_whitespace().next()
}

/// Fills the variables of `body` in one pass; everything that is not a known variable is
/// copied as it is. See the module's comment for the rules.
pub fn render(body: &str, ctx: &RenderContext<'_>) -> String {
    let mut out = String::with_capacity(body.len());
    for p in scan(body) {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Known(v) => out.push_str(ctx.value(v)),
            Piece::Unknown { source, .. } => out.push_str(source),
        }
    }
    out
}

/// A run of a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Known(CannedVariable),
    /// Shaped like a variable, but not one: its name, and the text as typed.
    Unknown {
        name: &'a str,
        source: &'a str,
    },
}

/// Splits a body into text and variables. A variable is `{{`, optional spaces, a name of
/// ASCII letters, digits, `_` and `.`, optional spaces, `}}`; a `{` that starts none is text.
fn scan(body: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let bytes = body.as_bytes();
    let mut text_start = 0;
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'{'
            && bytes[i + 1] == b'{'
            && let Some((end, name)) = variable_at(body, i)
        {
            if text_start < i {
                pieces.push(Piece::Text(&body[text_start..i]));
            }
            pieces.push(match CannedVariable::parse(name) {
                Some(v) => Piece::Known(v),
                None => Piece::Unknown {
                    name,
                    source: &body[i..end],
                },
            });
            i = end;
            text_start = end;
        } else {
            i += 1;
        }
    }
    if text_start < body.len() {
        pieces.push(Piece::Text(&body[text_start..]));
    }
    pieces
}

/// If a variable starts at byte `at` (which holds `{{`), its end (past `}}`) and its name.
/// Only ASCII is looked at, so every index is a char boundary.
fn variable_at(body: &str, at: usize) -> Option<(usize, &str)> {
    let bytes = body.as_bytes();
    let mut i = at + 2;
    while i < bytes.len() && bytes[i] == b' ' {
        i += 1;
    }
    let name_start = i;
    while i < bytes.len()
        && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
    {
        i += 1;
    }
    let name_end = i;
    while i < bytes.len() && bytes[i] == b' ' {
        i += 1;
    }
    let closed = bytes.get(i) == Some(&b'}') && bytes.get(i + 1) == Some(&b'}');
    if name_end > name_start && closed {
        Some((i + 2, &body[name_start..name_end]))
    } else {
        None
    }
}

// ---- wire types ----

/// A canned response as an agent sees it (`GET /api/v1/canned-responses`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CannedResponse {
    pub id: CannedResponseId,
    pub scope: CannedScope,
    /// Without the `/`.
    pub shortcut: String,
    pub title: String,
    /// As saved, with its `{{variables}}`.
    pub body: String,
    /// The body filled in for the conversation named in the request; `null` without one.
    pub rendered: Option<String>,
    #[ts(type = "number")]
    pub updated_at: Millis,
}

/// `POST /api/v1/canned-responses`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CreateCannedRequest {
    pub scope: CannedScope,
    pub shortcut: String,
    pub title: String,
    pub body: String,
}

/// `PUT /api/v1/canned-responses/{id}`. The scope stays what it was created with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct UpdateCannedRequest {
    pub shortcut: String,
    pub title: String,
    pub body: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx<'a>(name: Option<&'a str>, email: Option<&'a str>) -> RenderContext<'a> {
        RenderContext {
            contact_name: name,
            contact_email: email,
            agent_name: "Alice Admin",
            website_name: "Acme Shop",
        }
    }

    #[test]
    fn fills_every_variable() {
        let body = "Hi {{contact.first_name}} ({{contact.name}}, {{contact.email}}), \
                    {{agent.first_name}} ({{agent.name}}) from {{website.name}} here.";
        assert_eq!(
            render(body, &ctx(Some("Ada Lovelace"), Some("ada@example.com"))),
            "Hi Ada (Ada Lovelace, ada@example.com), Alice (Alice Admin) from Acme Shop here."
        );
    }

    #[test]
    fn missing_contact_values_fall_back_to_friendly_words() {
        let body =
            "Hi {{contact.first_name}}! Hello {{contact.name}}. We write to {{contact.email}}.";
        let want = "Hi there! Hello there. We write to your email address.";
        assert_eq!(render(body, &ctx(None, None)), want);
        assert_eq!(render(body, &ctx(Some("   "), Some(""))), want);
    }

    #[test]
    fn spaces_inside_the_braces_are_allowed() {
        assert_eq!(
            render("{{ agent.name }}|{{agent.name  }}", &ctx(None, None)),
            "Alice Admin|Alice Admin"
        );
    }

    #[test]
    fn anything_else_stays_as_typed() {
        for s in [
            "{{order.id}}",
            "{{ Contact.Name }}",
            "{{contact.name",
            "{{}}",
            "{{ }}",
            "{{contact name}}",
            "{ {agent.name}}",
            "}}{{",
            "{{",
            "{",
            "",
            "price: {{ 5 € }}",
        ] {
            assert_eq!(render(s, &ctx(None, None)), s, "{s}");
        }
    }

    #[test]
    fn braces_around_a_variable_are_kept() {
        assert_eq!(
            render("{{{agent.first_name}}}", &ctx(None, None)),
            "{Alice}"
        );
        assert_eq!(
            render("{{x}}{{agent.first_name}}", &ctx(None, None)),
            "{{x}}Alice"
        );
    }

    #[test]
    fn values_are_inserted_once_and_never_read_as_variables_or_markup() {
        let got = render(
            "Hi {{contact.name}}",
            &ctx(Some("{{agent.name}} <b>x</b> &amp;"), None),
        );
        assert_eq!(got, "Hi {{agent.name}} <b>x</b> &amp;");
    }

    #[test]
    fn shortcuts() {
        assert_eq!(Shortcut::parse(" /Hello ").unwrap().as_str(), "hello");
        assert_eq!(Shortcut::parse("faq_2-b").unwrap().as_str(), "faq_2-b");
        assert!(Shortcut::parse(&"a".repeat(MAX_SHORTCUT)).is_ok());
        for bad in [
            "",
            "/",
            "a b",
            "héllo",
            "a/b",
            "//a",
            "a.b",
            "<b>",
            &"a".repeat(MAX_SHORTCUT + 1),
        ] {
            assert_eq!(Shortcut::parse(bad), Err(CannedError::BadShortcut), "{bad}");
        }
    }

    #[test]
    fn titles_and_bodies() {
        assert_eq!(
            CannedTitle::parse(" Greeting ").unwrap().as_str(),
            "Greeting"
        );
        assert!(CannedTitle::parse("").is_err());
        assert!(CannedTitle::parse("two\nlines").is_err());
        assert!(CannedTitle::parse(&"é".repeat(MAX_TITLE)).is_ok());
        assert!(CannedTitle::parse(&"é".repeat(MAX_TITLE + 1)).is_err());

        assert_eq!(CannedBody::parse(" \n "), Err(CannedError::BodyEmpty));
        assert!(CannedBody::parse(&"é".repeat(MAX_BODY)).is_ok());
        assert_eq!(
            CannedBody::parse(&"a".repeat(MAX_BODY + 1)),
            Err(CannedError::BodyTooLong)
        );
        assert_eq!(
            CannedBody::parse(
                "Line one\n\nHi {{ contact.first_name }}, <b>not markup</b> {{ a b }}"
            )
            .unwrap()
            .as_str(),
            "Line one\n\nHi {{ contact.first_name }}, <b>not markup</b> {{ a b }}"
        );
    }

    #[test]
    fn saving_an_unknown_variable_is_refused_by_name() {
        let e = CannedBody::parse("Hi {{contact.frist_name}}").unwrap_err();
        assert_eq!(e, CannedError::UnknownVariable("contact.frist_name".into()));
        assert_eq!(e.code(), ErrorCode::UnknownVariable);
        let text = e.to_string();
        assert!(
            text.starts_with("{{contact.frist_name}} is not a variable"),
            "{text}"
        );
        assert!(text.contains("{{contact.first_name}}"), "{text}");
    }

    #[test]
    fn variable_names_round_trip_through_json() {
        for v in CannedVariable::ALL {
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{}\"", v.as_str()));
            assert_eq!(CannedVariable::parse(v.as_str()), Some(v));
        }
    }

    proptest! {
        #[test]
        fn rendering_never_panics_and_keeps_text_without_variables(s in "\\PC{0,400}") {
            let out = render(&s, &ctx(Some("Ada"), None));
            if !s.contains("{{") {
                prop_assert_eq!(out, s);
            }
        }

        #[test]
        fn braces_without_a_known_name_are_kept_as_typed(s in "[{} a-z._é]{0,60}") {
            let out = render(&s, &ctx(None, None));
            let _ = CannedBody::parse(&s);
            if !CannedVariable::ALL.iter().any(|v| s.contains(v.as_str())) {
                prop_assert_eq!(out, s);
            }
        }

        #[test]
        fn every_known_variable_is_replaced_by_its_value(
            before in "[^{}]{0,40}",
            after in "[^{}]{0,40}",
            name in "[^{}]{0,30}",
            i in 0usize..6,
        ) {
            let v = CannedVariable::ALL[i];
            let c = ctx(Some(&name), Some("a@b.c"));
            let body = format!("{before}{{{{{}}}}}{after}", v.as_str());
            prop_assert_eq!(render(&body, &c), format!("{before}{}{after}", c.value(v)));
        }

        #[test]
        fn contact_values_never_expand(name in "\\PC{0,60}") {
            // Whatever a visitor calls themselves is inserted as typed, once.
            let c = ctx(Some(&name), None);
            let out = render("[{{contact.name}}]", &c);
            let trimmed = name.trim();
            let want = if trimmed.is_empty() { NAME_FALLBACK } else { trimmed };
            prop_assert_eq!(out, format!("[{want}]"));
        }

        #[test]
        fn parsed_bodies_stay_within_bounds(s in "\\PC{0,200}") {
            if let Ok(b) = CannedBody::parse(&s) {
                prop_assert!(!b.as_str().is_empty());
                prop_assert!(b.as_str().chars().count() <= MAX_BODY);
            }
        }

        #[test]
        fn parsed_shortcuts_are_in_the_alphabet(s in "\\PC{0,40}") {
            if let Ok(sc) = Shortcut::parse(&s) {
                prop_assert!((1..=MAX_SHORTCUT).contains(&sc.as_str().len()));
                prop_assert!(sc.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'));
            }
        }
    }
}
