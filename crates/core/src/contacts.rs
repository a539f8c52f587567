//! Contacts as profiles: the fields agents edit (name, email, phone, company and custom
//! attributes), the rules of merging two contacts into one, and the contacts list's query.
//!
//! Everything here is checked once, at the edge: a [`ContactPatch`] is a change that is known
//! to be within bounds, a [`ContactFilter`] a query whose every parameter is typed, and
//! [`merge`] the one place that decides which fields win when two contacts become one.
//!
//! Rules (each proved by a test below):
//! - **name**: at most [`MAX_CONTACT_NAME_CHARS`] characters; **company**: at most
//!   [`MAX_COMPANY_CHARS`]; neither has control characters; both are trimmed.
//! - **email**: the shape [`Email`] accepts, lower-cased.
//! - **phone**: digits, spaces, `-`, `(`, `)` and one leading `+`; [`MIN_PHONE_DIGITS`] to
//!   [`MAX_PHONE_DIGITS`] digits and at most [`MAX_PHONE_CHARS`] characters in all; blank runs
//!   become one space.
//! - An empty string clears a field; a field left out of the request stays as it is.
//! - **custom attributes**: keys of 1 to [`MAX_ATTRIBUTE_KEY_CHARS`] of `a-z`, `0-9`, `_`
//!   (capitals are lowered); values a string (1 to [`MAX_ATTRIBUTE_VALUE_CHARS`] characters,
//!   one line), a number or a boolean; at most [`MAX_ATTRIBUTES`] per contact. A change is a
//!   JSON merge patch: a value sets its key, `null` (or an empty string) removes it.
//! - **merge**: the kept contact's non-blank fields win, the other one fills the blanks; the
//!   attributes are the union, the kept contact's value winning on a shared key (and, past the
//!   limit, the kept contact's keys first).

use crate::Millis;
use crate::conversation::ConversationStatus;
use crate::ids::{AgentId, ContactId, ConversationId, WebsiteId};
use crate::input::{Email, ErrorCode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;
use ts_rs::TS;

pub const MAX_CONTACT_NAME_CHARS: usize = 200;
pub const MAX_COMPANY_CHARS: usize = 200;
/// Most characters of a phone number, separators included.
pub const MAX_PHONE_CHARS: usize = 32;
pub const MIN_PHONE_DIGITS: usize = 3;
/// E.164 allows 15 digits; a few more leave room for an extension.
pub const MAX_PHONE_DIGITS: usize = 20;
pub const MAX_ATTRIBUTE_KEY_CHARS: usize = 40;
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 500;
/// Most custom attributes one contact may carry.
pub const MAX_ATTRIBUTES: usize = 50;
/// Longest search text of the contacts list, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Most `attr.KEY=VALUE` conditions in one contacts query.
pub const MAX_ATTRIBUTE_FILTERS: usize = 5;
/// How many of a contact's conversations its detail lists (the newest).
pub const MAX_LISTED_CONVERSATIONS: i64 = 50;

/// A custom attribute's value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(untagged)]
#[ts(export)]
pub enum AttributeValue {
    Bool(bool),
    Number(serde_json::Number),
    Text(String),
}

impl AttributeValue {
    /// The value as text, as routing rules and the list's `attr.` filter compare it: `true`,
    /// `42`, `2.5`, `pro`.
    pub fn as_text(&self) -> String {
        match self {
            Self::Bool(b) => b.to_string(),
            Self::Number(n) => n.to_string(),
            Self::Text(s) => s.clone(),
        }
    }
}

/// A contact's custom attributes, by key.
pub type Attributes = BTreeMap<String, AttributeValue>;

/// Reads attributes as stored (a JSON object). Anything that is not a string, number or
/// boolean is skipped, and text that is not an object reads as none: a bad row never hides the
/// rest of the contact.
pub fn read_attributes(json: &str) -> Attributes {
    let Ok(map) = serde_json::from_str::<BTreeMap<String, serde_json::Value>>(json) else {
        return Attributes::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| {
            let v = match v {
                serde_json::Value::Bool(b) => AttributeValue::Bool(b),
                serde_json::Value::Number(n) => AttributeValue::Number(n),
                serde_json::Value::String(s) => AttributeValue::Text(s),
                _ => return None,
            };
            Some((k, v))
        })
        .collect()
}

/// The stored form of attributes: a compact JSON object, keys sorted.
pub fn write_attributes(a: &Attributes) -> String {
    serde_json::to_string(a).unwrap_or_else(|_| "{}".into())
}

/// Attributes as text, for routing rules (`plan = pro`, `vip = true`).
pub fn attributes_as_text(a: &Attributes) -> BTreeMap<String, String> {
    a.iter().map(|(k, v)| (k.clone(), v.as_text())).collect()
}

/// Why a profile change or a merge was refused. The text names the field or key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ContactError {
    #[error(
        "a contact's name is at most {MAX_CONTACT_NAME_CHARS} characters, without control characters"
    )]
    BadName,
    #[error("not a valid email address")]
    BadEmail,
    #[error(
        "a phone number is {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits with spaces, '-', '(', ')' and a leading '+' ({MAX_PHONE_CHARS} characters at most)"
    )]
    BadPhone,
    #[error("a company name is at most {MAX_COMPANY_CHARS} characters, without control characters")]
    BadCompany,
    #[error("`{0}` is not an attribute key: use 1 to {MAX_ATTRIBUTE_KEY_CHARS} of a-z, 0-9 and _")]
    BadAttributeKey(String),
    #[error(
        "the value of `{0}` must be a number, true or false, or text of at most {MAX_ATTRIBUTE_VALUE_CHARS} characters on one line"
    )]
    BadAttributeValue(String),
    #[error("a contact has at most {MAX_ATTRIBUTES} custom attributes; remove one first")]
    TooManyAttributes,
    #[error("a contact cannot be merged with itself")]
    MergeWithItself,
}

