//! Proactive triggers: admins edit a site's rules and read their counts; the widget reports a
//! greeting shown or accepted. The rules themselves (conditions, guardrails, limits) are the
//! core's (`frontdesk_core::triggers`); the widget runs them locally from its config.

use super::JsonBody;
use super::auth::{CurrentAgent, require_admin};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use frontdesk_core::protocol::AgentView;
use frontdesk_core::triggers::{
    GreetingFrom, SiteTriggers, SiteTriggersView, TriggerError, TriggerEventRequest, TriggerId,
    validate,
};
use frontdesk_core::{ErrorCode, WebsiteId};
use frontdesk_store::{Greeting, now_ms};

impl From<TriggerError> for ApiError {
    fn from(e: TriggerError) -> Self {
        ApiError::new(e.code(), e.to_string())
    }
}

fn site_id(raw: &str) -> ApiResult<WebsiteId> {
    WebsiteId::parse(raw).map_err(|_| ApiError::not_found())
}

async fn view(s: &AppState, a: &AgentView, site: &WebsiteId) -> ApiResult<SiteTriggersView> {
    Ok(SiteTriggersView {
        triggers: s.store.site_triggers(&a.organization_id, site).await?,
        stats: s.store.trigger_stats(&a.organization_id, site).await?,
    })
}

/// `GET /websites/{id}/triggers` (admins): the rules and their counts.
pub async fn get(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<SiteTriggersView>> {
    require_admin(&a)?;
    Ok(Json(view(&s, &a, &site_id(&id)?).await?))
}

/// `PUT /websites/{id}/triggers` (admins): replaces the rules. A rule whose `id` is not a UUID
/// (a new one, sent with `""`) gets a fresh id; a greeting's agent must be of the organization,
/// and is named as they are now.
pub async fn put(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(mut body): JsonBody<SiteTriggers>,
) -> ApiResult<Json<SiteTriggersView>> {
    require_admin(&a)?;
    let site = site_id(&id)?;
    let agents = s.store.agents(&a.organization_id).await?;
    let now = now_ms();
    for r in body.rules.iter_mut() {
        r.id = match TriggerId::parse(r.id.as_str()) {
            Ok(id) => id,
            Err(_) => TriggerId::new(now, rand::random()),
        };
        if let GreetingFrom::Agent { id, name } = &mut r.action.from {
            let agent = agents.iter().find(|x| &x.id == id).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidTrigger,
                    "a greeting's agent is not one of your agents",
                )
            })?;
            *name = agent.name.clone();
        }
    }
    let body = validate(body)?;
    s.store
        .set_site_triggers(&a.organization_id, &site, &body)
        .await?;
    Ok(Json(view(&s, &a, &site).await?))
}

/// `POST /widget/trigger`: the widget showed a greeting, or the visitor opened the chat from
/// it. Counted for the visitor's own site, for a rule it has; limited like a visitor's sends.
pub async fn event(
    State(s): State<AppState>,
    JsonBody(req): JsonBody<TriggerEventRequest>,
) -> ApiResult<StatusCode> {
    let claims = s.tokens.verify(&req.token, now_ms())?;
    if !s
        .limits
        .sends_per_visitor
        .check(&format!("trigger:{}", claims.contact_id))
    {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many trigger reports; wait a moment",
        ));
    }
    let trigger = TriggerId::parse(req.trigger_id.as_str()).map_err(|_| ApiError::not_found())?;
    if s.store
        .count_trigger(&claims.website_id, &trigger, req.event)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}

/// The greeting a visitor's first send answers, as the site's enabled rule says (never as the
/// browser says); `None` when the site has no such rule now.
pub async fn greeting(
    s: &AppState,
    website: &WebsiteId,
    organization_name: impl FnOnce() -> String,
    trigger: &TriggerId,
) -> ApiResult<Option<Greeting>> {
    let site = s.store.widget_triggers(website).await?;
    let Some(rule) = site.rules.iter().find(|r| r.enabled && &r.id == trigger) else {
        return Ok(None);
    };
    let Ok(text) = frontdesk_core::MessageText::parse(&rule.action.text) else {
        return Ok(None);
    };
    let (author_id, author_name) = match &rule.action.from {
        GreetingFrom::Agent { id, name } => (Some(id.clone()), name.clone()),
        GreetingFrom::Team => (None, organization_name()),
    };
    Ok(Some(Greeting {
        trigger_id: rule.id.clone(),
        website_id: website.clone(),
        text,
        author_id,
        author_name,
        accept: rule.action.open,
    }))
}
