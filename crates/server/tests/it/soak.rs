//! Delivery over time: visitors send without pause (each message with its client id, resending
//! what was not acknowledged) while the real binary is killed with SIGKILL and started again at
//! random intervals. At the end, after a last SIGKILL, the database on disk holds every
//! acknowledged message exactly once, with the id and `seq` its ack carried, each visitor's in
//! the order sent, and no conversation has a gap in `seq`.
//!
//! By default a short run (a few seconds, a kill every 1–2.5 s) in the main suite.
//! `scripts/soak.sh [MINUTES]` runs the long one: `FRONTDESK_SOAK_SECS` long, a kill every
//! 30–90 s, on a release build (`FRONTDESK_BIN`).

use crate::common::process::{Remote, start};
use frontdesk_core::ConversationId;
use frontdesk_core::ErrorCode;
use frontdesk_core::protocol::MessageKind;
use rand::Rng;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// How long to send, and how long between kills.
fn plan() -> (Duration, Duration, Duration) {
    match std::env::var("FRONTDESK_SOAK_SECS") {
        Ok(s) => (
            Duration::from_secs(
                s.parse()
                    .expect("FRONTDESK_SOAK_SECS is a number of seconds"),
            ),
            Duration::from_secs(30),
            Duration::from_secs(90),
        ),
        Err(_) => (
            Duration::from_secs(6),
            Duration::from_millis(1000),
            Duration::from_millis(2500),
        ),
    }
}

fn visitors() -> usize {
    std::env::var("FRONTDESK_SOAK_VISITORS").map_or(16, |v| v.parse().unwrap())
}

/// A visitor's pause after each acknowledged message: the load is steady, not a flood.
const PAUSE: Duration = Duration::from_millis(20);
/// How long a visitor waits before trying again after a refused connection or `unavailable`.
const BACKOFF: Duration = Duration::from_millis(50);

#[derive(Default)]
struct Stats {
    acked: AtomicU64,
    /// Sends of a client id already sent once (after a crash or an `unavailable`).
    resends: AtomicU64,
    unavailable: AtomicU64,
    reconnects: AtomicU64,
}

/// What one visitor was told: the acknowledged (conversation, message id, seq) of its i-th
/// message, in order.
type Acks = Vec<(String, String, i64)>;

/// Sends `v{v}-{i}` for i = 0, 1, … until `stop`, each until acknowledged, reconnecting as a
/// widget does. A message in flight when `stop` comes is still sent until acknowledged.
async fn visitor(
    remote: Arc<Remote>,
    v: usize,
    token: String,
    stop: Arc<AtomicBool>,
    stats: Arc<Stats>,
) -> Acks {
    let mut acks: Acks = Vec::new();
    let mut c = None;
    let mut tries = 0;
    loop {
        if tries == 0 && stop.load(Relaxed) {
            return acks;
        }
        let Some(client) = c.as_mut() else {
            c = remote.visitor(&token).await;
            if c.is_none() {
                tokio::time::sleep(BACKOFF).await;
            } else {
                stats.reconnects.fetch_add(1, Relaxed);
            }
            continue;
        };
        let cid = format!("v{v}-{}", acks.len());
        if tries > 0 {
            stats.resends.fetch_add(1, Relaxed);
        }
        tries += 1;
        match client.try_say(&cid, None, &cid).await {
            Some(Ok(m)) => {
                acks.push((m.conversation_id.0, m.id.0, m.seq));
                stats.acked.fetch_add(1, Relaxed);
                tries = 0;
                tokio::time::sleep(PAUSE).await;
            }
            // Nothing was stored: the same client id again.
            Some(Err(ErrorCode::Unavailable)) => {
                stats.unavailable.fetch_add(1, Relaxed);
                tokio::time::sleep(BACKOFF).await;
            }
            Some(Err(code)) => panic!("visitor {v}: {cid} refused with {code:?}"),
            // The server died: reconnect, then resend the same client id.
            None => c = None,
        }
    }
}

