//! Search over the real API, on both databases: agents find conversations by what was written
//! (notes included) and contacts by their profile; every bad query is a typed error; no
//! organization ever sees another's results; only a logged-in agent may search.

use crate::common::*;
use serde_json::{Value, json};

on_both_backends!(
    agents_find_conversations_notes_and_contacts,
    bad_searches_are_typed_errors,
    another_organizations_data_is_never_returned,
);

fn path(q: &str) -> String {
    format!("/api/v1/search?q={}", url_encode(q))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[track_caller]
fn ok(got: (u16, Value)) -> Value {
    assert_eq!(got.0, 200, "{}", got.1);
    got.1
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

/// The snippet with its hits in brackets.
fn marked(snippet: &Value) -> String {
    snippet
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let t = s["text"].as_str().unwrap();
            if s["hit"].as_bool().unwrap() {
                format!("[{t}]")
            } else {
                t.to_owned()
            }
        })
        .collect()
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|h| h[key].as_str().unwrap().to_owned())
        .collect()
}

async fn agents_find_conversations_notes_and_contacts(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let agent = Browser::login(&t.url, &org.agent_email, PASSWORD).await;

    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    v.send(json!({"type": "set_contact", "name": "Ada Lovelace", "email": "ada@example.com"}))
        .await;
    let conv = v
        .say("c1", None, "My parcel to Zürich is <b>late</b>")
        .await
        .unwrap()
        .conversation_id
        .0;

    let r = ok(agent.get(&path("zurich")).await);
    let hit = &r["conversations"][0];
    assert_eq!(r["conversations"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(hit["conversation_id"], conv.as_str());
    assert_eq!(hit["contact_name"], "Ada Lovelace");
    assert_eq!(hit["status"], "open");
    assert_eq!(hit["message_kind"], "visitor");
    assert!(hit["created_at"].as_i64().unwrap() > 0);
    assert!(hit["message_at"].as_i64().unwrap() >= hit["created_at"].as_i64().unwrap());
    // Text, as typed: markup in a message is text in the snippet.
    assert_eq!(
        marked(&hit["snippet"]),
        "My parcel to [Zürich] is <b>late</b>"
    );

    // Typing as you search: a prefix finds it too.
    assert_eq!(
        ids(
            &ok(agent.get(&path("parc")).await)["conversations"],
            "conversation_id"
        ),
        [conv.as_str()]
    );

    // An internal note is found, and says it is one.
    let (status, _) = agent
        .request(
            "POST".parse().unwrap(),
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(json!({"client_id": "n1", "text": "refund approved by finance", "note": true})),
        )
        .await;
    assert_eq!(status, 200);
    let r = ok(agent.get(&path("refund")).await);
    assert_eq!(r["conversations"][0]["message_kind"], "note");
    assert_eq!(
        marked(&r["conversations"][0]["snippet"]),
        "[refund] approved by finance"
    );

    // Contacts by name or email, with their latest conversation.
    let r = ok(agent.get(&path("lovel")).await);
    assert_eq!(r["contacts"].as_array().unwrap().len(), 1, "{r}");
    let c = &r["contacts"][0];
    assert_eq!(c["name"], "Ada Lovelace");
    assert_eq!(c["email"], "ada@example.com");
    assert_eq!(c["latest_conversation_id"], conv.as_str());
    assert_eq!(marked(&c["snippet"]), "Ada [Lovelace] · ada@example.com");
    let r = ok(agent.get(&path("ada@example.com")).await);
    assert_eq!(r["contacts"].as_array().unwrap().len(), 1, "{r}");

    // A limit.
    let r = ok(agent.get(&(path("a") + "&limit=1")).await);
    assert!(r["conversations"].as_array().unwrap().len() <= 1);

    // Nobody else: no session, no search.
    let anonymous = Browser::new(&t.url);
    problem(anonymous.get(&path("zurich")).await, 401, "unauthenticated");
    t.stop().await;
}

async fn bad_searches_are_typed_errors(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let agent = Browser::login(&t.url, &org.agent_email, PASSWORD).await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    v.say("c1", None, "AND ( star* quote\" o'brien")
        .await
        .unwrap();

    problem(agent.get("/api/v1/search").await, 400, "invalid_search");
    for empty in ["", "   ", "\"", "*", "()", "'", ":*", "-"] {
        problem(agent.get(&path(empty)).await, 400, "invalid_search");
    }
    problem(
        agent.get(&path(&"a".repeat(201))).await,
        400,
        "invalid_search",
    );
    problem(
        agent.get(&path(&"a ".repeat(17))).await,
        400,
        "invalid_search",
    );
    for limit in ["0", "51", "x", "-1"] {
        problem(
            agent.get(&format!("{}&limit={limit}", path("star"))).await,
            400,
            "invalid_search",
        );
    }
    problem(
        agent.get(&format!("{}&unknown=1", path("star"))).await,
        400,
        "invalid_search",
    );
    // Whatever looks like query syntax is searched as words.
    for hostile in [
        "AND (",
        "star*",
        "quote\"",
        "o'brien",
        "a' & 'b",
        "body : x",
        "NEAR(a b)",
        "x\u{0}y",
        "🙂",
        "a:*",
    ] {
        let got = agent.get(&path(hostile)).await;
        assert!(
            got.0 == 200 || (got.0 == 400 && got.1["code"] == "invalid_search"),
            "{hostile:?}: {got:?}"
        );
    }
    assert_eq!(
        ok(agent.get(&path("AND (")).await)["conversations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        ok(agent.get(&path("o'brien")).await)["conversations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    t.stop().await;
}

async fn another_organizations_data_is_never_returned(backend: Backend) {
    let t = TestServer::start(backend).await;
    let a = tenant(&t, "a").await;
    let b = tenant(&t, "b").await;
    let agent_a = Browser::login(&t.url, &a.agent_email, PASSWORD).await;
    let agent_b = Browser::login(&t.url, &b.agent_email, PASSWORD).await;

    let mut said = Vec::new();
    for (org, name, text) in [
        (&a, "Walter White", "the blue crystal order"),
        (&b, "Walter Black", "the blue sapphire order"),
    ] {
        let token = visitor_token(&t, &org.site_key).await;
        let mut v = Client::visitor(&t, &token).await;
        v.send(json!({"type": "set_contact", "name": name, "email": null}))
            .await;
        said.push(v.say("c1", None, text).await.unwrap().conversation_id.0);
    }
    for (agent, mine, theirs) in [
        (&agent_a, &said[0], &said[1]),
        (&agent_b, &said[1], &said[0]),
    ] {
        let r = ok(agent.get(&path("blue order")).await);
        assert_eq!(ids(&r["conversations"], "conversation_id"), [mine.as_str()]);
        let r = ok(agent.get(&path("walter")).await);
        assert_eq!(r["contacts"].as_array().unwrap().len(), 1, "{r}");
        assert!(!r.to_string().contains(theirs.as_str()));
    }
    // The other organization's own words find nothing.
    let r = ok(agent_a.get(&path("sapphire")).await);
    assert_eq!(r, json!({"conversations": [], "contacts": []}));
    let r = ok(agent_b.get(&path("crystal")).await);
    assert_eq!(r, json!({"conversations": [], "contacts": []}));
    let r = ok(agent_a.get(&path("black")).await);
    assert_eq!(r, json!({"conversations": [], "contacts": []}));
    t.stop().await;
}
