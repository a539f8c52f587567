//! PostgreSQL's fast path for the commonest write: a run of plain visitor sends (the same
//! ones as SQLite's, `fast::shape`) stored with five statements for the whole run instead of
//! four for each message. Each statement is a round trip and a wake-up of the backend, and
//! PostgreSQL's share of the CPU was the larger one under load.
//!
//! In the batch's transaction: lock the run's conversations, in id order (as several nodes may
//! write them); read them, in a statement of its own so that it sees every commit before the
//! lock (READ COMMITTED takes a new snapshot per statement); look up the run's client ids; then
//! insert every message and update every conversation, each in one statement. A run stops
//! *before* any op that is not simple (a retry, a message that changes the conversation's
//! state), which the general path then takes in the same transaction.

use super::fast::{
    after_plain_send, candidate, plain_outcome, shape, unchanged_by_visitor_message,
};
use super::{WriteOp, WriteOutcome};
use crate::rows::{CONV_SELECT, ConvRow};
use crate::{Result, StoreError, entropy, now_ms, sql};
use frontdesk_core::*;
use std::collections::{HashMap, HashSet};

/// Runs the fast path where the transaction is PostgreSQL's; SQLite's takes nothing here (its
/// fast path runs on the writer's own connection, `fast::Dedicated`).
pub(super) trait FastSends {
    async fn fast_sends(
        &mut self,
        ops: &[&WriteOp],
        out: &mut Vec<Result<WriteOutcome>>,
    ) -> Result<usize>;
}

impl FastSends for sqlx::Transaction<'static, sqlx::Postgres> {
    async fn fast_sends(
        &mut self,
        ops: &[&WriteOp],
        out: &mut Vec<Result<WriteOutcome>>,
    ) -> Result<usize> {
        sends(self, ops, out).await
    }
}

impl FastSends for sqlx::Transaction<'static, sqlx::Sqlite> {
    async fn fast_sends(
        &mut self,
        _ops: &[&WriteOp],
        _out: &mut Vec<Result<WriteOutcome>>,
    ) -> Result<usize> {
        Ok(0)
    }
}

