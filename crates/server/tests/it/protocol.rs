//! Protocol tests over real sockets against a real server, on both databases.

use crate::common::*;
use frontdesk_core::ErrorCode;
use frontdesk_core::protocol::*;
use serde_json::json;

on_both_backends!(
    retried_send_is_stored_once_and_acked_with_the_same_message,
    reconnect_resumes_with_no_gap,
    concurrent_senders_share_one_order_seen_live_by_agents,
    notes_never_reach_the_visitor,
    acknowledged_messages_survive_a_restart,
    agent_flow_take_reply_resolve_and_reopen,
    typing_previews_reach_agents_only_clipped_and_unstored,
);

async fn open_conversation(t: &TestServer, v: &mut Client) -> String {
    let m = v.say("first", None, "Hello").await.unwrap();
    let _ = t;
    m.conversation_id.0
}

async fn retried_send_is_stored_once_and_acked_with_the_same_message(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    let first = v.say("retry-me", None, "Where is my order?").await.unwrap();
    // The same client id again, on the same socket and on a new one (a reconnect).
    let again = v.say("retry-me", None, "Where is my order?").await.unwrap();
    let mut v2 = Client::visitor(&t, &token).await;
    let third = v2
        .say(
            "retry-me",
            Some(&first.conversation_id.0),
            "Where is my order?",
        )
        .await
        .unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(first.id, third.id);
    assert_eq!(first.seq, third.seq);
    let history = v2.sync(&first.conversation_id.0, 0).await;
    assert_eq!(
        history
            .iter()
            .filter(|m| m.text == "Where is my order?")
            .count(),
        1
    );
    t.stop().await;
}

async fn reconnect_resumes_with_no_gap(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    let conv = open_conversation(&t, &mut v).await;
    let agent = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let mut a = Client::agent(&t, &agent).await;
    // The visitor has seen everything so far; then drops.
    let seen: Vec<i64> = v.sync(&conv, 0).await.iter().map(|m| m.seq).collect();
    let last = *seen.last().unwrap();
    drop(v);
    // While away, the agent writes replies and a note.
    for i in 0..5 {
        a.say(&format!("r{i}"), Some(&conv), &format!("reply {i}"))
            .await
            .unwrap();
    }
    a.send(json!({"type":"send","client_id":"n1","conversation_id":conv,"text":"internal","note":true})).await;
    a.expect(|f| matches!(f, ServerFrame::Ack { .. })).await;
    a.say("r5", Some(&conv), "reply 5").await.unwrap();
    // Back: resume from the last seq seen.
    let mut v = Client::visitor(&t, &token).await;
    let missed = v.sync(&conv, last).await;
    let seqs: Vec<i64> = missed.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        ((last + 1)..=(last + seqs.len() as i64)).collect::<Vec<_>>(),
        "no gap, no repeat"
    );
    let texts: Vec<&str> = missed.iter().map(|m| m.text.as_str()).collect();
    for i in 0..6 {
        assert!(texts.contains(&format!("reply {i}").as_str()), "{texts:?}");
    }
    assert!(!texts.contains(&"internal"));
    // Live events follow the resume.
    a.say("r6", Some(&conv), "live one").await.unwrap();
    let live = v
        .expect(|f| matches!(f, ServerFrame::Message { message } if message.text == "live one"))
        .await;
    if let ServerFrame::Message { message } = live {
        assert_eq!(message.seq, last + seqs.len() as i64 + 1);
    }
    t.stop().await;
}

async fn concurrent_senders_share_one_order_seen_live_by_agents(backend: Backend) {
    let t = TestServer::start_with(backend, |c| c.visitor_sends_per_second = 0).await;
    let org = tenant(&t, "a").await;
    let agent = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let mut watcher = Client::agent(&t, &agent).await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    let conv = open_conversation(&t, &mut v).await;
    // Three visitor tabs and two agent sockets all send at once.
    let per = 20;
    let mut tasks = Vec::new();
    for tab in 0..3 {
        let url = t.ws_url("/ws/visitor");
        let token = token.clone();
        let conv = conv.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(&url, None, None).await.unwrap();
            c.send(json!({"type":"hello","v":1,"token":token})).await;
            c.expect(|f| matches!(f, ServerFrame::Welcome { .. })).await;
            for i in 0..per {
                c.say(&format!("v{tab}-{i}"), Some(&conv), &format!("v{tab}-{i}"))
                    .await
                    .unwrap();
            }
        }));
    }
    for n in 0..2 {
        let url = t.ws_url("/ws/agent");
        let (origin, cookie, conv) = (t.url.clone(), agent.cookie.clone(), conv.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(&url, Some(&origin), cookie.as_deref())
                .await
                .unwrap();
            c.send(json!({"type":"hello","v":1,"token":null})).await;
            c.expect(|f| matches!(f, ServerFrame::Welcome { .. })).await;
            for i in 0..per {
                c.say(&format!("a{n}-{i}"), Some(&conv), &format!("a{n}-{i}"))
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // The agent watching live saw every message once, in seq order, with no gap.
    let total = 1 + 5 * per + 1; // first message, 100 sends, one "joined" system message
    let mut live = Vec::new();
    while live.len() < total as usize {
        if let ServerFrame::Message { message } = watcher.next().await.unwrap() {
            live.push(message);
        }
    }
    let seqs: Vec<i64> = live.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=total).collect::<Vec<_>>());
    // Each sender's messages kept their order.
    for prefix in ["v0-", "v1-", "v2-", "a0-", "a1-"] {
        let mine: Vec<i64> = live
            .iter()
            .filter_map(|m| m.text.strip_prefix(prefix).map(|n| n.parse().unwrap()))
            .collect();
        assert_eq!(mine, (0..per).collect::<Vec<_>>(), "{prefix}");
    }
    t.stop().await;
}

