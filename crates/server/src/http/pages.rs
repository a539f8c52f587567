//! The embedded web apps and the demo page.

use crate::AppState;
use crate::assets;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

pub async fn loader() -> Response {
    assets::serve("widget.js", None)
}

#[derive(serde::Deserialize)]
pub struct FrameQuery {
    site: Option<String>,
}

/// The widget's files. The chat frame (`frame.html?site=KEY`) carries its site's
/// `frame-ancestors`, so only the site's allowed domains (and this server's own pages) may
/// frame it; without a known key, only this server's pages may.
pub async fn widget_file(
    State(s): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<FrameQuery>,
    headers: HeaderMap,
) -> Response {
    if !file.ends_with(".html") {
        return assets::serve(&format!("widget/{file}"), None);
    }
    let site = match q.site.as_deref() {
        Some(key) if (1..=64).contains(&key.len()) => match s.store.website_by_key(key).await {
            Ok(w) => w,
            Err(_) => {
                return (StatusCode::SERVICE_UNAVAILABLE, "Try again in a moment.").into_response();
            }
        },
        _ => None,
    };
    let csp = super::embed::frame_csp(&s, &headers, site.as_ref());
    assets::serve(&format!("widget/{file}"), Some(&csp))
}

pub async fn root() -> Redirect {
    Redirect::to("/app")
}

/// The dashboard's single page, for every client-side route.
pub async fn app(State(s): State<AppState>, headers: HeaderMap) -> Response {
    assets::serve("app/index.html", Some(&super::embed::app_csp(&s, &headers)))
}

pub async fn app_file(
    State(s): State<AppState>,
    Path(rest): Path<String>,
    headers: HeaderMap,
) -> Response {
    let csp = super::embed::app_csp(&s, &headers);
    if rest.contains('.') && !rest.contains("..") {
        assets::serve(&format!("app/{rest}"), Some(&csp))
    } else {
        assets::serve("app/index.html", Some(&csp))
    }
}

/// A page that embeds the widget the way a customer's site would, for `frontdesk demo`.
/// `?widget=0` serves the same page without the snippet: the baseline of the Lighthouse
/// benchmark (`bench/lighthouse`).
pub async fn demo(
    State(s): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(key) = s.demo_site_key.as_deref() else {
        return (
            StatusCode::NOT_FOUND,
            "The demo page is served by `frontdesk demo`.",
        )
            .into_response();
    };
    let without = query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|p| p == "widget=0"));
    let base = super::base_url(&s.config, &headers);
    let snippet = if without {
        String::new()
    } else {
        super::setup::snippet(&base, key)
    };
    let html = DEMO_PAGE.replace("{{SNIPPET}}", &snippet);
    let mut res = Html(html).into_response();
    // The widget comes from `public_url` when one is set, which may be another origin than the
    // one this page was asked at (the Lighthouse benchmark's cross-site run).
    let csp = format!(
        "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' {base}; \
         frame-src 'self' {base}; connect-src 'self' {base}; object-src 'none'; base-uri 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

/// A page of its own for one site's chat: the link in an email reply opens it, with the
/// visitor's token in the fragment (never sent to the server in a request line or a log).
pub async fn hosted_chat(
    State(s): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let site = match s.store.website_by_key(&key).await {
        Ok(Some(w)) if key.len() <= 64 => w,
        Ok(_) => return (StatusCode::NOT_FOUND, "No website has this key.").into_response(),
        Err(_) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "Try again in a moment.").into_response();
        }
    };
    let snippet = super::setup::snippet(&super::base_url(&s.config, &headers), &site.site_key);
    let html = CHAT_PAGE
        .replace("{{TITLE}}", &escape_html(&site.name))
        .replace("{{SNIPPET}}", &snippet);
    let mut res = Html(html).into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; style-src 'self' 'unsafe-inline'; frame-src 'self'; connect-src 'self'"),
    );
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const CHAT_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Chat with {{TITLE}}</title>
<style>
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2937; background: #f1f5f9; }
  main { max-width: 560px; margin: 0 auto; padding: 48px 24px; }
  h1 { font-size: 24px; margin: 0 0 8px; }
</style>
</head>
<body>
<main><h1>{{TITLE}}</h1><p>Your conversation opens in the chat window.</p></main>
<script src="/widget/chat.js"></script>
{{SNIPPET}}
</body>
</html>
"#;

const DEMO_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme Outdoor — demo shop</title>
<style>
  body { margin: 0; font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2937; background: #f8fafc; }
  header { background: #0f172a; color: #fff; padding: 20px 40px; display: flex; justify-content: space-between; align-items: center; }
  header b { font-size: 20px; letter-spacing: .5px; }
  nav a { color: #cbd5e1; margin-left: 24px; text-decoration: none; }
  main { max-width: 880px; margin: 0 auto; padding: 48px 40px; }
  h1 { font-size: 36px; margin: 0 0 12px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 20px; margin-top: 32px; }
  .card { background: #fff; border: 1px solid #e5e7eb; border-radius: 12px; padding: 20px; }
  .card h2 { margin: 0 0 8px; font-size: 19px; }
  .note { margin-top: 40px; padding: 16px 20px; background: #eef2ff; border-radius: 10px; color: #3730a3; }
  @media (max-width: 600px) { header { padding: 16px 20px; } nav a { margin-left: 16px; } main { padding: 32px 20px 96px; } h1 { font-size: 28px; } }
</style>
</head>
<body>
<header><b>ACME OUTDOOR</b><nav><a href="/demo">Shop</a><a href="/demo?page=pricing">Pricing</a><a href="/demo?page=help">Help</a></nav></header>
<main>
  <h1>Gear for every trail</h1>
  <p>This is a demo page for Frontdesk. It embeds the chat widget with the same one line a business would paste into its own site.</p>
  <div class="cards">
    <div class="card"><h2>Tents</h2><p>Light, strong and quick to pitch.</p></div>
    <div class="card"><h2>Packs</h2><p>From day hikes to a month on the trail.</p></div>
    <div class="card"><h2>Boots</h2><p>Waterproof, broken in from day one.</p></div>
  </div>
  <p class="note">Open the chat in the corner and say hello. An agent answers from the dashboard at <code>/app</code>.</p>
</main>
{{SNIPPET}}
</body>
</html>
"#;
