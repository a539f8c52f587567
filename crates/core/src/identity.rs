//! The JS SDK's words for a site's own users: identity verification (`identify` with an
//! HMAC-SHA256 of the user id, keyed by the site's secret), the custom attributes and events a
//! page reports, and their bounds.
//!
//! Rules (each proved by a test below):
//! - A **user id** (the site's own id of its user) is 1 to [`MAX_USER_ID_CHARS`] characters,
//!   trimmed, without control characters.
//! - With verification on, `identify` binds the visitor to that user only when `hash` is the
//!   lower- or upper-case hex of `HMAC-SHA256(secret, user_id)`, compared in constant time.
//!   A hash made for another id, with another secret, or missing, never verifies.
//! - An **event** name is 1 to [`MAX_EVENT_NAME_CHARS`] of letters, digits, space, `_ - . :`
//!   and `/`; its data is at most [`MAX_EVENT_FIELDS`] fields under attribute rules (keys
//!   `a-z0-9_`, values text, number or boolean).

use crate::Millis;
use crate::contacts::{AttributeValue, Attributes, ContactError, attribute_key, attribute_value};
use crate::input::ErrorCode;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;
use thiserror::Error;
use ts_rs::TS;

pub const MAX_USER_ID_CHARS: usize = 200;
pub const MAX_EVENT_NAME_CHARS: usize = 64;
/// Most fields of one tracked event's data.
pub const MAX_EVENT_FIELDS: usize = 20;
/// How many events are kept per contact; older ones are dropped.
pub const EVENT_TRAIL_MAX: i64 = 50;
/// A site's identity secret: 32 random bytes, hex (64 characters).
pub const IDENTITY_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdentityError {
    #[error("a user id is 1 to {MAX_USER_ID_CHARS} characters without control characters")]
    BadUserId,
    #[error(
        "identity verification is on for this site: `hash` must be hex(HMAC-SHA256(secret, id))"
    )]
    BadHash,
    #[error("an event name is 1 to {MAX_EVENT_NAME_CHARS} letters, digits, spaces and _ - . : /")]
    BadEventName,
    #[error("an event has at most {MAX_EVENT_FIELDS} fields")]
    TooManyFields,
    #[error(transparent)]
    Contact(#[from] ContactError),
}

impl IdentityError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadUserId | Self::BadHash => ErrorCode::IdentityInvalid,
            Self::BadEventName | Self::TooManyFields => ErrorCode::InvalidEvent,
            Self::Contact(e) => match e.code() {
                ErrorCode::InvalidAttribute => ErrorCode::InvalidEvent,
                c => c,
            },
        }
    }
}

/// A site's user id, trimmed and checked.
pub fn user_id(raw: &str) -> Result<String, IdentityError> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > MAX_USER_ID_CHARS || t.chars().any(char::is_control) {
        return Err(IdentityError::BadUserId);
    }
    Ok(t.to_owned())
}

/// `hex(HMAC-SHA256(secret, user_id))`: what the site's server computes for `identify`.
pub fn identity_hash(secret: &str, user_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `hash` proves `user_id` under `secret`. Constant time in the hash's bytes (the
/// `hmac` crate's `verify_slice`); anything that is not 64 hex digits fails.
pub fn verify_identity(secret: &str, user_id: &str, hash: &str) -> bool {
    let Ok(bytes) = hex::decode(hash.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(user_id.as_bytes());
    mac.verify_slice(&bytes).is_ok()
}

/// An event's name, trimmed.
pub fn event_name(raw: &str) -> Result<String, IdentityError> {
    let t = raw.trim();
    let ok = !t.is_empty()
        && t.chars().count() <= MAX_EVENT_NAME_CHARS
        && t.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.' | ':' | '/'));
    if ok {
        Ok(t.to_owned())
    } else {
        Err(IdentityError::BadEventName)
    }
}

/// An event's data: attribute rules for each field; blank text fields are left out.
pub fn event_data(raw: &BTreeMap<String, AttributeValue>) -> Result<Attributes, IdentityError> {
    if raw.len() > MAX_EVENT_FIELDS {
        return Err(IdentityError::TooManyFields);
    }
    let mut out = Attributes::new();
    for (k, v) in raw {
        let key = attribute_key(k)?;
        if let Some(v) = attribute_value(&key, v)? {
            out.insert(key, v);
        }
    }
    Ok(out)
}

/// `POST /api/v1/widget/identify` (with the visitor token): who the site says its visitor is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, optional_fields)]
pub struct IdentifyRequest {
    /// The site's own user id.
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// `hex(HMAC-SHA256(site secret, id))`; needed when the site verifies identities.
    pub hash: Option<String>,
}

/// The answer to `identify`: the visitor token to use from now on (another contact's when a
/// verified identity switched to it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct IdentifyResponse {
    pub token: String,
    pub contact_id: crate::ContactId,
    /// True when the hash was checked and the visitor is now the site's user `id`.
    pub verified: bool,
}

/// `POST /api/v1/widget/attributes`: a JSON merge patch of the contact's custom attributes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SetAttributesRequest {
    pub attributes: BTreeMap<String, Option<AttributeValue>>,
}