impl ContactError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadName => ErrorCode::InvalidName,
            Self::BadEmail => ErrorCode::InvalidEmail,
            Self::BadPhone => ErrorCode::InvalidPhone,
            Self::BadCompany => ErrorCode::InvalidCompany,
            Self::BadAttributeKey(_) | Self::BadAttributeValue(_) | Self::TooManyAttributes => {
                ErrorCode::InvalidAttribute
            }
            Self::MergeWithItself => ErrorCode::InvalidMerge,
        }
    }
}

/// Trimmed text of at most `max` characters without control characters; `None` for blank.
fn plain_text(raw: &str, max: usize) -> Result<Option<String>, ()> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(());
    }
    Ok(Some(t.to_owned()))
}

/// A contact's name; `None` when blank (which clears it).
pub fn contact_name(raw: &str) -> Result<Option<String>, ContactError> {
    plain_text(raw, MAX_CONTACT_NAME_CHARS).map_err(|_| ContactError::BadName)
}

/// A company's name; `None` when blank.
pub fn company(raw: &str) -> Result<Option<String>, ContactError> {
    plain_text(raw, MAX_COMPANY_CHARS).map_err(|_| ContactError::BadCompany)
}

/// An email address; `None` when blank.
pub fn email(raw: &str) -> Result<Option<Email>, ContactError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Email::parse(raw)
        .map(Some)
        .map_err(|_| ContactError::BadEmail)
}

/// A phone number as typed, blank runs made one space; `None` when blank.
pub fn phone(raw: &str) -> Result<Option<String>, ContactError> {
    let t = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        return Ok(None);
    }
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let ok = t.chars().count() <= MAX_PHONE_CHARS
        && (MIN_PHONE_DIGITS..=MAX_PHONE_DIGITS).contains(&digits)
        && t.char_indices().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')') || (c == '+' && i == 0)
        });
    if ok {
        Ok(Some(t))
    } else {
        Err(ContactError::BadPhone)
    }
}

/// An attribute key: trimmed and lower-cased, then 1 to [`MAX_ATTRIBUTE_KEY_CHARS`] of
/// `a-z`, `0-9`, `_`.
pub fn attribute_key(raw: &str) -> Result<String, ContactError> {
    let k = raw.trim().to_lowercase();
    let ok = !k.is_empty()
        && k.len() <= MAX_ATTRIBUTE_KEY_CHARS
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(k)
    } else {
        Err(ContactError::BadAttributeKey(crate::clip_chars(
            raw,
            MAX_ATTRIBUTE_KEY_CHARS + 10,
        )))
    }
}

/// An attribute value within bounds; `None` for blank text (which removes the key).
pub fn attribute_value(
    key: &str,
    v: &AttributeValue,
) -> Result<Option<AttributeValue>, ContactError> {
    match v {
        AttributeValue::Text(s) => plain_text(s, MAX_ATTRIBUTE_VALUE_CHARS)
            .map(|t| t.map(AttributeValue::Text))
            .map_err(|_| ContactError::BadAttributeValue(key.to_owned())),
        other => Ok(Some(other.clone())),
    }
}

/// `PATCH /api/v1/contacts/{id}`: the fields to change. A field left out stays as it is; an
/// empty string clears it. `attributes` is a JSON merge patch: a value sets the key, `null`
/// removes it, keys not named stay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, optional_fields)]
pub struct UpdateContactRequest {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub attributes: Option<BTreeMap<String, Option<AttributeValue>>>,
}

/// A checked change to a profile: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactPatch {
    pub name: Option<Option<String>>,
    pub email: Option<Option<Email>>,
    pub phone: Option<Option<String>>,
    pub company: Option<Option<String>>,
    /// Keys to set (`Some`) or remove (`None`).
    pub attributes: BTreeMap<String, Option<AttributeValue>>,
}

