//! The group-commit writer: every change to a conversation runs here.
//!
//! Each shard is one task with one queue. It takes every job waiting (up to `MAX_BATCH`), runs
//! them in order inside one transaction, commits once, and only then answers each caller. On
//! SQLite there is one shard (the database has one writer anyway); on PostgreSQL there are
//! several, chosen by a hash of the conversation (or contact), so one conversation's writes stay
//! in order while unrelated conversations commit side by side.

use crate::rows::*;
use crate::{Db, Result, StoreError, entropy, now_ms, on_db, sql};
use frontdesk_core::conversation::AgentRef;
use frontdesk_core::protocol::{Conversation, Message, MessageKind, Role, Side};
use frontdesk_core::*;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock, RwLock};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Inserts one message and returns it. A macro, not a function, so that it compiles against
/// whichever transaction type `on_db!` hands it.
macro_rules! insert_message {
    ($tx:ident, $conv:expr, $seq:expr, $public:expr, $client:expr, $kind:expr, $author_id:expr, $author_name:expr, $body:expr, $now:expr) => {{
        let id = MessageId::new($now, entropy());
        sqlx::query(
            "INSERT INTO messages (id, conversation_id, seq, public_seq, client_id, kind, author_id, author_name, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.as_str())
        .bind($conv)
        .bind($seq)
        .bind($public)
        .bind($client)
        .bind($kind.as_str())
        .bind($author_id)
        .bind($author_name)
        .bind($body)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
        Message {
            id,
            conversation_id: ConversationId($conv.to_string()),
            seq: $seq,
            public_seq: $public,
            client_id: $client.map(|s: &str| s.to_string()),
            kind: $kind,
            author_id: $author_id.map(|s: &str| s.to_string()),
            author_name: $author_name.map(|s: &str| s.to_string()),
            text: $body.to_string(),
            created_at: $now,
        }
    }};
}

const MAX_BATCH: usize = 512;
const QUEUE: usize = 8192;
const PREVIEW_BYTES: usize = 160;

/// Whose view a write is made in: an agent may touch any conversation of their organization, a
/// visitor only their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Organization(OrganizationId),
    Contact(ContactId),
}

/// Which conversation a message goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Conversation(ConversationId),
    /// A visitor's latest conversation, reopened if resolved, or a new one if they have none.
    LatestOfContact {
        contact_id: ContactId,
        organization_id: OrganizationId,
        website_id: WebsiteId,
    },
}

/// One change to a conversation.
#[derive(Clone, Debug)]
pub enum WriteOp {
    /// Stores a message. `kind` decides the state change (a visitor message reopens, an agent's
    /// reply to an unassigned conversation takes it, a note changes nothing).
    Send {
        scope: Scope,
        target: Target,
        client_id: Option<ClientId>,
        kind: MessageKind,
        author: Option<AgentRef>,
        text: MessageText,
    },
    /// Takes, assigns, resolves or reopens, as an agent with `role` (checked under the lock).
    Act {
        scope: Scope,
        conversation_id: ConversationId,
        action: Action,
        actor: AgentId,
        role: Role,
    },
    /// Moves a read or delivered receipt forward, in `public_seq`.
    Receipt {
        scope: Scope,
        conversation_id: ConversationId,
        side: Side,
        read: bool,
        public_seq: i64,
    },
}

impl WriteOp {
    fn shard_key(&self) -> &str {
        match self {
            WriteOp::Send {
                target: Target::LatestOfContact { contact_id, .. },
                ..
            } => contact_id.as_str(),
            WriteOp::Send {
                target: Target::Conversation(id),
                ..
            }
            | WriteOp::Act {
                conversation_id: id,
                ..
            }
            | WriteOp::Receipt {
                conversation_id: id,
                ..
            } => id.as_str(),
        }
    }
}

/// What a committed write did.
#[derive(Clone, Debug)]
pub struct WriteOutcome {
    pub organization_id: OrganizationId,
    /// The conversation after the write.
    pub conversation: Conversation,
    /// Messages stored by this write, in `seq` order (a system message may precede the sent
    /// one). For a duplicate send: the message stored the first time.
    pub messages: Vec<Message>,
    /// A retry of a send that was already stored.
    pub duplicate: bool,
    /// Whether anything changed.
    pub changed: bool,
}

struct Job {
    op: WriteOp,
    reply: oneshot::Sender<Result<WriteOutcome>>,
}

/// Called with each committed outcome, in commit order, before its caller hears back. The
/// server publishes events from here, so a conversation's events go out in `seq` order.
pub type CommitHook = Arc<dyn Fn(&WriteOutcome) + Send + Sync>;

