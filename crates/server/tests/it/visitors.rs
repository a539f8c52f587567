//! Visitor context and live visitors over real HTTP and sockets: page changes reach agents live,
//! the live list follows widget sockets, proactive chats open the visitor's widget, and another
//! organization sees none of it.

use crate::common::*;
use frontdesk_core::protocol::*;
use serde_json::{Value, json};

on_both_backends!(
    a_page_change_reaches_agents_and_the_trail,
    live_visitors_follow_the_widget_socket_per_tenant,
    visitors_reconnecting_all_at_once_stay_live,
    proactive_chat_opens_the_widget_with_one_conversation,
    a_configured_geoip_database_gives_a_location,
);

async fn session(t: &TestServer, site_key: &str, token: Option<&str>, url: &str) -> Value {
    let mut b = Browser::new(&t.url);
    let (status, body) = b
        .post(
            "/api/v1/widget/session",
            json!({"site_key": site_key, "token": token, "context": {"url": url, "title": "Page", "language": "de-DE", "timezone": "Europe/Berlin"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn a_page_change_reaches_agents_and_the_trail(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let other = tenant(&t, "b").await;
    let admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let stranger = Browser::login(&t.url, &other.admin_email, PASSWORD).await;
    let mut agent = Client::agent(&t, &admin).await;
    let s = session(
        &t,
        &ten.site_key,
        None,
        "https://shop.test/?utm_source=news&utm_medium=email",
    )
    .await;
    let token = s["token"].as_str().unwrap();
    let contact = s["contact_id"].as_str().unwrap().to_owned();
    agent
        .expect(|f| matches!(f, ServerFrame::VisitorPage { .. }))
        .await;
    session(&t, &ten.site_key, Some(token), "https://shop.test/pricing").await;
    let f = agent
        .expect(|f| matches!(f, ServerFrame::VisitorPage { page, .. } if page.url.ends_with("/pricing")))
        .await;
    let ServerFrame::VisitorPage { contact_id, .. } = f else {
        unreachable!()
    };
    assert_eq!(contact_id.as_str(), contact);

    let (status, d) = admin
        .get(&format!("/api/v1/contacts/{contact}/visit"))
        .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["current_url"], "https://shop.test/pricing");
    assert_eq!(d["utm"]["source"], "news");
    assert_eq!(d["utm"]["medium"], "email");
    assert_eq!(d["language"], "de-DE");
    assert_eq!(d["timezone"], "Europe/Berlin");
    assert_eq!(d["location"], Value::Null, "no GeoIP database: no location");
    assert_eq!(d["visit_count"], 1);
    let pages: Vec<&str> = d["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        pages,
        [
            "https://shop.test/pricing",
            "https://shop.test/?utm_source=news&utm_medium=email"
        ]
    );

    // Another organization: not found, and no events.
    let (status, e) = stranger
        .get(&format!("/api/v1/contacts/{contact}/visit"))
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (404, Some("not_found")),
        "{e}"
    );
    let (status, _) = admin.get("/api/v1/contacts/not-an-id/visit").await;
    assert_eq!(status, 404);
}

async fn live_visitors_follow_the_widget_socket_per_tenant(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let other = tenant(&t, "b").await;
    let admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let stranger = Browser::login(&t.url, &other.admin_email, PASSWORD).await;
    let token = visitor_token(&t, &ten.site_key).await;
    let (_, list) = admin.get("/api/v1/visitors").await;
    assert_eq!(list, json!([]), "a session without a socket is not live");
    let mut v = Client::visitor(&t, &token).await;
    let (status, list) = admin.get("/api/v1/visitors").await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["current_url"], "https://shop.test/pricing");
    assert_eq!(list[0]["visit_count"], 1);
    let (_, theirs) = stranger.get("/api/v1/visitors").await;
    assert_eq!(theirs, json!([]), "tenant scoped");
    v.send(json!({"type":"ping"})).await;
    v.expect(|f| matches!(f, ServerFrame::Pong)).await;
    drop(v);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (_, list) = admin.get("/api/v1/visitors").await;
        if list == json!([]) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still live after the socket closed: {list}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Presence is written in batches: sockets that open together share a write, a visitor whose
/// old socket closes as the new one opens stays live, and closing them all ends every lease.
async fn visitors_reconnecting_all_at_once_stay_live(backend: Backend) {
    const N: usize = 30;
    // Every socket comes from one address here.
    let t = TestServer::start_with(backend, |c| c.connections_per_minute_per_ip = 0).await;
    let ten = tenant(&t, "a").await;
    let admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let mut tokens = Vec::new();
    for _ in 0..N {
        tokens.push(visitor_token(&t, &ten.site_key).await);
    }
    let live = || async {
        let (status, list) = admin.get("/api/v1/visitors").await;
        assert_eq!(status, 200);
        list.as_array().unwrap().len()
    };
    let open_all = || futures_util::future::join_all(tokens.iter().map(|k| Client::visitor(&t, k)));
    // A visitor's socket is live once its welcome arrives (`Client::visitor` waits for it).
    let first = open_all().await;
    assert_eq!(live().await, N);
    // Every visitor drops and comes back at once: old sockets close as new ones open.
    let (second, ()) = tokio::join!(open_all(), async move { drop(first) });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while std::time::Instant::now() < deadline {
        assert_eq!(live().await, N, "a visitor who came back is still live");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drop(second);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while live().await != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "still live after every socket closed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn proactive_chat_opens_the_widget_with_one_conversation(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let other = tenant(&t, "b").await;
    let mut admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let mut stranger = Browser::login(&t.url, &other.admin_email, PASSWORD).await;
    let s = session(&t, &ten.site_key, None, "https://shop.test/").await;
    let token = s["token"].as_str().unwrap().to_owned();
    let contact = s["contact_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/visitors/{contact}/chat");

    // Not connected: a typed refusal, and nothing stored.
    let (status, e) = admin
        .post(&path, json!({"client_id":"p1","text":"Hello!"}))
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("visitor_offline")),
        "{e}"
    );

    let mut v = Client::visitor(&t, &token).await;
    let (status, e) = admin
        .post(&path, json!({"client_id":"p1","text":"   "}))
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (422, Some("message_empty")),
        "{e}"
    );
    let (status, e) = stranger
        .post(&path, json!({"client_id":"p1","text":"Hi"}))
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (404, Some("not_found")),
        "{e}"
    );

    let (status, c) = admin
        .post(
            &path,
            json!({"client_id":"p1","text":"Hello! Need a hand?"}),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["status"], "assigned");
    let conv = c["id"].as_str().unwrap().to_owned();
    // A retry (double click) starts nothing new.
    let (status, again) = admin
        .post(
            &path,
            json!({"client_id":"p1","text":"Hello! Need a hand?"}),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], conv.as_str());

    let m = v
        .expect(|f| matches!(f, ServerFrame::Message { message } if message.text == "Hello! Need a hand?"))
        .await;
    let ServerFrame::Message { message } = m else {
        unreachable!()
    };
    assert_eq!(message.conversation_id.as_str(), conv);
    let o = v
        .expect(|f| matches!(f, ServerFrame::OpenWidget { .. }))
        .await;
    let ServerFrame::OpenWidget { conversation_id } = o else {
        unreachable!()
    };
    assert_eq!(conversation_id.as_str(), conv);

    // Exactly one conversation, holding the message once, and the visitor's reply lands in it.
    let (_, page) = admin.get("/api/v1/conversations?tab=all").await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [conv.as_str()]);
    let history = v.sync(&conv, 0).await;
    assert_eq!(
        history
            .iter()
            .filter(|m| m.text == "Hello! Need a hand?")
            .count(),
        1
    );
    let reply = v.say("v1", None, "Yes please").await.unwrap();
    assert_eq!(reply.conversation_id.as_str(), conv);
}

async fn a_configured_geoip_database_gives_a_location(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.mmdb");
    std::fs::write(
        &path,
        frontdesk_server::geoip::testdata::tiny_test_database(),
    )
    .unwrap();
    let t =
        TestServer::start_with(backend, |c| c.geoip_db = path.to_str().unwrap().to_owned()).await;
    let ten = tenant(&t, "a").await;
    let admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let s = session(&t, &ten.site_key, None, "https://shop.test/").await;
    let contact = s["contact_id"].as_str().unwrap();
    let (status, d) = admin
        .get(&format!("/api/v1/contacts/{contact}/visit"))
        .await;
    assert_eq!(status, 200, "{d}");
    // The tests connect from 127.0.0.1, inside the database's 0.0.0.0/1.
    assert_eq!(d["location"], "Testville, Testland");
}
