//! Proactive triggers: a site's rules for greeting a visitor at the right moment, their
//! validation, and the one evaluation both the server's tests and the widget's loader follow.
//!
//! A rule fires when all its conditions hold for the facts the browser measured (the page,
//! time on it, scroll depth, visits, referrer, UTM tags, exit intent, whether agents are
//! online). The guardrails live in [`evaluate`] too: at most `max_per_visit` greetings a visit,
//! a rule at most once a visit, never again one the visitor closed, and none while a chat runs.
//!
//! The widget runs the same rules in TypeScript (`web/src/widget/triggers.ts`); the cases in
//! `web/test/trigger-cases.json`, written by this module's tests, keep the two in agreement.

use crate::ids::{AgentId, new_v7, typed_id};
use crate::input::ErrorCode;
use crate::routing::url_matches;
use crate::visitors::Utm;
use serde::{Deserialize, Serialize};
use std::fmt;
use ts_rs::TS;

typed_id!(
    /// A proactive trigger rule of a website.
    TriggerId
);

/// Most rules a site may have.
pub const MAX_TRIGGERS: usize = 30;
/// Most conditions a rule may have.
pub const MAX_CONDITIONS: usize = 10;
/// Longest greeting, in characters.
pub const MAX_GREETING_CHARS: usize = 500;
/// Longest rule name or greeting author's name, in characters.
pub const MAX_TRIGGER_NAME: usize = 80;
/// Longest URL, referrer or UTM value a condition compares with, in characters.
pub const MAX_MATCH_CHARS: usize = 500;
/// Longest wait a time-on-page condition may ask for, in seconds.
pub const MAX_SECONDS: u32 = 3600;
/// Highest visit count a condition may ask for.
pub const MAX_VISITS: u32 = 1000;
/// Highest per-visit cap.
pub const MAX_PER_VISIT: u32 = 10;
/// The per-visit cap of a site that never set one.
pub const DEFAULT_PER_VISIT: u32 = 1;

/// How a URL condition compares. A value starting with `/` is compared with the page's path
/// (and query), any other with the whole URL; ASCII letters compare without case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum UrlMatch {
    Exact,
    Prefix,
    /// `*` stands for any run of characters (as in routing rules).
    Pattern,
}

/// How a referrer condition compares (without case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TextMatch {
    Contains,
    Pattern,
}

/// One UTM tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum UtmKey {
    Source,
    Medium,
    Campaign,
    Term,
    Content,
}

/// One condition of a rule; all of a rule's conditions must hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[ts(export)]
pub enum Condition {
    Url {
        how: UrlMatch,
        value: String,
    },
    /// At least this long on the page.
    TimeOnPage {
        seconds: u32,
    },
    /// Scrolled at least this far down the page (0–100).
    ScrollDepth {
        percent: u32,
    },
    /// This is at least the visitor's n-th visit (a visit ends after 30 idle minutes).
    Visits {
        at_least: u32,
    },
    Referrer {
        how: TextMatch,
        value: String,
    },
    /// The visit's landing page carried this UTM tag (compared without case).
    Utm {
        key: UtmKey,
        value: String,
    },
    /// The pointer left the page toward the top, on a desktop (never on touch screens).
    ExitIntent,
}

/// When a rule applies, by whether agents are online.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AgentsWhen {
    #[default]
    Any,
    Online,
    Offline,
}

/// Who a greeting is from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[ts(export)]
pub enum GreetingFrom {
    /// The organization's team, with no one named.
    Team,
    /// A named agent of the organization.
    Agent { id: AgentId, name: String },
}

impl GreetingFrom {
    /// The name shown with the greeting; `None` for the team (the widget says "the team").
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Team => None,
            Self::Agent { name, .. } => Some(name),
        }
    }
}

/// What a rule does when it fires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct TriggerAction {
    /// The greeting, shown as a bubble by the launcher or as the chat's first message.
    pub text: String,
    pub from: GreetingFrom,
    /// Open the chat with the greeting in it, instead of only showing the bubble.
    pub open: bool,
}

