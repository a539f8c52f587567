//! Who may do what: one test per permission rule of teams, routing, transfers, invitations,
//! replies, limits and settings, each checking the status and the problem's `code`.

use crate::common::*;
use serde_json::{Value, json};

/// One organization with an admin, a supervisor and an agent, all logged in.
struct Org {
    t: TestServer,
    tenant: Tenant,
    admin: Browser,
    sup: Browser,
    agent: Browser,
    admin_id: String,
    sup_id: String,
    agent_id: String,
}

async fn org() -> Org {
    let t = TestServer::start(Backend::Sqlite).await;
    let tenant = tenant(&t, "r").await;
    let mut admin = Browser::login(&t.url, &tenant.admin_email, PASSWORD).await;
    let (status, sup) = admin
        .post(
            "/api/v1/agents",
            json!({"email":"sup@r.test","name":"Sue Supervisor","password":PASSWORD,"role":"supervisor"}),
        )
        .await;
    assert_eq!(status, 200, "{sup}");
    assert_eq!(sup["role"], "supervisor");
    let sup_b = Browser::login(&t.url, "sup@r.test", PASSWORD).await;
    let agent = Browser::login(&t.url, &tenant.agent_email, PASSWORD).await;
    let admin_id = id_of(&admin, &tenant.admin_email).await;
    let agent_id = id_of(&admin, &tenant.agent_email).await;
    Org {
        t,
        admin,
        sup: sup_b,
        agent,
        admin_id,
        sup_id: sup["id"].as_str().unwrap().to_owned(),
        agent_id,
        tenant,
    }
}