async fn notes_never_reach_the_visitor(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    let conv = open_conversation(&t, &mut v).await;
    let agent = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let mut a = Client::agent(&t, &agent).await;
    a.send(json!({"type":"send","client_id":"n1","conversation_id":conv,"text":"VIP, be nice","note":true})).await;
    let note = a.expect(|f| matches!(f, ServerFrame::Ack { .. })).await;
    assert!(
        matches!(note, ServerFrame::Ack { message, .. } if message.kind == MessageKind::Note && message.public_seq.is_none())
    );
    a.say("r1", Some(&conv), "visible reply").await.unwrap();
    v.expect(|f| matches!(f, ServerFrame::Message { message } if message.text == "visible reply"))
        .await;
    let synced = v.sync(&conv, 0).await;
    let all_seen: Vec<&ServerFrame> = v.seen.iter().collect();
    let leaked = all_seen
        .iter()
        .any(|f| serde_json::to_string(f).unwrap().contains("VIP, be nice"));
    assert!(!leaked, "a note reached the visitor");
    assert!(synced.iter().all(|m| m.kind != MessageKind::Note));
    // Visitors cannot write notes.
    v.send(json!({"type":"send","client_id":"vn","conversation_id":conv,"text":"x","note":true}))
        .await;
    let e = v.expect(|f| matches!(f, ServerFrame::Error { .. })).await;
    assert!(matches!(
        e,
        ServerFrame::Error {
            code: ErrorCode::Forbidden,
            ..
        }
    ));
    // The REST history an agent reads does include the note.
    let (_, page) = agent
        .get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["kind"] == "note")
    );
    t.stop().await;
}

async fn acknowledged_messages_survive_a_restart(backend: Backend) {
    let mut t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    let mut acked = Vec::new();
    for i in 0..20 {
        acked.push(
            v.say(&format!("m{i}"), None, &format!("message {i}"))
                .await
                .unwrap(),
        );
    }
    drop(v);
    t.restart().await;
    let mut v = Client::visitor(&t, &token).await;
    let history = v.sync(&acked[0].conversation_id.0, 0).await;
    for m in &acked {
        assert_eq!(
            history
                .iter()
                .filter(|h| h.id == m.id && h.seq == m.seq)
                .count(),
            1,
            "{}",
            m.text
        );
    }
    t.stop().await;
}

async fn agent_flow_take_reply_resolve_and_reopen(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    let conv = open_conversation(&t, &mut v).await;
    let mut admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let mut agent = Browser::login(&t.url, &org.agent_email, PASSWORD).await;
    let (_, counts) = admin.get("/api/v1/inbox/counts").await;
    assert_eq!(counts["unassigned"], 1);
    let (_, page) = admin.get("/api/v1/conversations?tab=unassigned").await;
    assert_eq!(page["items"][0]["id"], conv.as_str());
    let (status, c) = admin
        .post(&format!("/api/v1/conversations/{conv}/take"), json!({}))
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["status"], "assigned");
    let (status, e) = agent
        .post(&format!("/api/v1/conversations/{conv}/take"), json!({}))
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("already_assigned"))
    );
    // The visitor hears who joined.
    v.expect(|f| matches!(f, ServerFrame::VisitorConversation { conversation } if conversation.agent_name.as_deref() == Some("Admin a")))
        .await;
    let (status, m) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_id":"rest-1","text":"Hi there"}),
        )
        .await;
    assert_eq!(status, 200, "{m}");
    v.expect(|f| matches!(f, ServerFrame::Message { message } if message.text == "Hi there"))
        .await;
    let (status, _) = admin
        .post(&format!("/api/v1/conversations/{conv}/resolve"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, e) = admin
        .post(&format!("/api/v1/conversations/{conv}/resolve"), json!({}))
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    let (_, page) = admin.get("/api/v1/conversations?tab=resolved").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    // A new visitor message reopens it.
    v.say("again", Some(&conv), "Sorry, one more question")
        .await
        .unwrap();
    let (_, d) = admin.get(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(d["conversation"]["status"], "assigned");
    assert_eq!(d["contact"]["current_url"], "https://shop.test/pricing");
    let (status, _) = admin
        .post(&format!("/api/v1/conversations/{conv}/resolve"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, c) = admin
        .post(&format!("/api/v1/conversations/{conv}/reopen"), json!({}))
        .await;
    assert_eq!((status, c["status"].as_str()), (200, Some("assigned")));
    // Assign to a colleague, then return to the queue.
    let (_, agents) = admin.get("/api/v1/agents").await;
    let bob = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == org.agent_email.as_str())
        .unwrap()["id"]
        .clone();
    let (status, c) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/assign"),
            json!({"agent_id": bob}),
        )
        .await;
    assert_eq!(
        (status, c["assignee_name"].as_str()),
        (200, Some("Agent a"))
    );
    let (status, c) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/assign"),
            json!({"agent_id": null}),
        )
        .await;
    assert_eq!((status, c["status"].as_str()), (200, Some("open")));
    t.stop().await;
}

