//! SQLite's fast path for the commonest write: a visitor's message in a running chat.
//!
//! sqlx runs each SQLite statement on the connection's own worker thread, so every statement
//! is two thread hops, and a profile of the writer under load was mostly those switches. The
//! writer therefore keeps a connection of its own, opened with rusqlite (0.39, on the same
//! libsqlite3-sys as sqlx, so there is one SQLite), and runs a whole run of plain visitor sends
//! on it on the writer's own thread: `BEGIN IMMEDIATE`, the search mark, the sends, the search
//! index and `COMMIT`, with no thread hop. Being the writer's alone, the connection keeps its
//! prepared statements and its page cache from one batch to the next (a pooled connection
//! loses its cache whenever another connection wrote).
//!
//! It stores exactly what the general path stores, and only where that is simple: a visitor's
//! `send`, without files, to a conversation of theirs that is open or assigned and that this
//! message does not change (no state change, no system message), and not a retry. Anything else
//! ends the run *before* it writes, and the general path takes that op, in a transaction of its
//! own after this one commits. The conformance tests run every send through here on SQLite;
//! `fast_and_general_paths_store_the_same` compares the two directly.

use super::{ConvAndRetry, PREVIEW_BYTES, Scope, Target, WriteOp, WriteOutcome, clip, preview_of};
use crate::rows::{CONV_SELECT, ConvRow};
use crate::{INDEX_MESSAGES_AFTER, LAST_MESSAGE_ROWID, Result, StoreError, entropy, now_ms};
use frontdesk_core::conversation::Action;
use frontdesk_core::protocol::{Message, MessageKind};
use frontdesk_core::*;
use rusqlite::{OptionalExtension, params};
use std::path::PathBuf;
use std::time::Duration;

/// Where the SQLite database is, for the writer's own connection.
#[derive(Clone, Debug)]
pub(crate) struct SqliteFile {
    pub path: PathBuf,
    /// The same cap as the pool's (`max_page_count` is a connection's setting).
    pub max_page_count: Option<u64>,
}

/// The writer's own SQLite connection, opened on first use and again after a failure that
/// leaves it inside a transaction.
pub(crate) struct Dedicated {
    file: SqliteFile,
    conn: Option<rusqlite::Connection>,
}

/// Whether `op` is a candidate for the fast path (its conversation decides, when read).
pub(super) fn candidate(op: &WriteOp) -> bool {
    #[cfg(test)]
    if tests::GENERAL_ONLY.get() {
        return false;
    }
    shape(op).is_some()
}

impl Dedicated {
    pub fn new(file: SqliteFile) -> Self {
        Self { file, conn: None }
    }

    fn open(file: &SqliteFile) -> rusqlite::Result<rusqlite::Connection> {
        let conn = rusqlite::Connection::open(&file.path)?;
        // The pool's settings (`Store::open_sqlite`): full durability, as every write has.
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "wal")?;
        conn.pragma_update(None, "synchronous", "full")?;
        conn.pragma_update(None, "foreign_keys", "on")?;
        conn.pragma_update(None, "temp_store", "memory")?;
        if let Some(pages) = file.max_page_count {
            conn.pragma_update(None, "max_page_count", pages.to_string())?;
        }
        Ok(conn)
    }

    /// Runs the fast-path sends at the front of `ops` in one transaction and commits it,
    /// returning one outcome each. Returns none (and writes nothing) when the first is not one
    /// after all. An error means nothing was stored.
    pub fn run(&mut self, ops: &[&WriteOp]) -> Result<Vec<Result<WriteOutcome>>> {
        let conn = match self.conn.take() {
            Some(c) => c,
            None => Self::open(&self.file).map_err(error)?,
        };
        let mut out = Vec::new();
        let r = transaction(&conn, ops, &mut out);
        if !conn.is_autocommit() {
            // Nothing taken, or a failure: SQLite may have rolled back by itself (a full disk
            // does), so this one may fail.
            let _ = conn.execute_batch("ROLLBACK");
        }
        // A connection still in a transaction is closed; the next batch opens another.
        if conn.is_autocommit() {
            self.conn = Some(conn);
        }
        r.map(|()| out)
    }
}

