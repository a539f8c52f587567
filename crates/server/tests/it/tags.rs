//! Tags and the inbox filter over the real API and sockets, on both databases: admins manage
//! the list, any agent tags a conversation (creating a tag by naming it), tenants never see
//! each other's tags, agents see changes live, and the visitor never receives a tag.

use crate::common::*;
use frontdesk_core::protocol::ServerFrame;
use serde_json::{Value, json};

on_both_backends!(
    admins_manage_the_list_and_every_agent_tags,
    tenants_never_reach_each_others_tags,
    agents_see_tag_changes_live_and_the_visitor_never_does,
    inbox_filters_are_checked_and_page_exactly,
);

async fn call(b: &Browser, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    b.request(method.parse().unwrap(), &format!("/api/v1{path}"), body)
        .await
}
async fn get(b: &Browser, path: &str) -> (u16, Value) {
    call(b, "GET", path, None).await
}
async fn post(b: &Browser, path: &str, body: Value) -> (u16, Value) {
    call(b, "POST", path, Some(body)).await
}
async fn put(b: &Browser, path: &str, body: Value) -> (u16, Value) {
    call(b, "PUT", path, Some(body)).await
}
async fn delete(b: &Browser, path: &str) -> (u16, Value) {
    call(b, "DELETE", path, None).await
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

/// The names of the tags in a tag list or on a conversation.
fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A new visitor writes in; returns the conversation id.
async fn chat(t: &TestServer, site_key: &str, text: &str) -> String {
    let token = visitor_token(t, site_key).await;
    let mut v = Client::visitor(t, &token).await;
    v.say("hello", None, text).await.unwrap().conversation_id.0
}

async fn admins_manage_the_list_and_every_agent_tags(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let agent = Browser::login(&t.url, &org.agent_email, PASSWORD).await;

    // Managing the list is for admins.
    problem(
        post(&agent, "/tags", json!({"name": "vip"})).await,
        403,
        "forbidden",
    );
    let vip = ok(post(&admin, "/tags", json!({"name": " VIP ", "color": "purple"})).await);
    assert_eq!(
        (vip["name"].as_str(), vip["color"].as_str()),
        (Some("VIP"), Some("purple"))
    );
    let vip_id = vip["id"].as_str().unwrap().to_owned();
    problem(
        put(&agent, &format!("/tags/{vip_id}"), json!({"color": "red"})).await,
        403,
        "forbidden",
    );
    problem(
        delete(&agent, &format!("/tags/{vip_id}")).await,
        403,
        "forbidden",
    );

    // Every name and colour is checked.
    problem(
        post(&admin, "/tags", json!({"name": "vip"})).await,
        409,
        "conflict",
    );
    problem(
        post(&admin, "/tags", json!({"name": "  "})).await,
        422,
        "invalid_tag_name",
    );
    problem(
        post(&admin, "/tags", json!({"name": "x".repeat(41)})).await,
        422,
        "invalid_tag_name",
    );
    problem(
        post(&admin, "/tags", json!({"name": "a\u{7}b"})).await,
        422,
        "invalid_tag_name",
    );
    problem(
        post(&admin, "/tags", json!({"name": "ok", "color": "mauve"})).await,
        400,
        "invalid_json",
    );
    problem(
        post(&admin, "/tags", json!({"name": "ok", "style": "bold"})).await,
        400,
        "invalid_json",
    );
    // Without a colour, one is picked from the name.
    let bug = ok(post(&admin, "/tags", json!({"name": "bug"})).await);
    assert!(bug["color"].is_string());

    // Everyone reads the list, sorted by name.
    assert_eq!(names(&ok(get(&agent, "/tags").await)), ["bug", "VIP"]);

    // Any agent tags: by naming a new tag (created), by naming one in another case, by id.
    let conv = chat(&t, &org.site_key, "my order is late").await;
    let path = format!("/conversations/{conv}/tags");
    let c = ok(post(&agent, &path, json!({"name": "Refund"})).await);
    assert_eq!(names(&c["tags"]), ["Refund"]);
    assert_eq!(
        names(&ok(get(&agent, "/tags").await)),
        ["bug", "Refund", "VIP"]
    );
    let c = ok(post(&agent, &path, json!({"name": "vip"})).await);
    assert_eq!(names(&c["tags"]), ["Refund", "VIP"]);
    let c = ok(post(&agent, &path, json!({"tag_id": bug["id"]})).await);
    assert_eq!(names(&c["tags"]), ["bug", "Refund", "VIP"]);
    assert_eq!(
        names(&ok(get(&agent, "/tags").await)).len(),
        3,
        "no duplicate tag"
    );
    // Exactly one of tag_id and name.
    problem(
        post(&agent, &path, json!({"tag_id": vip_id, "name": "x"})).await,
        400,
        "invalid_json",
    );
    problem(post(&agent, &path, json!({})).await, 400, "invalid_json");
    problem(
        post(&agent, &path, json!({"name": ""})).await,
        422,
        "invalid_tag_name",
    );
    problem(
        post(&agent, &path, json!({"tag_id": "not-an-id"})).await,
        404,
        "not_found",
    );
    problem(
        post(&agent, "/conversations/nope/tags", json!({"name": "x"})).await,
        404,
        "not_found",
    );

    // Taking one off, by anyone of the organization.
    let c = ok(delete(&agent, &format!("{path}/{vip_id}")).await);
    assert_eq!(names(&c["tags"]), ["bug", "Refund"]);
    problem(
        delete(&agent, &format!("{path}/nope")).await,
        404,
        "not_found",
    );

    // The tagging is on record as internal notes.
    let msgs = ok(get(&agent, &format!("/conversations/{conv}/messages")).await);
    let notes: Vec<&str> = msgs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "note")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        [
            "Agent a added the tag “Refund”",
            "Agent a added the tag “VIP”",
            "Agent a added the tag “bug”",
            "Agent a removed the tag “VIP”",
        ]
    );

    // Admins rename, recolour and delete; conversations follow.
    let refund_id = c["tags"][1]["id"].as_str().unwrap().to_owned();
    problem(
        put(
            &admin,
            &format!("/tags/{refund_id}"),
            json!({"name": "BUG"}),
        )
        .await,
        409,
        "conflict",
    );
    let r = ok(put(
        &admin,
        &format!("/tags/{refund_id}"),
        json!({"name": "Refunds", "color": "red"}),
    )
    .await);
    assert_eq!(
        (r["name"].as_str(), r["color"].as_str()),
        (Some("Refunds"), Some("red"))
    );
    let detail = ok(get(&agent, &format!("/conversations/{conv}")).await);
    assert_eq!(names(&detail["conversation"]["tags"]), ["bug", "Refunds"]);
    assert_eq!(detail["conversation"]["tags"][1]["color"], "red");
    let (status, _) = delete(&admin, &format!("/tags/{refund_id}")).await;
    assert_eq!(status, 204);
    let detail = ok(get(&agent, &format!("/conversations/{conv}")).await);
    assert_eq!(names(&detail["conversation"]["tags"]), ["bug"]);
    problem(
        delete(&admin, &format!("/tags/{refund_id}")).await,
        404,
        "not_found",
    );
    problem(
        put(&admin, "/tags/not-an-id", json!({"color": "red"})).await,
        404,
        "not_found",
    );
    t.stop().await;
}

