//! Uploading and downloading files.
//!
//! An upload is the file's bytes as the request body (any content type; it is not believed)
//! with its name in the query (`?name=`). Agents upload to a conversation with their session
//! cookie; visitors with their visitor token as `Authorization: Bearer`. The answer is the
//! `Attachment`, which a message then sends by its id.
//!
//! Downloads (`GET /files/{id}/{name}`) need the same credentials: an agent of the file's
//! organization, or the visitor of the conversation it was sent in (never a note's file).
//! Anyone else gets 404, whoever knows the URL. A file is served with the content type told
//! from its bytes, `X-Content-Type-Options: nosniff`, `Content-Security-Policy: default-src
//! 'none'; sandbox`, and `Content-Disposition` with its safe name: `inline` for raster images,
//! `attachment` for everything else.

use super::auth::{CurrentAgent, agent_from_cookie};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::files::Staged;
use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use frontdesk_core::files::{Attachment, AttachmentId, FileKind, content_disposition};
use frontdesk_core::*;
use frontdesk_store::{NewAttachment, Uploader, now_ms};
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Deserialize)]
pub struct UploadQuery {
    name: Option<String>,
}

/// `POST /api/v1/conversations/{id}/attachments?name=`: an agent's file for a conversation of
/// their organization, sent later with a reply or a note.
pub async fn agent_upload(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Attachment>> {
    let conv = ConversationId::parse(&id).map_err(|_| ApiError::not_found())?;
    s.store
        .conversation(&a.organization_id, &conv)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let staged = receive(&s, &headers, body, q.name.as_deref()).await?;
    keep(
        &s,
        staged,
        a.organization_id,
        Some(conv),
        Uploader::Agent(a.id),
    )
    .await
}

/// `POST /api/v1/widget/attachments?name=`: a visitor's file, sent later with a message.
pub async fn visitor_upload(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Attachment>> {
    let (org, contact) = visitor_from_bearer(&s, &headers).await?;
    let ip = super::client_ip(&s.config, &headers, peer.ip()).to_string();
    if s.store
        .is_banned(&org, Some(&contact), Some(&ip), now_ms())
        .await?
    {
        return Err(super::widget::banned());
    }
    if !s.limits.sends_per_visitor.check(&contact.0) {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "you are sending too fast; wait a moment",
        ));
    }
    let staged = receive(&s, &headers, body, q.name.as_deref()).await?;
    keep(&s, staged, org, None, Uploader::Visitor(contact)).await
}

async fn receive(
    s: &AppState,
    headers: &HeaderMap,
    body: Body,
    name: Option<&str>,
) -> ApiResult<Staged> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    s.files
        .receive(
            declared,
            body,
            name.unwrap_or(""),
            s.config.max_upload_bytes,
        )
        .await
}

/// Hands a checked upload to the blob store and records it. Its bytes go first: a record
/// never points at nothing (bytes a crash leaves without a record are only wasted space).
async fn keep(
    s: &AppState,
    staged: Staged,
    org: OrganizationId,
    conversation_id: Option<ConversationId>,
    uploader: Uploader,
) -> ApiResult<Json<Attachment>> {
    let id = AttachmentId::new(rand::random());
    s.files
        .blobs
        .put(id.as_str(), &staged.path)
        .await
        .map_err(ApiError::internal)?;
    let new = NewAttachment {
        id: id.clone(),
        organization_id: org,
        conversation_id,
        uploader,
        name: staged.name.clone(),
        content_type: staged.kind.content_type().to_owned(),
        size: staged.size as i64,
        sha256: staged.sha256.clone(),
    };
    match s.store.create_attachment(&new, now_ms()).await {
        Ok(a) => Ok(Json(a)),
        Err(e) => {
            if let Err(d) = s.files.blobs.delete(id.as_str()).await {
                tracing::warn!(error = %d, "cannot delete the bytes of a refused file");
            }
            Err(e.into())
        }
    }
}

/// The visitor behind an `Authorization: Bearer <visitor token>` header: their organization
/// and contact.
pub async fn visitor_from_bearer(
    s: &AppState,
    headers: &HeaderMap,
) -> ApiResult<(OrganizationId, ContactId)> {
    let token = bearer(headers).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidVisitorToken,
            "send the visitor token as Authorization: Bearer",
        )
    })?;
    let claims = s.tokens.verify(token, now_ms())?;
    // The token's contact, or the one it was merged into since (as on the socket).
    match s
        .store
        .visitor_contact(&claims.contact_id, &claims.website_id)
        .await?
    {
        Some((org, c)) => Ok((org, c.id)),
        None => Err(ApiError::new(
            ErrorCode::InvalidVisitorToken,
            "this visitor no longer exists",
        )),
    }
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// `GET /files/{id}/{name}`: the file, to someone who may see it (see the module's comment).
/// The name in the path is for people and browsers; the id alone finds the file.
pub async fn download(
    State(s): State<AppState>,
    Path((id, _name)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = AttachmentId::parse(&id).map_err(|_| ApiError::not_found())?;
    let file = if bearer(&headers).is_some() {
        let (_, contact) = visitor_from_bearer(&s, &headers).await?;
        s.store.attachment_for_visitor(&contact, &id).await?
    } else {
        let agent = agent_from_cookie(&s, &headers).await?.0;
        s.store
            .attachment_for_agent(&agent.organization_id, &id)
            .await?
    };
    let file = file.ok_or_else(ApiError::not_found)?;
    let blob = s
        .files
        .blobs
        .get(id.as_str())
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal(format!("the bytes of file {id} are missing")))?;
    // Only the kinds this server accepted are ever served as themselves.
    let kind = FileKind::from_content_type(&file.content_type);
    let content_type = match kind {
        Some(FileKind::Text) => "text/plain; charset=utf-8",
        Some(k) => k.content_type(),
        None => "application/octet-stream",
    };
    let inline = kind.is_some_and(FileKind::inline);
    let mut res = Response::new(blob.body);
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(blob.len));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&content_disposition(&file.name, inline))
            .map_err(ApiError::internal)?,
    );
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
        // Private: it was fetched with credentials. A file's bytes never change.
        (header::CACHE_CONTROL, "private, max-age=86400"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    Ok(res.into_response())
}
