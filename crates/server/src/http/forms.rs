//! The widget's forms. Admins set a site's pre-chat form and end-of-chat questions; the
//! visitor's widget sends the pre-chat answers (to the contact's profile and the conversation)
//! and rates a resolved conversation, authenticated by the visitor token as
//! `Authorization: Bearer`; agents read both on the conversation (`GET …/feedback`) and hear of
//! changes by a `feedback` frame. The rules live in `frontdesk_core::prechat`.

use super::JsonBody;
use super::auth::{CurrentAgent, require_admin};
use crate::AppState;
use crate::bus::Event;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use frontdesk_core::contacts::ContactPatch;
use frontdesk_core::prechat::*;
use frontdesk_core::protocol::Problem;
use frontdesk_core::*;
use frontdesk_store::now_ms;

fn website_id(raw: &str) -> ApiResult<WebsiteId> {
    WebsiteId::parse(raw).map_err(|_| ApiError::not_found())
}

/// `GET /websites/{id}/forms` (admins).
pub async fn get_forms(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<SiteForms>> {
    require_admin(&a)?;
    Ok(Json(
        s.store
            .site_forms_in_org(&a.organization_id, &website_id(&id)?)
            .await?,
    ))
}

/// `PUT /websites/{id}/forms` (admins): checked by the core, `invalid_settings` naming the field.
pub async fn put_forms(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(forms): JsonBody<SiteForms>,
) -> ApiResult<Json<SiteForms>> {
    require_admin(&a)?;
    let forms = forms
        .check()
        .map_err(|e| ApiError::new(ErrorCode::InvalidSettings, e.to_string()))?;
    Ok(Json(
        s.store
            .save_site_forms(&a.organization_id, &website_id(&id)?, &forms, now_ms())
            .await?,
    ))
}

/// The visitor behind the Bearer token: organization, contact and the site the widget is on.
async fn visitor(
    s: &AppState,
    headers: &HeaderMap,
) -> ApiResult<(OrganizationId, ContactId, WebsiteId)> {
    let token = super::files::bearer(headers).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidVisitorToken,
            "send the visitor token as Authorization: Bearer",
        )
    })?;
    let claims = s.tokens.verify(token, now_ms())?;
    match s
        .store
        .visitor_contact(&claims.contact_id, &claims.website_id)
        .await?
    {
        Some((org, c)) => Ok((org, c.id, claims.website_id)),
        None => Err(ApiError::new(
            ErrorCode::InvalidVisitorToken,
            "this visitor no longer exists",
        )),
    }
}

fn slow_down(s: &AppState, contact: &ContactId) -> ApiResult<()> {
    if s.limits.sends_per_visitor.check(&contact.0) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::RateLimited,
            "you are sending too fast; wait a moment",
        ))
    }
}