/// One rule, as admins edit it and the widget receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct TriggerRule {
    pub id: TriggerId,
    pub name: String,
    pub enabled: bool,
    pub conditions: Vec<Condition>,
    #[serde(default)]
    pub agents: AgentsWhen,
    pub action: TriggerAction,
}

/// A site's triggers: `GET`/`PUT /websites/{id}/triggers` (admins) and the `triggers` of the
/// widget's config (enabled rules only). Rules are tried in order; the first that holds fires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SiteTriggers {
    /// At most this many greetings a visit.
    pub max_per_visit: u32,
    pub rules: Vec<TriggerRule>,
}

impl Default for SiteTriggers {
    fn default() -> Self {
        Self {
            max_per_visit: DEFAULT_PER_VISIT,
            rules: Vec::new(),
        }
    }
}

/// What the browser measured, passed in (the core reads no clock and no page).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PageFacts {
    /// The page's whole URL.
    pub url: String,
    /// Its path and query (`/pricing?plan=pro`).
    pub path: String,
    pub seconds_on_page: u32,
    /// How far down the page the visitor has scrolled, 0–100.
    pub scroll_percent: u32,
    /// This visit's number, counting this one (1 for a first visit).
    pub visits: u32,
    /// `document.referrer`, empty when none.
    pub referrer: String,
    /// The visit's UTM tags.
    pub utm: Utm,
    /// The pointer has left the page toward the top.
    pub exit_intent: bool,
    /// A desktop (a fine pointer that can hover): exit intent means nothing elsewhere.
    pub desktop: bool,
    pub agents_online: bool,
}

/// What the widget remembers for the guardrails.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TriggerState {
    /// Rules shown during this visit.
    pub shown: Vec<TriggerId>,
    /// Rules the visitor closed: never shown again.
    pub dismissed: Vec<TriggerId>,
    /// A conversation is running (open or assigned): no greeting interrupts it.
    pub chatting: bool,
}

/// A rule that fires: its greeting, and whether to open the chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Fire {
    pub id: TriggerId,
    pub text: String,
    pub from: GreetingFrom,
    pub open: bool,
}

/// The first enabled rule whose conditions all hold, unless a guardrail says no.
pub fn evaluate(site: &SiteTriggers, facts: &PageFacts, state: &TriggerState) -> Option<Fire> {
    if state.chatting || state.shown.len() >= site.max_per_visit as usize {
        return None;
    }
    site.rules
        .iter()
        .find(|r| {
            r.enabled
                && !state.shown.contains(&r.id)
                && !state.dismissed.contains(&r.id)
                && agents_hold(r.agents, facts.agents_online)
                && r.conditions.iter().all(|c| holds(c, facts))
        })
        .map(|r| Fire {
            id: r.id.clone(),
            text: r.action.text.clone(),
            from: r.action.from.clone(),
            open: r.action.open,
        })
}

fn agents_hold(when: AgentsWhen, online: bool) -> bool {
    match when {
        AgentsWhen::Any => true,
        AgentsWhen::Online => online,
        AgentsWhen::Offline => !online,
    }
}

/// Whether one condition holds for the facts.
pub fn holds(c: &Condition, f: &PageFacts) -> bool {
    match c {
        Condition::Url { how, value } => {
            let target = if value.starts_with('/') {
                &f.path
            } else {
                &f.url
            };
            match how {
                UrlMatch::Exact => target.eq_ignore_ascii_case(value),
                UrlMatch::Prefix => target
                    .get(..value.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(value)),
                UrlMatch::Pattern => url_matches(value, target),
            }
        }
        Condition::TimeOnPage { seconds } => f.seconds_on_page >= *seconds,
        Condition::ScrollDepth { percent } => f.scroll_percent >= *percent,
        Condition::Visits { at_least } => f.visits >= *at_least,
        Condition::Referrer { how, value } => match how {
            TextMatch::Contains => f
                .referrer
                .to_ascii_lowercase()
                .contains(&value.to_ascii_lowercase()),
            TextMatch::Pattern => url_matches(value, &f.referrer),
        },
        Condition::Utm { key, value } => {
            let u = &f.utm;
            let have = match key {
                UtmKey::Source => &u.source,
                UtmKey::Medium => &u.medium,
                UtmKey::Campaign => &u.campaign,
                UtmKey::Term => &u.term,
                UtmKey::Content => &u.content,
            };
            have.as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(value))
        }
        Condition::ExitIntent => f.desktop && f.exit_intent,
    }
}

