//! Frontdesk's storage: one interface ([`Store`]) over SQLite and PostgreSQL.
//!
//! Owns the schema (`migrations/sqlite`, `migrations/postgres`, numbered alike), every SQL
//! statement, and the group-commit writer that serializes all writes to a conversation.
//!
//! Invariants:
//! - Every change to a conversation (a message, an assignment, a receipt) goes through
//!   [`Store::write`], which runs it in a transaction that first locks the conversation's row.
//!   So each conversation has one total order, and `seq` and `public_seq` have no gaps.
//! - `write` returns only after the transaction that holds the change has committed: a caller
//!   may acknowledge a message as soon as `write` returns `Ok`.
//! - A `(conversation, client_id)` pair is stored once; a retry returns the stored message.
//! - Every query an agent can reach is scoped by organization; every query a visitor can reach
//!   is scoped by contact. A row of another tenant reads as not found.
//!
//! The SQL is written once with `$1…$N` placeholders, which both databases accept, and the
//! [`on_db!`] macro runs the same body on either pool.

mod attachments;
mod bans;
mod canned;
mod contacts;
mod forms;
mod identity;
mod looks;
mod mentions;
mod queries;
mod rows;
mod search;
#[cfg(feature = "seed")]
mod seed;
mod tags;
mod teams;
mod triggers;
mod visits;
mod writer;

pub use attachments::*;
pub use bans::*;
pub use canned::*;
pub use contacts::MergeOutcome;
pub use looks::*;
pub use queries::*;
pub use search::CANDIDATES as SEARCH_CANDIDATES;
#[cfg(feature = "seed")]
pub use seed::{SeedPlan, SeedReport};
pub use teams::*;
pub use visits::NewPageView;
pub use writer::{CommitHook, Greeting, Notice, Scope, Target, TransferTo, WriteOp, WriteOutcome};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// Why a storage call failed.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    Conflict,
    /// The actor's role does not allow this change to this conversation.
    #[error("not allowed")]
    Forbidden,
    #[error(transparent)]
    Transition(#[from] frontdesk_core::TransitionError),
    /// The agent (named) already holds as many chats as their limit allows.
    #[error("{0} is at their chat limit")]
    AtCapacity(String),
    /// The database did not answer or refused the write (down, busy past the timeout).
    /// Nothing was stored; the caller may retry.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The database's disk is full (SQLite's `SQLITE_FULL`, PostgreSQL's `disk_full`). Nothing
    /// was stored; writes fail until space is freed, and reads still work.
    #[error("storage full: {0}")]
    Full(String),
    /// The writer has shut down.
    #[error("storage is shutting down")]
    Closed,
    /// The organization, or the conversation, already has as many tags as allowed.
    #[error("too many tags")]
    TooManyTags,
    /// A contact change breaks a rule only the stored contact can tell (too many attributes).
    #[error(transparent)]
    Contact(#[from] frontdesk_core::contacts::ContactError),
    /// The uploader already has as many unsent files as allowed.
    #[error("too many files waiting to be sent")]
    TooManyFiles,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
            // SQLite's primary result code 13 is SQLITE_FULL (no extended codes); 53100 is
            // PostgreSQL's SQLSTATE disk_full.
            sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("13" | "53100")) => {
                StoreError::Full(e.to_string())
            }
            _ => StoreError::Unavailable(e.to_string()),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same body on whichever pool the store holds. The body is compiled once per
/// backend, so it may only use what both sqlx drivers accept.
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}

/// A statement assembled from this crate's own constants (never from input), marked as safe.
macro_rules! sql {
    ($($t:tt)*) => {
        sqlx::AssertSqlSafe(format!($($t)*))
    };
}
pub(crate) use on_db;
pub(crate) use sql;

/// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: the write lock is
/// taken at once, waiting up to the busy timeout. A deferred transaction that reads and then
/// writes fails at once with `SQLITE_BUSY` when another connection commits in between (WAL's
/// stale-snapshot rule, which no busy timeout can wait out); an immediate one cannot.
/// PostgreSQL's plain `BEGIN`.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    /// A write transaction holds the whole database (SQLite's one writer): a row needs no lock
    /// of its own, and a locking no-op `UPDATE` would only cost a statement.
    const WHOLE_DATABASE: bool;
    fn locks_whole_database(&self) -> bool {
        Self::WHOLE_DATABASE
    }
    /// Messages are indexed for search by the transaction that inserts them, once, with
    /// [`INDEX_MESSAGES_AFTER`] (SQLite's FTS5); PostgreSQL keeps a generated column instead.
    fn indexes_search_by_transaction(&self) -> bool {
        Self::WHOLE_DATABASE
    }
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    const WHOLE_DATABASE: bool = true;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    const WHOLE_DATABASE: bool = false;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

/// SQLite: the highest message rowid now; what a transaction inserts comes after it.
const LAST_MESSAGE_ROWID: &str = "SELECT COALESCE(MAX(rowid), 0) FROM messages";

