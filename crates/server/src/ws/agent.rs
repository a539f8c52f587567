//! The agent's socket: the dashboard hears every event of its organization here, and sends
//! replies, notes, typing and receipts.

use super::{Handler, Stop, ack_or_error, await_hello, finish, send, send_history};
use crate::AppState;
use crate::bus::Event;
use crate::error::ApiError;
use crate::http::auth::agent_from_cookie;
use crate::http::check_origin;
use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use frontdesk_core::protocol::*;
use frontdesk_core::*;
use frontdesk_store::{Scope, WriteOp};

/// Authenticates by the session cookie before upgrading. A WebSocket is not bound by the
/// same-origin policy, so the `Origin` must be this server (cross-site WebSocket hijacking).
pub async fn upgrade(
    State(s): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Err(e) = check_origin(&headers, &s.config.public_url) {
        return e.into_response();
    }
    let agent = match agent_from_cookie(&s, &headers).await {
        Ok(a) => a.0,
        Err(e) => return e.into_response(),
    };
    super::configure(ws).on_upgrade(move |socket| serve(s, socket, agent))
}

struct Agent {
    state: AppState,
    me: AgentView,
}

async fn serve(s: AppState, mut socket: WebSocket, me: AgentView) {
    if await_hello(&mut socket).await.is_none() {
        return;
    }
    // Status may have changed since the cookie was read.
    let me = match s.store.agent(&me.id).await {
        Ok(Some(a)) => a,
        _ => return,
    };
    let (conn, outbox) = s.hub.new_conn();
    s.hub
        .add_agent(&me.organization_id, &me.id, me.status, conn.clone());
    crate::routing::agent_connected(&s, &me.organization_id, &me.id).await;
    // Coming back may have ended an automatic away.
    let me = match s.store.agent(&me.id).await {
        Ok(Some(a)) => a,
        _ => me,
    };
    let welcome = ServerFrame::Welcome {
        v: PROTOCOL_VERSION,
        side: Side::Agent,
        conversation: None,
        agent: Some(me.clone()),
        agents_online: s.hub.agents_online(&me.organization_id),
        heartbeat_ms: s.config.heartbeat_secs * 1000,
        max_upload_bytes: s.config.max_upload_bytes,
    };
    if send(&mut socket, &welcome).await {
        let mut a = Agent {
            state: s.clone(),
            me: me.clone(),
        };
        Box::pin(super::run(&s, &mut socket, &conn, outbox, &mut a)).await;
    }
    s.hub.remove_agent(&me.organization_id, conn.id);
    crate::routing::agent_disconnected(&s, &me.organization_id, &me.id).await;
}

impl Agent {
    async fn conversation(&self, id: &ConversationId) -> Result<Conversation, ApiError> {
        self.state
            .store
            .conversation(&self.me.organization_id, id)
            .await?
            .ok_or_else(ApiError::not_found)
    }
}

impl Handler for Agent {
    async fn on_frame(&mut self, socket: &mut WebSocket, frame: ClientFrame) -> bool {
        let is_read = matches!(frame, ClientFrame::Read { .. });
        let result: Result<(), Stop> = async {
            match frame {
                ClientFrame::Send {
                    client_id,
                    conversation_id,
                    text,
                    note,
                    attachments,
                    greeting: _,
                } => {
                    let r = match conversation_id {
                        Some(id) => {
                            crate::http::api::agent_send(
                                &self.state,
                                &self.me,
                                id,
                                &client_id,
                                &text,
                                note,
                                attachments,
                            )
                            .await
                        }
                        None => Err(ApiError::new(
                            ErrorCode::InvalidFrame,
                            "agents must name the conversation",
                        )),
                    };
                    ack_or_error(socket, client_id, r).await?;
                }
                ClientFrame::Sync {
                    conversation_id,
                    after_seq,
                } => {
                    self.conversation(&conversation_id).await?;
                    send_history(socket, &self.state.store, conversation_id, after_seq, false)
                        .await?;
                }
                ClientFrame::Typing {
                    conversation_id,
                    typing,
                    ..
                } => {
                    let c = self.conversation(&conversation_id).await?;
                    // Someone observing another agent's chat stays invisible to the visitor.
                    if c.assignee_id.as_ref().is_some_and(|x| x != &self.me.id)
                        && !self
                            .state
                            .store
                            .participants(&conversation_id)
                            .await?
                            .iter()
                            .any(|p| p.id == self.me.id)
                    {
                        return Ok(());
                    }
                    self.state.bus.publish(Event::Typing {
                        org: self.me.organization_id.clone(),
                        contact: c.contact_id,
                        conversation_id,
                        side: Side::Agent,
                        name: Some(self.me.name.clone()),
                        typing,
                        preview: None,
                    });
                }
                ClientFrame::Read {
                    conversation_id,
                    public_seq,
                }
                | ClientFrame::Delivered {
                    conversation_id,
                    public_seq,
                } => {
                    self.state
                        .store
                        .write(WriteOp::Receipt {
                            scope: Scope::Organization(self.me.organization_id.clone()),
                            conversation_id,
                            side: Side::Agent,
                            read: is_read,
                            public_seq,
                            actor: Some(self.me.id.clone()),
                        })
                        .await?;
                }
                ClientFrame::SetContact { .. }
                | ClientFrame::LeaveMessage { .. }
                | ClientFrame::Transcript { .. } => {
                    return Err(Stop::Client(ApiError::new(
                        ErrorCode::InvalidFrame,
                        "set_contact, leave_message and transcript are for visitors",
                    )));
                }
                ClientFrame::Ping => {
                    send(socket, &ServerFrame::Pong).await;
                }
                ClientFrame::Hello { .. } => {}
            }
            Ok(())
        }
        .await;
        finish(socket, result).await
    }
}
