//! The `relay` phase (and `--procs`) against a tiny in-process relay of the shared contract:
//! every text frame goes to the other sockets of its room. A relay that loses frames must show
//! as gaps, so the check can fail.
#![allow(clippy::result_large_err)] // tungstenite's handshake callback type

use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

type Rooms = Arc<Mutex<HashMap<String, Vec<(u64, mpsc::UnboundedSender<Message>)>>>>;

/// Starts a relay; it drops every `lose_every`th frame (0: none). Returns its address.
async fn relay(lose_every: u64) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let rooms: Rooms = Arc::default();
    let seen = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        let mut next_id = 0;
        while let Ok((stream, _)) = listener.accept().await {
            next_id += 1;
            let (id, rooms, seen) = (next_id, rooms.clone(), seen.clone());
            tokio::spawn(async move {
                let mut room = String::new();
                let ws =
                    tokio_tungstenite::accept_hdr_async(stream, |req: &Request, resp: Response| {
                        room = req
                            .uri()
                            .query()
                            .and_then(|q| q.strip_prefix("room="))
                            .unwrap_or("")
                            .to_owned();
                        Ok(resp)
                    })
                    .await
                    .unwrap();
                let (mut tx, mut rx) = ws.split();
                let (out_tx, mut out_rx) = mpsc::unbounded_channel();
                rooms
                    .lock()
                    .unwrap()
                    .entry(room.clone())
                    .or_default()
                    .push((id, out_tx));
                tokio::spawn(async move {
                    while let Some(m) = out_rx.recv().await {
                        if tx.send(m).await.is_err() {
                            break;
                        }
                    }
                });
                while let Some(Ok(m)) = rx.next().await {
                    if !m.is_text() {
                        continue;
                    }
                    let n = seen.fetch_add(1, Ordering::Relaxed) + 1;
                    if lose_every > 0 && n % lose_every == 0 {
                        continue;
                    }
                    for (other, out) in rooms.lock().unwrap().get(&room).into_iter().flatten() {
                        if *other != id {
                            let _ = out.send(m.clone());
                        }
                    }
                }
                if let Some(v) = rooms.lock().unwrap().get_mut(&room) {
                    v.retain(|(other, _)| *other != id);
                }
            });
        }
    });
    addr
}

/// Runs the loadgen binary against `addr` and returns its JSON result.
async fn loadgen(addr: SocketAddr, extra: &[&str]) -> serde_json::Value {
    let dir = std::env::temp_dir().join(format!("lg-relay-{}-{}", std::process::id(), addr.port()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join(format!("{}.json", addr.port()));
    let mut args: Vec<String> = vec![
        "--url".into(),
        format!("ws://{addr}"),
        "--json".into(),
        json.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(
        [
            "relay",
            "--rooms",
            "6",
            "--rate",
            "300",
            "--duration",
            "1",
            "--drain",
            "2",
        ]
        .map(String::from),
    );
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(&args)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("delivered"), "{table}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_frame_arrives_in_order_through_a_good_relay() {
    let addr = relay(0).await;
    let v = loadgen(addr, &[]).await;
    assert_eq!(v["phase"], "relay");
    assert_eq!(v["connections"], 12);
    assert_eq!(v["sent"], 300, "{v}");
    assert_eq!(v["delivered"], 300, "{v}");
    assert_eq!(
        (v["gaps"].as_u64(), v["errors"].as_u64()),
        (Some(0), Some(0)),
        "{v}"
    );
    let (p50, p999) = (
        v["p50_ms"].as_f64().unwrap(),
        v["p999_ms"].as_f64().unwrap(),
    );
    assert!(p50 > 0.0 && p50 <= p999 && p999 < 1000.0, "{v}");
    assert!(v["server_cpu_pct"].is_null() && v["server_rss_kb"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_loses_frames_shows_gaps() {
    let addr = relay(10).await;
    let v = loadgen(addr, &[]).await;
    assert_eq!(v["sent"], 300, "{v}");
    assert_eq!(
        v["delivered"].as_u64().unwrap() + v["gaps"].as_u64().unwrap(),
        300 - 30,
        "{v}"
    );
    assert!(v["gaps"].as_u64().unwrap() >= 20, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn procs_split_the_rooms_and_merge_the_results() {
    let addr = relay(0).await;
    let v = loadgen(addr, &["--procs", "2"]).await;
    assert_eq!(v["procs"], 2, "{v}");
    assert_eq!(v["connections"], 12, "{v}");
    assert_eq!(
        (v["sent"].as_u64(), v["delivered"].as_u64()),
        (Some(300), Some(300)),
        "{v}"
    );
    assert_eq!(v["gaps"], 0, "{v}");
}
