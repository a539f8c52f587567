//! Several nodes on one PostgreSQL database with Redis between them. Run by
//! `scripts/test-redis.sh`, which sets `FRONTDESK_TEST_POSTGRES_URL` and
//! `FRONTDESK_TEST_REDIS_URL`.

use crate::common::*;
use frontdesk_core::protocol::*;
use serde_json::json;

fn redis_url() -> String {
    std::env::var("FRONTDESK_TEST_REDIS_URL")
        .expect("FRONTDESK_TEST_REDIS_URL must name a Redis server (scripts/test-redis.sh sets it)")
}

mod redis {
    use super::*;

    /// A visitor on node A and an agent on node B chat live, in order, with no gap.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_visitor_and_an_agent_on_different_nodes_chat_live() {
        let a = TestServer::start_with(Backend::Postgres, |c| c.redis_url = redis_url()).await;
        let b = a.another_node().await;
        let org = tenant(&a, "a").await;
        let agent = Browser::login(&b.url, &org.admin_email, PASSWORD).await;
        let mut agent_sock = Client::agent(&b, &agent).await;
        let token = visitor_token(&a, &org.site_key).await;
        let mut visitor = Client::visitor(&a, &token).await;
        let mut conv = String::new();
        for i in 0..10 {
            let m = visitor
                .say(&format!("v{i}"), None, &format!("visitor {i}"))
                .await
                .unwrap();
            conv = m.conversation_id.0.clone();
        }
        // The agent on node B hears all ten, in order.
        let mut seqs = Vec::new();
        while seqs.len() < 10 {
            if let ServerFrame::Message { message } = agent_sock.next().await.unwrap() {
                seqs.push(message.seq);
            }
        }
        assert_eq!(seqs, (1..=10).collect::<Vec<i64>>());
        // The reply from node B reaches the visitor on node A.
        agent_sock
            .say("r1", Some(&conv), "answer from node b")
            .await
            .unwrap();
        visitor
            .expect(|f| matches!(f, ServerFrame::Message { message } if message.text == "answer from node b"))
            .await;
        // Typing crosses nodes too.
        visitor
            .send(json!({"type":"typing","conversation_id":conv,"typing":true}))
            .await;
        agent_sock
            .expect(|f| {
                matches!(
                    f,
                    ServerFrame::Typing {
                        side: Side::Visitor,
                        typing: true,
                        ..
                    }
                )
            })
            .await;
        b.stop().await;
        a.stop().await;
    }

    /// A node whose Redis is unreachable refuses to start rather than run deaf.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_node_without_its_redis_refuses_to_start() {
        let dir = tempfile::tempdir().unwrap();
        let config = frontdesk_server::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            redis_url: "redis://127.0.0.1:1/".into(),
            ..Default::default()
        };
        let r = frontdesk_server::Server::start(config, Default::default()).await;
        assert!(r.is_err());
    }
}