/// `POST /api/v1/widget/events`: something the visitor did on the site.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, optional_fields)]
pub struct TrackRequest {
    pub name: String,
    pub data: Option<BTreeMap<String, AttributeValue>>,
}

/// A tracked event as agents see it in the visitor panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VisitorEvent {
    pub name: String,
    pub data: BTreeMap<String, AttributeValue>,
    #[ts(type = "number")]
    pub at: Millis,
}

/// `GET|PUT /api/v1/websites/{id}/identity`: whether the site verifies identities, and its
/// secret (admins only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct IdentitySettings {
    pub enabled: bool,
    pub secret: Option<String>,
}

/// `PUT /api/v1/websites/{id}/identity`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SetIdentityRequest {
    pub enabled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_own_id_and_secret() {
        let h = identity_hash("s3cret", "user-42");
        assert_eq!(h.len(), 64);
        assert!(verify_identity("s3cret", "user-42", &h));
        assert!(verify_identity("s3cret", "user-42", &h.to_uppercase()));
        // Replayed for another id, made with another secret, forged, or missing.
        assert!(!verify_identity("s3cret", "user-43", &h));
        assert!(!verify_identity("other", "user-42", &h));
        assert!(!verify_identity("s3cret", "user-42", &"0".repeat(64)));
        assert!(!verify_identity("s3cret", "user-42", ""));
        assert!(!verify_identity("s3cret", "user-42", &h[..63]));
        assert!(!verify_identity("s3cret", "user-42", "zz"));
    }

    #[test]
    fn the_hash_is_the_standard_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            identity_hash("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn user_ids_are_bounded() {
        assert_eq!(user_id(" 42 ").unwrap(), "42");
        assert_eq!(user_id(""), Err(IdentityError::BadUserId));
        assert_eq!(user_id("a\nb"), Err(IdentityError::BadUserId));
        assert!(user_id(&"x".repeat(MAX_USER_ID_CHARS)).is_ok());
        assert!(user_id(&"x".repeat(MAX_USER_ID_CHARS + 1)).is_err());
    }

    #[test]
    fn events_are_bounded() {
        assert_eq!(event_name("Plan upgraded").unwrap(), "Plan upgraded");
        assert_eq!(event_name("checkout:step/2").unwrap(), "checkout:step/2");
        for bad in ["", "   ", "<script>", "a\u{0}", &"x".repeat(65)] {
            assert_eq!(event_name(bad), Err(IdentityError::BadEventName), "{bad:?}");
        }
        let mut data = BTreeMap::new();
        data.insert("Plan".into(), AttributeValue::Text("pro".into()));
        data.insert("seats".into(), AttributeValue::Number(5.into()));
        data.insert("blank".into(), AttributeValue::Text(" ".into()));
        let d = event_data(&data).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d["plan"], AttributeValue::Text("pro".into()));
        data.insert("bad key!".into(), AttributeValue::Bool(true));
        assert_eq!(
            event_data(&data).unwrap_err().code(),
            ErrorCode::InvalidEvent
        );
        let many: BTreeMap<_, _> = (0..=MAX_EVENT_FIELDS)
            .map(|i| (format!("k{i}"), AttributeValue::Bool(true)))
            .collect();
        assert_eq!(event_data(&many), Err(IdentityError::TooManyFields));
    }
}
