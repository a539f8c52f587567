//! Canned responses: list (rendered for a conversation when one is named), create, change,
//! delete. The rules, each with a test in `tests/it/canned.rs`:
//! - everyone sees the organization's shared responses and their own personal ones, and no
//!   one else's personal ones (not even an admin: they read as not found, like another
//!   tenant's);
//! - only admins create, change or delete shared ones;
//! - everyone creates, changes and deletes their own personal ones.

use super::JsonBody;
use super::auth::{CurrentAgent, require_admin};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use frontdesk_core::canned::*;
use frontdesk_core::protocol::AgentView;
use frontdesk_core::*;
use frontdesk_store::{CannedFields, StoreError};
use serde::Deserialize;

impl From<CannedError> for ApiError {
    fn from(e: CannedError) -> Self {
        ApiError::new(e.code(), e.to_string())
    }
}

fn canned_id(raw: &str) -> ApiResult<CannedResponseId> {
    CannedResponseId::parse(raw).map_err(|_| ApiError::not_found())
}

/// The owner column for a scope: `None` for the shared list, which only admins may change.
fn owner_for(a: &AgentView, scope: CannedScope) -> ApiResult<Option<&AgentId>> {
    match scope {
        CannedScope::Shared => {
            require_admin(a).map_err(|_| {
                ApiError::forbidden("only admins may change the shared canned responses")
            })?;
            Ok(None)
        }
        CannedScope::Personal => Ok(Some(&a.id)),
    }
}

fn taken(e: StoreError, shortcut: &Shortcut, scope: CannedScope) -> ApiError {
    match e {
        StoreError::Conflict => {
            let list = match scope {
                CannedScope::Shared => "the shared list",
                CannedScope::Personal => "your list",
            };
            ApiError::new(
                ErrorCode::Conflict,
                format!("/{} is already in {list}", shortcut.as_str()),
            )
        }
        e => e.into(),
    }
}

struct Parsed {
    shortcut: Shortcut,
    title: CannedTitle,
    body: CannedBody,
}

impl Parsed {
    fn new(shortcut: &str, title: &str, body: &str) -> ApiResult<Self> {
        Ok(Self {
            shortcut: Shortcut::parse(shortcut)?,
            title: CannedTitle::parse(title)?,
            body: CannedBody::parse(body)?,
        })
    }
    fn fields(&self) -> CannedFields<'_> {
        CannedFields {
            shortcut: &self.shortcut,
            title: &self.title,
            body: &self.body,
        }
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    conversation_id: Option<String>,
}

/// `GET /api/v1/canned-responses[?conversation_id=]`: with a conversation, each one carries its
/// text filled in for that conversation's contact, website and the agent asking.
pub async fn list(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<CannedResponse>>> {
    let mut list = s.store.canned_responses(&a.organization_id, &a.id).await?;
    if let Some(raw) = q.conversation_id.as_deref() {
        let id = ConversationId::parse(raw).map_err(|_| ApiError::not_found())?;
        let c = s
            .store
            .conversation(&a.organization_id, &id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let contact = s
            .store
            .contact(&c.contact_id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let ctx = RenderContext {
            contact_name: contact.name.as_deref(),
            contact_email: contact.email.as_deref(),
            agent_name: &a.name,
            website_name: &c.website_name,
        };
        for r in &mut list {
            r.rendered = Some(render(&r.body, &ctx));
        }
    }
    Ok(Json(list))
}

pub async fn create(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    JsonBody(req): JsonBody<CreateCannedRequest>,
) -> ApiResult<Json<CannedResponse>> {
    let owner = owner_for(&a, req.scope)?;
    let p = Parsed::new(&req.shortcut, &req.title, &req.body)?;
    let max = match req.scope {
        CannedScope::Shared => MAX_SHARED,
        CannedScope::Personal => MAX_PERSONAL,
    };
    match s
        .store
        .create_canned_response(&a.organization_id, owner, p.fields(), max)
        .await
    {
        Ok(Some(r)) => Ok(Json(r)),
        Ok(None) => Err(ApiError::new(
            ErrorCode::LimitReached,
            format!("a list holds at most {max} canned responses; delete one first"),
        )),
        Err(e) => Err(taken(e, &p.shortcut, req.scope)),
    }
}

pub async fn update(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<UpdateCannedRequest>,
) -> ApiResult<Json<CannedResponse>> {
    let id = canned_id(&id)?;
    let old = s
        .store
        .canned_response(&a.organization_id, &a.id, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let owner = owner_for(&a, old.scope)?;
    let p = Parsed::new(&req.shortcut, &req.title, &req.body)?;
    let saved = s
        .store
        .update_canned_response(&a.organization_id, owner, &id, p.fields())
        .await
        .map_err(|e| taken(e, &p.shortcut, old.scope))?;
    Ok(Json(saved))
}

pub async fn delete(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = canned_id(&id)?;
    let old = s
        .store
        .canned_response(&a.organization_id, &a.id, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let owner = owner_for(&a, old.scope)?;
    s.store
        .delete_canned_response(&a.organization_id, owner, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
