//! Full-text search over an organization's messages and contacts.
//!
//! The indexes are the one dialect-specific part of the schema (`0011_search.sql`): FTS5 on
//! SQLite, a generated `tsvector` with GIN on PostgreSQL. What is searched, and how a query is
//! made safe, is [`frontdesk_core::search`]; this module only runs it.
//!
//! Each search reads at most [`CANDIDATES`] matching rows, newest first, and ranks those by
//! relevance (bm25 on SQLite, `ts_rank` on PostgreSQL; the newer first among equals). A rare
//! word is ranked over all its matches; a common one over its most recent ones, which keeps a
//! search fast however many rows match. On SQLite the organization is part of the FTS query
//! itself (an indexed token), so the candidates are always the organization's own; every
//! statement also joins to the organization's rows.

use crate::{Backend, Result, Store, on_db};
use frontdesk_core::protocol::MessageKind;
use frontdesk_core::search::*;
use frontdesk_core::*;

/// How many of the newest matching messages (or contacts) are ranked.
pub const CANDIDATES: i64 = 500;

const SQLITE_CONVERSATIONS: &str = "\
WITH hits AS (
    SELECT rowid AS r, -bm25(messages_fts, 1.0, 0.0) AS score
    FROM messages_fts WHERE messages_fts MATCH $1
    ORDER BY rowid DESC LIMIT $3
), ranked AS (
    SELECT m.conversation_id, m.kind, m.body, m.created_at AS message_at, h.score,
           ROW_NUMBER() OVER (PARTITION BY m.conversation_id
                              ORDER BY h.score DESC, m.created_at DESC) AS n
    FROM hits h
    JOIN messages m ON m.rowid = h.r
    JOIN conversations c ON c.id = m.conversation_id
    WHERE c.organization_id = $2 AND m.kind IN ('visitor', 'agent', 'note')
)
SELECT r.conversation_id, c.contact_id, ct.name AS contact_name, c.status, r.kind, r.body,
       r.message_at, c.created_at
FROM ranked r
JOIN conversations c ON c.id = r.conversation_id
JOIN contacts ct ON ct.id = c.contact_id
WHERE r.n = 1
ORDER BY r.score DESC, r.message_at DESC
LIMIT $4";

const POSTGRES_CONVERSATIONS: &str = "\
WITH hits AS (
    SELECT m.conversation_id, m.kind, m.body, m.created_at, m.search
    FROM messages m
    JOIN conversations c ON c.id = m.conversation_id
    WHERE m.search @@ to_tsquery('simple', $1) AND c.organization_id = $2
    ORDER BY m.id DESC LIMIT $3
), ranked AS (
    SELECT h.conversation_id, h.kind, h.body, h.created_at AS message_at,
           ts_rank(h.search, to_tsquery('simple', $1)) AS score,
           ROW_NUMBER() OVER (PARTITION BY h.conversation_id
                              ORDER BY ts_rank(h.search, to_tsquery('simple', $1)) DESC,
                                       h.created_at DESC) AS n
    FROM hits h
)
SELECT r.conversation_id, c.contact_id, ct.name AS contact_name, c.status, r.kind, r.body,
       r.message_at, c.created_at
FROM ranked r
JOIN conversations c ON c.id = r.conversation_id
JOIN contacts ct ON ct.id = c.contact_id
WHERE r.n = 1
ORDER BY r.score DESC, r.message_at DESC
LIMIT $4";

const SQLITE_CONTACTS: &str = "\
WITH hits AS (
    SELECT rowid AS r, -bm25(contacts_fts, 10.0, 5.0, 5.0, 3.0, 0.0) AS score
    FROM contacts_fts WHERE contacts_fts MATCH $1
    ORDER BY rowid DESC LIMIT $3
)
SELECT ct.id, ct.name, ct.email, ct.phone, ct.company, ct.last_seen_at,
       (SELECT v.id FROM conversations v WHERE v.contact_id = ct.id
        ORDER BY v.created_at DESC, v.id DESC LIMIT 1) AS latest_conversation_id
FROM hits h
JOIN contacts ct ON ct.rowid = h.r
WHERE ct.organization_id = $2 AND ct.merged_into IS NULL
ORDER BY h.score DESC, ct.last_seen_at DESC
LIMIT $4";

