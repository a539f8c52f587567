//! Live visitors: a presence lease for each visitor whose widget socket is open on this node
//! (the same pattern as agents' `online_until` in `routing.rs`). The lease is renewed every
//! [`RENEW_EVERY`] for [`LEASE_MS`], so a node that dies stops showing its visitors within the
//! lease; the last socket closing ends it at once.

use crate::AppState;
use frontdesk_core::ContactId;
use frontdesk_store::now_ms;
use std::time::Duration;

pub const LEASE_MS: i64 = 45_000;
pub const RENEW_EVERY: Duration = Duration::from_secs(15);

/// Renews the leases of this node's visitors until shutdown.
pub fn spawn(s: AppState) {
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

/// A widget socket opened: the visitor is live now.
pub async fn connected(s: &AppState, contact: &ContactId) {
    if let Err(e) = s
        .store
        .renew_visitors(std::slice::from_ref(contact), now_ms() + LEASE_MS)
        .await
    {
        tracing::warn!(error = %e, "cannot start a visitor's presence");
    }
}

/// A widget socket closed: if it was the visitor's last one here, their lease ends. (A socket
/// on another node renews it again within [`RENEW_EVERY`].)
pub async fn disconnected(s: &AppState, contact: &ContactId) {
    if s.hub.visitor_connected(contact) {
        return;
    }
    if let Err(e) = s.store.visitor_gone(contact).await {
        tracing::warn!(error = %e, "cannot end a visitor's presence");
    }
}