impl ContactPatch {
    pub fn parse(req: &UpdateContactRequest) -> Result<Self, ContactError> {
        let mut attributes = BTreeMap::new();
        if let Some(map) = &req.attributes {
            // A bound before any work: a patch can never need more keys than a contact holds
            // plus as many removals.
            if map.len() > 2 * MAX_ATTRIBUTES {
                return Err(ContactError::TooManyAttributes);
            }
            for (k, v) in map {
                let key = attribute_key(k)?;
                let value = match v {
                    Some(v) => attribute_value(&key, v)?,
                    None => None,
                };
                attributes.insert(key, value);
            }
        }
        Ok(Self {
            name: req.name.as_deref().map(contact_name).transpose()?,
            email: req.email.as_deref().map(email).transpose()?,
            phone: req.phone.as_deref().map(phone).transpose()?,
            company: req.company.as_deref().map(company).transpose()?,
            attributes,
        })
    }

    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The attributes after this patch; refused when they would number more than
    /// [`MAX_ATTRIBUTES`] (a contact already past it may still remove and change keys).
    pub fn apply_attributes(&self, current: &Attributes) -> Result<Attributes, ContactError> {
        let mut out = current.clone();
        for (k, v) in &self.attributes {
            match v {
                Some(v) => {
                    out.insert(k.clone(), v.clone());
                }
                None => {
                    out.remove(k);
                }
            }
        }
        if out.len() > MAX_ATTRIBUTES && out.len() > current.len() {
            return Err(ContactError::TooManyAttributes);
        }
        Ok(out)
    }
}

/// The fields of a profile that a merge combines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub attributes: Attributes,
}

fn blank(v: &Option<String>) -> bool {
    v.as_deref().is_none_or(|s| s.trim().is_empty())
}

fn first_filled(kept: &Option<String>, other: &Option<String>) -> Option<String> {
    if !blank(kept) {
        kept.clone()
    } else if !blank(other) {
        other.clone()
    } else {
        None
    }
}

/// The profile of the contact kept when `other` is merged into `kept`: the kept contact's
/// non-blank fields win and the other's fill the blanks; attributes are the union, the kept
/// contact's value winning on a shared key. Past [`MAX_ATTRIBUTES`], the other's extra keys
/// are dropped (in key order) so the result stays within the limit.
pub fn merge(kept: &Profile, other: &Profile) -> Profile {
    let mut attributes = kept.attributes.clone();
    for (k, v) in &other.attributes {
        if attributes.len() >= MAX_ATTRIBUTES {
            break;
        }
        attributes.entry(k.clone()).or_insert_with(|| v.clone());
    }
    Profile {
        name: first_filled(&kept.name, &other.name),
        email: first_filled(&kept.email, &other.email),
        phone: first_filled(&kept.phone, &other.phone),
        company: first_filled(&kept.company, &other.company),
        attributes,
    }
}

/// A contact as agents see it in the contacts list, the contact panel and the contact page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ContactProfile {
    pub id: ContactId,
    pub website_id: WebsiteId,
    pub website_name: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub attributes: Attributes,
    #[ts(type = "number")]
    pub created_at: Millis,
    #[ts(type = "number")]
    pub last_seen_at: Millis,
    /// All of the contact's conversations, whatever their status.
    #[ts(type = "number")]
    pub conversation_count: i64,
}

impl ContactProfile {
    pub fn profile(&self) -> Profile {
        Profile {
            name: self.name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            company: self.company.clone(),
            attributes: self.attributes.clone(),
        }
    }
}

/// One of a contact's conversations, as the contact panel lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ContactConversation {
    pub id: ConversationId,
    pub status: ConversationStatus,
    pub website_name: String,
    pub assignee_id: Option<AgentId>,
    pub assignee_name: Option<String>,
    pub last_message_preview: Option<String>,
    #[ts(type = "number | null")]
    pub last_message_at: Option<Millis>,
    #[ts(type = "number")]
    pub created_at: Millis,
    #[ts(type = "number")]
    pub updated_at: Millis,
}

/// `GET /api/v1/contacts/{id}` and the reply to a merge: the profile and the contact's
/// conversations, newest first (at most [`MAX_LISTED_CONVERSATIONS`];
/// `contact.conversation_count` says how many there are in all).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ContactDetail {
    pub contact: ContactProfile,
    pub conversations: Vec<ContactConversation>,
}

/// `GET /api/v1/contacts`: one page, the most recently seen first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ContactPage {
    pub items: Vec<ContactProfile>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `POST /api/v1/contacts/{id}/merge`: `other_id` is merged into the contact named in the path,
/// which is kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct MergeContactRequest {
    pub other_id: ContactId,
}

