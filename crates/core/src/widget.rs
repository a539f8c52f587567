//! The widget's look, per website: accent colour (and the text colour that reads on it),
//! position, launcher text, the agents its header shows, the welcome text, the "we reply in
//! about N minutes" line, and greeting by page (page rules: a URL pattern → a welcome and
//! optionally a team).
//!
//! [`WidgetLook::check`] is the one place the admin's settings are validated. A page rule with
//! a team routes too: [`WidgetLook::routing_rules`] puts it ahead of the site's routing rules
//! as a `UrlPattern` rule, so the routing engine (`routing.rs`) decides with one set of rules.

use crate::ids::AgentId;
use crate::input::ErrorCode;
use crate::routing::{RoutingRule, RuleCondition, TeamId, url_matches};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use ts_rs::TS;

/// The accent colour when the admin chose none (the loader's historical indigo).
pub const DEFAULT_COLOR: &str = "#4f46e5";
/// Longest launcher label, in characters.
pub const MAX_LAUNCHER_TEXT: usize = 24;
/// Longest welcome text (the site's or a page rule's), in characters.
pub const MAX_WELCOME: usize = 300;
/// Most agents the header shows.
pub const MAX_SHOWN_AGENTS: usize = 5;
/// Most page rules a site may have.
pub const MAX_PAGE_RULES: usize = 20;
/// Longest URL pattern of a page rule, in bytes (the URL limit).
pub const MAX_PATTERN_BYTES: usize = crate::input::MAX_URL_BYTES;
/// The "we reply in about N minutes" line: N is 1 to a day.
pub const MAX_REPLY_MINUTES: u32 = 1440;
/// Largest agent photo, in bytes.
pub const MAX_PHOTO_BYTES: u64 = 2 * 1024 * 1024;

/// Which bottom corner the launcher and the chat sit in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum WidgetPosition {
    #[default]
    BottomRight,
    BottomLeft,
}

/// One greeting by page: on a page whose full URL matches `url_pattern` (the glob of
/// [`url_matches`]), the widget says `welcome` (empty: the site's welcome), and with a `team`
/// its header shows that team's agents and a conversation started there goes to that team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PageRule {
    pub url_pattern: String,
    #[serde(default)]
    pub welcome: String,
    #[serde(default)]
    pub team: Option<TeamId>,
}

/// A website's widget look: `GET` and `PUT /api/v1/websites/{id}/look` (admins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct WidgetLook {
    /// `#rrggbb` (`#rgb` is accepted and widened).
    pub color: String,
    #[serde(default)]
    pub position: WidgetPosition,
    /// Shown beside the launcher's icon; empty: the icon alone.
    #[serde(default)]
    pub launcher_text: String,
    /// The agents the header shows, in order (their names and photos).
    #[serde(default)]
    pub agents: Vec<AgentId>,
    /// The greeting at the top of the chat; empty: the widget's default, in the visitor's
    /// language.
    #[serde(default)]
    pub welcome: String,
    /// "We reply in about N minutes"; `null`: no such line.
    #[serde(default)]
    pub reply_minutes: Option<u32>,
    /// Greeting by page, tried in order; the first that matches wins.
    #[serde(default)]
    pub page_rules: Vec<PageRule>,
}

impl Default for WidgetLook {
    fn default() -> Self {
        Self {
            color: DEFAULT_COLOR.to_owned(),
            position: WidgetPosition::BottomRight,
            launcher_text: String::new(),
            agents: Vec::new(),
            welcome: String::new(),
            reply_minutes: None,
            page_rules: Vec::new(),
        }
    }
}

/// Why a look was refused; each has a stable [`ErrorCode`].
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LookError {
    #[error("the colour must be #rrggbb in hex")]
    Color,
    #[error("the launcher text is longer than {MAX_LAUNCHER_TEXT} characters or not one line")]
    LauncherText,
    #[error("the welcome text is longer than {MAX_WELCOME} characters or has control characters")]
    Welcome,
    #[error("the reply time must be 1 to {MAX_REPLY_MINUTES} minutes")]
    ReplyMinutes,
    #[error("at most {MAX_SHOWN_AGENTS} agents, each an agent of this organization")]
    Agents,
    #[error("at most {MAX_PAGE_RULES} page rules")]
    TooManyRules,
    #[error("page rule {0}: the URL pattern must be 1 to {MAX_PATTERN_BYTES} bytes without spaces")]
    Pattern(usize),
    #[error("page rule {0}: the welcome text is too long or has control characters")]
    RuleWelcome(usize),
    #[error("page rule {0}: no such team")]
    RuleTeam(usize),
    #[error("page rule {0}: give it a welcome text, a team, or both")]
    EmptyRule(usize),
}

