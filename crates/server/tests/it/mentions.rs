//! `@name` in an internal note: the colleague is told and finds it in their mentions list;
//! the visitor never sees any of it.

use crate::common::*;
use frontdesk_core::protocol::*;
use frontdesk_core::teams::NoticeKind;
use serde_json::json;

on_both_backends!(a_note_naming_a_colleague_reaches_them_and_their_mentions_list);

async fn a_note_naming_a_colleague_reaches_them_and_their_mentions_list(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    let conv = v
        .say("c1", None, "Refund please")
        .await
        .unwrap()
        .conversation_id
        .0;
    let mut admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let agent = Browser::login(&t.url, &org.agent_email, PASSWORD).await;
    let mut bob = Client::agent(&t, &agent).await;
    let note = json!({"client_id": "n1", "text": "@agent a can you check the refund? (not billing@agent a)", "note": true});
    for _ in 0..2 {
        // A retry of the same note mentions once.
        let (status, _) = admin
            .post(
                &format!("/api/v1/conversations/{conv}/messages"),
                note.clone(),
            )
            .await;
        assert_eq!(status, 200);
    }
    let f = bob
        .expect(|f| {
            matches!(
                f,
                ServerFrame::Notice {
                    kind: NoticeKind::Mention,
                    ..
                }
            )
        })
        .await;
    let ServerFrame::Notice {
        by_name,
        text,
        conversation_id,
        ..
    } = f
    else {
        unreachable!()
    };
    assert_eq!(
        (by_name.as_deref(), conversation_id.0.as_str()),
        (Some("Admin a"), conv.as_str())
    );
    assert!(text.unwrap().contains("check the refund"));
    let (status, list) = agent.get("/api/v1/mentions").await;
    assert_eq!(status, 200);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(
        (list[0]["read"].as_bool(), list[0]["by_name"].as_str()),
        (Some(false), Some("Admin a"))
    );
    // Opening the conversation reads it; the author is never mentioned by themselves.
    assert_eq!(
        agent.get(&format!("/api/v1/conversations/{conv}")).await.0,
        200
    );
    assert_eq!(agent.get("/api/v1/mentions").await.1[0]["read"], true);
    assert_eq!(
        admin
            .get("/api/v1/mentions")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // A reply (not a note) mentions nobody, and the visitor saw no note and no notice.
    let (status, _) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_id": "r1", "text": "@agent a hi"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        agent
            .get("/api/v1/mentions")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    v.expect(|f| matches!(f, ServerFrame::Message { message } if message.text == "@agent a hi"))
        .await;
    assert!(!v.seen.iter().any(|f| matches!(f, ServerFrame::Notice { .. })
        || matches!(f, ServerFrame::Message { message } if message.text.contains("refund?"))));
    t.stop().await;
}
