//! The web apps, built into `web/dist` by `npm run build` and embedded in the binary, so the
//! binary alone serves everything. `web/dist` is committed; `scripts/test.sh` rebuilds it and
//! fails if the committed copy is stale.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../../web/dist/"]
struct Dist;

/// The policy for the widget frame: it may be framed by any site (the loader runs on customers'
/// sites), but loads nothing from anywhere but this server. Images of a conversation are
/// fetched with the visitor's token and shown from `blob:` URLs of those bytes.
pub const FRAME_CSP: &str = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; \
    style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors *";
/// The policy for the dashboard: never framed.
pub const APP_CSP: &str = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; \
    style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Serves one embedded file, or 404.
pub fn serve(path: &str, csp: Option<&'static str>) -> Response {
    let Some(file) = Dist::get(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mut res = (
        [
            (header::CONTENT_TYPE, content_type(path)),
            // Stable names: revalidate each time; the ETag makes that cheap.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        file.data.into_owned(),
    )
        .into_response();
    let h = res.headers_mut();
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(csp) = csp {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        );
    }
    res
}

/// Whether the web apps were built into this binary (a build without `web/dist` has none).
pub fn present() -> bool {
    Dist::get("widget.js").is_some()
}