async fn tenants_never_reach_each_others_tags(backend: Backend) {
    let t = TestServer::start(backend).await;
    let a = tenant(&t, "a").await;
    let b = tenant(&t, "b").await;
    let admin_a = Browser::login(&t.url, &a.admin_email, PASSWORD).await;
    let admin_b = Browser::login(&t.url, &b.admin_email, PASSWORD).await;
    let agent_b = Browser::login(&t.url, &b.agent_email, PASSWORD).await;
    let conv_a = chat(&t, &a.site_key, "a's visitor").await;
    let conv_b = chat(&t, &b.site_key, "b's visitor").await;
    let tag_a = ok(post(&admin_a, "/tags", json!({"name": "secret plan"})).await);
    let id_a = tag_a["id"].as_str().unwrap();
    ok(post(
        &admin_a,
        &format!("/conversations/{conv_a}/tags"),
        json!({"tag_id": id_a}),
    )
    .await);

    // B cannot see, change, delete or use A's tag, nor tag A's conversation.
    assert_eq!(
        names(&ok(get(&admin_b, "/tags").await)),
        Vec::<String>::new()
    );
    problem(
        put(
            &admin_b,
            &format!("/tags/{id_a}"),
            json!({"name": "stolen"}),
        )
        .await,
        404,
        "not_found",
    );
    problem(
        delete(&admin_b, &format!("/tags/{id_a}")).await,
        404,
        "not_found",
    );
    problem(
        post(
            &agent_b,
            &format!("/conversations/{conv_b}/tags"),
            json!({"tag_id": id_a}),
        )
        .await,
        404,
        "not_found",
    );
    problem(
        post(
            &agent_b,
            &format!("/conversations/{conv_a}/tags"),
            json!({"name": "mine"}),
        )
        .await,
        404,
        "not_found",
    );
    problem(
        delete(&agent_b, &format!("/conversations/{conv_a}/tags/{id_a}")).await,
        404,
        "not_found",
    );
    // Naming a tag on a conversation one cannot see creates nothing.
    assert_eq!(
        names(&ok(get(&admin_b, "/tags").await)),
        Vec::<String>::new()
    );
    // The same name is B's own tag.
    let c = ok(post(
        &agent_b,
        &format!("/conversations/{conv_b}/tags"),
        json!({"name": "Secret Plan"}),
    )
    .await);
    assert_ne!(c["tags"][0]["id"].as_str(), Some(id_a));
    // Filtering by A's tag, site or agent finds nothing in B's inbox.
    for q in [
        format!("tag={id_a}"),
        format!("website={}", site_id(&admin_a).await),
    ] {
        let page = ok(get(&admin_b, &format!("/conversations?{q}")).await);
        assert_eq!(page["items"], json!([]), "{q}");
    }
    // A still has exactly its own.
    let page = ok(get(&admin_a, &format!("/conversations?tag={id_a}")).await);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], conv_a.as_str());
    t.stop().await;
}

