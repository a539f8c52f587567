//! Bad input gets a typed error and fails alone; no tenant reaches another; CSRF is refused.

use crate::common::*;
use frontdesk_core::ErrorCode;
use frontdesk_core::protocol::*;
use serde_json::json;

fn is_error(code: ErrorCode) -> impl Fn(&ServerFrame) -> bool {
    move |f| matches!(f, ServerFrame::Error { code: c, .. } if *c == code)
}

#[tokio::test]
async fn bad_frames_fail_alone_and_the_socket_keeps_working() {
    let t = TestServer::start(Backend::Sqlite).await;
    let org = tenant(&t, "a").await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    v.send_raw("{not json").await;
    v.expect(is_error(ErrorCode::InvalidJson)).await;
    v.send(json!({"type":"explode"})).await;
    v.expect(is_error(ErrorCode::InvalidFrame)).await;
    v.send(json!({"type":"typing","conversation_id":"x","typing":true,"extra":1}))
        .await;
    v.expect(is_error(ErrorCode::InvalidFrame)).await;
    assert_eq!(
        v.say("c1", None, &"x".repeat(5_001)).await,
        Err(ErrorCode::MessageTooLong)
    );
    assert_eq!(v.say("c2", None, "   ").await, Err(ErrorCode::MessageEmpty));
    assert_eq!(
        v.say("bad id!", None, "hi").await,
        Err(ErrorCode::InvalidClientId)
    );
    v.send(json!({"type":"sync","conversation_id":"not-a-uuid","after_seq":0}))
        .await;
    v.expect(is_error(ErrorCode::NotFound)).await;
    v.send(json!({"type":"hello","v":1,"token":token})).await;
    v.expect(is_error(ErrorCode::InvalidFrame)).await;
    // Still alive, and nothing was stored by the failures.
    v.send(json!({"type":"ping"})).await;
    v.expect(|f| matches!(f, ServerFrame::Pong)).await;
    let ok = v.say("c3", None, "fine").await.unwrap();
    assert_eq!(ok.seq, 1);
    t.stop().await;
}

#[tokio::test]
async fn oversized_frames_close_the_socket_with_1009() {
    let t = TestServer::start(Backend::Sqlite).await;
    let org = tenant(&t, "a").await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    v.send_raw(&format!(
        r#"{{"type":"send","client_id":"a","conversation_id":null,"text":"{}"}}"#,
        "x".repeat(MAX_FRAME_BYTES)
    ))
    .await;
    assert_eq!(v.closed().await, Some(1009));
    // Other visitors are unaffected.
    let mut other = Client::visitor(&t, &visitor_token(&t, &org.site_key).await).await;
    other.say("ok", None, "still here").await.unwrap();
    t.stop().await;
}

#[tokio::test]
async fn hello_is_required_and_tokens_are_checked() {
    let t = TestServer::start(Backend::Sqlite).await;
    let org = tenant(&t, "a").await;
    let url = t.ws_url("/ws/visitor");
    let mut c = Client::connect(&url, None, None).await.unwrap();
    c.send(json!({"type":"ping"})).await;
    c.expect(is_error(ErrorCode::HelloRequired)).await;
    assert_eq!(c.closed().await, Some(1008));
    let mut c = Client::connect(&url, None, None).await.unwrap();
    c.send(json!({"type":"hello","v":99,"token":"x"})).await;
    c.expect(is_error(ErrorCode::UnsupportedVersion)).await;
    for forged in ["", "garbage", "v1.a.b.1.sig"] {
        let mut c = Client::connect(&url, None, None).await.unwrap();
        c.send(json!({"type":"hello","v":1,"token":forged})).await;
        c.expect(is_error(ErrorCode::InvalidVisitorToken)).await;
    }
    // A real token with its signature swapped for another's.
    let a = visitor_token(&t, &org.site_key).await;
    let b = visitor_token(&t, &org.site_key).await;
    let spliced = format!(
        "{}.{}",
        a.rsplit_once('.').unwrap().0,
        b.rsplit_once('.').unwrap().1
    );
    let mut c = Client::connect(&url, None, None).await.unwrap();
    c.send(json!({"type":"hello","v":1,"token":spliced})).await;
    c.expect(is_error(ErrorCode::InvalidVisitorToken)).await;
    // An expired one.
    let state = &t.server.as_ref().unwrap().state;
    let claims = state.tokens.verify(&a, 0).unwrap();
    let expired = state
        .tokens
        .issue(&claims.contact_id, &claims.website_id, 1);
    let mut c = Client::connect(&url, None, None).await.unwrap();
    c.send(json!({"type":"hello","v":1,"token":expired})).await;
    c.expect(is_error(ErrorCode::VisitorTokenExpired)).await;
    t.stop().await;
}

