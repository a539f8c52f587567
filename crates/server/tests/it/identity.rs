//! The JS SDK over the real API and sockets, on both databases: identity verification (a valid
//! hash binds the visitor to the user's contact and shows only their conversations; a forged,
//! missing or replayed hash leaves the visitor who they were, with a typed error), identify with
//! verification off (never a switch by id), the admins' switch and secret (roles, CSRF,
//! tenants), and custom attributes and tracked events from the widget.

use crate::common::*;
use frontdesk_core::identity::identity_hash;
use frontdesk_core::protocol::*;
use serde_json::{Value, json};

on_both_backends!(
    a_verified_user_sees_their_conversations_on_another_device_and_no_one_elses,
    forged_missing_and_replayed_hashes_leave_the_visitor_anonymous,
    without_verification_identify_never_switches_by_id,
    only_admins_of_the_site_switch_verification_and_see_the_secret,
    attributes_and_events_land_on_the_contact_with_typed_errors,
);

/// A widget call with the visitor token as `Authorization: Bearer`.
async fn widget(t: &TestServer, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/widget/{path}", t.url))
        .header("authorization", format!("Bearer {token}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[track_caller]
fn problem(got: &(u16, Value), status: u16, code: &str) {
    assert_eq!(
        (got.0, got.1["code"].as_str()),
        (status, Some(code)),
        "{}",
        got.1
    );
}

#[track_caller]
fn ok(got: &(u16, Value)) -> &Value {
    assert_eq!(got.0, 200, "{}", got.1);
    &got.1
}

async fn site_id(admin: &Browser) -> String {
    let (_, sites) = admin.get("/api/v1/websites").await;
    sites[0]["id"].as_str().unwrap().to_owned()
}

/// Turns verification on for the tenant's site; returns `(site id, secret)`.
async fn enable(t: &TestServer, ten: &Tenant) -> (String, String) {
    let admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let site = site_id(&admin).await;
    let got = admin
        .put(
            &format!("/api/v1/websites/{site}/identity"),
            json!({"enabled": true}),
        )
        .await;
    let secret = ok(&got)["secret"].as_str().unwrap().to_owned();
    assert_eq!(got.1["enabled"], true);
    (site, secret)
}

/// The contact a visitor token names now (the session says).
async fn contact_of(t: &TestServer, site_key: &str, token: &str) -> String {
    let (status, s) = Browser::new(&t.url)
        .post(
            "/api/v1/widget/session",
            json!({"site_key": site_key, "token": token, "context": {}}),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    s["contact_id"].as_str().unwrap().to_owned()
}

/// The conversation a visitor's socket welcomes them with, and its visible texts.
async fn welcome(t: &TestServer, token: &str) -> Option<(String, Vec<String>)> {
    let mut v = Client::visitor(t, token).await;
    let conv = v.seen.iter().find_map(|f| match f {
        ServerFrame::Welcome { conversation, .. } => Some(conversation.clone()),
        _ => None,
    });
    let conv = conv.expect("a welcome")?;
    let texts = v
        .sync(&conv.id.0, 0)
        .await
        .into_iter()
        .map(|m| m.text)
        .collect();
    Some((conv.id.0, texts))
}

async fn a_verified_user_sees_their_conversations_on_another_device_and_no_one_elses(
    backend: Backend,
) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let (_, secret) = enable(&t, &ten).await;

    // Laptop: an anonymous visitor logs in as user-1 and writes.
    let laptop = visitor_token(&t, &ten.site_key).await;
    let anon = contact_of(&t, &ten.site_key, &laptop).await;
    let got = widget(&t, &laptop, "identify", json!({"id": "user-1", "name": "Ann", "email": "ann@x.test", "hash": identity_hash(&secret, "user-1")})).await;
    let r = ok(&got);
    assert_eq!(r["verified"], true);
    // A contact bound to nobody becomes the user's.
    assert_eq!(r["contact_id"].as_str(), Some(anon.as_str()));
    let t1 = r["token"].as_str().unwrap().to_owned();
    let mut v = Client::visitor(&t, &t1).await;
    let m = v.say("c1", None, "Secret of user 1").await.unwrap();

    // Phone: a new browser, the same user: the same contact, their conversation and history.
    let phone = visitor_token(&t, &ten.site_key).await;
    let got = widget(
        &t,
        &phone,
        "identify",
        json!({"id": "user-1", "hash": identity_hash(&secret, "user-1")}),
    )
    .await;
    let r = ok(&got);
    assert_eq!(r["contact_id"].as_str(), Some(anon.as_str()));
    let t2 = r["token"].as_str().unwrap().to_owned();
    let (conv, texts) = welcome(&t, &t2).await.expect("the user's conversation");
    assert_eq!(conv, m.conversation_id.0);
    assert_eq!(texts, vec!["Secret of user 1".to_owned()]);
    // The name and email landed on the user's contact.
    let agent = Browser::login(&t.url, &ten.agent_email, PASSWORD).await;
    let (_, c) = agent.get(&format!("/api/v1/contacts/{anon}")).await;
    assert_eq!(
        (
            c["contact"]["name"].as_str(),
            c["contact"]["email"].as_str()
        ),
        (Some("Ann"), Some("ann@x.test")),
        "{c}"
    );

    // The same phone, now as user-2 (after user-1 without logging out): another contact, with
    // none of user-1's conversations.
    let got = widget(
        &t,
        &t2,
        "identify",
        json!({"id": "user-2", "hash": identity_hash(&secret, "user-2")}),
    )
    .await;
    let r = ok(&got);
    assert_ne!(r["contact_id"].as_str(), Some(anon.as_str()));
    assert_eq!(welcome(&t, r["token"].as_str().unwrap()).await, None);
}

async fn forged_missing_and_replayed_hashes_leave_the_visitor_anonymous(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let (site, secret) = enable(&t, &ten).await;
    // user-1 has a conversation.
    let victim = visitor_token(&t, &ten.site_key).await;
    let got = widget(
        &t,
        &victim,
        "identify",
        json!({"id": "user-1", "hash": identity_hash(&secret, "user-1")}),
    )
    .await;
    let vt = ok(&got)["token"].as_str().unwrap().to_owned();
    Client::visitor(&t, &vt)
        .await
        .say("c1", None, "Private")
        .await
        .unwrap();

    let attacker = visitor_token(&t, &ten.site_key).await;
    let mine = contact_of(&t, &ten.site_key, &attacker).await;
    let tries = [
        json!({"id": "user-1"}),
        json!({"id": "user-1", "hash": null}),
        json!({"id": "user-1", "hash": ""}),
        json!({"id": "user-1", "hash": "0".repeat(64)}),
        json!({"id": "user-1", "hash": "not hex"}),
        // Replayed: a valid hash, for another id.
        json!({"id": "user-1", "hash": identity_hash(&secret, "user-2")}),
        // Made with another secret (another site's, or a guess).
        json!({"id": "user-1", "hash": identity_hash("guess", "user-1")}),
        json!({"id": " user-1", "hash": identity_hash(&secret, "user-1 ")}),
    ];
    for body in tries {
        let got = widget(&t, &attacker, "identify", body.clone()).await;
        problem(&got, 403, "identity_invalid");
        assert!(got.1.get("token").is_none(), "{body}: {}", got.1);
    }
    // Still the same anonymous visitor, with no conversation.
    assert_eq!(contact_of(&t, &ten.site_key, &attacker).await, mine);
    assert_eq!(welcome(&t, &attacker).await, None);
    // Malformed ids are typed errors too, and bodies are checked.
    problem(
        &widget(&t, &attacker, "identify", json!({"id": ""})).await,
        403,
        "identity_invalid",
    );
    problem(
        &widget(
            &t,
            &attacker,
            "identify",
            json!({"id": "x".repeat(201), "hash": identity_hash(&secret, &"x".repeat(201))}),
        )
        .await,
        403,
        "identity_invalid",
    );
    problem(
        &widget(&t, &attacker, "identify", json!({"id": "u", "admin": true})).await,
        400,
        "invalid_json",
    );
    problem(
        &widget(
            &t,
            "forged.token",
            "identify",
            json!({"id": "user-1", "hash": identity_hash(&secret, "user-1")}),
        )
        .await,
        401,
        "invalid_visitor_token",
    );

    // After a rotation the old secret's hashes stop working at once.
    let admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let got = admin
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/websites/{site}/identity/rotate"),
            None,
        )
        .await;
    let fresh = ok(&got)["secret"].as_str().unwrap().to_owned();
    assert_ne!(fresh, secret);
    let got = widget(
        &t,
        &attacker,
        "identify",
        json!({"id": "user-1", "hash": identity_hash(&secret, "user-1")}),
    )
    .await;
    problem(&got, 403, "identity_invalid");
    let got = widget(
        &t,
        &attacker,
        "identify",
        json!({"id": "user-1", "hash": identity_hash(&fresh, "user-1")}),
    )
    .await;
    assert_eq!(ok(&got)["verified"], true);

    // Another tenant's site verifies with its own secret: tenant a's hash means nothing there.
    let other = tenant(&t, "b").await;
    let (_, _) = enable(&t, &other).await;
    let stranger = visitor_token(&t, &other.site_key).await;
    let got = widget(
        &t,
        &stranger,
        "identify",
        json!({"id": "user-1", "hash": identity_hash(&fresh, "user-1")}),
    )
    .await;
    problem(&got, 403, "identity_invalid");
}

async fn without_verification_identify_never_switches_by_id(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let first = visitor_token(&t, &ten.site_key).await;
    let got = widget(
        &t,
        &first,
        "identify",
        json!({"id": "user-1", "name": "Ann"}),
    )
    .await;
    let r = ok(&got);
    assert_eq!(r["verified"], false);
    let a = r["contact_id"].as_str().unwrap().to_owned();
    Client::visitor(&t, r["token"].as_str().unwrap())
        .await
        .say("c1", None, "Mine")
        .await
        .unwrap();

    // Someone else claims the same id (a hash or not): they stay themselves.
    let second = visitor_token(&t, &ten.site_key).await;
    let own = contact_of(&t, &ten.site_key, &second).await;
    let got = widget(
        &t,
        &second,
        "identify",
        json!({"id": "user-1", "name": "Mallory", "hash": "00"}),
    )
    .await;
    let r = ok(&got);
    assert_eq!(r["contact_id"].as_str(), Some(own.as_str()));
    assert_ne!(own, a);
    assert_eq!(welcome(&t, r["token"].as_str().unwrap()).await, None);
    // The name went to their own contact only.
    let agent = Browser::login(&t.url, &ten.agent_email, PASSWORD).await;
    let (_, c) = agent.get(&format!("/api/v1/contacts/{a}")).await;
    assert_eq!(c["contact"]["name"], "Ann", "{c}");
    let (_, c) = agent.get(&format!("/api/v1/contacts/{own}")).await;
    assert_eq!(c["contact"]["name"], "Mallory", "{c}");
    // Bad names and emails are typed.
    problem(
        &widget(&t, &second, "identify", json!({"id": "u", "email": "nope"})).await,
        422,
        "invalid_email",
    );

    // Turning verification on later does not hand anyone the unverified id: the first
    // verified identify of user-1 binds a contact of its own.
    let (_, secret) = enable(&t, &ten).await;
    let third = visitor_token(&t, &ten.site_key).await;
    let got = widget(
        &t,
        &third,
        "identify",
        json!({"id": "user-1", "hash": identity_hash(&secret, "user-1")}),
    )
    .await;
    let r = ok(&got);
    assert!(
        r["contact_id"] != a.as_str() && r["contact_id"] != own.as_str(),
        "{r}"
    );
    assert_eq!(welcome(&t, r["token"].as_str().unwrap()).await, None);
}

async fn only_admins_of_the_site_switch_verification_and_see_the_secret(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let other = tenant(&t, "b").await;
    let admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let agent = Browser::login(&t.url, &ten.agent_email, PASSWORD).await;
    let stranger = Browser::login(&t.url, &other.admin_email, PASSWORD).await;
    let site = site_id(&admin).await;
    let path = format!("/api/v1/websites/{site}/identity");

    let got = admin.get(&path).await;
    assert_eq!(ok(&got), &json!({"enabled": false, "secret": null}));
    problem(&agent.get(&path).await, 403, "forbidden");
    problem(
        &agent.put(&path, json!({"enabled": true})).await,
        403,
        "forbidden",
    );
    problem(&stranger.get(&path).await, 404, "not_found");
    problem(
        &stranger.put(&path, json!({"enabled": true})).await,
        404,
        "not_found",
    );
    problem(
        &admin.get("/api/v1/websites/nope/identity").await,
        404,
        "not_found",
    );
    problem(
        &admin.put(&path, json!({"enabled": "yes"})).await,
        400,
        "invalid_json",
    );
    // Rotating needs it on.
    let rotate = format!("{path}/rotate");
    problem(
        &admin.request(reqwest::Method::POST, &rotate, None).await,
        409,
        "conflict",
    );

    let got = admin.put(&path, json!({"enabled": true})).await;
    let secret = ok(&got)["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    // Viewable again by admins; turning it on again keeps the secret.
    assert_eq!(ok(&admin.get(&path).await)["secret"], secret.as_str());
    assert_eq!(
        ok(&admin.put(&path, json!({"enabled": true})).await)["secret"],
        secret.as_str()
    );
    problem(
        &stranger.request(reqwest::Method::POST, &rotate, None).await,
        404,
        "not_found",
    );

    // A cross-site request with the admin's cookie is refused.
    let r = reqwest::Client::new()
        .put(format!("{}{path}", t.url))
        .header("Cookie", admin.cookie.clone().unwrap())
        .header("Origin", "https://evil.test")
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(ok(&admin.get(&path).await)["enabled"], true);

    let got = admin.put(&path, json!({"enabled": false})).await;
    assert_eq!(ok(&got), &json!({"enabled": false, "secret": null}));
}

async fn attributes_and_events_land_on_the_contact_with_typed_errors(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let other = tenant(&t, "b").await;
    let token = visitor_token(&t, &ten.site_key).await;
    let contact = contact_of(&t, &ten.site_key, &token).await;

    let got = widget(
        &t,
        &token,
        "attributes",
        json!({"attributes": {"plan": "pro", "seats": 5, "trial": false}}),
    )
    .await;
    assert_eq!(got.0, 204, "{}", got.1);
    problem(
        &widget(
            &t,
            &token,
            "attributes",
            json!({"attributes": {"Bad Key": 1}}),
        )
        .await,
        422,
        "invalid_attribute",
    );
    problem(
        &widget(
            &t,
            &token,
            "attributes",
            json!({"attributes": {"note": "a\nb"}}),
        )
        .await,
        422,
        "invalid_attribute",
    );
    problem(
        &widget(&t, &token, "attributes", json!({"attributes": {"x": [1]}})).await,
        400,
        "invalid_json",
    );
    let too_many: serde_json::Map<String, Value> =
        (0..60).map(|i| (format!("k{i}"), json!(i))).collect();
    problem(
        &widget(&t, &token, "attributes", json!({"attributes": too_many})).await,
        422,
        "invalid_attribute",
    );

    let got = widget(
        &t,
        &token,
        "events",
        json!({"name": "Plan upgraded", "data": {"plan": "pro", "amount": 49}}),
    )
    .await;
    assert_eq!(got.0, 204, "{}", got.1);
    problem(
        &widget(&t, &token, "events", json!({"name": "<script>"})).await,
        422,
        "invalid_event",
    );
    problem(
        &widget(
            &t,
            &token,
            "events",
            json!({"name": "ok", "data": {"Bad Key": 1}}),
        )
        .await,
        422,
        "invalid_event",
    );
    problem(
        &widget(&t, "nope", "events", json!({"name": "ok"})).await,
        401,
        "invalid_visitor_token",
    );
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/widget/events", t.url))
        .json(&json!({"name": "ok"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let agent = Browser::login(&t.url, &ten.agent_email, PASSWORD).await;
    let (_, c) = agent.get(&format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(
        c["contact"]["attributes"],
        json!({"plan": "pro", "seats": 5, "trial": false}),
        "{c}"
    );
    let (_, v) = agent
        .get(&format!("/api/v1/contacts/{contact}/visit"))
        .await;
    assert_eq!(v["events"][0]["name"], "Plan upgraded", "{v}");
    assert_eq!(v["events"][0]["data"], json!({"amount": 49, "plan": "pro"}));
    // Another tenant's agent sees nothing of it.
    let stranger = Browser::login(&t.url, &other.agent_email, PASSWORD).await;
    problem(
        &stranger
            .get(&format!("/api/v1/contacts/{contact}/visit"))
            .await,
        404,
        "not_found",
    );

    // Bursts are limited per visitor: 60 at once (the burst is 20), whatever the machine's pace.
    let burst: Vec<_> = (0..60)
        .map(|i| {
            let (t, token) = (t.url.clone(), token.clone());
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(format!("{t}/api/v1/widget/events"))
                    .header("authorization", format!("Bearer {token}"))
                    .json(&json!({"name": format!("e{i}")}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for h in burst {
        statuses.push(h.await.unwrap());
    }
    let limited = statuses.contains(&429);
    assert!(
        statuses.iter().all(|s| *s == 204 || *s == 429),
        "{statuses:?}"
    );
    assert!(limited, "60 events at once were all taken");
    // The trail keeps the newest events only.
    let (_, v) = agent
        .get(&format!("/api/v1/contacts/{contact}/visit"))
        .await;
    assert!(v["events"].as_array().unwrap().len() <= 50);
}
