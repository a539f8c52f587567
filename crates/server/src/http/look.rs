//! The widget's look: admins read and set it per website; agents' photos are uploaded (by the
//! agent, or an admin) and served publicly, since the widget's header shows them to visitors.
//! The rules live in `frontdesk_core::widget`; what the loader and the chat frame get is built
//! here ([`launcher_look`], [`chat_look`]).
//!
//! A photo is an upload like a message's file (`Files::receive`: counted while it streams,
//! its kind told from its bytes), but only a raster image of at most `MAX_PHOTO_BYTES` is
//! kept. It is served at `/agent-photos/{id}` with `nosniff` and a sandboxing CSP; a new photo
//! gets a new id, so the old URL stops working and a URL's bytes never change.

use super::JsonBody;
use super::auth::{CurrentAgent, require_admin};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use frontdesk_core::files::{AttachmentId, FileKind};
use frontdesk_core::protocol::{AgentView, Role};
use frontdesk_core::widget::{
    ChatLook, LauncherLook, LookAgent, MAX_PHOTO_BYTES, MAX_SHOWN_AGENTS, WidgetAgent, WidgetLook,
    WidgetLookView, text_color,
};
use frontdesk_core::*;
use frontdesk_store::{AgentFace, Website, now_ms};

fn photo_url(file: &str) -> String {
    format!("/agent-photos/{file}")
}

fn look_error(e: frontdesk_core::widget::LookError) -> ApiError {
    ApiError::new(e.code(), e.to_string())
}

async fn own_site(s: &AppState, a: &AgentView, id: &str) -> ApiResult<Website> {
    let id = WebsiteId::parse(id).map_err(|_| ApiError::not_found())?;
    s.store
        .website(&id)
        .await?
        .filter(|w| w.organization_id == a.organization_id)
        .ok_or_else(ApiError::not_found)
}

fn look_agent(f: AgentFace) -> LookAgent {
    LookAgent {
        photo_url: f.photo.as_deref().map(photo_url),
        id: f.id,
        name: f.name,
    }
}

async fn view(s: &AppState, org: &OrganizationId, look: WidgetLook) -> ApiResult<WidgetLookView> {
    let agents = s.store.agent_faces(org).await?;
    Ok(WidgetLookView {
        look,
        agents: agents.into_iter().map(look_agent).collect(),
    })
}

