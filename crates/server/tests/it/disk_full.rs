//! A full disk on SQLite: visitors keep sending over real sockets while the database runs out
//! of space. Sends that cannot be stored answer `unavailable` saying the storage is full (the
//! store names SQLite's `SQLITE_FULL`), the server stays up and keeps serving reads, and once
//! space is freed the clients' resends (same client ids) are stored exactly once, in order,
//! next to every message acknowledged before.
//!
//! The full disk is SQLite's own: every connection of the server has `max_page_count` set
//! (`sqlite://…?max_page_count=N`), so growing the database past N pages fails with
//! `SQLITE_FULL`, the result a write on a full disk gets. A second connection fills the
//! database with ballast up to that cap, then drops it to give the space back; the freed pages
//! go to SQLite's freelist, which the server's connections reuse, as they would reuse disk space
//! freed by someone else. Making a small filesystem takes root, so that is not the default;
//! with `FRONTDESK_TEST_FULL_DIR` naming the mount point of one (say a 16 MiB tmpfs), the same
//! test runs the server there with no cap and fills the filesystem itself with a ballast file.
//! On a real full disk SQLite may roll a transaction back by itself; the store then closes the
//! pooled connection, which would otherwise refuse every later `BEGIN` (see `open_sqlite`).

use crate::common::*;
use frontdesk_core::ErrorCode;
use frontdesk_core::protocol::{Message, MessageKind, ServerFrame};
use frontdesk_store::{Store, StoreError};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

/// The cap: 16 MiB of 4 KiB pages.
const MAX_PAGES: u64 = 4096;
const VISITORS: usize = 6;
/// Each message is this long, so the space left fills after a few dozen.
const TEXT: usize = 1500;
/// At most this many sends per visitor before the database must be full.
const MAX_SENDS: usize = 200;
/// Ballast rows freed before the burst: the space the visitors fill.
const HEADROOM_ROWS: usize = 12;
/// On a real filesystem, the ballast file's bytes freed before the burst.
const HEADROOM_BYTES: u64 = 512 * 1024;

fn text(v: usize, i: usize) -> String {
    let mut t = format!("v{v}-{i} ");
    while t.len() < TEXT {
        t.push_str(&format!("word{} ", t.len()));
    }
    t
}

/// Sends a message; its ack, or the error's code and message.
async fn send(c: &mut Client, v: usize, i: usize) -> Result<Message, (ErrorCode, String)> {
    let cid = format!("v{v}-{i}");
    c.send(json!({"type": "send", "client_id": cid, "text": text(v, i)}))
        .await;
    match c
        .expect(|f| match f {
            ServerFrame::Ack { client_id, .. } => client_id == &cid,
            ServerFrame::Error {
                client_id: Some(id),
                ..
            } => id == &cid,
            _ => false,
        })
        .await
    {
        ServerFrame::Ack { message, .. } => Ok(message),
        ServerFrame::Error { code, message, .. } => Err((code, message)),
        _ => unreachable!(),
    }
}

/// Inserts `rows` blobs of `bytes` each into the ballast table in one statement.
async fn ballast(db: &Store, rows: usize, bytes: usize) -> Result<(), StoreError> {
    db.execute_admin(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
         INSERT INTO ballast (b) SELECT randomblob({bytes}) FROM n"
    ))
    .await
}

/// Where the space runs out.
enum Disk {
    /// The database's page cap, filled through another connection with a ballast table.
    Capped(Store),
    /// A real small filesystem, filled with a ballast file.
    Real(PathBuf),
}

impl Disk {
    /// Fills the space, then frees a little: the room the visitors fill.
    async fn fill_but_a_little(&self) {
        match self {
            Disk::Capped(db) => {
                db.execute_admin("CREATE TABLE ballast (id INTEGER PRIMARY KEY, b BLOB NOT NULL)")
                    .await
                    .unwrap();
                // Large rows first, then rows of about a page, until one no longer fits.
                for (rows, bytes) in [(64, 16 * 1024), (16, 4 * 1024), (1, 3000)] {
                    loop {
                        match ballast(db, rows, bytes).await {
                            Ok(()) => continue,
                            Err(StoreError::Full(_)) => break,
                            Err(e) => panic!("filling the database: {e}"),
                        }
                    }
                }
                db.execute_admin(&format!(
                    "DELETE FROM ballast WHERE id IN (SELECT id FROM ballast ORDER BY id DESC LIMIT {HEADROOM_ROWS})"
                ))
                .await
                .unwrap();
            }
            Disk::Real(file) => {
                let mut f = std::fs::File::create(file).unwrap();
                for chunk in [1 << 20, 64 << 10, 4 << 10] {
                    let bytes = vec![0x5a_u8; chunk];
                    while f.write_all(&bytes).and_then(|()| f.sync_all()).is_ok() {}
                }
                let len = f.metadata().unwrap().len();
                f.set_len(len.saturating_sub(HEADROOM_BYTES)).unwrap();
                f.sync_all().unwrap();
            }
        }
    }

    /// Gives all the space back.
    async fn free(self) {
        match self {
            Disk::Capped(db) => {
                db.execute_admin("DROP TABLE ballast").await.unwrap();
                db.close().await;
            }
            Disk::Real(file) => std::fs::remove_file(file).unwrap(),
        }
    }
}

