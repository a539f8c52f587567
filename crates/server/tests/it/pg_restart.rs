//! PostgreSQL restarts under load: the server reports not ready while the database is down,
//! senders get `unavailable` and retry with the same client id, and nothing acknowledged is
//! lost or stored twice. Needs a PostgreSQL cluster of its own that the test may stop and start
//! (`scripts/test-postgres.sh` makes one): `FRONTDESK_TEST_PG_RESTART_URL` and
//! `FRONTDESK_TEST_PG_RESTART_DATADIR`.

use crate::common::*;
use frontdesk_core::ErrorCode;
use std::process::Command;
use std::time::{Duration, Instant};

fn pg_ctl(datadir: &str, args: &[&str]) {
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
        .map(|e| e.path().join("bin/pg_ctl"))
        .expect("a PostgreSQL installation under /usr/lib/postgresql");
    let status = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin)
        .args(["-D", datadir, "-w", "-l", &format!("{datadir}/log")])
        .args(args)
        .status()
        .expect("run pg_ctl");
    assert!(status.success(), "pg_ctl {args:?}");
}

async fn ready(url: &str) -> u16 {
    match reqwest::get(format!("{url}/readyz")).await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

async fn wait_ready(url: &str, want: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while ready(url).await != want {
        assert!(Instant::now() < deadline, "/readyz never answered {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

mod postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_database_restart_under_load_loses_nothing_acknowledged() {
        let base = std::env::var("FRONTDESK_TEST_PG_RESTART_URL")
            .expect("FRONTDESK_TEST_PG_RESTART_URL (scripts/test-postgres.sh)");
        let datadir = std::env::var("FRONTDESK_TEST_PG_RESTART_DATADIR")
            .expect("FRONTDESK_TEST_PG_RESTART_DATADIR");
        let db = fresh_postgres_db(&base).await;
        let t = TestServer::start_with(Backend::Sqlite, |c| {
            c.database_url = db;
            c.visitor_sends_per_second = 0;
        })
        .await;
        let org = tenant(&t, "a").await;
        let token = visitor_token(&t, &org.site_key).await;
        let url = t.url.clone();
        // Sends keep going (paced) until the database has been back for a while.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let sender = tokio::spawn({
            let stop = stop.clone();
            let count = count.clone();
            let t_ws = t.ws_url("/ws/visitor");
            async move {
                let mut acked = Vec::new();
                let mut unavailable = 0;
                let mut c: Option<Client> = None;
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if c.is_none() {
                        let mut fresh = Client::connect(&t_ws, None, None).await.unwrap();
                        fresh
                            .send(serde_json::json!({"type":"hello","v":1,"token":token}))
                            .await;
                        match fresh.next().await {
                            Some(frontdesk_core::protocol::ServerFrame::Welcome { .. }) => {
                                c = Some(fresh)
                            }
                            _ => {
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                continue;
                            }
                        }
                    }
                    let cl = c.as_mut().unwrap();
                    match cl
                        .try_say(&format!("m{i}"), None, &format!("message {i}"))
                        .await
                    {
                        Some(Ok(m)) => {
                            acked.push(m);
                            i += 1;
                            count.store(i, std::sync::atomic::Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        // Nothing was stored: retry the same client id.
                        Some(Err(ErrorCode::Unavailable)) => {
                            unavailable += 1;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        Some(Err(code)) => panic!("unexpected {code:?}"),
                        None => c = None,
                    }
                }
                (acked, unavailable)
            }
        });
        // Let the burst get going, then restart the database under it.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before_stop = count.load(std::sync::atomic::Ordering::Relaxed);
        pg_ctl(&datadir, &["stop", "-m", "fast"]);
        wait_ready(&url, 503).await;
        pg_ctl(&datadir, &["start"]);
        wait_ready(&url, 200).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (acked, unavailable) = tokio::time::timeout(Duration::from_secs(60), sender)
            .await
            .unwrap()
            .unwrap();
        // Sends made while the database was down either waited for it (the pool reconnects) or
        // were answered `unavailable` and retried; either way the burst spans the restart.
        assert!(
            before_stop > 0 && acked.len() > before_stop,
            "the restart landed during the burst"
        );
        eprintln!(
            "{} acknowledged, {before_stop} before the stop, {unavailable} answered unavailable",
            acked.len()
        );
        let history = t
            .store()
            .messages(&acked[0].conversation_id, 0, 1000, true)
            .await
            .unwrap()
            .items;
        let texts: Vec<&str> = history.iter().map(|m| m.text.as_str()).collect();
        let expected: Vec<String> = (0..acked.len()).map(|i| format!("message {i}")).collect();
        assert_eq!(texts, expected, "every message once, in order");
        for (m, h) in acked.iter().zip(&history) {
            assert_eq!((&m.id, m.seq), (&h.id, h.seq));
        }
        t.stop().await;
    }
}
