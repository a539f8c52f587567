//! Proactive triggers over the real API and sockets, on both databases: only admins edit a
//! site's rules, every rule is checked with a typed error, tenants never reach each other's
//! rules or counts, the widget's config carries the enabled rules, shows and accepts are
//! counted for real rules only, and a reply to a greeting starts a chat whose first message is
//! the greeting (from the rule's agent), which agents see.

use crate::common::*;
use frontdesk_core::protocol::{MessageKind, ServerFrame};
use serde_json::{Value, json};

on_both_backends!(
    only_admins_edit_triggers_and_every_rule_is_checked,
    tenants_never_reach_each_others_triggers,
    the_widget_gets_enabled_rules_and_reports_are_counted,
    a_reply_to_a_greeting_starts_the_chat_with_the_greeting,
);

async fn call(b: &Browser, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    b.request(method.parse().unwrap(), &format!("/api/v1{path}"), body)
        .await
}

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
fn ok(got: (u16, Value)) -> Value {
    assert_eq!(got.0, 200, "{}", got.1);
    got.1
}

async fn site_id(b: &Browser) -> String {
    let sites = ok(call(b, "GET", "/websites", None).await);
    sites[0]["id"].as_str().unwrap().to_owned()
}

async fn agent_id(b: &Browser, email: &str) -> String {
    let agents = ok(call(b, "GET", "/agents", None).await);
    agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == email)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn rule(name: &str, text: &str, from: Value, open: bool, enabled: bool) -> Value {
    json!({
        "id": "",
        "name": name,
        "enabled": enabled,
        "conditions": [{"type": "time_on_page", "seconds": 2}, {"type": "url", "how": "prefix", "value": "/pricing"}],
        "agents": "any",
        "action": {"text": text, "from": from, "open": open},
    })
}

