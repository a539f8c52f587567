//! Transcripts by email: an agent sends one to the visitor; the visitor asks for one from the
//! widget (`transcript` frame, in `ws/visitor.rs`). Both go through the email outbox.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use frontdesk_core::*;
use frontdesk_store::now_ms;

use super::auth::CurrentAgent;

/// `POST /conversations/{id}/transcript`: emails the visitor a transcript of the conversation
/// (what they saw; never notes), to the contact's address. Queued durably in the outbox.
pub async fn transcript(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let conv_id = ConversationId::parse(&id).map_err(|_| ApiError::not_found())?;
    let conv = s
        .store
        .conversation(&a.organization_id, &conv_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let to = conv.contact_email.clone().ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidEmail,
            "this visitor has not given an email address",
        )
    })?;
    s.store
        .queue_transcript(&a.organization_id, &conv_id, &to, now_ms())
        .await?;
    Ok(Json(serde_json::json!({ "to": to })))
}
