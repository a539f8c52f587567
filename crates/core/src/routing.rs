//! The routing engine: which team a new conversation goes to ([`choose_team`]) and which agent
//! of that team gets each waiting conversation ([`route`]).
//!
//! Pure and deterministic: the caller passes a snapshot of teams, agents and the queue plus the
//! time, and gets a [`Plan`] back. The same input always gives the same plan, whatever the order
//! of the input slices. `docs/routing.md` describes the rules for admins.
//!
//! Invariants of [`route`], each proved by a property test below: it never assigns an agent
//! past their concurrency limit, never assigns an agent who is not online, and every waiting
//! conversation comes back exactly once (assigned, overflowed or still waiting).

use crate::Millis;
use crate::ids::{AgentId, ConversationId};
use crate::protocol::AgentStatus;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use ts_rs::TS;

/// Chats an agent holds at once unless their settings say otherwise.
pub const DEFAULT_CONCURRENCY_LIMIT: u32 = 3;

/// A team (department) of agents. Same shape as the ids in `ids.rs`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(transparent)]
#[ts(export)]
pub struct TeamId(pub String);

impl TeamId {
    /// A new id whose ordering follows creation time. `now` keeps the core clock-free.
    pub fn new(now: Millis, entropy: u128) -> Self {
        let ms = (now.max(0) as u64) & 0xFFFF_FFFF_FFFF;
        let random = entropy.to_be_bytes();
        let mut bytes = [0u8; 10];
        bytes.copy_from_slice(&random[6..16]);
        Self(
            uuid::Builder::from_unix_timestamp_millis(ms, &bytes)
                .into_uuid()
                .hyphenated()
                .to_string(),
        )
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

impl fmt::Display for TeamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Choosing the team
// ---------------------------------------------------------------------------------------------

/// What a routing rule looks at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum RuleCondition {
    /// The full page URL matches this glob: `*` matches any run of characters (also none), every
    /// other character matches itself, ignoring ASCII case. See [`url_matches`].
    UrlPattern(String),
    /// The department picked in the pre-chat form, compared exactly.
    Department(String),
    /// The visitor's language, as a language range: `de` matches `de` and `de-AT`; `de-AT`
    /// matches `de-AT` only. See [`language_matches`].
    Language(String),
    /// A contact attribute has this value (e.g. `plan` = `enterprise`), both compared exactly.
    Attribute { key: String, value: String },
}

impl RuleCondition {
    pub fn matches(&self, facts: &VisitorFacts) -> bool {
        match self {
            Self::UrlPattern(pattern) => facts
                .url
                .as_deref()
                .is_some_and(|u| url_matches(pattern, u)),
            Self::Department(d) => facts.department.as_deref() == Some(d.as_str()),
            Self::Language(range) => facts
                .language
                .as_deref()
                .is_some_and(|tag| language_matches(range, tag)),
            Self::Attribute { key, value } => facts.attributes.get(key) == Some(value),
        }
    }
}

/// One rule of a site: conversations that meet `condition` go to `team`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RoutingRule {
    pub condition: RuleCondition,
    pub team: TeamId,
    /// A skill the conversation then requires (for a team with the `skills` strategy).
    #[serde(default)]
    pub skill: Option<String>,
}

/// What is known about a visitor when their conversation starts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorFacts {
    pub url: Option<String>,
    pub department: Option<String>,
    pub language: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// The team for a new conversation: the first rule, in the site's order, that matches; the
/// site's default team when none does.
pub fn choose_team(rules: &[RoutingRule], facts: &VisitorFacts, default: &TeamId) -> TeamId {
    rules
        .iter()
        .find(|r| r.condition.matches(facts))
        .map_or_else(|| default.clone(), |r| r.team.clone())
}

/// The first rule, in the site's order, that matches: it names the team and possibly a
/// required skill. `None` when no rule matches (the site's default team applies).
pub fn matching_rule<'a>(
    rules: &'a [RoutingRule],
    facts: &VisitorFacts,
) -> Option<&'a RoutingRule> {
    rules.iter().find(|r| r.condition.matches(facts))
}