/// An agent socket that stops reading is cut off once its queue is full; the other agent socket
/// gets every message. What the server holds for it is bounded by its queue (1 MiB).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_is_cut_off_without_slowing_others() {
    use futures_util::StreamExt;
    let t = TestServer::start_with(Backend::Sqlite, |c| c.visitor_sends_per_second = 0).await;
    let org = tenant(&t, "a").await;
    let agent = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let mut slow = Client::agent(&t, &agent).await; // says hello, then never reads again
    let mut fast = Client::agent(&t, &agent).await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    let text = "x".repeat(4_000);
    let n = 1_500;
    let reader = tokio::spawn(async move {
        let mut got = 0;
        while got < n {
            if let Some(ServerFrame::Message { .. }) = fast.next().await {
                got += 1;
            }
        }
        got
    });
    for i in 0..n {
        v.say(&format!("m{i}"), None, &text).await.unwrap();
    }
    assert_eq!(
        reader.await.unwrap(),
        n,
        "the reading agent got every message"
    );
    // The slow socket was closed by the server: draining it ends in a close, not more frames.
    let mut frames = 0usize;
    loop {
        match tokio::time::timeout(WAIT, slow.ws.next())
            .await
            .expect("the slow socket was never closed")
        {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(_))) => frames += 1,
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    assert!(
        frames < 2 * n,
        "it was cut off before receiving everything ({frames} frames)"
    );
    t.stop().await;
}

async fn typing_previews_reach_agents_only_clipped_and_unstored(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    let conv = open_conversation(&t, &mut v).await;
    let mut admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let mut a = Client::agent(&t, &admin).await;
    // The visitor's draft reaches the agent as text, clipped, and is not a message.
    let long = "<b>where</b> is my order ".repeat(40);
    v.send(json!({"type": "typing", "conversation_id": conv, "typing": true, "preview": long}))
        .await;
    let f = a
        .expect(|f| {
            matches!(
                f,
                ServerFrame::Typing {
                    side: Side::Visitor,
                    preview: Some(_),
                    ..
                }
            )
        })
        .await;
    let ServerFrame::Typing {
        preview: Some(p), ..
    } = f
    else {
        unreachable!()
    };
    assert_eq!(p.chars().count(), MAX_TYPING_PREVIEW_CHARS);
    assert!(long.starts_with(&p), "passed on as typed, never rewritten");
    // Stopping clears the preview.
    v.send(json!({"type": "typing", "conversation_id": conv, "typing": false, "preview": "x"}))
        .await;
    a.expect(|f| {
        matches!(
            f,
            ServerFrame::Typing {
                side: Side::Visitor,
                typing: false,
                preview: None,
                ..
            }
        )
    })
    .await;
    let (_, msgs) = admin
        .get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    assert_eq!(
        msgs["items"].as_array().unwrap().len(),
        1,
        "a draft is never stored"
    );
    // An agent's preview is dropped: the visitor never sees an agent's draft.
    let (status, _) = admin
        .post(&format!("/api/v1/conversations/{conv}/take"), json!({}))
        .await;
    assert_eq!(status, 200);
    a.send(json!({"type": "typing", "conversation_id": conv, "typing": true, "preview": "half a thought"}))
        .await;
    let f = v
        .expect(|f| {
            matches!(
                f,
                ServerFrame::Typing {
                    side: Side::Agent,
                    ..
                }
            )
        })
        .await;
    assert!(
        matches!(f, ServerFrame::Typing { preview: None, .. }),
        "{f:?}"
    );
    t.stop().await;
}
