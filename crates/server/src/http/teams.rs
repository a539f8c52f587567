//! Teams, agents' routing settings, sites' routing settings, transfers, invitations,
//! priority and the queue monitor. Every settings body is validated here, with a typed
//! `invalid_settings` error naming what is wrong; permissions are checked here for settings
//! and in the writer (under the row lock) for conversation changes.

use super::JsonBody;
use super::auth::{CurrentAgent, require_admin, require_supervisor};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use frontdesk_core::conversation::AgentRef;
use frontdesk_core::protocol::*;
use frontdesk_core::routing::{RuleCondition, TeamId};
use frontdesk_core::teams::*;
use frontdesk_core::*;
use frontdesk_store::{Scope, StoreError, TransferTo, WriteOp};

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidSettings, detail)
}

fn team_id(raw: &str) -> ApiResult<TeamId> {
    TeamId::parse(raw).map_err(|_| ApiError::not_found())
}

fn conv_id(raw: &str) -> ApiResult<ConversationId> {
    ConversationId::parse(raw).map_err(|_| ApiError::not_found())
}

fn agent_ref(a: &AgentView) -> AgentRef {
    AgentRef {
        id: a.id.clone(),
        name: a.name.clone(),
    }
}

/// Trims, drops empties and duplicates, and bounds a list of skills or language tags.
fn tags(list: &[String], what: &str) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for t in list {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > MAX_TAG || t.chars().any(char::is_control) {
            return Err(invalid(format!(
                "each {what} must be at most {MAX_TAG} characters"
            )));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
            out.push(t.to_owned());
        }
    }
    if out.len() > MAX_TAGS {
        return Err(invalid(format!("at most {MAX_TAGS} {what}s")));
    }
    Ok(out)
}

fn check_hours(h: &Option<hours::WeeklyHours>, whose: &str) -> ApiResult<()> {
    if let Some(h) = h {
        h.validate()
            .map_err(|e| invalid(format!("{whose} hours: {e}")))?;
        if h.holidays.len() > 366 {
            return Err(invalid(format!("{whose} hours: at most 366 holidays")));
        }
        if h.days.iter().map(Vec::len).sum::<usize>() > 7 * 24 {
            return Err(invalid(format!("{whose} hours: too many intervals")));
        }
    }
    Ok(())
}

// ---- teams ----

pub async fn teams(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
) -> ApiResult<Json<Vec<TeamView>>> {
    Ok(Json(s.store.teams(&a.organization_id).await?))
}

async fn validate_team(
    s: &AppState,
    a: &AgentView,
    id: Option<&TeamId>,
    t: &mut TeamView,
) -> ApiResult<()> {
    let name = t.name.trim();
    if name.is_empty() || name.chars().count() > MAX_TEAM_NAME || name.chars().any(char::is_control)
    {
        return Err(invalid(format!(
            "a team needs a name of 1 to {MAX_TEAM_NAME} characters"
        )));
    }
    t.name = name.to_owned();
    let agents = s.store.agents(&a.organization_id).await?;
    if let Some(m) = t
        .members
        .iter()
        .find(|m| !agents.iter().any(|x| &x.id == *m))
    {
        return Err(invalid(format!("{m} is not an agent of this organization")));
    }
    if let Some(o) = &t.overflow {
        if Some(&o.to) == id {
            return Err(invalid("a team cannot overflow into itself"));
        }
        if s.store.team(&a.organization_id, &o.to).await?.is_none() {
            return Err(invalid("the backup team does not exist"));
        }
        if o.after_ms.is_none() && !o.when_full {
            return Err(invalid(
                "an overflow needs a wait in seconds, or 'when the team is full', or both",
            ));
        }
        if o.after_ms
            .is_some_and(|ms| !(1_000..=86_400_000).contains(&ms))
        {
            return Err(invalid(
                "the overflow wait must be between 1 second and 24 hours",
            ));
        }
    }
    check_hours(&t.hours, "the team's")
}

fn conflict_as_name(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict => {
            ApiError::new(ErrorCode::Conflict, "a team with this name already exists")
        }
        e => e.into(),
    }
}

