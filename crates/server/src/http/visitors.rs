//! Visitor context and live visitors for agents: the visitor panel's details, the live
//! visitors list, and proactive chats (an agent writes first; the visitor's widget opens).

use super::JsonBody;
use super::auth::CurrentAgent;
use crate::AppState;
use crate::bus::Event;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use frontdesk_core::conversation::AgentRef;
use frontdesk_core::protocol::*;
use frontdesk_core::visitors::*;
use frontdesk_core::*;
use frontdesk_store::{Scope, Target, WriteOp, now_ms};

fn contact_id(raw: &str) -> ApiResult<ContactId> {
    ContactId::parse(raw).map_err(|_| ApiError::not_found())
}

/// `GET /api/v1/contacts/{id}/visit`
pub async fn details(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<VisitorDetails>> {
    let id = contact_id(&id)?;
    s.store
        .visitor_details(&a.organization_id, &id, now_ms())
        .await?
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/visitors`: visitors whose widget is connected now, on any node.
pub async fn live(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
) -> ApiResult<Json<Vec<LiveVisitor>>> {
    Ok(Json(
        s.store.live_visitors(&a.organization_id, now_ms()).await?,
    ))
}

/// `POST /api/v1/visitors/{id}/chat`: stores the agent's first message in the visitor's
/// conversation (a new one, or their latest reopened), which the agent then holds, and opens
/// the visitor's widget. A retry with the same `client_id` stores nothing new.
pub async fn start_chat(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<ProactiveChatRequest>,
) -> ApiResult<Json<Conversation>> {
    let id = contact_id(&id)?;
    let client_id = ClientId::parse(&req.client_id)?;
    let text = MessageText::parse(&req.text)?;
    let details = s
        .store
        .visitor_details(&a.organization_id, &id, now_ms())
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !details.online {
        return Err(ApiError::new(
            ErrorCode::VisitorOffline,
            "this visitor has left the site; they can no longer be reached by chat",
        ));
    }
    let out = s
        .store
        .write(WriteOp::Send {
            scope: Scope::Organization(a.organization_id.clone()),
            target: Target::LatestOfContact {
                contact_id: id.clone(),
                organization_id: a.organization_id.clone(),
                website_id: details.website_id,
            },
            client_id: Some(client_id),
            kind: MessageKind::Agent,
            author: Some(AgentRef {
                id: a.id.clone(),
                name: a.name.clone(),
            }),
            text,
            attachments: Vec::new(),
        })
        .await?;
    s.bus.publish(Event::OpenWidget {
        contact: id,
        conversation_id: out.conversation.id.clone(),
    });
    Ok(Json(out.conversation))
}
