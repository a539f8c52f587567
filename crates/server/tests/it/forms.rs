//! The widget's forms over the real API and sockets, on both databases: admins set a site's
//! pre-chat form and end-of-chat questions (roles, CSRF, tenants, typed errors); a visitor's
//! answers are checked field by field, land on the contact and the conversation, and the
//! department routes the conversation to its team; a resolved conversation is rated once (a
//! second rating replaces the first), only by its own visitor.

use crate::common::*;
use frontdesk_core::protocol::ServerFrame;
use serde_json::{Value, json};

on_both_backends!(
    admins_set_a_sites_forms_with_typed_errors,
    answers_are_checked_field_by_field,
    answers_land_on_the_contact_and_the_conversation_and_the_department_routes,
    a_resolved_conversation_is_rated_once_by_its_own_visitor,
);

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
    assert!(got.0 == 200 || got.0 == 204, "{} {}", got.0, got.1);
    &got.1
}

async fn team(admin: &mut Browser, member: &str, name: &str) -> String {
    let (status, team) = admin
        .post(
            "/api/v1/teams",
            json!({"name": name, "strategy": "manual", "members": [member],
                   "overflow": null, "away_action": "return", "hours": null}),
        )
        .await;
    assert_eq!(status, 200, "{team}");
    team["id"].as_str().unwrap().to_owned()
}

async fn site_id(admin: &Browser) -> String {
    let (_, sites) = admin.get("/api/v1/websites").await;
    sites[0]["id"].as_str().unwrap().to_owned()
}

fn a_form() -> Value {
    json!({
        "prechat": {"enabled": true, "fields": [
            {"key": "name", "kind": "name", "label": "Your name", "required": true},
            {"key": "email", "kind": "email", "label": "Email", "required": false},
            {"key": "phone", "kind": "phone", "label": "Phone", "required": false},
            {"key": "department", "kind": "department", "label": "Topic", "required": true},
            {"key": "plan", "kind": "select", "label": "Plan", "required": true, "options": ["Free", "Pro"]},
            {"key": "seats", "kind": "number", "label": "Seats", "required": false},
            {"key": "terms", "kind": "checkbox", "label": "I accept the terms", "required": true},
            {"key": "order_ref", "kind": "text", "label": "Order", "required": false}
        ]},
        "end_of_chat": {"csat": true, "ces": true}
    })
}