pub async fn create_team(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    JsonBody(mut t): JsonBody<TeamView>,
) -> ApiResult<Json<TeamView>> {
    require_admin(&a)?;
    validate_team(&s, &a, None, &mut t).await?;
    let saved = s
        .store
        .save_team(&a.organization_id, None, &t)
        .await
        .map_err(conflict_as_name)?;
    s.router.poke(&a.organization_id);
    Ok(Json(saved))
}

pub async fn update_team(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(mut t): JsonBody<TeamView>,
) -> ApiResult<Json<TeamView>> {
    require_admin(&a)?;
    let id = team_id(&id)?;
    if s.store.team(&a.organization_id, &id).await?.is_none() {
        return Err(ApiError::not_found());
    }
    validate_team(&s, &a, Some(&id), &mut t).await?;
    let saved = s
        .store
        .save_team(&a.organization_id, Some(&id), &t)
        .await
        .map_err(conflict_as_name)?;
    s.router.poke(&a.organization_id);
    Ok(Json(saved))
}

pub async fn delete_team(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require_admin(&a)?;
    let id = team_id(&id)?;
    s.store.delete_team(&a.organization_id, &id).await?;
    // Sites whose rules name the team fall back to their default.
    for site in s.store.websites(&a.organization_id).await? {
        let mut r = site.routing.clone();
        let before = r.rules.len();
        r.rules.retain(|rule| rule.team != id);
        if r.default_team.as_ref() == Some(&id) {
            r.default_team = None;
        }
        if r.rules.len() != before || site.routing.default_team != r.default_team {
            s.store
                .set_site_routing(&a.organization_id, &site.id, &r)
                .await?;
        }
    }
    s.router.poke(&a.organization_id);
    Ok(StatusCode::NO_CONTENT)
}

// ---- agents ----

pub async fn agent_settings(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<AgentSettingsRequest>,
) -> ApiResult<Json<AgentView>> {
    require_admin(&a)?;
    let id = AgentId::parse(&id).map_err(|_| ApiError::not_found())?;
    if id == a.id && req.role != Role::Admin {
        return Err(invalid(
            "you cannot take away your own admin role; ask another admin",
        ));
    }
    if !(1..=MAX_CONCURRENCY).contains(&req.max_chats) {
        return Err(invalid(format!(
            "the chat limit must be between 1 and {MAX_CONCURRENCY}"
        )));
    }
    let skills = tags(&req.skills, "skill")?;
    let languages = tags(&req.languages, "language")?;
    let v = s
        .store
        .set_agent_settings(
            &a.organization_id,
            &id,
            req.role,
            req.max_chats,
            &skills,
            &languages,
        )
        .await?;
    s.router.poke(&a.organization_id);
    Ok(Json(v))
}

// ---- sites ----

async fn own_site(s: &AppState, a: &AgentView, id: &str) -> ApiResult<frontdesk_store::Website> {
    let id = WebsiteId::parse(id).map_err(|_| ApiError::not_found())?;
    s.store
        .website(&id)
        .await?
        .filter(|w| w.organization_id == a.organization_id)
        .ok_or_else(ApiError::not_found)
}