/// Why a site's triggers were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TriggerError {
    #[error("a site may have at most {MAX_TRIGGERS} triggers")]
    TooManyRules,
    #[error("the per-visit cap is 1 to {MAX_PER_VISIT}")]
    BadCap,
    #[error("two triggers have the same id")]
    DuplicateId,
    #[error("a trigger's name is 1 to {MAX_TRIGGER_NAME} characters on one line")]
    BadName,
    #[error("a trigger may have at most {MAX_CONDITIONS} conditions")]
    TooManyConditions,
    #[error("a greeting is 1 to {MAX_GREETING_CHARS} characters")]
    BadGreeting,
    #[error("a greeting's author is named with 1 to {MAX_TRIGGER_NAME} characters on one line")]
    BadAuthor,
    #[error(
        "a URL, referrer or UTM value is 1 to {MAX_MATCH_CHARS} characters with no control characters"
    )]
    BadValue,
    #[error("time on the page is 0 to {MAX_SECONDS} seconds")]
    BadSeconds,
    #[error("scroll depth is 0 to 100 percent")]
    BadPercent,
    #[error("a visit count is 1 to {MAX_VISITS}")]
    BadVisits,
    #[error("a condition appears twice in one trigger")]
    DuplicateCondition,
}

impl TriggerError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TooManyRules => ErrorCode::LimitReached,
            Self::BadGreeting => ErrorCode::InvalidGreeting,
            _ => ErrorCode::InvalidTrigger,
        }
    }
}

fn one_line(s: &str, max: usize) -> bool {
    let n = s.chars().count();
    n > 0 && n <= max && !s.chars().any(char::is_control)
}

/// Checks a site's triggers and tidies them (names and texts trimmed). Ids are the caller's:
/// the server gives new rules fresh ones.
pub fn validate(mut site: SiteTriggers) -> Result<SiteTriggers, TriggerError> {
    if site.rules.len() > MAX_TRIGGERS {
        return Err(TriggerError::TooManyRules);
    }
    if !(1..=MAX_PER_VISIT).contains(&site.max_per_visit) {
        return Err(TriggerError::BadCap);
    }
    for r in site.rules.iter_mut() {
        r.name = r.name.trim().to_owned();
        if !one_line(&r.name, MAX_TRIGGER_NAME) {
            return Err(TriggerError::BadName);
        }
        if r.conditions.len() > MAX_CONDITIONS {
            return Err(TriggerError::TooManyConditions);
        }
        r.action.text = r.action.text.trim().to_owned();
        let n = r.action.text.chars().count();
        if n == 0 || n > MAX_GREETING_CHARS {
            return Err(TriggerError::BadGreeting);
        }
        if let GreetingFrom::Agent { name, .. } = &mut r.action.from {
            *name = name.trim().to_owned();
            if !one_line(name, MAX_TRIGGER_NAME) {
                return Err(TriggerError::BadAuthor);
            }
        }
        for c in r.conditions.iter_mut() {
            match c {
                Condition::Url { value, .. }
                | Condition::Referrer { value, .. }
                | Condition::Utm { value, .. } => {
                    *value = value.trim().to_owned();
                    if !one_line(value, MAX_MATCH_CHARS) {
                        return Err(TriggerError::BadValue);
                    }
                }
                Condition::TimeOnPage { seconds } if *seconds > MAX_SECONDS => {
                    return Err(TriggerError::BadSeconds);
                }
                Condition::ScrollDepth { percent } if *percent > 100 => {
                    return Err(TriggerError::BadPercent);
                }
                Condition::Visits { at_least } if !(1..=MAX_VISITS).contains(at_least) => {
                    return Err(TriggerError::BadVisits);
                }
                _ => {}
            }
        }
        for (j, c) in r.conditions.iter().enumerate() {
            if r.conditions[..j].contains(c) {
                return Err(TriggerError::DuplicateCondition);
            }
        }
    }
    for (i, r) in site.rules.iter().enumerate() {
        if site.rules[..i].iter().any(|o| o.id == r.id) {
            return Err(TriggerError::DuplicateId);
        }
    }
    Ok(site)
}