/// Whether `url` matches the glob `pattern` as a whole. `*` matches any run of characters,
/// including none; everything else matches itself, ignoring ASCII case (so the scheme and host,
/// which are case-insensitive, and the path, which usually is in practice, all compare alike).
/// `https://example.com/pricing*` matches the pricing page with any query; `*/pricing*` matches
/// it on any host. Runs in O(pattern × url) at worst; both are bounded by the URL limit.
pub fn url_matches(pattern: &str, url: &str) -> bool {
    let (p, s) = (pattern.as_bytes(), url.as_bytes());
    let (mut pi, mut si) = (0, 0);
    // The last `*` seen and the position in `s` it currently stands for the end of.
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi].eq_ignore_ascii_case(&s[si]) {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            // Let the last `*` swallow one more character and retry from there.
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Basic filtering of RFC 4647: the language range `range` matches the tag `tag` when it equals
/// the tag or a prefix of it that ends at a subtag boundary, ignoring case and accepting `_` for
/// `-`. `de` matches `de`, `de-AT` and `DE_at`; `de-AT` does not match `de`.
pub fn language_matches(range: &str, tag: &str) -> bool {
    let range = normalise_language(range);
    let tag = normalise_language(tag);
    !range.is_empty()
        && (tag == range || (tag.starts_with(&range) && tag.as_bytes()[range.len()] == b'-'))
}

fn normalise_language(tag: &str) -> String {
    tag.trim().replace('_', "-").to_ascii_lowercase()
}

/// The primary subtag of a language tag, lower-cased: `de` for `de-AT`.
fn primary_language(tag: &str) -> String {
    let tag = normalise_language(tag);
    tag.split('-').next().unwrap_or_default().to_string()
}

// ---------------------------------------------------------------------------------------------
// Teams, agents and the queue
// ---------------------------------------------------------------------------------------------

/// How a team hands its waiting conversations to its agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Nobody is assigned: agents take chats from the team's queue themselves.
    Manual,
    /// The free agent idle longest (oldest last assignment; never assigned comes first).
    RoundRobin,
    /// The free agent with the most free capacity (limit − active chats).
    LeastBusy,
    /// A free agent with the chat's required skill, preferring one who speaks the visitor's
    /// language, then the least busy. Without a required skill: language, then least busy.
    Skills,
}

/// Whether an agent can be given chats. Only `Online` agents ever are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Online,
    Away,
    /// Not connected at all.
    Offline,
}

impl Presence {
    /// An agent's presence from the status they set and whether they are connected.
    pub fn of(status: AgentStatus, connected: bool) -> Self {
        match (connected, status) {
            (false, _) => Self::Offline,
            (true, AgentStatus::Online) => Self::Online,
            (true, AgentStatus::Away) => Self::Away,
        }
    }
}

/// How soon a waiting conversation is served. `Urgent > High > Normal`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS,
)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    #[default]
    Normal,
    /// VIP contacts.
    High,
    Urgent,
}

impl Priority {
    /// The priority of a new conversation: urgent wins, a VIP contact is `High`.
    pub fn for_conversation(vip: bool, urgent: bool) -> Self {
        match (urgent, vip) {
            (true, _) => Self::Urgent,
            (false, true) => Self::High,
            (false, false) => Self::Normal,
        }
    }
}

/// An agent as routing sees them at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSnapshot {
    pub id: AgentId,
    pub presence: Presence,
    /// Conversations the agent holds now.
    pub active: u32,
    /// Most conversations the agent may hold at once ([`DEFAULT_CONCURRENCY_LIMIT`] by default).
    pub limit: u32,
    pub skills: BTreeSet<String>,
    /// Language tags the agent speaks (`de`, `en-GB`); compared by primary subtag.
    pub languages: BTreeSet<String>,
    /// When the agent was last given a conversation; `None` if never.
    pub last_assigned_at: Option<Millis>,
}

impl AgentSnapshot {
    fn free(&self, active: u32) -> u32 {
        self.limit.saturating_sub(active)
    }
}

/// Where a team's conversations go when it cannot serve them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Overflow {
    /// The backup team.
    pub to: TeamId,
    /// Move a conversation that has waited this long (since `enqueued_at`).
    #[ts(type = "number | null")]
    pub after_ms: Option<i64>,
    /// Move a conversation at once when every online member of the team is at their limit.
    pub when_full: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: TeamId,
    pub strategy: Strategy,
    pub members: Vec<AgentId>,
    pub overflow: Option<Overflow>,
}

/// A conversation waiting for an agent of `team`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub conversation: ConversationId,
    pub team: TeamId,
    pub priority: Priority,
    /// Only agents with this skill may take it, in a team whose strategy is `Skills`.
    pub required_skill: Option<String>,
    /// The visitor's language; agents who speak it are preferred in a `Skills` team.
    pub language: Option<String>,
    /// When it joined `team`'s queue.
    pub enqueued_at: Millis,
}

/// The order in which waiting conversations are served: priority (highest first), then time of
/// joining the queue (oldest first), then conversation id. A conversation listed twice counts
/// once, by its first entry in this order.
pub fn service_order(queue: &[Waiting]) -> Vec<&Waiting> {
    let mut order: Vec<&Waiting> = queue.iter().collect();
    order.sort_by(|a, b| {
        (Reverse(a.priority), a.enqueued_at, &a.conversation).cmp(&(
            Reverse(b.priority),
            b.enqueued_at,
            &b.conversation,
        ))
    });
    let mut seen = BTreeSet::new();
    order.retain(|w| seen.insert(&w.conversation));
    order
}

// ---------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------

/// What one routing pass decided. Every conversation of the queue is in exactly one of the
/// three lists, each in service order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Give this conversation to this agent (possibly an agent of the overflow team).
    pub assignments: Vec<(ConversationId, AgentId)>,
    /// Move this conversation to this team's queue: it overflowed there and nobody in that team
    /// could take it in this pass. The caller re-queues it with `enqueued_at` set to the time of
    /// the move, so the new team's own overflow timer starts then.
    pub overflows: Vec<(ConversationId, TeamId)>,
    /// Leave it where it is.
    pub still_waiting: Vec<ConversationId>,
}

