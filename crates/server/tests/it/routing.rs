//! Routing end to end over real sockets: teams and strategies, the queue the visitor sees,
//! overflow, agents who go away, leaving a message, and operating hours.

use crate::common::*;
use frontdesk_core::protocol::*;
use frontdesk_core::teams::NoticeKind;
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    round_robin_shares_chats_and_tells_the_agent,
    queue_position_falls_and_limits_hold,
    overflow_when_full_and_after_a_wait,
    an_agent_gone_past_the_grace_period_hands_chats_back,
    a_waiting_visitor_can_leave_a_message,
    closed_hours_take_offline_messages,
    site_rules_pick_the_team_and_skills_pick_the_agent,
);

struct Org {
    admin: Browser,
    agent: Browser,
    admin_id: String,
    agent_id: String,
    site_id: String,
    t: Tenant,
}

async fn org(t: &TestServer) -> Org {
    let tenant = tenant(t, "a").await;
    let admin = Browser::login(&t.url, &tenant.admin_email, PASSWORD).await;
    let agent = Browser::login(&t.url, &tenant.agent_email, PASSWORD).await;
    let (_, me) = admin.get("/api/v1/me").await;
    let (_, bob) = agent.get("/api/v1/me").await;
    let (_, sites) = admin.get("/api/v1/websites").await;
    Org {
        admin_id: me["id"].as_str().unwrap().into(),
        agent_id: bob["id"].as_str().unwrap().into(),
        site_id: sites[0]["id"].as_str().unwrap().into(),
        admin,
        agent,
        t: tenant,
    }
}

impl Org {
    async fn team(
        &mut self,
        name: &str,
        strategy: &str,
        members: &[&str],
        overflow: Value,
    ) -> String {
        let (status, team) = self
            .admin
            .post(
                "/api/v1/teams",
                json!({"name": name, "strategy": strategy, "members": members,
                       "overflow": overflow, "away_action": "return", "hours": null}),
            )
            .await;
        assert_eq!(status, 200, "{team}");
        team["id"].as_str().unwrap().into()
    }

    async fn routing(&mut self, body: Value) {
        let (status, r) = self
            .admin
            .put(&format!("/api/v1/websites/{}/routing", self.site_id), body)
            .await;
        assert_eq!(status, 200, "{r}");
    }

    async fn limit(&mut self, agent: &str, role: &str, max: u32) {
        let (status, r) = self
            .admin
            .put(
                &format!("/api/v1/agents/{agent}"),
                json!({"role": role, "max_chats": max, "skills": [], "languages": []}),
            )
            .await;
        assert_eq!(status, 200, "{r}");
    }
}

async fn online(t: &TestServer, b: &mut Browser) -> Client {
    let (status, _) = b
        .put("/api/v1/me/status", json!({"status": "online"}))
        .await;
    assert_eq!(status, 200);
    Client::agent(t, b).await
}

fn default_team(team: &str) -> Value {
    json!({"default_team": team, "rules": [], "hours": null, "when_closed": "message",
           "offer_offline_after_secs": 5})
}

/// The visitor's conversation as their own frames describe it, once `pred` holds.
async fn visitor_sees(
    v: &mut Client,
    pred: impl Fn(&VisitorConversation) -> bool,
) -> VisitorConversation {
    match v
        .expect(|f| matches!(f, ServerFrame::VisitorConversation { conversation } if pred(conversation)))
        .await
    {
        ServerFrame::VisitorConversation { conversation } => conversation,
        _ => unreachable!(),
    }
}

async fn queue_frame(
    v: &mut Client,
    pred: impl Fn(&frontdesk_core::teams::QueueStatus) -> bool,
) -> frontdesk_core::teams::QueueStatus {
    match v
        .expect(|f| matches!(f, ServerFrame::Queue { status } if pred(status)))
        .await
    {
        ServerFrame::Queue { status } => status,
        _ => unreachable!(),
    }
}

async fn new_visitor(t: &TestServer, o: &Org, text: &str) -> (Client, String) {
    let token = visitor_token(t, &o.t.site_key).await;
    let mut v = Client::visitor(t, &token).await;
    let m = v.say("c1", None, text).await.unwrap();
    (v, m.conversation_id.0)
}