fn kill(child: &mut Child) {
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_kill_9s_lose_no_acknowledged_message() {
    let (duration, kill_min, kill_max) = plan();
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = start(dir.path(), "127.0.0.1:0");
    let listen = url.trim_start_matches("http://").to_owned();
    let remote = Arc::new(Remote::new(&url));
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(Stats::default());
    let mut tasks = Vec::new();
    for v in 0..visitors() {
        let token = remote.token().await;
        tasks.push(tokio::spawn(visitor(
            remote.clone(),
            v,
            token,
            stop.clone(),
            stats.clone(),
        )));
    }

    // Kill and restart at random moments until the time is up.
    let started = Instant::now();
    let mut restarts = 0;
    loop {
        let wait = rand::rng().random_range(kill_min..=kill_max);
        if started.elapsed() + wait >= duration {
            tokio::time::sleep(duration.saturating_sub(started.elapsed())).await;
            break;
        }
        tokio::time::sleep(wait).await;
        let before = stats.acked.load(Relaxed);
        kill(&mut child);
        restarts += 1;
        // Down for a moment: clients find the port closed and retry.
        let down = Duration::from_millis(rand::rng().random_range(0..=1000));
        tokio::time::sleep(down).await;
        let (next, again) = start(dir.path(), &listen);
        assert_eq!(again, url, "restarted on the same address");
        child = next;
        eprintln!(
            "soak: {:>5.0} s: SIGKILL #{restarts} at {before} acknowledged, down {} ms",
            started.elapsed().as_secs_f64(),
            down.as_millis()
        );
    }
    // Each visitor finishes the message in flight, so every message sent was acknowledged.
    stop.store(true, Relaxed);
    let mut acks = Vec::new();
    for t in tasks {
        acks.push(
            tokio::time::timeout(Duration::from_secs(60), t)
                .await
                .expect("visitors finish their last message")
                .unwrap(),
        );
    }
    let elapsed = started.elapsed();
    // A last crash, then read what is on disk.
    kill(&mut child);
    let store = frontdesk_store::Store::open_sqlite(&dir.path().join("frontdesk.db"))
        .await
        .unwrap();
    let (mut lost, mut duplicates, mut gaps, mut out_of_order, mut stored) = (0, 0, 0, 0, 0);
    for (v, acks) in acks.iter().enumerate() {
        let Some((conv, _, _)) = acks.first() else {
            continue;
        };
        assert!(
            acks.iter().all(|(c, _, _)| c == conv),
            "visitor {v}: one conversation"
        );
        let mut all = Vec::new();
        loop {
            let page = store
                .messages(
                    &ConversationId(conv.clone()),
                    all.last()
                        .map_or(0, |m: &frontdesk_core::protocol::Message| m.seq),
                    1000,
                    false,
                )
                .await
                .unwrap();
            all.extend(page.items);
            if !page.has_more {
                break;
            }
        }
        gaps += all
            .iter()
            .enumerate()
            .filter(|(i, m)| m.seq != *i as i64 + 1)
            .count();
        let mine: Vec<_> = all
            .iter()
            .filter(|m| m.kind == MessageKind::Visitor)
            .collect();
        stored += mine.len();
        let mut seen = std::collections::HashSet::new();
        for m in &mine {
            if !seen.insert(m.client_id.clone()) {
                duplicates += 1;
            }
        }
        // The i-th stored message of the visitor is its i-th message, as acknowledged.
        for (i, (_, id, seq)) in acks.iter().enumerate() {
            match mine.get(i) {
                Some(m) if (&m.id.0, m.seq) == (id, *seq) => {
                    assert_eq!(m.client_id.as_deref(), Some(format!("v{v}-{i}").as_str()));
                }
                Some(_) => out_of_order += 1,
                None => lost += 1,
            }
        }
        // Nothing stored that was never acknowledged (every send was finished).
        out_of_order += mine.len().saturating_sub(acks.len());
    }
    store.close().await;
    let acked: usize = acks.iter().map(Vec::len).sum();
    eprintln!(
        "soak: {:.0} s, {} visitors, {restarts} restarts (SIGKILL), {acked} acknowledged ({:.0}/s), \
         {stored} stored, {} resends, {} unavailable, {} connections; \
         lost={lost} duplicates={duplicates} gaps={gaps} out_of_order={out_of_order}",
        elapsed.as_secs_f64(),
        acks.len(),
        acked as f64 / elapsed.as_secs_f64(),
        stats.resends.load(Relaxed),
        stats.unavailable.load(Relaxed),
        stats.reconnects.load(Relaxed),
    );
    assert!(restarts > 0, "the server was killed at least once");
    assert!(acked > 0);
    assert_eq!(
        (lost, duplicates, gaps, out_of_order),
        (0, 0, 0, 0),
        "lost, duplicates, gaps, out of order"
    );
    assert_eq!(stored, acked);
}