/// One routing pass over the queue at time `now`.
///
/// Conversations are served in [`service_order`]. For each, the team's strategy picks a free
/// online agent; the agent's active count and last assignment are updated at once, so one pass
/// never overfills anyone and round robin moves on within a pass. A conversation the team
/// cannot serve overflows when its team has an overflow whose timer ran out or (with
/// `when_full`) whose online members are all at their limit: the overflow team's strategy gets
/// one try in the same pass, and if it fails the conversation is reported in
/// [`Plan::overflows`]. Overflow follows one hop per pass, so teams that overflow into each
/// other (A→B→A) cannot loop. A conversation whose team is unknown, or whose overflow team is
/// unknown or itself, stays waiting. Agents and teams listed twice count by their first entry.
pub fn route(now: Millis, teams: &[Team], agents: &[AgentSnapshot], queue: &[Waiting]) -> Plan {
    let mut team_by_id: BTreeMap<&TeamId, &Team> = BTreeMap::new();
    for t in teams {
        team_by_id.entry(&t.id).or_insert(t);
    }
    let mut load: BTreeMap<&AgentId, Load<'_>> = BTreeMap::new();
    for a in agents {
        load.entry(&a.id).or_insert(Load {
            agent: a,
            active: a.active,
            last_assigned_at: a.last_assigned_at,
        });
    }

    let mut plan = Plan::default();
    for w in service_order(queue) {
        let conversation = w.conversation.clone();
        let Some(team) = team_by_id.get(&w.team) else {
            plan.still_waiting.push(conversation);
            continue;
        };
        if let Some(agent) = pick(team, w, &load) {
            assign(&mut load, &agent, now);
            plan.assignments.push((conversation, agent));
            continue;
        }
        match overflow_target(now, team, w, &load, &team_by_id) {
            Some(target) => match pick(target, w, &load) {
                Some(agent) => {
                    assign(&mut load, &agent, now);
                    plan.assignments.push((conversation, agent));
                }
                None => plan.overflows.push((conversation, target.id.clone())),
            },
            None => plan.still_waiting.push(conversation),
        }
    }
    plan
}

/// An agent's load as it changes during one pass.
struct Load<'a> {
    agent: &'a AgentSnapshot,
    active: u32,
    last_assigned_at: Option<Millis>,
}

impl Load<'_> {
    fn can_take(&self) -> bool {
        self.agent.presence == Presence::Online && self.active < self.agent.limit
    }
    fn speaks(&self, language: &str) -> bool {
        let wanted = primary_language(language);
        self.agent
            .languages
            .iter()
            .any(|l| primary_language(l) == wanted)
    }
}

fn assign(load: &mut BTreeMap<&AgentId, Load<'_>>, agent: &AgentId, now: Millis) {
    if let Some(l) = load.get_mut(agent) {
        l.active += 1;
        l.last_assigned_at = Some(now);
    }
}

/// The agent of `team` that its strategy gives `w` to, if any can take it.
fn pick(team: &Team, w: &Waiting, load: &BTreeMap<&AgentId, Load<'_>>) -> Option<AgentId> {
    let free = team
        .members
        .iter()
        .filter_map(|m| load.get(m))
        .filter(|l| l.can_take());
    let chosen = match team.strategy {
        Strategy::Manual => None,
        Strategy::RoundRobin => free.min_by_key(|l| (l.last_assigned_at, &l.agent.id)),
        Strategy::LeastBusy => free.min_by_key(|l| {
            (
                Reverse(l.agent.free(l.active)),
                l.last_assigned_at,
                &l.agent.id,
            )
        }),
        Strategy::Skills => free
            .filter(|l| {
                w.required_skill
                    .as_ref()
                    .is_none_or(|s| l.agent.skills.contains(s))
            })
            .min_by_key(|l| {
                let speaks = w.language.as_deref().is_none_or(|lang| l.speaks(lang));
                (
                    !speaks,
                    Reverse(l.agent.free(l.active)),
                    l.last_assigned_at,
                    &l.agent.id,
                )
            }),
    };
    chosen.map(|l| l.agent.id.clone())
}