const POSTGRES_CONTACTS: &str = "\
WITH hits AS (
    SELECT ct.id, ct.name, ct.email, ct.phone, ct.company, ct.last_seen_at,
           ts_rank(ct.search, to_tsquery('simple', $1)) AS score
    FROM contacts ct
    WHERE ct.search @@ to_tsquery('simple', $1) AND ct.organization_id = $2
      AND ct.merged_into IS NULL
    ORDER BY ct.id DESC LIMIT $3
)
SELECT h.id, h.name, h.email, h.phone, h.company, h.last_seen_at,
       (SELECT v.id FROM conversations v WHERE v.contact_id = h.id
        ORDER BY v.created_at DESC, v.id DESC LIMIT 1) AS latest_conversation_id
FROM hits h
ORDER BY h.score DESC, h.last_seen_at DESC
LIMIT $4";

#[derive(sqlx::FromRow)]
struct ConversationHitRow {
    conversation_id: String,
    contact_id: String,
    contact_name: Option<String>,
    status: String,
    kind: String,
    body: String,
    message_at: i64,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct ContactHitRow {
    id: String,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    company: Option<String>,
    last_seen_at: i64,
    latest_conversation_id: Option<String>,
}

/// The organization as one FTS token: its UUID without dashes (as the triggers index it).
fn org_token(org: &OrganizationId) -> String {
    org.as_str()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

impl Store {
    /// The organization's conversations whose messages match (one hit per conversation: its
    /// best message) and its contacts who match, at most `limit` of each. Internal notes are
    /// searched: this is for agents only.
    pub async fn search(
        &self,
        org: &OrganizationId,
        q: &SearchQuery,
        limit: i64,
    ) -> Result<SearchResults> {
        let (conv_sql, contact_sql, conv_match, contact_match) = match self.backend() {
            Backend::Sqlite => {
                let org = org_token(org);
                let expr = q.fts5();
                (
                    SQLITE_CONVERSATIONS,
                    SQLITE_CONTACTS,
                    format!("org : \"{org}\" AND body : ({expr})"),
                    format!("org : \"{org}\" AND {{name email phone company}} : ({expr})"),
                )
            }
            Backend::Postgres => (
                POSTGRES_CONVERSATIONS,
                POSTGRES_CONTACTS,
                q.tsquery(),
                q.tsquery(),
            ),
        };
        let (conversations, contacts) = on_db!(&self.db, |p| {
            let c: Vec<ConversationHitRow> = sqlx::query_as(conv_sql)
                .bind(conv_match)
                .bind(org.as_str())
                .bind(CANDIDATES)
                .bind(limit)
                .fetch_all(p)
                .await?;
            let k: Vec<ContactHitRow> = sqlx::query_as(contact_sql)
                .bind(contact_match)
                .bind(org.as_str())
                .bind(CANDIDATES)
                .bind(limit)
                .fetch_all(p)
                .await?;
            (c, k)
        });
        Ok(SearchResults {
            conversations: conversations
                .into_iter()
                .map(|r| ConversationHit {
                    snippet: q.snippet(&r.body, SNIPPET_CHARS),
                    conversation_id: ConversationId(r.conversation_id),
                    contact_id: ContactId(r.contact_id),
                    contact_name: r.contact_name,
                    status: ConversationStatus::parse(&r.status)
                        .unwrap_or(ConversationStatus::Open),
                    message_kind: MessageKind::parse(&r.kind).unwrap_or(MessageKind::Visitor),
                    message_at: r.message_at,
                    created_at: r.created_at,
                })
                .collect(),
            contacts: contacts
                .into_iter()
                .map(|r| {
                    let line = [&r.name, &r.email, &r.phone, &r.company]
                        .into_iter()
                        .flatten()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(" · ");
                    ContactHit {
                        snippet: q.snippet(&line, SNIPPET_CHARS * 3),
                        id: ContactId(r.id),
                        name: r.name,
                        email: r.email,
                        phone: r.phone,
                        company: r.company,
                        latest_conversation_id: r.latest_conversation_id.map(ConversationId),
                        last_seen_at: r.last_seen_at,
                    }
                })
                .collect(),
        })
    }
}
