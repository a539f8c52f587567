//! The widget's look over the real API, on both databases: admins set it (and nobody else),
//! each broken rule has its typed error, tenants stay apart, the public config and the
//! visitor's session carry it (greeting by page included, whose team also routes the
//! conversation), and agents' photos are raster images served safely.

use crate::common::*;
use serde_json::{Value, json};

on_both_backends!(
    the_public_config_and_session_carry_the_look_and_the_page_rule_routes,
    only_admins_change_the_look_and_only_with_this_servers_origin,
    each_broken_rule_of_a_look_has_its_typed_error,
    tenants_never_see_or_use_each_others_sites_teams_agents_or_photos,
    photos_are_raster_images_served_safely_and_replaced_cleanly,
);

/// A real 1×1 PNG.
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90\x77\x53\xde\x00\x00\x00\x0c\x49\x44\x41\x54\x78\xda\x63\xf0\x77\x7b\x0a\x00\x02\x62\x01\x7b\xff\xdb\xac\xdd\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

async fn site_id(b: &Browser) -> String {
    let (status, sites) = b.get("/api/v1/websites").await;
    assert_eq!(status, 200, "{sites}");
    sites[0]["id"].as_str().unwrap().to_owned()
}

async fn agent_id(b: &Browser, email: &str) -> String {
    let (_, agents) = b.get("/api/v1/agents").await;
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

async fn team(b: &mut Browser, name: &str, members: &[&str]) -> String {
    let (status, t) = b
        .post(
            "/api/v1/teams",
            json!({"name": name, "strategy": "manual", "members": members,
                   "overflow": null, "away_action": "return", "hours": null}),
        )
        .await;
    assert_eq!(status, 200, "{t}");
    t["id"].as_str().unwrap().to_owned()
}

/// Uploads a photo as `b`; returns the status and body.
async fn upload_photo(b: &Browser, agent: &str, bytes: &[u8], origin: bool) -> (u16, Value) {
    let mut r = b
        .http
        .put(format!("{}/api/v1/agents/{agent}/photo", b.base))
        .header("content-type", "image/png")
        .body(bytes.to_vec());
    if origin {
        r = r.header("Origin", b.base.clone());
    }
    if let Some(c) = &b.cookie {
        r = r.header("Cookie", c.clone());
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn session(t: &TestServer, site_key: &str, url: &str) -> Value {
    let mut b = Browser::new(&t.url);
    let (status, body) = b
        .post(
            "/api/v1/widget/session",
            json!({"site_key": site_key, "token": null, "context": {"url": url}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn look(extra: Value) -> Value {
    let mut base = json!({"color": "#0F766E", "position": "bottom_left", "launcher_text": "Chat with us",
        "agents": [], "welcome": "Hello from the shop", "reply_minutes": 5, "page_rules": []});
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

#[track_caller]
fn refused(got: (u16, Value), status: u16, code: &str) {
    assert_eq!(
        (got.0, got.1["code"].as_str()),
        (status, Some(code)),
        "{}",
        got.1
    );
}

async fn the_public_config_and_session_carry_the_look_and_the_page_rule_routes(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let mut admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let site = site_id(&admin).await;
    let admin_id = agent_id(&admin, &ten.admin_email).await;
    let agent_id = agent_id(&admin, &ten.agent_email).await;

    // Before any look: the defaults.
    let (status, cfg) = Browser::new(&t.url)
        .get(&format!("/api/v1/widget/config?site_key={}", ten.site_key))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        cfg["look"],
        json!({"color": "#4f46e5", "text_color": "#ffffff", "position": "bottom_right", "launcher_text": ""})
    );
    let s = session(&t, &ten.site_key, "https://a.test/").await;
    assert_eq!(s["look"]["welcome"], Value::Null);
    assert_eq!(s["look"]["agents"], json!([]));

    let sales = team(&mut admin, "Sales", &[&agent_id]).await;
    let (status, photo) = upload_photo(&admin, &admin_id, PNG, true).await;
    assert_eq!(status, 200, "{photo}");
    let photo_url = photo["photo_url"].as_str().unwrap().to_owned();
    let (status, view) = admin
        .put(
            &format!("/api/v1/websites/{site}/look"),
            look(json!({"agents": [admin_id],
                "page_rules": [{"url_pattern": "*/pricing*", "welcome": "Talk to sales", "team": sales}]})),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["look"]["color"], "#0f766e");
    let (_, again) = admin.get(&format!("/api/v1/websites/{site}/look")).await;
    assert_eq!(again, view);

    // The loader's config: colour, its text colour, position, label.
    let (_, cfg) = Browser::new(&t.url)
        .get(&format!("/api/v1/widget/config?site_key={}", ten.site_key))
        .await;
    assert_eq!(
        cfg["look"],
        json!({"color": "#0f766e", "text_color": "#ffffff", "position": "bottom_left", "launcher_text": "Chat with us"})
    );

    // The session on an ordinary page: the site's welcome and chosen agents (with the photo).
    let s = session(&t, &ten.site_key, "https://a.test/docs").await;
    assert_eq!(
        s["look"],
        json!({"color": "#0f766e", "text_color": "#ffffff", "welcome": "Hello from the shop",
               "reply_minutes": 5, "agents": [{"name": "Admin a", "photo_url": photo_url}]})
    );
    // On the pricing page: the rule's welcome and its team's agents.
    let s = session(&t, &ten.site_key, "https://a.test/pricing?x=1").await;
    assert_eq!(s["look"]["welcome"], "Talk to sales");
    assert_eq!(
        s["look"]["agents"],
        json!([{"name": "Agent a", "photo_url": null}])
    );
    // The photo is public, for the widget.
    let r = reqwest::get(format!("{}{photo_url}", t.url)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);

    // A conversation started on the pricing page goes to the sales team.
    let token = s["token"].as_str().unwrap().to_owned();
    let mut v = Client::visitor(&t, &token).await;
    let m = v.say("p1", None, "how much?").await.unwrap();
    let (_, conv) = admin
        .get(&format!("/api/v1/conversations/{}", m.conversation_id))
        .await;
    assert_eq!(conv["conversation"]["team_id"], sales, "{conv}");
    // One started elsewhere does not.
    let other = session(&t, &ten.site_key, "https://a.test/docs").await;
    let mut v2 = Client::visitor(&t, other["token"].as_str().unwrap()).await;
    let m2 = v2.say("d1", None, "help").await.unwrap();
    let (_, conv2) = admin
        .get(&format!("/api/v1/conversations/{}", m2.conversation_id))
        .await;
    assert_eq!(conv2["conversation"]["team_id"], Value::Null, "{conv2}");
}

async fn only_admins_change_the_look_and_only_with_this_servers_origin(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let agent = Browser::login(&t.url, &ten.agent_email, PASSWORD).await;
    let site = site_id(&admin).await;
    let path = format!("/api/v1/websites/{site}/look");
    refused(agent.get(&path).await, 403, "forbidden");
    refused(agent.put(&path, look(json!({}))).await, 403, "forbidden");
    refused(
        Browser::new(&t.url).get(&path).await,
        401,
        "unauthenticated",
    );
    // The admin's cookie without this server's Origin: refused as CSRF.
    let r = admin
        .http
        .put(format!("{}{path}", t.url))
        .header("Cookie", admin.cookie.clone().unwrap())
        .header("Origin", "https://evil.test")
        .json(&look(json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "csrf_rejected");
    let (_, unchanged) = admin.get(&path).await;
    assert_eq!(unchanged["look"]["color"], "#4f46e5");

    // Photos: an agent sets their own, not a colleague's; an admin sets anyone's.
    let me = agent_id(&admin, &ten.agent_email).await;
    let boss = agent_id(&admin, &ten.admin_email).await;
    assert_eq!(upload_photo(&agent, &me, PNG, true).await.0, 200);
    refused(
        upload_photo(&agent, &boss, PNG, true).await,
        403,
        "forbidden",
    );
    refused(
        upload_photo(&agent, &me, PNG, false).await,
        403,
        "csrf_rejected",
    );
    assert_eq!(upload_photo(&admin, &me, PNG, true).await.0, 200);
    refused(
        agent.delete(&format!("/api/v1/agents/{boss}/photo")).await,
        403,
        "forbidden",
    );
}

async fn each_broken_rule_of_a_look_has_its_typed_error(backend: Backend) {
    let t = TestServer::start(backend).await;
    let ten = tenant(&t, "a").await;
    let admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let site = site_id(&admin).await;
    let path = format!("/api/v1/websites/{site}/look");
    let put = |body: Value| {
        let admin = &admin;
        let path = path.clone();
        async move { admin.put(&path, body).await }
    };
    refused(
        put(look(json!({"color": "teal"}))).await,
        422,
        "invalid_color",
    );
    refused(
        put(look(json!({"color": "#12345"}))).await,
        422,
        "invalid_color",
    );
    refused(
        put(look(json!({"launcher_text": "x".repeat(25)}))).await,
        422,
        "invalid_widget_text",
    );
    refused(
        put(look(json!({"welcome": "x".repeat(301)}))).await,
        422,
        "invalid_widget_text",
    );
    refused(
        put(look(json!({"welcome": "a\u{1b}[31m"}))).await,
        422,
        "invalid_widget_text",
    );
    refused(
        put(look(json!({"reply_minutes": 0}))).await,
        422,
        "invalid_settings",
    );
    refused(
        put(look(
            json!({"agents": ["0190a0a0-0000-7000-8000-000000000000"]}),
        ))
        .await,
        422,
        "invalid_settings",
    );
    refused(
        put(look(
            json!({"page_rules": [{"url_pattern": "", "welcome": "hi"}]}),
        ))
        .await,
        422,
        "invalid_page_rule",
    );
    refused(
        put(look(
            json!({"page_rules": [{"url_pattern": "*/a*", "welcome": "hi",
            "team": "0190a0a0-0000-7000-8000-000000000000"}]}),
        ))
        .await,
        422,
        "invalid_page_rule",
    );
    refused(
        put(look(
            json!({"page_rules": [{"url_pattern": "*/a*", "welcome": ""}]}),
        ))
        .await,
        422,
        "invalid_page_rule",
    );
    refused(
        put(look(json!({"position": "top_left"}))).await,
        400,
        "invalid_json",
    );
    refused(put(look(json!({"script": "x"}))).await, 400, "invalid_json");
    // Nothing of it was stored.
    let (_, v) = admin.get(&path).await;
    assert_eq!(v["look"]["color"], "#4f46e5");
    // Markup in a welcome is only text: stored as typed (the widget shows it as text).
    let (status, v) = put(look(json!({"welcome": "<img src=x onerror=alert(1)>"}))).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["look"]["welcome"], "<img src=x onerror=alert(1)>");
}

async fn tenants_never_see_or_use_each_others_sites_teams_agents_or_photos(backend: Backend) {
    let t = TestServer::start(backend).await;
    let a = tenant(&t, "a").await;
    let b = tenant(&t, "b").await;
    let mut admin_a = Browser::login(&t.url, &a.admin_email, PASSWORD).await;
    let admin_b = Browser::login(&t.url, &b.admin_email, PASSWORD).await;
    let site_a = site_id(&admin_a).await;
    let site_b = site_id(&admin_b).await;
    let agent_a = agent_id(&admin_a, &a.agent_email).await;
    let team_a = team(&mut admin_a, "Sales", &[&agent_a]).await;

    refused(
        admin_b
            .get(&format!("/api/v1/websites/{site_a}/look"))
            .await,
        404,
        "not_found",
    );
    refused(
        admin_b
            .put(&format!("/api/v1/websites/{site_a}/look"), look(json!({})))
            .await,
        404,
        "not_found",
    );
    // B cannot show A's agent, nor route to A's team.
    refused(
        admin_b
            .put(
                &format!("/api/v1/websites/{site_b}/look"),
                look(json!({"agents": [agent_a]})),
            )
            .await,
        422,
        "invalid_settings",
    );
    refused(
        admin_b
            .put(
                &format!("/api/v1/websites/{site_b}/look"),
                look(json!({"page_rules": [{"url_pattern": "*", "welcome": "x", "team": team_a}]})),
            )
            .await,
        422,
        "invalid_page_rule",
    );
    // B's look editor lists only B's agents.
    let (_, v) = admin_b
        .get(&format!("/api/v1/websites/{site_b}/look"))
        .await;
    let names: Vec<&str> = v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Admin b", "Agent b"]);
    // B's admin cannot set or remove A's agent's photo.
    refused(
        upload_photo(&admin_b, &agent_a, PNG, true).await,
        404,
        "not_found",
    );
    // A's look never leaks into B's widget.
    let (status, _) = admin_a
        .put(
            &format!("/api/v1/websites/{site_a}/look"),
            look(json!({"color": "#ff0000"})),
        )
        .await;
    assert_eq!(status, 200);
    let s = session(&t, &b.site_key, "https://b.test/").await;
    assert_eq!(s["look"]["color"], "#4f46e5");
}

async fn photos_are_raster_images_served_safely_and_replaced_cleanly(backend: Backend) {
    // A small upload limit, so "too large" needs only a small body (a photo's own limit is
    // the smaller of this and 2 MiB).
    let t = TestServer::start_with(backend, |c| c.max_upload_bytes = 4096).await;
    let ten = tenant(&t, "a").await;
    let agent = Browser::login(&t.url, &ten.agent_email, PASSWORD).await;
    let admin = Browser::login(&t.url, &ten.admin_email, PASSWORD).await;
    let me = agent_id(&admin, &ten.agent_email).await;

    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    refused(
        upload_photo(&agent, &me, svg, true).await,
        415,
        "file_type_not_allowed",
    );
    refused(
        upload_photo(&agent, &me, b"%PDF-1.4\n%%EOF\n", true).await,
        415,
        "file_type_not_allowed",
    );
    refused(
        upload_photo(&agent, &me, b"", true).await,
        415,
        "file_type_not_allowed",
    );
    let mut big = PNG.to_vec();
    big.resize(4097, 0);
    refused(
        upload_photo(&agent, &me, &big, true).await,
        413,
        "file_too_large",
    );

    let (status, first) = upload_photo(&agent, &me, PNG, true).await;
    assert_eq!(status, 200, "{first}");
    let first_url = format!("{}{}", t.url, first["photo_url"].as_str().unwrap());
    let r = reqwest::get(&first_url).await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");

    // A new photo: a new URL; the old one is gone.
    let (_, second) = upload_photo(&agent, &me, PNG, true).await;
    assert_ne!(second["photo_url"], first["photo_url"]);
    assert_eq!(reqwest::get(&first_url).await.unwrap().status(), 404);
    let (_, v) = admin
        .get(&format!("/api/v1/websites/{}/look", site_id(&admin).await))
        .await;
    let mine = v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == me.as_str())
        .unwrap();
    assert_eq!(mine["photo_url"], second["photo_url"]);

    // Removed: back to initials, and the URL is gone.
    let (status, _) = agent.delete(&format!("/api/v1/agents/{me}/photo")).await;
    assert_eq!(status, 204);
    let second_url = format!("{}{}", t.url, second["photo_url"].as_str().unwrap());
    assert_eq!(reqwest::get(&second_url).await.unwrap().status(), 404);
    assert_eq!(
        reqwest::get(format!("{}/agent-photos/not-an-id", t.url))
            .await
            .unwrap()
            .status(),
        404
    );
}
