//! Wire types for banning a visitor: by their visitor identity (contact) and, optionally, by
//! their IP address, with a reason and an expiry. A banned visitor's widget gets a polite
//! refusal (`banned`) and does not retry.

use crate::Millis;
use crate::ids::{AgentId, ContactId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Longest ban reason, in characters.
pub const MAX_BAN_REASON: usize = 500;
/// Longest ban, in days; `null` is forever.
pub const MAX_BAN_DAYS: u32 = 3650;

/// `POST /conversations/{id}/ban`: bans the conversation's visitor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct BanRequest {
    pub reason: String,
    /// How long, in days (1 to 3650); `null` bans until someone lifts it.
    pub days: Option<u32>,
    /// Also refuse anyone from the visitor's last IP address.
    #[serde(default)]
    pub ip: bool,
}

/// A ban as agents see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BanView {
    pub id: String,
    pub contact_id: Option<ContactId>,
    pub contact_name: Option<String>,
    /// The banned address, when the ban covers one.
    pub ip: Option<String>,
    pub reason: String,
    pub created_by: Option<AgentId>,
    pub created_by_name: Option<String>,
    #[ts(type = "number")]
    pub created_at: Millis,
    #[ts(type = "number | null")]
    pub expires_at: Option<Millis>,
}

/// When a ban made at `now` for `days` ends (`None`: never).
pub fn ban_expiry(now: Millis, days: Option<u32>) -> Option<Millis> {
    days.map(|d| now.saturating_add(i64::from(d) * 86_400_000))
}

/// Whether a ban that ends at `expires_at` still holds at `now`.
pub fn ban_holds(expires_at: Option<Millis>, now: Millis) -> bool {
    expires_at.is_none_or(|e| e > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ban_holds_until_its_expiry_and_forever_without_one() {
        let now = 1_000_000;
        let end = ban_expiry(now, Some(7)).unwrap();
        assert_eq!(end - now, 7 * 86_400_000);
        assert!(ban_holds(Some(end), end - 1));
        assert!(!ban_holds(Some(end), end));
        assert!(ban_holds(ban_expiry(now, None), i64::MAX));
        assert_eq!(ban_expiry(i64::MAX - 5, Some(1)), Some(i64::MAX));
    }
}