/// SQLite: indexes for search the messages inserted after rowid `$1` (from
/// [`LAST_MESSAGE_ROWID`] at the transaction's start), once, before the commit. A trigger per
/// row cost a third of the writer's throughput: FTS5 flushes its pending index at every
/// statement. Notes are indexed too (agents search them); system messages are not.
const INDEX_MESSAGES_AFTER: &str = "INSERT INTO messages_fts (rowid, body, org) \
    SELECT m.rowid, m.body, replace(c.organization_id, '-', '') FROM messages m \
    JOIN conversations c ON c.id = m.conversation_id \
    WHERE m.rowid > $1 AND m.kind IN ('visitor', 'agent', 'note')";

/// A write transaction that inserts messages starts with `let mark = search_mark!(pool, tx);`
/// and ends with `index_new_messages!(tx, mark);` before its commit: on SQLite that indexes its
/// new messages once ([`INDEX_MESSAGES_AFTER`]); on PostgreSQL both do nothing. Macros, so they
/// compile against whichever pool and transaction `on_db!` hands them.
macro_rules! search_mark {
    ($pool:expr, $tx:ident) => {
        if $pool.indexes_search_by_transaction() {
            Some(
                sqlx::query_scalar::<_, i64>($crate::LAST_MESSAGE_ROWID)
                    .fetch_one(&mut *$tx)
                    .await?,
            )
        } else {
            None
        }
    };
}

macro_rules! index_new_messages {
    ($tx:ident, $mark:expr) => {
        if let Some(after) = $mark {
            sqlx::query($crate::INDEX_MESSAGES_AFTER)
                .bind(after)
                .execute(&mut *$tx)
                .await?;
        }
    };
}
pub(crate) use {index_new_messages, search_mark};

/// The storage handle. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) db: Db,
    writer: Arc<writer::Writer>,
}

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens (creating if needed) a SQLite database file: WAL, `synchronous=FULL` so that a
    /// committed write survives power loss, foreign keys on, and a busy timeout.
    pub async fn open_sqlite(path: &Path) -> Result<Self> {
        Self::open_sqlite_capped(path, None).await
    }

    /// [`Store::open_sqlite`], with every connection's `max_page_count` set when given: past
    /// that many pages the database is full, and writes fail exactly as on a full disk
    /// (`SQLITE_FULL`, [`StoreError::Full`]).
    pub async fn open_sqlite_capped(path: &Path, max_page_count: Option<u64>) -> Result<Self> {
        let mut opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .pragma("temp_store", "memory");
        if let Some(pages) = max_page_count {
            opts = opts.pragma("max_page_count", pages.to_string());
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            // A pooled connection is never inside a transaction. One that believes it is has
            // failed to roll back one that SQLite had already rolled back by itself (a full
            // disk does that), and would refuse every later BEGIN: it is closed instead.
            .before_acquire(|conn, _| {
                Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
            })
            .connect_with(opts)
            .await?;
        let file = writer::SqliteFile {
            path: path.to_owned(),
            max_page_count,
        };
        Ok(Self::new(Db::Sqlite(pool), 1, Some(file)))
    }

    /// Connects to PostgreSQL.
    pub async fn open_postgres(url: &str) -> Result<Self> {
        let opts = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(opts)
            .await?;
        // Several writers in parallel: each owns the conversations whose id hashes to it, so
        // one conversation's writes stay in order while unrelated ones commit side by side.
        Ok(Self::new(Db::Postgres(pool), 4, None))
    }

    /// Opens a database by URL: `postgres://…`, `sqlite://PATH` or a plain file path. A SQLite
    /// URL may end in `?max_page_count=N` to cap the database's size (see
    /// [`Store::open_sqlite_capped`]; tests use it to fill a database as a disk fills).
    pub async fn open(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::open_postgres(url).await
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            let capped = path
                .rsplit_once("?max_page_count=")
                .and_then(|(path, n)| n.parse::<u64>().ok().map(|n| (path, n)));
            match capped {
                Some((path, pages)) => Self::open_sqlite_capped(Path::new(path), Some(pages)).await,
                None => Self::open_sqlite(Path::new(path)).await,
            }
        }
    }

    fn new(db: Db, writers: usize, sqlite: Option<writer::SqliteFile>) -> Self {
        let writer = Arc::new(writer::Writer::start(db.clone(), writers, sqlite));
        Self { db, writer }
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        let r = match &self.db {
            Db::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await,
        };
        r.map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        on_db!(&self.db, |p| {
            sqlx::query("SELECT 1").execute(p).await?;
        });
        Ok(())
    }

    /// Applies one write to a conversation, batched with concurrent writes into one commit.
    /// Returns after the commit.
    pub async fn write(&self, op: WriteOp) -> Result<WriteOutcome> {
        self.writer.submit(op).await
    }

    /// Sets the function that hears of every committed write (once; later calls are ignored).
    pub fn on_commit(&self, hook: CommitHook) {
        let _ = self.writer.hook.set(hook);
    }

    /// Stops accepting writes, finishes those already queued, and closes the pool.
    pub async fn close(&self) {
        self.writer.shutdown().await;
        on_db!(&self.db, |p| p.close().await);
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> frontdesk_core::Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Randomness for new ids.
pub(crate) fn entropy() -> u128 {
    rand::random()
}
