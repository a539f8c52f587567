//! The widget's session: finds the website by its public key, and starts or resumes the
//! visitor behind a signed token. Context the browser reports is clipped, never trusted.

use super::JsonBody;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use frontdesk_core::protocol::{PageContext, WidgetSessionRequest, WidgetSessionResponse};
use frontdesk_core::teams::{Availability, SiteRouting, WidgetConfig};
use frontdesk_core::{ErrorCode, MAX_URL_BYTES, clip};
use frontdesk_store::{VisitContext, now_ms};
use std::net::SocketAddr;

/// An http(s) URL, clipped; anything else (javascript:, data:) is dropped.
fn web_url(u: Option<&str>) -> Option<String> {
    let u = u?.trim();
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")).then(|| clip(u, MAX_URL_BYTES))
}

fn short(v: Option<&str>, max: usize) -> Option<String> {
    v.map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| clip(&v.replace(|c: char| c.is_control(), " "), max))
}

/// What the browser and its user agent tell about the visit.
pub fn visit_context(ctx: &PageContext, user_agent: Option<&str>) -> VisitContext {
    let (browser, os, device) =
        match user_agent.and_then(|ua| woothee::parser::Parser::new().parse(ua)) {
            Some(r) => {
                let known = |s: &str| (s != "UNKNOWN" && !s.is_empty()).then(|| s.to_owned());
                let browser = known(r.name).map(|n| match known(r.version) {
                    Some(v) => format!("{n} {v}"),
                    None => n,
                });
                let device = match r.category {
                    "pc" => Some("Desktop".to_owned()),
                    "smartphone" => Some("Mobile".to_owned()),
                    "mobilephone" => Some("Mobile".to_owned()),
                    "appliance" => Some("Appliance".to_owned()),
                    "crawler" => Some("Crawler".to_owned()),
                    _ => None,
                };
                (browser, known(r.os), device)
            }
            None => (None, None, None),
        };
    VisitContext {
        current_url: web_url(ctx.url.as_deref()),
        page_title: short(ctx.title.as_deref(), 300),
        referrer: web_url(ctx.referrer.as_deref()),
        browser,
        os,
        device,
        language: short(ctx.language.as_deref(), 35),
        timezone: short(ctx.timezone.as_deref(), 64),
    }
}