/// A refused form: the problem body with `fields`, one entry per refused answer.
fn invalid_form(fields: Vec<FieldError>) -> Response {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    let detail = fields
        .iter()
        .map(|f| format!("{}: {}", f.key, f.message))
        .collect::<Vec<_>>()
        .join("; ");
    let mut body = serde_json::to_value(Problem {
        type_: "about:blank".into(),
        title: "Unprocessable Entity".into(),
        status: status.as_u16(),
        detail,
        code: ErrorCode::InvalidForm,
    })
    .unwrap_or_default();
    body["fields"] = serde_json::to_value(&fields).unwrap_or_default();
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

/// `POST /widget/prechat`: the visitor's answers to the site's pre-chat form. The name, email
/// and phone go to the contact's profile, the department and custom fields to its attributes
/// (through the same checked patch as an agent's edit), and the answers to the conversation
/// (the one the first message creates, or the visitor's current one).
pub async fn submit_prechat(
    State(s): State<AppState>,
    headers: HeaderMap,
    JsonBody(sub): JsonBody<PrechatSubmission>,
) -> Result<StatusCode, Response> {
    let (org, contact, site_id) = visitor(&s, &headers)
        .await
        .map_err(IntoResponse::into_response)?;
    slow_down(&s, &contact).map_err(IntoResponse::into_response)?;
    let now = now_ms();
    let site = s
        .store
        .website(&site_id)
        .await
        .map_err(|e| ApiError::from(e).into_response())?
        .ok_or_else(|| ApiError::not_found().into_response())?;
    let forms = s
        .store
        .site_forms(&site_id)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    let form = effective_form(&forms, &site.routing.departments());
    // Outside the site's hours every message is an offline one, whatever the widget thought.
    let offline = sub.offline || !super::widget::availability(&site.routing, now).open;
    let Some(form) = form.or_else(|| offline.then(|| offline_form(None))) else {
        return Err(ApiError::new(
            ErrorCode::InvalidForm,
            "this site asks no pre-chat questions",
        )
        .into_response());
    };
    let valid = validate(&form, &sub, offline).map_err(invalid_form)?;
    store_answers(&s, &org, &contact, valid, offline, now)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn store_answers(
    s: &AppState,
    org: &OrganizationId,
    contact: &ContactId,
    v: ValidAnswers,
    offline: bool,
    now: Millis,
) -> ApiResult<()> {
    let patch = ContactPatch {
        name: v.name.map(Some),
        email: v.email.map(Some),
        phone: v.phone.map(Some),
        company: None,
        attributes: v
            .attributes
            .into_iter()
            .map(|(k, val)| (k, Some(val)))
            .collect(),
    };
    let profile = if patch.is_empty() {
        None
    } else {
        Some(s.store.update_contact(org, contact, &patch).await?)
    };
    let conv = s.store.latest_conversation(contact).await?;
    s.store
        .save_form_answers(
            org,
            contact,
            conv.as_ref().map(|c| &c.id),
            &v.answers,
            offline,
            now,
        )
        .await?;
    if let Some(p) = profile {
        s.bus.publish(Event::Contact {
            org: org.clone(),
            contact: p,
            merged_from: None,
        });
    }
    if let Some(c) = conv {
        // The contact's name and email show on the conversation too.
        publish_feedback(s, org, &c.id).await?;
        s.bus.publish(Event::Conversation {
            org: org.clone(),
            contact: contact.clone(),
            conversation: c,
        });
    }
    Ok(())
}

async fn publish_feedback(
    s: &AppState,
    org: &OrganizationId,
    id: &ConversationId,
) -> ApiResult<()> {
    let feedback = s.store.conversation_feedback(org, id).await?;
    s.bus.publish(Event::Feedback {
        org: org.clone(),
        conversation_id: id.clone(),
        feedback,
    });
    Ok(())
}

/// `POST /widget/rating`: the visitor rates their own resolved conversation; a second rating
/// replaces the first.
pub async fn rate(
    State(s): State<AppState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<RatingRequest>,
) -> ApiResult<Json<Rating>> {
    let (org, contact, _) = visitor(&s, &headers).await?;
    slow_down(&s, &contact)?;
    // Someone else's conversation reads as not found, as every visitor read does.
    let conv = s
        .store
        .contact_conversation(&contact, &req.conversation_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if conv.status != ConversationStatus::Resolved {
        return Err(ApiError::new(
            ErrorCode::NotResolved,
            "a conversation is rated once it is resolved",
        ));
    }
    let settings = s.store.site_forms(&conv.website_id).await?.end_of_chat;
    let rating = check_rating(&req, settings, now_ms())
        .map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    s.store.rate_conversation(&org, &conv.id, &rating).await?;
    publish_feedback(&s, &org, &conv.id).await?;
    Ok(Json(rating))
}

/// `GET /conversations/{id}/feedback`: the pre-chat answers and the rating of a conversation.
pub async fn feedback(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversationFeedback>> {
    let id = ConversationId::parse(&id).map_err(|_| ApiError::not_found())?;
    s.store
        .conversation(&a.organization_id, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(
        s.store
            .conversation_feedback(&a.organization_id, &id)
            .await?,
    ))
}
