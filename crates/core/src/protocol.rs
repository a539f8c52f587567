//! The wire format: WebSocket frames and REST bodies, shared by the server, the widget and the
//! dashboard. TypeScript types are generated from these (`web/src/generated/`), and a test fails
//! when the committed copy is stale. `docs/protocol.md` describes how they are used.
//!
//! Version 1. A breaking change bumps [`PROTOCOL_VERSION`]; fields are only ever added.

use crate::Millis;
use crate::conversation::ConversationStatus;
use crate::files::{Attachment, AttachmentId};
use crate::ids::*;
use crate::input::ErrorCode;
use crate::routing::{Presence, Priority, TeamId};
use crate::tags::Tag;
use crate::teams::{Availability, NoticeKind, QueueStatus};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub const PROTOCOL_VERSION: u32 = 1;
/// Largest WebSocket frame a client may send, in bytes.
pub const MAX_FRAME_BYTES: usize = 32 * 1024;
/// Most characters of a visitor's unsent text passed on as a typing preview.
pub const MAX_TYPING_PREVIEW_CHARS: usize = 500;
/// Largest REST body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum MessageKind {
    /// Written by the visitor.
    Visitor,
    /// A reply from an agent; the visitor sees it.
    Agent,
    /// Written by Frontdesk about the conversation ("Ann joined"); everyone sees it.
    System,
    /// An internal note between agents. Never sent to the visitor.
    Note,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Visitor => "visitor",
            Self::Agent => "agent",
            Self::System => "system",
            Self::Note => "note",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "visitor" => Some(Self::Visitor),
            "agent" => Some(Self::Agent),
            "system" => Some(Self::System),
            "note" => Some(Self::Note),
            _ => None,
        }
    }
    /// Whether the visitor may ever see a message of this kind.
    pub fn visible_to_visitor(self) -> bool {
        !matches!(self, Self::Note)
    }
}

/// One stored message.
///
/// `seq` is the conversation's total order over every message, notes included; it has no gaps.
/// `public_seq` numbers only what the visitor can see (no notes); it has no gaps either, and is
/// what visitors resume from and what read receipts count in. Notes have no `public_seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    #[ts(type = "number")]
    pub seq: i64,
    #[ts(type = "number | null")]
    pub public_seq: Option<i64>,
    pub client_id: Option<String>,
    pub kind: MessageKind,
    pub author_id: Option<String>,
    pub author_name: Option<String>,
    /// The text exactly as typed. Clients render it as text, never as markup. Empty only
    /// when the message carries files.
    pub text: String,
    #[ts(type = "number")]
    pub created_at: Millis,
    /// Files sent with it, in the order they were attached.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// A conversation as agents see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Conversation {
    pub id: ConversationId,
    pub website_id: WebsiteId,
    pub contact_id: ContactId,
    pub status: ConversationStatus,
    pub assignee_id: Option<AgentId>,
    pub assignee_name: Option<String>,
    /// Highest `seq` stored.
    #[ts(type = "number")]
    pub last_seq: i64,
    /// Highest `public_seq` stored.
    #[ts(type = "number")]
    pub last_public_seq: i64,
    /// Receipts, in `public_seq`: what the visitor's widget has received and shown.
    #[ts(type = "number")]
    pub visitor_delivered_seq: i64,
    #[ts(type = "number")]
    pub visitor_read_seq: i64,
    /// Receipts, in `public_seq`: what the agents have received and read.
    #[ts(type = "number")]
    pub agent_delivered_seq: i64,
    #[ts(type = "number")]
    pub agent_read_seq: i64,
    /// Visitor messages no agent has read yet.
    #[ts(type = "number")]
    pub unread: i64,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub website_name: String,
    pub last_message_preview: Option<String>,
    #[ts(type = "number | null")]
    pub last_message_at: Option<Millis>,
    #[ts(type = "number")]
    pub created_at: Millis,
    #[ts(type = "number")]
    pub updated_at: Millis,
    /// The team whose queue it is in (or was served from); `null`: no team.
    pub team_id: Option<TeamId>,
    pub team_name: Option<String>,
    pub priority: Priority,
    /// Left while nobody was available (or after giving up waiting): replies go by email.
    pub offline: bool,
    /// Ended, or turned into an offline message, without an agent's reply while live.
    pub missed: bool,
    /// When it joined its team's current queue; the wait is counted from here.
    #[ts(type = "number | null")]
    pub enqueued_at: Option<Millis>,
    /// Its tags, by name. Agents only: nothing a visitor receives carries them.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// A conversation as its visitor sees it: no internal fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VisitorConversation {
    pub id: ConversationId,
    pub status: ConversationStatus,
    pub agent_name: Option<String>,
    #[ts(type = "number")]
    pub last_public_seq: i64,
    #[ts(type = "number")]
    pub agent_delivered_seq: i64,
    #[ts(type = "number")]
    pub agent_read_seq: i64,
}