async fn site_id(b: &Browser) -> String {
    ok(get(b, "/websites").await)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn agents_see_tag_changes_live_and_the_visitor_never_does(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let agent = Browser::login(&t.url, &org.agent_email, PASSWORD).await;
    let mut admin_ws = Client::agent(&t, &admin).await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut visitor = Client::visitor(&t, &token).await;
    let conv = visitor
        .say("v1", None, "hello")
        .await
        .unwrap()
        .conversation_id
        .0;

    // The agent tags the conversation with a new tag; the admin's dashboard hears of the new
    // tag, of the note and of the conversation with its tags.
    const SECRET: &str = "Suspected fraud";
    ok(post(
        &agent,
        &format!("/conversations/{conv}/tags"),
        json!({"name": SECRET}),
    )
    .await);
    let f = admin_ws
        .expect(|f| matches!(f, ServerFrame::Tags { .. }))
        .await;
    let ServerFrame::Tags { tags } = f else {
        unreachable!()
    };
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0].name, SECRET);
    let tag_id = tags[0].id.0.clone();
    let f = admin_ws
        .expect(|f| matches!(f, ServerFrame::Conversation { conversation } if !conversation.tags.is_empty()))
        .await;
    let ServerFrame::Conversation { conversation } = f else {
        unreachable!()
    };
    assert_eq!(conversation.tags[0].name, SECRET);
    assert!(admin_ws.seen.iter().any(|f| matches!(f,
        ServerFrame::Message { message } if message.text.contains(SECRET) && message.public_seq.is_none())));

    // A rename reaches the agents as a new list.
    ok(put(
        &admin,
        &format!("/tags/{tag_id}"),
        json!({"name": "Fraud check", "color": "red"}),
    )
    .await);
    let f = admin_ws
        .expect(|f| matches!(f, ServerFrame::Tags { tags } if tags.iter().any(|t| t.name == "Fraud check")))
        .await;
    assert!(matches!(f, ServerFrame::Tags { .. }));
    // Taking it off is live too.
    ok(delete(&agent, &format!("/conversations/{conv}/tags/{tag_id}")).await);
    admin_ws
        .expect(|f| matches!(f, ServerFrame::Conversation { conversation } if conversation.tags.is_empty()))
        .await;

    // The visitor's socket: its frames are in order, so once the ack of a later message
    // arrives, everything published before it has been seen. Nothing names a tag.
    visitor
        .say("v2", Some(&conv), "still there?")
        .await
        .unwrap();
    let history = visitor.sync(&conv, 0).await;
    assert_eq!(
        history.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["hello", "still there?"]
    );
    assert!(visitor.seen.len() >= 3);
    for f in &visitor.seen {
        let json = serde_json::to_string(f).unwrap();
        for word in [SECRET, "Fraud check", "\"tags\""] {
            assert!(!json.contains(word), "the visitor got {json}");
        }
    }
    // Nor does the visitor's REST session.
    let mut b = Browser::new(&t.url);
    let (_, session) = b
        .post(
            "/api/v1/widget/session",
            json!({"site_key": org.site_key, "token": token}),
        )
        .await;
    for word in [SECRET, "Fraud check", "\"tags\""] {
        assert!(!session.to_string().contains(word), "{session}");
    }
    t.stop().await;
}