impl SiteTriggers {
    /// What the widget gets: the enabled rules only.
    pub fn for_widget(&self) -> SiteTriggers {
        SiteTriggers {
            max_per_visit: self.max_per_visit,
            rules: self.rules.iter().filter(|r| r.enabled).cloned().collect(),
        }
    }
}

/// What the widget reports about a trigger: `POST /api/v1/widget/trigger`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TriggerEvent {
    /// The greeting was shown (as a bubble, or in the opened chat).
    Shown,
    /// The visitor opened the chat from the greeting.
    Accepted,
}

/// `POST /api/v1/widget/trigger` (the widget, with its visitor token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct TriggerEventRequest {
    pub token: String,
    pub trigger_id: TriggerId,
    pub event: TriggerEvent,
}

/// One trigger's counts, for the dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TriggerStats {
    pub trigger_id: TriggerId,
    #[ts(type = "number")]
    pub shows: i64,
    /// The visitor opened the chat from it, or replied to it.
    #[ts(type = "number")]
    pub accepts: i64,
    /// A conversation started with the greeting as its first message.
    #[ts(type = "number")]
    pub conversions: i64,
}

/// `GET /websites/{id}/triggers` (admins): the rules and each one's counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SiteTriggersView {
    pub triggers: SiteTriggers,
    pub stats: Vec<TriggerStats>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(n: u8) -> TriggerId {
        TriggerId(format!("0190a000-0000-7000-8000-0000000000{n:02}"))
    }

    fn rule(n: u8, conditions: Vec<Condition>) -> TriggerRule {
        TriggerRule {
            id: id(n),
            name: format!("rule {n}"),
            enabled: true,
            conditions,
            agents: AgentsWhen::Any,
            action: TriggerAction {
                text: format!("Hello {n}"),
                from: GreetingFrom::Team,
                open: false,
            },
        }
    }

    fn site(rules: Vec<TriggerRule>) -> SiteTriggers {
        SiteTriggers {
            max_per_visit: 2,
            rules,
        }
    }

    fn facts() -> PageFacts {
        PageFacts {
            url: "https://shop.test/pricing?plan=pro".into(),
            path: "/pricing?plan=pro".into(),
            seconds_on_page: 10,
            scroll_percent: 40,
            visits: 2,
            referrer: "https://www.Google.com/search?q=x".into(),
            utm: Utm {
                source: Some("Newsletter".into()),
                ..Utm::default()
            },
            exit_intent: false,
            desktop: true,
            agents_online: true,
        }
    }

    fn url(how: UrlMatch, v: &str) -> Condition {
        Condition::Url {
            how,
            value: v.into(),
        }
    }

    fn fired(s: &SiteTriggers, f: &PageFacts, st: &TriggerState) -> Option<String> {
        evaluate(s, f, st).map(|x| x.text)
    }

    #[test]
    fn url_conditions_compare_the_path_or_the_whole_url() {
        let f = facts();
        for (c, want) in [
            (url(UrlMatch::Exact, "/pricing?plan=pro"), true),
            (url(UrlMatch::Exact, "/pricing"), false),
            (
                url(UrlMatch::Exact, "https://SHOP.test/pricing?plan=pro"),
                true,
            ),
            (url(UrlMatch::Prefix, "/pricing"), true),
            (url(UrlMatch::Prefix, "/PRICING"), true),
            (url(UrlMatch::Prefix, "/docs"), false),
            (url(UrlMatch::Prefix, "https://shop.test/"), true),
            (url(UrlMatch::Pattern, "/pri*"), true),
            (url(UrlMatch::Pattern, "*plan=pro"), true),
            (url(UrlMatch::Pattern, "/docs/*"), false),
            (url(UrlMatch::Pattern, "*://shop.test/*"), true),
        ] {
            assert_eq!(holds(&c, &f), want, "{c:?}");
        }
    }

    #[test]
    fn measured_conditions_are_thresholds() {
        let f = facts();
        assert!(holds(&Condition::TimeOnPage { seconds: 10 }, &f));
        assert!(!holds(&Condition::TimeOnPage { seconds: 11 }, &f));
        assert!(holds(&Condition::ScrollDepth { percent: 40 }, &f));
        assert!(!holds(&Condition::ScrollDepth { percent: 41 }, &f));
        assert!(holds(&Condition::Visits { at_least: 2 }, &f));
        assert!(!holds(&Condition::Visits { at_least: 3 }, &f));
    }

    #[test]
    fn referrer_utm_and_exit_intent() {
        let mut f = facts();
        let contains = |v: &str| Condition::Referrer {
            how: TextMatch::Contains,
            value: v.into(),
        };
        assert!(holds(&contains("google.com"), &f));
        assert!(!holds(&contains("bing.com"), &f));
        assert!(holds(
            &Condition::Referrer {
                how: TextMatch::Pattern,
                value: "https://*.google.*".into()
            },
            &f
        ));
        let utm = |k, v: &str| Condition::Utm {
            key: k,
            value: v.into(),
        };
        assert!(holds(&utm(UtmKey::Source, "newsletter"), &f));
        assert!(!holds(&utm(UtmKey::Source, "ads"), &f));
        assert!(!holds(&utm(UtmKey::Campaign, "newsletter"), &f));
        assert!(!holds(&Condition::ExitIntent, &f));
        f.exit_intent = true;
        assert!(holds(&Condition::ExitIntent, &f));
        f.desktop = false;
        assert!(!holds(&Condition::ExitIntent, &f), "never on touch screens");
        f.referrer.clear();
        assert!(!holds(&contains("google"), &f));
    }

    #[test]
    fn the_first_rule_that_holds_fires() {
        let s = site(vec![
            rule(1, vec![Condition::TimeOnPage { seconds: 60 }]),
            rule(2, vec![url(UrlMatch::Prefix, "/pricing")]),
            rule(3, vec![]),
        ]);
        assert_eq!(
            fired(&s, &facts(), &TriggerState::default()).as_deref(),
            Some("Hello 2")
        );
    }

    #[test]
    fn every_condition_must_hold() {
        let s = site(vec![rule(
            1,
            vec![
                url(UrlMatch::Prefix, "/pricing"),
                Condition::TimeOnPage { seconds: 60 },
            ],
        )]);
        assert_eq!(fired(&s, &facts(), &TriggerState::default()), None);
    }

    #[test]
    fn agents_online_any_yes_no() {
        let mut r = rule(1, vec![]);
        let mut f = facts();
        for (when, online, want) in [
            (AgentsWhen::Any, true, true),
            (AgentsWhen::Any, false, true),
            (AgentsWhen::Online, true, true),
            (AgentsWhen::Online, false, false),
            (AgentsWhen::Offline, false, true),
            (AgentsWhen::Offline, true, false),
        ] {
            r.agents = when;
            f.agents_online = online;
            let got = evaluate(&site(vec![r.clone()]), &f, &TriggerState::default());
            assert_eq!(got.is_some(), want, "{when:?} {online}");
        }
    }

    #[test]
    fn guardrails_cap_dismissed_shown_chatting_disabled() {
        let s = site(vec![rule(1, vec![]), rule(2, vec![]), rule(3, vec![])]);
        let f = facts();
        let st = |shown: Vec<TriggerId>, dismissed: Vec<TriggerId>, chatting| TriggerState {
            shown,
            dismissed,
            chatting,
        };
        // A rule shown this visit does not fire again; the next one does.
        assert_eq!(
            fired(&s, &f, &st(vec![id(1)], vec![], false)).as_deref(),
            Some("Hello 2")
        );
        // The cap: two a visit.
        assert_eq!(fired(&s, &f, &st(vec![id(1), id(2)], vec![], false)), None);
        // Closed once, never again (in any visit).
        assert_eq!(
            fired(&s, &f, &st(vec![], vec![id(1), id(2)], false)).as_deref(),
            Some("Hello 3")
        );
        // None while a chat runs.
        assert_eq!(fired(&s, &f, &st(vec![], vec![], true)), None);
        // Disabled rules never fire.
        let mut off = s.clone();
        off.rules[0].enabled = false;
        assert_eq!(
            fired(&off, &f, &TriggerState::default()).as_deref(),
            Some("Hello 2")
        );
        assert_eq!(off.for_widget().rules.len(), 2);
    }

    #[test]
    fn validation_refuses_each_broken_rule_with_its_error() {
        let ok = site(vec![rule(1, vec![url(UrlMatch::Exact, " /a ")])]);
        let v = validate(ok.clone()).unwrap();
        assert_eq!(v.rules[0].conditions[0], url(UrlMatch::Exact, "/a"));
        let broken = |f: &dyn Fn(&mut SiteTriggers)| {
            let mut s = ok.clone();
            f(&mut s);
            validate(s).unwrap_err()
        };
        assert_eq!(
            broken(&|s| s.rules = (0..31).map(|n| rule(n, vec![])).collect()),
            TriggerError::TooManyRules
        );
        assert_eq!(broken(&|s| s.max_per_visit = 0), TriggerError::BadCap);
        assert_eq!(broken(&|s| s.max_per_visit = 11), TriggerError::BadCap);
        assert_eq!(
            broken(&|s| s.rules.push(s.rules[0].clone())),
            TriggerError::DuplicateId
        );
        assert_eq!(
            broken(&|s| s.rules[0].name = " ".into()),
            TriggerError::BadName
        );
        assert_eq!(
            broken(&|s| s.rules[0].name = "a\nb".into()),
            TriggerError::BadName
        );
        assert_eq!(
            broken(&|s| s.rules[0].action.text = "x".repeat(501)),
            TriggerError::BadGreeting
        );
        assert_eq!(
            broken(&|s| s.rules[0].action.text = "  ".into()),
            TriggerError::BadGreeting
        );
        assert_eq!(
            broken(&|s| s.rules[0].action.from = GreetingFrom::Agent {
                id: AgentId("a".into()),
                name: "".into()
            }),
            TriggerError::BadAuthor
        );
        assert_eq!(
            broken(&|s| s.rules[0].conditions = vec![url(UrlMatch::Exact, "")]),
            TriggerError::BadValue
        );
        assert_eq!(
            broken(&|s| s.rules[0].conditions = vec![url(UrlMatch::Exact, &"a".repeat(501))]),
            TriggerError::BadValue
        );
        assert_eq!(
            broken(&|s| s.rules[0].conditions = vec![Condition::TimeOnPage { seconds: 3601 }]),
            TriggerError::BadSeconds
        );
        assert_eq!(
            broken(&|s| s.rules[0].conditions = vec![Condition::ScrollDepth { percent: 101 }]),
            TriggerError::BadPercent
        );
        assert_eq!(
            broken(&|s| s.rules[0].conditions = vec![Condition::Visits { at_least: 0 }]),
            TriggerError::BadVisits
        );
        assert_eq!(
            broken(&|s| s.rules[0].conditions = vec![Condition::ExitIntent; 2]),
            TriggerError::DuplicateCondition
        );
        assert_eq!(
            broken(&|s| s.rules[0].conditions = (0..11)
                .map(|n| Condition::TimeOnPage { seconds: n })
                .collect()),
            TriggerError::TooManyConditions
        );
        assert_eq!(TriggerError::BadGreeting.code(), ErrorCode::InvalidGreeting);
        assert_eq!(TriggerError::TooManyRules.code(), ErrorCode::LimitReached);
        assert_eq!(TriggerError::BadSeconds.code(), ErrorCode::InvalidTrigger);
    }

    #[test]
    fn wire_shape_of_a_rule() {
        let r = rule(
            1,
            vec![Condition::TimeOnPage { seconds: 2 }, Condition::ExitIntent],
        );
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(j["conditions"][0]["type"], "time_on_page");
        assert_eq!(
            j["conditions"][1],
            serde_json::json!({"type": "exit_intent"})
        );
        assert_eq!(j["action"]["from"], serde_json::json!({"type": "team"}));
        assert_eq!(j["agents"], "any");
        let back: TriggerRule = serde_json::from_value(j).unwrap();
        assert_eq!(back, r);
    }

    // --- Property tests, and the shared cases the TypeScript evaluator must agree with. ---

    fn arb_condition() -> impl Strategy<Value = Condition> {
        let value = prop::sample::select(vec![
            "/pricing",
            "/docs",
            "/pri*",
            "*pro*",
            "https://shop.test/",
            "google",
            "news",
            "/",
        ]);
        prop_oneof![
            (
                prop::sample::select(vec![UrlMatch::Exact, UrlMatch::Prefix, UrlMatch::Pattern]),
                value.clone()
            )
                .prop_map(|(how, v)| Condition::Url {
                    how,
                    value: v.into()
                }),
            (0u32..20).prop_map(|seconds| Condition::TimeOnPage { seconds }),
            (0u32..=100).prop_map(|percent| Condition::ScrollDepth { percent }),
            (1u32..5).prop_map(|at_least| Condition::Visits { at_least }),
            (
                prop::sample::select(vec![TextMatch::Contains, TextMatch::Pattern]),
                value.clone()
            )
                .prop_map(|(how, v)| Condition::Referrer {
                    how,
                    value: v.into()
                }),
            (
                prop::sample::select(vec![UtmKey::Source, UtmKey::Medium, UtmKey::Campaign]),
                prop::sample::select(vec!["news", "NEWS", "ads"])
            )
                .prop_map(|(key, v)| Condition::Utm {
                    key,
                    value: v.into()
                }),
            Just(Condition::ExitIntent),
        ]
    }

    fn arb_rule(n: u8) -> impl Strategy<Value = TriggerRule> {
        (
            prop::collection::vec(arb_condition(), 0..3),
            any::<bool>(),
            prop::sample::select(vec![
                AgentsWhen::Any,
                AgentsWhen::Online,
                AgentsWhen::Offline,
            ]),
            any::<bool>(),
        )
            .prop_map(move |(conditions, enabled, agents, open)| {
                let mut r = rule(n, conditions);
                r.enabled = enabled || n.is_multiple_of(2);
                r.agents = agents;
                r.action.open = open;
                if n % 3 == 1 {
                    r.action.from = GreetingFrom::Agent {
                        id: AgentId("0190a000-0000-7000-8000-00000000aaaa".into()),
                        name: "Ann".into(),
                    };
                }
                r
            })
    }

    fn arb_site() -> impl Strategy<Value = SiteTriggers> {
        (1u32..4, 0usize..5).prop_flat_map(|(cap, n)| {
            (0..n as u8)
                .map(arb_rule)
                .collect::<Vec<_>>()
                .prop_map(move |rules| SiteTriggers {
                    max_per_visit: cap,
                    rules,
                })
        })
    }

    fn arb_facts() -> impl Strategy<Value = PageFacts> {
        (
            prop::sample::select(vec![
                ("https://shop.test/pricing", "/pricing"),
                ("https://shop.test/docs/a?x=1", "/docs/a?x=1"),
                ("https://SHOP.test/", "/"),
                ("https://other.test/PRICING/pro", "/PRICING/pro"),
            ]),
            (0u32..25, 0u32..=100, 1u32..5),
            prop::sample::select(vec!["", "https://www.google.com/", "https://news.test/a"]),
            prop::sample::select(vec![None, Some("news"), Some("News"), Some("ads")]),
            (any::<bool>(), any::<bool>(), any::<bool>()),
        )
            .prop_map(
                |((url, path), (secs, scroll, visits), referrer, utm, (exit, desktop, online))| {
                    PageFacts {
                        url: url.into(),
                        path: path.into(),
                        seconds_on_page: secs,
                        scroll_percent: scroll,
                        visits,
                        referrer: referrer.into(),
                        utm: Utm {
                            source: utm.map(Into::into),
                            medium: utm.map(|u| u.to_uppercase()),
                            ..Utm::default()
                        },
                        exit_intent: exit,
                        desktop,
                        agents_online: online,
                    }
                },
            )
    }

    fn arb_state() -> impl Strategy<Value = TriggerState> {
        (
            prop::collection::vec(0u8..5, 0..3),
            prop::collection::vec(0u8..5, 0..2),
            prop::bool::weighted(0.15),
        )
            .prop_map(|(shown, dismissed, chatting)| TriggerState {
                shown: shown.into_iter().map(id).collect(),
                dismissed: dismissed.into_iter().map(id).collect(),
                chatting,
            })
    }

    proptest! {
        #[test]
        fn a_fired_rule_obeys_every_guardrail(s in arb_site(), f in arb_facts(), st in arb_state()) {
            if let Some(fire) = evaluate(&s, &f, &st) {
                prop_assert!(!st.chatting);
                prop_assert!(st.shown.len() < s.max_per_visit as usize);
                prop_assert!(!st.shown.contains(&fire.id));
                prop_assert!(!st.dismissed.contains(&fire.id));
                let r = s.rules.iter().find(|r| r.id == fire.id).unwrap();
                prop_assert!(r.enabled);
                prop_assert!(r.conditions.iter().all(|c| holds(c, &f)));
                // It is the first rule that could fire.
                let first = s.rules.iter().position(|r| r.id == fire.id).unwrap();
                for earlier in &s.rules[..first] {
                    let could = earlier.enabled && !st.shown.contains(&earlier.id)
                        && !st.dismissed.contains(&earlier.id)
                        && agents_hold(earlier.agents, f.agents_online)
                        && earlier.conditions.iter().all(|c| holds(c, &f));
                    prop_assert!(!could);
                }
            }
        }

        #[test]
        fn showing_a_fire_never_repeats_it_this_visit(s in arb_site(), f in arb_facts()) {
            // Fire as often as the rules allow: each rule at most once, at most the cap.
            let mut st = TriggerState::default();
            let mut seen = Vec::new();
            while let Some(fire) = evaluate(&s, &f, &st) {
                prop_assert!(!seen.contains(&fire.id));
                seen.push(fire.id.clone());
                st.shown.push(fire.id);
            }
            prop_assert!(seen.len() <= s.max_per_visit as usize);
        }

        #[test]
        fn more_time_scroll_or_visits_never_unfire(s in arb_site(), f in arb_facts(), st in arb_state()) {
            // Conditions are thresholds: with no rule fired, waiting longer cannot un-fire a
            // rule that held (only which one is first may change when more hold).
            if evaluate(&s, &f, &st).is_some() {
                let mut later = f.clone();
                later.seconds_on_page += 5;
                later.scroll_percent = (later.scroll_percent + 10).min(100);
                later.visits += 1;
                prop_assert!(evaluate(&s, &later, &st).is_some());
            }
        }
    }

    /// Writes `web/test/trigger-cases.json`: rules, facts, state and the expected result, which
    /// `web/test/triggers.test.mjs` runs through the TypeScript evaluator. Deterministic (a
    /// fixed seed), so the committed file only changes when the rules do; the stale-file check
    /// is that test's diff.
    #[test]
    fn export_cases_for_the_widget() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
        );
        let strat = (arb_site(), arb_facts(), arb_state());
        let mut cases = Vec::new();
        let mut fired = 0;
        while cases.len() < 400 {
            let (s, f, st) = strat.new_tree(&mut runner).unwrap().current();
            let want = evaluate(&s, &f, &st);
            fired += want.is_some() as usize;
            cases.push(serde_json::json!({ "site": s, "facts": f, "state": st, "fire": want }));
        }
        assert!(fired > 50, "the cases exercise firing ({fired} of 400)");
        let body = serde_json::to_string_pretty(&cases).unwrap() + "\n";
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../web/test/trigger-cases.json"
        );
        #[allow(clippy::disallowed_methods)]
        let old = std::fs::read_to_string(path).unwrap_or_default();
        if old != body {
            #[allow(clippy::disallowed_methods)]
            std::fs::write(path, body).unwrap();
        }
    }
}
