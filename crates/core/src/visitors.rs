//! Visitor context and live visitors: the page trail, UTM tags read from a landing URL, and the
//! wire shapes of the dashboard's visitor panel, live visitors page and proactive chats.

use crate::{ContactId, ConversationId, WebsiteId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How many page views are kept per contact; older ones are dropped.
pub const PAGE_TRAIL_MAX: i64 = 50;
/// A page view this long after the previous one starts a new visit.
pub const VISIT_GAP_MS: i64 = 30 * 60 * 1000;

/// One page a visitor looked at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PageView {
    pub url: String,
    pub title: Option<String>,
    #[ts(type = "number")]
    pub at: i64,
}

/// Campaign tags from the landing page's query string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Utm {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub term: Option<String>,
    pub content: Option<String>,
}

impl Utm {
    pub fn is_empty(&self) -> bool {
        *self == Utm::default()
    }

    /// Reads `utm_*` parameters from a URL's query string (percent-decoded, each clipped to
    /// 200 bytes). A URL without any gives an empty set.
    pub fn from_url(url: &str) -> Utm {
        let mut u = Utm::default();
        let query = url.split('#').next().unwrap_or("");
        let Some((_, query)) = query.split_once('?') else {
            return u;
        };
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match k {
                "utm_source" => &mut u.source,
                "utm_medium" => &mut u.medium,
                "utm_campaign" => &mut u.campaign,
                "utm_term" => &mut u.term,
                "utm_content" => &mut u.content,
                _ => continue,
            };
            let v = decode(v);
            let v = v.trim();
            if !v.is_empty() && slot.is_none() {
                *slot = Some(crate::clip(v, 200));
            }
        }
        u
    }
}

/// Percent-decoding for query values (`+` is a space); invalid escapes stay as they are.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(())
                {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).replace(|c: char| c.is_control(), " ")
}

/// `GET /api/v1/contacts/{id}/visit`: everything known about a contact's visit, for the
/// dashboard's visitor panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VisitorDetails {
    pub contact_id: ContactId,
    pub website_id: WebsiteId,
    pub website_name: String,
    pub current_url: Option<String>,
    pub page_title: Option<String>,
    pub referrer: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    pub language: Option<String>,
    pub timezone: Option<String>,
    /// From the IP address, only when an offline GeoIP database is configured; else `null`.
    pub location: Option<String>,
    pub utm: Utm,
    #[ts(type = "number")]
    pub visit_count: i64,
    /// When the current visit started (`null` before the first page view).
    #[ts(type = "number | null")]
    pub visit_started_at: Option<i64>,
    /// Whether the widget has a socket open now.
    pub online: bool,
    /// The latest pages first, at most [`PAGE_TRAIL_MAX`].
    pub pages: Vec<PageView>,
    /// Events the site's page tracked (`Frontdesk('track', …)`), the latest first, at most
    /// [`crate::identity::EVENT_TRAIL_MAX`].
    pub events: Vec<crate::identity::VisitorEvent>,
}

/// One row of the live visitors page: a visitor whose widget is connected now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LiveVisitor {
    pub contact_id: ContactId,
    pub name: Option<String>,
    pub website_id: WebsiteId,
    pub website_name: String,
    pub current_url: Option<String>,
    pub page_title: Option<String>,
    pub referrer: Option<String>,
    pub location: Option<String>,
    #[ts(type = "number")]
    pub visit_count: i64,
    #[ts(type = "number")]
    pub visit_started_at: i64,
    /// Their latest conversation, if it is still open (then a proactive chat would join it).
    pub open_conversation_id: Option<ConversationId>,
}

/// `POST /api/v1/visitors/{contact_id}/chat`: an agent starts a chat with a live visitor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ProactiveChatRequest {
    /// Made up by the dashboard and reused on a retry, so a retry starts no second chat.
    pub client_id: String,
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utm_tags_are_read_from_the_query_string_only() {
        let u = Utm::from_url(
            "https://shop.test/a?utm_source=news%20letter&utm_medium=email&x=1&utm_campaign=spring+sale#utm_term=no",
        );
        assert_eq!(u.source.as_deref(), Some("news letter"));
        assert_eq!(u.medium.as_deref(), Some("email"));
        assert_eq!(u.campaign.as_deref(), Some("spring sale"));
        assert_eq!(u.term, None);
        assert!(Utm::from_url("https://shop.test/").is_empty());
        assert!(
            Utm::from_url("https://shop.test/?utm_source=&utm_medium=%zz")
                .medium
                .is_some()
        );
        assert!(Utm::from_url("https://shop.test/?utm_source=").is_empty());
    }

    #[test]
    fn utm_values_are_clipped_and_control_free() {
        let long = "a".repeat(500);
        let u = Utm::from_url(&format!(
            "https://s.test/?utm_source={long}&utm_term=a%00b%E2"
        ));
        assert!(u.source.unwrap().len() <= 200);
        assert!(!u.term.unwrap().contains('\u{0}'));
    }
}
