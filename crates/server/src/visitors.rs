//! Live visitors: a presence lease for each visitor whose widget socket is open on this node
//! (the same pattern as agents' `online_until` in `routing.rs`). The lease is renewed every
//! [`RENEW_EVERY`] for [`LEASE_MS`], so a node that dies stops showing its visitors within the
//! lease; the last socket closing ends it at once.

use crate::AppState;
use frontdesk_core::ContactId;
use frontdesk_store::now_ms;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

pub const LEASE_MS: i64 = 45_000;
pub const RENEW_EVERY: Duration = Duration::from_secs(15);

/// Renews the leases of this node's visitors until shutdown, and writes sockets' changes.
pub fn spawn(s: AppState) {
    spawn_presence(s.clone());
    tokio::spawn(async move {
        let mut stop = s.shutdown.clone();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(RENEW_EVERY) => {}
                _ = stop.wait_for(|v| *v) => break,
            }
            let here = s.hub.connected_visitors();
            if here.is_empty() {
                continue;
            }
            if let Err(e) = s.store.renew_visitors(&here, now_ms() + LEASE_MS).await {
                tracing::warn!(error = %e, "cannot renew visitors' presence");
            }
        }
    });
}

/// A widget socket opened: the visitor is live now. Returns once their lease is written.
pub async fn connected(s: &AppState, contact: &ContactId) {
    s.presence.changed(contact).await;
}

/// A widget socket closed: if it was the visitor's last one here, their lease ends. (A socket
/// on another node renews it again within [`RENEW_EVERY`].)
pub async fn disconnected(s: &AppState, contact: &ContactId) {
    if s.hub.visitor_connected(contact) {
        return;
    }
    s.presence.changed(contact).await;
}

type Change = (ContactId, oneshot::Sender<()>);

/// Sockets' presence changes, written in batches: after a restart or a network blip, thousands
/// of widgets reconnect at once, and one transaction each (SQLite's one writer, an fsync each)
/// was an eighth of the comeback. A socket still waits for its own change to be written, so the
/// lease is there before its `welcome`, as before. What is written is the hub's state when the
/// batch runs: a visitor with a socket here is renewed, one without has gone, so a connect and
/// a disconnect of the same visitor in one batch cannot land in the wrong order.
pub struct Presence {
    tx: mpsc::UnboundedSender<Change>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Change>>>,
}

impl Default for Presence {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }
}

impl Presence {
    async fn changed(&self, contact: &ContactId) {
        let (done, wait) = oneshot::channel();
        if self.tx.send((contact.clone(), done)).is_ok() {
            // Dropped unanswered only when the server stops.
            let _ = wait.await;
        }
    }
}

/// Most changes written in one batch.
const PRESENCE_BATCH: usize = 1000;

fn spawn_presence(s: AppState) {
    let Some(mut rx) = s
        .presence
        .rx
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    else {
        return;
    };
    tokio::spawn(async move {
        let mut batch: Vec<Change> = Vec::new();
        while let Some(first) = rx.recv().await {
            batch.push(first);
            while batch.len() < PRESENCE_BATCH {
                match rx.try_recv() {
                    Ok(c) => batch.push(c),
                    Err(_) => break,
                }
            }
            let mut seen = HashSet::new();
            let (mut live, mut gone) = (Vec::new(), Vec::new());
            for (contact, _) in &batch {
                if seen.insert(contact) {
                    if s.hub.visitor_connected(contact) {
                        live.push(contact.clone());
                    } else {
                        gone.push(contact.clone());
                    }
                }
            }
            if !live.is_empty()
                && let Err(e) = s.store.renew_visitors(&live, now_ms() + LEASE_MS).await
            {
                tracing::warn!(error = %e, "cannot start visitors' presence");
            }
            if !gone.is_empty()
                && let Err(e) = s.store.visitors_gone(&gone).await
            {
                tracing::warn!(error = %e, "cannot end visitors' presence");
            }
            for (_, done) in batch.drain(..) {
                let _ = done.send(());
            }
        }
    });
}