fn transaction(
    conn: &rusqlite::Connection,
    ops: &[&WriteOp],
    out: &mut Vec<Result<WriteOutcome>>,
) -> Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(error)?;
    let mark: i64 = conn
        .prepare_cached(LAST_MESSAGE_ROWID)
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(error)?;
    if sends(conn, ops, out)? > 0 {
        conn.prepare_cached(INDEX_MESSAGES_AFTER)
            .and_then(|mut s| s.execute([mark]))
            .map_err(error)?;
        conn.execute_batch("COMMIT").map_err(error)?;
    }
    Ok(())
}

/// What a fast-path op carries, if it has the shape of one.
pub(super) struct Plain<'a> {
    pub contact: &'a ContactId,
    pub conversation: &'a ConversationId,
    pub client_id: Option<&'a str>,
    pub text: &'a MessageText,
}

pub(super) fn shape(op: &WriteOp) -> Option<Plain<'_>> {
    match op {
        WriteOp::Send {
            scope: Scope::Contact(contact),
            target: Target::Conversation(conversation),
            client_id,
            kind: MessageKind::Visitor,
            author: None,
            text,
            attachments,
        } if attachments.is_empty() => Some(Plain {
            contact,
            conversation,
            client_id: client_id.as_ref().map(|c| c.as_str()),
            text,
        }),
        _ => None,
    }
}

const SELECT: &str = "SELECT q.*, (SELECT m.id FROM messages m WHERE m.conversation_id = q.id AND m.client_id = ?2) AS retry_of FROM (";
static SELECT_ONE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{SELECT}{CONV_SELECT} WHERE c.id = ?1) q"));
const INSERT: &str = "INSERT INTO messages (id, conversation_id, seq, public_seq, client_id, kind, author_id, author_name, body, created_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, 'visitor', NULL, NULL, ?6, ?7)";
const UPDATE: &str = "UPDATE conversations SET last_seq = ?2, last_public_seq = ?3, visitor_delivered_seq = ?4, \
     visitor_read_seq = ?5, unread = ?6, last_message_preview = ?7, last_message_at = ?8, updated_at = ?8 WHERE id = ?1";

/// Takes the run of fast-path sends at the front of `ops`, pushing one outcome each to `out`;
/// returns how many it took.
fn sends(
    conn: &rusqlite::Connection,
    ops: &[&WriteOp],
    out: &mut Vec<Result<WriteOutcome>>,
) -> Result<usize> {
    let mut select = conn.prepare_cached(&SELECT_ONE).map_err(error)?;
    let mut insert = conn.prepare_cached(INSERT).map_err(error)?;
    let mut update = conn.prepare_cached(UPDATE).map_err(error)?;
    let mut taken = 0;
    for op in ops {
        let Some(p) = shape(op).filter(|_| candidate(op)) else {
            break;
        };
        let now = now_ms();
        let found = select
            .query_row(
                params![p.conversation.as_str(), p.client_id],
                conv_and_retry,
            )
            .optional()
            .map_err(error)?;
        let Some(ConvAndRetry { mut row, retry_of }) = found else {
            out.push(Err(StoreError::NotFound));
            taken += 1;
            continue;
        };
        if row.contact_id != p.contact.as_str() {
            out.push(Err(StoreError::NotFound));
            taken += 1;
            continue;
        }
        // A retry, or a message that reopens, takes or announces: the general path's.
        if retry_of.is_some() || !unchanged_by_visitor_message(&row) {
            break;
        }
        let seq = row.last_seq + 1;
        let public = row.last_public_seq + 1;
        let id = MessageId::new(now, entropy());
        insert
            .execute(params![
                id.as_str(),
                row.id,
                seq,
                public,
                p.client_id,
                p.text.as_str(),
                now
            ])
            .map_err(error)?;
        after_plain_send(&mut row, seq, public, p.text.as_str(), now);
        update
            .execute(params![
                row.id,
                seq,
                public,
                row.visitor_delivered_seq,
                row.visitor_read_seq,
                row.unread,
                row.last_message_preview,
                now
            ])
            .map_err(error)?;
        out.push(Ok(plain_outcome(row, id, seq, public, &p, now)));
        taken += 1;
    }
    Ok(taken)
}

/// Whether a visitor's message leaves the conversation's state as it is: no reopen, no take,
/// no system message.
pub(super) fn unchanged_by_visitor_message(row: &ConvRow) -> bool {
    let before = row.state();
    before
        .apply(&Action::VisitorMessage)
        .is_ok_and(|t| t.state == before && t.system_message.is_none())
}

