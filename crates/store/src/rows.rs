//! Row types as read from either database, and their conversion into domain types.

use frontdesk_core::files::{Attachment, AttachmentId};
use frontdesk_core::protocol::{
    AgentStatus, AgentView, Contact, Conversation, Message, MessageKind, Role,
};
use frontdesk_core::routing::{Presence, Priority, TeamId};
use frontdesk_core::*;

#[derive(sqlx::FromRow, Debug, Clone)]
pub(crate) struct ConvRow {
    pub id: String,
    pub organization_id: String,
    pub website_id: String,
    pub contact_id: String,
    pub status: String,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub last_seq: i64,
    pub last_public_seq: i64,
    pub visitor_delivered_seq: i64,
    pub visitor_read_seq: i64,
    pub agent_delivered_seq: i64,
    pub agent_read_seq: i64,
    pub unread: i64,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub website_name: String,
    pub last_message_preview: Option<String>,
    pub last_message_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub team_id: Option<String>,
    pub team_name: Option<String>,
    pub priority: String,
    pub offline: i64,
    pub missed: i64,
    pub enqueued_at: Option<i64>,
    pub first_reply_at: Option<i64>,
    pub assigned_at: Option<i64>,
    /// The conversation's tags, packed by the subquery in [`CONV_SELECT`]; `None` when it has none.
    pub tags: Option<String>,
}

pub(crate) const CONV_SELECT: &str = "SELECT c.id, c.organization_id, c.website_id, c.contact_id, \
    c.status, c.assignee_id, a.name AS assignee_name, c.last_seq, c.last_public_seq, \
    c.visitor_delivered_seq, c.visitor_read_seq, c.agent_delivered_seq, c.agent_read_seq, c.unread, \
    ct.name AS contact_name, ct.email AS contact_email, w.name AS website_name, \
    c.last_message_preview, c.last_message_at, c.created_at, c.updated_at, \
    c.team_id, t.name AS team_name, c.priority, c.offline, c.missed, c.enqueued_at, \
    c.first_reply_at, c.assigned_at, \
    (SELECT string_agg(xt.id || '\x1f' || xt.color || '\x1f' || xt.name, '\x1e') \
     FROM conversation_tags xg JOIN tags xt ON xt.id = xg.tag_id \
     WHERE xg.conversation_id = c.id) AS tags \
    FROM conversations c JOIN contacts ct ON ct.id = c.contact_id \
    JOIN websites w ON w.id = c.website_id LEFT JOIN agents a ON a.id = c.assignee_id \
    LEFT JOIN teams t ON t.id = c.team_id";

impl ConvRow {
    pub fn state(&self) -> ConversationState {
        ConversationState {
            status: ConversationStatus::parse(&self.status).unwrap_or(ConversationStatus::Open),
            assignee: self.assignee_id.clone().map(AgentId),
        }
    }

    pub fn into_conversation(self) -> Conversation {
        Conversation {
            id: ConversationId(self.id),
            website_id: WebsiteId(self.website_id),
            contact_id: ContactId(self.contact_id),
            status: ConversationStatus::parse(&self.status).unwrap_or(ConversationStatus::Open),
            assignee_id: self.assignee_id.map(AgentId),
            assignee_name: self.assignee_name,
            last_seq: self.last_seq,
            last_public_seq: self.last_public_seq,
            visitor_delivered_seq: self.visitor_delivered_seq,
            visitor_read_seq: self.visitor_read_seq,
            agent_delivered_seq: self.agent_delivered_seq,
            agent_read_seq: self.agent_read_seq,
            unread: self.unread,
            contact_name: self.contact_name,
            contact_email: self.contact_email,
            website_name: self.website_name,
            last_message_preview: self.last_message_preview,
            last_message_at: self.last_message_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            team_id: self.team_id.map(TeamId),
            team_name: self.team_name,
            priority: parse_priority(&self.priority),
            offline: self.offline != 0,
            missed: self.missed != 0,
            enqueued_at: self.enqueued_at,
            tags: self.tags.as_deref().map(unpack_tags).unwrap_or_default(),
        }
    }
}

/// Unpacks the tags `CONV_SELECT` aggregates into one column: one record per tag, separated
/// by U+001E, each `id U+001F colour U+001F name`. Tag names cannot hold control characters
/// (`TagName`), so the separators are unambiguous; the same SQL runs on both databases
/// (`string_agg` is in PostgreSQL and in SQLite since 3.44). Sorted by name, case-folded.
pub(crate) fn unpack_tags(packed: &str) -> Vec<frontdesk_core::tags::Tag> {
    let mut tags: Vec<frontdesk_core::tags::Tag> = packed
        .split('\x1e')
        .filter_map(|rec| {
            let mut parts = rec.splitn(3, '\x1f');
            let (id, color, name) = (parts.next()?, parts.next()?, parts.next()?);
            Some(frontdesk_core::tags::Tag {
                id: TagId(id.to_owned()),
                name: name.to_owned(),
                color: frontdesk_core::tags::TagColor::parse(color),
            })
        })
        .collect();
    tags.sort_by_cached_key(|t| (t.name.to_lowercase(), t.id.0.clone()));
    tags
}

pub(crate) fn parse_priority(s: &str) -> Priority {
    match s {
        "urgent" => Priority::Urgent,
        "high" => Priority::High,
        _ => Priority::Normal,
    }
}