async fn conversation(b: &Browser, id: &str) -> Value {
    let (status, d) = b.get(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(status, 200, "{d}");
    d["conversation"].clone()
}

async fn round_robin_shares_chats_and_tells_the_agent(backend: Backend) {
    let t = TestServer::start(backend).await;
    let mut o = org(&t).await;
    let team = o
        .team(
            "Support",
            "round_robin",
            &[&o.admin_id.clone(), &o.agent_id.clone()],
            Value::Null,
        )
        .await;
    o.routing(default_team(&team)).await;
    let mut a_ws = online(&t, &mut o.admin).await;
    let mut b_ws = online(&t, &mut o.agent).await;
    let (mut v1, c1) = new_visitor(&t, &o, "first").await;
    let first = visitor_sees(&mut v1, |c| {
        c.status == frontdesk_core::ConversationStatus::Assigned
    })
    .await;
    let (mut v2, c2) = new_visitor(&t, &o, "second").await;
    let second = visitor_sees(&mut v2, |c| {
        c.status == frontdesk_core::ConversationStatus::Assigned
    })
    .await;
    // Round robin: the two chats went to the two different agents.
    assert_ne!(first.agent_name, second.agent_name);
    let one = conversation(&o.admin, &c1).await;
    let two = conversation(&o.admin, &c2).await;
    assert_eq!(one["team_name"], "Support");
    let mut assignees = [
        one["assignee_id"].as_str().unwrap().to_owned(),
        two["assignee_id"].as_str().unwrap().to_owned(),
    ];
    assignees.sort();
    let mut expected = [o.admin_id.clone(), o.agent_id.clone()];
    expected.sort();
    assert_eq!(assignees, expected);
    // Each agent was told, by a notice, about their own chat.
    for (ws, me) in [(&mut a_ws, &o.admin_id), (&mut b_ws, &o.agent_id)] {
        let mine = if one["assignee_id"] == me.as_str() {
            &c1
        } else {
            &c2
        };
        ws.expect(|f| matches!(f, ServerFrame::Notice { kind: NoticeKind::Assigned, conversation_id, .. } if &conversation_id.0 == mine))
            .await;
    }
    t.stop().await;
}

async fn queue_position_falls_and_limits_hold(backend: Backend) {
    let t = TestServer::start(backend).await;
    let mut o = org(&t).await;
    let team = o
        .team("Support", "least_busy", &[&o.agent_id.clone()], Value::Null)
        .await;
    o.routing(default_team(&team)).await;
    let bob = o.agent_id.clone();
    o.limit(&bob, "agent", 1).await;
    let _b_ws = online(&t, &mut o.agent).await;
    let (mut v1, c1) = new_visitor(&t, &o, "one").await;
    visitor_sees(&mut v1, |c| {
        c.status == frontdesk_core::ConversationStatus::Assigned
    })
    .await;
    let (mut v2, c2) = new_visitor(&t, &o, "two").await;
    let (mut v3, _c3) = new_visitor(&t, &o, "three").await;
    let q2 = queue_frame(&mut v2, |s| s.conversation_id.0 == c2).await;
    assert_eq!(q2.position, 1);
    // No chat of this team has ended yet: no estimate rather than a made-up one.
    assert_eq!(q2.estimated_wait_ms, None);
    let q3 = queue_frame(&mut v3, |_| true).await;
    assert_eq!(q3.position, 2);
    // Bob is at his limit: he cannot take a third chat by hand either.
    let (status, e) = o
        .agent
        .post(&format!("/api/v1/conversations/{c2}/take"), json!({}))
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("agent_at_capacity")),
        "{e}"
    );
    // Bob finishes the first chat: the second is his, the third moves up, and now the
    // estimate comes from the measured handle time.
    let (status, _) = o
        .agent
        .post(&format!("/api/v1/conversations/{c1}/resolve"), json!({}))
        .await;
    assert_eq!(status, 200);
    visitor_sees(&mut v2, |c| {
        c.status == frontdesk_core::ConversationStatus::Assigned
    })
    .await;
    let q3 = queue_frame(&mut v3, |s| s.position == 1).await;
    assert!(q3.estimated_wait_ms.is_some_and(|ms| ms >= 0), "{q3:?}");
    let (_, agents) = o.admin.get("/api/v1/monitor").await;
    assert_eq!(agents["waiting"], 1);
    let bob_load = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == bob.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (bob_load["active"].as_u64(), bob_load["limit"].as_u64()),
        (Some(1), Some(1))
    );
    t.stop().await;
}