/// What a plain visitor send stored as `seq` and `public` answers, given the conversation's
/// row after it (`after_plain_send`).
pub(super) fn plain_outcome(
    row: ConvRow,
    id: MessageId,
    seq: i64,
    public: i64,
    p: &Plain<'_>,
    now: Millis,
) -> WriteOutcome {
    #[cfg(test)]
    tests::FAST_STORED.set(tests::FAST_STORED.get() + 1);
    let message = Message {
        id,
        conversation_id: ConversationId(row.id.clone()),
        seq,
        public_seq: Some(public),
        client_id: p.client_id.map(str::to_owned),
        kind: MessageKind::Visitor,
        author_id: None,
        author_name: None,
        text: p.text.as_str().to_owned(),
        created_at: now,
        attachments: Vec::new(),
    };
    WriteOutcome {
        organization_id: OrganizationId(row.organization_id.clone()),
        conversation: row.into_conversation(),
        messages: vec![message],
        duplicate: false,
        changed: true,
        routing: false,
        notices: Vec::new(),
    }
}

/// The conversation's row after a plain visitor send (see the module's doc) stored as `seq`
/// and `public`: what the writer's `UPDATE` leaves, so it need not be read back. A sender has
/// seen everything up to their own message.
pub(super) fn after_plain_send(row: &mut ConvRow, seq: i64, public: i64, text: &str, now: Millis) {
    row.last_seq = seq;
    row.last_public_seq = public;
    row.visitor_delivered_seq = row.visitor_delivered_seq.max(public);
    row.visitor_read_seq = row.visitor_read_seq.max(public);
    row.unread += 1;
    row.last_message_preview = Some(clip(&preview_of(text, &[]), PREVIEW_BYTES));
    row.last_message_at = Some(now);
    row.updated_at = now;
}

/// The select's columns, in order: `CONV_SELECT`'s, then `retry_of`. Read by position, as
/// a lookup by name compares every column's name for every value
/// (`select_columns_are_in_conv_row_order` checks the order).
#[cfg(test)]
const COLUMNS: [&str; 31] = [
    "id",
    "organization_id",
    "website_id",
    "contact_id",
    "status",
    "assignee_id",
    "assignee_name",
    "last_seq",
    "last_public_seq",
    "visitor_delivered_seq",
    "visitor_read_seq",
    "agent_delivered_seq",
    "agent_read_seq",
    "unread",
    "contact_name",
    "contact_email",
    "website_name",
    "last_message_preview",
    "last_message_at",
    "created_at",
    "updated_at",
    "team_id",
    "team_name",
    "priority",
    "offline",
    "missed",
    "enqueued_at",
    "first_reply_at",
    "assigned_at",
    "tags",
    "retry_of",
];

