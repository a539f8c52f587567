//! Tags: the organization's list (everyone reads it, admins manage it) and the tags of a
//! conversation (any agent adds and removes them, creating a tag by naming it).
//!
//! A change to the list is published as a `tags` frame to the organization's agents. A change
//! to a conversation's tags goes through the writer like any conversation change: it stores
//! an internal note and the agents get the `message` and `conversation` frames; the visitor
//! gets nothing (notes never reach them, and their view of a conversation has no tags).

use super::JsonBody;
use super::auth::{CurrentAgent, require_admin};
use crate::AppState;
use crate::bus::Event;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use frontdesk_core::conversation::AgentRef;
use frontdesk_core::protocol::*;
use frontdesk_core::tags::*;
use frontdesk_core::*;
use frontdesk_store::{Scope, StoreError, WriteOp};

fn tag_id(raw: &str) -> ApiResult<TagId> {
    // A malformed id cannot name anything: not found, like another tenant's.
    TagId::parse(raw).map_err(|_| ApiError::not_found())
}

fn conv_id(raw: &str) -> ApiResult<ConversationId> {
    ConversationId::parse(raw).map_err(|_| ApiError::not_found())
}

fn name_taken(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict => ApiError::new(
            ErrorCode::Conflict,
            "a tag with this name already exists (names are compared without case)",
        ),
        e => e.into(),
    }
}

/// Tells the organization's agents the tag list changed.
async fn publish_list(s: &AppState, org: &OrganizationId) -> ApiResult<()> {
    let tags = s.store.tags(org).await?;
    s.bus.publish(Event::Tags {
        org: org.clone(),
        tags,
    });
    Ok(())
}

pub async fn list(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
) -> ApiResult<Json<Vec<Tag>>> {
    Ok(Json(s.store.tags(&a.organization_id).await?))
}

pub async fn create(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    JsonBody(req): JsonBody<CreateTagRequest>,
) -> ApiResult<Json<Tag>> {
    require_admin(&a)?;
    let name = TagName::parse(&req.name)?;
    let color = req.color.unwrap_or_else(|| TagColor::for_name(&name));
    let tag = s
        .store
        .create_tag(&a.organization_id, &name, color)
        .await
        .map_err(name_taken)?;
    publish_list(&s, &a.organization_id).await?;
    Ok(Json(tag))
}

pub async fn update(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<UpdateTagRequest>,
) -> ApiResult<Json<Tag>> {
    require_admin(&a)?;
    let id = tag_id(&id)?;
    let name = req.name.as_deref().map(TagName::parse).transpose()?;
    let tag = s
        .store
        .update_tag(&a.organization_id, &id, name.as_ref(), req.color)
        .await
        .map_err(name_taken)?;
    publish_list(&s, &a.organization_id).await?;
    Ok(Json(tag))
}

pub async fn delete(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require_admin(&a)?;
    s.store
        .delete_tag(&a.organization_id, &tag_id(&id)?)
        .await?;
    publish_list(&s, &a.organization_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_tag(
    s: &AppState,
    a: &AgentView,
    conversation_id: ConversationId,
    tag: TagId,
    on: bool,
) -> ApiResult<Conversation> {
    let out = s
        .store
        .write(WriteOp::SetTag {
            scope: Scope::Organization(a.organization_id.clone()),
            conversation_id,
            by: AgentRef {
                id: a.id.clone(),
                name: a.name.clone(),
            },
            tag,
            on,
        })
        .await?;
    Ok(out.conversation)
}

/// Puts a tag on a conversation: a tag of the list by id, or by name (created if new).
pub async fn add(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<AddTagRequest>,
) -> ApiResult<Json<Conversation>> {
    let conversation_id = conv_id(&id)?;
    let tag = match (req.tag_id, req.name) {
        (Some(t), None) => t,
        (None, Some(n)) => {
            let name = TagName::parse(&n)?;
            // Check the conversation first: naming a tag on a conversation one cannot see
            // must not add to the list.
            s.store
                .conversation(&a.organization_id, &conversation_id)
                .await?
                .ok_or_else(ApiError::not_found)?;
            let (tag, created) = s
                .store
                .tag_named(&a.organization_id, &name, TagColor::for_name(&name))
                .await?;
            if created {
                publish_list(&s, &a.organization_id).await?;
            }
            tag.id
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidJson,
                "give exactly one of tag_id and name",
            ));
        }
    };
    Ok(Json(set_tag(&s, &a, conversation_id, tag, true).await?))
}

pub async fn remove(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path((id, tag)): Path<(String, String)>,
) -> ApiResult<Json<Conversation>> {
    let conversation_id = conv_id(&id)?;
    Ok(Json(
        set_tag(&s, &a, conversation_id, tag_id(&tag)?, false).await?,
    ))
}
