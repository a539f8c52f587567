//! The load generator's chat and storm phases against the real `frontdesk` binary (small sizes):
//! every message counted is acked, delivered in order and without a gap, and a storm brings
//! every visitor back with what was written while they were away.
//!
//! The server binary is the workspace's own (`target/<profile>/frontdesk`, built by
//! `cargo nextest run --workspace`), or `FRONTDESK_BIN`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

fn frontdesk_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("FRONTDESK_BIN") {
        return PathBuf::from(p);
    }
    // target/<profile>/deps/<this test> -> target/<profile>/frontdesk
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("frontdesk");
    assert!(
        bin.exists(),
        "no server binary at {}: build the workspace (cargo build --workspace) or set FRONTDESK_BIN",
        bin.display()
    );
    bin
}

/// `frontdesk demo` on a fresh data directory and a free port; killed when dropped.
struct Server {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Server {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("lg-server-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = Command::new(frontdesk_bin());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("FRONTDESK_") {
                cmd.env_remove(key);
            }
        }
        let mut child = cmd
            .args(["demo", "--data-dir", dir.to_str().unwrap()])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("FRONTDESK_VISITOR_SENDS_PER_SECOND", "0")
            .env("FRONTDESK_CONNECTIONS_PER_MINUTE_PER_IP", "0")
            .env("FRONTDESK_LOG_LEVEL", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start frontdesk");
        // The demo prints its URLs once it is ready. Its output is read to the end: a closed
        // pipe would fail the server's next print.
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if line.trim_end().ends_with("/demo") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(std::time::Duration::from_secs(60))
            .expect("the server printed its demo URL");
        Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs loadgen against the server and returns its JSON result.
fn loadgen(s: &Server, phase: &[&str]) -> serde_json::Value {
    let json = s.dir.join(format!("{}.json", phase[0]));
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["--url", &s.url, "--server-pid", &s.pid(), "--json"])
        .arg(&json)
        .args(phase)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "loadgen {phase:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

fn assert_clean(v: &serde_json::Value, sent: u64) {
    assert_eq!(v["sent"], sent, "{v}");
    assert_eq!(
        v["delivered"], sent,
        "every message acked and delivered: {v}"
    );
    assert_eq!(v["errors"], 0, "{v}");
    assert_eq!(v["gaps"], 0, "{v}");
    assert!(v["server_rss_kb"].as_u64().unwrap() > 0, "{v}");
}

#[test]
fn chat_open_and_closed_loops_deliver_every_message() {
    let s = Server::start();
    let closed = loadgen(
        &s,
        &["chat", "--visitors", "10", "--closed", "--messages", "20"],
    );
    assert_clean(&closed, 200);
    assert_eq!(closed["mode"], "closed");
    let open = loadgen(
        &s,
        &[
            "chat",
            "--visitors",
            "5",
            "--rate",
            "100",
            "--duration",
            "1",
            "--drain",
            "10",
        ],
    );
    assert_clean(&open, 100);
    assert_eq!(open["mode"], "open");
    assert!(open["p50_ms"].as_f64().unwrap() > 0.0, "{open}");
}

#[test]
fn a_storm_brings_every_visitor_back_with_no_gap() {
    let s = Server::start();
    let v = loadgen(&s, &["storm", "--n", "60", "--agents", "4"]);
    assert_clean(&v, 60);
    let reconnect = v["reconnect_s"].as_f64().unwrap();
    let back = v["back_s"].as_f64().unwrap();
    assert!(reconnect > 0.0 && reconnect <= back, "{v}");
}