pub(crate) struct Writer {
    pub hook: Arc<OnceLock<CommitHook>>,
    senders: RwLock<Option<Vec<mpsc::Sender<Job>>>>,
    tasks: tokio::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl Writer {
    pub fn start(db: Db, shards: usize) -> Self {
        let mut senders = Vec::new();
        let mut tasks = Vec::new();
        let hook: Arc<OnceLock<CommitHook>> = Arc::default();
        for _ in 0..shards.max(1) {
            let (tx, rx) = mpsc::channel(QUEUE);
            senders.push(tx);
            tasks.push(tokio::spawn(run_shard(db.clone(), rx, hook.clone())));
        }
        Self {
            hook,
            senders: RwLock::new(Some(senders)),
            tasks: tokio::sync::Mutex::new(tasks),
        }
    }

    pub async fn submit(&self, op: WriteOp) -> Result<WriteOutcome> {
        let sender = {
            let guard = self.senders.read().unwrap_or_else(|e| e.into_inner());
            let Some(senders) = guard.as_ref() else {
                return Err(StoreError::Closed);
            };
            let mut h = std::collections::hash_map::DefaultHasher::new();
            op.shard_key().hash(&mut h);
            senders[(h.finish() as usize) % senders.len()].clone()
        };
        let (reply, rx) = oneshot::channel();
        sender
            .send(Job { op, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Closes the queues; the shards finish every job already queued, then stop.
    pub async fn shutdown(&self) {
        self.senders
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        for t in self.tasks.lock().await.drain(..) {
            let _ = t.await;
        }
    }
}

async fn run_shard(db: Db, mut rx: mpsc::Receiver<Job>, hook: Arc<OnceLock<CommitHook>>) {
    let mut batch: Vec<Job> = Vec::with_capacity(64);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let mut attempt = 0;
        let result = loop {
            let ops: Vec<&WriteOp> = batch.iter().map(|j| &j.op).collect();
            match run_batch(&db, &ops).await {
                // PostgreSQL breaks a deadlock between writers (of this node or another) by
                // aborting one transaction; nothing of it was stored, so run it again.
                Err(StoreError::Unavailable(e)) if attempt < 3 && is_retryable(&e) => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(5 * attempt)).await;
                }
                r => break r,
            }
        };
        match result {
            Ok(outcomes) => {
                for (job, out) in batch.drain(..).zip(outcomes) {
                    if let (Ok(o), Some(h)) = (&out, hook.get())
                        && (o.changed || !o.messages.is_empty())
                        && !o.duplicate
                    {
                        h(o);
                    }
                    let _ = job.reply.send(out);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, jobs = batch.len(), "write batch failed; nothing in it was stored");
                let msg = e.to_string();
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(StoreError::Unavailable(msg.clone())));
                }
            }
        }
    }
}

fn is_retryable(e: &str) -> bool {
    e.contains("deadlock")
        || e.contains("40P01")
        || e.contains("40001")
        || e.contains("database is locked")
}

