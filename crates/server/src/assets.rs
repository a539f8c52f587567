//! The web apps, built into `web/dist` by `npm run build` and embedded in the binary, so the
//! binary alone serves everything. `web/dist` is committed; `scripts/test.sh` rebuilds it and
//! fails if the committed copy is stale.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../../web/dist/"]
struct Dist;

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
/// `csp` is the page's policy (the frame's and the dashboard's are in `http::embed`).
pub fn serve(path: &str, csp: Option<&str>) -> Response {
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
    if let Some(csp) = csp.and_then(|c| HeaderValue::from_str(c).ok()) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    res
}

/// Whether the web apps were built into this binary (a build without `web/dist` has none).
pub fn present() -> bool {
    Dist::get("widget.js").is_some()
}