impl From<&Conversation> for VisitorConversation {
    fn from(c: &Conversation) -> Self {
        Self {
            id: c.id.clone(),
            status: c.status,
            agent_name: c.assignee_name.clone(),
            last_public_seq: c.last_public_seq,
            agent_delivered_seq: c.agent_delivered_seq,
            agent_read_seq: c.agent_read_seq,
        }
    }
}

impl Message {
    /// The message as the visitor sees it: the same message, with `seq` replaced by its
    /// `public_seq`, so that the visitor's stream has no gaps. `None` for notes.
    pub fn for_visitor(&self) -> Option<Message> {
        if !self.kind.visible_to_visitor() {
            return None;
        }
        let public = self.public_seq?;
        Some(Message {
            seq: public,
            author_id: None,
            ..self.clone()
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Side {
    Visitor,
    Agent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AgentStatus {
    Online,
    Away,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "online" => Some(Self::Online),
            "away" => Some(Self::Away),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Role {
    /// Everything, including settings and people.
    Admin,
    /// Every conversation: assign, transfer, resolve any of them. No settings.
    Supervisor,
    /// Their own conversations and the unassigned queue.
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Supervisor => "supervisor",
            Self::Agent => "agent",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "supervisor" => Some(Self::Supervisor),
            "agent" => Some(Self::Agent),
            _ => None,
        }
    }
}

/// A frame a client sends over the WebSocket. JSON, tagged by `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[ts(export)]
pub enum ClientFrame {
    /// Must be the first frame. Visitors pass the token from `POST /api/v1/widget/session`;
    /// agents are known by their session cookie and pass no token.
    Hello {
        v: u32,
        token: Option<String>,
    },
    /// Asks for every message after `after_seq` (a visitor counts in `public_seq`), then a
    /// `synced` frame. Live `message` frames for the conversation may arrive before `synced`;
    /// the client drops any seq it already has.
    Sync {
        conversation_id: ConversationId,
        #[ts(type = "number")]
        after_seq: i64,
    },
    /// Sends a message. A visitor may leave out `conversation_id`: their open conversation is
    /// used, or a new one is started. `note` is for agents only. Answered by `ack`, or by `error`
    /// carrying the same `client_id`. A retry with the same `client_id` is stored once and is
    /// acknowledged with the same message. `attachments`: files uploaded first (by this
    /// visitor, or by this agent to this conversation) and not sent yet; `text` may then be
    /// empty.
    Send {
        client_id: String,
        conversation_id: Option<ConversationId>,
        text: String,
        #[serde(default)]
        note: bool,
        #[serde(default)]
        attachments: Vec<AttachmentId>,
        /// Visitors only: the proactive trigger whose greeting this send answers. When the send
        /// starts a chat, the site's greeting for that rule is stored first (see
        /// `docs/protocol.md`); otherwise it is ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        greeting: Option<crate::triggers::TriggerId>,
    },
    /// `preview` (visitors only): the text typed so far, for agents who chose to see it. It is
    /// never stored; at most [`MAX_TYPING_PREVIEW_CHARS`] characters are passed on.
    Typing {
        conversation_id: ConversationId,
        typing: bool,
        #[serde(default)]
        preview: Option<String>,
    },
    /// Receipts, in `public_seq`. They only ever move forward.
    Read {
        conversation_id: ConversationId,
        #[ts(type = "number")]
        public_seq: i64,
    },
    Delivered {
        conversation_id: ConversationId,
        #[ts(type = "number")]
        public_seq: i64,
    },
    /// Visitors only: email me a transcript of this conversation, to the address I gave with
    /// `set_contact` (else an `invalid_email` error).
    Transcript {
        conversation_id: ConversationId,
    },
    /// Visitors only: stop waiting in the queue and leave the conversation as an offline
    /// message, answered by email (set an email with `set_contact` first).
    LeaveMessage {
        conversation_id: ConversationId,
    },
    /// Visitors only: how the business can reach them when nobody is online, and the
    /// department they chose (one of the session's `departments`), which routing reads when
    /// their conversation starts.
    SetContact {
        name: Option<String>,
        email: Option<String>,
        #[serde(default)]
        department: Option<String>,
    },
    Ping,
}

/// A frame the server sends over the WebSocket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum ServerFrame {
    Welcome {
        v: u32,
        side: Side,
        /// Visitors: their latest conversation, if any.
        conversation: Option<VisitorConversation>,
        /// Agents: who they are.
        agent: Option<AgentView>,
        agents_online: bool,
        /// The server pings this often; a client that hears nothing for two intervals reconnects.
        #[ts(type = "number")]
        heartbeat_ms: u64,
        /// The largest file an upload may be (`max_upload_bytes`), so clients can say so
        /// before sending one.
        #[serde(default)]
        #[ts(type = "number")]
        max_upload_bytes: u64,
    },
    Message {
        message: Message,
    },
    Ack {
        client_id: String,
        message: Message,
    },
    Synced {
        conversation_id: ConversationId,
        #[ts(type = "number")]
        last_seq: i64,
    },
    /// Agents: a conversation's summary changed (new message, status, receipts, unread).
    Conversation {
        conversation: Conversation,
    },
    /// Visitors: their conversation changed (status, agent, receipts).
    VisitorConversation {
        conversation: VisitorConversation,
    },
    Typing {
        conversation_id: ConversationId,
        side: Side,
        name: Option<String>,
        typing: bool,
        /// Agents only: what the visitor has typed so far (not sent, never stored).
        preview: Option<String>,
    },
    Presence {
        agents_online: bool,
    },
    /// Visitors: their place in the queue while they wait for an agent. Sent when it changes.
    Queue {
        status: QueueStatus,
    },
    /// Agents: something about a conversation is for you (assigned, transferred, invited).
    Notice {
        kind: NoticeKind,
        conversation_id: ConversationId,
        /// Who did it; `null` for routing.
        by_name: Option<String>,
        /// The transfer reason, if one was given.
        text: Option<String>,
    },
    /// Agents: another agent's status changed.
    AgentStatus {
        agent_id: AgentId,
        status: AgentStatus,
    },
    Error {
        code: ErrorCode,
        message: String,
        client_id: Option<String>,
    },
    Pong,
    /// Agents: a visitor moved to another page (the visitor panel updates).
    VisitorPage {
        contact_id: ContactId,
        page: crate::visitors::PageView,
    },
    /// Visitors: an agent started a chat with you; the widget opens.
    OpenWidget {
        conversation_id: ConversationId,
    },
    /// Agents: the organization's tag list changed (a tag was created, renamed, recoloured
    /// or deleted); the whole list, sorted by name. Conversations that carry a renamed or
    /// deleted tag are not re-sent: clients patch them from this list.
    Tags {
        tags: Vec<Tag>,
    },
    /// Agents: a contact's profile changed (an agent edited it, or another contact,
    /// `merged_from`, was merged into it). Held conversations of the contact, and after a merge
    /// those of `merged_from` (which moved to it), take its id, name and email from here; a
    /// merge changes nothing else about them, so they are not re-sent.
    Contact {
        contact: crate::contacts::ContactProfile,
        merged_from: Option<ContactId>,
    },
    /// Agents: a visitor answered the pre-chat form of a conversation, or rated it; what
    /// `GET /api/v1/conversations/{id}/feedback` now returns.
    Feedback {
        conversation_id: ConversationId,
        feedback: crate::prechat::ConversationFeedback,
    },
}

/// An agent, as the dashboard sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AgentView {
    pub id: AgentId,
    pub organization_id: OrganizationId,
    pub organization_name: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub status: AgentStatus,
    /// `status` combined with whether they are connected now.
    pub presence: Presence,
    /// Most chats routing gives them at once.
    pub max_chats: u32,
    pub skills: Vec<String>,
    pub languages: Vec<String>,
}

/// What the widget learns about the page it is on. Every field is optional and clipped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PageContext {
    pub url: Option<String>,
    pub title: Option<String>,
    pub referrer: Option<String>,
    pub language: Option<String>,
    pub timezone: Option<String>,
}

/// `POST /api/v1/widget/session`: starts or resumes a visitor's session on a website.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct WidgetSessionRequest {
    pub site_key: String,
    /// The token from an earlier session; a missing, expired or forged one starts a new visitor.
    pub token: Option<String>,
    #[serde(default)]
    pub context: PageContext,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WidgetSessionResponse {
    pub token: String,
    pub contact_id: ContactId,
    pub website_name: String,
    pub organization_name: String,
    pub agents_online: bool,
    /// True when `token` is new (the old one was missing, expired or forged).
    pub new_visitor: bool,
    pub availability: Availability,
    /// The departments the site routes by, in rule order: the widget asks the visitor to pick
    /// one before their first message. Empty: no question.
    pub departments: Vec<String>,
    /// The chat's look for the page in `context`: colour, welcome (by page rule), the "we
    /// reply in about N minutes" line, and the agents the header shows.
    pub look: crate::widget::ChatLook,
    /// The pre-chat form to fill in before the first message (`None`: none). Its department
    /// field offers `departments`; offline, the same form is asked with the email required.
    #[serde(default)]
    pub prechat: Option<crate::prechat::PrechatForm>,
    /// What to ask once the conversation is resolved.
    #[serde(default)]
    pub end_of_chat: crate::prechat::EndOfChat,
}

/// A contact (a website visitor), with the context of their latest visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Contact {
    pub id: ContactId,
    pub website_id: WebsiteId,
    pub name: Option<String>,
    pub email: Option<String>,
    pub current_url: Option<String>,
    pub page_title: Option<String>,
    pub referrer: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    pub language: Option<String>,
    pub timezone: Option<String>,
    #[ts(type = "number")]
    pub created_at: Millis,
    #[ts(type = "number")]
    pub last_seen_at: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConversationDetail {
    pub conversation: Conversation,
    pub contact: Contact,
    /// Colleagues invited to the conversation; they may reply in it as well as its assignee.
    pub participants: Vec<Participant>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Participant {
    pub id: AgentId,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConversationPage {
    pub items: Vec<Conversation>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MessagePage {
    pub items: Vec<Message>,
    /// True when more messages follow the last one returned.
    pub has_more: bool,
}

/// Inbox counts for the dashboard's tabs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct InboxCounts {
    #[ts(type = "number")]
    pub unassigned: i64,
    #[ts(type = "number")]
    pub mine: i64,
    #[ts(type = "number")]
    pub all: i64,
    /// Conversations with unread visitor messages, per tab.
    #[ts(type = "number")]
    pub unread_unassigned: i64,
    #[ts(type = "number")]
    pub unread_mine: i64,
    #[ts(type = "number")]
    pub unread_all: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct StatusRequest {
    pub status: AgentStatus,
    /// With `away`: return my open conversations to their teams now.
    #[serde(default)]
    pub release: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SendMessageRequest {
    pub client_id: String,
    pub text: String,
    #[serde(default)]
    pub note: bool,
    /// Files uploaded to this conversation first (`POST …/attachments`); `text` may then be
    /// empty.
    #[serde(default)]
    pub attachments: Vec<AttachmentId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AssignRequest {
    /// `null` returns the conversation to the unassigned queue.
    pub agent_id: Option<AgentId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WebsiteView {
    pub id: WebsiteId,
    pub name: String,
    pub domain: String,
    pub site_key: String,
    /// The one line to paste into the site's HTML.
    pub snippet: String,
}

/// `POST /api/v1/agents` (admins): adds a colleague with a first password to share with them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CreateAgentRequest {
    pub email: String,
    pub name: String,
    pub password: String,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CreateWebsiteRequest {
    pub name: String,
    pub domain: String,
}

/// `POST /api/v1/setup`: the first run. Allowed once, with the token the server printed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SetupRequest {
    pub token: String,
    pub organization_name: String,
    pub name: String,
    pub email: String,
    pub password: String,
    pub website_name: String,
    pub website_domain: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SetupResponse {
    pub agent: AgentView,
    pub website: WebsiteView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SetupStatus {
    pub needs_setup: bool,
}

/// Every 4xx and 5xx body: RFC 9457 problem details (`application/problem+json`), with the
/// stable `code` as an extension member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: ErrorCode,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_tagged_json() {
        let f: ClientFrame = serde_json::from_str(
            r#"{"type":"send","client_id":"c1","conversation_id":null,"text":"hi"}"#,
        )
        .unwrap();
        assert!(matches!(f, ClientFrame::Send { note: false, .. }));
        let f: ClientFrame = serde_json::from_str(r#"{"type":"ping"}"#).unwrap();
        assert_eq!(f, ClientFrame::Ping);
        assert!(
            serde_json::from_str::<ClientFrame>(
                r#"{"type":"typing","conversation_id":"c","typing":true,"x":1}"#
            )
            .is_err()
        );
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"nope"}"#).is_err());
        let s = serde_json::to_string(&ServerFrame::Pong).unwrap();
        assert_eq!(s, r#"{"type":"pong"}"#);
    }

    #[test]
    fn notes_are_never_for_visitors() {
        let m = Message {
            id: MessageId("m".into()),
            conversation_id: ConversationId("c".into()),
            seq: 4,
            public_seq: None,
            client_id: None,
            kind: MessageKind::Note,
            author_id: Some("a".into()),
            author_name: Some("Ann".into()),
            text: "secret".into(),
            created_at: 0,
            attachments: Vec::new(),
        };
        assert!(m.for_visitor().is_none());
        let v = Message {
            kind: MessageKind::Agent,
            public_seq: Some(3),
            ..m
        };
        let seen = v.for_visitor().unwrap();
        assert_eq!(seen.seq, 3);
        assert_eq!(seen.author_id, None);
    }
}
