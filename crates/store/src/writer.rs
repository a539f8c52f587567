//! The group-commit writer: every change to a conversation runs here.
//!
//! Each shard is one task with one queue. It takes every job waiting (up to `MAX_BATCH`), runs
//! them in order inside one transaction, commits once, and only then answers each caller. (On
//! SQLite a batch can be several transactions in a row: runs of plain visitor sends take the
//! fast path, `writer/fast.rs`, and the ops between them the general one.) On
//! SQLite there is one shard (the database has one writer anyway); on PostgreSQL there are
//! several, chosen by a hash of the conversation (or contact), so one conversation's writes stay
//! in order while unrelated conversations commit side by side.

use crate::BeginWrite;
use crate::rows::*;
use crate::{Db, Result, StoreError, entropy, index_new_messages, now_ms, on_db, search_mark, sql};
use frontdesk_core::conversation::AgentRef;
use frontdesk_core::files::{Attachment, AttachmentId};
use frontdesk_core::protocol::{Conversation, Message, MessageKind, Role, Side};
use frontdesk_core::routing::{Priority, TeamId, VisitorFacts, matching_rule};
use frontdesk_core::teams::{NoticeKind, SiteRouting};
use frontdesk_core::widget::WidgetLook;
use frontdesk_core::*;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock, RwLock};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

mod fast;
mod pg_fast;
pub(crate) use fast::SqliteFile;
use pg_fast::FastSends;

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
            attachments: Vec::new(),
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

/// A conversation's row, and the id of the message a send's client id names, if stored.
#[derive(sqlx::FromRow)]
struct ConvAndRetry {
    #[sqlx(flatten)]
    row: ConvRow,
    retry_of: Option<String>,
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
    /// reply to an unassigned conversation takes it, a note changes nothing). `attachments`
    /// are unsent files of the sender (the visitor of `scope`, or `author`), uploaded to this
    /// conversation or to none; they are bound to the message, in this order. Any other file
    /// is `NotFound`, and nothing is stored.
    Send {
        scope: Scope,
        target: Target,
        client_id: Option<ClientId>,
        kind: MessageKind,
        author: Option<AgentRef>,
        text: MessageText,
        attachments: Vec<AttachmentId>,
    },
    /// Takes, assigns, resolves or reopens, as an agent with `role` (checked under the lock).
    Act {
        scope: Scope,
        conversation_id: ConversationId,
        action: Action,
        actor: AgentId,
        role: Role,
    },
    /// Moves a read or delivered receipt forward, in `public_seq`. An agent's receipt
    /// (`actor`) counts only if the conversation is unassigned, theirs, or they were invited:
    /// a supervisor observing someone else's chat leaves no trace.
    Receipt {
        scope: Scope,
        conversation_id: ConversationId,
        side: Side,
        read: bool,
        public_seq: i64,
        actor: Option<AgentId>,
    },
    /// Routing gives a waiting conversation to `agent`. Applies only if, under the locks, the
    /// conversation still waits in `team`'s queue and the agent is online with room; otherwise
    /// it changes nothing (the next routing pass sees the new state).
    Route {
        organization_id: OrganizationId,
        conversation_id: ConversationId,
        team: Option<TeamId>,
        agent: AgentRef,
    },
    /// Overflow: moves a conversation still waiting in `from`'s queue to `to`'s queue.
    MoveTeam {
        organization_id: OrganizationId,
        conversation_id: ConversationId,
        from: TeamId,
        to: TeamId,
        to_name: String,
    },
    /// Hands the conversation to an agent or a team, with a reason kept as an internal note.
    Transfer {
        scope: Scope,
        conversation_id: ConversationId,
        by: AgentRef,
        role: Role,
        to: TransferTo,
        reason: Option<String>,
    },
    /// Adds a colleague to the conversation; they may then reply in it.
    Invite {
        scope: Scope,
        conversation_id: ConversationId,
        by: AgentRef,
        role: Role,
        agent: AgentRef,
    },
    /// The waiting visitor gives up and leaves the conversation as an offline message.
    LeaveMessage {
        scope: Scope,
        conversation_id: ConversationId,
    },
    SetPriority {
        scope: Scope,
        conversation_id: ConversationId,
        by: AgentRef,
        role: Role,
        priority: Priority,
    },
    /// Puts a tag of the organization on the conversation (`on`) or takes it off, with an
    /// internal note saying who did it. Anyone of the organization may, like a note. The tag's
    /// row is locked first, so a tag being deleted meanwhile is either gone (`NotFound`) or
    /// deleted after this commits (and comes off again with it).
    SetTag {
        scope: Scope,
        conversation_id: ConversationId,
        by: AgentRef,
        tag: TagId,
        on: bool,
    },
    /// A visitor's `send` (a [`WriteOp::Send`] of kind visitor) that answers a proactive
    /// trigger's greeting. When it starts a chat (a first conversation, or a resolved one that
    /// it reopens), the greeting is stored just before it, as a `system` message whose author is
    /// the agent or team the rule names, and the trigger's conversion is counted, all in the same
    /// transaction. In a running chat the greeting is left out (no trigger shows there).
    Greeted {
        greeting: Greeting,
        send: Box<WriteOp>,
    },
}

/// A proactive trigger's greeting that the visitor replied to (see [`WriteOp::Greeted`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Greeting {
    pub trigger_id: frontdesk_core::triggers::TriggerId,
    pub website_id: WebsiteId,
    /// The rule's greeting as stored (never what the browser says it showed).
    pub text: MessageText,
    /// The agent the rule names, or `None` for the team.
    pub author_id: Option<AgentId>,
    /// The name shown with it: the agent's, or the team's label.
    pub author_name: String,
    /// The rule opened the chat by itself, so this reply is also its accept (a bubble's accept
    /// is counted when the visitor opens the chat from it).
    pub accept: bool,
}

/// Where a transfer goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferTo {
    Agent(AgentRef),
    Team { id: TeamId, name: String },
}

