//! Banning visitors: by identity and by address, with an expiry; a banned visitor is refused
//! politely on every door (session, socket) and cut off at once; supervisors lift bans.

use crate::common::*;
use frontdesk_core::ErrorCode;
use frontdesk_core::protocol::*;
use serde_json::{Value, json};

on_both_backends!(
    a_banned_visitor_is_cut_off_and_refused_everywhere,
    an_address_ban_refuses_newcomers_from_it,
    bans_expire_are_listed_and_lifted_by_supervisors_only,
);

async fn session(t: &TestServer, site_key: &str, token: Option<&str>) -> (u16, Value) {
    Browser::new(&t.url)
        .post(
            "/api/v1/widget/session",
            json!({"site_key": site_key, "token": token}),
        )
        .await
}

async fn chatting_visitor(t: &TestServer, site_key: &str) -> (Client, String, String) {
    let token = visitor_token(t, site_key).await;
    let mut v = Client::visitor(t, &token).await;
    let conv = v.say("c1", None, "hello").await.unwrap().conversation_id.0;
    (v, token, conv)
}

async fn a_banned_visitor_is_cut_off_and_refused_everywhere(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let (mut v, token, conv) = chatting_visitor(&t, &org.site_key).await;
    let mut agent = Browser::login(&t.url, &org.agent_email, PASSWORD).await;
    // Bad requests are refused with a typed error and ban nobody.
    for bad in [
        json!({"reason": "  ", "days": 7}),
        json!({"reason": "spam", "days": 0}),
    ] {
        let (status, e) = agent
            .post(&format!("/api/v1/conversations/{conv}/ban"), bad)
            .await;
        assert_eq!(
            (status, e["code"].as_str()),
            (422, Some("invalid_settings")),
            "{e}"
        );
    }
    assert_eq!(session(&t, &org.site_key, Some(&token)).await.0, 200);
    let (status, ban) = agent
        .post(
            &format!("/api/v1/conversations/{conv}/ban"),
            json!({"reason": "abusive language", "days": 7}),
        )
        .await;
    assert_eq!(status, 200, "{ban}");
    assert_eq!(ban["reason"], "abusive language");
    assert_eq!(ban["ip"], Value::Null);
    let days =
        (ban["expires_at"].as_i64().unwrap() - ban["created_at"].as_i64().unwrap()) / 86_400_000;
    assert_eq!(days, 7);
    // The open socket is cut off at once (`closed` panics if it stays open).
    let code = v.closed().await;
    assert_ne!(code, Some(1000), "cut off, not a normal goodbye: {code:?}");
    // Every door is closed to them now, politely.
    let (status, e) = session(&t, &org.site_key, Some(&token)).await;
    assert_eq!((status, e["code"].as_str()), (403, Some("banned")), "{e}");
    let mut again = Client::connect(&t.ws_url("/ws/visitor"), None, None)
        .await
        .unwrap();
    again
        .send(json!({"type": "hello", "v": 1, "token": token}))
        .await;
    let f = again
        .expect(|f| matches!(f, ServerFrame::Error { .. }))
        .await;
    assert!(
        matches!(
            f,
            ServerFrame::Error {
                code: ErrorCode::Banned,
                ..
            }
        ),
        "{f:?}"
    );
    assert_eq!(again.closed().await, Some(1008));
    // The ban is on record in the conversation, for agents only.
    let (_, msgs) = agent
        .get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    let note = msgs["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(note["kind"], "note");
    assert!(
        note["text"]
            .as_str()
            .unwrap()
            .contains("for 7 days: abusive language"),
        "{note}"
    );
    // Another organization cannot ban this visitor.
    let other = tenant(&t, "b").await;
    let mut stranger = Browser::login(&t.url, &other.admin_email, PASSWORD).await;
    let (status, _) = stranger
        .post(
            &format!("/api/v1/conversations/{conv}/ban"),
            json!({"reason": "x", "days": null}),
        )
        .await;
    assert_eq!(status, 404);
    t.stop().await;
}

async fn an_address_ban_refuses_newcomers_from_it(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let (_v, _token, conv) = chatting_visitor(&t, &org.site_key).await;
    let mut agent = Browser::login(&t.url, &org.agent_email, PASSWORD).await;
    // Without the address: a new visitor from the same address is welcome.
    let (_v2, _t2, conv2) = chatting_visitor(&t, &org.site_key).await;
    let (status, _) = agent
        .post(
            &format!("/api/v1/conversations/{conv2}/ban"),
            json!({"reason": "spam", "days": 1}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(session(&t, &org.site_key, None).await.0, 200);
    // With it: nobody new from that address gets a session.
    let (status, ban) = agent
        .post(
            &format!("/api/v1/conversations/{conv}/ban"),
            json!({"reason": "bot flood", "days": null, "ip": true}),
        )
        .await;
    assert_eq!(status, 200, "{ban}");
    assert_eq!(ban["ip"], "127.0.0.1");
    assert_eq!(ban["expires_at"], Value::Null);
    let (status, e) = session(&t, &org.site_key, None).await;
    assert_eq!((status, e["code"].as_str()), (403, Some("banned")));
    // Another organization's widget is not affected.
    let other = tenant(&t, "b").await;
    assert_eq!(session(&t, &other.site_key, None).await.0, 200);
    t.stop().await;
}

async fn bans_expire_are_listed_and_lifted_by_supervisors_only(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let (_v, token, conv) = chatting_visitor(&t, &org.site_key).await;
    let admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let mut agent = Browser::login(&t.url, &org.agent_email, PASSWORD).await;
    let (status, ban) = agent
        .post(
            &format!("/api/v1/conversations/{conv}/ban"),
            json!({"reason": "spam", "days": 30}),
        )
        .await;
    assert_eq!(status, 200);
    let id = ban["id"].as_str().unwrap().to_owned();
    // Agents ban; supervisors and admins see and lift bans.
    assert_eq!(agent.get("/api/v1/bans").await.0, 403);
    assert_eq!(agent.delete(&format!("/api/v1/bans/{id}")).await.0, 403);
    let (status, list) = admin.get("/api/v1/bans").await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["created_by_name"], "Agent a");
    assert_eq!(admin.delete(&format!("/api/v1/bans/{id}")).await.0, 204);
    assert_eq!(admin.delete(&format!("/api/v1/bans/{id}")).await.0, 404);
    assert_eq!(session(&t, &org.site_key, Some(&token)).await.0, 200);
    // A ban past its expiry no longer holds, and is not listed.
    let (_, me) = admin.get("/api/v1/me").await;
    let (_, s) = session(&t, &org.site_key, Some(&token)).await;
    let contact = frontdesk_core::ContactId(s["contact_id"].as_str().unwrap().into());
    let org_id = frontdesk_core::OrganizationId(org.org_id.clone());
    let by = frontdesk_core::AgentId(me["id"].as_str().unwrap().into());
    let now = frontdesk_store::now_ms();
    t.store()
        .create_ban(&frontdesk_store::NewBan {
            organization_id: &org_id,
            contact_id: &contact,
            ip: None,
            reason: "old",
            created_by: &by,
            created_at: now - 10_000,
            expires_at: Some(now - 1),
        })
        .await
        .unwrap();
    assert_eq!(session(&t, &org.site_key, Some(&token)).await.0, 200);
    assert_eq!(
        admin.get("/api/v1/bans").await.1.as_array().unwrap().len(),
        0
    );
    let _ = agent;
    t.stop().await;
}
