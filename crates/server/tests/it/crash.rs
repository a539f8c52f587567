//! Delivery under a crash: the real binary is killed with SIGKILL in the middle of a burst of
//! sends from 50 visitors, then started again on the same database. Every acknowledged message
//! is there exactly once, in its place; the clients resend what was not acknowledged with the
//! same client ids, and each is stored once; each visitor's messages keep their order.

use crate::common::WAIT;
use crate::common::process::{Remote, start};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Mutex;

const VISITORS: usize = 50;
const PER_VISITOR: usize = 30;

/// (visitor, index) -> the acknowledged (message id, seq).
type Acked = HashMap<(usize, usize), (String, i64)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_burst_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = start(dir.path(), "127.0.0.1:0");
    let listen = url.trim_start_matches("http://").to_owned();
    let srv = Arc::new(Remote::new(&url));
    let mut tokens = Vec::new();
    for _ in 0..VISITORS {
        tokens.push(srv.token().await);
    }
    let acked: Arc<Mutex<Acked>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (v, token) in tokens.iter().cloned().enumerate() {
        let (srv, acked, count) = (srv.clone(), acked.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            // The kill may come before a slow visitor is even welcomed: it sends all later.
            let Some(mut c) = srv.visitor(&token).await else {
                return 0;
            };
            for i in 0..PER_VISITOR {
                match c
                    .try_say(&format!("v{v}-{i}"), None, &format!("v{v}-{i}"))
                    .await
                {
                    Some(Ok(m)) => {
                        acked.lock().await.insert((v, i), (m.id.0, m.seq));
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(Err(code)) => panic!("unexpected error {code:?}"),
                    None => return i, // the server died: resend from here
                }
            }
            PER_VISITOR
        }));
    }
    // Kill it hard once a good part of the burst is acknowledged.
    let deadline = std::time::Instant::now() + WAIT;
    while count.load(Ordering::Relaxed) < VISITORS * PER_VISITOR / 3
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut resume_from = Vec::new();
    for t in tasks {
        resume_from.push(t.await.unwrap());
    }
    let acked_before = acked.lock().await.clone();
    assert!(!acked_before.is_empty());
    assert!(
        resume_from.iter().any(|&i| i < PER_VISITOR),
        "the kill landed mid-burst"
    );

    // Start again on the same database; clients come back and resend what was not acknowledged.
    let (mut child, url2) = start(dir.path(), &listen);
    assert_eq!(url2, url);
    let mut tasks = Vec::new();
    for (v, token) in tokens.iter().cloned().enumerate() {
        let (srv, from) = (srv.clone(), resume_from[v]);
        tasks.push(tokio::spawn(async move {
            let mut c = srv
                .visitor(&token)
                .await
                .expect("welcomed after the restart");
            // The message in flight at the crash may or may not have been stored: resend it.
            for i in from..PER_VISITOR {
                c.try_say(&format!("v{v}-{i}"), None, &format!("v{v}-{i}"))
                    .await
                    .unwrap()
                    .unwrap();
            }
            // Read back the whole conversation.
            let first = c
                .try_say(&format!("v{v}-0"), None, &format!("v{v}-0"))
                .await
                .unwrap()
                .unwrap();
            c.sync(&first.conversation_id.0, 0).await
        }));
    }
    for (v, t) in tasks.into_iter().enumerate() {
        let history = t.await.unwrap();
        let seqs: Vec<i64> = history.iter().map(|m| m.seq).collect();
        assert_eq!(
            seqs,
            (1..=seqs.len() as i64).collect::<Vec<_>>(),
            "visitor {v}: gap-free"
        );
        let texts: Vec<&str> = history.iter().map(|m| m.text.as_str()).collect();
        let expected: Vec<String> = (0..PER_VISITOR).map(|i| format!("v{v}-{i}")).collect();
        assert_eq!(texts, expected, "visitor {v}: each message once, in order");
        for (i, m) in history.iter().enumerate() {
            if let Some((id, seq)) = acked_before.get(&(v, i)) {
                assert_eq!(
                    (&m.id.0, m.seq),
                    (id, *seq),
                    "acknowledged v{v}-{i} kept its id and place"
                );
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