/// Takes the run of plain visitor sends at the front of `ops`, pushing one outcome each to
/// `out`; returns how many it took (0 when the first op is not one, or is not simple).
pub(super) async fn sends(
    tx: &mut sqlx::PgConnection,
    ops: &[&WriteOp],
    out: &mut Vec<Result<WriteOutcome>>,
) -> Result<usize> {
    let plain: Vec<_> = ops
        .iter()
        .take_while(|op| candidate(op))
        .map_while(|op| shape(op))
        .collect();
    if plain.is_empty() {
        return Ok(0);
    }
    let mut ids: Vec<&str> = plain.iter().map(|p| p.conversation.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    sqlx::query("SELECT 1 FROM conversations WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    let rows: Vec<ConvRow> = sqlx::query_as(sql!("{CONV_SELECT} WHERE c.id = ANY($1)"))
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
    let mut rows: HashMap<String, ConvRow> = rows.into_iter().map(|r| (r.id.clone(), r)).collect();
    // Client ids already stored: those sends are retries, the general path's.
    let (with_conv, with_client): (Vec<&str>, Vec<&str>) = plain
        .iter()
        .filter_map(|p| Some((p.conversation.as_str(), p.client_id?)))
        .unzip();
    let mut stored: HashSet<(String, String)> = HashSet::new();
    if !with_client.is_empty() {
        stored = sqlx::query_as(
            "SELECT m.conversation_id, m.client_id FROM messages m \
             JOIN unnest($1::text[], $2::text[]) AS u(conv, client) \
             ON m.conversation_id = u.conv AND m.client_id = u.client",
        )
        .bind(&with_conv)
        .bind(&with_client)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
    }

    let mut new = NewMessages::default();
    let mut changed: Vec<String> = Vec::new();
    let mut taken = 0;
    for p in &plain {
        let now = now_ms();
        let Some(row) = rows
            .get_mut(p.conversation.as_str())
            .filter(|r| r.contact_id == p.contact.as_str())
        else {
            out.push(Err(StoreError::NotFound));
            taken += 1;
            continue;
        };
        let retry = p.client_id.is_some_and(|c| {
            // Stored already, or earlier in this run.
            !stored.insert((row.id.clone(), c.to_owned()))
        });
        if retry || !unchanged_by_visitor_message(row) {
            break;
        }
        let seq = row.last_seq + 1;
        let public = row.last_public_seq + 1;
        let id = MessageId::new(now, entropy());
        after_plain_send(row, seq, public, p.text.as_str(), now);
        new.push(&id, &row.id, seq, public, p.client_id, p.text.as_str(), now);
        if !changed.contains(&row.id) {
            changed.push(row.id.clone());
        }
        out.push(Ok(plain_outcome(row.clone(), id, seq, public, p, now)));
        taken += 1;
    }
    if new.ids.is_empty() {
        return Ok(taken);
    }
    sqlx::query(
        "INSERT INTO messages (id, conversation_id, seq, public_seq, client_id, kind, author_id, author_name, body, created_at) \
         SELECT u.id, u.conv, u.seq, u.public_seq, u.client, 'visitor', NULL, NULL, u.body, u.at \
         FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::text[], $6::text[], $7::int8[]) \
         AS u(id, conv, seq, public_seq, client, body, at)",
    )
    .bind(&new.ids)
    .bind(&new.convs)
    .bind(&new.seqs)
    .bind(&new.publics)
    .bind(&new.clients)
    .bind(&new.bodies)
    .bind(&new.ats)
    .execute(&mut *tx)
    .await?;
    let mut u = RowUpdates::default();
    for id in &changed {
        if let Some(r) = rows.get(id) {
            u.push(r);
        }
    }
    sqlx::query(
        "UPDATE conversations c SET last_seq = u.seq, last_public_seq = u.public_seq, \
         visitor_delivered_seq = u.delivered, visitor_read_seq = u.read, unread = u.unread, \
         last_message_preview = u.preview, last_message_at = u.at, updated_at = u.at \
         FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::text[], $8::int8[]) \
         AS u(id, seq, public_seq, delivered, read, unread, preview, at) WHERE c.id = u.id",
    )
    .bind(&u.ids)
    .bind(&u.seqs)
    .bind(&u.publics)
    .bind(&u.delivered)
    .bind(&u.read)
    .bind(&u.unread)
    .bind(&u.previews)
    .bind(&u.ats)
    .execute(&mut *tx)
    .await?;
    Ok(taken)
}

/// The run's messages, column by column (`unnest` takes one array per column).
#[derive(Default)]
struct NewMessages {
    ids: Vec<String>,
    convs: Vec<String>,
    seqs: Vec<i64>,
    publics: Vec<i64>,
    clients: Vec<Option<String>>,
    bodies: Vec<String>,
    ats: Vec<i64>,
}

impl NewMessages {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        id: &MessageId,
        conv: &str,
        seq: i64,
        public: i64,
        client: Option<&str>,
        body: &str,
        at: Millis,
    ) {
        self.ids.push(id.as_str().to_owned());
        self.convs.push(conv.to_owned());
        self.seqs.push(seq);
        self.publics.push(public);
        self.clients.push(client.map(str::to_owned));
        self.bodies.push(body.to_owned());
        self.ats.push(at);
    }
}

/// The run's conversations after it, column by column.
#[derive(Default)]
struct RowUpdates {
    ids: Vec<String>,
    seqs: Vec<i64>,
    publics: Vec<i64>,
    delivered: Vec<i64>,
    read: Vec<i64>,
    unread: Vec<i64>,
    previews: Vec<Option<String>>,
    ats: Vec<i64>,
}

impl RowUpdates {
    fn push(&mut self, r: &ConvRow) {
        self.ids.push(r.id.clone());
        self.seqs.push(r.last_seq);
        self.publics.push(r.last_public_seq);
        self.delivered.push(r.visitor_delivered_seq);
        self.read.push(r.visitor_read_seq);
        self.unread.push(r.unread);
        self.previews.push(r.last_message_preview.clone());
        self.ats.push(r.updated_at);
    }
}