/// The team `w` overflows to now, if its team has an overflow that applies.
fn overflow_target<'t>(
    now: Millis,
    team: &Team,
    w: &Waiting,
    load: &BTreeMap<&AgentId, Load<'_>>,
    team_by_id: &BTreeMap<&TeamId, &'t Team>,
) -> Option<&'t Team> {
    let overflow = team.overflow.as_ref()?;
    if overflow.to == team.id {
        return None;
    }
    let timed_out = overflow
        .after_ms
        .is_some_and(|after| now.saturating_sub(w.enqueued_at) >= after);
    let full = overflow.when_full
        && !team
            .members
            .iter()
            .filter_map(|m| load.get(m))
            .any(|l| l.can_take());
    if timed_out || full {
        team_by_id.get(&overflow.to).copied()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::Strategy as Strat;
    use super::*;
    use proptest::prelude::*;
    use proptest::strategy::Strategy;
    use std::collections::BTreeMap as Map;

    fn agent_id(s: &str) -> AgentId {
        AgentId(s.to_string())
    }
    fn team_id(s: &str) -> TeamId {
        TeamId(s.to_string())
    }
    fn conv(s: &str) -> ConversationId {
        ConversationId(s.to_string())
    }

    fn agent(id: &str) -> AgentSnapshot {
        AgentSnapshot {
            id: agent_id(id),
            presence: Presence::Online,
            active: 0,
            limit: DEFAULT_CONCURRENCY_LIMIT,
            skills: BTreeSet::new(),
            languages: BTreeSet::new(),
            last_assigned_at: None,
        }
    }

    fn team(id: &str, strategy: Strat, members: &[&str]) -> Team {
        Team {
            id: team_id(id),
            strategy,
            members: members.iter().map(|m| agent_id(m)).collect(),
            overflow: None,
        }
    }

    fn waiting(c: &str, t: &str, at: Millis) -> Waiting {
        Waiting {
            conversation: conv(c),
            team: team_id(t),
            priority: Priority::Normal,
            required_skill: None,
            language: None,
            enqueued_at: at,
        }
    }

    fn assigned(plan: &Plan) -> Vec<(&str, &str)> {
        plan.assignments
            .iter()
            .map(|(c, a)| (c.as_str(), a.as_str()))
            .collect()
    }

    fn set<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    // ----- choosing the team -----

    fn rule(condition: RuleCondition, team: &str) -> RoutingRule {
        RoutingRule {
            condition,
            team: team_id(team),
            skill: None,
        }
    }

    #[test]
    fn url_pattern_rule_matches_the_full_url_with_star_as_any_run() {
        assert!(url_matches(
            "https://example.com/pricing*",
            "https://example.com/pricing?x=1"
        ));
        assert!(url_matches(
            "https://example.com/pricing*",
            "https://example.com/pricing"
        ));
        assert!(url_matches(
            "*/pricing*",
            "http://shop.example.org/pricing/team"
        ));
        assert!(url_matches("*", ""));
        assert!(url_matches(
            "HTTPS://Example.COM/*",
            "https://example.com/a"
        ));
        assert!(url_matches("*a*b*c", "xxaxxbxxbxc"));
        // The whole URL must match, not a part of it.
        assert!(!url_matches("example.com", "https://example.com/"));
        assert!(!url_matches(
            "https://example.com/pricing",
            "https://example.com/pricing/x"
        ));
        assert!(!url_matches("*/pricing", "https://example.com/pricing/x"));
        assert!(!url_matches("a*b", "ac"));
        assert!(url_matches("", ""));
        assert!(!url_matches("", "x"));
    }

    #[test]
    fn language_rule_matches_on_subtag_boundaries() {
        assert!(language_matches("de", "de"));
        assert!(language_matches("de", "de-AT"));
        assert!(language_matches("DE", "de_at"));
        assert!(language_matches("de-AT", "de-at"));
        assert!(!language_matches("de-AT", "de"));
        assert!(!language_matches("de", "dee"));
        assert!(!language_matches("", "de"));
    }

    #[test]
    fn each_rule_kind_picks_its_team_and_the_first_match_wins() {
        let rules = vec![
            rule(RuleCondition::UrlPattern("*/pricing*".into()), "sales"),
            rule(RuleCondition::Department("Billing".into()), "billing"),
            rule(RuleCondition::Language("de".into()), "german"),
            rule(
                RuleCondition::Attribute {
                    key: "plan".into(),
                    value: "enterprise".into(),
                },
                "enterprise",
            ),
        ];
        let default = team_id("general");
        let facts = |f: fn(&mut VisitorFacts)| {
            let mut v = VisitorFacts::default();
            f(&mut v);
            choose_team(&rules, &v, &default)
        };
        assert_eq!(facts(|_| {}), team_id("general"));
        assert_eq!(
            facts(|v| v.url = Some("https://x.io/pricing".into())),
            team_id("sales")
        );
        assert_eq!(
            facts(|v| v.department = Some("Billing".into())),
            team_id("billing")
        );
        assert_eq!(
            facts(|v| v.department = Some("billing".into())),
            team_id("general")
        );
        assert_eq!(
            facts(|v| v.language = Some("de-CH".into())),
            team_id("german")
        );
        assert_eq!(
            facts(|v| {
                v.attributes.insert("plan".into(), "enterprise".into());
            }),
            team_id("enterprise")
        );
        assert_eq!(
            facts(|v| {
                v.attributes.insert("plan".into(), "free".into());
            }),
            team_id("general")
        );
        // Several rules match: the earliest in the list wins.
        assert_eq!(
            facts(|v| {
                v.language = Some("de".into());
                v.url = Some("https://x.io/pricing".into());
            }),
            team_id("sales")
        );
    }

    #[test]
    fn rules_serialise_as_tagged_json() {
        let r = rule(
            RuleCondition::Attribute {
                key: "plan".into(),
                value: "enterprise".into(),
            },
            "t",
        );
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"condition":{"attribute":{"key":"plan","value":"enterprise"}},"team":"t","skill":null}"#
        );
        let url = serde_json::to_string(&RuleCondition::UrlPattern("*/x".into())).unwrap();
        assert_eq!(url, r#"{"url_pattern":"*/x"}"#);
        let back: RoutingRule = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        let t = Team {
            overflow: Some(Overflow {
                to: team_id("backup"),
                after_ms: Some(60_000),
                when_full: true,
            }),
            ..team("t", Strat::RoundRobin, &["a"])
        };
        let back: Team = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn team_ids_parse_like_the_other_ids() {
        let id = TeamId::new(1_700_000_000_000, 42);
        assert_eq!(TeamId::parse(id.as_str()).unwrap(), id);
        assert!(TeamId::new(1, u128::MAX) < TeamId::new(2, 0));
        assert!(TeamId::parse("sales").is_err());
    }

    #[test]
    fn presence_comes_from_status_and_connection() {
        assert_eq!(Presence::of(AgentStatus::Online, true), Presence::Online);
        assert_eq!(Presence::of(AgentStatus::Away, true), Presence::Away);
        assert_eq!(Presence::of(AgentStatus::Online, false), Presence::Offline);
        assert!(Priority::Urgent > Priority::High && Priority::High > Priority::Normal);
        assert_eq!(Priority::for_conversation(true, false), Priority::High);
        assert_eq!(Priority::for_conversation(true, true), Priority::Urgent);
    }

    // ----- strategies -----

    #[test]
    fn round_robin_gives_the_chat_to_the_agent_idle_longest() {
        let mut agents = vec![agent("a"), agent("b"), agent("c")];
        agents[0].last_assigned_at = Some(300);
        agents[1].last_assigned_at = Some(100);
        agents[2].last_assigned_at = Some(200);
        let teams = [team("t", Strat::RoundRobin, &["a", "b", "c"])];
        let plan = route(1_000, &teams, &agents, &[waiting("c1", "t", 0)]);
        assert_eq!(assigned(&plan), [("c1", "b")]);
        // Within one pass the next chat goes to the next longest idle, never assigned first.
        agents[0].last_assigned_at = None;
        let queue = [
            waiting("c1", "t", 0),
            waiting("c2", "t", 1),
            waiting("c3", "t", 2),
        ];
        let plan = route(1_000, &teams, &agents, &queue);
        assert_eq!(assigned(&plan), [("c1", "a"), ("c2", "b"), ("c3", "c")]);
    }

    #[test]
    fn least_busy_gives_the_chat_to_the_agent_with_most_free_capacity() {
        let mut agents = vec![agent("a"), agent("b"), agent("c")];
        agents[0].active = 1; // 2 free
        agents[1].active = 2; // 1 free
        agents[2].active = 0;
        agents[2].limit = 2; // 2 free, but idle longer than a
        agents[0].last_assigned_at = Some(500);
        agents[2].last_assigned_at = Some(100);
        let teams = [team("t", Strat::LeastBusy, &["a", "b", "c"])];
        let plan = route(
            1_000,
            &teams,
            &agents,
            &[waiting("c1", "t", 0), waiting("c2", "t", 1)],
        );
        assert_eq!(assigned(&plan), [("c1", "c"), ("c2", "a")]);
    }

    #[test]
    fn skills_a_required_skill_beats_an_earlier_free_agent() {
        let mut agents = vec![agent("a"), agent("b")];
        agents[1].skills = set(["billing"]);
        agents[1].active = 2;
        let teams = [team("t", Strat::Skills, &["a", "b"])];
        let mut w = waiting("c1", "t", 0);
        w.required_skill = Some("billing".into());
        let plan = route(1_000, &teams, &agents, &[w]);
        assert_eq!(assigned(&plan), [("c1", "b")]);
    }

    #[test]
    fn skills_a_chat_waits_when_nobody_with_the_skill_is_free() {
        let mut agents = vec![agent("a"), agent("b")];
        agents[1].skills = set(["billing"]);
        agents[1].presence = Presence::Away;
        let teams = [team("t", Strat::Skills, &["a", "b"])];
        let mut w = waiting("c1", "t", 0);
        w.required_skill = Some("billing".into());
        let plan = route(1_000, &teams, &agents, &[w]);
        assert_eq!(plan.still_waiting, [conv("c1")]);
        assert!(plan.assignments.is_empty());
    }

    #[test]
    fn skills_prefers_an_agent_who_speaks_the_visitors_language() {
        let mut agents = vec![agent("a"), agent("b")];
        agents[1].languages = set(["de"]);
        agents[1].active = 2; // busier than a, but speaks German
        let teams = [team("t", Strat::Skills, &["a", "b"])];
        let mut w = waiting("c1", "t", 0);
        w.language = Some("de-AT".into());
        let plan = route(1_000, &teams, &agents, std::slice::from_ref(&w));
        assert_eq!(assigned(&plan), [("c1", "b")]);
        // Nobody free speaks it: the language is a preference, so someone else takes it.
        agents[1].active = 3;
        let plan = route(1_000, &teams, &agents, &[w]);
        assert_eq!(assigned(&plan), [("c1", "a")]);
    }

    #[test]
    fn manual_teams_assign_nothing() {
        let agents = vec![agent("a")];
        let teams = [team("t", Strat::Manual, &["a"])];
        let plan = route(1_000, &teams, &agents, &[waiting("c1", "t", 0)]);
        assert_eq!(plan.still_waiting, [conv("c1")]);
    }

    #[test]
    fn away_and_offline_agents_and_full_agents_get_nothing() {
        let mut agents = vec![agent("a"), agent("b"), agent("c"), agent("d")];
        agents[0].presence = Presence::Away;
        agents[1].presence = Presence::Offline;
        agents[2].active = 3;
        agents[3].limit = 0;
        let teams = [team("t", Strat::LeastBusy, &["a", "b", "c", "d"])];
        let plan = route(1_000, &teams, &agents, &[waiting("c1", "t", 0)]);
        assert_eq!(plan.still_waiting, [conv("c1")]);
    }

    #[test]
    fn one_pass_never_overfills_an_agent() {
        let mut agents = vec![agent("a")];
        agents[0].limit = 2;
        let teams = [team("t", Strat::RoundRobin, &["a"])];
        let queue = [
            waiting("c1", "t", 0),
            waiting("c2", "t", 1),
            waiting("c3", "t", 2),
        ];
        let plan = route(1_000, &teams, &agents, &queue);
        assert_eq!(assigned(&plan), [("c1", "a"), ("c2", "a")]);
        assert_eq!(plan.still_waiting, [conv("c3")]);
    }

    #[test]
    fn the_queue_is_served_by_priority_then_time() {
        let mut agents = vec![agent("a")];
        agents[0].limit = 1;
        let teams = [team("t", Strat::RoundRobin, &["a"])];
        let mut vip = waiting("vip", "t", 50);
        vip.priority = Priority::High;
        let mut urgent = waiting("urgent", "t", 90);
        urgent.priority = Priority::Urgent;
        let queue = [waiting("old", "t", 0), vip, urgent];
        let plan = route(1_000, &teams, &agents, &queue);
        assert_eq!(assigned(&plan), [("urgent", "a")]);
        assert_eq!(plan.still_waiting, [conv("vip"), conv("old")]);
    }

    #[test]
    fn an_unknown_team_leaves_the_chat_waiting() {
        let plan = route(0, &[], &[agent("a")], &[waiting("c1", "nope", 0)]);
        assert_eq!(plan.still_waiting, [conv("c1")]);
    }

    // ----- overflow -----

    fn with_overflow(mut t: Team, to: &str, after_ms: Option<i64>, when_full: bool) -> Team {
        t.overflow = Some(Overflow {
            to: team_id(to),
            after_ms,
            when_full,
        });
        t
    }

    #[test]
    fn overflow_after_a_wait_moves_the_chat_to_the_backup_team() {
        let agents = vec![agent("a"), agent("b")];
        let teams = [
            with_overflow(
                team("t", Strat::Skills, &["a"]),
                "backup",
                Some(60_000),
                false,
            ),
            team("backup", Strat::RoundRobin, &["b"]),
        ];
        let mut w = waiting("c1", "t", 0);
        w.required_skill = Some("billing".into());
        // Not yet: waits in its team.
        let plan = route(59_999, &teams, &agents, std::slice::from_ref(&w));
        assert_eq!(plan.still_waiting, [conv("c1")]);
        // Time is up: the backup team's strategy takes it in the same pass.
        let plan = route(60_000, &teams, &agents, &[w]);
        assert_eq!(assigned(&plan), [("c1", "b")]);
    }

    #[test]
    fn overflow_when_full_moves_the_chat_at_once() {
        let mut agents = vec![agent("a"), agent("b")];
        agents[0].active = 3;
        let teams = [
            with_overflow(team("t", Strat::LeastBusy, &["a"]), "backup", None, true),
            team("backup", Strat::LeastBusy, &["b"]),
        ];
        let plan = route(0, &teams, &agents, &[waiting("c1", "t", 0)]);
        assert_eq!(assigned(&plan), [("c1", "b")]);
        // A manual backup team takes chats itself: the chat is handed over to its queue.
        let teams = [teams[0].clone(), team("backup", Strat::Manual, &["b"])];
        let plan = route(0, &teams, &agents, &[waiting("c1", "t", 0)]);
        assert_eq!(plan.overflows, [(conv("c1"), team_id("backup"))]);
    }

    #[test]
    fn overflow_follows_one_hop_per_pass_even_in_a_cycle() {
        let mut agents = vec![agent("a"), agent("b")];
        agents[0].active = 3;
        agents[1].active = 3;
        let teams = [
            with_overflow(team("A", Strat::RoundRobin, &["a"]), "B", None, true),
            with_overflow(team("B", Strat::RoundRobin, &["b"]), "A", None, true),
        ];
        let plan = route(0, &teams, &agents, &[waiting("c1", "A", 0)]);
        assert_eq!(plan.overflows, [(conv("c1"), team_id("B"))]);
        assert!(plan.assignments.is_empty() && plan.still_waiting.is_empty());
    }

    #[test]
    fn overflow_to_an_unknown_team_or_itself_leaves_the_chat_waiting() {
        let mut agents = vec![agent("a")];
        agents[0].active = 3;
        for to in ["nope", "t"] {
            let teams = [with_overflow(
                team("t", Strat::RoundRobin, &["a"]),
                to,
                Some(0),
                true,
            )];
            let plan = route(0, &teams, &agents, &[waiting("c1", "t", 0)]);
            assert_eq!(plan.still_waiting, [conv("c1")]);
        }
    }

    #[test]
    fn a_conversation_listed_twice_comes_back_once() {
        let agents = vec![agent("a")];
        let teams = [team("t", Strat::RoundRobin, &["a"])];
        let plan = route(
            0,
            &teams,
            &agents,
            &[waiting("c1", "t", 5), waiting("c1", "t", 1)],
        );
        assert_eq!(assigned(&plan), [("c1", "a")]);
        assert!(plan.still_waiting.is_empty());
    }

    // ----- properties -----

    const AGENTS: usize = 6;
    const TEAMS: usize = 3;
    const SKILLS: [&str; 2] = ["billing", "tech"];
    const LANGS: [&str; 2] = ["de", "en"];

    fn any_presence() -> impl Strategy<Value = Presence> {
        prop_oneof![
            3 => Just(Presence::Online),
            1 => Just(Presence::Away),
            1 => Just(Presence::Offline),
        ]
    }

    fn any_strategy() -> impl Strategy<Value = Strat> {
        prop_oneof![
            Just(Strat::Manual),
            Just(Strat::RoundRobin),
            Just(Strat::LeastBusy),
            Just(Strat::Skills),
        ]
    }

    fn any_priority() -> impl Strategy<Value = Priority> {
        prop_oneof![
            Just(Priority::Normal),
            Just(Priority::High),
            Just(Priority::Urgent)
        ]
    }

    fn any_subset(of: &'static [&'static str]) -> impl Strategy<Value = BTreeSet<String>> {
        proptest::sample::subsequence(of, 0..=of.len())
            .prop_map(|v| v.into_iter().map(String::from).collect())
    }

    fn any_agent(i: usize) -> impl Strategy<Value = AgentSnapshot> {
        (
            any_presence(),
            0u32..5,
            0u32..4,
            any_subset(&SKILLS),
            any_subset(&LANGS),
            proptest::option::of(0i64..1_000),
        )
            .prop_map(move |(presence, active, limit, skills, languages, last)| {
                AgentSnapshot {
                    id: agent_id(&format!("a{i}")),
                    presence,
                    active,
                    limit,
                    skills,
                    languages,
                    last_assigned_at: last,
                }
            })
    }

    fn any_team(i: usize) -> impl Strategy<Value = Team> {
        (
            any_strategy(),
            proptest::sample::subsequence((0..AGENTS).collect::<Vec<_>>(), 0..=AGENTS),
            proptest::option::of((
                0..TEAMS + 1,
                proptest::option::of(0i64..2_000),
                any::<bool>(),
            )),
        )
            .prop_map(move |(strategy, members, overflow)| Team {
                id: team_id(&format!("t{i}")),
                strategy,
                members: members.iter().map(|m| agent_id(&format!("a{m}"))).collect(),
                overflow: overflow.map(|(to, after_ms, when_full)| Overflow {
                    to: team_id(&format!("t{to}")),
                    after_ms,
                    when_full,
                }),
            })
    }

    fn any_waiting(i: usize) -> impl Strategy<Value = Waiting> {
        (
            0..TEAMS + 1, // t3 is unknown
            any_priority(),
            proptest::option::of(proptest::sample::select(&SKILLS[..])),
            proptest::option::of(proptest::sample::select(&["de-AT", "en", "fr"][..])),
            0i64..2_000,
        )
            .prop_map(move |(team, priority, skill, language, at)| Waiting {
                conversation: conv(&format!("c{i:02}")),
                team: team_id(&format!("t{team}")),
                priority,
                required_skill: skill.map(String::from),
                language: language.map(String::from),
                enqueued_at: at,
            })
    }

    /// A random routing situation: teams, agents and a queue with distinct conversation ids.
    fn any_world() -> impl Strategy<Value = (Vec<Team>, Vec<AgentSnapshot>, Vec<Waiting>)> {
        let teams: Vec<_> = (0..TEAMS).map(any_team).collect();
        let agents: Vec<_> = (0..AGENTS).map(any_agent).collect();
        (teams, agents, 0usize..20).prop_flat_map(|(teams, agents, n)| {
            let queue: Vec<_> = (0..n).map(any_waiting).collect();
            (Just(teams), Just(agents), queue)
        })
    }

    const NOW: Millis = 2_000;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn never_assigns_past_a_concurrency_limit((teams, agents, queue) in any_world()) {
            let plan = route(NOW, &teams, &agents, &queue);
            let mut given: Map<&AgentId, u32> = Map::new();
            for (_, a) in &plan.assignments {
                *given.entry(a).or_default() += 1;
            }
            for (id, n) in given {
                let a = agents.iter().find(|a| &a.id == id).unwrap();
                prop_assert!(a.active + n <= a.limit, "{id}: {} + {n} > {}", a.active, a.limit);
            }
        }

        #[test]
        fn never_assigns_to_an_agent_who_is_not_online((teams, agents, queue) in any_world()) {
            let plan = route(NOW, &teams, &agents, &queue);
            for (_, a) in &plan.assignments {
                let a = agents.iter().find(|x| &x.id == a).unwrap();
                prop_assert_eq!(a.presence, Presence::Online);
            }
        }

        #[test]
        fn assigns_only_within_the_chats_team_or_its_overflow_team(
            (teams, agents, queue) in any_world()
        ) {
            let plan = route(NOW, &teams, &agents, &queue);
            for (c, a) in &plan.assignments {
                let w = queue.iter().find(|w| &w.conversation == c).unwrap();
                let t = teams.iter().find(|t| t.id == w.team).unwrap();
                let backup = t.overflow.as_ref().and_then(|o| teams.iter().find(|x| x.id == o.to));
                prop_assert!(
                    t.members.contains(a) || backup.is_some_and(|b| b.members.contains(a))
                );
            }
        }

        #[test]
        fn never_drops_or_duplicates_a_conversation((teams, agents, queue) in any_world()) {
            let plan = route(NOW, &teams, &agents, &queue);
            let mut out: Vec<&ConversationId> = plan.assignments.iter().map(|(c, _)| c)
                .chain(plan.overflows.iter().map(|(c, _)| c))
                .chain(plan.still_waiting.iter())
                .collect();
            let n = out.len();
            out.sort();
            out.dedup();
            prop_assert_eq!(out.len(), n, "a conversation came back twice");
            let mut input: Vec<&ConversationId> = queue.iter().map(|w| &w.conversation).collect();
            input.sort();
            prop_assert_eq!(out, input);
        }

        #[test]
        fn routing_is_deterministic_and_ignores_input_order(
            (teams, agents, queue) in any_world(),
            seed in any::<u64>(),
        ) {
            let plan = route(NOW, &teams, &agents, &queue);
            prop_assert_eq!(&plan, &route(NOW, &teams, &agents, &queue));
            let (mut t, mut a, mut q) = (teams.clone(), agents.clone(), queue.clone());
            let rot = |len: usize| if len == 0 { 0 } else { (seed as usize) % len };
            let n = rot(t.len());
            t.rotate_left(n);
            a.reverse();
            let n = rot(a.len());
            a.rotate_left(n);
            q.reverse();
            let n = rot(q.len());
            q.rotate_left(n);
            for team in &mut t {
                team.members.reverse();
            }
            prop_assert_eq!(plan, route(NOW, &t, &a, &q));
        }

        #[test]
        fn a_higher_priority_chat_never_waits_while_a_lower_one_takes_an_agent_it_could_have_had(
            (teams, agents, queue) in any_world()
        ) {
            let plan = route(NOW, &teams, &agents, &queue);
            let served: BTreeSet<&ConversationId> =
                plan.assignments.iter().map(|(c, _)| c).collect();
            for (c, agent) in &plan.assignments {
                let low = queue.iter().find(|w| &w.conversation == c).unwrap();
                for high in queue.iter().filter(|w| w.priority > low.priority) {
                    if served.contains(&high.conversation) {
                        continue;
                    }
                    let Some(team) = teams.iter().find(|t| t.id == high.team) else { continue };
                    let a = agents.iter().find(|a| &a.id == agent).unwrap();
                    let could = team.members.contains(agent)
                        && match team.strategy {
                            Strat::Manual => false,
                            Strat::RoundRobin | Strat::LeastBusy => true,
                            Strat::Skills => high
                                .required_skill
                                .as_ref()
                                .is_none_or(|s| a.skills.contains(s)),
                        };
                    prop_assert!(
                        !could,
                        "{} ({:?}) waits while {} ({:?}) took {}",
                        high.conversation, high.priority, c, low.priority, agent
                    );
                }
            }
        }

        #[test]
        fn round_robin_shares_work_fairly_among_identical_agents(
            n_agents in 1usize..6,
            chats in 1usize..60,
            loads in proptest::collection::vec(proptest::collection::vec(0u32..3, 6), 60),
        ) {
            // One chat arrives at a time; between arrivals agents finish chats, so each holds a
            // random number below their limit. Counts must stay within one of each other.
            let ids: Vec<String> = (0..n_agents).map(|i| format!("a{i}")).collect();
            let members: Vec<&str> = ids.iter().map(String::as_str).collect();
            let teams = [team("t", Strat::RoundRobin, &members)];
            let mut agents: Vec<AgentSnapshot> = ids.iter().map(|i| agent(i)).collect();
            let mut count: Map<AgentId, usize> = Map::new();
            for (step, load) in loads.iter().enumerate().take(chats) {
                for (a, active) in agents.iter_mut().zip(load) {
                    a.active = *active;
                }
                let now = 1_000 + step as i64 * 10;
                let plan = route(now, &teams, &agents, &[waiting(&format!("c{step}"), "t", now)]);
                prop_assert_eq!(plan.assignments.len(), 1);
                let who = plan.assignments[0].1.clone();
                agents.iter_mut().find(|a| a.id == who).unwrap().last_assigned_at = Some(now);
                *count.entry(who).or_default() += 1;
            }
            let most = agents.iter().map(|a| count.get(&a.id).copied().unwrap_or(0)).max();
            let least = agents.iter().map(|a| count.get(&a.id).copied().unwrap_or(0)).min();
            prop_assert!(most.unwrap() - least.unwrap() <= 1, "{count:?}");
        }
    }
}