/// The contacts list's query, parsed: every condition optional, all combined with AND.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactFilter {
    /// Lower-cased text found in the name, email, phone or company.
    pub search: Option<String>,
    pub website: Option<WebsiteId>,
    /// `true`: only contacts with an email address; `false`: only those without.
    pub has_email: Option<bool>,
    /// Last seen at or after (milliseconds, inclusive).
    pub seen_after: Option<Millis>,
    /// Last seen before (milliseconds, exclusive).
    pub seen_before: Option<Millis>,
    /// `(key, value)`: the attribute's value, as text ([`AttributeValue::as_text`]), equals
    /// `value` exactly.
    pub attributes: Vec<(String, String)>,
    /// Rows strictly after this `(last_seen_at, id)` in the list's order.
    pub cursor: Option<(Millis, ContactId)>,
    pub limit: i64,
}

impl Default for ContactFilter {
    fn default() -> Self {
        Self {
            search: None,
            website: None,
            has_email: None,
            seen_after: None,
            seen_before: None,
            attributes: Vec::new(),
            cursor: None,
            limit: 50,
        }
    }
}

/// Why a contacts query was refused; the text names the parameter.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ContactFilterError {
    #[error("`{0}` is not a parameter of the contacts list")]
    Unknown(String),
    #[error("`{0}` is given twice")]
    Repeated(String),
    #[error("`q` is at most {MAX_SEARCH_CHARS} characters")]
    SearchTooLong,
    #[error("`website` must be a website's id")]
    BadWebsite,
    #[error("`has_email` must be true or false")]
    BadHasEmail,
    #[error("`{0}` must be a time in milliseconds since 1970")]
    BadTime(&'static str),
    #[error("`seen_after` must be before `seen_before`")]
    EmptyRange,
    #[error(
        "`{0}` does not name an attribute: use attr.KEY with 1 to {MAX_ATTRIBUTE_KEY_CHARS} of a-z, 0-9 and _"
    )]
    BadAttributeKey(String),
    #[error("the value of `{0}` must be 1 to {MAX_ATTRIBUTE_VALUE_CHARS} characters")]
    BadAttributeValue(String),
    #[error("at most {MAX_ATTRIBUTE_FILTERS} attr. conditions")]
    TooManyAttributes,
    #[error("too many parameters")]
    TooManyParameters,
    #[error("`cursor` is not one this list gave")]
    BadCursor,
    #[error("`limit` must be a whole number from 1 (more than 100 gives 100)")]
    BadLimit,
}

impl ContactFilterError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::InvalidFilter
    }
}

/// Up to the year 9999: a bound, so that arithmetic on a time never overflows.
const MAX_TIME: Millis = 253_402_300_799_999;

fn time(v: &str, name: &'static str) -> Result<Millis, ContactFilterError> {
    match v.parse::<Millis>() {
        Ok(t) if (0..=MAX_TIME).contains(&t) => Ok(t),
        _ => Err(ContactFilterError::BadTime(name)),
    }
}

/// The cursor that continues a list after a contact seen at `last_seen_at`.
pub fn contact_cursor(last_seen_at: Millis, id: &ContactId) -> String {
    format!("{last_seen_at}_{id}")
}

impl ContactFilter {
    /// Parses `GET /api/v1/contacts`'s query pairs (already percent-decoded): `q`, `website`,
    /// `has_email`, `seen_after`, `seen_before`, `attr.KEY`, `cursor`, `limit`. An empty value
    /// means "not set"; an unknown or repeated parameter is refused.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, ContactFilterError> {
        // Every parameter once at most: more pairs than that is a query this list never makes.
        if pairs.len() > KNOWN.len() + MAX_ATTRIBUTE_FILTERS {
            return Err(ContactFilterError::TooManyParameters);
        }
        let mut f = Self::default();
        let mut seen: Vec<&str> = Vec::new();
        for (k, v) in pairs {
            if seen.contains(&k.as_str()) {
                return Err(ContactFilterError::Repeated(crate::clip_chars(k, 60)));
            }
            seen.push(k.as_str());
            let v = v.trim();
            if v.is_empty() {
                // "Not set" (a cleared form field), but it still counts as given once.
                if k.starts_with("attr.") || KNOWN.contains(&k.as_str()) {
                    continue;
                }
                return Err(ContactFilterError::Unknown(crate::clip_chars(k, 60)));
            }
            match k.as_str() {
                "q" => {
                    if v.chars().count() > MAX_SEARCH_CHARS {
                        return Err(ContactFilterError::SearchTooLong);
                    }
                    f.search = Some(v.to_lowercase());
                }
                "website" => {
                    f.website =
                        Some(WebsiteId::parse(v).map_err(|_| ContactFilterError::BadWebsite)?);
                }
                "has_email" => {
                    f.has_email = Some(match v {
                        "true" => true,
                        "false" => false,
                        _ => return Err(ContactFilterError::BadHasEmail),
                    });
                }
                "seen_after" => f.seen_after = Some(time(v, "seen_after")?),
                "seen_before" => f.seen_before = Some(time(v, "seen_before")?),
                "cursor" => {
                    let (t, id) = v.split_once('_').ok_or(ContactFilterError::BadCursor)?;
                    let t = t
                        .parse::<Millis>()
                        .map_err(|_| ContactFilterError::BadCursor)?;
                    let id = ContactId::parse(id).map_err(|_| ContactFilterError::BadCursor)?;
                    f.cursor = Some((t, id));
                }
                "limit" => {
                    f.limit = match v.parse::<i64>() {
                        Ok(n) if n >= 1 => n.min(100),
                        _ => return Err(ContactFilterError::BadLimit),
                    };
                }
                _ => {
                    let Some(raw_key) = k.strip_prefix("attr.") else {
                        return Err(ContactFilterError::Unknown(crate::clip_chars(k, 60)));
                    };
                    let key = attribute_key(raw_key).map_err(|_| {
                        ContactFilterError::BadAttributeKey(crate::clip_chars(k, 60))
                    })?;
                    if v.chars().count() > MAX_ATTRIBUTE_VALUE_CHARS {
                        return Err(ContactFilterError::BadAttributeValue(crate::clip_chars(
                            k, 60,
                        )));
                    }
                    if f.attributes.iter().any(|(have, _)| *have == key) {
                        return Err(ContactFilterError::Repeated(key));
                    }
                    if f.attributes.len() == MAX_ATTRIBUTE_FILTERS {
                        return Err(ContactFilterError::TooManyAttributes);
                    }
                    f.attributes.push((key, v.to_owned()));
                }
            }
        }
        if let (Some(a), Some(b)) = (f.seen_after, f.seen_before)
            && a >= b
        {
            return Err(ContactFilterError::EmptyRange);
        }
        Ok(f)
    }
}