fn counts(view: &Value, id: &str) -> (i64, i64, i64) {
    let s = view["stats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["trigger_id"] == id)
        .unwrap_or_else(|| panic!("no stats for {id}: {view}"));
    (
        s["shows"].as_i64().unwrap(),
        s["accepts"].as_i64().unwrap(),
        s["conversions"].as_i64().unwrap(),
    )
}

async fn only_admins_edit_triggers_and_every_rule_is_checked(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let agent = Browser::login(&t.url, &org.agent_email, PASSWORD).await;
    let site = site_id(&admin).await;
    let path = format!("/websites/{site}/triggers");

    let empty = ok(call(&admin, "GET", &path, None).await);
    assert_eq!(empty["triggers"]["rules"], json!([]));
    assert_eq!(empty["triggers"]["max_per_visit"], 1);

    let body = json!({"max_per_visit": 2, "rules": [rule(" Pricing ", " Questions about plans? ", json!({"type": "team"}), false, true)]});
    problem(call(&agent, "GET", &path, None).await, 403, "forbidden");
    problem(
        call(&agent, "PUT", &path, Some(body.clone())).await,
        403,
        "forbidden",
    );
    let saved = ok(call(&admin, "PUT", &path, Some(body)).await);
    let r = &saved["triggers"]["rules"][0];
    assert_eq!(r["name"], "Pricing");
    assert_eq!(r["action"]["text"], "Questions about plans?");
    let id = r["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a new rule gets an id");
    assert_eq!(counts(&saved, &id), (0, 0, 0));
    // Saved again with its id, it keeps it.
    let again = ok(call(&admin, "PUT", &path, Some(saved["triggers"].clone())).await);
    assert_eq!(again["triggers"]["rules"][0]["id"], id.as_str());

    let bad = |f: &dyn Fn(&mut Value)| {
        let mut b = json!({"max_per_visit": 1, "rules": [rule("r", "Hi", json!({"type": "team"}), false, true)]});
        f(&mut b);
        b
    };
    for (body, status, code) in [
        (
            bad(&|b| b["max_per_visit"] = json!(0)),
            422,
            "invalid_trigger",
        ),
        (
            bad(&|b| b["max_per_visit"] = json!(11)),
            422,
            "invalid_trigger",
        ),
        (
            bad(&|b| b["rules"][0]["name"] = json!("")),
            422,
            "invalid_trigger",
        ),
        (
            bad(&|b| b["rules"][0]["action"]["text"] = json!("x".repeat(501))),
            422,
            "invalid_greeting",
        ),
        (
            bad(&|b| b["rules"][0]["action"]["text"] = json!(" ")),
            422,
            "invalid_greeting",
        ),
        (
            bad(&|b| b["rules"][0]["conditions"][0]["seconds"] = json!(3601)),
            422,
            "invalid_trigger",
        ),
        (
            bad(&|b| {
                b["rules"][0]["conditions"] = json!([{"type": "scroll_depth", "percent": 101}])
            }),
            422,
            "invalid_trigger",
        ),
        (
            bad(&|b| b["rules"][0]["conditions"] = json!([{"type": "visits", "at_least": 0}])),
            422,
            "invalid_trigger",
        ),
        (
            bad(&|b| {
                b["rules"][0]["conditions"] = json!([{"type": "url", "how": "exact", "value": ""}])
            }),
            422,
            "invalid_trigger",
        ),
        (
            bad(&|b| {
                b["rules"][0]["conditions"] =
                    json!([{"type": "referrer", "how": "contains", "value": "a\u{0}b"}])
            }),
            422,
            "invalid_trigger",
        ),
        (
            bad(
                &|b| b["rules"][0]["action"]["from"] = json!({"type": "agent", "id": "0190a000-0000-7000-8000-000000000001", "name": "Ghost"}),
            ),
            422,
            "invalid_trigger",
        ),
        (
            bad(&|b| {
                b["rules"] = json!(
                    (0..31)
                        .map(|i| rule(&format!("r{i}"), "Hi", json!({"type": "team"}), false, true))
                        .collect::<Vec<_>>()
                )
            }),
            409,
            "limit_reached",
        ),
        (
            bad(&|b| b["rules"][0]["conditions"] = json!([{"type": "nope"}])),
            400,
            "invalid_json",
        ),
        (
            bad(&|b| b["rules"][0]["extra"] = json!(1)),
            400,
            "invalid_json",
        ),
    ] {
        problem(call(&admin, "PUT", &path, Some(body)).await, status, code);
    }
    // Nothing refused was stored.
    let now = ok(call(&admin, "GET", &path, None).await);
    assert_eq!(now["triggers"]["rules"][0]["id"], id.as_str());
    assert_eq!(now["triggers"]["rules"].as_array().unwrap().len(), 1);
}

async fn tenants_never_reach_each_others_triggers(backend: Backend) {
    let t = TestServer::start(backend).await;
    let a = tenant(&t, "a").await;
    let b = tenant(&t, "b").await;
    let admin_a = Browser::login(&t.url, &a.admin_email, PASSWORD).await;
    let admin_b = Browser::login(&t.url, &b.admin_email, PASSWORD).await;
    let site_a = site_id(&admin_a).await;
    let path = format!("/websites/{site_a}/triggers");
    let saved = ok(call(
        &admin_a,
        "PUT",
        &path,
        Some(json!({"max_per_visit": 1, "rules": [rule("r", "Hi", json!({"type": "team"}), false, true)]})),
    )
    .await);
    let id = saved["triggers"]["rules"][0]["id"].as_str().unwrap();
    problem(call(&admin_b, "GET", &path, None).await, 404, "not_found");
    problem(
        call(
            &admin_b,
            "PUT",
            &path,
            Some(json!({"max_per_visit": 1, "rules": []})),
        )
        .await,
        404,
        "not_found",
    );
    // B's admin cannot name A's agent as a greeting's author on B's site.
    let agent_a = agent_id(&admin_a, &a.agent_email).await;
    let site_b = site_id(&admin_b).await;
    problem(
        call(
            &admin_b,
            "PUT",
            &format!("/websites/{site_b}/triggers"),
            Some(json!({"max_per_visit": 1, "rules": [rule("r", "Hi", json!({"type": "agent", "id": agent_a, "name": "x"}), false, true)]})),
        )
        .await,
        422,
        "invalid_trigger",
    );
    // A visitor of B's site cannot count A's trigger.
    let token_b = visitor_token(&t, &b.site_key).await;
    let mut v = Browser::new(&t.url);
    let (status, body) = v
        .post(
            "/api/v1/widget/trigger",
            json!({"token": token_b, "trigger_id": id, "event": "shown"}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let view = ok(call(&admin_a, "GET", &path, None).await);
    assert_eq!(counts(&view, id), (0, 0, 0));
    // B's widget config does not carry A's rules.
    let (_, cfg) = v
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/widget/config?site_key={}", b.site_key),
            None,
        )
        .await;
    assert_eq!(cfg["triggers"]["rules"], json!([]));
}

async fn the_widget_gets_enabled_rules_and_reports_are_counted(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let site = site_id(&admin).await;
    let path = format!("/websites/{site}/triggers");
    let saved = ok(call(
        &admin,
        "PUT",
        &path,
        Some(json!({"max_per_visit": 3, "rules": [
            rule("on", "Hi <b>there</b>", json!({"type": "team"}), false, true),
            rule("off", "Hidden", json!({"type": "team"}), false, false),
        ]})),
    )
    .await);
    let on = saved["triggers"]["rules"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let off = saved["triggers"]["rules"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut v = Browser::new(&t.url);
    let (status, cfg) = v
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/widget/config?site_key={}", org.site_key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(cfg["triggers"]["max_per_visit"], 3);
    let rules = cfg["triggers"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "only enabled rules reach the page");
    assert_eq!(
        rules[0]["action"]["text"], "Hi <b>there</b>",
        "text, never markup, is the widget's job"
    );

    let token = visitor_token(&t, &org.site_key).await;
    let report = |id: &str, event: &str| json!({"token": token, "trigger_id": id, "event": event});
    for (body, status, code) in [
        (report(&on, "shown"), 204, None),
        (report(&on, "shown"), 204, None),
        (report(&on, "accepted"), 204, None),
        (report(&off, "shown"), 204, None),
        (
            report("0190a000-0000-7000-8000-000000000009", "shown"),
            404,
            Some("not_found"),
        ),
        (report("not-an-id", "shown"), 404, Some("not_found")),
        (report(&on, "clicked"), 400, Some("invalid_json")),
        (
            json!({"token": "forged.token", "trigger_id": on, "event": "shown"}),
            401,
            Some("invalid_visitor_token"),
        ),
        (
            json!({"token": token, "trigger_id": on, "event": "shown", "extra": 1}),
            400,
            Some("invalid_json"),
        ),
    ] {
        let (s, b) = v.post("/api/v1/widget/trigger", body).await;
        assert_eq!((s, b["code"].as_str()), (status, code), "{b}");
    }
    let view = ok(call(&admin, "GET", &path, None).await);
    assert_eq!(counts(&view, &on), (2, 1, 0));
    assert_eq!(counts(&view, &off), (1, 0, 0));

    // Reports are rate-limited per visitor.
    let mut limited = false;
    for _ in 0..100 {
        let (s, b) = v.post("/api/v1/widget/trigger", report(&on, "shown")).await;
        if s == 429 {
            assert_eq!(b["code"], "rate_limited");
            limited = true;
            break;
        }
    }
    assert!(limited, "a flood of reports is cut off");
}

async fn a_reply_to_a_greeting_starts_the_chat_with_the_greeting(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let site = site_id(&admin).await;
    let agent = agent_id(&admin, &org.agent_email).await;
    let path = format!("/websites/{site}/triggers");
    let saved = ok(call(
        &admin,
        "PUT",
        &path,
        Some(json!({"max_per_visit": 1, "rules": [
            rule("opens", "Can I help with pricing?", json!({"type": "agent", "id": agent, "name": "stale name"}), true, true),
        ]})),
    )
    .await);
    let id = saved["triggers"]["rules"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let agent_name = saved["triggers"]["rules"][0]["action"]["from"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(agent_name, "Agent a", "the author is named as the agent is");

    let mut desk = Client::agent(&t, &admin).await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    v.send(json!({"type": "send", "client_id": "c-1", "text": "Yes, please", "greeting": id}))
        .await;
    let ack = v
        .expect(|f| matches!(f, ServerFrame::Ack { .. } | ServerFrame::Error { .. }))
        .await;
    let ServerFrame::Ack { message, .. } = ack else {
        panic!("{ack:?}")
    };
    assert_eq!((message.seq, message.kind), (2, MessageKind::Visitor));
    let conv = message.conversation_id.0.clone();
    // The visitor's history starts with the greeting, from the agent, then the reply.
    let history = v.sync(&conv, 0).await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].kind, MessageKind::System);
    assert_eq!(history[0].text, "Can I help with pricing?");
    assert_eq!(history[0].author_id, None, "visitors never see agents' ids");
    assert_eq!(history[0].author_name.as_deref(), Some(agent_name.as_str()));
    assert_eq!(history[1].text, "Yes, please");
    // Agents see both, in order.
    let mut seen = Vec::new();
    while seen.len() < 2 {
        if let ServerFrame::Message { message } = desk
            .expect(|f| matches!(f, ServerFrame::Message { message } if message.conversation_id.0 == conv))
            .await
        {
            if message.seq == 1 {
                assert_eq!(message.author_id.as_deref(), Some(agent.as_str()));
                assert_eq!(message.kind, MessageKind::System);
            }
            seen.push((message.seq, message.text));
        }
    }
    assert_eq!(
        seen,
        vec![
            (1, "Can I help with pricing?".to_owned()),
            (2, "Yes, please".to_owned())
        ]
    );
    // An open rule's reply is its accept, and the conversation its conversion.
    let view = ok(call(&admin, "GET", &path, None).await);
    assert_eq!(counts(&view, &id), (0, 1, 1));

    // In the running chat, a greeting is ignored: no second greeting, nothing counted.
    v.send(json!({"type": "send", "client_id": "c-2", "text": "More", "greeting": id}))
        .await;
    v.expect(|f| matches!(f, ServerFrame::Ack { client_id, .. } if client_id == "c-2"))
        .await;
    let history = v.sync(&conv, 0).await;
    assert_eq!(history.len(), 3);
    let view = ok(call(&admin, "GET", &path, None).await);
    assert_eq!(counts(&view, &id), (0, 1, 1));

    // A greeting of a rule the site does not have is no greeting at all.
    let token2 = visitor_token(&t, &org.site_key).await;
    let mut v2 = Client::visitor(&t, &token2).await;
    v2.send(json!({"type": "send", "client_id": "c-1", "text": "Hi", "greeting": "0190a000-0000-7000-8000-000000000009"}))
        .await;
    let ServerFrame::Ack { message, .. } =
        v2.expect(|f| matches!(f, ServerFrame::Ack { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(message.seq, 1, "the reply is the first message");
}
