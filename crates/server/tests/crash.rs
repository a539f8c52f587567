//! Delivery under a crash: the real binary is killed with SIGKILL in the middle of a burst of
//! sends from 50 visitors, then started again on the same database. Every acknowledged message
//! is there exactly once, in its place; the clients resend what was not acknowledged with the
//! same client ids, and each is stored once; each visitor's messages keep their order.

mod common;
use common::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Mutex;

const VISITORS: usize = 50;
const PER_VISITOR: usize = 30;

/// (visitor, index) -> the acknowledged (message id, seq).
type Acked = HashMap<(usize, usize), (String, i64)>;

/// Starts `frontdesk demo` and returns it with its base URL once it prints it.
fn start(dir: &std::path::Path, listen: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args([
            "demo",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            listen,
        ])
        .env("FRONTDESK_VISITOR_SENDS_PER_SECOND", "0")
        .env("FRONTDESK_CONNECTIONS_PER_MINUTE_PER_IP", "0")
        .env("FRONTDESK_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start frontdesk");
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(url) = line.split_whitespace().find(|w| w.ends_with("/demo")) {
                let _ = tx.send(url.trim_end_matches("/demo").to_owned());
            }
        }
    });
    let url = rx.recv_timeout(WAIT).expect("the server printed its URL");
    (child, url)
}

fn server_at(url: &str) -> TestServerRef {
    TestServerRef {
        url: url.to_owned(),
    }
}

/// Just enough of a server handle for the client helpers.
struct TestServerRef {
    url: String,
}

impl TestServerRef {
    fn ws(&self) -> String {
        format!("{}/ws/visitor", self.url.replacen("http", "ws", 1))
    }
    async fn token(&self) -> String {
        let mut b = Browser::new(&self.url);
        let (status, body) = b
            .post(
                "/api/v1/widget/session",
                serde_json::json!({"site_key": "demo-site"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }
    /// A visitor's socket, once welcomed; `None` if the server died first.
    async fn visitor(&self, token: &str) -> Option<Client> {
        use futures_util::SinkExt;
        // Not Client::connect, which treats a refused connection as a test failure.
        let (ws, _) = tokio_tungstenite::connect_async(self.ws()).await.ok()?;
        let mut c = Client {
            ws,
            seen: Vec::new(),
        };
        let hello = serde_json::json!({"type":"hello","v":1,"token":token}).to_string();
        c.ws.send(tokio_tungstenite::tungstenite::Message::Text(hello.into()))
            .await
            .ok()?;
        loop {
            match c.next().await? {
                frontdesk_core::protocol::ServerFrame::Welcome { .. } => return Some(c),
                _ => continue,
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_burst_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = start(dir.path(), "127.0.0.1:0");
    let listen = url.trim_start_matches("http://").to_owned();
    let srv = Arc::new(server_at(&url));
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