async fn status(url: &str, path: &str) -> u16 {
    reqwest::get(format!("{url}{path}"))
        .await
        .map_or(0, |r| r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_sends_clearly_and_loses_nothing_acknowledged() {
    let full_dir = std::env::var_os("FRONTDESK_TEST_FULL_DIR")
        .map(|d| PathBuf::from(d).join(uuid::Uuid::now_v7().simple().to_string()));
    let mut db_url = String::new();
    let t = TestServer::start_with(Backend::Sqlite, |c| {
        c.visitor_sends_per_second = 0;
        match &full_dir {
            Some(dir) => {
                std::fs::create_dir(dir).unwrap();
                c.data_dir = dir.clone();
            }
            None => {
                let path = c.data_dir.join("capped.db");
                db_url = format!("sqlite://{}?max_page_count={MAX_PAGES}", path.display());
                c.database_url = db_url.clone();
            }
        }
    })
    .await;
    let org = tenant(&t, "a").await;
    let mut visitors = Vec::new();
    for _ in 0..VISITORS {
        let token = visitor_token(&t, &org.site_key).await;
        visitors.push(Client::visitor(&t, &token).await);
    }

    // The space runs out but for a little room.
    let disk = match &full_dir {
        Some(dir) => Disk::Real(dir.join("ballast")),
        None => Disk::Capped(Store::open(&db_url).await.unwrap()),
    };
    disk.fill_but_a_little().await;

    // Every visitor sends until its message no longer fits; all at once, so the last pages go
    // to whoever comes first.
    let burst = visitors.into_iter().enumerate().map(|(v, mut c)| {
        tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..MAX_SENDS {
                match send(&mut c, v, i).await {
                    Ok(m) => acked.push(m),
                    Err((code, message)) => return (c, acked, code, message),
                }
            }
            panic!("visitor {v}: {MAX_SENDS} messages stored in a full database");
        })
    });
    let mut visitors = Vec::new();
    for r in futures_util::future::join_all(burst).await {
        let (c, acked, code, message) = r.unwrap();
        // A storage failure the client retries, which says what is wrong.
        assert_eq!(code, ErrorCode::Unavailable);
        assert!(message.contains("storage is full"), "{message}");
        visitors.push((c, acked));
    }
    let before: usize = visitors.iter().map(|(_, a)| a.len()).sum();
    assert!(before > 0, "some messages fitted in the room left");
    eprintln!("{before} messages acknowledged before the database was full");

    // While full, the server stays up and ready: reads still work (a visitor's history syncs).
    for (v, (c, acked)) in visitors.iter_mut().enumerate() {
        // Refused again, or stored after all: a smaller write (one message, not a batch) may
        // fit in what a failed one left, as on a real disk.
        match send(c, v, acked.len()).await {
            Ok(m) => acked.push(m),
            Err((code, message)) => {
                assert_eq!(code, ErrorCode::Unavailable);
                assert!(message.contains("storage is full"), "{message}");
            }
        }
        if let Some(first) = acked.first() {
            let history = c.sync(&first.conversation_id.0, 0).await;
            assert_eq!(history.len(), acked.len(), "visitor {v}: history readable");
        }
    }
    assert_eq!(status(&t.url, "/healthz").await, 200);
    assert_eq!(status(&t.url, "/readyz").await, 200, "reads still work");
    // A new visitor's session is a write too: it is stored while its rows fit in pages that
    // have room, then refused the same way.
    let mut refused = None;
    for _ in 0..300 {
        let mut b = Browser::new(&t.url);
        let (code, body) = b
            .post(
                "/api/v1/widget/session",
                json!({"site_key": org.site_key, "token": null}),
            )
            .await;
        if code != 200 {
            refused = Some((code, body));
            break;
        }
    }
    let (code, body) = refused.expect("a new session refused while full");
    assert_eq!(
        (code, body["code"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );
    assert!(
        body["detail"].as_str().unwrap().contains("storage is full"),
        "{body}"
    );

    // Space comes back; each client resends its pending message with the same client id, then
    // goes on, and a resend of an acknowledged message returns the stored one.
    disk.free().await;
    for (v, (c, acked)) in visitors.iter_mut().enumerate() {
        let from = acked.len();
        for i in from..from + 5 {
            let m = send(c, v, i)
                .await
                .unwrap_or_else(|e| panic!("v{v}-{i} after space came back: {e:?}"));
            acked.push(m);
        }
        let again = send(c, v, 0).await.unwrap();
        assert_eq!((&again.id, again.seq), (&acked[0].id, acked[0].seq));
    }

    // Each conversation holds exactly what was acknowledged, once, in order, without gaps.
    for (v, (_, acked)) in visitors.iter().enumerate() {
        let history = t
            .store()
            .messages(&acked[0].conversation_id, 0, 1000, false)
            .await
            .unwrap()
            .items;
        let seqs: Vec<i64> = history.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=history.len() as i64).collect::<Vec<_>>());
        let mine: Vec<_> = history
            .iter()
            .filter(|m| m.kind == MessageKind::Visitor)
            .map(|m| (&m.id, m.seq, m.client_id.clone().unwrap()))
            .collect();
        let expected: Vec<_> = acked
            .iter()
            .enumerate()
            .map(|(i, m)| (&m.id, m.seq, format!("v{v}-{i}")))
            .collect();
        assert_eq!(
            mine, expected,
            "visitor {v}: every acknowledged message, once, in order"
        );
    }
    t.stop().await;
    if let Some(dir) = full_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}