/// The parameters of the contacts list other than `attr.KEY`.
const KNOWN: [&str; 7] = [
    "q",
    "website",
    "has_email",
    "seen_after",
    "seen_before",
    "cursor",
    "limit",
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(s: &str) -> AttributeValue {
        AttributeValue::Text(s.into())
    }
    fn num(n: i64) -> AttributeValue {
        AttributeValue::Number(n.into())
    }

    #[test]
    fn names_and_companies_are_trimmed_bounded_and_cleared_by_blank() {
        assert_eq!(contact_name("  Ann Lee "), Ok(Some("Ann Lee".into())));
        assert_eq!(contact_name("   "), Ok(None));
        assert_eq!(contact_name(""), Ok(None));
        assert!(contact_name(&"é".repeat(MAX_CONTACT_NAME_CHARS)).is_ok());
        assert_eq!(
            contact_name(&"a".repeat(MAX_CONTACT_NAME_CHARS + 1)),
            Err(ContactError::BadName)
        );
        assert_eq!(contact_name("a\u{0}b"), Err(ContactError::BadName));
        assert_eq!(
            contact_name("<b>Ann</b>"),
            Ok(Some("<b>Ann</b>".into())),
            "stored as typed, shown as text"
        );
        assert_eq!(company(" Acme Inc. "), Ok(Some("Acme Inc.".into())));
        assert_eq!(
            company(&"c".repeat(MAX_COMPANY_CHARS + 1)),
            Err(ContactError::BadCompany)
        );
        assert_eq!(company("a\nb"), Err(ContactError::BadCompany));
    }

    #[test]
    fn emails_use_the_shared_rule() {
        assert_eq!(
            email(" Ann@Example.COM ").unwrap().unwrap().as_str(),
            "ann@example.com"
        );
        assert_eq!(email(" "), Ok(None));
        assert_eq!(email("not an email"), Err(ContactError::BadEmail));
    }

    #[test]
    fn phone_numbers() {
        for (raw, want) in [
            ("+49 30 1234567", "+49 30 1234567"),
            ("  (030)  123-45 67 ", "(030) 123-45 67"),
            ("112", "112"),
            ("+1 (555) 010-9999", "+1 (555) 010-9999"),
        ] {
            assert_eq!(phone(raw), Ok(Some(want.into())), "{raw}");
        }
        assert_eq!(phone("  "), Ok(None));
        for bad in [
            "12",
            "call me",
            "+49 30 12345x",
            "49+30",
            "++4930123",
            "0049.30.123",
            "123456789012345678901",
            "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7",
        ] {
            assert_eq!(phone(bad), Err(ContactError::BadPhone), "{bad}");
        }
    }

    #[test]
    fn attribute_keys_and_values() {
        assert_eq!(attribute_key(" Plan "), Ok("plan".into()));
        assert_eq!(attribute_key("seats_2"), Ok("seats_2".into()));
        for bad in ["", "a b", "a-b", "plan.tier", "ä", &"k".repeat(41)] {
            assert!(
                matches!(attribute_key(bad), Err(ContactError::BadAttributeKey(_))),
                "{bad}"
            );
        }
        assert_eq!(attribute_value("k", &text(" pro ")), Ok(Some(text("pro"))));
        assert_eq!(attribute_value("k", &text("  ")), Ok(None));
        assert_eq!(attribute_value("k", &num(3)), Ok(Some(num(3))));
        assert_eq!(
            attribute_value("k", &AttributeValue::Bool(false)),
            Ok(Some(AttributeValue::Bool(false)))
        );
        assert_eq!(
            attribute_value("k", &text(&"v".repeat(MAX_ATTRIBUTE_VALUE_CHARS + 1))),
            Err(ContactError::BadAttributeValue("k".into()))
        );
        assert_eq!(
            attribute_value("k", &text("two\nlines")),
            Err(ContactError::BadAttributeValue("k".into()))
        );
    }

    #[test]
    fn attribute_values_keep_their_json_type_and_compare_as_text() {
        let a: Attributes =
            serde_json::from_str(r#"{"plan":"pro","seats":3,"ratio":2.5,"vip":true}"#).unwrap();
        assert_eq!(a["plan"], text("pro"));
        assert_eq!(a["seats"], num(3));
        assert_eq!(a["vip"], AttributeValue::Bool(true));
        assert_eq!(
            write_attributes(&a),
            r#"{"plan":"pro","ratio":2.5,"seats":3,"vip":true}"#
        );
        let t = attributes_as_text(&a);
        assert_eq!(t["seats"], "3");
        assert_eq!(t["ratio"], "2.5");
        assert_eq!(t["vip"], "true");
        // What is stored is read leniently: nested values are skipped, junk reads as none.
        let r = read_attributes(r#"{"plan":"pro","nested":{"a":1},"list":[1],"none":null}"#);
        assert_eq!(r.len(), 1);
        assert_eq!(read_attributes("not json"), Attributes::new());
        assert_eq!(read_attributes("[1,2]"), Attributes::new());
    }

    fn req(json: &str) -> UpdateContactRequest {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_patch_changes_what_it_names_and_clears_with_empty_strings() {
        let p = ContactPatch::parse(&req(
            r#"{"name":" Ann ","phone":"","attributes":{"Plan":"pro","old":null,"blank":"  ","seats":3}}"#,
        ))
        .unwrap();
        assert_eq!(p.name, Some(Some("Ann".into())));
        assert_eq!(p.phone, Some(None), "an empty string clears");
        assert_eq!(p.email, None, "left out: unchanged");
        assert_eq!(p.company, None);
        assert_eq!(p.attributes["plan"], Some(text("pro")));
        assert_eq!(p.attributes["old"], None);
        assert_eq!(p.attributes["blank"], None, "blank text removes the key");
        let current: Attributes = [("old".to_string(), text("x")), ("keep".into(), num(1))]
            .into_iter()
            .collect();
        let after = p.apply_attributes(&current).unwrap();
        assert_eq!(after.keys().collect::<Vec<_>>(), ["keep", "plan", "seats"]);
        assert!(ContactPatch::parse(&req("{}")).unwrap().is_empty());
        assert!(serde_json::from_str::<UpdateContactRequest>(r#"{"nickname":"x"}"#).is_err());
    }

    #[test]
    fn a_patch_is_refused_with_the_field_named() {
        let bad = [
            (r#"{"name":"a\u0000b"}"#, ErrorCode::InvalidName),
            (r#"{"email":"nope"}"#, ErrorCode::InvalidEmail),
            (r#"{"phone":"call me"}"#, ErrorCode::InvalidPhone),
            (r#"{"company":"a\nb"}"#, ErrorCode::InvalidCompany),
            (
                r#"{"attributes":{"bad key":"x"}}"#,
                ErrorCode::InvalidAttribute,
            ),
        ];
        for (json, code) in bad {
            assert_eq!(
                ContactPatch::parse(&req(json)).unwrap_err().code(),
                code,
                "{json}"
            );
        }
        let e = ContactPatch::parse(&req(r#"{"attributes":{"bad key":"x"}}"#)).unwrap_err();
        assert!(e.to_string().contains("`bad key`"), "{e}");
        // Nested values are not attributes.
        assert!(
            serde_json::from_str::<UpdateContactRequest>(r#"{"attributes":{"a":{"b":1}}}"#)
                .is_err()
        );
    }

    #[test]
    fn attributes_are_bounded_per_contact() {
        let full: Attributes = (0..MAX_ATTRIBUTES)
            .map(|i| (format!("k{i}"), num(i as i64)))
            .collect();
        let add = ContactPatch::parse(&req(r#"{"attributes":{"one_more":"x"}}"#)).unwrap();
        assert_eq!(
            add.apply_attributes(&full),
            Err(ContactError::TooManyAttributes)
        );
        let change = ContactPatch::parse(&req(r#"{"attributes":{"k0":"x","k1":null}}"#)).unwrap();
        assert_eq!(
            change.apply_attributes(&full).unwrap().len(),
            MAX_ATTRIBUTES - 1
        );
        let swap =
            ContactPatch::parse(&req(r#"{"attributes":{"k0":null,"new_key":true}}"#)).unwrap();
        assert_eq!(swap.apply_attributes(&full).unwrap().len(), MAX_ATTRIBUTES);
        let huge: BTreeMap<String, Option<AttributeValue>> = (0..=2 * MAX_ATTRIBUTES)
            .map(|i| (format!("k{i}"), None))
            .collect();
        let r = UpdateContactRequest {
            attributes: Some(huge),
            ..Default::default()
        };
        assert_eq!(
            ContactPatch::parse(&r),
            Err(ContactError::TooManyAttributes)
        );
    }

    fn profile(name: Option<&str>, email: Option<&str>, attrs: &[(&str, i64)]) -> Profile {
        Profile {
            name: name.map(Into::into),
            email: email.map(Into::into),
            phone: None,
            company: None,
            attributes: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), num(*v)))
                .collect(),
        }
    }

    #[test]
    fn merging_keeps_the_kept_contacts_fields_and_fills_blanks() {
        let kept = Profile {
            company: Some("  ".into()),
            ..profile(Some("Ann"), None, &[("plan", 1), ("seats", 2)])
        };
        let other = Profile {
            phone: Some("+1 555 0100".into()),
            company: Some("Acme".into()),
            ..profile(
                Some("Annie"),
                Some("ann@x.test"),
                &[("plan", 9), ("vip", 1)],
            )
        };
        let m = merge(&kept, &other);
        assert_eq!(m.name.as_deref(), Some("Ann"));
        assert_eq!(m.email.as_deref(), Some("ann@x.test"));
        assert_eq!(m.phone.as_deref(), Some("+1 555 0100"));
        assert_eq!(
            m.company.as_deref(),
            Some("Acme"),
            "a blank string is blank"
        );
        assert_eq!(m.attributes["plan"], num(1));
        assert_eq!(m.attributes["seats"], num(2));
        assert_eq!(m.attributes["vip"], num(1));
    }

    #[test]
    fn a_merge_stays_within_the_attribute_limit() {
        let kept = Profile {
            attributes: (0..40).map(|i| (format!("a{i:02}"), num(i))).collect(),
            ..Profile::default()
        };
        let other = Profile {
            attributes: (0..40).map(|i| (format!("b{i:02}"), num(i))).collect(),
            ..Profile::default()
        };
        let m = merge(&kept, &other);
        assert_eq!(m.attributes.len(), MAX_ATTRIBUTES);
        assert!(kept.attributes.keys().all(|k| m.attributes.contains_key(k)));
        assert!(m.attributes.contains_key("b00") && !m.attributes.contains_key("b39"));
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_list_query_parses_every_parameter() {
        let site = "0190a000-0000-7000-8000-000000000001";
        let f = ContactFilter::parse(&pairs(&[
            ("q", "  Ann LEE "),
            ("website", site),
            ("has_email", "true"),
            ("seen_after", "1000"),
            ("seen_before", "2000"),
            ("attr.Plan", "pro"),
            ("attr.seats", "3"),
            ("cursor", &format!("1500_{site}")),
            ("limit", "500"),
        ]))
        .unwrap();
        assert_eq!(f.search.as_deref(), Some("ann lee"));
        assert_eq!(f.website.unwrap().as_str(), site);
        assert_eq!(f.has_email, Some(true));
        assert_eq!((f.seen_after, f.seen_before), (Some(1000), Some(2000)));
        assert_eq!(
            f.attributes,
            vec![("plan".into(), "pro".into()), ("seats".into(), "3".into())]
        );
        assert_eq!(f.cursor.unwrap().0, 1500);
        assert_eq!(f.limit, 100);
        // Empty values are "not set".
        let f = ContactFilter::parse(&pairs(&[("q", " "), ("website", ""), ("attr.plan", "")]))
            .unwrap();
        assert_eq!(f, ContactFilter::default());
        assert_eq!(
            contact_cursor(5, &ContactId(site.into())),
            format!("5_{site}")
        );
    }

    #[test]
    fn bad_list_queries_name_the_parameter() {
        use ContactFilterError as E;
        let bad: Vec<(Vec<(String, String)>, E)> = vec![
            (pairs(&[("sort", "name")]), E::Unknown("sort".into())),
            (pairs(&[("q", "a"), ("q", "b")]), E::Repeated("q".into())),
            (
                pairs(&[("q", &"x".repeat(MAX_SEARCH_CHARS + 1))]),
                E::SearchTooLong,
            ),
            (pairs(&[("website", "' OR 1=1 --")]), E::BadWebsite),
            (pairs(&[("has_email", "yes")]), E::BadHasEmail),
            (
                pairs(&[("seen_after", "yesterday")]),
                E::BadTime("seen_after"),
            ),
            (pairs(&[("seen_before", "-1")]), E::BadTime("seen_before")),
            (
                pairs(&[("seen_after", "5"), ("seen_before", "5")]),
                E::EmptyRange,
            ),
            (
                pairs(&[("attr.bad key", "x")]),
                E::BadAttributeKey("attr.bad key".into()),
            ),
            (
                pairs(&[("attr.plan", "a"), ("attr.PLAN", "b")]),
                E::Repeated("plan".into()),
            ),
            (pairs(&[("cursor", "garbage")]), E::BadCursor),
            (pairs(&[("cursor", "12_not-an-id")]), E::BadCursor),
            (pairs(&[("limit", "0")]), E::BadLimit),
        ];
        for (q, want) in bad {
            let got = ContactFilter::parse(&q);
            assert_eq!(got, Err(want.clone()), "{q:?}");
            assert_eq!(want.code(), ErrorCode::InvalidFilter);
        }
        let many: Vec<(String, String)> = (0..=MAX_ATTRIBUTE_FILTERS)
            .map(|i| (format!("attr.k{i}"), "v".to_string()))
            .collect();
        assert_eq!(
            ContactFilter::parse(&many),
            Err(ContactFilterError::TooManyAttributes)
        );
        // Empty values count too: a query is bounded before any work.
        let blank: Vec<(String, String)> = (0..1000)
            .map(|i| (format!("attr.k{i}"), String::new()))
            .collect();
        assert_eq!(
            ContactFilter::parse(&blank),
            Err(ContactFilterError::TooManyParameters)
        );
    }

    fn arb_text() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            Just(None),
            Just(Some(String::new())),
            Just(Some("  ".to_string())),
            "[a-zA-Z ]{1,12}".prop_map(Some),
        ]
    }

    fn arb_attrs() -> impl Strategy<Value = Attributes> {
        proptest::collection::btree_map("[a-z]{1,3}", (0i64..5).prop_map(num), 0..60)
    }

    fn arb_profile() -> impl Strategy<Value = Profile> {
        (arb_text(), arb_text(), arb_text(), arb_text(), arb_attrs()).prop_map(
            |(name, email, phone, company, attributes)| Profile {
                name,
                email,
                phone,
                company,
                attributes,
            },
        )
    }

    proptest! {
        #[test]
        fn merge_keeps_every_filled_field_of_the_kept_contact(kept in arb_profile(), other in arb_profile()) {
            let m = merge(&kept, &other);
            for (k, o, got) in [
                (&kept.name, &other.name, &m.name),
                (&kept.email, &other.email, &m.email),
                (&kept.phone, &other.phone, &m.phone),
                (&kept.company, &other.company, &m.company),
            ] {
                if !blank(k) {
                    prop_assert_eq!(got, k);
                } else if !blank(o) {
                    prop_assert_eq!(got, o);
                } else {
                    prop_assert_eq!(got, &None);
                }
            }
            // The kept contact's attributes all stay, with their values (a kept contact past
            // the limit gains nothing); the result never grows past the limit by merging.
            for (k, v) in &kept.attributes {
                prop_assert_eq!(m.attributes.get(k), Some(v));
            }
            prop_assert!(m.attributes.len() <= kept.attributes.len().max(MAX_ATTRIBUTES));
            for (k, v) in &m.attributes {
                prop_assert!(kept.attributes.get(k) == Some(v) || other.attributes.get(k) == Some(v));
            }
            // Merging the result again with the same contact changes nothing.
            prop_assert_eq!(merge(&m, &other), m.clone());
            prop_assert_eq!(merge(&kept, &Profile::default()).attributes, kept.attributes.clone());
        }

        #[test]
        fn profile_fields_never_panic_and_stay_in_bounds(s in "\\PC{0,260}") {
            if let Ok(Some(n)) = contact_name(&s) {
                prop_assert!(n.chars().count() <= MAX_CONTACT_NAME_CHARS);
                prop_assert_eq!(n.trim(), n.as_str());
            }
            if let Ok(Some(p)) = phone(&s) {
                prop_assert!(p.chars().count() <= MAX_PHONE_CHARS);
                prop_assert!(!p.contains("  "));
            }
            if let Ok(k) = attribute_key(&s) {
                prop_assert!((1..=MAX_ATTRIBUTE_KEY_CHARS).contains(&k.len()));
            }
        }

        #[test]
        fn any_query_parses_or_is_refused_without_panicking(
            kv in proptest::collection::vec(("(q|website|has_email|seen_after|seen_before|cursor|limit|attr\\.[a-zA-Z_ ]{0,5}|x)", "\\PC{0,30}"), 0..8)
        ) {
            if let Ok(f) = ContactFilter::parse(&kv) {
                prop_assert!((1..=100).contains(&f.limit));
                prop_assert!(f.attributes.len() <= MAX_ATTRIBUTE_FILTERS);
            }
        }
    }
}
