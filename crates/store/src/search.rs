//! Full-text search over an organization's messages and contacts.
//!
//! The indexes are the one dialect-specific part of the schema (`0011_search.sql`): FTS5 on
//! SQLite, a generated `tsvector` with GIN on PostgreSQL. What is searched, and how a query is
//! made safe, is [`frontdesk_core::search`]; this module only runs it.
//!
//! Each search reads at most [`CANDIDATES`] matching rows, newest first, and ranks those with
//! [`SearchQuery::score`] (the newer first among equals), the same way on both databases. A
//! rare word is ranked over all its matches; a common one over its most recent ones, which
//! keeps a search fast however many rows match. Not bm25 or `ts_rank` in SQL: bm25's inverse
//! document frequency walks every match of every term (and of the organization's token: all
//! its messages) before the first row comes back, 25–75 ms on 100,000 conversations.
//!
//! On SQLite the organization is part of the FTS query itself (an indexed token), so the
//! candidates are always the organization's own and a small organization's search never walks
//! a large one's matches. Every statement also joins to the organization's rows.

use crate::{Backend, Result, Store, on_db};
use frontdesk_core::protocol::MessageKind;
use frontdesk_core::search::*;
use frontdesk_core::*;
use std::collections::HashMap;

/// How many of the newest matching messages (or contacts) are ranked.
pub const CANDIDATES: i64 = 500;

/// The newest matching messages of the organization, with their conversation. (Contacts' names
/// are read for the few results only: joined here, PostgreSQL's planner sometimes hashed all
/// contacts for it, 70 ms for a small organization in a large database.)
const SQLITE_CONVERSATIONS: &str = "\
WITH hits AS (
    SELECT rowid AS r FROM messages_fts WHERE messages_fts MATCH $1
    ORDER BY rowid DESC LIMIT $3
)
SELECT m.conversation_id, c.contact_id, c.status, m.kind, m.body, m.created_at AS message_at,
       c.created_at
FROM hits h
JOIN messages m ON m.rowid = h.r
JOIN conversations c ON c.id = m.conversation_id
WHERE c.organization_id = $2 AND m.kind IN ('visitor', 'agent', 'note')
ORDER BY h.r DESC";

const POSTGRES_CONVERSATIONS: &str = "\
SELECT m.conversation_id, c.contact_id, c.status, m.kind, m.body, m.created_at AS message_at,
       c.created_at
FROM messages m
JOIN conversations c ON c.id = m.conversation_id
WHERE m.search @@ to_tsquery('simple', $1) AND c.organization_id = $2
ORDER BY m.id DESC LIMIT $3";

/// The newest matching contacts of the organization (not merged ones).
const SQLITE_CONTACTS: &str = "\
WITH hits AS (
    SELECT rowid AS r FROM contacts_fts WHERE contacts_fts MATCH $1
    ORDER BY rowid DESC LIMIT $3
)
SELECT ct.id, ct.name, ct.email, ct.phone, ct.company, ct.last_seen_at
FROM hits h
JOIN contacts ct ON ct.rowid = h.r
WHERE ct.organization_id = $2 AND ct.merged_into IS NULL
ORDER BY h.r DESC";

const POSTGRES_CONTACTS: &str = "\
SELECT ct.id, ct.name, ct.email, ct.phone, ct.company, ct.last_seen_at
FROM contacts ct
WHERE ct.search @@ to_tsquery('simple', $1) AND ct.organization_id = $2
  AND ct.merged_into IS NULL
ORDER BY ct.id DESC LIMIT $3";

#[derive(sqlx::FromRow)]
struct ConversationHitRow {
    conversation_id: String,
    contact_id: String,
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
}