pub async fn session(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<WidgetSessionRequest>,
) -> ApiResult<Json<WidgetSessionResponse>> {
    let ip = super::client_ip(&s.config, &headers, peer.ip());
    if !s.limits.connect_per_ip.check(&ip) {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many new sessions from this address; wait a minute",
        ));
    }
    if req.site_key.len() > 64 {
        return Err(ApiError::new(
            ErrorCode::UnknownSiteKey,
            "no website has this key",
        ));
    }
    let site = s
        .store
        .website_by_key(&req.site_key)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownSiteKey, "no website has this key"))?;
    super::embed::check(&s, &headers, &site, req.context.url.as_deref())?;
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let ctx = visit_context(&req.context, ua);
    let now = now_ms();
    // A token that is missing, forged, expired, or for another site starts a new visitor.
    // One of a contact merged into another resumes as that one (and gets its token).
    let returning = match req.token.as_deref().map(|t| s.tokens.verify(t, now)) {
        Some(Ok(claims)) if claims.website_id == site.id => s
            .store
            .visitor_contact(&claims.contact_id, &site.id)
            .await?
            .map(|(_, c)| c.id),
        _ => None,
    };
    let contact = match returning {
        Some(id) => match s.store.touch_contact(&id, &ctx).await {
            Ok(c) => Some(c),
            Err(frontdesk_store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    // A banned visitor, or anyone from a banned address, is refused before anything is
    // stored: a polite typed error the widget shows without retrying.
    let ip_text = ip.to_string();
    if s.store
        .is_banned(
            &site.organization_id,
            contact.as_ref().map(|c| &c.id),
            Some(&ip_text),
            now,
        )
        .await?
    {
        return Err(banned());
    }
    let (contact, new_visitor) = match contact {
        Some(c) => (c, false),
        None => (s.store.create_contact(&site, &ctx).await?, true),
    };
    s.store.record_contact_ip(&contact.id, &ip_text).await?;
    record_page(&s, &site.organization_id, &contact.id, &ctx, ip, now).await?;
    let expires = now + (s.config.visitor_token_days as i64) * 86_400_000;
    let look = super::look::chat_look(&s, &site, ctx.current_url.as_deref()).await?;
    let forms = s.store.site_forms(&site.id).await?;
    let departments = site.routing.departments();
    Ok(Json(WidgetSessionResponse {
        token: s.tokens.issue(&contact.id, &site.id, expires),
        contact_id: contact.id,
        website_name: site.name,
        organization_name: site.organization_name,
        agents_online: s.hub.agents_online(&site.organization_id)
            || s.store.agents_online(&site.organization_id, now).await?,
        new_visitor,
        availability: availability(&site.routing, now),
        look,
        prechat: frontdesk_core::prechat::effective_form(&forms, &departments),
        end_of_chat: forms.end_of_chat,
        departments,
    }))
}

/// Adds the session's page to the contact's trail (with a rough location when a GeoIP database
/// is configured) and tells the organization's agents when the page changed.
async fn record_page(
    s: &AppState,
    org: &frontdesk_core::OrganizationId,
    contact: &frontdesk_core::ContactId,
    ctx: &VisitContext,
    ip: std::net::IpAddr,
    now: frontdesk_core::Millis,
) -> ApiResult<()> {
    let Some(url) = ctx.current_url.clone() else {
        return Ok(());
    };
    let page = frontdesk_store::NewPageView {
        url,
        title: ctx.page_title.clone(),
        location: s.geoip.locate(ip),
    };
    if let Some(page) = s.store.record_page_view(org, contact, &page, now).await? {
        s.bus.publish(crate::bus::Event::VisitorPage {
            org: org.clone(),
            contact: contact.clone(),
            page,
        });
    }
    Ok(())
}

#[derive(serde::Deserialize)]
pub struct AvailabilityQuery {
    site_key: String,
}

/// `GET /api/v1/widget/config?site_key=…`: what the loader on a customer's page needs first
/// (whether the site's chat is open, and whether to hide it while closed). Public,
/// contact-free, cacheable for a minute, and readable from any origin (it says nothing that the
/// widget would not show).
pub async fn site_config(
    State(s): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<AvailabilityQuery>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let site = match q.site_key.len() {
        1..=64 => s.store.website_by_key(&q.site_key).await,
        _ => Ok(None),
    };
    let mut res = match site {
        Ok(Some(site)) if let Err(e) = super::embed::check(&s, &headers, &site, None) => {
            e.into_response()
        }
        Ok(Some(site)) => match config(&s, &site).await {
            Ok(config) => Json(config).into_response(),
            Err(e) => e.into_response(),
        },
        Ok(None) => {
            ApiError::new(ErrorCode::UnknownSiteKey, "no website has this key").into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    };
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("public, max-age=60"),
    );
    // The answer depends on the page asking (its allowed domains).
    h.insert(header::VARY, header::HeaderValue::from_static("Origin"));
    res
}

/// What the loader reads: whether the site is open now, its launcher's look, its enabled
/// triggers.
async fn config(s: &AppState, site: &frontdesk_store::Website) -> ApiResult<WidgetConfig> {
    let now = now_ms();
    Ok(WidgetConfig {
        availability: availability(&site.routing, now),
        agents_online: s.hub.agents_online(&site.organization_id)
            || s.store.agents_online(&site.organization_id, now).await?,
        look: super::look::launcher_look(s, site).await?,
        triggers: s.store.widget_triggers(&site.id).await?.for_widget(),
    })
}

/// The refusal a banned visitor sees.
pub fn banned() -> ApiError {
    ApiError::new(
        ErrorCode::Banned,
        "Sorry, this chat is not available to you.",
    )
}

/// Whether the site is open now and, if not, when it opens.
pub fn availability(r: &SiteRouting, now: frontdesk_core::Millis) -> Availability {
    let open = r.hours.as_ref().is_none_or(|h| h.is_open(now));
    Availability {
        open,
        next_open_at: if open {
            None
        } else {
            r.hours.as_ref().and_then(|h| h.next_open(now))
        },
        when_closed: r.when_closed,
        timezone: r.hours.as_ref().map(|h| h.timezone.name().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_clipped_and_scripts_dropped() {
        let ctx = PageContext {
            url: Some("javascript:alert(1)".into()),
            title: Some(format!("a\u{0}b{}", "x".repeat(1000))),
            referrer: Some("https://ref.test/".into()),
            language: Some("de-DE".into()),
            timezone: None,
        };
        let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        let v = visit_context(&ctx, Some(ua));
        assert_eq!(v.current_url, None);
        assert_eq!(v.referrer.as_deref(), Some("https://ref.test/"));
        assert!(v.page_title.as_ref().unwrap().len() <= 300);
        assert!(!v.page_title.unwrap().contains('\u{0}'));
        assert!(v.browser.unwrap().starts_with("Chrome"));
        assert_eq!(v.os.as_deref(), Some("Linux"));
        assert_eq!(v.device.as_deref(), Some("Desktop"));
    }
}
