//! The agents' REST API: inbox, conversations, messages and actions, websites.

use super::JsonBody;
use super::auth::{CurrentAgent, require_admin};
use super::setup::website_view;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use frontdesk_core::conversation::AgentRef;
use frontdesk_core::protocol::*;
use frontdesk_core::*;
use frontdesk_store::{Scope, Tab, Target, WriteOp};
use serde::Deserialize;

fn agent_ref(a: &AgentView) -> AgentRef {
    AgentRef {
        id: a.id.clone(),
        name: a.name.clone(),
    }
}

fn conv_id(raw: &str) -> ApiResult<ConversationId> {
    // A malformed id cannot name anything: not found, like any id of another tenant.
    ConversationId::parse(raw).map_err(|_| ApiError::not_found())
}

pub async fn agents(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
) -> ApiResult<Json<Vec<AgentView>>> {
    Ok(Json(s.store.agents(&a.organization_id).await?))
}

pub async fn counts(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
) -> ApiResult<Json<InboxCounts>> {
    Ok(Json(s.store.inbox_counts(&a.organization_id, &a.id).await?))
}

/// The list of a tab, narrowed by the inbox filter (`InboxFilter`).
/// Every parameter is checked: a malformed one is `invalid_filter`, an id of another
/// organization matches nothing.
pub async fn conversations(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    q: Result<Query<frontdesk_core::tags::ConversationQuery>, QueryRejection>,
) -> ApiResult<Json<ConversationPage>> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::InvalidFilter, e.body_text()))?;
    let tab = match q.tab.as_deref() {
        None => Tab::All,
        Some(t) => Tab::parse(t).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidFrame,
                "tab must be unassigned, mine, all or resolved",
            )
        })?,
    };
    let filter = frontdesk_core::tags::InboxFilter::parse(&q)?;
    let limit = frontdesk_core::tags::page_limit(&q)?;
    let page = s
        .store
        .conversations_filtered(
            &a.organization_id,
            &a.id,
            tab,
            &filter,
            q.cursor.as_deref(),
            limit,
        )
        .await?;
    Ok(Json(page))
}