async fn overflow_when_full_and_after_a_wait(backend: Backend) {
    let t = TestServer::start_with(backend, |c| c.routing_tick_ms = 200).await;
    let mut o = org(&t).await;
    let backup = o
        .team(
            "Support",
            "round_robin",
            &[&o.agent_id.clone()],
            Value::Null,
        )
        .await;
    // Sales has nobody online: with "when full" its chats move to Support at once.
    let sales = o
        .team(
            "Sales",
            "round_robin",
            &[&o.admin_id.clone()],
            json!({"to": backup, "after_ms": null, "when_full": true}),
        )
        .await;
    // Billing is a manual pool: its chats move to Support after a second of waiting.
    let billing = o
        .team(
            "Billing",
            "manual",
            &[&o.admin_id.clone()],
            json!({"to": backup, "after_ms": 1000, "when_full": false}),
        )
        .await;
    o.routing(
        json!({"default_team": sales, "offer_offline_after_secs": 60,
        "rules": [{"condition": {"url_pattern": "*/billing*"}, "team": billing, "skill": null}]}),
    )
    .await;
    let (status, _) = o
        .admin
        .put("/api/v1/me/status", json!({"status": "away"}))
        .await;
    assert_eq!(status, 200);
    let _b_ws = online(&t, &mut o.agent).await;
    let (mut v1, c1) = new_visitor(&t, &o, "pricing?").await;
    let seen = visitor_sees(&mut v1, |c| {
        c.status == frontdesk_core::ConversationStatus::Assigned
    })
    .await;
    assert_eq!(seen.agent_name.as_deref(), Some("Agent a"));
    let conv = conversation(&o.admin, &c1).await;
    assert_eq!(conv["team_name"], "Support");
    let (_, msgs) = o
        .admin
        .get(&format!("/api/v1/conversations/{c1}/messages"))
        .await;
    assert!(
        msgs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["kind"] == "note"
                && m["text"].as_str().unwrap().starts_with("Moved to Support")),
        "{msgs}"
    );
    // A visitor on the billing page waits in Billing's manual pool, then moves.
    let (status, body) = Browser::new(&t.url)
        .post(
            "/api/v1/widget/session",
            json!({"site_key": o.t.site_key, "context": {"url": "https://a.test/billing/invoice"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut v2 = Client::visitor(&t, body["token"].as_str().unwrap()).await;
    let c2 = v2
        .say("b1", None, "invoice")
        .await
        .unwrap()
        .conversation_id
        .0;
    assert_eq!(conversation(&o.admin, &c2).await["team_name"], "Billing");
    let started = std::time::Instant::now();
    visitor_sees(&mut v2, |c| {
        c.status == frontdesk_core::ConversationStatus::Assigned
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "moved before its wait ran out"
    );
    assert_eq!(conversation(&o.admin, &c2).await["team_name"], "Support");
    t.stop().await;
}

async fn an_agent_gone_past_the_grace_period_hands_chats_back(backend: Backend) {
    let t = TestServer::start_with(backend, |c| {
        c.agent_away_grace_secs = 1;
        c.routing_tick_ms = 200;
    })
    .await;
    let mut o = org(&t).await;
    let team = o
        .team(
            "Support",
            "round_robin",
            &[&o.agent_id.clone(), &o.admin_id.clone()],
            Value::Null,
        )
        .await;
    o.routing(default_team(&team)).await;
    let (status, _) = o
        .admin
        .put("/api/v1/me/status", json!({"status": "away"}))
        .await;
    assert_eq!(status, 200);
    let mut a_ws = Client::agent(&t, &o.admin).await;
    let b_ws = online(&t, &mut o.agent).await;
    let (mut v, c) = new_visitor(&t, &o, "hello").await;
    visitor_sees(&mut v, |c| c.agent_name.as_deref() == Some("Agent a")).await;
    // Bob's connection drops and does not come back.
    drop(b_ws);
    let bob = o.agent_id.clone();
    a_ws.expect(|f| matches!(f, ServerFrame::AgentStatus { agent_id, status: AgentStatus::Away } if agent_id.0 == bob))
        .await;
    let back = visitor_sees(&mut v, |c| {
        c.status == frontdesk_core::ConversationStatus::Open
    })
    .await;
    assert_eq!(back.agent_name, None);
    assert_eq!(conversation(&o.admin, &c).await["status"], "open");
    // When Bob comes back he is online again, and gets the waiting chat.
    let _b_ws = Client::agent(&t, &o.agent).await;
    visitor_sees(&mut v, |c| c.agent_name.as_deref() == Some("Agent a")).await;
    let (_, me) = o.agent.get("/api/v1/me").await;
    assert_eq!(me["status"], "online");
    t.stop().await;
}

async fn a_waiting_visitor_can_leave_a_message(backend: Backend) {
    let t = TestServer::start_with(backend, |c| c.routing_tick_ms = 200).await;
    let mut o = org(&t).await;
    let team = o
        .team("Support", "manual", &[&o.agent_id.clone()], Value::Null)
        .await;
    o.routing(default_team(&team)).await;
    let _b_ws = online(&t, &mut o.agent).await;
    let (mut v, c) = new_visitor(&t, &o, "anyone?").await;
    let q = queue_frame(&mut v, |s| s.position == 1).await;
    assert!(!q.offer_offline);
    // After the site's 5 s, the widget may offer to leave a message.
    let q = queue_frame(&mut v, |s| s.offer_offline).await;
    assert_eq!(q.conversation_id.0, c);
    v.send(json!({"type": "set_contact", "name": "Vera", "email": "vera@example.test"}))
        .await;
    v.send(json!({"type": "leave_message", "conversation_id": c}))
        .await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let conv = conversation(&o.admin, &c).await;
        if conv["offline"] == true {
            assert_eq!(conv["missed"], true);
            assert_eq!(conv["contact_email"], "vera@example.test");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never became an offline message: {conv}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, mon) = o.admin.get("/api/v1/monitor").await;
    assert_eq!(
        (mon["waiting"].as_u64(), mon["offline_waiting"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(mon["missed_today"], 1);
    t.stop().await;
}

async fn closed_hours_take_offline_messages(backend: Backend) {
    let t = TestServer::start(backend).await;
    let mut o = org(&t).await;
    let team = o
        .team(
            "Support",
            "round_robin",
            &[&o.agent_id.clone()],
            Value::Null,
        )
        .await;
    // Open only on holidays-free Mondays 00:00–00:01 in Tokyo, and today is a holiday: closed.
    let today = chrono_today_tokyo();
    o.routing(json!({"default_team": team, "rules": [], "when_closed": "message",
        "offer_offline_after_secs": 60,
        "hours": {"timezone": "Asia/Tokyo", "days": [[[0, 1]], [], [], [], [], [], []], "holidays": [today]}}))
        .await;
    let _b_ws = online(&t, &mut o.agent).await;
    let (status, s) = Browser::new(&t.url)
        .post("/api/v1/widget/session", json!({"site_key": o.t.site_key}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(s["availability"]["open"], false);
    assert_eq!(s["availability"]["timezone"], "Asia/Tokyo");
    assert!(s["availability"]["next_open_at"].as_i64().unwrap() > 0);
    let mut v = Client::visitor(&t, s["token"].as_str().unwrap()).await;
    let c = v
        .say("c", None, "are you there?")
        .await
        .unwrap()
        .conversation_id
        .0;
    let conv = conversation(&o.admin, &c).await;
    assert_eq!(
        (conv["offline"].as_bool(), conv["status"].as_str()),
        (Some(true), Some("open"))
    );
    // Bad hours are refused with a typed error.
    let (status, e) = o
        .admin
        .put(&format!("/api/v1/websites/{}/routing", o.site_id),
             json!({"default_team": null, "hours": {"timezone": "Asia/Tokyo", "days": [[[600, 540]], [], [], [], [], [], []], "holidays": []}}))
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (422, Some("invalid_settings"))
    );
    t.stop().await;
}

/// Today's date in Tokyo, as `YYYY-MM-DD`.
fn chrono_today_tokyo() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 9 * 3600;
    let days = now.div_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

async fn site_rules_pick_the_team_and_skills_pick_the_agent(backend: Backend) {
    let t = TestServer::start(backend).await;
    let mut o = org(&t).await;
    let (admin_id, bob) = (o.admin_id.clone(), o.agent_id.clone());
    // Bob speaks German and knows billing; both are in a skills team.
    let (status, _) = o
        .admin
        .put(
            &format!("/api/v1/agents/{bob}"),
            json!({"role": "agent", "max_chats": 3, "skills": ["billing"], "languages": ["de"]}),
        )
        .await;
    assert_eq!(status, 200);
    let skills = o
        .team("Experts", "skills", &[&admin_id, &bob], Value::Null)
        .await;
    let german = o.team("German", "manual", &[&bob], Value::Null).await;
    let vip = o
        .team("Enterprise", "manual", &[&admin_id], Value::Null)
        .await;
    let general = o.team("General", "manual", &[&admin_id], Value::Null).await;
    o.routing(json!({"default_team": general, "offer_offline_after_secs": 60, "rules": [
        {"condition": {"attribute": {"key": "plan", "value": "enterprise"}}, "team": vip, "skill": null},
        {"condition": {"department": "Billing"}, "team": skills, "skill": "billing"},
        {"condition": {"language": "de"}, "team": german, "skill": null},
    ]}))
    .await;
    let _a = online(&t, &mut o.admin).await;
    let _b = online(&t, &mut o.agent).await;
    // A visitor whose browser says de-AT goes to the German team.
    let c1 = rule_visitor(&t, &o, "de-AT", &[], "Hallo").await.1;
    assert_eq!(conversation(&o.admin, &c1).await["team_name"], "German");
    // Attributes come from the contact (set by the SDK and pre-chat form once they exist;
    // here through the store). The first matching rule wins: enterprise beats German.
    let c2 = rule_visitor(&t, &o, "de", &[("plan", "enterprise")], "Hi")
        .await
        .1;
    assert_eq!(conversation(&o.admin, &c2).await["team_name"], "Enterprise");
    // The Billing department needs the billing skill: Bob gets it although the admin is
    // earlier in the team and has more room. The visitor picks the department in the widget,
    // from the site's list; one not on it is refused.
    let mut anon = Browser::new(&t.url);
    let (_, s3) = anon
        .post("/api/v1/widget/session", json!({"site_key": o.t.site_key}))
        .await;
    assert_eq!(s3["departments"], json!(["Billing"]));
    let mut v3 = Client::visitor(&t, s3["token"].as_str().unwrap()).await;
    v3.send(json!({"type": "set_contact", "name": null, "email": null, "department": "Sales"}))
        .await;
    v3.expect(|f| {
        matches!(
            f,
            ServerFrame::Error {
                code: frontdesk_core::ErrorCode::InvalidFrame,
                ..
            }
        )
    })
    .await;
    v3.send(json!({"type": "set_contact", "name": null, "email": null, "department": "Billing"}))
        .await;
    let c3 = v3
        .say("b", None, "My invoice")
        .await
        .unwrap()
        .conversation_id
        .0;
    let seen = visitor_sees(&mut v3, |c| {
        c.status == frontdesk_core::ConversationStatus::Assigned
    })
    .await;
    assert_eq!(seen.agent_name.as_deref(), Some("Agent a"));
    assert_eq!(conversation(&o.admin, &c3).await["team_name"], "Experts");
    // Nothing matched: the default team.
    let c4 = rule_visitor(&t, &o, "fr", &[], "Bonjour").await.1;
    assert_eq!(conversation(&o.admin, &c4).await["team_name"], "General");
    t.stop().await;
}

/// A new visitor with this browser language and these contact attributes, who says `text`.
async fn rule_visitor(
    t: &TestServer,
    o: &Org,
    language: &str,
    attributes: &[(&str, &str)],
    text: &str,
) -> (Client, String) {
    let mut anon = Browser::new(&t.url);
    let (status, s) = anon
        .post(
            "/api/v1/widget/session",
            json!({"site_key": o.t.site_key, "context": {"language": language}}),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    let contact = frontdesk_core::ContactId(s["contact_id"].as_str().unwrap().into());
    let attrs = attributes
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    t.store()
        .merge_contact_attributes(&contact, &attrs)
        .await
        .unwrap();
    let mut v = Client::visitor(t, s["token"].as_str().unwrap()).await;
    let c = v.say("a", None, text).await.unwrap().conversation_id.0;
    (v, c)
}
