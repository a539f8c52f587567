//! The real `frontdesk` binary as a child process, for tests that kill it (`crash.rs`,
//! `soak.rs`), and just enough of a client to talk to it from outside.

use super::{Browser, Client};
use frontdesk_core::protocol::ServerFrame;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The binary to run: `FRONTDESK_BIN` if set (the soak runs a release build), else the one
/// cargo built for this test.
pub fn frontdesk_bin() -> PathBuf {
    std::env::var_os("FRONTDESK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_frontdesk")))
}

/// How long a start may take: the first one seeds the demo, hashing its agents' passwords
/// (seconds in a debug build on a loaded machine).
const START: std::time::Duration = std::time::Duration::from_secs(60);

/// Starts `frontdesk demo` on `dir` and returns it with its base URL once it prints it. Rate
/// limits are off: the tests send as fast as they can.
pub fn start(dir: &Path, listen: &str) -> (Child, String) {
    let mut cmd = Command::new(frontdesk_bin());
    // The server refuses settings it does not know, such as the tests' own FRONTDESK_* knobs.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FRONTDESK_") {
            cmd.env_remove(key);
        }
    }
    let mut child = cmd
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
    let url = rx.recv_timeout(START).expect("the server printed its URL");
    (child, url)
}

/// A server known only by its URL (it may be down).
pub struct Remote {
    pub url: String,
}

impl Remote {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
        }
    }

    pub fn ws(&self) -> String {
        format!("{}/ws/visitor", self.url.replacen("http", "ws", 1))
    }

    /// A new visitor of the demo site; returns its token.
    pub async fn token(&self) -> String {
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

    /// A visitor's socket, once welcomed; `None` if the server is down or died first.
    pub async fn visitor(&self, token: &str) -> Option<Client> {
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
            if let ServerFrame::Welcome { .. } = c.next().await? {
                return Some(c);
            }
        }
    }
}
