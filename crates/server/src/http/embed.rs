//! Where a site's widget may run: the check the widget's config and session make against the
//! site's allowed domains, the chat frame's per-site policy (`frame-ancestors`), and the admin
//! API that edits the list. The rules themselves live in `frontdesk_core::embed`.

use super::JsonBody;
use super::auth::{CurrentAgent, require_admin};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use frontdesk_core::embed::{AllowedDomains, AllowedDomainsView, Evidence};
use frontdesk_core::{ErrorCode, WebsiteId};
use frontdesk_store::Website;

/// The site's allowed domains: its own list, or its domain and subdomains.
pub fn allowed_domains(site: &Website) -> AllowedDomains {
    AllowedDomains::for_site(site.allowed_domains.as_deref(), &site.domain)
}

/// This server's own origin, as the browser sees it (`public_url`, or the request's host).
fn own_origin(s: &AppState, headers: &HeaderMap) -> String {
    super::base_url(&s.config, headers)
}

/// Refuses a widget request from a page that may not embed this site's widget (the `Origin`
/// header, else the `Referer`, else the page URL the widget reported; see
/// `frontdesk_core::embed::allowed`) with `origin_not_allowed`.
pub fn check(
    s: &AppState,
    headers: &HeaderMap,
    site: &Website,
    page_url: Option<&str>,
) -> ApiResult<()> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let evidence = Evidence {
        origin: text(header::ORIGIN),
        referer: text(header::REFERER),
        page_url,
    };
    if frontdesk_core::embed::allowed(&allowed_domains(site), &own_origin(s, headers), evidence) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::OriginNotAllowed,
            "this website may not show this chat; an admin can add its domain to the site's allowed domains",
        ))
    }
}

/// The chat frame's policy: it loads and connects to nothing but this server, and only this
/// server's pages and the site's allowed domains may frame it (none but ours for a frame URL
/// without a known site key).
pub fn frame_csp(s: &AppState, headers: &HeaderMap, site: Option<&Website>) -> String {
    let ancestors = match site {
        Some(w) => allowed_domains(w).frame_ancestors(),
        None => "frame-ancestors 'self'".to_owned(),
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
         connect-src 'self' {}; base-uri 'none'; form-action 'none'; object-src 'none'; {ancestors}",
        socket_origin(&own_origin(s, headers))
    )
}

/// The dashboard's policy: its scripts and styles, its own sockets, never framed.
pub fn app_csp(s: &AppState, headers: &HeaderMap) -> String {
    format!(
        "default-src 'self'; connect-src 'self' {}; img-src 'self' data: blob:; style-src 'self'; \
         script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        socket_origin(&own_origin(s, headers))
    )
}

/// `ws://host` for `http://host`, `wss://host` for `https://host`: 'self' alone does not cover
/// sockets in every browser.
fn socket_origin(base: &str) -> String {
    match base.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}"),
        None => format!("ws://{}", base.strip_prefix("http://").unwrap_or(base)),
    }
}

async fn own_site(
    s: &AppState,
    org: &frontdesk_core::OrganizationId,
    id: &str,
) -> ApiResult<Website> {
    let id = WebsiteId::parse(id).map_err(|_| ApiError::not_found())?;
    s.store
        .website(&id)
        .await?
        .filter(|w| &w.organization_id == org)
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/websites/{id}/domains` (admins): the list in force.
pub async fn domains(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<AllowedDomainsView>> {
    require_admin(&a)?;
    let site = own_site(&s, &a.organization_id, &id).await?;
    Ok(Json(AllowedDomainsView {
        allowed_domains: allowed_domains(&site).to_strings(),
    }))
}

/// `PUT /api/v1/websites/{id}/domains` (admins): replaces the list (1–20 entries).
pub async fn set_domains(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<AllowedDomainsView>,
) -> ApiResult<Json<AllowedDomainsView>> {
    require_admin(&a)?;
    let site = own_site(&s, &a.organization_id, &id).await?;
    let list = AllowedDomains::parse(&req.allowed_domains).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidDomain,
            format!(
                "list 1 to {} domains such as example.com, *.example.com (with its subdomains) or localhost:3000",
                frontdesk_core::embed::MAX_ALLOWED_DOMAINS
            ),
        )
    })?;
    let list = list.to_strings();
    s.store
        .set_allowed_domains(&a.organization_id, &site.id, &list)
        .await?;
    Ok(Json(AllowedDomainsView {
        allowed_domains: list,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sockets_follow_the_scheme() {
        assert_eq!(
            super::socket_origin("https://chat.a.test"),
            "wss://chat.a.test"
        );
        assert_eq!(
            super::socket_origin("http://127.0.0.1:8080"),
            "ws://127.0.0.1:8080"
        );
    }
}
