//! Wire types for teams, routing settings, the queue and the queue monitor (REST bodies and
//! views). The rules they configure live in `routing.rs`, `queue.rs` and `hours.rs`;
//! `docs/routing.md` explains them and `docs/api.md` lists the endpoints.

use crate::Millis;
use crate::hours::WeeklyHours;
use crate::ids::{AgentId, ConversationId};
use crate::protocol::{AgentStatus, Role};
use crate::routing::{Overflow, Presence, Priority, RoutingRule, Strategy, TeamId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Longest team name, in characters.
pub const MAX_TEAM_NAME: usize = 80;
/// Most rules a site may have.
pub const MAX_RULES: usize = 100;
/// Longest skill or language tag, in characters.
pub const MAX_TAG: usize = 40;
/// Most skills (or languages) an agent may have.
pub const MAX_TAGS: usize = 30;
/// Most chats an agent may be allowed at once.
pub const MAX_CONCURRENCY: u32 = 50;
/// Longest transfer reason, in characters.
pub const MAX_REASON: usize = 500;

/// What happens to an agent's open chats when they go away (by choice, or because their last
/// connection dropped and the grace period passed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AwayAction {
    /// The chats return to the team: a routed team gives them to another agent at once, a
    /// manual team puts them back in its queue for someone to take.
    #[default]
    Return,
    /// The chats stay with the agent until they come back or a supervisor moves them.
    Keep,
}

impl AwayAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Return => "return",
            Self::Keep => "keep",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "return" => Some(Self::Return),
            "keep" => Some(Self::Keep),
            _ => None,
        }
    }
}

/// A team as admins see and edit it. Also the body of `POST /teams` and `PUT /teams/{id}`
/// (where `id` is ignored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TeamView {
    #[serde(default = "no_team")]
    pub id: TeamId,
    pub name: String,
    pub strategy: Strategy,
    pub members: Vec<AgentId>,
    /// The backup team, and when conversations move there.
    pub overflow: Option<Overflow>,
    #[serde(default)]
    pub away_action: AwayAction,
    /// The team's weekly hours; `null` means always open. Outside them the team takes no chats
    /// (its queue can overflow to a backup team).
    pub hours: Option<WeeklyHours>,
}

fn no_team() -> TeamId {
    TeamId(String::new())
}

/// What the widget does while the site is closed (outside its hours).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum WhenClosed {
    /// Show the widget, which takes an offline message answered by email.
    #[default]
    Message,
    /// Hide the widget entirely.
    Hide,
}

/// A website's routing settings: `GET` and `PUT /websites/{id}/routing` (admins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SiteRouting {
    /// The team a conversation goes to when no rule matches; `null`: the unassigned queue
    /// with no team, which agents take by hand.
    pub default_team: Option<TeamId>,
    /// Tried in order; the first that matches picks the team.
    #[serde(default)]
    pub rules: Vec<RoutingRule>,
    /// The site's weekly hours; `null` means always open.
    #[serde(default)]
    pub hours: Option<WeeklyHours>,
    #[serde(default)]
    pub when_closed: WhenClosed,
    /// After waiting this long in the queue, the visitor is offered to leave a message instead.
    #[serde(default = "default_offer_offline")]
    pub offer_offline_after_secs: u32,
}

pub const DEFAULT_OFFER_OFFLINE_SECS: u32 = 120;

fn default_offer_offline() -> u32 {
    DEFAULT_OFFER_OFFLINE_SECS
}

impl Default for SiteRouting {
    fn default() -> Self {
        Self {
            default_team: None,
            rules: Vec::new(),
            hours: None,
            when_closed: WhenClosed::Message,
            offer_offline_after_secs: DEFAULT_OFFER_OFFLINE_SECS,
        }
    }
}

impl SiteRouting {
    /// The departments its rules route by, in rule order, each once.
    pub fn departments(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.rules {
            if let crate::routing::RuleCondition::Department(d) = &r.condition
                && !out.contains(d)
            {
                out.push(d.clone());
            }
        }
        out
    }
}