fn conv_and_retry(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConvAndRetry> {
    Ok(ConvAndRetry {
        row: ConvRow {
            id: r.get(0)?,
            organization_id: r.get(1)?,
            website_id: r.get(2)?,
            contact_id: r.get(3)?,
            status: r.get(4)?,
            assignee_id: r.get(5)?,
            assignee_name: r.get(6)?,
            last_seq: r.get(7)?,
            last_public_seq: r.get(8)?,
            visitor_delivered_seq: r.get(9)?,
            visitor_read_seq: r.get(10)?,
            agent_delivered_seq: r.get(11)?,
            agent_read_seq: r.get(12)?,
            unread: r.get(13)?,
            contact_name: r.get(14)?,
            contact_email: r.get(15)?,
            website_name: r.get(16)?,
            last_message_preview: r.get(17)?,
            last_message_at: r.get(18)?,
            created_at: r.get(19)?,
            updated_at: r.get(20)?,
            team_id: r.get(21)?,
            team_name: r.get(22)?,
            priority: r.get(23)?,
            offline: r.get(24)?,
            missed: r.get(25)?,
            enqueued_at: r.get(26)?,
            first_reply_at: r.get(27)?,
            assigned_at: r.get(28)?,
            tags: r.get(29)?,
        },
        retry_of: r.get(30)?,
    })
}

/// The same mapping as `From<sqlx::Error>`: a full disk is `Full`, a unique violation a
/// `Conflict`, anything else `Unavailable`.
fn error(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => StoreError::Full(e.to_string()),
        Some(rusqlite::ErrorCode::ConstraintViolation)
            if e.sqlite_error().is_some_and(|x| {
                x.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || x.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }) =>
        {
            StoreError::Conflict
        }
        _ => StoreError::Unavailable(e.to_string()),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use crate::writer::{Scope, Target, WriteOp};
    use crate::{Store, StoreError, VisitContext};
    use frontdesk_core::conversation::{Action, AgentRef};
    use frontdesk_core::protocol::{Conversation, MessageKind, Role};
    use frontdesk_core::*;
    use std::cell::Cell;

    thread_local! {
        /// Sends take the general path only (the writer runs on the test's one thread).
        pub(in crate::writer) static GENERAL_ONLY: Cell<bool> = const { Cell::new(false) };
        /// Messages the fast path stored.
        pub(in crate::writer) static FAST_STORED: Cell<usize> = const { Cell::new(0) };
    }

    /// What a conversation and its messages look like, without the ids and times a run makes.
    type Seen = (Vec<String>, Vec<String>);

    fn conv_view(c: &Conversation) -> String {
        format!(
            "{:?} {:?} {:?} seq {} public {} visitor {}/{} agent {}/{} unread {} {:?} {:?} {:?} {:?} {}",
            c.status,
            c.assignee_id.is_some(),
            c.assignee_name,
            c.last_seq,
            c.last_public_seq,
            c.visitor_delivered_seq,
            c.visitor_read_seq,
            c.agent_delivered_seq,
            c.agent_read_seq,
            c.unread,
            c.last_message_preview,
            c.last_message_at.is_some(),
            c.team_id,
            c.priority,
            c.updated_at >= c.created_at,
        )
    }

    /// A store on a brand-new PostgreSQL database (`FRONTDESK_TEST_POSTGRES_URL`).
    async fn postgres_store() -> Store {
        let base = std::env::var("FRONTDESK_TEST_POSTGRES_URL")
            .expect("FRONTDESK_TEST_POSTGRES_URL (scripts/test-postgres.sh sets it)");
        let name = format!("fdtest_{:032x}", rand::random::<u128>());
        let admin = Store::open_postgres(&base).await.unwrap();
        admin
            .execute_admin(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        admin.close().await;
        let (head, _) = base.rsplit_once('/').expect("a database URL");
        Store::open_postgres(&format!("{head}/{name}"))
            .await
            .unwrap()
    }

    async fn scenario(general_only: bool, postgres: bool) -> (Seen, usize) {
        GENERAL_ONLY.set(general_only);
        FAST_STORED.set(0);
        let dir = tempfile::tempdir().unwrap();
        let s = if postgres {
            postgres_store().await
        } else {
            Store::open_sqlite(&dir.path().join("t.db")).await.unwrap()
        };
        s.migrate().await.unwrap();
        let (admin, site) = s
            .create_organization(
                &Name::parse("Org").unwrap(),
                (
                    &Email::parse("a@org.test").unwrap(),
                    &Name::parse("Ada").unwrap(),
                    "hash",
                ),
                (
                    &Name::parse("Site").unwrap(),
                    &Domain::parse("org.test").unwrap(),
                    "key",
                ),
                None,
            )
            .await
            .unwrap();
        let v = s
            .create_contact(&site, &VisitContext::default())
            .await
            .unwrap();
        let other = s
            .create_contact(&site, &VisitContext::default())
            .await
            .unwrap();
        let ada = AgentRef {
            id: admin.id.clone(),
            name: admin.name.clone(),
        };
        let send = |contact: &ContactId, target: Target, client: &str, text: &str| WriteOp::Send {
            scope: Scope::Contact(contact.clone()),
            target,
            client_id: Some(ClientId::parse(client).unwrap()),
            kind: MessageKind::Visitor,
            author: None,
            text: MessageText::parse(text).unwrap(),
            attachments: Vec::new(),
        };
        let act = |conv: &ConversationId, action: Action| WriteOp::Act {
            scope: Scope::Organization(admin.organization_id.clone()),
            conversation_id: conv.clone(),
            action,
            actor: admin.id.clone(),
            role: Role::Admin,
        };
        let mut outcomes = Vec::new();
        let first = s
            .write(send(
                &v.id,
                Target::LatestOfContact {
                    contact_id: v.id.clone(),
                    organization_id: site.organization_id.clone(),
                    website_id: site.id.clone(),
                },
                "c1",
                "hello",
            ))
            .await
            .unwrap();
        let conv = first.conversation.id.clone();
        let to = || Target::Conversation(conv.clone());
        let mut ops = vec![
            send(&v.id, to(), "c2", "open, unassigned"),
            send(&v.id, to(), "c2", "a retry of c2"),
            send(&other.id, to(), "c9", "someone else's conversation"),
            act(&conv, Action::Take(ada.clone())),
            send(&v.id, to(), "c3", &"long ".repeat(100)),
            send(&v.id, to(), "c4", "assigned"),
            act(&conv, Action::Resolve { by: ada.clone() }),
            send(&v.id, to(), "c5", "reopens"),
            send(&v.id, to(), "c6", "after reopening"),
        ];
        // One at a time, and then the same kinds in one batch (all queued before the writer
        // wakes: each is spawned, and none is awaited until all are).
        for op in ops.drain(..6) {
            let out = s.write(op).await;
            // What a write answers is what is stored: the row built in memory included.
            if let Ok(o) = &out {
                let stored = s
                    .conversation(&admin.organization_id, &conv)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(format!("{:?}", o.conversation), format!("{stored:?}"));
            }
            outcomes.push(out);
        }
        let handles: Vec<_> = ops
            .into_iter()
            .map(|op| {
                let s = s.clone();
                tokio::spawn(async move { s.write(op).await })
            })
            .collect();
        for h in handles {
            outcomes.push(h.await.unwrap());
        }
        let mut seen: Vec<String> = outcomes
            .iter()
            .map(|o| match o {
                Ok(o) => format!(
                    "{} | {:?} dup {} changed {} routing {} notices {}",
                    conv_view(&o.conversation),
                    o.messages
                        .iter()
                        .map(|m| (
                            m.seq,
                            m.public_seq,
                            m.client_id.clone(),
                            m.kind,
                            m.text.clone()
                        ))
                        .collect::<Vec<_>>(),
                    o.duplicate,
                    o.changed,
                    o.routing,
                    o.notices.len()
                ),
                Err(StoreError::NotFound) => "not found".into(),
                Err(e) => format!("error {e}"),
            })
            .collect();
        let stored = s
            .conversation(&admin.organization_id, &conv)
            .await
            .unwrap()
            .unwrap();
        seen.push(conv_view(&stored));
        let messages = s
            .messages(&conv, 0, 100, false)
            .await
            .unwrap()
            .items
            .iter()
            .map(|m| {
                format!(
                    "{} {:?} {:?} {:?} {}",
                    m.seq, m.public_seq, m.client_id, m.kind, m.text
                )
            })
            .collect();
        ((seen, messages), FAST_STORED.get())
    }

    /// The fast path stores, and answers, exactly what the general path does; and what either
    /// answers is what a read finds.
    #[tokio::test]
    async fn fast_and_general_paths_store_the_same() {
        same_either_way(false).await;
    }

    mod postgres {
        /// PostgreSQL's fast path (`pg_fast`) against its general one.
        #[tokio::test]
        async fn fast_and_general_paths_store_the_same() {
            super::same_either_way(true).await;
        }
    }

    async fn same_either_way(postgres: bool) {
        let (general, none) = scenario(true, postgres).await;
        let (fast, some) = scenario(false, postgres).await;
        assert_eq!(none, 0);
        // c2, c3, c4 and c6; not the first, the retry, another's, nor the one that reopens.
        assert_eq!(some, 4, "the fast path took the plain sends");
        assert_eq!(general.0.len(), 10);
        assert!(general.0[2].starts_with("not found"), "{:?}", general.0[2]);
        assert!(general.0[1].contains("dup true"), "{:?}", general.0[1]);
        assert_eq!(general, fast);
    }

    /// `conv_and_retry` reads by position: the select's columns must be `COLUMNS`, in order.
    #[tokio::test]
    async fn select_columns_are_in_conv_row_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let s = Store::open_sqlite(&path).await.unwrap();
        s.migrate().await.unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        let select = conn.prepare(&super::SELECT_ONE).unwrap();
        assert_eq!(select.column_names(), super::COLUMNS);
    }
}
