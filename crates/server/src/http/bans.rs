//! Banning visitors: any agent may ban the visitor of a conversation (by their identity and,
//! if asked, their last address), with a reason and an expiry; supervisors and admins list and
//! lift bans. A ban also cuts off the visitor's open sockets, and leaves a note in the chat.

use super::JsonBody;
use super::auth::{CurrentAgent, require_supervisor};
use crate::AppState;
use crate::bus::Event;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use frontdesk_core::bans::*;
use frontdesk_core::conversation::AgentRef;
use frontdesk_core::protocol::MessageKind;
use frontdesk_core::*;
use frontdesk_store::{NewBan, Scope, Target, WriteOp, now_ms};

pub async fn ban(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<BanRequest>,
) -> ApiResult<Json<BanView>> {
    let reason = req.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_BAN_REASON {
        return Err(ApiError::new(
            ErrorCode::InvalidSettings,
            format!("a ban needs a reason of 1 to {MAX_BAN_REASON} characters"),
        ));
    }
    if req.days.is_some_and(|d| !(1..=MAX_BAN_DAYS).contains(&d)) {
        return Err(ApiError::new(
            ErrorCode::InvalidSettings,
            format!("a ban lasts 1 to {MAX_BAN_DAYS} days, or until lifted"),
        ));
    }
    let conv_id = ConversationId::parse(&id).map_err(|_| ApiError::not_found())?;
    let conv = s
        .store
        .conversation(&a.organization_id, &conv_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let ip = if req.ip {
        s.store
            .contact_ip(&a.organization_id, &conv.contact_id)
            .await?
    } else {
        None
    };
    let now = now_ms();
    let view = s
        .store
        .create_ban(&NewBan {
            organization_id: &a.organization_id,
            contact_id: &conv.contact_id,
            ip: ip.as_deref(),
            reason,
            created_by: &a.id,
            created_at: now,
            expires_at: ban_expiry(now, req.days),
        })
        .await?;
    // Every node cuts the visitor's sockets off; their widget then hears `banned`.
    s.bus.publish(Event::KickVisitor {
        contact: conv.contact_id.clone(),
    });
    let how_long = match req.days {
        None => "until lifted".to_owned(),
        Some(1) => "for 1 day".to_owned(),
        Some(d) => format!("for {d} days"),
    };
    let note = format!(
        "{} banned this visitor{} {how_long}: {reason}",
        a.name,
        if view.ip.is_some() {
            " and their address"
        } else {
            ""
        },
    );
    s.store
        .write(WriteOp::Send {
            scope: Scope::Organization(a.organization_id.clone()),
            target: Target::Conversation(conv_id),
            client_id: None,
            kind: MessageKind::Note,
            author: Some(AgentRef {
                id: a.id.clone(),
                name: a.name.clone(),
            }),
            text: MessageText::parse(&clip_chars(&note, MAX_MESSAGE_CHARS))?,
            attachments: Vec::new(),
        })
        .await?;
    Ok(Json(view))
}

pub async fn bans(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
) -> ApiResult<Json<Vec<BanView>>> {
    require_supervisor(&a)?;
    Ok(Json(s.store.bans(&a.organization_id, now_ms()).await?))
}

pub async fn lift(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require_supervisor(&a)?;
    if id.len() > 64 {
        return Err(ApiError::not_found());
    }
    s.store.delete_ban(&a.organization_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