/// The id of the colleague with this email.
async fn id_of(b: &Browser, email: &str) -> String {
    let (status, agents) = b.get("/api/v1/agents").await;
    assert_eq!(status, 200, "{agents}");
    agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == email)
        .unwrap_or_else(|| panic!("no agent {email} in {agents}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Any method under `/api/v1`, with the browser's cookie and Origin.
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

fn team(name: &str, members: &[&str]) -> Value {
    json!({"name": name, "strategy": "manual", "members": members, "overflow": null, "away_action": "return", "hours": null})
}

fn settings(role: &str, max_chats: u32) -> Value {
    json!({"role": role, "max_chats": max_chats, "skills": [], "languages": []})
}

fn routing(default_team: Option<&str>) -> Value {
    json!({"default_team": default_team, "rules": [], "hours": null, "when_closed": "message", "offer_offline_after_secs": 120})
}

/// Seven days of 09:00–17:00, with one bad interval on Monday when `bad`.
fn hours(bad: bool) -> Value {
    let mut days = vec![json!([[540, 1020]]); 7];
    if bad {
        days[0] = json!([[600, 600]]);
    }
    json!({"timezone": "Europe/Berlin", "days": days, "holidays": []})
}

/// A new visitor writes in; returns the conversation id (unassigned: nobody is online).
async fn chat(o: &Org, text: &str) -> String {
    let token = visitor_token(&o.t, &o.tenant.site_key).await;
    let mut v = Client::visitor(&o.t, &token).await;
    let m = v.say("hello", None, text).await.unwrap();
    m.conversation_id.0
}

async fn take(b: &Browser, conv: &str) {
    let got = post(b, &format!("/conversations/{conv}/take"), json!({})).await;
    assert_eq!(got.1["status"], "assigned", "{}", got.1);
    ok(&got);
}

async fn conversation(b: &Browser, conv: &str) -> Value {
    let got = get(b, &format!("/conversations/{conv}")).await;
    ok(&got).clone()
}

async fn reply(b: &Browser, conv: &str, client_id: &str, text: &str, note: bool) -> (u16, Value) {
    post(
        b,
        &format!("/conversations/{conv}/messages"),
        json!({"client_id": client_id, "text": text, "note": note}),
    )
    .await
}

async fn site_id(b: &Browser) -> String {
    let got = get(b, "/websites").await;
    ok(&got)[0]["id"].as_str().unwrap().to_owned()
}

// ---- admin-only settings ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_manage_teams() {
    let o = org().await;
    for b in [&o.agent, &o.sup] {
        problem(
            post(b, "/teams", team("Sales", &[])).await,
            403,
            "forbidden",
        );
    }
    let created = post(&o.admin, "/teams", team("Sales", &[&o.agent_id])).await;
    let id = ok(&created)["id"].as_str().unwrap().to_owned();
    assert_eq!(created.1["name"], "Sales");
    assert_eq!(created.1["members"], json!([o.agent_id]));
    for b in [&o.agent, &o.sup] {
        problem(
            put(b, &format!("/teams/{id}"), team("Renamed", &[])).await,
            403,
            "forbidden",
        );
        problem(
            call(b, "DELETE", &format!("/teams/{id}"), None).await,
            403,
            "forbidden",
        );
    }
    // Nothing the refused calls asked for happened.
    let listed = get(&o.agent, "/teams").await;
    assert_eq!(ok(&listed).as_array().unwrap().len(), 1);
    assert_eq!(listed.1[0]["name"], "Sales");
    assert_eq!(listed.1[0]["members"], json!([o.agent_id]));
    let updated = put(
        &o.admin,
        &format!("/teams/{id}"),
        team("Sales EU", &[&o.agent_id, &o.sup_id]),
    )
    .await;
    assert_eq!(ok(&updated)["name"], "Sales EU");
    assert_eq!(updated.1["id"], id.as_str());
    let deleted = call(&o.admin, "DELETE", &format!("/teams/{id}"), None).await;
    assert_eq!(deleted.0, 204, "{}", deleted.1);
    let listed = get(&o.admin, "/teams").await;
    assert_eq!(ok(&listed), &json!([]));
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_change_agent_settings() {
    let o = org().await;
    let path = format!("/agents/{}", o.agent_id);
    // Not even their own settings.
    problem(
        put(&o.agent, &path, settings("agent", 9)).await,
        403,
        "forbidden",
    );
    problem(
        put(&o.sup, &path, settings("agent", 9)).await,
        403,
        "forbidden",
    );
    problem(
        put(&o.sup, &path, settings("admin", 3)).await,
        403,
        "forbidden",
    );
    let (_, agents) = get(&o.admin, "/agents").await;
    let me = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == o.agent_id.as_str())
        .unwrap();
    assert_eq!(
        (me["role"].as_str(), me["max_chats"].as_u64()),
        (Some("agent"), Some(3))
    );
    let changed = put(
        &o.admin,
        &path,
        json!({"role":"agent","max_chats":7,"skills":["billing"],"languages":["de"]}),
    )
    .await;
    assert_eq!(ok(&changed)["max_chats"], 7);
    assert_eq!(changed.1["skills"], json!(["billing"]));
    assert_eq!(changed.1["languages"], json!(["de"]));
    assert_eq!(changed.1["role"], "agent");
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_read_and_change_site_routing() {
    let o = org().await;
    let site = site_id(&o.agent).await;
    let path = format!("/websites/{site}/routing");
    let sales = post(&o.admin, "/teams", team("Sales", &[])).await;
    let sales = ok(&sales)["id"].as_str().unwrap().to_owned();
    for b in [&o.agent, &o.sup] {
        problem(get(b, &path).await, 403, "forbidden");
        problem(put(b, &path, routing(Some(&sales))).await, 403, "forbidden");
    }
    let before = get(&o.admin, &path).await;
    assert_eq!(ok(&before)["default_team"], Value::Null);
    let body = json!({"default_team": null, "rules": [{"condition": {"url_pattern": "*/pricing*"}, "team": sales, "skill": null}], "hours": null, "when_closed": "message", "offer_offline_after_secs": 120});
    let saved = put(&o.admin, &path, body).await;
    assert_eq!(ok(&saved)["rules"][0]["team"], sales.as_str());
    let after = get(&o.admin, &path).await;
    assert_eq!(
        ok(&after)["rules"][0]["condition"]["url_pattern"],
        "*/pricing*"
    );
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_add_agents_and_websites() {
    let o = org().await;
    for (n, b) in [&o.agent, &o.sup].into_iter().enumerate() {
        problem(
            post(
                b,
                "/agents",
                json!({"email": format!("new{n}@r.test"), "name":"New","password":PASSWORD,"role":"admin"}),
            )
            .await,
            403,
            "forbidden",
        );
        problem(
            post(
                b,
                "/websites",
                json!({"name":"Blog","domain":"blog.r.test"}),
            )
            .await,
            403,
            "forbidden",
        );
    }
    let (_, agents) = get(&o.admin, "/agents").await;
    assert_eq!(agents.as_array().unwrap().len(), 3, "{agents}");
    let (_, sites) = get(&o.admin, "/websites").await;
    assert_eq!(sites.as_array().unwrap().len(), 1, "{sites}");
    let added = post(
        &o.admin,
        "/agents",
        json!({"email":"new@r.test","name":"New","password":PASSWORD,"role":"agent"}),
    )
    .await;
    assert_eq!(ok(&added)["email"], "new@r.test");
    let site = post(
        &o.admin,
        "/websites",
        json!({"name":"Blog","domain":"blog.r.test"}),
    )
    .await;
    assert_eq!(ok(&site)["name"], "Blog");
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_is_for_supervisors_and_admins_and_teams_for_everyone() {
    let o = org().await;
    let created = post(&o.admin, "/teams", team("Support", &[&o.agent_id])).await;
    ok(&created);
    problem(get(&o.agent, "/monitor").await, 403, "forbidden");
    for b in [&o.sup, &o.admin] {
        let m = get(b, "/monitor").await;
        assert_eq!(ok(&m)["waiting"], 0, "{}", m.1);
        assert!(m.1["agents"].is_array(), "{}", m.1);
    }
    for b in [&o.agent, &o.sup, &o.admin] {
        let teams = get(b, "/teams").await;
        assert_eq!(ok(&teams)[0]["name"], "Support");
    }
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_cannot_take_away_their_own_admin_role() {
    let o = org().await;
    let path = format!("/agents/{}", o.admin_id);
    problem(
        put(&o.admin, &path, settings("agent", 3)).await,
        422,
        "invalid_settings",
    );
    problem(
        put(&o.admin, &path, settings("supervisor", 3)).await,
        422,
        "invalid_settings",
    );
    let (_, me) = get(&o.admin, "/me").await;
    assert_eq!(me["role"], "admin", "{me}");
    // Their own limit, keeping the role, is fine.
    let kept = put(&o.admin, &path, settings("admin", 5)).await;
    assert_eq!(ok(&kept)["max_chats"], 5);
    assert_eq!(kept.1["role"], "admin");
    o.t.stop().await;
}

// ---- transfers ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_transfer_their_own_and_unassigned_chats_but_not_a_colleagues() {
    let o = org().await;
    let sales = post(&o.admin, "/teams", team("Sales", &[&o.sup_id])).await;
    let sales = ok(&sales)["id"].as_str().unwrap().to_owned();
    // Their own chat, to the supervisor.
    let mine = chat(&o, "mine").await;
    take(&o.agent, &mine).await;
    let moved = post(
        &o.agent,
        &format!("/conversations/{mine}/transfer"),
        json!({"agent_id": o.sup_id, "team_id": null, "reason": null}),
    )
    .await;
    assert_eq!(ok(&moved)["assignee_id"], o.sup_id.as_str());
    assert_eq!(moved.1["assignee_name"], "Sue Supervisor");
    // An unassigned chat, to a team.
    let free = chat(&o, "free").await;
    let moved = post(
        &o.agent,
        &format!("/conversations/{free}/transfer"),
        json!({"agent_id": null, "team_id": sales, "reason": null}),
    )
    .await;
    assert_eq!(ok(&moved)["team_id"], sales.as_str());
    assert_eq!(moved.1["team_name"], "Sales");
    assert_eq!(moved.1["status"], "open");
    // A colleague's (the one just handed to the supervisor, and one the admin holds): no.
    let admins = chat(&o, "admin's").await;
    take(&o.admin, &admins).await;
    for conv in [&mine, &admins] {
        problem(
            post(
                &o.agent,
                &format!("/conversations/{conv}/transfer"),
                json!({"agent_id": o.agent_id, "team_id": null, "reason": null}),
            )
            .await,
            403,
            "forbidden",
        );
        problem(
            post(
                &o.agent,
                &format!("/conversations/{conv}/transfer"),
                json!({"agent_id": null, "team_id": sales, "reason": null}),
            )
            .await,
            403,
            "forbidden",
        );
    }
    let d = conversation(&o.admin, &mine).await;
    assert_eq!(d["conversation"]["assignee_id"], o.sup_id.as_str());
    let d = conversation(&o.admin, &admins).await;
    assert_eq!(d["conversation"]["assignee_id"], o.admin_id.as_str());
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_transfer_anyones_chat() {
    let o = org().await;
    let conv = chat(&o, "help").await;
    take(&o.agent, &conv).await;
    let moved = post(
        &o.sup,
        &format!("/conversations/{conv}/transfer"),
        json!({"agent_id": o.admin_id, "team_id": null, "reason": null}),
    )
    .await;
    assert_eq!(ok(&moved)["assignee_id"], o.admin_id.as_str());
    assert_eq!(moved.1["assignee_name"], "Admin r");
    assert_eq!(moved.1["status"], "assigned");
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_to_an_agent_at_their_limit_is_refused() {
    let o = org().await;
    let limited = put(
        &o.admin,
        &format!("/agents/{}", o.agent_id),
        settings("agent", 1),
    )
    .await;
    assert_eq!(ok(&limited)["max_chats"], 1);
    let theirs = chat(&o, "first").await;
    take(&o.agent, &theirs).await;
    let conv = chat(&o, "second").await;
    take(&o.admin, &conv).await;
    problem(
        post(
            &o.admin,
            &format!("/conversations/{conv}/transfer"),
            json!({"agent_id": o.agent_id, "team_id": null, "reason": "billing question"}),
        )
        .await,
        409,
        "agent_at_capacity",
    );
    // Nothing moved, and no note or system message was stored.
    let d = conversation(&o.admin, &conv).await;
    assert_eq!(d["conversation"]["assignee_id"], o.admin_id.as_str());
    let (_, page) = get(&o.admin, &format!("/conversations/{conv}/messages")).await;
    assert!(
        page["items"].as_array().unwrap().iter().all(|m| !m["text"]
            .as_str()
            .unwrap()
            .contains("billing question")
            && !m["text"].as_str().unwrap().contains("transferred")),
        "{page}"
    );
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_names_exactly_one_target_and_a_short_reason() {
    let o = org().await;
    let sales = post(&o.admin, "/teams", team("Sales", &[])).await;
    let sales = ok(&sales)["id"].as_str().unwrap().to_owned();
    let conv = chat(&o, "help").await;
    take(&o.admin, &conv).await;
    let path = format!("/conversations/{conv}/transfer");
    problem(
        post(
            &o.admin,
            &path,
            json!({"agent_id": o.agent_id, "team_id": sales, "reason": null}),
        )
        .await,
        400,
        "invalid_json",
    );
    problem(
        post(
            &o.admin,
            &path,
            json!({"agent_id": null, "team_id": null, "reason": null}),
        )
        .await,
        400,
        "invalid_json",
    );
    problem(
        post(
            &o.admin,
            &path,
            json!({"agent_id": o.agent_id, "team_id": null, "reason": "x".repeat(501)}),
        )
        .await,
        422,
        "message_too_long",
    );
    let d = conversation(&o.admin, &conv).await;
    assert_eq!(d["conversation"]["assignee_id"], o.admin_id.as_str());
    // 500 characters (not bytes) is the limit.
    let moved = post(
        &o.admin,
        &path,
        json!({"agent_id": o.agent_id, "team_id": null, "reason": "é".repeat(500)}),
    )
    .await;
    assert_eq!(ok(&moved)["assignee_id"], o.agent_id.as_str());
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transfer_reason_is_kept_as_a_note_beside_a_system_message() {
    let o = org().await;
    let token = visitor_token(&o.t, &o.tenant.site_key).await;
    let mut v = Client::visitor(&o.t, &token).await;
    let conv = v
        .say("hello", None, "help")
        .await
        .unwrap()
        .conversation_id
        .0;
    take(&o.admin, &conv).await;
    let reason = "Asks about an invoice from March";
    let moved = post(
        &o.admin,
        &format!("/conversations/{conv}/transfer"),
        json!({"agent_id": o.agent_id, "team_id": null, "reason": reason}),
    )
    .await;
    assert_eq!(ok(&moved)["assignee_name"], "Agent r");
    let (status, page) = get(&o.agent, &format!("/conversations/{conv}/messages")).await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    let notes: Vec<&Value> = items.iter().filter(|m| m["kind"] == "note").collect();
    assert_eq!(notes.len(), 1, "{page}");
    assert!(
        notes[0]["text"].as_str().unwrap().ends_with(reason),
        "{}",
        notes[0]
    );
    assert_eq!(notes[0]["author_id"], o.admin_id.as_str());
    assert_eq!(notes[0]["public_seq"], Value::Null);
    let system: Vec<&str> = items
        .iter()
        .filter(|m| m["kind"] == "system")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(
        system.contains(&"Admin r transferred the conversation to Agent r"),
        "{system:?}"
    );
    // The visitor never sees the reason.
    let seen = v.sync(&conv, 0).await;
    assert!(seen.iter().all(|m| !m.text.contains(reason)), "{seen:?}");
    o.t.stop().await;
}

// ---- replies, invitations, limits, priority ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_reply_only_in_their_own_or_invited_chats_but_may_always_note() {
    let mut o = org().await;
    let added = o
        .admin
        .post(
            "/api/v1/agents",
            json!({"email":"bea@r.test","name":"Bea","password":PASSWORD,"role":"agent"}),
        )
        .await;
    assert_eq!(added.0, 200, "{}", added.1);
    let bea_id = added.1["id"].as_str().unwrap().to_owned();
    let bea = Browser::login(&o.t.url, "bea@r.test", PASSWORD).await;
    let conv = chat(&o, "help").await;
    take(&bea, &conv).await;
    problem(
        reply(&o.agent, &conv, "a1", "I can help!", false).await,
        403,
        "forbidden",
    );
    let note = reply(&o.agent, &conv, "n1", "I know this customer", true).await;
    assert_eq!(ok(&note)["kind"], "note");
    // Only the assignee (or a supervisor) invites: the agent cannot invite themselves in.
    problem(
        post(
            &o.agent,
            &format!("/conversations/{conv}/invite"),
            json!({"agent_id": o.agent_id}),
        )
        .await,
        403,
        "forbidden",
    );
    let invited = post(
        &bea,
        &format!("/conversations/{conv}/invite"),
        json!({"agent_id": o.agent_id}),
    )
    .await;
    assert_eq!(ok(&invited)["assignee_id"], bea_id.as_str());
    let d = conversation(&o.agent, &conv).await;
    assert_eq!(
        d["participants"],
        json!([{"id": o.agent_id, "name": "Agent r"}]),
        "{d}"
    );
    let m = reply(&o.agent, &conv, "a2", "I can help!", false).await;
    assert_eq!(ok(&m)["kind"], "agent");
    assert_eq!(m.1["author_id"], o.agent_id.as_str());
    // Replying as a participant does not take the chat from its assignee.
    let d = conversation(&o.agent, &conv).await;
    assert_eq!(d["conversation"]["assignee_id"], bea_id.as_str());
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_and_admins_reply_anywhere() {
    let o = org().await;
    let conv = chat(&o, "help").await;
    take(&o.agent, &conv).await;
    let m = reply(&o.sup, &conv, "s1", "Supervisor here", false).await;
    assert_eq!(ok(&m)["kind"], "agent");
    assert_eq!(m.1["author_id"], o.sup_id.as_str());
    let m = reply(&o.admin, &conv, "ad1", "Admin here", false).await;
    assert_eq!(ok(&m)["kind"], "agent");
    let d = conversation(&o.admin, &conv).await;
    assert_eq!(d["conversation"]["assignee_id"], o.agent_id.as_str());
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_at_their_limit_cannot_take_another_chat() {
    let o = org().await;
    let limited = put(
        &o.admin,
        &format!("/agents/{}", o.agent_id),
        settings("agent", 1),
    )
    .await;
    ok(&limited);
    let first = chat(&o, "first").await;
    take(&o.agent, &first).await;
    let second = chat(&o, "second").await;
    problem(
        post(
            &o.agent,
            &format!("/conversations/{second}/take"),
            json!({}),
        )
        .await,
        409,
        "agent_at_capacity",
    );
    let d = conversation(&o.agent, &second).await;
    assert_eq!(d["conversation"]["status"], "open");
    assert_eq!(d["conversation"]["assignee_id"], Value::Null);
    // Freeing a slot lets them take it.
    let resolved = post(
        &o.agent,
        &format!("/conversations/{first}/resolve"),
        json!({}),
    )
    .await;
    ok(&resolved);
    take(&o.agent, &second).await;
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_set_priority_only_on_their_own_chats() {
    let o = org().await;
    let theirs = chat(&o, "admin's").await;
    take(&o.admin, &theirs).await;
    problem(
        post(
            &o.agent,
            &format!("/conversations/{theirs}/priority"),
            json!({"priority": "urgent"}),
        )
        .await,
        403,
        "forbidden",
    );
    let d = conversation(&o.agent, &theirs).await;
    assert_eq!(d["conversation"]["priority"], "normal");
    let mine = chat(&o, "mine").await;
    take(&o.agent, &mine).await;
    let set = post(
        &o.agent,
        &format!("/conversations/{mine}/priority"),
        json!({"priority": "high"}),
    )
    .await;
    assert_eq!(ok(&set)["priority"], "high");
    // A supervisor may on anyone's.
    let set = post(
        &o.sup,
        &format!("/conversations/{theirs}/priority"),
        json!({"priority": "urgent"}),
    )
    .await;
    assert_eq!(ok(&set)["priority"], "urgent");
    o.t.stop().await;
}

// ---- settings validation ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_settings_are_validated() {
    let o = org().await;
    let nobody = "0190aaaa-0000-7000-8000-000000000001";
    problem(
        post(&o.admin, "/teams", team("Sales", &[nobody])).await,
        422,
        "invalid_settings",
    );
    let a = post(&o.admin, "/teams", team("A", &[])).await;
    let a = ok(&a)["id"].as_str().unwrap().to_owned();
    let b = post(&o.admin, "/teams", team("B", &[])).await;
    let b = ok(&b)["id"].as_str().unwrap().to_owned();
    let with = |overflow: Value, hours: Value| json!({"name":"A","strategy":"manual","members":[],"overflow":overflow,"away_action":"return","hours":hours});
    let path = format!("/teams/{a}");
    problem(
        put(
            &o.admin,
            &path,
            with(
                json!({"to": a, "after_ms": 60_000, "when_full": false}),
                Value::Null,
            ),
        )
        .await,
        422,
        "invalid_settings",
    );
    problem(
        put(
            &o.admin,
            &path,
            with(
                json!({"to": b, "after_ms": null, "when_full": false}),
                Value::Null,
            ),
        )
        .await,
        422,
        "invalid_settings",
    );
    problem(
        put(&o.admin, &path, with(Value::Null, hours(true))).await,
        422,
        "invalid_settings",
    );
    problem(
        post(&o.admin, "/teams", team("", &[])).await,
        422,
        "invalid_settings",
    );
    // Nothing was saved by the refusals; the same settings done right are.
    let (_, teams) = get(&o.admin, "/teams").await;
    let saved_a = teams
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == a.as_str())
        .unwrap();
    assert_eq!(saved_a["overflow"], Value::Null, "{saved_a}");
    assert_eq!(saved_a["hours"], Value::Null, "{saved_a}");
    assert_eq!(teams.as_array().unwrap().len(), 2);
    let good = put(
        &o.admin,
        &path,
        with(
            json!({"to": b, "after_ms": null, "when_full": true}),
            hours(false),
        ),
    )
    .await;
    assert_eq!(ok(&good)["overflow"]["to"], b.as_str());
    assert_eq!(good.1["hours"]["timezone"], "Europe/Berlin");
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_routing_settings_are_validated() {
    let o = org().await;
    let site = site_id(&o.admin).await;
    let path = format!("/websites/{site}/routing");
    let unknown = "0190aaaa-0000-7000-8000-000000000002";
    let rule = |team: &str| json!({"default_team": null, "rules": [{"condition": {"url_pattern": "*"}, "team": team, "skill": null}], "hours": null, "when_closed": "message", "offer_offline_after_secs": 120});
    problem(
        put(&o.admin, &path, rule(unknown)).await,
        422,
        "invalid_settings",
    );
    problem(
        put(&o.admin, &path, routing(Some(unknown))).await,
        422,
        "invalid_settings",
    );
    let mut closed = routing(None);
    closed["hours"] = hours(true);
    problem(
        put(&o.admin, &path, closed.clone()).await,
        422,
        "invalid_settings",
    );
    let saved = get(&o.admin, &path).await;
    assert_eq!(ok(&saved)["rules"], json!([]));
    assert_eq!(saved.1["hours"], Value::Null);
    // With a real team and good hours it is accepted.
    let sales = post(&o.admin, "/teams", team("Sales", &[])).await;
    let sales = ok(&sales)["id"].as_str().unwrap().to_owned();
    let mut good = rule(&sales);
    good["hours"] = hours(false);
    let saved = put(&o.admin, &path, good).await;
    assert_eq!(ok(&saved)["rules"][0]["team"], sales.as_str());
    assert_eq!(saved.1["hours"]["days"][0], json!([[540, 1020]]));
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_settings_are_validated() {
    let o = org().await;
    let path = format!("/agents/{}", o.agent_id);
    problem(
        put(&o.admin, &path, settings("agent", 0)).await,
        422,
        "invalid_settings",
    );
    problem(
        put(&o.admin, &path, settings("agent", 51)).await,
        422,
        "invalid_settings",
    );
    let (_, agents) = get(&o.admin, "/agents").await;
    let a = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == o.agent_id.as_str())
        .unwrap();
    assert_eq!(a["max_chats"], 3, "{a}");
    o.t.stop().await;
}

// ---- tenants ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organizations_team_is_not_found() {
    let o = org().await;
    let other = tenant(&o.t, "b").await;
    let admin_b = Browser::login(&o.t.url, &other.admin_email, PASSWORD).await;
    let theirs = post(&admin_b, "/teams", team("B team", &[])).await;
    let theirs = ok(&theirs)["id"].as_str().unwrap().to_owned();
    problem(
        put(&o.admin, &format!("/teams/{theirs}"), team("Hijacked", &[])).await,
        404,
        "not_found",
    );
    problem(
        call(&o.admin, "DELETE", &format!("/teams/{theirs}"), None).await,
        404,
        "not_found",
    );
    // Nor can A's transfers or rules name it.
    let conv = chat(&o, "help").await;
    take(&o.admin, &conv).await;
    problem(
        post(
            &o.admin,
            &format!("/conversations/{conv}/transfer"),
            json!({"agent_id": null, "team_id": theirs, "reason": null}),
        )
        .await,
        404,
        "not_found",
    );
    let site = site_id(&o.admin).await;
    problem(
        put(
            &o.admin,
            &format!("/websites/{site}/routing"),
            routing(Some(&theirs)),
        )
        .await,
        422,
        "invalid_settings",
    );
    let (_, a_teams) = get(&o.admin, "/teams").await;
    assert_eq!(a_teams, json!([]));
    let (_, b_teams) = get(&admin_b, "/teams").await;
    assert_eq!(b_teams[0]["name"], "B team");
    o.t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_to_another_organizations_agent_is_not_found() {
    let o = org().await;
    let other = tenant(&o.t, "b").await;
    let admin_b = Browser::login(&o.t.url, &other.admin_email, PASSWORD).await;
    let outsider = id_of(&admin_b, &other.agent_email).await;
    let conv = chat(&o, "help").await;
    take(&o.admin, &conv).await;
    problem(
        post(
            &o.admin,
            &format!("/conversations/{conv}/transfer"),
            json!({"agent_id": outsider, "team_id": null, "reason": null}),
        )
        .await,
        404,
        "not_found",
    );
    problem(
        post(
            &o.admin,
            &format!("/conversations/{conv}/invite"),
            json!({"agent_id": outsider}),
        )
        .await,
        404,
        "not_found",
    );
    let d = conversation(&o.admin, &conv).await;
    assert_eq!(d["conversation"]["assignee_id"], o.admin_id.as_str());
    assert_eq!(d["participants"], json!([]));
    o.t.stop().await;
}

// ---- contacts ----

/// The contact behind a conversation.
async fn contact_of(b: &Browser, conv: &str) -> String {
    conversation(b, conv).await["conversation"]["contact_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_sees_and_edits_contacts() {
    let o = org().await;
    let conv = chat(&o, "Hi").await;
    let contact = contact_of(&o.agent, &conv).await;
    for (b, name) in [
        (&o.agent, "By agent"),
        (&o.sup, "By sup"),
        (&o.admin, "By admin"),
    ] {
        let got = call(
            b,
            "PATCH",
            &format!("/contacts/{contact}"),
            Some(json!({"name": name})),
        )
        .await;
        assert_eq!(ok(&got)["name"], name);
        let got = get(b, &format!("/contacts/{contact}")).await;
        assert_eq!(ok(&got)["contact"]["name"], name);
        let got = get(b, "/contacts").await;
        assert_eq!(ok(&got)["items"][0]["id"], contact);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_merges_contacts() {
    let o = org().await;
    for b in [&o.agent, &o.sup, &o.admin] {
        let kept = contact_of(b, &chat(&o, "One").await).await;
        let other = contact_of(b, &chat(&o, "Two").await).await;
        let got = post(
            b,
            &format!("/contacts/{kept}/merge"),
            json!({"other_id": other}),
        )
        .await;
        assert_eq!(ok(&got)["contact"]["conversation_count"], 2);
        problem(
            get(b, &format!("/contacts/{other}")).await,
            404,
            "not_found",
        );
    }
}