impl LookError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Color => ErrorCode::InvalidColor,
            Self::LauncherText | Self::Welcome | Self::RuleWelcome(_) => {
                ErrorCode::InvalidWidgetText
            }
            Self::ReplyMinutes | Self::Agents => ErrorCode::InvalidSettings,
            Self::TooManyRules | Self::Pattern(_) | Self::RuleTeam(_) | Self::EmptyRule(_) => {
                ErrorCode::InvalidPageRule
            }
        }
    }
}

/// `#rgb` or `#rrggbb` (any case) as lower-case `#rrggbb`; anything else is `None`.
pub fn parse_color(raw: &str) -> Option<String> {
    let hex = raw.trim().strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let full = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect::<String>(),
        6 => hex.to_owned(),
        _ => return None,
    };
    Some(format!("#{}", full.to_ascii_lowercase()))
}

/// WCAG relative luminance of a `#rrggbb` colour (0 black … 1 white).
fn luminance(color: &str) -> f64 {
    let channel = |i: usize| {
        let v = u8::from_str_radix(color.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
        let c = f64::from(v) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

/// The WCAG contrast ratio of two `#rrggbb` colours (1 … 21).
pub fn contrast(a: &str, b: &str) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// White text.
pub const LIGHT_TEXT: &str = "#ffffff";
/// Near-black text (the widget's ink).
pub const DARK_TEXT: &str = "#111827";

/// The text colour that reads best on `color`: white or near-black, whichever contrasts more.
pub fn text_color(color: &str) -> &'static str {
    if contrast(color, LIGHT_TEXT) >= contrast(color, DARK_TEXT) {
        LIGHT_TEXT
    } else {
        DARK_TEXT
    }
}

/// A text the visitor reads: trimmed, at most `max` characters, no control characters but
/// (when `lines`) line breaks.
fn text(raw: &str, max: usize, lines: bool) -> Option<String> {
    let t = raw.trim();
    let ok = t.chars().count() <= max
        && t.chars()
            .all(|c| !c.is_control() || (lines && (c == '\n' || c == '\r')));
    ok.then(|| t.replace("\r\n", "\n").replace('\r', "\n"))
}

impl WidgetLook {
    /// Validates and normalises a look sent by an admin: `teams` and `agents` are the
    /// organization's, which a page rule's team and the shown agents must be among.
    pub fn check(self, teams: &[TeamId], agents: &[AgentId]) -> Result<Self, LookError> {
        let color = parse_color(&self.color).ok_or(LookError::Color)?;
        let launcher_text =
            text(&self.launcher_text, MAX_LAUNCHER_TEXT, false).ok_or(LookError::LauncherText)?;
        let welcome = text(&self.welcome, MAX_WELCOME, true).ok_or(LookError::Welcome)?;
        if self
            .reply_minutes
            .is_some_and(|m| m == 0 || m > MAX_REPLY_MINUTES)
        {
            return Err(LookError::ReplyMinutes);
        }
        let mut shown: Vec<AgentId> = Vec::new();
        for a in self.agents {
            if !agents.contains(&a) {
                return Err(LookError::Agents);
            }
            if !shown.contains(&a) {
                shown.push(a);
            }
        }
        if shown.len() > MAX_SHOWN_AGENTS {
            return Err(LookError::Agents);
        }
        if self.page_rules.len() > MAX_PAGE_RULES {
            return Err(LookError::TooManyRules);
        }
        let mut page_rules = Vec::with_capacity(self.page_rules.len());
        for (i, r) in self.page_rules.into_iter().enumerate() {
            let n = i + 1;
            let url_pattern = r.url_pattern.trim().to_owned();
            if url_pattern.is_empty()
                || url_pattern.len() > MAX_PATTERN_BYTES
                || url_pattern
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(LookError::Pattern(n));
            }
            let welcome = text(&r.welcome, MAX_WELCOME, true).ok_or(LookError::RuleWelcome(n))?;
            if r.team.as_ref().is_some_and(|t| !teams.contains(t)) {
                return Err(LookError::RuleTeam(n));
            }
            if welcome.is_empty() && r.team.is_none() {
                return Err(LookError::EmptyRule(n));
            }
            page_rules.push(PageRule {
                url_pattern,
                welcome,
                team: r.team,
            });
        }
        Ok(Self {
            color,
            position: self.position,
            launcher_text,
            agents: shown,
            welcome,
            reply_minutes: self.reply_minutes,
            page_rules,
        })
    }

    /// The page rule for the page at `url`: the first, in order, whose pattern matches.
    pub fn page_rule(&self, url: Option<&str>) -> Option<&PageRule> {
        let url = url?;
        self.page_rules
            .iter()
            .find(|r| url_matches(&r.url_pattern, url))
    }

    /// The welcome for the page at `url`: its page rule's, else the site's; `None` leaves the
    /// widget's default (in the visitor's language).
    pub fn welcome_for(&self, url: Option<&str>) -> Option<&str> {
        let rule = self.page_rule(url).map(|r| r.welcome.as_str());
        [rule, Some(self.welcome.as_str())]
            .into_iter()
            .flatten()
            .find(|w| !w.is_empty())
    }

    /// The site's routing rules with the page's rule put first when it names a team: the
    /// conversation of a visitor on that page goes to that team, whatever the later rules say.
    /// A page rule without a team routes nothing (the site's rules decide), and it shadows the
    /// page rules after it, as it does for the welcome.
    pub fn routing_rules(&self, url: Option<&str>, site: &[RoutingRule]) -> Vec<RoutingRule> {
        let mut out = Vec::with_capacity(site.len() + 1);
        if let Some(PageRule {
            url_pattern,
            team: Some(team),
            ..
        }) = self.page_rule(url)
        {
            out.push(RoutingRule {
                condition: RuleCondition::UrlPattern(url_pattern.clone()),
                team: team.clone(),
                skill: None,
            });
        }
        out.extend_from_slice(site);
        out
    }

    /// What the loader needs to draw the launcher.
    pub fn launcher(&self) -> LauncherLook {
        LauncherLook {
            color: self.color.clone(),
            text_color: text_color(&self.color).to_owned(),
            position: self.position,
            launcher_text: self.launcher_text.clone(),
        }
    }
}

/// The launcher's look, in `WidgetConfig` (the loader draws it before any frame exists).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LauncherLook {
    pub color: String,
    /// White or near-black, whichever reads better on `color`.
    pub text_color: String,
    pub position: WidgetPosition,
    pub launcher_text: String,
}

