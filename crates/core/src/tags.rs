//! Tags on conversations and the inbox's filter.
//!
//! An organization keeps one list of tags (a name and a colour from a small fixed palette).
//! Names are unique within the organization regardless of case: [`TagName::key`] is what the
//! store compares. Any agent tags conversations, creating a tag by naming it; admins rename,
//! recolour and delete. Visitors never see tags.
//!
//! [`InboxFilter`] is the parsed form of `GET /api/v1/conversations`'s query
//! ([`ConversationQuery`]): every parameter is checked here, once, so the store only ever sees
//! typed values.

use crate::Millis;
use crate::ids::{AgentId, TagId, WebsiteId};
use crate::routing::{Priority, TeamId};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use ts_rs::TS;

/// Longest tag name, in characters.
pub const MAX_TAG_NAME_CHARS: usize = 40;
/// Most tags an organization may have.
pub const MAX_TAGS_PER_ORGANIZATION: i64 = 500;
/// Most tags one conversation may carry.
pub const MAX_TAGS_PER_CONVERSATION: i64 = 20;

/// The palette a tag's colour comes from. The dashboard maps each to a background and a text
/// colour that pass contrast checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TagColor {
    #[default]
    Gray,
    Red,
    Orange,
    Yellow,
    Green,
    Teal,
    Blue,
    Purple,
    Pink,
}

impl TagColor {
    pub const ALL: [TagColor; 9] = [
        Self::Gray,
        Self::Red,
        Self::Orange,
        Self::Yellow,
        Self::Green,
        Self::Teal,
        Self::Blue,
        Self::Purple,
        Self::Pink,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gray => "gray",
            Self::Red => "red",
            Self::Orange => "orange",
            Self::Yellow => "yellow",
            Self::Green => "green",
            Self::Teal => "teal",
            Self::Blue => "blue",
            Self::Purple => "purple",
            Self::Pink => "pink",
        }
    }

    /// Anything else (a colour a later version removed) reads as gray.
    pub fn parse(s: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .unwrap_or_default()
    }

    /// The colour a tag created inline gets: picked from its name (never gray), so that
    /// different tags tend to look different and the same name always gets the same colour.
    pub fn for_name(name: &TagName) -> Self {
        // FNV-1a over the case-folded name.
        let mut h: u32 = 0x811c_9dc5;
        for b in name.key().bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        let colours = &Self::ALL[1..];
        colours[(h as usize) % colours.len()]
    }
}

/// A tag as agents see it, on its own (the organization's list) and on conversations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Tag {
    pub id: TagId,
    pub name: String,
    pub color: TagColor,
}

/// A tag's name: trimmed, inner runs of blank space made one space, 1 to
/// [`MAX_TAG_NAME_CHARS`] characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagName(String);

/// Why a tag name was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a tag name must be 1 to {MAX_TAG_NAME_CHARS} characters, without control characters")]
pub struct BadTagName;

impl TagName {
    pub fn parse(raw: &str) -> Result<Self, BadTagName> {
        if raw.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return Err(BadTagName);
        }
        let t = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        let n = t.chars().count();
        if n == 0 || n > MAX_TAG_NAME_CHARS {
            return Err(BadTagName);
        }
        Ok(Self(t))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// What uniqueness is checked on: the name in lower case (Unicode-aware, so the same on
    /// both databases).
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// `POST /api/v1/tags` (admins). Without a colour, one is picked from the name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CreateTagRequest {
    pub name: String,
    #[serde(default)]
    pub color: Option<TagColor>,
}

/// `PUT /api/v1/tags/{id}` (admins): rename, recolour, or both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct UpdateTagRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub color: Option<TagColor>,
}

/// `POST /api/v1/conversations/{id}/tags`: exactly one of `tag_id` (a tag of the list) or
/// `name` (the tag of that name, whatever its case, created if the organization has none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AddTagRequest {
    #[serde(default)]
    pub tag_id: Option<TagId>,
    #[serde(default)]
    pub name: Option<String>,
}

/// Which time a date range filters on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DateField {
    /// When the conversation started.
    Created,
    /// Its last activity (what the list is sorted by).
    #[default]
    Activity,
}