async fn inbox_filters_are_checked_and_page_exactly(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let agent = Browser::login(&t.url, &org.agent_email, PASSWORD).await;
    for (q, code) in [
        ("tag=billing", "invalid_filter"),
        ("team=1", "invalid_filter"),
        ("assignee=%27%20OR%201%3D1", "invalid_filter"),
        ("website=x", "invalid_filter"),
        ("priority=low", "invalid_filter"),
        ("date=updated", "invalid_filter"),
        ("from=yesterday", "invalid_filter"),
        ("from=2000&to=1000", "invalid_filter"),
        ("limit=0", "invalid_filter"),
        ("limit=many", "invalid_filter"),
        ("colour=red", "invalid_filter"),
        ("tag=a&tag=b", "invalid_filter"),
        ("tab=bogus", "invalid_frame"),
    ] {
        problem(get(&agent, &format!("/conversations?{q}")).await, 400, code);
    }
    // Empty values are "not set".
    ok(get(&agent, "/conversations?tab=all&tag=&team=&priority=").await);

    // Five conversations, three tagged "vip"; paging one at a time under the filter finds
    // exactly those three, newest activity first, and the other two never.
    let mut all = Vec::new();
    for i in 0..5 {
        all.push(chat(&t, &org.site_key, &format!("visitor {i}")).await);
    }
    let mut vip = Vec::new();
    for c in [&all[0], &all[2], &all[4]] {
        let got = ok(post(
            &agent,
            &format!("/conversations/{c}/tags"),
            json!({"name": "vip"}),
        )
        .await);
        vip.push((got["updated_at"].as_i64().unwrap(), c.clone()));
    }
    let tag = ok(get(&agent, "/tags").await)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    vip.sort();
    vip.reverse();
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = ok(get(
            &agent,
            &format!("/conversations?tab=all&tag={tag}&limit=1&cursor={cursor}"),
        )
        .await);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 1);
        seen.extend(items.iter().map(|c| c["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, vip.into_iter().map(|(_, c)| c).collect::<Vec<_>>());
    // Filters combine: vip and urgent is nothing until one is urgent.
    let q = format!("/conversations?tag={tag}&priority=urgent");
    assert_eq!(ok(get(&agent, &q).await)["items"], json!([]));
    ok(post(
        &agent,
        &format!("/conversations/{}/priority", all[2]),
        json!({"priority": "urgent"}),
    )
    .await);
    let page = ok(get(&agent, &q).await);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], all[2].as_str());
    // A date range on creation: everything from the first conversation's creation on.
    let first = ok(get(&agent, &format!("/conversations/{}", all[0])).await);
    let created = first["conversation"]["created_at"].as_i64().unwrap();
    let page = ok(get(
        &agent,
        &format!("/conversations?date=created&from={created}&limit=100"),
    )
    .await);
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    let page = ok(get(&agent, &format!("/conversations?date=created&to={created}")).await);
    assert_eq!(page["items"], json!([]));
    t.stop().await;
}