/// A visitor's session: `(token, contact id, body)`.
async fn session(t: &TestServer, site_key: &str) -> (String, String, Value) {
    let (status, s) = Browser::new(&t.url)
        .post(
            "/api/v1/widget/session",
            json!({"site_key": site_key, "token": null, "context": {}}),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    (
        s["token"].as_str().unwrap().to_owned(),
        s["contact_id"].as_str().unwrap().to_owned(),
        s,
    )
}

/// A visitor's POST with their Bearer token (`None`: no token at all).
async fn visitor_post(
    t: &TestServer,
    token: Option<&str>,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let mut r = reqwest::Client::new()
        .post(format!("{}{path}", t.url))
        .json(&body);
    if let Some(tok) = token {
        r = r.bearer_auth(tok);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn admins_set_a_sites_forms_with_typed_errors(backend: Backend) {
    let t = TestServer::start(backend).await;
    let a = tenant(&t, "a").await;
    let b = tenant(&t, "b").await;
    let admin = Browser::login(&t.url, &a.admin_email, PASSWORD).await;
    let agent = Browser::login(&t.url, &a.agent_email, PASSWORD).await;
    let other = Browser::login(&t.url, &b.admin_email, PASSWORD).await;
    let site = site_id(&admin).await;
    let path = format!("/api/v1/websites/{site}/forms");

    let got = admin.get(&path).await;
    assert_eq!(
        ok(&got),
        &json!({"prechat": {"enabled": false, "fields": []}, "end_of_chat": {"csat": true, "ces": false}})
    );
    let saved = admin.put(&path, a_form()).await;
    assert_eq!(ok(&saved)["prechat"]["fields"].as_array().unwrap().len(), 8);
    assert_eq!(admin.get(&path).await.1, saved.1);

    // Bad settings are refused with the field named.
    let mut bad = a_form();
    bad["prechat"]["fields"][4]["options"] = json!([]);
    let got = admin.put(&path, bad).await;
    problem(&got, 422, "invalid_settings");
    assert!(got.1["detail"].as_str().unwrap().contains("field 5"));
    let mut bad = a_form();
    bad["prechat"]["fields"][7]["key"] = json!("Not a key!");
    problem(&admin.put(&path, bad).await, 422, "invalid_settings");
    problem(
        &admin
            .put(&path, json!({"prechat": {"enabled": true}}))
            .await,
        400,
        "invalid_json",
    );

    // Agents may not; another organization's admin finds no such site; no Origin, no change.
    problem(&agent.get(&path).await, 403, "forbidden");
    problem(&agent.put(&path, a_form()).await, 403, "forbidden");
    problem(&other.get(&path).await, 404, "not_found");
    problem(&other.put(&path, a_form()).await, 404, "not_found");
    let r = reqwest::Client::new()
        .put(format!("{}{path}", t.url))
        .header("Cookie", admin.cookie.clone().unwrap())
        .json(&json!({"prechat": {"enabled": false, "fields": []}, "end_of_chat": {"csat": false, "ces": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(admin.get(&path).await.1, saved.1);
    t.stop().await;
}

async fn answers_are_checked_field_by_field(backend: Backend) {
    let t = TestServer::start(backend).await;
    let a = tenant(&t, "a").await;
    let admin = Browser::login(&t.url, &a.admin_email, PASSWORD).await;
    let site = site_id(&admin).await;
    // No departments to route by: the department field is not asked.
    ok(&admin
        .put(&format!("/api/v1/websites/{site}/forms"), a_form())
        .await);
    let (token, _, s) = session(&t, &a.site_key).await;
    let form = &s["prechat"]["fields"];
    assert_eq!(form.as_array().unwrap().len(), 7, "{s}");
    assert!(
        form.as_array()
            .unwrap()
            .iter()
            .all(|f| f["kind"] != "department")
    );
    assert_eq!(s["end_of_chat"], json!({"csat": true, "ces": true}));

    let got = visitor_post(
        &t,
        Some(&token),
        "/api/v1/widget/prechat",
        json!({"answers": {"name": "", "email": "nope", "phone": "call me", "plan": "Gold",
            "seats": "lots", "terms": "yes", "order_ref": "x".repeat(501), "admin": true}}),
    )
    .await;
    problem(&got, 422, "invalid_form");
    let fields: Vec<(String, String)> = got.1["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["key"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        ("admin", "unknown_field"),
        ("name", "required"),
        ("email", "invalid_email"),
        ("phone", "invalid_phone"),
        ("plan", "not_an_option"),
        ("seats", "not_a_number"),
        ("terms", "not_a_boolean"),
        ("order_ref", "invalid_text"),
    ];
    assert_eq!(
        fields,
        want.map(|(k, c)| (k.to_owned(), c.to_owned())).to_vec()
    );

    // Offline, the email is required.
    let good = json!({"name": "Ann", "plan": "Pro", "terms": true});
    let got = visitor_post(
        &t,
        Some(&token),
        "/api/v1/widget/prechat",
        json!({"answers": good, "offline": true}),
    )
    .await;
    problem(&got, 422, "invalid_form");
    assert_eq!(got.1["fields"][0]["key"], "email");
    assert_eq!(got.1["fields"][0]["code"], "required");

    // No token, a forged one, a body too large or malformed: typed errors.
    problem(
        &visitor_post(&t, None, "/api/v1/widget/prechat", json!({"answers": good})).await,
        401,
        "invalid_visitor_token",
    );
    problem(
        &visitor_post(
            &t,
            Some("x.y"),
            "/api/v1/widget/prechat",
            json!({"answers": good}),
        )
        .await,
        401,
        "invalid_visitor_token",
    );
    problem(
        &visitor_post(
            &t,
            Some(&token),
            "/api/v1/widget/prechat",
            json!({"answers": good, "extra": 1}),
        )
        .await,
        400,
        "invalid_json",
    );
    let huge = json!({"answers": {"name": "x".repeat(70_000)}});
    problem(
        &visitor_post(&t, Some(&token), "/api/v1/widget/prechat", huge).await,
        413,
        "body_too_large",
    );
    let got = visitor_post(
        &t,
        Some(&token),
        "/api/v1/widget/prechat",
        json!({"answers": good}),
    )
    .await;
    assert_eq!(got.0, 204, "{}", got.1);

    // A site without a form refuses answers outright.
    let b = tenant(&t, "b").await;
    let (tb, _, sb) = session(&t, &b.site_key).await;
    assert_eq!(sb["prechat"], Value::Null);
    problem(
        &visitor_post(
            &t,
            Some(&tb),
            "/api/v1/widget/prechat",
            json!({"answers": {"name": "Ann"}}),
        )
        .await,
        422,
        "invalid_form",
    );
    t.stop().await;
}

async fn answers_land_on_the_contact_and_the_conversation_and_the_department_routes(
    backend: Backend,
) {
    let t = TestServer::start(backend).await;
    let a = tenant(&t, "a").await;
    let b = tenant(&t, "b").await;
    let mut admin = Browser::login(&t.url, &a.admin_email, PASSWORD).await;
    let other = Browser::login(&t.url, &b.admin_email, PASSWORD).await;
    let site = site_id(&admin).await;
    let (_, me) = admin.get("/api/v1/me").await;
    let me = me["id"].as_str().unwrap().to_owned();
    let general = team(&mut admin, &me, "General").await;
    let billing = team(&mut admin, &me, "Billing team").await;
    ok(&admin
        .put(
            &format!("/api/v1/websites/{site}/routing"),
            json!({"default_team": general, "rules": [
                {"condition": {"department": "Billing"}, "team": billing, "skill": null},
                {"condition": {"department": "Sales"}, "team": general, "skill": null}
            ], "hours": null, "when_closed": "message", "offer_offline_after_secs": 60}),
        )
        .await);
    ok(&admin
        .put(&format!("/api/v1/websites/{site}/forms"), a_form())
        .await);
    let mut agent_socket = Client::agent(&t, &admin).await;

    let (token, contact, s) = session(&t, &a.site_key).await;
    let dept = &s["prechat"]["fields"][3];
    assert_eq!(dept["options"], json!(["Billing", "Sales"]), "{s}");
    let got = visitor_post(
        &t,
        Some(&token),
        "/api/v1/widget/prechat",
        json!({"answers": {"name": "Ann <b>Lee</b>", "email": "Ann@Example.test",
            "phone": "+49 30 123456", "department": "Billing", "plan": "Pro",
            "seats": 12, "terms": true, "order_ref": "A-1"}}),
    )
    .await;
    assert_eq!(got.0, 204, "{}", got.1);
    let mut v = Client::visitor(&t, &token).await;
    let conv = v
        .say("c1", None, "I was charged twice")
        .await
        .unwrap()
        .conversation_id
        .0;

    // Routed by the department, as the picker did.
    let (_, detail) = admin.get(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(
        detail["conversation"]["team_name"], "Billing team",
        "{detail}"
    );

    // On the contact: the profile and the attributes, as typed (text, never markup).
    let (_, c) = admin.get(&format!("/api/v1/contacts/{contact}")).await;
    let p = &c["contact"];
    assert_eq!(p["name"], "Ann <b>Lee</b>");
    assert_eq!(p["email"], "ann@example.test");
    assert_eq!(p["phone"], "+49 30 123456");
    assert_eq!(
        p["attributes"],
        json!({"department": "Billing", "order_ref": "A-1", "plan": "Pro", "seats": 12, "terms": true})
    );

    // On the conversation: every answer with its label, in the form's order.
    let (status, f) = admin
        .get(&format!("/api/v1/conversations/{conv}/feedback"))
        .await;
    assert_eq!(status, 200, "{f}");
    let answers = f["form"]["answers"].as_array().unwrap();
    let labels: Vec<&str> = answers
        .iter()
        .map(|x| x["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "Your name",
            "Email",
            "Phone",
            "Topic",
            "Plan",
            "Seats",
            "I accept the terms",
            "Order"
        ]
    );
    assert_eq!(answers[3]["value"], "Billing");
    assert_eq!(answers[5]["value"], 12);
    assert_eq!(f["form"]["offline"], false);
    assert_eq!(f["rating"], Value::Null);

    // A second visitor picks Sales: the general team.
    let (token2, _, _) = session(&t, &a.site_key).await;
    let got = visitor_post(
        &t,
        Some(&token2),
        "/api/v1/widget/prechat",
        json!({"answers": {"name": "Bo", "department": "Sales", "plan": "Free", "terms": true}}),
    )
    .await;
    assert_eq!(got.0, 204);
    let mut v2 = Client::visitor(&t, &token2).await;
    let conv2 = v2
        .say("c1", None, "Prices?")
        .await
        .unwrap()
        .conversation_id
        .0;
    let (_, d2) = admin.get(&format!("/api/v1/conversations/{conv2}")).await;
    assert_eq!(d2["conversation"]["team_name"], "General");

    // Answers given again once the conversation exists replace its answers, and agents hear it.
    let got = visitor_post(
        &t,
        Some(&token2),
        "/api/v1/widget/prechat",
        json!({"answers": {"name": "Bo Berg", "department": "Sales", "plan": "Pro", "terms": true}}),
    )
    .await;
    assert_eq!(got.0, 204);
    let heard = agent_socket
        .expect(|f| matches!(f, ServerFrame::Feedback { conversation_id, .. } if conversation_id.0 == conv2))
        .await;
    let ServerFrame::Feedback { feedback, .. } = heard else {
        unreachable!()
    };
    assert_eq!(feedback.form.unwrap().answers[0].value.as_text(), "Bo Berg");

    // Another organization sees none of it.
    problem(
        &other
            .get(&format!("/api/v1/conversations/{conv}/feedback"))
            .await,
        404,
        "not_found",
    );
    t.stop().await;
}

async fn a_resolved_conversation_is_rated_once_by_its_own_visitor(backend: Backend) {
    let t = TestServer::start(backend).await;
    let a = tenant(&t, "a").await;
    let b = tenant(&t, "b").await;
    let mut admin = Browser::login(&t.url, &a.admin_email, PASSWORD).await;
    let other = Browser::login(&t.url, &b.admin_email, PASSWORD).await;
    let site = site_id(&admin).await;
    let mut agent_socket = Client::agent(&t, &admin).await;
    let (token, _, _) = session(&t, &a.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    let conv = v.say("c1", None, "Help").await.unwrap().conversation_id.0;
    let rate = |tok: String, body: Value| {
        let t = &t;
        async move { visitor_post(t, Some(&tok), "/api/v1/widget/rating", body).await }
    };

    // Not resolved yet: refused.
    problem(
        &rate(token.clone(), json!({"conversation_id": conv, "csat": 4})).await,
        409,
        "not_resolved",
    );
    let (status, _) = admin
        .post(&format!("/api/v1/conversations/{conv}/resolve"), json!({}))
        .await;
    assert_eq!(status, 200);

    // Bad scores, a comment too long, CES while the site does not ask it: typed errors.
    for body in [
        json!({"conversation_id": conv, "csat": 0}),
        json!({"conversation_id": conv, "csat": 6}),
        json!({"conversation_id": conv, "csat": 4, "comment": "x".repeat(1001)}),
        json!({"conversation_id": conv, "csat": 4, "ces": 3}),
    ] {
        problem(&rate(token.clone(), body).await, 422, "invalid_rating");
    }
    problem(
        &rate(token.clone(), json!({"conversation_id": conv, "csat": 4.5})).await,
        400,
        "invalid_json",
    );

    // Someone else's conversation reads as not found, another tenant's visitor too.
    let (token2, _, _) = session(&t, &a.site_key).await;
    let (token_b, _, _) = session(&t, &b.site_key).await;
    for tok in [&token2, &token_b] {
        problem(
            &rate(tok.clone(), json!({"conversation_id": conv, "csat": 1})).await,
            404,
            "not_found",
        );
    }
    problem(
        &rate(token.clone(), json!({"conversation_id": "nope", "csat": 1})).await,
        404,
        "not_found",
    );

    let got = rate(
        token.clone(),
        json!({"conversation_id": conv, "csat": 2, "comment": "Slow"}),
    )
    .await;
    assert_eq!(ok(&got)["csat"], 2);
    // The site turns CES on; the visitor changes their mind: one rating, the latest.
    let (_, mut forms) = admin.get(&format!("/api/v1/websites/{site}/forms")).await;
    forms["end_of_chat"]["ces"] = json!(true);
    ok(&admin
        .put(&format!("/api/v1/websites/{site}/forms"), forms)
        .await);
    let got = rate(
        token.clone(),
        json!({"conversation_id": conv, "csat": 4, "ces": 5, "comment": "Quick and helpful"}),
    )
    .await;
    ok(&got);
    let heard = agent_socket
        .expect(|f| {
            matches!(f, ServerFrame::Feedback { feedback, .. } if feedback.rating.as_ref().is_some_and(|r| r.csat == 4))
        })
        .await;
    assert!(matches!(heard, ServerFrame::Feedback { .. }));
    let (_, f) = admin
        .get(&format!("/api/v1/conversations/{conv}/feedback"))
        .await;
    assert_eq!(f["rating"]["csat"], 4);
    assert_eq!(f["rating"]["ces"], 5);
    assert_eq!(f["rating"]["comment"], "Quick and helpful");
    // (The rating's key is the conversation: the second one above could only replace it.)

    // Another organization cannot read it.
    problem(
        &other
            .get(&format!("/api/v1/conversations/{conv}/feedback"))
            .await,
        404,
        "not_found",
    );
    t.stop().await;
}
