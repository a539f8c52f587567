//! Contacts for agents: the list (search, filters, cursor pages), one contact with its
//! conversations, editing a profile, and merging two contacts. Any agent of the organization
//! may do each (as in Chatwoot); another organization's contact, or one merged away, is
//! `not_found`. A change is published as a `contact` frame to the organization's agents, so
//! open dashboards show it at once; a merge also cuts off the merged-away visitor's widget
//! sockets, which reconnect as the kept contact (their token leads there now).

use super::JsonBody;
use super::auth::CurrentAgent;
use crate::AppState;
use crate::bus::Event;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use frontdesk_core::contacts::*;
use frontdesk_core::*;

fn contact_id(raw: &str) -> ApiResult<ContactId> {
    // A malformed id cannot name anything: not found, like another tenant's.
    ContactId::parse(raw).map_err(|_| ApiError::not_found())
}

/// `GET /api/v1/contacts?q=&website=&has_email=&seen_after=&seen_before=&attr.KEY=&cursor=&limit=`
pub async fn list(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> ApiResult<Json<ContactPage>> {
    let Query(pairs) = q.map_err(|e| ApiError::new(ErrorCode::InvalidFilter, e.body_text()))?;
    let filter = ContactFilter::parse(&pairs)?;
    Ok(Json(
        s.store.list_contacts(&a.organization_id, &filter).await?,
    ))
}

/// `GET /api/v1/contacts/{id}`: the profile and the contact's conversations, newest first.
pub async fn get(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<ContactDetail>> {
    s.store
        .contact_detail(&a.organization_id, &contact_id(&id)?)
        .await?
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

/// `PATCH /api/v1/contacts/{id}`: changes the fields named (`UpdateContactRequest`).
pub async fn update(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<UpdateContactRequest>,
) -> ApiResult<Json<ContactProfile>> {
    let id = contact_id(&id)?;
    let patch = ContactPatch::parse(&req)?;
    let contact = if patch.is_empty() {
        s.store
            .contact_profile(&a.organization_id, &id)
            .await?
            .ok_or_else(ApiError::not_found)?
    } else {
        let c = s
            .store
            .update_contact(&a.organization_id, &id, &patch)
            .await?;
        s.bus.publish(Event::Contact {
            org: a.organization_id.clone(),
            contact: c.clone(),
            merged_from: None,
        });
        c
    };
    Ok(Json(contact))
}

/// `POST /api/v1/contacts/{id}/merge`: merges `other_id` into this contact, which is kept.
pub async fn merge(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<MergeContactRequest>,
) -> ApiResult<Json<ContactDetail>> {
    let kept = contact_id(&id)?;
    let other = contact_id(req.other_id.as_str())?;
    let out = s
        .store
        .merge_contacts(&a.organization_id, &kept, &other)
        .await?;
    tracing::info!(
        kept = %kept,
        merged = %other,
        conversations = out.moved.len(),
        by = %a.id,
        "contacts merged"
    );
    s.bus.publish(Event::Contact {
        org: a.organization_id.clone(),
        contact: out.detail.contact.clone(),
        merged_from: Some(other.clone()),
    });
    // Its widget reconnects with its token, which now leads to the kept contact.
    s.bus.publish(Event::KickVisitor { contact: other });
    Ok(Json(out.detail))
}
