//! Canned responses over the real API, on both databases: one test per rule of who sees and
//! changes what, the typed errors of every input, the limits, and the text filled in for a
//! conversation.

use crate::common::*;
use serde_json::{Value, json};

on_both_backends!(
    everyone_sees_the_shared_list_and_only_their_own_personal_ones,
    only_admins_create_change_or_delete_shared_ones,
    everyone_manages_their_own_personal_ones,
    another_agents_personal_ones_read_as_not_found_even_to_admins,
    tenants_cannot_reach_each_others_canned_responses,
    a_shortcut_is_unique_within_its_list,
    every_input_is_checked_with_a_typed_error,
    a_list_holds_a_bounded_number,
    the_list_for_a_conversation_carries_the_filled_in_text,
);

const PATH: &str = "/api/v1/canned-responses";

/// An organization with an admin, a supervisor and an agent, all logged in.
struct Org {
    t: Tenant,
    admin: Browser,
    sup: Browser,
    agent: Browser,
}

async fn org(server: &TestServer, tag: &str) -> Org {
    let t = tenant(server, tag).await;
    let mut admin = Browser::login(&server.url, &t.admin_email, PASSWORD).await;
    let sup_email = format!("sup@{tag}.test");
    let (status, body) = admin
        .post(
            "/api/v1/agents",
            json!({"email": sup_email, "name": "Sue Supervisor", "password": PASSWORD, "role": "supervisor"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    Org {
        sup: Browser::login(&server.url, &sup_email, PASSWORD).await,
        agent: Browser::login(&server.url, &t.agent_email, PASSWORD).await,
        admin,
        t,
    }
}

fn canned(scope: &str, shortcut: &str, body: &str) -> Value {
    json!({"scope": scope, "shortcut": shortcut, "title": format!("Title of {shortcut}"), "body": body})
}

fn update(shortcut: &str, body: &str) -> Value {
    json!({"shortcut": shortcut, "title": format!("Title of {shortcut}"), "body": body})
}

async fn create(b: &Browser, body: Value) -> (u16, Value) {
    b.request(reqwest::Method::POST, PATH, Some(body)).await
}

/// Creates one and returns its id.
async fn created(b: &Browser, scope: &str, shortcut: &str, body: &str) -> String {
    let got = create(b, canned(scope, shortcut, body)).await;
    let v = ok(&got);
    assert_eq!(v["scope"], scope);
    assert_eq!(v["shortcut"], shortcut);
    v["id"].as_str().unwrap().to_owned()
}

async fn put(b: &Browser, id: &str, body: Value) -> (u16, Value) {
    b.put(&format!("{PATH}/{id}"), body).await
}

async fn delete(b: &Browser, id: &str) -> (u16, Value) {
    b.delete(&format!("{PATH}/{id}")).await
}

/// `(scope, shortcut)` of each canned response the browser's agent sees, in list order.
async fn listed(b: &Browser) -> Vec<(String, String)> {
    let got = b.get(PATH).await;
    ok(&got)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["scope"].as_str().unwrap().to_owned(),
                r["shortcut"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Asserts a problem response: its status and its `code`.
#[track_caller]
fn problem(got: (u16, Value), status: u16, code: &str) {
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

async fn everyone_sees_the_shared_list_and_only_their_own_personal_ones(backend: Backend) {
    let s = TestServer::start(backend).await;
    let o = org(&s, "a").await;
    created(&o.admin, "shared", "hello", "Hello!").await;
    created(&o.admin, "personal", "mine", "The admin's own").await;
    created(&o.agent, "personal", "mine", "The agent's own").await;
    created(&o.agent, "personal", "bye", "Bye!").await;

    assert_eq!(
        listed(&o.admin).await,
        pairs(&[("shared", "hello"), ("personal", "mine")])
    );
    assert_eq!(
        listed(&o.agent).await,
        pairs(&[
            ("personal", "bye"),
            ("shared", "hello"),
            ("personal", "mine")
        ])
    );
    assert_eq!(listed(&o.sup).await, pairs(&[("shared", "hello")]));
    // Each sees their own text under the shared shortcut.
    let (_, list) = o.agent.get(PATH).await;
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["shortcut"] == "mine")
        .unwrap();
    assert_eq!(mine["body"], "The agent's own");
    assert_eq!(
        mine["rendered"],
        Value::Null,
        "no conversation, nothing filled in"
    );
    s.stop().await;
}

async fn only_admins_create_change_or_delete_shared_ones(backend: Backend) {
    let s = TestServer::start(backend).await;
    let o = org(&s, "a").await;
    for b in [&o.agent, &o.sup] {
        problem(
            create(b, canned("shared", "nope", "x")).await,
            403,
            "forbidden",
        );
    }
    let id = created(&o.admin, "shared", "hello", "Hello!").await;
    for b in [&o.agent, &o.sup] {
        problem(
            put(b, &id, update("hello", "Changed")).await,
            403,
            "forbidden",
        );
        problem(delete(b, &id).await, 403, "forbidden");
    }
    assert_eq!(listed(&o.agent).await, pairs(&[("shared", "hello")]));

    let got = put(&o.admin, &id, update("hi", "Hi there!")).await;
    assert_eq!(ok(&got)["body"], "Hi there!");
    assert_eq!(got.1["scope"], "shared", "the scope stays");
    assert_eq!(listed(&o.agent).await, pairs(&[("shared", "hi")]));
    assert_eq!(delete(&o.admin, &id).await.0, 204);
    assert_eq!(listed(&o.agent).await, pairs(&[]));
    problem(delete(&o.admin, &id).await, 404, "not_found");
    s.stop().await;
}

async fn everyone_manages_their_own_personal_ones(backend: Backend) {
    let s = TestServer::start(backend).await;
    let o = org(&s, "a").await;
    for b in [&o.agent, &o.sup, &o.admin] {
        let id = created(b, "personal", "thanks", "Thanks!").await;
        let got = put(b, &id, update("ty", "Thank you!")).await;
        assert_eq!(ok(&got)["shortcut"], "ty");
        assert_eq!(got.1["body"], "Thank you!");
        assert_eq!(got.1["scope"], "personal");
        assert_eq!(listed(b).await, pairs(&[("personal", "ty")]));
        assert_eq!(delete(b, &id).await.0, 204);
        assert_eq!(listed(b).await, pairs(&[]));
    }
    s.stop().await;
}

async fn another_agents_personal_ones_read_as_not_found_even_to_admins(backend: Backend) {
    let s = TestServer::start(backend).await;
    let o = org(&s, "a").await;
    let id = created(&o.agent, "personal", "secret", "Only mine").await;
    for b in [&o.admin, &o.sup] {
        problem(
            put(b, &id, update("secret", "Taken over")).await,
            404,
            "not_found",
        );
        problem(delete(b, &id).await, 404, "not_found");
        assert_eq!(listed(b).await, pairs(&[]));
    }
    let got = o.agent.get(PATH).await;
    assert_eq!(ok(&got)[0]["body"], "Only mine", "unchanged");
    s.stop().await;
}

async fn tenants_cannot_reach_each_others_canned_responses(backend: Backend) {
    let s = TestServer::start(backend).await;
    let a = org(&s, "a").await;
    let b = org(&s, "b").await;
    let shared = created(&a.admin, "shared", "hello", "Hello from A").await;
    let personal = created(&a.admin, "personal", "mine", "A's admin").await;
    assert_eq!(listed(&b.admin).await, pairs(&[]));
    assert_eq!(listed(&b.agent).await, pairs(&[]));
    for id in [&shared, &personal] {
        problem(put(&b.admin, id, update("x", "y")).await, 404, "not_found");
        problem(delete(&b.admin, id).await, 404, "not_found");
    }
    // The same shortcut in another organization is another list.
    created(&b.admin, "shared", "hello", "Hello from B").await;
    // Filling in for another organization's conversation: not found.
    let token = visitor_token(&s, &a.t.site_key).await;
    let mut v = Client::visitor(&s, &token).await;
    let conv = v.say("c1", None, "hi").await.unwrap().conversation_id.0;
    problem(
        b.admin.get(&format!("{PATH}?conversation_id={conv}")).await,
        404,
        "not_found",
    );
    assert_eq!(
        listed(&a.admin).await,
        pairs(&[("shared", "hello"), ("personal", "mine")])
    );
    s.stop().await;
}

async fn a_shortcut_is_unique_within_its_list(backend: Backend) {
    let s = TestServer::start(backend).await;
    let o = org(&s, "a").await;
    created(&o.admin, "shared", "hello", "Hello!").await;
    // Typed with a slash and capitals, it is the same shortcut.
    let got = create(&o.admin, canned("shared", "/Hello", "Again")).await;
    problem(got.clone(), 409, "conflict");
    assert_eq!(got.1["detail"], "/hello is already in the shared list");
    // A personal one may share a shared one's shortcut, and two agents may use the same one.
    created(&o.admin, "personal", "hello", "Mine").await;
    created(&o.agent, "personal", "hello", "Mine too").await;
    problem(
        create(&o.agent, canned("personal", "hello", "Twice")).await,
        409,
        "conflict",
    );
    // Renaming onto a taken shortcut is refused too.
    let bye = created(&o.agent, "personal", "bye", "Bye").await;
    problem(
        put(&o.agent, &bye, update("hello", "Bye")).await,
        409,
        "conflict",
    );
    // Keeping one's own shortcut is not a clash.
    ok(&put(&o.agent, &bye, update("bye", "Goodbye")).await);
    s.stop().await;
}

async fn every_input_is_checked_with_a_typed_error(backend: Backend) {
    let s = TestServer::start(backend).await;
    let o = org(&s, "a").await;
    let b = &o.agent;
    let long = "x".repeat(5_001);
    let title = "t".repeat(81);
    for (body, status, code) in [
        (canned("personal", "", "x"), 422, "invalid_shortcut"),
        (
            canned("personal", "two words", "x"),
            422,
            "invalid_shortcut",
        ),
        (canned("personal", "héllo", "x"), 422, "invalid_shortcut"),
        (
            canned("personal", &"a".repeat(33), "x"),
            422,
            "invalid_shortcut",
        ),
        (canned("personal", "ok", "   "), 422, "message_empty"),
        (canned("personal", "ok", &long), 422, "message_too_long"),
        (
            canned("personal", "ok", "Hi {{contact.frist_name}}"),
            422,
            "unknown_variable",
        ),
        (
            json!({"scope": "personal", "shortcut": "ok", "title": "", "body": "x"}),
            422,
            "invalid_title",
        ),
        (
            json!({"scope": "personal", "shortcut": "ok", "title": title, "body": "x"}),
            422,
            "invalid_title",
        ),
        (
            json!({"scope": "personal", "shortcut": "ok", "title": "a\nb", "body": "x"}),
            422,
            "invalid_title",
        ),
        (
            json!({"scope": "team", "shortcut": "ok", "title": "t", "body": "x"}),
            400,
            "invalid_json",
        ),
        (
            json!({"scope": "personal", "shortcut": "ok", "title": "t", "body": "x", "owner_id": "x"}),
            400,
            "invalid_json",
        ),
        (json!({"scope": "personal"}), 400, "invalid_json"),
    ] {
        problem(create(b, body).await, status, code);
    }
    let got = create(b, canned("personal", "ok", "Hi {{contact.frist_name}}")).await;
    assert!(
        got.1["detail"]
            .as_str()
            .unwrap()
            .starts_with("{{contact.frist_name}} is not a variable"),
        "{}",
        got.1
    );
    assert_eq!(listed(b).await, pairs(&[]), "nothing was stored");

    let id = created(b, "personal", "ok", "Fine").await;
    problem(put(b, &id, update("", "x")).await, 422, "invalid_shortcut");
    problem(
        put(b, &id, update("ok", "{{ nope }}")).await,
        422,
        "unknown_variable",
    );
    problem(
        put(
            b,
            &id,
            json!({"scope": "shared", "shortcut": "ok", "title": "t", "body": "x"}),
        )
        .await,
        400,
        "invalid_json",
    );
    problem(
        put(b, "not-an-id", update("ok", "x")).await,
        404,
        "not_found",
    );
    problem(delete(b, "not-an-id").await, 404, "not_found");
    problem(
        b.get(&format!("{PATH}?conversation_id=nope")).await,
        404,
        "not_found",
    );
    // Braces that are not a variable are text, and are kept.
    let got = put(b, &id, update("ok", "Use {{ a b }} or { x }")).await;
    assert_eq!(ok(&got)["body"], "Use {{ a b }} or { x }");
    // Without the cookie: unauthenticated; from another site: refused.
    problem(Browser::new(&s.url).get(PATH).await, 401, "unauthenticated");
    let r = reqwest::Client::new()
        .post(format!("{}{PATH}", s.url))
        .header("Origin", "http://evil.test")
        .header("Cookie", b.cookie.clone().unwrap())
        .json(&canned("personal", "evil", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    s.stop().await;
}

async fn a_list_holds_a_bounded_number(backend: Backend) {
    let s = TestServer::start(backend).await;
    let o = org(&s, "a").await;
    let max = frontdesk_core::canned::MAX_PERSONAL;
    for i in 0..max {
        created(&o.agent, "personal", &format!("r{i}"), "x").await;
    }
    let got = create(&o.agent, canned("personal", "one-more", "x")).await;
    problem(got, 409, "limit_reached");
    // The limit is per list: a colleague and the shared list are not affected.
    created(&o.sup, "personal", "one-more", "x").await;
    created(&o.admin, "shared", "one-more", "x").await;
    assert_eq!(listed(&o.agent).await.len(), max + 1);
    s.stop().await;
}

async fn the_list_for_a_conversation_carries_the_filled_in_text(backend: Backend) {
    let s = TestServer::start(backend).await;
    let o = org(&s, "a").await;
    let body = "Hi {{contact.first_name}}! I'm {{ agent.name }} ({{agent.first_name}}) from \
                {{website.name}}; we'll write to {{contact.email}}. <b>{{ not a variable }}</b>";
    created(&o.admin, "shared", "hello", body).await;

    // A visitor who gave their name and email.
    let token = visitor_token(&s, &o.t.site_key).await;
    let mut v = Client::visitor(&s, &token).await;
    v.send(json!({"type": "set_contact", "name": "Ada Lovelace", "email": "ada@example.com"}))
        .await;
    let named = v.say("c1", None, "hi").await.unwrap().conversation_id.0;
    // One who did not.
    let token = visitor_token(&s, &o.t.site_key).await;
    let mut w = Client::visitor(&s, &token).await;
    let anonymous = w.say("c1", None, "hello").await.unwrap().conversation_id.0;

    assert_eq!(
        rendered(&o.agent, &named, body).await,
        "Hi Ada! I'm Agent a (Agent) from Shop; we'll write to ada@example.com. <b>{{ not a variable }}</b>"
    );
    assert_eq!(
        rendered(&o.admin, &anonymous, body).await,
        "Hi there! I'm Admin a (Admin) from Shop; we'll write to your email address. <b>{{ not a variable }}</b>"
    );
    s.stop().await;
}

/// The first canned response's text filled in for a conversation.
async fn rendered(b: &Browser, conv: &str, body: &str) -> String {
    let got = b.get(&format!("{PATH}?conversation_id={conv}")).await;
    let v = ok(&got);
    assert_eq!(v[0]["body"], body, "the saved text is returned as well");
    v[0]["rendered"].as_str().unwrap().to_owned()
}