/// `GET /api/v1/websites/{id}/look` (admins).
pub async fn get_look(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<WidgetLookView>> {
    require_admin(&a)?;
    let site = own_site(&s, &a, &id).await?;
    let look = s.store.widget_look(&a.organization_id, &site.id).await?;
    Ok(Json(view(&s, &a.organization_id, look).await?))
}

/// `PUT /api/v1/websites/{id}/look` (admins): the whole look, checked by the core.
pub async fn set_look(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(look): JsonBody<WidgetLook>,
) -> ApiResult<Json<WidgetLookView>> {
    require_admin(&a)?;
    let site = own_site(&s, &a, &id).await?;
    let org = &a.organization_id;
    let teams: Vec<_> = s
        .store
        .teams(org)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let agents: Vec<_> = s
        .store
        .agent_faces(org)
        .await?
        .into_iter()
        .map(|f| f.id)
        .collect();
    let look = look.check(&teams, &agents).map_err(look_error)?;
    s.store
        .set_widget_look(org, &site.id, &look, now_ms())
        .await?;
    Ok(Json(view(&s, org, look).await?))
}

/// The agent whose photo `a` may change: themselves, or (for an admin) anyone of the
/// organization (another organization's agent is not found, in the store).
fn photo_owner(a: &AgentView, id: &str) -> ApiResult<AgentId> {
    let id = AgentId::parse(id).map_err(|_| ApiError::not_found())?;
    if id != a.id && a.role != Role::Admin {
        return Err(ApiError::forbidden(
            "only admins may change a colleague's photo",
        ));
    }
    Ok(id)
}

/// `PUT /api/v1/agents/{id}/photo`: the image's bytes as the body.
pub async fn set_photo(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<LookAgent>> {
    let agent = photo_owner(&a, &id)?;
    let org = &a.organization_id;
    // Not found before reading a byte of the body.
    let face = s
        .store
        .agent_faces(org)
        .await?
        .into_iter()
        .find(|f| f.id == agent)
        .ok_or_else(ApiError::not_found)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let max = MAX_PHOTO_BYTES.min(s.config.max_upload_bytes);
    let staged = s.files.receive(declared, body, "photo", max).await?;
    if !staged.kind.inline() {
        return Err(ApiError::new(
            ErrorCode::FileTypeNotAllowed,
            "a photo must be a PNG, JPEG, GIF or WebP image",
        ));
    }
    let file = AttachmentId::new(rand::random());
    s.files
        .blobs
        .put(file.as_str(), &staged.path)
        .await
        .map_err(ApiError::internal)?;
    let old = match s
        .store
        .set_agent_photo(
            org,
            &agent,
            file.as_str(),
            staged.kind.content_type(),
            now_ms(),
        )
        .await
    {
        Ok(old) => old,
        Err(e) => {
            forget(&s, file.as_str()).await;
            return Err(e.into());
        }
    };
    if let Some(old) = old {
        forget(&s, &old).await;
    }
    Ok(Json(LookAgent {
        id: face.id,
        name: face.name,
        photo_url: Some(photo_url(file.as_str())),
    }))
}

/// `DELETE /api/v1/agents/{id}/photo`: back to initials.
pub async fn delete_photo(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let agent = photo_owner(&a, &id)?;
    if let Some(old) = s
        .store
        .clear_agent_photo(&a.organization_id, &agent)
        .await?
    {
        forget(&s, &old).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn forget(s: &AppState, file: &str) {
    if let Err(e) = s.files.blobs.delete(file).await {
        tracing::warn!(error = %e, "cannot delete the bytes of a replaced photo");
    }
}

/// `GET /agent-photos/{id}`: an agent's current photo, to anyone (the widget shows it).
pub async fn photo(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = AttachmentId::parse(&id).map_err(|_| ApiError::not_found())?;
    let kind = s
        .store
        .agent_photo(id.as_str())
        .await?
        .and_then(|ct| FileKind::from_content_type(&ct))
        .filter(|k| k.inline())
        .ok_or_else(ApiError::not_found)?;
    let blob = s
        .files
        .blobs
        .get(id.as_str())
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(ApiError::not_found)?;
    let mut res = Response::new(blob.body);
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(kind.content_type()),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(blob.len));
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ),
        (header::CONTENT_DISPOSITION, "inline"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
        // A photo's id changes with its bytes.
        (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    Ok(res.into_response())
}

/// What the loader draws the launcher with.
pub async fn launcher_look(s: &AppState, site: &Website) -> ApiResult<LauncherLook> {
    Ok(s.store
        .widget_look(&site.organization_id, &site.id)
        .await?
        .launcher())
}

/// The chat's look for a visitor on the page `url`: the page rule's welcome and team's
/// agents, or the site's.
pub async fn chat_look(s: &AppState, site: &Website, url: Option<&str>) -> ApiResult<ChatLook> {
    let org = &site.organization_id;
    let look = s.store.widget_look(org, &site.id).await?;
    let rule = look.page_rule(url);
    let shown: Vec<AgentId> = match rule.and_then(|r| r.team.as_ref()) {
        Some(team) => s
            .store
            .team(org, team)
            .await?
            .map(|t| t.members)
            .unwrap_or_default(),
        None => look.agents.clone(),
    };
    let agents = if shown.is_empty() {
        Vec::new()
    } else {
        let faces = s.store.agent_faces(org).await?;
        shown
            .iter()
            .filter_map(|id| faces.iter().find(|f| &f.id == id))
            .take(MAX_SHOWN_AGENTS)
            .map(|f| WidgetAgent {
                name: f.name.clone(),
                photo_url: f.photo.as_deref().map(photo_url),
            })
            .collect()
    };
    Ok(ChatLook {
        text_color: text_color(&look.color).to_owned(),
        welcome: look.welcome_for(url).map(str::to_owned),
        reply_minutes: look.reply_minutes,
        agents,
        color: look.color,
    })
}