/// `GET /api/v1/widget/config?site_key=…`: what the loader on a customer's page reads before
/// anything else, in one small public and cacheable answer (it holds nothing that the widget
/// would not show, and creates no contact).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WidgetConfig {
    /// Whether the chat is open now, and whether to hide the launcher while it is closed.
    pub availability: Availability,
    /// Whether an agent of the organization is online (for the triggers' `agents` setting,
    /// before any chat frame exists; as fresh as the answer's one-minute cache).
    pub agents_online: bool,
    /// The launcher's colour, position and label (the widget look).
    pub look: crate::widget::LauncherLook,
    /// The site's enabled proactive triggers, which the loader runs on the page.
    pub triggers: crate::triggers::SiteTriggers,
}

/// Whether a site's chat is open, as the widget shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Availability {
    /// Inside the site's hours (always true without hours).
    pub open: bool,
    /// When it opens next, if closed and it opens within two weeks.
    #[ts(type = "number | null")]
    pub next_open_at: Option<Millis>,
    pub when_closed: WhenClosed,
    /// The site's time zone, to show `next_open_at` in ("Back Monday 09:00 Berlin time").
    pub timezone: Option<String>,
}

/// `PUT /agents/{id}` (admins): a colleague's role and routing settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AgentSettingsRequest {
    pub role: Role,
    pub max_chats: u32,
    pub skills: Vec<String>,
    pub languages: Vec<String>,
}

/// `POST /conversations/{id}/transfer`: to an agent or to a team (exactly one), with a reason
/// that is kept as an internal note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct TransferRequest {
    pub agent_id: Option<AgentId>,
    pub team_id: Option<TeamId>,
    pub reason: Option<String>,
}

/// `POST /conversations/{id}/invite`: asks a colleague to join; they can then reply too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct InviteRequest {
    pub agent_id: AgentId,
}

/// `POST /conversations/{id}/priority`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PriorityRequest {
    pub priority: Priority,
}

/// Why an agent is being told about a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum NoticeKind {
    /// Routing gave it to them.
    Assigned,
    /// A colleague transferred it to them.
    Transfer,
    /// A colleague invited them to join it.
    Invite,
    /// A colleague mentioned them (`@name`) in an internal note; `text` is the note.
    Mention,
}

/// A waiting visitor's place in the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct QueueStatus {
    pub conversation_id: ConversationId,
    /// 1 for the next conversation of its team to be served.
    pub position: u32,
    /// From the team's live service rate; `null` when there is nothing honest to say.
    #[ts(type = "number | null")]
    pub estimated_wait_ms: Option<i64>,
    /// The visitor has waited long enough to be offered to leave a message instead.
    pub offer_offline: bool,
}

/// One team in the queue monitor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TeamLoad {
    pub id: TeamId,
    pub name: String,
    pub strategy: Strategy,
    pub waiting: u32,
    #[ts(type = "number | null")]
    pub longest_wait_ms: Option<i64>,
    /// Open conversations held by someone in this team's queue.
    pub active: u32,
    pub online_agents: u32,
    /// The sum of the online members' limits.
    pub capacity: u32,
    /// Inside the team's hours.
    pub open: bool,
}

/// One agent in the queue monitor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AgentLoad {
    pub id: AgentId,
    pub name: String,
    pub role: Role,
    pub status: AgentStatus,
    pub presence: Presence,
    pub active: u32,
    pub limit: u32,
    pub teams: Vec<TeamId>,
}

/// `GET /monitor` (supervisors and admins): the live queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MonitorView {
    #[ts(type = "number")]
    pub now: Millis,
    /// Conversations waiting for an agent (live chats, not offline messages).
    pub waiting: u32,
    #[ts(type = "number | null")]
    pub longest_wait_ms: Option<i64>,
    /// Offline messages nobody has answered yet.
    pub offline_waiting: u32,
    /// Conversations since local midnight (UTC) that ended without an agent's reply.
    pub missed_today: u32,
    pub teams: Vec<TeamLoad>,
    pub agents: Vec<AgentLoad>,
}
