//! Where a site's widget may run, over the real API on both databases: the chat frame's
//! `frame-ancestors` follows the site's allowed domains; the widget's config and session refuse
//! pages of other origins with `origin_not_allowed`; only admins edit the list, which is checked.

use crate::common::*;
use serde_json::{Value, json};

on_both_backends!(
    the_frame_may_be_framed_only_by_the_sites_allowed_domains,
    config_and_session_refuse_pages_of_other_origins,
    only_admins_edit_the_list_and_every_entry_is_checked,
);

async fn site_id(admin: &Browser) -> String {
    let (status, sites) = admin.get("/api/v1/websites").await;
    assert_eq!(status, 200, "{sites}");
    sites[0]["id"].as_str().unwrap().to_owned()
}

/// The frame's policy for a site key (or none).
async fn frame_csp(t: &TestServer, query: &str) -> String {
    let r = reqwest::get(format!("{}/widget/frame.html{query}", t.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn the_frame_may_be_framed_only_by_the_sites_allowed_domains(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    // By default: this server's pages, the site's domain and its subdomains.
    let csp = frame_csp(&t, &format!("?site={}", org.site_key)).await;
    assert!(
        csp.ends_with("frame-ancestors 'self' a.test:* *.a.test:*"),
        "{csp}"
    );
    // Nothing the frame does not need: no wildcard sockets, no plugins, no other hosts.
    let host = t.url.strip_prefix("http://").unwrap();
    assert!(
        csp.contains(&format!("connect-src 'self' ws://{host};")),
        "{csp}"
    );
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("object-src 'none'"), "{csp}");
    assert!(
        !csp.contains("ws: ") && !csp.contains("wss:") && !csp.contains(" * "),
        "{csp}"
    );

    let id = site_id(&admin).await;
    let (status, body) = admin
        .put(
            &format!("/api/v1/websites/{id}/domains"),
            json!({"allowed_domains": ["localhost:3000", "*.shop.test"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let csp = frame_csp(&t, &format!("?site={}", org.site_key)).await;
    assert!(
        csp.ends_with("frame-ancestors 'self' localhost:3000 shop.test:* *.shop.test:*"),
        "{csp}"
    );
    // Another site's key, an unknown key, an old URL without a key: only this server's pages.
    let other = tenant(&t, "b").await;
    let csp = frame_csp(&t, &format!("?site={}", other.site_key)).await;
    assert!(
        csp.ends_with("frame-ancestors 'self' b.test:* *.b.test:*"),
        "{csp}"
    );
    for q in ["", "?site=nope", "?site="] {
        let csp = frame_csp(&t, q).await;
        assert!(csp.ends_with("frame-ancestors 'self'"), "{q}: {csp}");
    }
    // The dashboard is never framed and has no wildcard sockets either.
    let r = reqwest::get(format!("{}/app", t.url)).await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("ws: "),
        "{csp}"
    );
    t.stop().await;
}

/// A request to the widget API with the given headers; returns the status and the body.
async fn widget(
    t: &TestServer,
    session: bool,
    key: &str,
    headers: &[(&str, &str)],
    page_url: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let http = reqwest::Client::new();
    let mut r = if session {
        http.post(format!("{}/api/v1/widget/session", t.url))
            .json(&json!({"site_key": key, "token": null, "context": {"url": page_url}}))
    } else {
        http.get(format!("{}/api/v1/widget/config?site_key={key}", t.url))
    };
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let h = r.headers().clone();
    (status, r.json().await.unwrap_or(Value::Null), h)
}

async fn config_and_session_refuse_pages_of_other_origins(backend: Backend) {
    // Many sessions from one address, on purpose.
    let t = TestServer::start_with(backend, |c| c.connection_burst_per_ip = 1000).await;
    let org = tenant(&t, "a").await;
    let key = org.site_key.as_str();
    for session in [false, true] {
        let what = if session { "session" } else { "config" };
        // A copied key on another site: refused, typed.
        for h in [
            vec![("Origin", "https://evil.test")],
            vec![("Origin", "https://a.test.evil.test")],
            vec![("Origin", "null")],
            vec![("Referer", "https://evil.test/page")],
        ] {
            let (status, body, headers) = widget(&t, session, key, &h, None).await;
            assert_eq!(status, 403, "{what} {h:?}: {body}");
            assert_eq!(body["code"], "origin_not_allowed", "{what} {h:?}");
            if !session {
                // The loader on that page can read the refusal and stay quiet.
                assert_eq!(headers["access-control-allow-origin"], "*");
            }
        }
        // Without headers, a reported page URL of another site is refused too.
        if session {
            let (status, body, _) = widget(&t, true, key, &[], Some("https://evil.test/")).await;
            assert_eq!(status, 403, "{body}");
            assert_eq!(body["code"], "origin_not_allowed");
        }
        // The site's domain, its subdomains, and this server's own pages are allowed.
        let own = t.url.clone();
        for h in [
            vec![("Origin", "https://a.test")],
            vec![("Origin", "http://www.a.test:8080")],
            vec![("Referer", "https://shop.a.test/cart")],
            vec![("Origin", own.as_str())],
            vec![],
        ] {
            let (status, body, _) = widget(&t, session, key, &h, Some("https://a.test/x")).await;
            assert_eq!(status, 200, "{what} {h:?}: {body}");
        }
    }
    // After the admin changes the list, the old domain is refused and the new one allowed.
    let admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let id = site_id(&admin).await;
    let (status, _) = admin
        .put(
            &format!("/api/v1/websites/{id}/domains"),
            json!({"allowed_domains": ["localhost:3000"]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = widget(&t, true, key, &[("Origin", "https://a.test")], None).await;
    assert_eq!(status, 403);
    let (status, _, _) = widget(&t, true, key, &[("Origin", "http://localhost:3001")], None).await;
    assert_eq!(status, 403);
    let (status, body, _) =
        widget(&t, true, key, &[("Origin", "http://localhost:3000")], None).await;
    assert_eq!(status, 200, "{body}");
    // Another tenant's site is untouched by this list.
    let other = tenant(&t, "b").await;
    let (status, _, _) = widget(
        &t,
        false,
        &other.site_key,
        &[("Origin", "http://localhost:3000")],
        None,
    )
    .await;
    assert_eq!(status, 403);
    t.stop().await;
}

async fn only_admins_edit_the_list_and_every_entry_is_checked(backend: Backend) {
    let t = TestServer::start(backend).await;
    let org = tenant(&t, "a").await;
    let admin = Browser::login(&t.url, &org.admin_email, PASSWORD).await;
    let agent = Browser::login(&t.url, &org.agent_email, PASSWORD).await;
    let id = site_id(&admin).await;
    let path = format!("/api/v1/websites/{id}/domains");

    let (status, body) = admin.get(&path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"allowed_domains": ["*.a.test"]}));

    // Agents may neither read nor change it.
    let (status, body) = agent.get(&path).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let (status, body) = agent
        .put(&path, json!({"allowed_domains": ["evil.test"]}))
        .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));

    // Bad lists: typed, and nothing changes.
    let too_many: Vec<String> = (0..21).map(|i| format!("s{i}.test")).collect();
    for bad in [
        json!({"allowed_domains": []}),
        json!({"allowed_domains": ["*"]}),
        json!({"allowed_domains": ["a.test", "evil.test; script-src *"]}),
        json!({"allowed_domains": ["https://a.test/path"]}),
        json!({"allowed_domains": ["*.com"]}),
        json!({"allowed_domains": ["x".repeat(300)]}),
        json!({"allowed_domains": too_many}),
    ] {
        let (status, body) = admin.put(&path, bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_eq!(body["code"], "invalid_domain", "{bad}");
    }
    let (status, body) = admin.put(&path, json!({"allowed_domains": "a.test"})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_json")));
    let (_, body) = admin.get(&path).await;
    assert_eq!(body, json!({"allowed_domains": ["*.a.test"]}));

    // A good list is normalised (scheme, case, repeats) and read back.
    let (status, body) = admin
        .put(
            &path,
            json!({"allowed_domains": ["HTTPS://Shop.A.test/", "shop.a.test", "127.0.0.1"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"allowed_domains": ["shop.a.test", "127.0.0.1"]})
    );
    let (_, body) = admin.get(&path).await;
    assert_eq!(
        body,
        json!({"allowed_domains": ["shop.a.test", "127.0.0.1"]})
    );

    // Another organization's admin sees no such site; a change without our Origin is refused.
    let other = tenant(&t, "b").await;
    let other_admin = Browser::login(&t.url, &other.admin_email, PASSWORD).await;
    let (status, _) = other_admin.get(&path).await;
    assert_eq!(status, 404);
    let (status, _) = other_admin
        .put(&path, json!({"allowed_domains": ["evil.test"]}))
        .await;
    assert_eq!(status, 404);
    let r = reqwest::Client::new()
        .put(format!("{}{path}", t.url))
        .header("Cookie", admin.cookie.clone().unwrap())
        .header("Origin", "https://evil.test")
        .json(&json!({"allowed_domains": ["evil.test"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "csrf_rejected");
    let (_, body) = admin.get(&path).await;
    assert_eq!(
        body,
        json!({"allowed_domains": ["shop.a.test", "127.0.0.1"]})
    );
    t.stop().await;
}