pub async fn conversation(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversationDetail>> {
    let c = s
        .store
        .conversation(&a.organization_id, &conv_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let contact = s
        .store
        .contact(&c.contact_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let participants = s.store.participants(&c.id).await?;
    // Opening a conversation reads my mentions in it.
    s.store
        .read_mentions(&a.id, &c.id, frontdesk_store::now_ms())
        .await?;
    Ok(Json(ConversationDetail {
        conversation: c,
        contact,
        participants,
    }))
}

#[derive(Deserialize)]
pub struct MessagesQuery {
    after_seq: Option<i64>,
    limit: Option<i64>,
}

pub async fn messages(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    Query(q): Query<MessagesQuery>,
) -> ApiResult<Json<MessagePage>> {
    let id = conv_id(&id)?;
    s.store
        .conversation(&a.organization_id, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let page = s
        .store
        .messages(
            &id,
            q.after_seq.unwrap_or(0).max(0),
            q.limit.unwrap_or(200),
            false,
        )
        .await?;
    Ok(Json(page))
}

/// Stores an agent's reply or note, with files they uploaded to the conversation. Shared by
/// the REST endpoint and the agent socket.
pub async fn agent_send(
    s: &AppState,
    a: &AgentView,
    conversation_id: ConversationId,
    client_id: &str,
    text: &str,
    note: bool,
    attachments: Vec<frontdesk_core::files::AttachmentId>,
) -> ApiResult<Message> {
    let client_id = ClientId::parse(client_id)?;
    let attachments = parse_files(attachments)?;
    let text = MessageText::parse_with_files(text, !attachments.is_empty())?;
    let out = s
        .store
        .write(WriteOp::Send {
            scope: Scope::Organization(a.organization_id.clone()),
            target: Target::Conversation(conversation_id),
            client_id: Some(client_id),
            kind: if note {
                MessageKind::Note
            } else {
                MessageKind::Agent
            },
            author: Some(agent_ref(a)),
            text,
            attachments,
        })
        .await?;
    let stored = out
        .messages
        .last()
        .cloned()
        .ok_or_else(|| ApiError::internal("send stored no message"))?;
    if note && !out.duplicate {
        tell_mentioned(s, a, &stored).await?;
    }
    Ok(stored)
}

/// The files a send names: at most `MAX_ATTACHMENTS_PER_MESSAGE`, each a well-formed id (a
/// malformed one cannot name a file: not found, like another person's).
pub fn parse_files(
    files: Vec<frontdesk_core::files::AttachmentId>,
) -> ApiResult<Vec<frontdesk_core::files::AttachmentId>> {
    let max = frontdesk_core::files::MAX_ATTACHMENTS_PER_MESSAGE;
    if files.len() > max {
        return Err(ApiError::new(
            ErrorCode::LimitReached,
            format!("a message may carry at most {max} files"),
        ));
    }
    files
        .iter()
        .map(|f| frontdesk_core::files::AttachmentId::parse(f.as_str()))
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::not_found())
}

/// A note that names colleagues (`@Ann`) lands in their mentions list, with a notice.
async fn tell_mentioned(s: &AppState, a: &AgentView, note: &Message) -> ApiResult<()> {
    if !note.text.contains('@') {
        return Ok(());
    }
    let team: Vec<(AgentId, String)> = s
        .store
        .agents(&a.organization_id)
        .await?
        .into_iter()
        .filter(|x| x.id != a.id)
        .map(|x| (x.id, x.name))
        .collect();
    let named = frontdesk_core::mentions::mentioned(&note.text, &team);
    if named.is_empty() {
        return Ok(());
    }
    s.store
        .add_mentions(
            &a.organization_id,
            &note.conversation_id,
            &note.id,
            &a.name,
            &named,
            frontdesk_store::now_ms(),
        )
        .await?;
    for agent in named {
        s.bus.publish(crate::bus::Event::Notice {
            org: a.organization_id.clone(),
            agent,
            kind: frontdesk_core::teams::NoticeKind::Mention,
            conversation_id: note.conversation_id.clone(),
            by_name: Some(a.name.clone()),
            text: Some(clip_chars(&note.text, 200)),
        });
    }
    Ok(())
}

pub async fn mentions(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
) -> ApiResult<Json<Vec<frontdesk_core::mentions::MentionView>>> {
    Ok(Json(
        s.store.mentions(&a.organization_id, &a.id, 100).await?,
    ))
}

pub async fn send(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<SendMessageRequest>,
) -> ApiResult<Json<Message>> {
    Ok(Json(
        agent_send(
            &s,
            &a,
            conv_id(&id)?,
            &req.client_id,
            &req.text,
            req.note,
            req.attachments,
        )
        .await?,
    ))
}

async fn act(
    s: &AppState,
    a: &AgentView,
    id: &str,
    action: Action,
) -> ApiResult<Json<Conversation>> {
    let out = s
        .store
        .write(WriteOp::Act {
            scope: Scope::Organization(a.organization_id.clone()),
            conversation_id: conv_id(id)?,
            action,
            actor: a.id.clone(),
            role: a.role,
        })
        .await?;
    Ok(Json(out.conversation))
}

pub async fn take(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<Conversation>> {
    act(&s, &a, &id, Action::Take(agent_ref(&a))).await
}

pub async fn resolve(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<Conversation>> {
    act(&s, &a, &id, Action::Resolve { by: agent_ref(&a) }).await
}

pub async fn reopen(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<Conversation>> {
    act(&s, &a, &id, Action::Reopen { by: agent_ref(&a) }).await
}

pub async fn assign(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<AssignRequest>,
) -> ApiResult<Json<Conversation>> {
    let action = match req.agent_id {
        None => Action::Unassign { by: agent_ref(&a) },
        Some(target) => {
            // The assignee must be a colleague: an agent of another organization is unknown here.
            let to = s
                .store
                .agent(&target)
                .await?
                .filter(|t| t.organization_id == a.organization_id)
                .ok_or_else(ApiError::not_found)?;
            Action::Assign {
                to: agent_ref(&to),
                by: agent_ref(&a),
            }
        }
    };
    act(&s, &a, &id, action).await
}

pub async fn websites(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<WebsiteView>>> {
    let base = super::base_url(&s.config, &headers);
    let sites = s.store.websites(&a.organization_id).await?;
    Ok(Json(sites.iter().map(|w| website_view(w, &base)).collect()))
}

pub async fn create_website(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    headers: HeaderMap,
    JsonBody(req): JsonBody<CreateWebsiteRequest>,
) -> ApiResult<Json<WebsiteView>> {
    require_admin(&a)?;
    let name = Name::parse(&req.name)?;
    let domain = Domain::parse(&req.domain)?;
    let w = s
        .store
        .create_website(
            &a.organization_id,
            &name,
            &domain,
            &crate::tokens::site_key(),
        )
        .await?;
    Ok(Json(website_view(
        &w,
        &super::base_url(&s.config, &headers),
    )))
}

pub async fn create_agent(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    JsonBody(req): JsonBody<CreateAgentRequest>,
) -> ApiResult<Json<AgentView>> {
    require_admin(&a)?;
    let email = Email::parse(&req.email)?;
    let name = Name::parse(&req.name)?;
    let password = Password::parse(&req.password)?;
    let password_hash = super::auth::hash_password(&password)
        .await
        .map_err(ApiError::internal)?;
    let agent = s
        .store
        .create_agent(&frontdesk_store::NewAgent {
            organization_id: a.organization_id.clone(),
            email,
            name,
            password_hash,
            role: req.role,
        })
        .await
        .map_err(|e| match e {
            frontdesk_store::StoreError::Conflict => ApiError::new(
                ErrorCode::Conflict,
                "an agent with this email already exists",
            ),
            e => e.into(),
        })?;
    Ok(Json(agent))
}
