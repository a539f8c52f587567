//! HTTP adapters: parse the request, call the store, publish, reply.

pub mod api;
pub mod auth;
pub mod bans;
pub mod canned;
pub mod contacts;
pub mod embed;
pub mod files;
pub mod forms;
pub mod health;
pub mod identity;
pub mod look;
pub mod pages;
pub mod search;
pub mod setup;
pub mod tags;
pub mod teams;
pub mod transcript;
pub mod triggers;
pub mod visitors;
pub mod widget;

use crate::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use frontdesk_core::ErrorCode;
use serde::de::DeserializeOwned;

/// A JSON body whose failures are typed errors (`invalid_json`, `body_too_large`).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
}

fn json_rejection(e: JsonRejection) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(ErrorCode::BodyTooLarge, "the request body is too large");
    }
    ApiError::new(ErrorCode::InvalidJson, e.body_text())
}

pub async fn api_not_found() -> ApiError {
    ApiError::not_found()
}

/// CSRF defence for requests that change state with a cookie: the browser's `Origin` must be
/// this server: the configured `public_url` when there is one (a proxy may rewrite `Host`), or
/// else the request's own `Host`. Browsers always send `Origin` on cross-site requests and on
/// `fetch` POSTs; a page on another site cannot forge it.
pub fn check_origin(headers: &HeaderMap, public_url: &str) -> Result<(), ApiError> {
    let origin = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok());
    let Some(origin) = origin else {
        return Err(ApiError::new(
            ErrorCode::CsrfRejected,
            "requests that change state must carry this server's Origin header",
        ));
    };
    let ours = if public_url.is_empty() {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .unwrap_or("");
        !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
    } else {
        origin.eq_ignore_ascii_case(public_url.trim_end_matches('/'))
    };
    if ours {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::CsrfRejected,
            "cross-site request refused",
        ))
    }
}

/// The visitor's address: the connection's, or behind a trusted proxy the last
/// `X-Forwarded-For` entry (the one the proxy itself added; earlier ones the client chose).
pub fn client_ip(
    cfg: &crate::Config,
    headers: &HeaderMap,
    peer: std::net::IpAddr,
) -> std::net::IpAddr {
    if !cfg.trust_forwarded_for {
        return peer;
    }
    // Only the very last entry: if it does not parse, an earlier one (which the client may
    // have written) must not take its place.
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|ip| ip.trim().parse().ok())
        .unwrap_or(peer)
}

/// The base URL to put in snippets: the configured public URL, or this request's host.
pub fn base_url(cfg: &crate::Config, headers: &HeaderMap) -> String {
    if !cfg.public_url.is_empty() {
        return cfg.public_url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    format!("http://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let peer: std::net::IpAddr = "10.0.0.2".parse().unwrap();
        let headers = h(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7")]);
        let mut cfg = crate::Config::default();
        assert_eq!(client_ip(&cfg, &headers, peer), peer);
        cfg.trust_forwarded_for = true;
        assert_eq!(client_ip(&cfg, &headers, peer).to_string(), "203.0.113.7");
        assert_eq!(client_ip(&cfg, &h(&[]), peer), peer);
        let garbage_last = h(&[("x-forwarded-for", "6.6.6.6, not-an-ip")]);
        assert_eq!(client_ip(&cfg, &garbage_last, peer), peer);
    }

    #[test]
    fn origin_must_match_host() {
        assert!(
            check_origin(
                &h(&[("host", "a.test:8080"), ("origin", "http://a.test:8080")]),
                ""
            )
            .is_ok()
        );
        assert!(
            check_origin(
                &h(&[("host", "a.test:8080"), ("origin", "http://evil.test")]),
                ""
            )
            .is_err()
        );
        assert!(check_origin(&h(&[("host", "a.test:8080"), ("origin", "null")]), "").is_err());
        assert!(check_origin(&h(&[("host", "a.test:8080")]), "").is_err());
        // Behind a proxy that rewrites Host, the configured public URL decides.
        let proxied = h(&[
            ("host", "10.0.0.5:8080"),
            ("origin", "https://chat.example.com"),
        ]);
        assert!(check_origin(&proxied, "https://chat.example.com/").is_ok());
        assert!(check_origin(&proxied, "https://other.example.com").is_err());
    }
}