/// The query of `GET /api/v1/conversations`, as sent. Every value is a string here and is
/// checked by [`InboxFilter::parse`]; an empty value means "not set". Unknown parameters are
/// refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, optional_fields)]
pub struct ConversationQuery {
    /// `unassigned`, `mine`, `all` (the default) or `resolved`.
    pub tab: Option<String>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 50 by default; at most 100.
    pub limit: Option<String>,
    /// A team's id.
    pub team: Option<String>,
    /// An agent's id: conversations assigned to them.
    pub assignee: Option<String>,
    /// A tag's id: conversations carrying it.
    pub tag: Option<String>,
    /// A website's id.
    pub website: Option<String>,
    /// `normal`, `high` or `urgent`.
    pub priority: Option<String>,
    /// What `from` and `to` compare: `activity` (the default) or `created`.
    pub date: Option<String>,
    /// Milliseconds since the Unix epoch, inclusive.
    pub from: Option<String>,
    /// Milliseconds since the Unix epoch, exclusive.
    pub to: Option<String>,
}

/// Filters of the inbox list, all optional and combined with AND. An id of another
/// organization is not an error: it matches nothing, like an id that does not exist.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InboxFilter {
    pub team: Option<TeamId>,
    pub assignee: Option<AgentId>,
    pub tag: Option<TagId>,
    pub website: Option<WebsiteId>,
    pub priority: Option<Priority>,
    pub date: DateField,
    /// Inclusive.
    pub from: Option<Millis>,
    /// Exclusive.
    pub to: Option<Millis>,
}

