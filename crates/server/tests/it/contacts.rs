//! Contacts over the real API and sockets, on both databases: editing a profile (and the
//! typed error of every bad field), the list's search, filters and pages, tenants, CSRF, and
//! merging, after which the merged-away visitor's token leads to the kept contact.

use crate::common::*;
use frontdesk_core::protocol::*;
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    an_agent_edits_a_profile_and_open_dashboards_hear_it,
    every_field_is_checked_with_a_typed_error,
    the_list_searches_filters_and_pages,
    tenants_cannot_reach_each_others_contacts,
    changes_need_this_servers_origin,
    merging_moves_conversations_and_the_merged_token_leads_to_the_kept_contact,
);

/// A new visitor on the site who says `text`; returns `(token, contact id, conversation id)`.
async fn visitor_says(t: &TestServer, site_key: &str, text: &str) -> (String, String, String) {
    let token = visitor_token(t, site_key).await;
    let mut v = Client::visitor(t, &token).await;
    let m = v.say("c1", None, text).await.unwrap();
    let conv = m.conversation_id.0.clone();
    let (status, c) = Browser::new(&t.url)
        .post(
            "/api/v1/widget/session",
            json!({"site_key": site_key, "token": token, "context": {}}),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    (token, c["contact_id"].as_str().unwrap().to_owned(), conv)
}

async fn patch(b: &Browser, id: &str, body: Value) -> (u16, Value) {
    b.request(Method::PATCH, &format!("/api/v1/contacts/{id}"), Some(body))
        .await
}

async fn merge(b: &Browser, kept: &str, other: &str) -> (u16, Value) {
    b.request(
        Method::POST,
        &format!("/api/v1/contacts/{kept}/merge"),
        Some(json!({"other_id": other})),
    )
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
fn ok(got: &(u16, Value)) -> &Value {
    assert_eq!(got.0, 200, "{}", got.1);
    &got.1
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn an_agent_edits_a_profile_and_open_dashboards_hear_it(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let agent = Browser::login(&t.url, &ten.agent_email, PASSWORD).await;
    let admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let (token, contact, conv) = visitor_says(&t, &ten.site_key, "Hello").await;
    let mut dashboard = Client::agent(&t, &admin).await;

    let got = patch(
        &agent,
        &contact,
        json!({"name": " Ann Lee ", "company": "Acme", "phone": "+1 (555) 010-9999",
               "attributes": {"plan": "pro", "seats": 3, "vip": true}}),
    )
    .await;
    let p = ok(&got);
    assert_eq!(p["id"], contact);
    assert_eq!(p["name"], "Ann Lee");
    assert_eq!(p["company"], "Acme");
    assert_eq!(p["phone"], "+1 (555) 010-9999");
    assert_eq!(
        p["attributes"],
        json!({"plan": "pro", "seats": 3, "vip": true})
    );
    assert_eq!(p["conversation_count"], 1);

    // Another agent's open dashboard hears it.
    let f = dashboard
        .expect(|f| matches!(f, ServerFrame::Contact { .. }))
        .await;
    let ServerFrame::Contact {
        contact: heard,
        merged_from,
    } = f
    else {
        unreachable!()
    };
    assert_eq!(heard.id.as_str(), contact);
    assert_eq!(heard.name.as_deref(), Some("Ann Lee"));
    assert_eq!(merged_from, None);

    // The conversation and the contact page show it.
    let (_, d) = agent.get(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(d["conversation"]["contact_name"], "Ann Lee");
    assert_eq!(d["contact"]["name"], "Ann Lee");
    let got = agent.get(&format!("/api/v1/contacts/{contact}")).await;
    let d = ok(&got);
    assert_eq!(d["contact"]["company"], "Acme");
    assert_eq!(d["conversations"][0]["id"], conv);
    assert_eq!(d["conversations"][0]["status"], "open");
    assert_eq!(d["conversations"][0]["last_message_preview"], "Hello");

    // Clearing a field, removing an attribute; what is not named stays.
    let got = patch(
        &agent,
        &contact,
        json!({"company": "", "attributes": {"seats": null}}),
    )
    .await;
    let p = ok(&got);
    assert_eq!(p["company"], Value::Null);
    assert_eq!(p["name"], "Ann Lee");
    assert_eq!(p["attributes"], json!({"plan": "pro", "vip": true}));
    // An empty patch changes nothing and answers the profile.
    let got = patch(&agent, &contact, json!({})).await;
    assert_eq!(ok(&got)["name"], "Ann Lee");

    // What the visitor gives in the widget reaches open panels the same way.
    let mut v = Client::visitor(&t, &token).await;
    v.send(json!({"type": "set_contact", "name": null, "email": "ann@example.test"}))
        .await;
    dashboard
        .expect(|f| {
            matches!(f, ServerFrame::Contact { contact: c, .. }
                if c.email.as_deref() == Some("ann@example.test") && c.name.as_deref() == Some("Ann Lee"))
        })
        .await;
}

async fn every_field_is_checked_with_a_typed_error(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let agent = Browser::login(&t.url, &ten.agent_email, PASSWORD).await;
    let (_, contact, _) = visitor_says(&t, &ten.site_key, "Hi").await;
    let long = "x".repeat(201);
    let too_many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
    for (body, status, code) in [
        (json!({"name": long}), 422, "invalid_name"),
        (json!({"name": "a\u{7}b"}), 422, "invalid_name"),
        (json!({"email": "not an email"}), 422, "invalid_email"),
        (json!({"phone": "call me maybe"}), 422, "invalid_phone"),
        (json!({"phone": "12"}), 422, "invalid_phone"),
        (json!({"company": long}), 422, "invalid_company"),
        (
            json!({"attributes": {"Bad Key": "x"}}),
            422,
            "invalid_attribute",
        ),
        (
            json!({"attributes": {"note": "y".repeat(501)}}),
            422,
            "invalid_attribute",
        ),
        (
            json!({"attributes": Value::Object(too_many)}),
            422,
            "invalid_attribute",
        ),
        (json!({"attributes": {"a": {"b": 1}}}), 400, "invalid_json"),
        (json!({"nickname": "Annie"}), 400, "invalid_json"),
        (json!({"name": 5}), 400, "invalid_json"),
    ] {
        problem(patch(&agent, &contact, body).await, status, code);
    }
    // Nothing of a refused patch was stored.
    let got = agent.get(&format!("/api/v1/contacts/{contact}")).await;
    let d = ok(&got);
    assert_eq!(d["contact"]["name"], Value::Null);
    assert_eq!(d["contact"]["attributes"], json!({}));
    // Ids that name nothing.
    problem(
        patch(&agent, "not-an-id", json!({"name": "x"})).await,
        404,
        "not_found",
    );
    problem(
        agent
            .get("/api/v1/contacts/00000000-0000-7000-8000-000000000000")
            .await,
        404,
        "not_found",
    );
    problem(merge(&agent, &contact, "nope").await, 404, "not_found");
    problem(
        agent
            .request(
                Method::POST,
                &format!("/api/v1/contacts/{contact}/merge"),
                Some(json!({"other": contact})),
            )
            .await,
        400,
        "invalid_json",
    );
    problem(
        merge(&agent, &contact, &contact).await,
        422,
        "invalid_merge",
    );
}

async fn the_list_searches_filters_and_pages(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let agent = Browser::login(&t.url, &ten.agent_email, PASSWORD).await;
    let (_, ann, _) = visitor_says(&t, &ten.site_key, "One").await;
    let (_, bob, _) = visitor_says(&t, &ten.site_key, "Two").await;
    let (_, anon, _) = visitor_says(&t, &ten.site_key, "Three").await;
    // A visitor who only browsed is no contact of the list.
    visitor_token(&t, &ten.site_key).await;
    ok(&patch(
        &agent,
        &ann,
        json!({"name": "Ann Lee", "email": "ann@acme.test", "attributes": {"plan": "pro"}}),
    )
    .await);
    ok(&patch(
        &agent,
        &bob,
        json!({"name": "Bob", "company": "ACME Labs", "attributes": {"plan": "free", "seats": 5}}),
    )
    .await);

    let list = |q: &str| {
        let path = format!("/api/v1/contacts{q}");
        let agent = &agent;
        async move {
            let got = agent.get(&path).await;
            ids(ok(&got))
        }
    };
    let all = list("").await;
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(all[0], anon, "the most recently seen first");
    assert_eq!(list("?q=acme").await.len(), 2);
    assert_eq!(list("?q=ANN%20LEE").await, vec![ann.clone()]);
    assert_eq!(list("?has_email=true").await, vec![ann.clone()]);
    assert_eq!(list("?has_email=false").await.len(), 2);
    assert_eq!(list("?attr.plan=pro").await, vec![ann.clone()]);
    assert_eq!(list("?attr.seats=5&q=labs").await, vec![bob.clone()]);
    assert!(list("?attr.plan=enterprise").await.is_empty());
    let site = {
        let got = agent.get("/api/v1/websites").await;
        ok(&got)[0]["id"].as_str().unwrap().to_owned()
    };
    assert_eq!(list(&format!("?website={site}")).await.len(), 3);
    assert_eq!(list("?seen_after=0&seen_before=1").await.len(), 0);
    // Empty values are "not set".
    assert_eq!(list("?q=&website=&has_email=").await.len(), 3);

    // Pages of one.
    let mut paged = Vec::new();
    let mut path = "/api/v1/contacts?limit=1".to_owned();
    loop {
        let got = agent.get(&path).await;
        let page = ok(&got);
        paged.extend(ids(page));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/contacts?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(paged, all);

    for q in [
        "?sort=name",
        "?q=a&q=b",
        "?website=not-an-id",
        "?has_email=yes",
        "?seen_after=yesterday",
        "?seen_after=5&seen_before=5",
        "?attr.bad%20key=x",
        "?cursor=junk",
        "?limit=0",
    ] {
        problem(
            agent.get(&format!("/api/v1/contacts{q}")).await,
            400,
            "invalid_filter",
        );
    }
}

async fn tenants_cannot_reach_each_others_contacts(backend: Backend) {
    let t = TestServer::start(backend).await;
    let a = tenant(&t, "a").await;
    let b = tenant(&t, "b").await;
    let agent_a = Browser::login(&t.url, &a.agent_email, PASSWORD).await;
    let admin_b = Browser::login(&t.url, &b.admin_email, PASSWORD).await;
    let (_, mine, _) = visitor_says(&t, &a.site_key, "A's visitor").await;
    let (_, theirs, _) = visitor_says(&t, &b.site_key, "B's visitor").await;
    ok(&patch(&agent_a, &mine, json!({"name": "Ann"})).await);
    let mut spy = Client::agent(&t, &admin_b).await;

    problem(
        admin_b.get(&format!("/api/v1/contacts/{mine}")).await,
        404,
        "not_found",
    );
    problem(
        patch(&admin_b, &mine, json!({"name": "Mallory"})).await,
        404,
        "not_found",
    );
    problem(merge(&admin_b, &theirs, &mine).await, 404, "not_found");
    problem(merge(&agent_a, &mine, &theirs).await, 404, "not_found");
    let got = admin_b.get("/api/v1/contacts?q=ann").await;
    assert!(ids(ok(&got)).is_empty());
    let got = admin_b.get("/api/v1/contacts").await;
    assert_eq!(ids(ok(&got)), vec![theirs.clone()]);
    let got = agent_a.get(&format!("/api/v1/contacts/{mine}")).await;
    assert_eq!(ok(&got)["contact"]["name"], "Ann");

    // B's dashboard never hears of A's contacts.
    ok(&patch(&agent_a, &mine, json!({"company": "Acme"})).await);
    ok(&patch(&admin_b, &theirs, json!({"company": "B Corp"})).await);
    let f = spy
        .expect(|f| matches!(f, ServerFrame::Contact { .. }))
        .await;
    let ServerFrame::Contact { contact, .. } = f else {
        unreachable!()
    };
    assert_eq!(contact.id.as_str(), theirs);
}

async fn changes_need_this_servers_origin(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let agent = Browser::login(&t.url, &ten.agent_email, PASSWORD).await;
    let (_, x, _) = visitor_says(&t, &ten.site_key, "X").await;
    let (_, y, _) = visitor_says(&t, &ten.site_key, "Y").await;
    let cookie = agent.cookie.clone().unwrap();
    let http = reqwest::Client::new();
    for origin in [None, Some("https://evil.test")] {
        let mut r = http
            .patch(format!("{}/api/v1/contacts/{x}", t.url))
            .header("Cookie", &cookie)
            .json(&json!({"name": "Pwned"}));
        if let Some(o) = origin {
            r = r.header("Origin", o);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "csrf_rejected");
        let mut r = http
            .post(format!("{}/api/v1/contacts/{x}/merge", t.url))
            .header("Cookie", &cookie)
            .json(&json!({"other_id": y}));
        if let Some(o) = origin {
            r = r.header("Origin", o);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "csrf_rejected");
    }
    let got = agent.get(&format!("/api/v1/contacts/{x}")).await;
    assert_eq!(ok(&got)["contact"]["name"], Value::Null);
    let got = agent.get(&format!("/api/v1/contacts/{y}")).await;
    ok(&got);
    // Reading needs the session, not the origin.
    let r = http
        .get(format!("{}/api/v1/contacts", t.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

async fn merging_moves_conversations_and_the_merged_token_leads_to_the_kept_contact(
    backend: Backend,
) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    // A plain agent may merge, as in Chatwoot.
    let agent = Browser::login(&t.url, &ten.agent_email, PASSWORD).await;
    let admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let (_, kept, kept_conv) = visitor_says(&t, &ten.site_key, "From the laptop").await;
    let (other_token, other, other_conv) = visitor_says(&t, &ten.site_key, "From the phone").await;
    ok(&patch(&agent, &kept, json!({"name": "Ann"})).await);
    ok(&patch(
        &agent,
        &other,
        json!({"name": "Annie", "email": "ann@x.test", "attributes": {"plan": "pro"}}),
    )
    .await);
    let mut other_widget = Client::visitor(&t, &other_token).await;
    let mut dashboard = Client::agent(&t, &admin).await;

    let got = merge(&agent, &kept, &other).await;
    let d = ok(&got);
    assert_eq!(d["contact"]["id"], kept);
    assert_eq!(d["contact"]["name"], "Ann");
    assert_eq!(d["contact"]["email"], "ann@x.test");
    assert_eq!(d["contact"]["attributes"], json!({"plan": "pro"}));
    assert_eq!(d["contact"]["conversation_count"], 2);
    let convs: Vec<&str> = d["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(convs.contains(&kept_conv.as_str()) && convs.contains(&other_conv.as_str()));

    // Dashboards hear which contact went where.
    let f = dashboard
        .expect(|f| matches!(f, ServerFrame::Contact { .. }))
        .await;
    let ServerFrame::Contact {
        contact,
        merged_from,
    } = f
    else {
        unreachable!()
    };
    assert_eq!(contact.id.as_str(), kept);
    assert_eq!(merged_from.map(|m| m.0), Some(other.clone()));
    let (_, c) = agent
        .get(&format!("/api/v1/conversations/{other_conv}"))
        .await;
    assert_eq!(c["conversation"]["contact_id"], kept);
    assert_eq!(c["conversation"]["contact_name"], "Ann");

    // The merged contact is gone for agents.
    problem(
        agent.get(&format!("/api/v1/contacts/{other}")).await,
        404,
        "not_found",
    );
    problem(merge(&agent, &kept, &other).await, 404, "not_found");
    let got = agent.get("/api/v1/contacts").await;
    assert_eq!(ids(ok(&got)), vec![kept.clone()]);

    // The merged-away widget is cut off; with its old token it comes back as the kept contact.
    other_widget.closed().await;
    let mut back = Client::visitor(&t, &other_token).await;
    let ServerFrame::Welcome { conversation, .. } = back.seen[0].clone() else {
        panic!("{:?}", back.seen)
    };
    let latest = conversation.expect("the kept contact's latest conversation");
    assert!(latest.id.0 == kept_conv || latest.id.0 == other_conv);
    let m = back.say("c2", None, "Still me").await.unwrap();
    assert_eq!(m.conversation_id, latest.id);
    let got = agent.get(&format!("/api/v1/contacts/{kept}")).await;
    assert_eq!(ok(&got)["contact"]["conversation_count"], 2, "no new one");
    // A new session with the old token resumes as the kept contact, with a token of its own.
    let (status, s) = Browser::new(&t.url)
        .post(
            "/api/v1/widget/session",
            json!({"site_key": ten.site_key, "token": other_token, "context": {}}),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["contact_id"], kept);
    assert_eq!(s["new_visitor"], false);
    let fresh = s["token"].as_str().unwrap().to_owned();
    assert_ne!(fresh, other_token);
    let mut again = Client::visitor(&t, &fresh).await;
    let m = again.say("c3", None, "And again").await.unwrap();
    assert_eq!(m.conversation_id, latest.id);
}