/// An agent as the widget's header shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WidgetAgent {
    pub name: String,
    /// Their photo (`/agent-photos/{id}`), or `null`: the widget shows their initials.
    pub photo_url: Option<String>,
}

/// The chat's look for the visitor's current page, in `WidgetSessionResponse`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ChatLook {
    pub color: String,
    pub text_color: String,
    /// `null`: the widget's default greeting, in the visitor's language.
    pub welcome: Option<String>,
    pub reply_minutes: Option<u32>,
    /// The page rule's team's agents, or the site's chosen agents.
    pub agents: Vec<WidgetAgent>,
}

/// An agent in the look's editor: who may be shown, with their photo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LookAgent {
    pub id: AgentId,
    pub name: String,
    pub photo_url: Option<String>,
}

/// `GET /api/v1/websites/{id}/look`: the look, and the organization's agents to choose from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WidgetLookView {
    pub look: WidgetLook,
    pub agents: Vec<LookAgent>,
}

/// The initials the widget shows for an agent without a photo: the first letters of the first
/// and last words, upper-cased ("Ann Lee" → "AL", "Cher" → "C").
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let first = |w: &&str| w.chars().next();
    let mut out = String::new();
    if let Some(c) = words.first().and_then(first) {
        out.extend(c.to_uppercase());
    }
    if words.len() > 1
        && let Some(c) = words.last().and_then(first)
    {
        out.extend(c.to_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn team(s: &str) -> TeamId {
        TeamId(s.into())
    }
    fn agent(s: &str) -> AgentId {
        AgentId(s.into())
    }
    fn rule(p: &str, welcome: &str, t: Option<&str>) -> PageRule {
        PageRule {
            url_pattern: p.into(),
            welcome: welcome.into(),
            team: t.map(team),
        }
    }

    #[test]
    fn colours_are_hex_and_normalised() {
        assert_eq!(parse_color("#4F46E5").as_deref(), Some("#4f46e5"));
        assert_eq!(parse_color(" #AbC ").as_deref(), Some("#aabbcc"));
        for bad in [
            "4f46e5",
            "#4f46e",
            "#ggg",
            "red",
            "",
            "#",
            "#4f46e5ff",
            "#ａｂｃ",
        ] {
            assert_eq!(parse_color(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_text_colour_reads_on_its_background() {
        assert_eq!(text_color("#4f46e5"), LIGHT_TEXT);
        assert_eq!(text_color("#000000"), LIGHT_TEXT);
        assert_eq!(text_color("#ffffff"), DARK_TEXT);
        assert_eq!(text_color("#fde047"), DARK_TEXT); // yellow
        assert_eq!(text_color("#22d3ee"), DARK_TEXT); // light cyan
        assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 0.01);
        assert!(contrast("#4f46e5", LIGHT_TEXT) >= 4.5);
    }

    #[test]
    fn a_look_is_checked_and_normalised() {
        let teams = [team("t1")];
        let agents = [agent("a1"), agent("a2")];
        let look = WidgetLook {
            color: "#ABC".into(),
            position: WidgetPosition::BottomLeft,
            launcher_text: "  Chat with us ".into(),
            agents: vec![agent("a2"), agent("a1"), agent("a2")],
            welcome: "Hello!\r\nAsk away.".into(),
            reply_minutes: Some(5),
            page_rules: vec![rule(" */pricing* ", "Sales here", Some("t1"))],
        }
        .check(&teams, &agents)
        .unwrap();
        assert_eq!(look.color, "#aabbcc");
        assert_eq!(look.launcher_text, "Chat with us");
        assert_eq!(look.agents, vec![agent("a2"), agent("a1")]);
        assert_eq!(look.welcome, "Hello!\nAsk away.");
        assert_eq!(look.page_rules[0].url_pattern, "*/pricing*");
        assert!(WidgetLook::default().check(&[], &[]).is_ok());
    }

    #[test]
    fn each_broken_rule_has_its_error_and_code() {
        let ok = || WidgetLook::default();
        let check = |l: WidgetLook| l.check(&[team("t1")], &[agent("a1")]).unwrap_err();
        let e = check(WidgetLook {
            color: "blue".into(),
            ..ok()
        });
        assert_eq!(
            (e.clone(), e.code()),
            (LookError::Color, ErrorCode::InvalidColor)
        );
        let e = check(WidgetLook {
            launcher_text: "x".repeat(MAX_LAUNCHER_TEXT + 1),
            ..ok()
        });
        assert_eq!(e.code(), ErrorCode::InvalidWidgetText);
        assert_eq!(
            check(WidgetLook {
                launcher_text: "two\nlines".into(),
                ..ok()
            }),
            LookError::LauncherText
        );
        assert_eq!(
            check(WidgetLook {
                welcome: "bell\u{7}".into(),
                ..ok()
            }),
            LookError::Welcome
        );
        assert_eq!(
            check(WidgetLook {
                welcome: "é".repeat(MAX_WELCOME + 1),
                ..ok()
            }),
            LookError::Welcome
        );
        for m in [0, MAX_REPLY_MINUTES + 1] {
            assert_eq!(
                check(WidgetLook {
                    reply_minutes: Some(m),
                    ..ok()
                }),
                LookError::ReplyMinutes
            );
        }
        assert_eq!(
            check(WidgetLook {
                agents: vec![agent("stranger")],
                ..ok()
            }),
            LookError::Agents
        );
        let many: Vec<AgentId> = (0..6).map(|i| agent(&format!("a{i}"))).collect();
        assert_eq!(
            WidgetLook {
                agents: many.clone(),
                ..ok()
            }
            .check(&[], &many)
            .unwrap_err(),
            LookError::Agents
        );
        let e = check(WidgetLook {
            page_rules: vec![rule("", "hi", None)],
            ..ok()
        });
        assert_eq!(
            (e.clone(), e.code()),
            (LookError::Pattern(1), ErrorCode::InvalidPageRule)
        );
        assert_eq!(
            check(WidgetLook {
                page_rules: vec![rule("*/a*", "hi", None), rule("a b", "hi", None)],
                ..ok()
            }),
            LookError::Pattern(2)
        );
        assert_eq!(
            check(WidgetLook {
                page_rules: vec![rule("*", "hi", Some("gone"))],
                ..ok()
            }),
            LookError::RuleTeam(1)
        );
        assert_eq!(
            check(WidgetLook {
                page_rules: vec![rule("*", " ", None)],
                ..ok()
            }),
            LookError::EmptyRule(1)
        );
        assert_eq!(
            check(WidgetLook {
                page_rules: vec![rule("*", "x", None); MAX_PAGE_RULES + 1],
                ..ok()
            }),
            LookError::TooManyRules
        );
        assert_eq!(
            check(WidgetLook {
                page_rules: vec![rule(&"a".repeat(MAX_PATTERN_BYTES + 1), "x", None)],
                ..ok()
            }),
            LookError::Pattern(1)
        );
    }

    #[test]
    fn the_first_matching_page_rule_gives_the_welcome() {
        let look = WidgetLook {
            welcome: "Site welcome".into(),
            page_rules: vec![
                rule("*/pricing*", "Talk to sales", Some("sales")),
                rule("*/docs*", "", Some("support")),
                rule("*/p*", "Any p page", None),
            ],
            ..WidgetLook::default()
        };
        let w = |u: &str| look.welcome_for(Some(u));
        assert_eq!(w("https://a.test/pricing?x=1"), Some("Talk to sales"));
        assert_eq!(w("https://a.test/docs/start"), Some("Site welcome"));
        assert_eq!(w("https://a.test/press"), Some("Any p page"));
        assert_eq!(w("https://a.test/"), Some("Site welcome"));
        assert_eq!(look.welcome_for(None), Some("Site welcome"));
        assert_eq!(
            WidgetLook::default().welcome_for(Some("https://a.test/")),
            None
        );
    }

    #[test]
    fn a_page_rule_with_a_team_routes_ahead_of_the_site_rules() {
        use crate::routing::{VisitorFacts, matching_rule};
        let site = vec![
            RoutingRule {
                condition: RuleCondition::UrlPattern("*".into()),
                team: team("general"),
                skill: None,
            },
            RoutingRule {
                condition: RuleCondition::Language("de".into()),
                team: team("german"),
                skill: None,
            },
        ];
        let look = WidgetLook {
            page_rules: vec![
                rule("*/press*", "Press office", None),
                rule("*/pricing*", "Sales", Some("sales")),
                rule("*/p*", "", Some("p-team")),
            ],
            ..WidgetLook::default()
        };
        let team_at = |url: &str| {
            let facts = VisitorFacts {
                url: Some(url.into()),
                language: Some("de".into()),
                ..VisitorFacts::default()
            };
            let rules = look.routing_rules(facts.url.as_deref(), &site);
            matching_rule(&rules, &facts).map(|r| r.team.0.clone())
        };
        assert_eq!(team_at("https://a.test/pricing").as_deref(), Some("sales"));
        // A teamless rule matched first: the site's rules decide, not a later page rule.
        assert_eq!(team_at("https://a.test/press").as_deref(), Some("general"));
        assert_eq!(team_at("https://a.test/plans").as_deref(), Some("p-team"));
        assert_eq!(team_at("https://a.test/").as_deref(), Some("general"));
        assert_eq!(look.routing_rules(None, &site), site);
    }

    #[test]
    fn initials_come_from_the_first_and_last_words() {
        assert_eq!(initials("Ann Lee"), "AL");
        assert_eq!(initials("  cher "), "C");
        assert_eq!(initials("Jean Paul Gautier"), "JG");
        assert_eq!(initials("émile zola"), "ÉZ");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn the_launcher_look_carries_the_contrast_colour() {
        let l = WidgetLook {
            color: "#fde047".into(),
            ..WidgetLook::default()
        }
        .launcher();
        assert_eq!(l.text_color, DARK_TEXT);
    }

    proptest! {
        #[test]
        fn any_valid_colour_gets_a_readable_text_colour(r in 0u8.., g in 0u8.., b in 0u8..) {
            let c = format!("#{r:02x}{g:02x}{b:02x}");
            prop_assert_eq!(parse_color(&c.to_uppercase()), Some(c.clone()));
            let t = text_color(&c);
            let other = if t == LIGHT_TEXT { DARK_TEXT } else { LIGHT_TEXT };
            prop_assert!(contrast(&c, t) >= contrast(&c, other));
            // One of the two always reaches WCAG's 3:1 for large text and UI parts.
            prop_assert!(contrast(&c, t) >= 3.0);
        }

        #[test]
        fn checking_never_panics_and_a_checked_look_checks_again(
            color in "#?[0-9a-fA-Fg]{0,7}",
            launcher in "\\PC{0,30}",
            welcome in "[a-z \\n\\x07]{0,40}",
            minutes in proptest::option::of(0u32..2000),
        ) {
            let look = WidgetLook { color, launcher_text: launcher, welcome, reply_minutes: minutes, ..WidgetLook::default() };
            if let Ok(ok) = look.check(&[], &[]) {
                prop_assert_eq!(ok.clone().check(&[], &[]), Ok(ok));
            }
        }
    }
}