/// Something an agent should be told about, published after commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub agent: AgentId,
    pub kind: NoticeKind,
    pub by_name: Option<String>,
    pub text: Option<String>,
}

impl WriteOp {
    fn shard_key(&self) -> &str {
        match self {
            WriteOp::Greeted { send, .. } => send.shard_key(),
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
            }
            | WriteOp::Route {
                conversation_id: id,
                ..
            }
            | WriteOp::MoveTeam {
                conversation_id: id,
                ..
            }
            | WriteOp::Transfer {
                conversation_id: id,
                ..
            }
            | WriteOp::Invite {
                conversation_id: id,
                ..
            }
            | WriteOp::LeaveMessage {
                conversation_id: id,
                ..
            }
            | WriteOp::SetPriority {
                conversation_id: id,
                ..
            }
            | WriteOp::SetTag {
                conversation_id: id,
                ..
            } => id.as_str(),
        }
    }

    fn scope(&self) -> Scope {
        match self {
            WriteOp::Greeted { send, .. } => send.scope(),
            WriteOp::Send { scope, .. }
            | WriteOp::Act { scope, .. }
            | WriteOp::Receipt { scope, .. }
            | WriteOp::Transfer { scope, .. }
            | WriteOp::Invite { scope, .. }
            | WriteOp::LeaveMessage { scope, .. }
            | WriteOp::SetPriority { scope, .. }
            | WriteOp::SetTag { scope, .. } => scope.clone(),
            WriteOp::Route {
                organization_id, ..
            }
            | WriteOp::MoveTeam {
                organization_id, ..
            } => Scope::Organization(organization_id.clone()),
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
    /// Whether routing should look again: a conversation started, or its status, assignee,
    /// team or priority changed.
    pub routing: bool,
    /// Agents to tell about this conversation.
    pub notices: Vec<Notice>,
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
    /// On SQLite, `sqlite` names the database file, for the writer's own connection.
    pub fn start(db: Db, shards: usize, sqlite: Option<SqliteFile>) -> Self {
        let mut senders = Vec::new();
        let mut tasks = Vec::new();
        let hook: Arc<OnceLock<CommitHook>> = Arc::default();
        for _ in 0..shards.max(1) {
            let (tx, rx) = mpsc::channel(QUEUE);
            senders.push(tx);
            let dedicated = sqlite.clone().map(fast::Dedicated::new);
            tasks.push(tokio::spawn(run_shard(
                db.clone(),
                rx,
                hook.clone(),
                dedicated,
            )));
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

async fn run_shard(
    db: Db,
    mut rx: mpsc::Receiver<Job>,
    hook: Arc<OnceLock<CommitHook>>,
    mut dedicated: Option<fast::Dedicated>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(64);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        // In runs, each committed (and answered) before the next starts, in queue order.
        while !batch.is_empty() {
            let ops: Vec<&WriteOp> = batch.iter().map(|j| &j.op).collect();
            let (n, result) = run_some(&db, dedicated.as_mut(), &ops).await;
            deliver(batch.drain(..n), result, &hook);
        }
    }
}

/// Runs the ops at the front of `ops` that commit together: on SQLite, a run of plain visitor
/// sends on the writer's own connection (`fast`), or the ops up to the next such send in the
/// general path. Returns how many ops it ran (at least one) and their outcomes.
async fn run_some(
    db: &Db,
    dedicated: Option<&mut fast::Dedicated>,
    ops: &[&WriteOp],
) -> (usize, Result<Vec<Result<WriteOutcome>>>) {
    let mut general = ops.len();
    if let Some(d) = dedicated {
        let run = ops.iter().take_while(|op| fast::candidate(op)).count();
        if run > 0 {
            let mut attempt = 0;
            let r = loop {
                let r = in_place(|| d.run(&ops[..run]));
                if !again(&r, &mut attempt).await {
                    break r;
                }
            };
            match r {
                // The first send turned out not to be plain (a retry, a reopen): the general
                // path takes it.
                Ok(outs) if outs.is_empty() => {}
                Ok(outs) => return (outs.len(), Ok(outs)),
                Err(e) => return (run, Err(e)),
            }
        }
        general = 1 + ops[1..]
            .iter()
            .take_while(|op| !fast::candidate(op))
            .count();
    }
    let ops = &ops[..general];
    let mut attempt = 0;
    let r = loop {
        let r = run_batch(db, ops).await;
        if !again(&r, &mut attempt).await {
            break r;
        }
    };
    (general, r)
}

/// Whether a failed run is worth running again, after a short pause: PostgreSQL breaks a
/// deadlock between writers (of this node or another) by aborting one transaction, and SQLite
/// may find the database locked; nothing of the run was stored. At most three more tries.
async fn again<T>(r: &Result<T>, attempt: &mut u64) -> bool {
    match r {
        Err(StoreError::Unavailable(e)) if *attempt < 3 && is_retryable(e) => {
            *attempt += 1;
            tokio::time::sleep(std::time::Duration::from_millis(5 * *attempt)).await;
            true
        }
        _ => false,
    }
}

/// Runs blocking SQLite work on this thread: on a multi-threaded runtime the worker hands its
/// other tasks on first. (Tests' single-threaded runtimes run it inline.)
fn in_place<T>(f: impl FnOnce() -> T) -> T {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

/// Answers each job of a committed (or failed) run, in order, after its commit hook.
fn deliver(
    jobs: impl Iterator<Item = Job>,
    result: Result<Vec<Result<WriteOutcome>>>,
    hook: &OnceLock<CommitHook>,
) {
    match result {
        Ok(outcomes) => {
            for (job, out) in jobs.zip(outcomes) {
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
            let jobs: Vec<Job> = jobs.collect();
            tracing::warn!(error = %e, jobs = jobs.len(), "write batch failed; nothing in it was stored");
            let full = matches!(e, StoreError::Full(_));
            let msg = e.to_string();
            for job in jobs {
                let _ = job.reply.send(Err(if full {
                    StoreError::Full(msg.clone())
                } else {
                    StoreError::Unavailable(msg.clone())
                }));
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

/// Locks an agent's row and reads whether they have room for one more chat:
/// `(name, has_room, online_now)`. A macro so it compiles against either transaction type.
/// Locking the agent row serializes every assignment to that agent, on one node or several,
/// so two writers can never both see the last free slot.
macro_rules! agent_room {
    ($tx:ident, $agent:expr, $org:expr, $now:expr) => {{
        let locked = sqlx::query(
            "UPDATE agents SET max_chats = max_chats WHERE id = $1 AND organization_id = $2",
        )
        .bind($agent)
        .bind($org)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        if locked == 0 {
            return Err(StoreError::NotFound);
        }
        let (name, max_chats, status, online_until): (String, i64, String, i64) = sqlx::query_as(
            "SELECT name, max_chats, status, online_until FROM agents WHERE id = $1",
        )
        .bind($agent)
        .fetch_one(&mut *$tx)
        .await?;
        let (active,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM conversations WHERE assignee_id = $1 AND status = 'assigned'",
        )
        .bind($agent)
        .fetch_one(&mut *$tx)
        .await?;
        (
            name,
            active < max_chats,
            status == "online" && online_until > $now,
        )
    }};
}

/// Whether a new or returning visitor's conversation is an offline message: the site is
/// outside its hours, or no agent of the organization is online.
macro_rules! offline_now {
    ($tx:ident, $routing:expr, $org:expr, $now:expr) => {{
        if site_closed($routing, $now) {
            true
        } else {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM agents WHERE organization_id = $1 AND status = 'online' AND online_until > $2",
            )
            .bind($org)
            .bind($now)
            .fetch_one(&mut *$tx)
            .await?;
            n == 0
        }
    }};
}

/// Locks and reads a send's files: each must be unsent and the sender's own (the visitor of
/// the scope, or the author, an agent of the scope's organization). Returns them in the order
/// given, each with the conversation it was uploaded to, if any; `NotFound` for any other
/// (another person's, already sent, unknown, or named twice). Evaluates to a `Result`, so the
/// caller decides when a refusal counts (a retried send finds its files already sent). A macro
/// so it compiles against either transaction type.
macro_rules! unsent_files {
    ($tx:ident, $op:expr, $ids:expr) => {async {
        let ids: &Vec<AttachmentId> = $ids;
        let (kind, uploader, org): (&str, &str, Option<&str>) = match $op {
            WriteOp::Send {
                scope: Scope::Contact(c),
                kind: MessageKind::Visitor,
                ..
            } => ("visitor", c.as_str(), None),
            WriteOp::Send {
                scope: Scope::Organization(o),
                author: Some(a),
                kind: MessageKind::Agent | MessageKind::Note,
                ..
            } => ("agent", a.id.as_str(), Some(o.as_str())),
            _ => return Err(StoreError::NotFound),
        };
        let mut sorted: Vec<&AttachmentId> = ids.iter().collect();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != ids.len() {
            return Err(StoreError::NotFound);
        }
        // Locked in one order, so two sends naming the same files cannot deadlock; then read,
        // and bound to the message later in this transaction.
        for id in &sorted {
            sqlx::query("UPDATE attachments SET size = size WHERE id = $1")
                .bind(id.as_str())
                .execute(&mut *$tx)
                .await?;
        }
        let mut files = Vec::with_capacity(ids.len());
        for id in ids {
            let r: Option<(String, String, i64, Option<String>)> = sqlx::query_as(
                "SELECT name, content_type, size, conversation_id FROM attachments WHERE id = $1 \
                 AND message_id IS NULL AND uploader_kind = $2 AND uploader_id = $3 \
                 AND organization_id = COALESCE($4, organization_id)",
            )
            .bind(id.as_str())
            .bind(kind)
            .bind(uploader)
            .bind(org)
            .fetch_optional(&mut *$tx)
            .await?;
            let Some((name, content_type, size, conversation)) = r else {
                return Err(StoreError::NotFound);
            };
            files.push((
                Attachment::new(id.clone(), name, content_type, size),
                conversation,
            ));
        }
        Ok::<_, StoreError>(files)
    }
    .await};
}

/// The inbox preview of a message: its text, or its files when it has none.
fn preview_of(text: &str, files: &[(Attachment, Option<String>)]) -> String {
    match files {
        _ if !text.is_empty() => text.to_owned(),
        [] => String::new(),
        [(f, _)] => format!("📎 {}", f.name),
        _ => format!("📎 {} files", files.len()),
    }
}

/// Whether `agent` was invited to the conversation.
macro_rules! is_participant {
    ($tx:ident, $conv:expr, $agent:expr) => {{
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM conversation_participants WHERE conversation_id = $1 AND agent_id = $2",
        )
        .bind($conv)
        .bind($agent)
        .fetch_one(&mut *$tx)
        .await?;
        n > 0
    }};
}

/// Stores a system message (everyone sees it) or, with `note`, an internal one (agents only),
/// advancing the counters in `$seq`/`$public`.
macro_rules! push_system {
    ($tx:ident, $stored:ident, $conv:expr, $seq:ident, $public:ident, $text:expr, $note:expr, $now:expr) => {{
        $seq += 1;
        let public = if $note {
            None
        } else {
            $public += 1;
            Some($public)
        };
        let kind = if $note {
            MessageKind::Note
        } else {
            MessageKind::System
        };
        $stored.push(insert_message!(
            $tx,
            $conv,
            $seq,
            public,
            None::<&str>,
            kind,
            None::<&str>,
            None::<&str>,
            $text,
            $now
        ));
    }};
}

/// Writes the routing lifecycle columns after a state change: when it (re)joined a queue, was
/// assigned, resolved, missed, first answered; and the new assignee's last assignment time.
macro_rules! lifecycle {
    ($tx:ident, $conv:expr, $row:expr, $before:expr, $after:expr, $first_reply:expr, $now:expr) => {{
        let before: &ConversationState = $before;
        let after: &ConversationState = $after;
        let row: &ConvRow = $row;
        let newly_assigned = newly_assigned(before, after);
        let status_changed = before.status != after.status;
        let first_reply_at = if $first_reply { row.first_reply_at.or(Some($now)) } else { row.first_reply_at };
        if status_changed || newly_assigned || first_reply_at != row.first_reply_at {
            let enqueued_at = if after.status == ConversationStatus::Open && status_changed {
                Some($now)
            } else {
                row.enqueued_at
            };
            let assigned_at = if newly_assigned { Some($now) } else { row.assigned_at };
            let resolved = after.status == ConversationStatus::Resolved && status_changed;
            let missed = if resolved {
                row.missed != 0 || (first_reply_at.is_none() && row.offline == 0)
            } else if status_changed && before.status == ConversationStatus::Resolved {
                false
            } else {
                row.missed != 0
            };
            sqlx::query(
                "UPDATE conversations SET enqueued_at = $2, assigned_at = $3, \
                 resolved_at = CASE WHEN $4 = 1 THEN $5 ELSE resolved_at END, missed = $6, first_reply_at = $7 WHERE id = $1",
            )
            .bind($conv)
            .bind(enqueued_at)
            .bind(assigned_at)
            .bind(resolved as i64)
            .bind($now)
            .bind(missed as i64)
            .bind(first_reply_at)
            .execute(&mut *$tx)
            .await?;
            if newly_assigned && let Some(a) = &after.assignee {
                sqlx::query("UPDATE agents SET last_assigned_at = $2 WHERE id = $1")
                    .bind(a.as_str())
                    .bind($now)
                    .execute(&mut *$tx)
                    .await?;
            }
        }
    }};
}

/// Writes a state change with optional system messages; returns nothing. Used by the
/// actions that are not message sends.
macro_rules! write_state {
    ($tx:ident, $conv:expr, $state:expr, $seq:expr, $public:expr, $now:expr) => {{
        let st: &ConversationState = $state;
        sqlx::query(
            "UPDATE conversations SET status = $2, assignee_id = $3, last_seq = $4, last_public_seq = $5, updated_at = $6 WHERE id = $1",
        )
        .bind($conv)
        .bind(st.status.as_str())
        .bind(st.assignee.as_ref().map(|a| a.as_str()))
        .bind($seq)
        .bind($public)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    }};
}

fn newly_assigned(before: &ConversationState, after: &ConversationState) -> bool {
    after.status == ConversationStatus::Assigned
        && !(before.status == ConversationStatus::Assigned && before.assignee == after.assignee)
}

/// Whether a write changed something routing looks at.
fn routing_changed(before: &ConvRow, after: &ConvRow) -> bool {
    before.status != after.status
        || before.assignee_id != after.assignee_id
        || before.team_id != after.team_id
        || before.priority != after.priority
        || before.offline != after.offline
}

/// The team, required skill, language, priority and offline flag of a visitor's new
/// conversation, from the site's routing settings and what is known about the visitor.
struct Placement {
    team: Option<String>,
    skill: Option<String>,
    language: Option<String>,
    priority: Priority,
}

fn place(
    routing: Option<&str>,
    look: Option<&str>,
    attributes: &str,
    url: Option<String>,
    language: Option<String>,
) -> Placement {
    let settings: SiteRouting = routing
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    // Greeting by page: the page's rule, when it names a team, routes ahead of the site's rules.
    let look: WidgetLook = look
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_default();
    let rules = look.routing_rules(url.as_deref(), &settings.rules);
    // Rules compare text: a number or boolean attribute reads as `42` or `true`.
    let attributes = frontdesk_core::contacts::attributes_as_text(
        &frontdesk_core::contacts::read_attributes(attributes),
    );
    let facts = VisitorFacts {
        url,
        department: attributes.get("department").cloned(),
        language: language.clone(),
        attributes,
    };
    let vip = facts
        .attributes
        .get("vip")
        .is_some_and(|v| v == "true" || v == "1" || v == "yes");
    let (team, skill) = match matching_rule(&rules, &facts) {
        Some(rule) => (Some(rule.team.0.clone()), rule.skill.clone()),
        None => (settings.default_team.map(|t| t.0), None),
    };
    Placement {
        team,
        skill,
        language,
        priority: Priority::for_conversation(vip, false),
    }
}

/// Whether the site is closed (by its hours) at `now`.
pub(crate) fn site_closed(routing: Option<&str>, now: Millis) -> bool {
    routing
        .and_then(|r| serde_json::from_str::<SiteRouting>(r).ok())
        .and_then(|s| s.hours)
        .is_some_and(|h| !h.is_open(now))
}

/// Runs a batch in one transaction. An op's own failure (not found, a refused transition) is
/// its result and leaves no trace; a database failure aborts the whole batch.
async fn run_batch(db: &Db, ops: &[&WriteOp]) -> Result<Vec<Result<WriteOutcome>>> {
    on_db!(db, |pool| {
        let whole_database = pool.locks_whole_database();
        let mut tx = pool.begin_write().await?;
        let mark = search_mark!(pool, tx);
        let mut out = Vec::with_capacity(ops.len());
        let mut next = 0;
        while next < ops.len() {
            // PostgreSQL: a run of plain visitor sends, in five statements for the run.
            next += tx.fast_sends(&ops[next..], &mut out).await?;
            let Some(op) = ops.get(next) else { break };
            next += 1;
            let now = now_ms();
            let (op, greeting) = match op {
                WriteOp::Greeted { greeting, send }
                    if matches!(
                        **send,
                        WriteOp::Send {
                            kind: MessageKind::Visitor,
                            ..
                        }
                    ) =>
                {
                    (&**send, Some(greeting))
                }
                WriteOp::Greeted { .. } => {
                    out.push(Err(StoreError::NotFound));
                    continue;
                }
                op => (*op, None),
            };
            // An op that is refused (forbidden, at capacity, a bad transition) fails before it
            // writes anything but no-op locking updates, so the batch goes on without it.
            let r: Result<WriteOutcome> = async {
                let mut created = false;
                // A send's files are locked and checked first, before a visitor's first
                // conversation is made: a refused file must leave nothing behind. (A retried
                // send finds them sent already, so a refusal counts only for a new message.)
                let files: Result<Vec<(Attachment, Option<String>)>> = match op {
                    WriteOp::Send { attachments, .. } if !attachments.is_empty() => {
                        unsent_files!(tx, op, attachments)
                    }
                    _ => Ok(Vec::new()),
                };
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
                        // tabs cannot start two conversations. A contact merged into another
                        // starts none: its conversations moved, and so will its visitor.
                        let locked = sqlx::query(
                            "UPDATE contacts SET last_seen_at = $2 WHERE id = $1 AND organization_id = $3 AND merged_into IS NULL",
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
                                files.as_ref().map_err(|_| StoreError::NotFound)?;
                                let id = ConversationId::new(now, entropy());
                                let (routing, look, attributes, url, language): (Option<String>, Option<String>, String, Option<String>, Option<String>) = sqlx::query_as(
                                    "SELECT w.routing, (SELECT l.look FROM widget_looks l WHERE l.website_id = w.id), ct.attributes, ct.current_url, ct.language FROM contacts ct \
                                     JOIN websites w ON w.id = ct.website_id WHERE ct.id = $1",
                                )
                                .bind(contact_id.as_str())
                                .fetch_one(&mut *tx)
                                .await?;
                                let mut p = place(routing.as_deref(), look.as_deref(), &attributes, url.clone(), language.clone());
                                // A page rule's team deleted since: the site's rules decide.
                                if look.is_some() && let Some(team) = &p.team {
                                    let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM teams WHERE id = $1 AND organization_id = $2")
                                        .bind(team)
                                        .bind(organization_id.as_str())
                                        .fetch_optional(&mut *tx)
                                        .await?;
                                    if exists.is_none() {
                                        p = place(routing.as_deref(), None, &attributes, url, language);
                                    }
                                }
                                let offline = offline_now!(tx, routing.as_deref(), organization_id.as_str(), now);
                                sqlx::query(
                                    "INSERT INTO conversations (id, organization_id, website_id, contact_id, status, created_at, updated_at, \
                                     team_id, required_skill, language, priority, enqueued_at, offline) \
                                     VALUES ($1, $2, $3, $4, 'open', $5, $5, $6, $7, $8, $9, $5, $10)",
                                )
                                .bind(id.as_str())
                                .bind(organization_id.as_str())
                                .bind(website_id.as_str())
                                .bind(contact_id.as_str())
                                .bind(now)
                                .bind(p.team.as_deref())
                                .bind(p.skill.as_deref())
                                .bind(p.language.as_deref())
                                .bind(crate::rows::priority_str(p.priority))
                                .bind(offline as i64)
                                .execute(&mut *tx)
                                .await?;
                                // The visitor's pre-chat answers, waiting on the contact, are
                                // this conversation's.
                                sqlx::query("UPDATE form_answers SET conversation_id = $1 WHERE contact_id = $2 AND conversation_id IS NULL")
                                    .bind(id.as_str())
                                    .bind(contact_id.as_str())
                                    .execute(&mut *tx)
                                    .await?;
                                created = true;
                                id.0
                            }
                        }
                    }
                    other => other.shard_key().to_string(),
                };

                // Lock the conversation's row: from here to commit, nobody else writes it.
                // (SQLite's write transaction already holds the whole database.)
                if !whole_database {
                    let locked = sqlx::query("UPDATE conversations SET last_seq = last_seq WHERE id = $1")
                        .bind(&conv_id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if locked == 0 {
                        return Err(StoreError::NotFound);
                    }
                }
                // With the row, whether a send's client id is stored already (a retry): one
                // statement, not two, on every send.
                let client_id = match op {
                    WriteOp::Send { client_id, .. } => client_id.as_ref().map(|c| c.as_str()),
                    _ => None,
                };
                let ConvAndRetry { row, retry_of } = sqlx::query_as(sql!(
                    "SELECT q.*, (SELECT m.id FROM messages m WHERE m.conversation_id = q.id AND m.client_id = $2) AS retry_of \
                     FROM ({CONV_SELECT} WHERE c.id = $1) q"
                ))
                .bind(&conv_id)
                .bind(client_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                let in_scope = match op.scope() {
                    Scope::Organization(o) => o.as_str() == row.organization_id,
                    Scope::Contact(c) => c.as_str() == row.contact_id,
                };
                if !in_scope {
                    return Err(StoreError::NotFound);
                }
                let org = row.organization_id.clone();
                let before = row.state();

                let mut stored: Vec<Message> = Vec::new();
                let mut notices: Vec<Notice> = Vec::new();
                let mut changed = true;
                // The row after the write, when it is known without reading it back.
                let mut known_row: Option<ConvRow> = None;
                let mut seq = row.last_seq;
                let mut public = row.last_public_seq;
                match op {
                    WriteOp::Send {
                        client_id,
                        kind,
                        author,
                        text,
                        ..
                    } => {
                        if let Some(prior_id) = &retry_of {
                            let prior: Option<MessageRow> = sqlx::query_as(sql!(
                                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1"
                            ))
                            .bind(prior_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                            if let Some(m) = prior {
                                return Ok(WriteOutcome {
                                    organization_id: OrganizationId(row.organization_id.clone()),
                                    conversation: row.into_conversation(),
                                    messages: vec![m.into()],
                                    duplicate: true,
                                    changed: false,
                                    routing: false,
                                    notices: Vec::new(),
                                });
                            }
                        }
                        let files = files?;
                        // An agent's file was uploaded to one conversation: only that one.
                        if files.iter().any(|(_, c)| c.as_ref().is_some_and(|c| *c != conv_id)) {
                            return Err(StoreError::NotFound);
                        }
                        // A reply in a conversation someone else holds: only their invited
                        // colleagues, supervisors and admins. Notes are open to everyone.
                        if let (MessageKind::Agent, Some(a)) = (kind, author)
                            && before.assignee.as_ref().is_some_and(|x| x != &a.id)
                            && before.status != ConversationStatus::Open
                        {
                            let (role,): (String,) = sqlx::query_as("SELECT role FROM agents WHERE id = $1")
                                .bind(a.id.as_str())
                                .fetch_one(&mut *tx)
                                .await?;
                            if Role::parse(&role) == Some(Role::Agent) && !is_participant!(tx, &conv_id, a.id.as_str()) {
                                return Err(StoreError::Forbidden);
                            }
                        }
                        let action = match (kind, author) {
                            (MessageKind::Visitor, _) => Action::VisitorMessage,
                            (MessageKind::Agent, Some(a)) => Action::AgentMessage(a.clone()),
                            _ => Action::Note,
                        };
                        let t = before.apply(&action)?;
                        let mut after = t.state.clone();
                        let mut system = t.system_message.clone();
                        // Never past a limit: an agent at their limit who replies to a waiting
                        // chat answers without taking it; a chat reopened by its visitor whose
                        // last agent is full goes back to the queue.
                        if newly_assigned(&before, &after)
                            && let Some(a) = after.assignee.clone()
                        {
                            let (_, room, _) = agent_room!(tx, a.as_str(), org.as_str(), now);
                            if !room {
                                if *kind == MessageKind::Agent {
                                    after = before.clone();
                                    system = None;
                                } else {
                                    after = ConversationState::new_open();
                                }
                            }
                        }
                        if let Some(sys) = &system {
                            push_system!(tx, stored, &conv_id, seq, public, sys, false, now);
                        }
                        // A greeting answered: it opens the chat it started, before the reply.
                        if let Some(g) = greeting
                            && (created || before.status == ConversationStatus::Resolved)
                            && g.website_id.as_str() == row.website_id
                        {
                            seq += 1;
                            public += 1;
                            let greeting_msg = insert_message!(
                                tx,
                                &conv_id,
                                seq,
                                Some(public),
                                None::<&str>,
                                MessageKind::System,
                                g.author_id.as_ref().map(|a| a.as_str()),
                                Some(g.author_name.as_str()),
                                g.text.as_str(),
                                now
                            );
                            stored.push(greeting_msg);
                            sqlx::query(
                                "UPDATE trigger_counts SET conversions = conversions + 1, accepts = accepts + $3 \
                                 WHERE website_id = $1 AND trigger_id = $2",
                            )
                            .bind(g.website_id.as_str())
                            .bind(g.trigger_id.as_str())
                            .bind(g.accept as i64)
                            .execute(&mut *tx)
                            .await?;
                        }
                        seq += 1;
                        let msg_public = if kind.visible_to_visitor() {
                            public += 1;
                            Some(public)
                        } else {
                            None
                        };
                        let mut msg = insert_message!(
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
                        );
                        for (position, (file, _)) in files.iter().enumerate() {
                            sqlx::query(
                                "UPDATE attachments SET message_id = $2, conversation_id = $3, position = $4 WHERE id = $1",
                            )
                            .bind(file.id.as_str())
                            .bind(msg.id.as_str())
                            .bind(&conv_id)
                            .bind(position as i64)
                            .execute(&mut *tx)
                            .await?;
                        }
                        msg.attachments = files.iter().map(|(f, _)| f.clone()).collect();
                        // A reply to an offline message goes to the visitor by email too.
                        if *kind == MessageKind::Agent
                            && row.offline != 0
                            && let Some(to) = row.contact_email.as_deref()
                        {
                            sqlx::query(
                                "INSERT INTO email_outbox (id, organization_id, conversation_id, message_id, to_address, next_attempt_at, created_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
                            )
                            .bind(MessageId::new(now, entropy()).as_str())
                            .bind(org.as_str())
                            .bind(&conv_id)
                            .bind(msg.id.as_str())
                            .bind(to)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        }
                        stored.push(msg);
                        let (preview, preview_at) = match kind {
                            MessageKind::Visitor | MessageKind::Agent => {
                                (Some(clip(&preview_of(text.as_str(), &files), PREVIEW_BYTES)), Some(now))
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
                        .bind(after.status.as_str())
                        .bind(after.assignee.as_ref().map(|a| a.as_str()))
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
                        // A visitor who comes back to a resolved chat is live again if
                        // someone can answer now.
                        if *kind == MessageKind::Visitor
                            && before.status == ConversationStatus::Resolved
                        {
                            let (routing,): (Option<String>,) =
                                sqlx::query_as("SELECT routing FROM websites WHERE id = $1")
                                    .bind(&row.website_id)
                                    .fetch_one(&mut *tx)
                                    .await?;
                            let offline = offline_now!(tx, routing.as_deref(), org.as_str(), now);
                            sqlx::query("UPDATE conversations SET offline = $2 WHERE id = $1")
                                .bind(&conv_id)
                                .bind(offline as i64)
                                .execute(&mut *tx)
                                .await?;
                        }
                        lifecycle!(tx, &conv_id, &row, &before, &after, *kind == MessageKind::Agent, now);
                        // A plain visitor send (the fast path's kind): the row is what the
                        // update above wrote, and reading it back would cost a statement.
                        if *kind == MessageKind::Visitor
                            && !created
                            && greeting.is_none()
                            && files.is_empty()
                            && after == before
                            && system.is_none()
                        {
                            let mut r = row.clone();
                            fast::after_plain_send(&mut r, seq, public, text.as_str(), now);
                            known_row = Some(r);
                        }
                    }
                    WriteOp::Act { action, actor, role, .. } => {
                        if !frontdesk_core::conversation::permits(*role, actor, &before, action) {
                            return Err(StoreError::Forbidden);
                        }
                        let t = before.apply(action)?;
                        let mut after = t.state.clone();
                        if newly_assigned(&before, &after)
                            && let Some(a) = after.assignee.clone()
                        {
                            let (name, room, _) = agent_room!(tx, a.as_str(), org.as_str(), now);
                            if !room {
                                match action {
                                    // A reopened chat whose agent is full waits in the queue.
                                    Action::Reopen { .. } => after = ConversationState::new_open(),
                                    _ => return Err(StoreError::AtCapacity(name)),
                                }
                            }
                            if let Action::Assign { to, by } = action
                                && to.id != by.id
                            {
                                notices.push(Notice {
                                    agent: to.id.clone(),
                                    kind: NoticeKind::Transfer,
                                    by_name: Some(by.name.clone()),
                                    text: None,
                                });
                            }
                        }
                        if after == before && t.system_message.is_none() {
                            changed = false;
                        } else {
                            if let Some(sys) = &t.system_message {
                                push_system!(tx, stored, &conv_id, seq, public, sys, false, now);
                            }
                            write_state!(tx, &conv_id, &after, seq, public, now);
                            lifecycle!(tx, &conv_id, &row, &before, &after, false, now);
                        }
                    }
                    WriteOp::Route { team, agent, .. } => {
                        let waiting = before.status == ConversationStatus::Open
                            && row.offline == 0
                            && row.team_id.as_deref() == team.as_ref().map(|t| t.as_str());
                        let (_, room, online) = if waiting {
                            agent_room!(tx, agent.id.as_str(), org.as_str(), now)
                        } else {
                            (String::new(), false, false)
                        };
                        if !(waiting && room && online) {
                            changed = false;
                        } else {
                            let after = ConversationState {
                                status: ConversationStatus::Assigned,
                                assignee: Some(agent.id.clone()),
                            };
                            push_system!(tx, stored, &conv_id, seq, public, &format!("{} joined the conversation", agent.name), false, now);
                            write_state!(tx, &conv_id, &after, seq, public, now);
                            lifecycle!(tx, &conv_id, &row, &before, &after, false, now);
                            notices.push(Notice {
                                agent: agent.id.clone(),
                                kind: NoticeKind::Assigned,
                                by_name: None,
                                text: None,
                            });
                        }
                    }
                    WriteOp::MoveTeam { from, to, to_name, .. } => {
                        let waiting = before.status == ConversationStatus::Open
                            && row.offline == 0
                            && row.team_id.as_deref() == Some(from.as_str());
                        if !waiting {
                            changed = false;
                        } else {
                            push_system!(tx, stored, &conv_id, seq, public, &format!("Moved to {to_name}: nobody in the first team could answer in time"), true, now);
                            write_state!(tx, &conv_id, &before, seq, public, now);
                            sqlx::query("UPDATE conversations SET team_id = $2, enqueued_at = $3 WHERE id = $1")
                                .bind(&conv_id)
                                .bind(to.as_str())
                                .bind(now)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    WriteOp::Transfer { by, role, to, reason, .. } => {
                        let own_or_free = before.assignee.is_none() || before.assignee.as_ref() == Some(&by.id);
                        if *role == Role::Agent && !own_or_free {
                            return Err(StoreError::Forbidden);
                        }
                        if before.status == ConversationStatus::Resolved {
                            return Err(TransitionError::Resolved.into());
                        }
                        let (after, target_name) = match to {
                            TransferTo::Agent(a) => {
                                if before.assignee.as_ref() != Some(&a.id) {
                                    let (name, room, _) = agent_room!(tx, a.id.as_str(), org.as_str(), now);
                                    if !room {
                                        return Err(StoreError::AtCapacity(name));
                                    }
                                }
                                (
                                    ConversationState {
                                        status: ConversationStatus::Assigned,
                                        assignee: Some(a.id.clone()),
                                    },
                                    a.name.clone(),
                                )
                            }
                            TransferTo::Team { id, name } => {
                                sqlx::query("UPDATE conversations SET team_id = $2 WHERE id = $1")
                                    .bind(&conv_id)
                                    .bind(id.as_str())
                                    .execute(&mut *tx)
                                    .await?;
                                (ConversationState::new_open(), name.clone())
                            }
                        };
                        push_system!(tx, stored, &conv_id, seq, public, &format!("{} transferred the conversation to {}", by.name, target_name), false, now);
                        if let Some(r) = reason.as_deref().filter(|r| !r.trim().is_empty()) {
                            seq += 1;
                            stored.push(insert_message!(tx, &conv_id, seq, None::<i64>, None::<&str>, MessageKind::Note, Some(by.id.as_str()), Some(by.name.as_str()), &format!("Transfer to {target_name}: {}", r.trim()), now));
                        }
                        write_state!(tx, &conv_id, &after, seq, public, now);
                        // A transfer to a team starts a fresh wait in that team's queue.
                        let forced_before = if matches!(to, TransferTo::Team { .. }) {
                            ConversationState { status: ConversationStatus::Assigned, assignee: None }
                        } else {
                            before.clone()
                        };
                        lifecycle!(tx, &conv_id, &row, &forced_before, &after, false, now);
                        if let TransferTo::Agent(a) = to
                            && a.id != by.id
                        {
                            notices.push(Notice {
                                agent: a.id.clone(),
                                kind: NoticeKind::Transfer,
                                by_name: Some(by.name.clone()),
                                text: reason.clone().filter(|r| !r.trim().is_empty()),
                            });
                        }
                    }
                    WriteOp::Invite { by, role, agent, .. } => {
                        let may = *role != Role::Agent
                            || before.assignee.is_none()
                            || before.assignee.as_ref() == Some(&by.id)
                            || is_participant!(tx, &conv_id, by.id.as_str());
                        if !may {
                            return Err(StoreError::Forbidden);
                        }
                        let added = sqlx::query(
                            "INSERT INTO conversation_participants (conversation_id, agent_id, added_at) VALUES ($1, $2, $3) \
                             ON CONFLICT (conversation_id, agent_id) DO NOTHING",
                        )
                        .bind(&conv_id)
                        .bind(agent.id.as_str())
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                        if added == 0 {
                            changed = false;
                        } else {
                            let text = if agent.id == by.id {
                                format!("{} joined the conversation", by.name)
                            } else {
                                format!("{} invited {}", by.name, agent.name)
                            };
                            push_system!(tx, stored, &conv_id, seq, public, &text, true, now);
                            write_state!(tx, &conv_id, &before, seq, public, now);
                            if agent.id != by.id {
                                notices.push(Notice {
                                    agent: agent.id.clone(),
                                    kind: NoticeKind::Invite,
                                    by_name: Some(by.name.clone()),
                                    text: None,
                                });
                            }
                        }
                    }
                    WriteOp::LeaveMessage { .. } => {
                        if before.status != ConversationStatus::Open || row.offline != 0 {
                            changed = false;
                        } else {
                            push_system!(tx, stored, &conv_id, seq, public, "The visitor stopped waiting and left a message", true, now);
                            write_state!(tx, &conv_id, &before, seq, public, now);
                            sqlx::query("UPDATE conversations SET offline = 1, missed = 1 WHERE id = $1")
                                .bind(&conv_id)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    WriteOp::SetPriority { by, role, priority, .. } => {
                        let own_or_free = before.assignee.is_none() || before.assignee.as_ref() == Some(&by.id);
                        if *role == Role::Agent && !own_or_free {
                            return Err(StoreError::Forbidden);
                        }
                        let p = crate::rows::priority_str(*priority);
                        if row.priority == p {
                            changed = false;
                        } else {
                            push_system!(tx, stored, &conv_id, seq, public, &format!("{} set the priority to {p}", by.name), true, now);
                            write_state!(tx, &conv_id, &before, seq, public, now);
                            sqlx::query("UPDATE conversations SET priority = $2 WHERE id = $1")
                                .bind(&conv_id)
                                .bind(p)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    // Unwrapped into its send before this match.
                    WriteOp::Greeted { .. } => return Err(StoreError::NotFound),
                    WriteOp::SetTag { by, tag, on, .. } => {
                        let locked = sqlx::query("UPDATE tags SET color = color WHERE id = $1 AND organization_id = $2")
                            .bind(tag.as_str())
                            .bind(org.as_str())
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                        if locked == 0 {
                            return Err(StoreError::NotFound);
                        }
                        let (name,): (String,) = sqlx::query_as("SELECT name FROM tags WHERE id = $1")
                            .bind(tag.as_str())
                            .fetch_one(&mut *tx)
                            .await?;
                        let n = if *on {
                            // Bounded per conversation; the count runs under the conversation's lock.
                            sqlx::query(
                                "INSERT INTO conversation_tags (conversation_id, tag_id, added_at) SELECT $1, $2, $3 \
                                 WHERE (SELECT COUNT(*) FROM conversation_tags WHERE conversation_id = $1) < $4 \
                                 ON CONFLICT (conversation_id, tag_id) DO NOTHING",
                            )
                            .bind(&conv_id)
                            .bind(tag.as_str())
                            .bind(now)
                            .bind(frontdesk_core::tags::MAX_TAGS_PER_CONVERSATION)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                        } else {
                            sqlx::query("DELETE FROM conversation_tags WHERE conversation_id = $1 AND tag_id = $2")
                                .bind(&conv_id)
                                .bind(tag.as_str())
                                .execute(&mut *tx)
                                .await?
                                .rows_affected()
                        };
                        if n == 0 && *on && row.tags.as_deref().is_none_or(|t| !t.contains(tag.as_str())) {
                            return Err(StoreError::TooManyTags);
                        }
                        if n == 0 {
                            changed = false;
                        } else {
                            let text = if *on {
                                format!("{} added the tag “{name}”", by.name)
                            } else {
                                format!("{} removed the tag “{name}”", by.name)
                            };
                            push_system!(tx, stored, &conv_id, seq, public, &text, true, now);
                            write_state!(tx, &conv_id, &before, seq, public, now);
                        }
                    }
                    WriteOp::Receipt {
                        side,
                        read,
                        public_seq,
                        actor,
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
                        let observer = match (side, actor) {
                            (Side::Agent, Some(a)) => {
                                before.assignee.as_ref().is_some_and(|x| x != a)
                                    && !is_participant!(tx, &conv_id, a.as_str())
                            }
                            _ => false,
                        };
                        if observer || (new_delivered == delivered && new_read == was_read) {
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
                let new_row: Option<ConvRow> = if known_row.is_some() {
                    known_row
                } else if changed {
                    Some(sqlx::query_as(sql!("{CONV_SELECT} WHERE c.id = $1"))
                        .bind(&conv_id)
                        .fetch_one(&mut *tx)
                        .await?)
                } else {
                    None
                };
                let routing = created || new_row.as_ref().is_some_and(|n| routing_changed(&row, n));
                let row = new_row.unwrap_or(row);
                Ok(WriteOutcome {
                    organization_id: OrganizationId(row.organization_id.clone()),
                    conversation: row.into_conversation(),
                    messages: stored,
                    duplicate: false,
                    changed,
                    routing,
                    notices,
                })
            }
            .await;
            match r {
                Err(StoreError::Unavailable(e)) => return Err(StoreError::Unavailable(e)),
                // SQLite may have rolled the whole transaction back: nothing of it may commit.
                Err(StoreError::Full(e)) => return Err(StoreError::Full(e)),
                // A unique violation here means another writer raced us past the row lock,
                // which the lock rules out; treat it as a failed batch so the caller retries.
                Err(StoreError::Conflict) => {
                    return Err(StoreError::Unavailable("write conflict".into()));
                }
                other => out.push(other),
            }
        }
        index_new_messages!(tx, mark);
        tx.commit().await?;
        Ok(out)
    })
}