/// Runs a batch in one transaction. An op's own failure (not found, a refused transition) is
/// its result and leaves no trace; a database failure aborts the whole batch.
async fn run_batch(db: &Db, ops: &[&WriteOp]) -> Result<Vec<Result<WriteOutcome>>> {
    on_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            let now = now_ms();
            let r: Result<WriteOutcome> = async {
                // Resolve the conversation, creating a visitor's first one.
                let conv_id: String = match op {
                    WriteOp::Send {
                        target:
                            Target::LatestOfContact {
                                contact_id,
                                organization_id,
                                website_id,
                            },
                        ..
                    } => {
                        // Locking the contact row serializes a visitor's first sends, so two
                        // tabs cannot start two conversations.
                        let locked = sqlx::query(
                            "UPDATE contacts SET last_seen_at = $2 WHERE id = $1 AND organization_id = $3",
                        )
                        .bind(contact_id.as_str())
                        .bind(now)
                        .bind(organization_id.as_str())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                        if locked == 0 {
                            return Err(StoreError::NotFound);
                        }
                        let latest: Option<(String,)> = sqlx::query_as(
                            "SELECT id FROM conversations WHERE contact_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
                        )
                        .bind(contact_id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                        match latest {
                            Some((id,)) => id,
                            None => {
                                let id = ConversationId::new(now, entropy());
                                sqlx::query(
                                    "INSERT INTO conversations (id, organization_id, website_id, contact_id, status, created_at, updated_at) \
                                     VALUES ($1, $2, $3, $4, 'open', $5, $5)",
                                )
                                .bind(id.as_str())
                                .bind(organization_id.as_str())
                                .bind(website_id.as_str())
                                .bind(contact_id.as_str())
                                .bind(now)
                                .execute(&mut *tx)
                                .await?;
                                id.0
                            }
                        }
                    }
                    WriteOp::Send {
                        target: Target::Conversation(id),
                        ..
                    }
                    | WriteOp::Act {
                        conversation_id: id,
                        ..
                    }
                    | WriteOp::Receipt {
                        conversation_id: id,
                        ..
                    } => id.0.clone(),
                };

                // Lock the conversation's row: from here to commit, nobody else writes it.
                let locked = sqlx::query("UPDATE conversations SET last_seq = last_seq WHERE id = $1")
                    .bind(&conv_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if locked == 0 {
                    return Err(StoreError::NotFound);
                }
                let row: ConvRow = sqlx::query_as(sql!("{CONV_SELECT} WHERE c.id = $1"))
                    .bind(&conv_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let scope = match op {
                    WriteOp::Send { scope, .. } | WriteOp::Act { scope, .. } | WriteOp::Receipt { scope, .. } => scope,
                };
                let in_scope = match scope {
                    Scope::Organization(o) => o.as_str() == row.organization_id,
                    Scope::Contact(c) => c.as_str() == row.contact_id,
                };
                if !in_scope {
                    return Err(StoreError::NotFound);
                }

                let mut stored: Vec<Message> = Vec::new();
                let mut changed = true;
                match op {
                    WriteOp::Send {
                        client_id,
                        kind,
                        author,
                        text,
                        ..
                    } => {
                        if let Some(cid) = client_id {
                            let prior: Option<MessageRow> = sqlx::query_as(sql!(
                                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND client_id = $2"
                            ))
                            .bind(&conv_id)
                            .bind(cid.as_str())
                            .fetch_optional(&mut *tx)
                            .await?;
                            if let Some(m) = prior {
                                return Ok(WriteOutcome {
                                    organization_id: OrganizationId(row.organization_id.clone()),
                                    conversation: row.into_conversation(),
                                    messages: vec![m.into()],
                                    duplicate: true,
                                    changed: false,
                                });
                            }
                        }
                        let action = match (kind, author) {
                            (MessageKind::Visitor, _) => Action::VisitorMessage,
                            (MessageKind::Agent, Some(a)) => Action::AgentMessage(a.clone()),
                            _ => Action::Note,
                        };
                        let t = row.state().apply(&action)?;
                        let mut seq = row.last_seq;
                        let mut public = row.last_public_seq;
                        if let Some(sys) = &t.system_message {
                            seq += 1;
                            public += 1;
                            stored.push(insert_message!(tx, &conv_id, seq, Some(public), None::<&str>, MessageKind::System, None::<&str>, None::<&str>, sys, now));
                        }
                        seq += 1;
                        let msg_public = if kind.visible_to_visitor() {
                            public += 1;
                            Some(public)
                        } else {
                            None
                        };
                        stored.push(insert_message!(
                            tx,
                            &conv_id,
                            seq,
                            msg_public,
                            client_id.as_ref().map(|c| c.as_str()),
                            *kind,
                            author.as_ref().map(|a| a.id.as_str()),
                            author.as_ref().map(|a| a.name.as_str()),
                            text.as_str(),
                            now
                        ));
                        let (preview, preview_at) = match kind {
                            MessageKind::Visitor | MessageKind::Agent => {
                                (Some(clip(text.as_str(), PREVIEW_BYTES)), Some(now))
                            }
                            _ => (row.last_message_preview.clone(), row.last_message_at),
                        };
                        // A sender has seen everything up to their own message.
                        let (vd, vr, ad, ar, unread) = match kind {
                            MessageKind::Visitor => (
                                row.visitor_delivered_seq.max(public),
                                row.visitor_read_seq.max(public),
                                row.agent_delivered_seq,
                                row.agent_read_seq,
                                row.unread + 1,
                            ),
                            MessageKind::Agent => (
                                row.visitor_delivered_seq,
                                row.visitor_read_seq,
                                row.agent_delivered_seq.max(public),
                                row.agent_read_seq.max(public),
                                0,
                            ),
                            _ => (
                                row.visitor_delivered_seq,
                                row.visitor_read_seq,
                                row.agent_delivered_seq,
                                row.agent_read_seq,
                                row.unread,
                            ),
                        };
                        sqlx::query(
                            "UPDATE conversations SET status = $2, assignee_id = $3, last_seq = $4, last_public_seq = $5, \
                             visitor_delivered_seq = $6, visitor_read_seq = $7, agent_delivered_seq = $8, agent_read_seq = $9, \
                             unread = $10, last_message_preview = $11, last_message_at = $12, updated_at = $13 WHERE id = $1",
                        )
                        .bind(&conv_id)
                        .bind(t.state.status.as_str())
                        .bind(t.state.assignee.as_ref().map(|a| a.as_str()))
                        .bind(seq)
                        .bind(public)
                        .bind(vd)
                        .bind(vr)
                        .bind(ad)
                        .bind(ar)
                        .bind(unread)
                        .bind(preview)
                        .bind(preview_at)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    WriteOp::Act { action, actor, role, .. } => {
                        let state = row.state();
                        if !frontdesk_core::conversation::permits(*role, actor, &state, action) {
                            return Err(StoreError::Forbidden);
                        }
                        let t = state.apply(action)?;
                        if t.state == state && t.system_message.is_none() {
                            changed = false;
                        } else {
                            let mut seq = row.last_seq;
                            let mut public = row.last_public_seq;
                            if let Some(sys) = &t.system_message {
                                seq += 1;
                                public += 1;
                                stored.push(insert_message!(tx, &conv_id, seq, Some(public), None::<&str>, MessageKind::System, None::<&str>, None::<&str>, sys, now));
                            }
                            sqlx::query(
                                "UPDATE conversations SET status = $2, assignee_id = $3, last_seq = $4, last_public_seq = $5, updated_at = $6 WHERE id = $1",
                            )
                            .bind(&conv_id)
                            .bind(t.state.status.as_str())
                            .bind(t.state.assignee.as_ref().map(|a| a.as_str()))
                            .bind(seq)
                            .bind(public)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    WriteOp::Receipt {
                        side,
                        read,
                        public_seq,
                        ..
                    } => {
                        let p = (*public_seq).clamp(0, row.last_public_seq);
                        let (delivered, was_read) = match side {
                            Side::Agent => (row.agent_delivered_seq, row.agent_read_seq),
                            Side::Visitor => (row.visitor_delivered_seq, row.visitor_read_seq),
                        };
                        // Reading implies delivery; receipts never move back.
                        let new_delivered = delivered.max(p);
                        let new_read = if *read { was_read.max(p) } else { was_read };
                        if new_delivered == delivered && new_read == was_read {
                            changed = false;
                        } else {
                            match side {
                                Side::Agent => {
                                    let (unread,): (i64,) = sqlx::query_as(
                                        "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND kind = 'visitor' AND public_seq > $2",
                                    )
                                    .bind(&conv_id)
                                    .bind(new_read)
                                    .fetch_one(&mut *tx)
                                    .await?;
                                    sqlx::query("UPDATE conversations SET agent_delivered_seq = $2, agent_read_seq = $3, unread = $4 WHERE id = $1")
                                        .bind(&conv_id)
                                        .bind(new_delivered)
                                        .bind(new_read)
                                        .bind(unread)
                                        .execute(&mut *tx)
                                        .await?;
                                }
                                Side::Visitor => {
                                    sqlx::query("UPDATE conversations SET visitor_delivered_seq = $2, visitor_read_seq = $3 WHERE id = $1")
                                        .bind(&conv_id)
                                        .bind(new_delivered)
                                        .bind(new_read)
                                        .execute(&mut *tx)
                                        .await?;
                                }
                            }
                        }
                    }
                }
                let row: ConvRow = if changed {
                    sqlx::query_as(sql!("{CONV_SELECT} WHERE c.id = $1"))
                        .bind(&conv_id)
                        .fetch_one(&mut *tx)
                        .await?
                } else {
                    row
                };
                Ok(WriteOutcome {
                    organization_id: OrganizationId(row.organization_id.clone()),
                    conversation: row.into_conversation(),
                    messages: stored,
                    duplicate: false,
                    changed,
                })
            }
            .await;
            match r {
                Err(StoreError::Unavailable(e)) => return Err(StoreError::Unavailable(e)),
                // A unique violation here means another writer raced us past the row lock,
                // which the lock rules out; treat it as a failed batch so the caller retries.
                Err(StoreError::Conflict) => {
                    return Err(StoreError::Unavailable("write conflict".into()));
                }
                other => out.push(other),
            }
        }
        tx.commit().await?;
        Ok(out)
    })
}
