//! The embedded web apps and the demo page.

use crate::AppState;
use crate::assets::{self, APP_CSP, FRAME_CSP};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

pub async fn loader() -> Response {
    assets::serve("widget.js", None)
}

pub async fn widget_file(Path(file): Path<String>) -> Response {
    let csp = file.ends_with(".html").then_some(FRAME_CSP);
    assets::serve(&format!("widget/{file}"), csp)
}

pub async fn root() -> Redirect {
    Redirect::to("/app")
}

/// The dashboard's single page, for every client-side route.
pub async fn app() -> Response {
    assets::serve("app/index.html", Some(APP_CSP))
}

pub async fn app_file(Path(rest): Path<String>) -> Response {
    if rest.contains('.') && !rest.contains("..") {
        assets::serve(&format!("app/{rest}"), Some(APP_CSP))
    } else {
        app().await
    }
}

/// A page that embeds the widget the way a customer's site would, for `frontdesk demo`.
pub async fn demo(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let Some(key) = s.demo_site_key.as_deref() else {
        return (
            StatusCode::NOT_FOUND,
            "The demo page is served by `frontdesk demo`.",
        )
            .into_response();
    };
    let snippet = super::setup::snippet(&super::base_url(&s.config, &headers), key);
    let html = DEMO_PAGE.replace("{{SNIPPET}}", &snippet);
    let mut res = Html(html).into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; style-src 'self' 'unsafe-inline'; frame-src 'self'; connect-src 'self'"),
    );
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
  .card h3 { margin: 0 0 8px; }
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
    <div class="card"><h3>Tents</h3><p>Light, strong and quick to pitch.</p></div>
    <div class="card"><h3>Packs</h3><p>From day hikes to a month on the trail.</p></div>
    <div class="card"><h3>Boots</h3><p>Waterproof, broken in from day one.</p></div>
  </div>
  <p class="note">Open the chat in the corner and say hello. An agent answers from the dashboard at <code>/app</code>.</p>
</main>
{{SNIPPET}}
</body>
</html>
"#;