pub(crate) fn priority_str(p: Priority) -> &'static str {
    match p {
        Priority::Urgent => "urgent",
        Priority::High => "high",
        Priority::Normal => "normal",
    }
}

#[derive(sqlx::FromRow, Debug)]
pub(crate) struct MessageRow {
    pub id: String,
    pub conversation_id: String,
    pub seq: i64,
    pub public_seq: Option<i64>,
    pub client_id: Option<String>,
    pub kind: String,
    pub author_id: Option<String>,
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: i64,
    /// The message's files, packed by the subquery in [`MESSAGE_COLUMNS`]; `None` when none.
    pub attachments: Option<String>,
}

/// The columns of a message, selected `FROM messages`, with its files packed into one column
/// (see [`unpack_attachments`]).
pub(crate) const MESSAGE_COLUMNS: &str = "id, conversation_id, seq, public_seq, client_id, kind, \
    author_id, author_name, body, created_at, \
    (SELECT string_agg(xa.id || '\x1f' || CAST(xa.position AS TEXT) || '\x1f' || CAST(xa.size AS TEXT) \
     || '\x1f' || xa.content_type || '\x1f' || xa.name, '\x1e') \
     FROM attachments xa WHERE xa.message_id = messages.id) AS attachments";

/// Unpacks the files `MESSAGE_COLUMNS` aggregates into one column: one record per file,
/// separated by U+001E, each `id U+001F position U+001F size U+001F content type U+001F name`.
/// Safe names have no control characters (`files::safe_name`), so the separators are
/// unambiguous. In the order they were attached.
pub(crate) fn unpack_attachments(packed: &str) -> Vec<Attachment> {
    let mut files: Vec<(i64, Attachment)> = packed
        .split('\x1e')
        .filter_map(|rec| {
            let mut parts = rec.splitn(5, '\x1f');
            let (id, position, size, content_type, name) = (
                parts.next()?,
                parts.next()?.parse().ok()?,
                parts.next()?.parse().ok()?,
                parts.next()?,
                parts.next()?,
            );
            Some((
                position,
                Attachment::new(
                    AttachmentId(id.to_owned()),
                    name.to_owned(),
                    content_type.to_owned(),
                    size,
                ),
            ))
        })
        .collect();
    files.sort_by_key(|(position, _)| *position);
    files.into_iter().map(|(_, a)| a).collect()
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        Message {
            id: MessageId(r.id),
            conversation_id: ConversationId(r.conversation_id),
            seq: r.seq,
            public_seq: r.public_seq,
            client_id: r.client_id,
            kind: MessageKind::parse(&r.kind).unwrap_or(MessageKind::System),
            author_id: r.author_id,
            author_name: r.author_name,
            text: r.body,
            created_at: r.created_at,
            attachments: r
                .attachments
                .as_deref()
                .map(unpack_attachments)
                .unwrap_or_default(),
        }
    }
}

#[derive(sqlx::FromRow, Debug)]
pub(crate) struct AgentRow {
    pub id: String,
    pub organization_id: String,
    pub organization_name: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub status: String,
    pub password_hash: String,
    pub max_chats: i64,
    pub skills: String,
    pub languages: String,
    pub online_until: i64,
}

pub(crate) const AGENT_SELECT: &str = "SELECT a.id, a.organization_id, o.name AS organization_name, \
    a.email, a.name, a.role, a.status, a.password_hash, a.max_chats, a.skills, a.languages, \
    a.online_until FROM agents a \
    JOIN organizations o ON o.id = a.organization_id";

impl AgentRow {
    pub fn view(&self) -> AgentView {
        AgentView {
            id: AgentId(self.id.clone()),
            organization_id: OrganizationId(self.organization_id.clone()),
            organization_name: self.organization_name.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            role: Role::parse(&self.role).unwrap_or(Role::Agent),
            status: self.status(),
            presence: Presence::of(self.status(), self.online_until > crate::now_ms()),
            max_chats: self.max_chats.clamp(0, u32::MAX as i64) as u32,
            skills: json_list(&self.skills),
            languages: json_list(&self.languages),
        }
    }
    pub fn status(&self) -> AgentStatus {
        AgentStatus::parse(&self.status).unwrap_or(AgentStatus::Away)
    }
}

/// A JSON array of strings as stored; anything else reads as empty.
pub(crate) fn json_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

#[derive(sqlx::FromRow, Debug)]
pub(crate) struct ContactRow {
    pub id: String,
    pub organization_id: String,
    pub website_id: String,
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
    pub created_at: i64,
    pub last_seen_at: i64,
}

pub(crate) const CONTACT_SELECT: &str = "SELECT id, organization_id, website_id, name, email, \
    current_url, page_title, referrer, browser, os, device, language, timezone, created_at, \
    last_seen_at FROM contacts";

impl ContactRow {
    pub fn into_contact(self) -> Contact {
        Contact {
            id: ContactId(self.id),
            website_id: WebsiteId(self.website_id),
            name: self.name,
            email: self.email,
            current_url: self.current_url,
            page_title: self.page_title,
            referrer: self.referrer,
            browser: self.browser,
            os: self.os,
            device: self.device,
            language: self.language,
            timezone: self.timezone,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
        }
    }
}