#[tokio::test]
async fn visitors_and_tenants_cannot_reach_each_other() {
    let t = TestServer::start(Backend::Sqlite).await;
    let a = tenant(&t, "a").await;
    let b = tenant(&t, "b").await;
    let token_a = visitor_token(&t, &a.site_key).await;
    let mut va = Client::visitor(&t, &token_a).await;
    let conv_a = va
        .say("s", None, "private to org a")
        .await
        .unwrap()
        .conversation_id
        .0;
    // Another visitor of the same site cannot read or write it.
    let mut va2 = Client::visitor(&t, &visitor_token(&t, &a.site_key).await).await;
    va2.send(json!({"type":"sync","conversation_id":conv_a,"after_seq":0}))
        .await;
    va2.expect(is_error(ErrorCode::NotFound)).await;
    assert_eq!(
        va2.say("x", Some(&conv_a), "intrude").await,
        Err(ErrorCode::NotFound)
    );
    // A token from site A on site B's widget starts a new visitor there.
    let mut browser = Browser::new(&t.url);
    let (_, s) = browser
        .post(
            "/api/v1/widget/session",
            json!({"site_key": b.site_key, "token": token_a}),
        )
        .await;
    assert_eq!(s["new_visitor"], true);
    // Org B's admin sees nothing of org A.
    let mut admin_b = Browser::login(&t.url, &b.admin_email, PASSWORD).await;
    for path in [
        format!("/api/v1/conversations/{conv_a}"),
        format!("/api/v1/conversations/{conv_a}/messages"),
    ] {
        let (status, e) = admin_b.get(&path).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    for action in ["take", "resolve"] {
        let (status, _) = admin_b
            .post(
                &format!("/api/v1/conversations/{conv_a}/{action}"),
                json!({}),
            )
            .await;
        assert_eq!(status, 404);
    }
    let (status, _) = admin_b
        .post(
            &format!("/api/v1/conversations/{conv_a}/messages"),
            json!({"client_id":"x","text":"hijack"}),
        )
        .await;
    assert_eq!(status, 404);
    let (_, page) = admin_b.get("/api/v1/conversations?tab=all").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
    // Nor can B assign A's agents, or A assign B's.
    let mut admin_a = Browser::login(&t.url, &a.admin_email, PASSWORD).await;
    let (_, agents_b) = admin_b.get("/api/v1/agents").await;
    let b_agent = agents_b[0]["id"].clone();
    let (status, _) = admin_a
        .post(
            &format!("/api/v1/conversations/{conv_a}/assign"),
            json!({"agent_id": b_agent}),
        )
        .await;
    assert_eq!(status, 404);
    // Org B's agent socket never hears org A's messages.
    let mut sock_b = Client::agent(&t, &admin_b).await;
    va.say("s2", Some(&conv_a), "second private").await.unwrap();
    sock_b.send(json!({"type":"ping"})).await;
    sock_b.expect(|f| matches!(f, ServerFrame::Pong)).await;
    assert!(!sock_b.seen.iter().any(|f| matches!(
        f,
        ServerFrame::Message { .. } | ServerFrame::Conversation { .. }
    )));
    sock_b
        .send(json!({"type":"sync","conversation_id":conv_a,"after_seq":0}))
        .await;
    sock_b.expect(is_error(ErrorCode::NotFound)).await;
    t.stop().await;
}

#[tokio::test]
async fn http_errors_are_typed_problem_details() {
    let t = TestServer::start(Backend::Sqlite).await;
    let org = tenant(&t, "a").await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/api/v1/widget/session", t.url))
        .json(&json!({"site_key":"nope","token":null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unknown_site_key");
    assert_eq!(body["status"], 404);
    let r = http
        .post(format!("{}/api/v1/widget/session", t.url))
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["code"],
        "invalid_json"
    );
    let r = http
        .post(format!("{}/api/v1/widget/session", t.url))
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"site_key":"{}","pad":"{}"}}"#,
            org.site_key,
            "x".repeat(100_000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["code"],
        "body_too_large"
    );
    let (status, e) = Browser::new(&t.url).get("/api/v1/me").await;
    assert_eq!((status, e["code"].as_str()), (401, Some("unauthenticated")));
    let mut b = Browser::new(&t.url);
    let (status, e) = b
        .post(
            "/api/v1/auth/login",
            json!({"email": org.admin_email, "password": "wrong password"}),
        )
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (401, Some("invalid_credentials"))
    );
    let (status, e) = b
        .post(
            "/api/v1/auth/login",
            json!({"email": "nobody@x.test", "password": "whatever1"}),
        )
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (401, Some("invalid_credentials"))
    );
    let mut admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let (status, e) = admin.get("/api/v1/conversations?tab=bogus").await;
    assert_eq!(status, 400, "{e}");
    let (status, e) = admin
        .post("/api/v1/websites", json!({"name":"", "domain":"x.test"}))
        .await;
    assert_eq!((status, e["code"].as_str()), (422, Some("invalid_name")));
    let mut agent = Browser::login(&t.url, &org.agent_email, PASSWORD).await;
    let (status, e) = agent
        .post("/api/v1/websites", json!({"name":"New", "domain":"x.test"}))
        .await;
    assert_eq!((status, e["code"].as_str()), (403, Some("forbidden")));
    let (status, w) = admin
        .post(
            "/api/v1/websites",
            json!({"name":"New", "domain":"https://new.test/"}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        w["snippet"]
            .as_str()
            .unwrap()
            .contains(w["site_key"].as_str().unwrap())
    );
    t.stop().await;
}