/// The organization as one FTS token: its UUID without dashes (as the triggers index it).
fn org_token(org: &OrganizationId) -> String {
    org.as_str()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

impl Store {
    /// Each contact's latest conversation, for contacts that have one.
    async fn latest_conversations<'a>(
        &self,
        contacts: impl Iterator<Item = &'a str>,
    ) -> Result<HashMap<String, String>> {
        // Oldest first: the last one kept per contact is its latest.
        self.by_contact(
            contacts,
            "SELECT contact_id, id FROM conversations WHERE contact_id IN ({list}) \
             ORDER BY created_at, id",
        )
        .await
    }

    /// Contacts' names (`None` for a contact who gave none).
    async fn contact_names<'a>(
        &self,
        contacts: impl Iterator<Item = &'a str>,
    ) -> Result<HashMap<String, Option<String>>> {
        self.by_contact(
            contacts,
            "SELECT id, name FROM contacts WHERE id IN ({list})",
        )
        .await
    }

    /// Runs `statement` (`{list}` standing for the contacts' ids) for a few contacts.
    async fn by_contact<'a, T>(
        &self,
        contacts: impl Iterator<Item = &'a str>,
        statement: &str,
    ) -> Result<HashMap<String, T>>
    where
        T: Send + Unpin,
        for<'r> (String, T):
            sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let ids: Vec<&str> = contacts.collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list = (1..=ids.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let statement = statement.replace("{list}", &list);
        on_db!(&self.db, |p| {
            let mut q =
                sqlx::query_as::<_, (String, T)>(sqlx::AssertSqlSafe(statement)).persistent(false);
            for id in &ids {
                q = q.bind(*id);
            }
            Ok(q.fetch_all(p).await?.into_iter().collect())
        })
    }

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
        // Not prepared statements: PostgreSQL would plan a kept one once for any search
        // ("generic plan") after a few runs, and one plan cannot suit both a word in every
        // other message (walk the newest messages) and a rare one (the index): a common word
        // took 360 ms instead of 20. An unnamed statement is planned with its values.
        let (messages, contacts) = on_db!(&self.db, |p| {
            let m: Vec<ConversationHitRow> = sqlx::query_as(conv_sql)
                .persistent(false)
                .bind(conv_match)
                .bind(org.as_str())
                .bind(CANDIDATES)
                .fetch_all(p)
                .await?;
            let k: Vec<ContactHitRow> = sqlx::query_as(contact_sql)
                .persistent(false)
                .bind(contact_match)
                .bind(org.as_str())
                .bind(CANDIDATES)
                .fetch_all(p)
                .await?;
            (m, k)
        });
        let limit = usize::try_from(limit).unwrap_or(0);

        // Best first, the newest first among equals (the rows come newest first and the sort
        // is stable); then each conversation's best message only.
        let mut messages: Vec<(f64, ConversationHitRow)> = messages
            .into_iter()
            .map(|r| (q.score(&r.body), r))
            .collect();
        messages.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut seen = std::collections::HashSet::new();
        let best: Vec<ConversationHitRow> = messages
            .into_iter()
            .filter(|(_, r)| seen.insert(r.conversation_id.clone()))
            .take(limit)
            .map(|(_, r)| r)
            .collect();
        let names = self
            .contact_names(best.iter().map(|r| r.contact_id.as_str()))
            .await?;
        let conversations = best
            .into_iter()
            .map(|r| ConversationHit {
                snippet: q.snippet(&r.body, SNIPPET_CHARS),
                conversation_id: ConversationId(r.conversation_id),
                contact_name: names.get(&r.contact_id).cloned().flatten(),
                contact_id: ContactId(r.contact_id),
                status: ConversationStatus::parse(&r.status).unwrap_or(ConversationStatus::Open),
                message_kind: MessageKind::parse(&r.kind).unwrap_or(MessageKind::Visitor),
                message_at: r.message_at,
                created_at: r.created_at,
            })
            .collect();

        let line = |r: &ContactHitRow| {
            [&r.name, &r.email, &r.phone, &r.company]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" · ")
        };
        let mut contacts: Vec<(f64, String, ContactHitRow)> = contacts
            .into_iter()
            .map(|r| {
                let l = line(&r);
                (q.score(&l), l, r)
            })
            .collect();
        contacts.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(b.2.last_seen_at.cmp(&a.2.last_seen_at))
        });
        contacts.truncate(limit);
        let latest = self
            .latest_conversations(contacts.iter().map(|c| c.2.id.as_str()))
            .await?;
        let contacts = contacts
            .into_iter()
            .map(|(_, l, r)| ContactHit {
                snippet: q.snippet(&l, SNIPPET_CHARS * 3),
                latest_conversation_id: latest.get(&r.id).cloned().map(ConversationId),
                id: ContactId(r.id),
                name: r.name,
                email: r.email,
                phone: r.phone,
                company: r.company,
                last_seen_at: r.last_seen_at,
            })
            .collect();
        Ok(SearchResults {
            conversations,
            contacts,
        })
    }
}