/// Why an inbox query was refused; the text names the parameter.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    #[error("`{0}` must be an id")]
    BadId(&'static str),
    #[error("`priority` must be normal, high or urgent")]
    BadPriority,
    #[error("`date` must be activity or created")]
    BadDateField,
    #[error("`{0}` must be a time in milliseconds since 1970")]
    BadTime(&'static str),
    #[error("`from` must be before `to`")]
    EmptyRange,
    #[error("`limit` must be a whole number from 1 (more than 100 gives 100)")]
    BadLimit,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn id<T>(
    v: &Option<String>,
    name: &'static str,
    parse: fn(&str) -> Result<T, crate::InputError>,
) -> Result<Option<T>, FilterError> {
    given(v)
        .map(|s| parse(s).map_err(|_| FilterError::BadId(name)))
        .transpose()
}

fn time(v: &Option<String>, name: &'static str) -> Result<Option<Millis>, FilterError> {
    given(v)
        .map(|s| match s.parse::<Millis>() {
            // Up to the year 9999: a bound, so that arithmetic on it never overflows.
            Ok(t) if (0..=253_402_300_799_999).contains(&t) => Ok(t),
            _ => Err(FilterError::BadTime(name)),
        })
        .transpose()
}

impl InboxFilter {
    pub fn parse(q: &ConversationQuery) -> Result<Self, FilterError> {
        let priority = match given(&q.priority) {
            None => None,
            Some("normal") => Some(Priority::Normal),
            Some("high") => Some(Priority::High),
            Some("urgent") => Some(Priority::Urgent),
            Some(_) => return Err(FilterError::BadPriority),
        };
        let date = match given(&q.date) {
            None | Some("activity") => DateField::Activity,
            Some("created") => DateField::Created,
            Some(_) => return Err(FilterError::BadDateField),
        };
        let from = time(&q.from, "from")?;
        let to = time(&q.to, "to")?;
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            return Err(FilterError::EmptyRange);
        }
        Ok(Self {
            team: id(&q.team, "team", TeamId::parse)?,
            assignee: id(&q.assignee, "assignee", AgentId::parse)?,
            tag: id(&q.tag, "tag", TagId::parse)?,
            website: id(&q.website, "website", WebsiteId::parse)?,
            priority,
            date,
            from,
            to,
        })
    }

    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The page size a query asks for: 50 when not given; more than 100 gives 100.
pub fn page_limit(q: &ConversationQuery) -> Result<i64, FilterError> {
    match given(&q.limit) {
        None => Ok(50),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 1 => Ok(n.min(100)),
            _ => Err(FilterError::BadLimit),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tag_names_are_trimmed_folded_and_bounded() {
        let n = TagName::parse("  Billing \t  issue ").unwrap();
        assert_eq!(n.as_str(), "Billing issue");
        assert_eq!(n.key(), "billing issue");
        assert_eq!(
            TagName::parse("ÄRGER").unwrap().key(),
            TagName::parse("ärger").unwrap().key()
        );
        assert!(TagName::parse("").is_err());
        assert!(TagName::parse("   ").is_err());
        assert!(TagName::parse("a\u{0}b").is_err());
        assert!(TagName::parse("a\u{1b}[31mb").is_err());
        assert!(TagName::parse(&"é".repeat(MAX_TAG_NAME_CHARS)).is_ok());
        assert!(TagName::parse(&"é".repeat(MAX_TAG_NAME_CHARS + 1)).is_err());
        assert!(
            TagName::parse("<b>vip</b>").is_ok(),
            "stored as typed, shown as text"
        );
    }

    #[test]
    fn inline_colours_come_from_the_name_and_are_never_gray() {
        let a = TagName::parse("billing").unwrap();
        assert_eq!(
            TagColor::for_name(&a),
            TagColor::for_name(&TagName::parse("BILLING").unwrap())
        );
        let used: std::collections::BTreeSet<&str> = ["billing", "vip", "bug", "refund", "sales"]
            .iter()
            .map(|n| TagColor::for_name(&TagName::parse(n).unwrap()).as_str())
            .collect();
        assert!(!used.contains("gray"));
        assert!(used.len() > 1, "{used:?}");
        assert_eq!(TagColor::parse("teal"), TagColor::Teal);
        assert_eq!(TagColor::parse("mauve"), TagColor::Gray);
    }

    fn q(pairs: &[(&str, &str)]) -> ConversationQuery {
        let s: String = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut q = ConversationQuery::default();
        for (k, v) in pairs {
            let v = Some((*v).to_owned());
            match *k {
                "team" => q.team = v,
                "assignee" => q.assignee = v,
                "tag" => q.tag = v,
                "website" => q.website = v,
                "priority" => q.priority = v,
                "date" => q.date = v,
                "from" => q.from = v,
                "to" => q.to = v,
                "limit" => q.limit = v,
                _ => panic!("{s}"),
            }
        }
        q
    }

    #[test]
    fn filters_parse_every_parameter() {
        let id = "0190a000-0000-7000-8000-000000000001";
        let f = InboxFilter::parse(&q(&[
            ("team", id),
            ("assignee", id),
            ("tag", id),
            ("website", id),
            ("priority", "urgent"),
            ("date", "created"),
            ("from", "1000"),
            ("to", "2000"),
        ]))
        .unwrap();
        assert_eq!(f.team.unwrap().as_str(), id);
        assert_eq!(f.tag.unwrap().as_str(), id);
        assert_eq!(f.priority, Some(Priority::Urgent));
        assert_eq!(f.date, DateField::Created);
        assert_eq!((f.from, f.to), (Some(1000), Some(2000)));
        // Empty values are "not set".
        let f = InboxFilter::parse(&q(&[("team", ""), ("priority", " ")])).unwrap();
        assert!(f.is_empty());
    }

    #[test]
    fn bad_filters_name_the_parameter() {
        let bad = [
            (q(&[("tag", "billing")]), FilterError::BadId("tag")),
            (q(&[("team", "' OR 1=1 --")]), FilterError::BadId("team")),
            (q(&[("priority", "low")]), FilterError::BadPriority),
            (q(&[("date", "updated")]), FilterError::BadDateField),
            (q(&[("from", "yesterday")]), FilterError::BadTime("from")),
            (q(&[("to", "-5")]), FilterError::BadTime("to")),
            (
                q(&[("to", "99999999999999999999")]),
                FilterError::BadTime("to"),
            ),
            (
                q(&[("from", "2000"), ("to", "2000")]),
                FilterError::EmptyRange,
            ),
        ];
        for (query, want) in bad {
            assert_eq!(InboxFilter::parse(&query), Err(want.clone()), "{query:?}");
            assert!(want.to_string().contains('`'), "{want}");
        }
        assert_eq!(page_limit(&q(&[])), Ok(50));
        assert_eq!(page_limit(&q(&[("limit", "100")])), Ok(100));
        assert_eq!(page_limit(&q(&[("limit", "5000")])), Ok(100));
        assert_eq!(
            page_limit(&q(&[("limit", "0")])),
            Err(FilterError::BadLimit)
        );
        assert_eq!(
            page_limit(&q(&[("limit", "x")])),
            Err(FilterError::BadLimit)
        );
    }

    proptest! {
        #[test]
        fn tag_names_never_panic_and_stay_in_bounds(s in "\\PC{0,60}") {
            if let Ok(n) = TagName::parse(&s) {
                let c = n.as_str().chars().count();
                prop_assert!((1..=MAX_TAG_NAME_CHARS).contains(&c));
                prop_assert_eq!(n.as_str().trim(), n.as_str());
                prop_assert!(!n.as_str().contains("  "));
            }
        }
    }
}
