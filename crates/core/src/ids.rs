//! Typed ids. Every id is a UUIDv7 (time-ordered) carried as its hyphenated string, so both
//! databases store it as text and order it by creation time.

use serde::{Deserialize, Serialize};
use std::fmt;
use ts_rs::TS;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
        #[serde(transparent)]
        #[ts(export, type = "string")]
        pub struct $name(pub String);

        impl $name {
            /// A new id whose ordering follows creation time. `now` keeps the core clock-free.
            pub fn new(now: crate::Millis, entropy: u128) -> Self {
                Self(new_v7(now, entropy))
            }
            /// Parses an id from untrusted input: it must be a UUID.
            pub fn parse(s: &str) -> Result<Self, crate::input::InputError> {
                uuid::Uuid::parse_str(s)
                    .map(|u| Self(u.hyphenated().to_string()))
                    .map_err(|_| crate::input::InputError::BadId)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

// Other modules declare their own ids with it (`crate::ids::typed_id!`).
pub(crate) use typed_id;

/// Builds a UUIDv7 from a timestamp and caller-supplied randomness.
pub(crate) fn new_v7(now: crate::Millis, entropy: u128) -> String {
    let ms = (now.max(0) as u64) & 0xFFFF_FFFF_FFFF;
    let mut bytes = entropy.to_be_bytes();
    bytes[0..6].copy_from_slice(&ms.to_be_bytes()[2..8]);
    bytes[6] = (bytes[6] & 0x0F) | 0x70;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
}

typed_id!(
    /// The tenant.
    OrganizationId
);
typed_id!(
    /// A person who answers chats. Belongs to exactly one organization.
    AgentId
);
typed_id!(
    /// A website that embeds the widget.
    WebsiteId
);
typed_id!(
    /// A visitor of a website, known or anonymous.
    ContactId
);
typed_id!(
    /// One conversation between a contact and the organization.
    ConversationId
);
typed_id!(
    /// One stored message.
    MessageId
);
typed_id!(
    /// A tag of an organization (`tags.rs`).
    TagId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v7_and_ordered_by_time() {
        let a = ConversationId::new(1_700_000_000_000, u128::MAX);
        let b = ConversationId::new(1_700_000_000_001, 0);
        assert!(a < b);
        let u = uuid::Uuid::parse_str(a.as_str()).unwrap();
        assert_eq!(u.get_version_num(), 7);
    }

    #[test]
    fn parse_rejects_non_uuids() {
        assert!(ConversationId::parse("nope").is_err());
        assert!(ConversationId::parse("'; drop table x;--").is_err());
        let id = ConversationId::new(5, 7);
        assert_eq!(ConversationId::parse(id.as_str()).unwrap(), id);
    }
}