#[tokio::test]
async fn cross_site_requests_are_refused() {
    let t = TestServer::start(Backend::Sqlite).await;
    let org = tenant(&t, "a").await;
    let http = reqwest::Client::new();
    // Login without an Origin, and with another site's.
    for origin in [None, Some("https://evil.test")] {
        let mut r = http.post(format!("{}/api/v1/auth/login", t.url));
        if let Some(o) = origin {
            r = r.header("Origin", o);
        }
        let r = r
            .json(&json!({"email": org.admin_email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(
            r.json::<serde_json::Value>().await.unwrap()["code"],
            "csrf_rejected"
        );
    }
    let admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let cookie = admin.cookie.clone().unwrap();
    let r = http
        .put(format!("{}/api/v1/me/status", t.url))
        .header("Cookie", &cookie)
        .header("Origin", "https://evil.test")
        .json(&json!({"status":"away"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The agent socket: another origin, or no cookie, is refused before the upgrade.
    assert_eq!(
        Client::connect(
            &t.ws_url("/ws/agent"),
            Some("https://evil.test"),
            Some(&cookie)
        )
        .await
        .err(),
        Some(403)
    );
    assert_eq!(
        Client::connect(&t.ws_url("/ws/agent"), Some(&t.url), None)
            .await
            .err(),
        Some(401)
    );
    // Logged out sessions stop working.
    let mut admin = admin;
    let (status, _) = admin.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, 204);
    let stale = Browser {
        cookie: Some(cookie),
        ..Browser::new(&t.url)
    };
    assert_eq!(stale.get("/api/v1/me").await.0, 401);
    t.stop().await;
}

#[tokio::test]
async fn sends_and_connections_are_rate_limited() {
    let t = TestServer::start_with(Backend::Sqlite, |c| {
        c.visitor_sends_per_second = 2;
        c.visitor_send_burst = 5;
        c.connections_per_minute_per_ip = 6;
        c.connection_burst_per_ip = 6;
    })
    .await;
    let org = tenant(&t, "a").await;
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    let mut limited = 0;
    for i in 0..12 {
        if v.say(&format!("m{i}"), None, "spam").await == Err(ErrorCode::RateLimited) {
            limited += 1;
        }
    }
    assert!(limited >= 5, "only {limited} of 12 were limited");
    // Two connections used so far (session + socket); the burst is 6.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/widget/session", t.url))
            .json(&json!({"site_key": org.site_key}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    t.stop().await;
}

#[tokio::test]
async fn first_run_setup_works_once_with_the_printed_token() {
    let t = TestServer::start(Backend::Sqlite).await;
    let mut b = Browser::new(&t.url);
    assert_eq!(b.get("/api/v1/setup").await.1["needs_setup"], true);
    let token = frontdesk_server::http::setup::prepare(t.store())
        .await
        .unwrap()
        .unwrap();
    let body = |token: &str| {
        json!({"token": token, "organization_name": "Acme", "name": "Ann", "email": "ann@acme.test",
               "password": "long enough pw", "website_name": "Acme", "website_domain": "acme.test"})
    };
    let (status, e) = b.post("/api/v1/setup", body("wrong")).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (403, Some("invalid_setup_token"))
    );
    let (status, r) = b.post("/api/v1/setup", body(&token)).await;
    assert_eq!(status, 200, "{r}");
    assert!(
        r["website"]["snippet"]
            .as_str()
            .unwrap()
            .starts_with("<script async src=")
    );
    assert_eq!(b.get("/api/v1/me").await.1["email"], "ann@acme.test");
    let (status, e) = b.post("/api/v1/setup", body(&token)).await;
    assert_eq!((status, e["code"].as_str()), (409, Some("setup_done")));
    assert_eq!(b.get("/api/v1/setup").await.1["needs_setup"], false);
    t.stop().await;
}

/// The web apps' files go gzipped to a client that takes it, with the same bytes inside and the
/// same headers; a client that does not gets them as they are.
#[tokio::test]
async fn the_web_apps_files_are_gzipped_for_clients_that_take_it() {
    use std::io::Read;
    let t = TestServer::start(Backend::Sqlite).await;
    let http = reqwest::Client::new();
    for path in [
        "/widget.js",
        "/widget/frame.js",
        "/widget/frame.html",
        "/app",
    ] {
        let get = |enc: &str| {
            http.get(format!("{}{path}", t.url))
                .header("accept-encoding", enc)
                .send()
        };
        let plain = get("identity").await.unwrap();
        assert_eq!(plain.status(), 200, "{path}");
        assert!(plain.headers().get("content-encoding").is_none(), "{path}");
        let csp = plain.headers().get("content-security-policy").cloned();
        let plain = plain.bytes().await.unwrap();
        let zipped = get("gzip, deflate, br").await.unwrap();
        assert_eq!(zipped.status(), 200, "{path}");
        assert_eq!(zipped.headers()["content-encoding"], "gzip", "{path}");
        assert!(
            zipped.headers()["vary"]
                .to_str()
                .unwrap()
                .contains("accept-encoding"),
            "{path}"
        );
        assert_eq!(
            zipped.headers().get("content-security-policy"),
            csp.as_ref()
        );
        let zipped = zipped.bytes().await.unwrap();
        assert!(zipped.len() < plain.len(), "{path}: smaller");
        let mut inside = Vec::new();
        flate2::read::GzDecoder::new(&zipped[..])
            .read_to_end(&mut inside)
            .unwrap();
        assert_eq!(inside, plain, "{path}: the same bytes");
    }
    t.stop().await;
}

#[tokio::test]
async fn health_assets_and_security_headers() {
    let t = TestServer::start(Backend::Sqlite).await;
    let http = reqwest::Client::new();
    let get = |p: &str| http.get(format!("{}{p}", t.url)).send();
    assert_eq!(get("/healthz").await.unwrap().text().await.unwrap(), "ok");
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    let js = get("/widget.js").await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    // Without a site key, only this server's own pages may frame the chat (tests/embed.rs
    // covers a site's allowed domains).
    let frame = get("/widget/frame.html").await.unwrap();
    assert!(
        frame.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .ends_with("frame-ancestors 'self'")
    );
    let app = get("/app").await.unwrap();
    assert!(
        app.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(
        get("/app/conversations/whatever").await.unwrap().status(),
        200
    );
    assert_eq!(get("/widget/../Cargo.toml").await.unwrap().status(), 404);
    assert_eq!(
        get("/api/v1/nothing")
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()["code"],
        "not_found"
    );
    t.stop().await;
}

#[tokio::test]
async fn admins_add_colleagues_and_roles_limit_what_agents_change() {
    let t = TestServer::start(Backend::Sqlite).await;
    let org = tenant(&t, "a").await;
    let mut admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let sam =
        json!({"email":"sam@a.test","name":"Sam","password":"long enough pw","role":"supervisor"});
    let (status, v) = admin.post("/api/v1/agents", sam.clone()).await;
    assert_eq!(
        (status, v["role"].as_str()),
        (200, Some("supervisor")),
        "{v}"
    );
    let (status, e) = admin.post("/api/v1/agents", sam).await;
    assert_eq!((status, e["code"].as_str()), (409, Some("conflict")));
    let (status, e) = admin
        .post(
            "/api/v1/agents",
            json!({"email":"x@a.test","name":"X","password":"short","role":"agent"}),
        )
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (422, Some("invalid_password"))
    );
    let mut agent = Browser::login(&t.url, &org.agent_email, PASSWORD).await;
    let (status, e) = agent
        .post(
            "/api/v1/agents",
            json!({"email":"y@a.test","name":"Y","password":"long enough pw","role":"admin"}),
        )
        .await;
    assert_eq!((status, e["code"].as_str()), (403, Some("forbidden")));
    // The admin's conversation: the agent cannot resolve or take it over; the supervisor can.
    let token = visitor_token(&t, &org.site_key).await;
    let mut v = Client::visitor(&t, &token).await;
    let conv = v.say("c", None, "help").await.unwrap().conversation_id.0;
    admin
        .post(&format!("/api/v1/conversations/{conv}/take"), json!({}))
        .await;
    let (status, e) = agent
        .post(&format!("/api/v1/conversations/{conv}/resolve"), json!({}))
        .await;
    assert_eq!((status, e["code"].as_str()), (403, Some("forbidden")));
    let mut sam = Browser::login(&t.url, "sam@a.test", "long enough pw").await;
    let (status, _) = sam
        .post(&format!("/api/v1/conversations/{conv}/resolve"), json!({}))
        .await;
    assert_eq!(status, 200);
    // An agent may not reply in a colleague's conversation, but may leave a note in it...
    let (status, e) = agent
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_id":"h","text":"I can help too"}),
        )
        .await;
    assert_eq!((status, e["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = agent
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_id":"n","text":"I know this customer","note":true}),
        )
        .await;
    assert_eq!(status, 200);
    // ...and may reply once the assignee invites them.
    let (_, me) = agent.get("/api/v1/me").await;
    let (status, _) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/invite"),
            json!({"agent_id": me["id"]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = agent
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_id":"h","text":"I can help too"}),
        )
        .await;
    assert_eq!(status, 200);
    t.stop().await;
}
