//! The JS SDK's server side: `identify` (with identity verification), custom attributes and
//! tracked events from the widget (each with the visitor token as `Authorization: Bearer`),
//! and the admins' switch and secret for identity verification of a website.
//!
//! The rule that matters: without a valid hash on a site that verifies identities, `identify`
//! changes nothing about who the visitor is, so a visitor can never become another user (and
//! read their conversations) by naming their id. With verification off, `identify` only fills
//! in the current contact's name and email, and never looks a contact up by id.

use super::JsonBody;
use super::auth::{CurrentAgent, require_admin};
use super::files::visitor_from_bearer;
use crate::AppState;
use crate::bus::Event;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use frontdesk_core::contacts::{self, ContactPatch, UpdateContactRequest};
use frontdesk_core::identity::*;
use frontdesk_core::*;
use frontdesk_store::{VisitContext, now_ms};
use std::net::SocketAddr;

/// Tells the organization's dashboards that a contact's profile changed.
async fn announce(s: &AppState, org: &OrganizationId, id: &ContactId) -> ApiResult<()> {
    if let Some(contact) = s.store.contact_profile(org, id).await? {
        s.bus.publish(Event::Contact {
            org: org.clone(),
            contact,
            merged_from: None,
        });
    }
    Ok(())
}

fn limited(s: &AppState, what: &str, contact: &ContactId) -> ApiResult<()> {
    if s.limits
        .sends_per_visitor
        .check(&format!("{what}:{contact}"))
    {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many calls at once; slow down",
        ))
    }
}

/// `POST /api/v1/widget/identify`
pub async fn identify(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<IdentifyRequest>,
) -> ApiResult<Json<IdentifyResponse>> {
    let (org, current) = visitor_from_bearer(&s, &headers).await?;
    let ip = super::client_ip(&s.config, &headers, peer.ip());
    // Identifying may create a contact: as costly as a new session.
    if !s.limits.connect_per_ip.check(&ip) {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many identities from this address; wait a minute",
        ));
    }
    let user = user_id(&req.id)?;
    let name = req
        .name
        .as_deref()
        .map(contacts::contact_name)
        .transpose()?
        .flatten()
        .map(|n| Name::parse(&n))
        .transpose()
        .map_err(|_| ApiError::new(ErrorCode::InvalidName, "that name is not allowed"))?;
    let email = req
        .email
        .as_deref()
        .map(contacts::email)
        .transpose()?
        .flatten();
    // The site comes from the token (signed by us), never from the request.
    let contact = s
        .store
        .contact(&current)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidVisitorToken, "no such visitor"))?;
    let site = s
        .store
        .website(&contact.website_id)
        .await?
        .filter(|w| w.organization_id == org)
        .ok_or_else(ApiError::not_found)?;
    let now = now_ms();
    let (target, verified) = match s.store.identity_secret(&org, &site.id).await? {
        Some(secret) => {
            let ok = req
                .hash
                .as_deref()
                .is_some_and(|h| verify_identity(&secret, &user, h));
            if !ok {
                tracing::info!(site = %site.id, contact = %current, "identify refused: no valid hash");
                return Err(IdentityError::BadHash.into());
            }
            let (c, switched) = s
                .store
                .identified_contact(&site, Some(&current), &user, &VisitContext::default())
                .await?;
            if switched
                && s.store
                    .is_banned(&org, Some(&c.id), Some(&ip.to_string()), now)
                    .await?
            {
                return Err(super::widget::banned());
            }
            (c.id, true)
        }
        None => (current, false),
    };
    if name.is_some() || email.is_some() {
        s.store
            .set_contact_profile(&target, name.as_ref(), email.as_ref())
            .await?;
    }
    announce(&s, &org, &target).await?;
    let expires = now + (s.config.visitor_token_days as i64) * 86_400_000;
    Ok(Json(IdentifyResponse {
        token: s.tokens.issue(&target, &site.id, expires),
        contact_id: target,
        verified,
    }))
}

/// `POST /api/v1/widget/attributes`
pub async fn set_attributes(
    State(s): State<AppState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<SetAttributesRequest>,
) -> ApiResult<StatusCode> {
    let (org, contact) = visitor_from_bearer(&s, &headers).await?;
    limited(&s, "attributes", &contact)?;
    let patch = ContactPatch::parse(&UpdateContactRequest {
        attributes: Some(req.attributes),
        ..Default::default()
    })?;
    if !patch.is_empty() {
        s.store.update_contact(&org, &contact, &patch).await?;
        announce(&s, &org, &contact).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/widget/events`
pub async fn track(
    State(s): State<AppState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<TrackRequest>,
) -> ApiResult<StatusCode> {
    let (org, contact) = visitor_from_bearer(&s, &headers).await?;
    limited(&s, "events", &contact)?;
    let event = VisitorEvent {
        name: event_name(&req.name)?,
        data: req
            .data
            .as_ref()
            .map(event_data)
            .transpose()?
            .unwrap_or_default(),
        at: now_ms(),
    };
    s.store.record_event(&org, &contact, &event).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn website_id(raw: &str) -> ApiResult<WebsiteId> {
    WebsiteId::parse(raw).map_err(|_| ApiError::not_found())
}

fn new_secret() -> String {
    let bytes: [u8; IDENTITY_SECRET_BYTES] = rand::random();
    hex::encode(bytes)
}

async fn settings(
    s: &AppState,
    org: &OrganizationId,
    id: &WebsiteId,
) -> ApiResult<IdentitySettings> {
    // Another organization's website reads as not found.
    s.store
        .website(id)
        .await?
        .filter(|w| &w.organization_id == org)
        .ok_or_else(ApiError::not_found)?;
    let secret = s.store.identity_secret(org, id).await?;
    Ok(IdentitySettings {
        enabled: secret.is_some(),
        secret,
    })
}

/// `GET /api/v1/websites/{id}/identity` (admins)
pub async fn get_identity(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<IdentitySettings>> {
    require_admin(&a)?;
    Ok(Json(
        settings(&s, &a.organization_id, &website_id(&id)?).await?,
    ))
}

/// `PUT /api/v1/websites/{id}/identity` (admins): turning it on makes a secret if there is
/// none; turning it off forgets the secret.
pub async fn set_identity(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<SetIdentityRequest>,
) -> ApiResult<Json<IdentitySettings>> {
    require_admin(&a)?;
    let id = website_id(&id)?;
    let now = settings(&s, &a.organization_id, &id).await?;
    if req.enabled != now.enabled {
        let secret = req.enabled.then(new_secret);
        s.store
            .set_identity_secret(&a.organization_id, &id, secret.as_deref())
            .await?;
        tracing::info!(site = %id, enabled = req.enabled, by = %a.id, "identity verification changed");
    }
    Ok(Json(settings(&s, &a.organization_id, &id).await?))
}

/// `POST /api/v1/websites/{id}/identity/rotate` (admins): a new secret; hashes made with the
/// old one stop verifying at once.
pub async fn rotate_identity(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<IdentitySettings>> {
    require_admin(&a)?;
    let id = website_id(&id)?;
    if !settings(&s, &a.organization_id, &id).await?.enabled {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "identity verification is off for this website; turn it on first",
        ));
    }
    s.store
        .set_identity_secret(&a.organization_id, &id, Some(&new_secret()))
        .await?;
    tracing::info!(site = %id, by = %a.id, "identity secret rotated");
    Ok(Json(settings(&s, &a.organization_id, &id).await?))
}