pub async fn site_routing(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<SiteRouting>> {
    require_admin(&a)?;
    Ok(Json(own_site(&s, &a, &id).await?.routing))
}

pub async fn set_site_routing(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(mut r): JsonBody<SiteRouting>,
) -> ApiResult<Json<SiteRouting>> {
    require_admin(&a)?;
    let site = own_site(&s, &a, &id).await?;
    let teams = s.store.teams(&a.organization_id).await?;
    let known = |t: &TeamId| teams.iter().any(|x| &x.id == t);
    if r.default_team.as_ref().is_some_and(|t| !known(t)) {
        return Err(invalid("the default team does not exist"));
    }
    if r.rules.len() > MAX_RULES {
        return Err(invalid(format!("at most {MAX_RULES} rules")));
    }
    for (i, rule) in r.rules.iter_mut().enumerate() {
        let n = i + 1;
        if !known(&rule.team) {
            return Err(invalid(format!("rule {n}: the team does not exist")));
        }
        let ok = |v: &str, max: usize| {
            let v = v.trim();
            !v.is_empty() && v.chars().count() <= max && !v.chars().any(char::is_control)
        };
        let valid = match &rule.condition {
            RuleCondition::UrlPattern(p) => ok(p, MAX_URL_BYTES),
            RuleCondition::Department(d) => ok(d, 100),
            RuleCondition::Language(l) => {
                ok(l, 35)
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            }
            RuleCondition::Attribute { key, value } => ok(key, 64) && ok(value, 200),
        };
        if !valid {
            return Err(invalid(format!(
                "rule {n}: the condition needs a value (a URL pattern, a department, a language tag such as de or pt-BR, or an attribute and value)"
            )));
        }
        if let Some(skill) = &rule.skill {
            let t = skill.trim();
            if t.chars().count() > MAX_TAG {
                return Err(invalid(format!("rule {n}: the skill is too long")));
            }
            rule.skill = (!t.is_empty()).then(|| t.to_owned());
        }
    }
    check_hours(&r.hours, "the site's")?;
    if !(5..=86_400).contains(&r.offer_offline_after_secs) {
        return Err(invalid(
            "offer to leave a message after 5 seconds to 24 hours of waiting",
        ));
    }
    s.store
        .set_site_routing(&a.organization_id, &site.id, &r)
        .await?;
    Ok(Json(r))
}

// ---- conversations ----

async fn colleague(s: &AppState, a: &AgentView, id: &AgentId) -> ApiResult<AgentView> {
    s.store
        .agent(id)
        .await?
        .filter(|t| t.organization_id == a.organization_id)
        .ok_or_else(ApiError::not_found)
}

pub async fn transfer(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<TransferRequest>,
) -> ApiResult<Json<Conversation>> {
    let reason = req
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON)
    {
        return Err(ApiError::new(
            ErrorCode::MessageTooLong,
            format!("the reason may be at most {MAX_REASON} characters"),
        ));
    }
    let to = match (req.agent_id, req.team_id) {
        (Some(agent), None) => TransferTo::Agent(agent_ref(&colleague(&s, &a, &agent).await?)),
        (None, Some(team)) => {
            let t = s
                .store
                .team(&a.organization_id, &team)
                .await?
                .ok_or_else(ApiError::not_found)?;
            TransferTo::Team {
                id: t.id,
                name: t.name,
            }
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidJson,
                "transfer to exactly one of agent_id or team_id",
            ));
        }
    };
    let out = s
        .store
        .write(WriteOp::Transfer {
            scope: Scope::Organization(a.organization_id.clone()),
            conversation_id: conv_id(&id)?,
            by: agent_ref(&a),
            role: a.role,
            to,
            reason,
        })
        .await?;
    Ok(Json(out.conversation))
}

pub async fn invite(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<InviteRequest>,
) -> ApiResult<Json<Conversation>> {
    let who = colleague(&s, &a, &req.agent_id).await?;
    let out = s
        .store
        .write(WriteOp::Invite {
            scope: Scope::Organization(a.organization_id.clone()),
            conversation_id: conv_id(&id)?,
            by: agent_ref(&a),
            role: a.role,
            agent: agent_ref(&who),
        })
        .await?;
    Ok(Json(out.conversation))
}

pub async fn priority(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<PriorityRequest>,
) -> ApiResult<Json<Conversation>> {
    let out = s
        .store
        .write(WriteOp::SetPriority {
            scope: Scope::Organization(a.organization_id.clone()),
            conversation_id: conv_id(&id)?,
            by: agent_ref(&a),
            role: a.role,
            priority: req.priority,
        })
        .await?;
    Ok(Json(out.conversation))
}

pub async fn monitor(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
) -> ApiResult<Json<MonitorView>> {
    require_supervisor(&a)?;
    Ok(Json(crate::routing::monitor(&s, &a.organization_id).await?))
}
