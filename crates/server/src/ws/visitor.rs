//! The visitor's socket: the widget frame sends and reads its own conversation here.

use super::{
    Handler, Stop, ack_or_error, await_hello, close, finish, send, send_error, send_history,
};
use crate::AppState;
use crate::bus::Event;
use crate::error::ApiError;
use crate::tokens::TokenError;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use frontdesk_core::protocol::*;
use frontdesk_core::*;
use frontdesk_store::{Scope, Target, WriteOp, now_ms};
use std::collections::HashSet;
use std::net::SocketAddr;

pub async fn upgrade(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let ip = match super::admit(&s, &headers, peer.ip()) {
        Ok(ip) => ip,
        Err(refused) => return refused.into_response(),
    };
    super::configure(ws).on_upgrade(move |socket| serve(s, socket, ip))
}

struct Visitor {
    state: AppState,
    org: OrganizationId,
    website: WebsiteId,
    contact: ContactId,
    /// Conversations known to be this visitor's, so typing needs no lookup.
    mine: HashSet<ConversationId>,
    last_typing: Option<(bool, Option<String>, std::time::Instant)>,
}

/// A socket's task. What an idle socket holds is its whole cost, so the greeting (and its
/// database calls' futures) is boxed and gone once it is done, and only ids stay.
async fn serve(s: AppState, mut socket: WebSocket, ip: std::net::IpAddr) {
    let Some((mut v, conn, outbox, greeted)) = Box::pin(greet(&s, &mut socket, ip)).await else {
        return;
    };
    if greeted {
        Box::pin(super::run(&s, &mut socket, &conn, outbox, &mut v)).await;
    }
    s.hub.remove_visitor(&v.contact, conn.id);
    Box::pin(crate::visitors::disconnected(&s, &v.contact)).await;
}

/// Checks the hello, registers the socket and sends `welcome`: the visitor, its hub
/// registration, and whether the greeting reached them. `None` when the socket was refused.
async fn greet(
    s: &AppState,
    socket: &mut WebSocket,
    ip: std::net::IpAddr,
) -> Option<(Visitor, crate::hub::Conn, crate::hub::Outbox, bool)> {
    let token = await_hello(socket).await?;
    let claims = match token.as_deref().map(|t| s.tokens.verify(t, now_ms())) {
        Some(Ok(c)) => c,
        other => {
            let e = other.and_then(Result::err).unwrap_or(TokenError::Invalid);
            let reason = match e {
                TokenError::Expired => "token expired",
                TokenError::Invalid => "invalid token",
            };
            send_error(socket, &e.into(), None).await;
            close(socket, super::CLOSE_POLICY, reason).await;
            return None;
        }
    };
    // The token's contact, or the contact it was merged into since.
    let (org, contact) = match s
        .store
        .visitor_contact(&claims.contact_id, &claims.website_id)
        .await
    {
        Ok(Some((org, c))) => (org, c),
        Ok(_) => {
            let e = ApiError::new(
                ErrorCode::InvalidVisitorToken,
                "this visitor no longer exists",
            );
            send_error(socket, &e, None).await;
            close(socket, super::CLOSE_POLICY, "invalid token").await;
            return None;
        }
        Err(e) => {
            send_error(socket, &e.into(), None).await;
            close(socket, super::CLOSE_TRY_LATER, "unavailable").await;
            return None;
        }
    };
    match s
        .store
        .is_banned(&org, Some(&contact.id), Some(&ip.to_string()), now_ms())
        .await
    {
        Ok(false) => {}
        Ok(true) => {
            send_error(socket, &crate::http::widget::banned(), None).await;
            close(socket, super::CLOSE_POLICY, "banned").await;
            return None;
        }
        Err(e) => {
            send_error(socket, &e.into(), None).await;
            close(socket, super::CLOSE_TRY_LATER, "unavailable").await;
            return None;
        }
    }
    let latest = match s.store.latest_conversation(&contact.id).await {
        Ok(c) => c,
        Err(e) => {
            send_error(socket, &e.into(), None).await;
            close(socket, super::CLOSE_TRY_LATER, "unavailable").await;
            return None;
        }
    };
    let (conn, outbox) = s.hub.new_conn();
    s.hub.add_visitor(&org, &contact.id, conn.clone());
    crate::visitors::connected(s, &contact.id).await;
    let welcome = ServerFrame::Welcome {
        v: PROTOCOL_VERSION,
        side: Side::Visitor,
        conversation: latest.as_ref().map(VisitorConversation::from),
        agent: None,
        agents_online: s.hub.agents_online(&org),
        heartbeat_ms: s.config.heartbeat_secs * 1000,
        max_upload_bytes: s.config.max_upload_bytes,
    };
    let queued = latest
        .as_ref()
        .and_then(|c| s.router.status_of(&c.id))
        .map(|status| ServerFrame::Queue { status });
    let mut greeted = send(socket, &welcome).await;
    if greeted && let Some(q) = &queued {
        greeted = send(socket, q).await;
    }
    let v = Visitor {
        state: s.clone(),
        org,
        // The site the widget is on (a merged contact may have come from another).
        website: claims.website_id,
        contact: contact.id,
        mine: latest.into_iter().map(|c| c.id).collect(),
        last_typing: None,
    };
    Some((v, conn, outbox, greeted))
}

impl Visitor {
    async fn owns(&mut self, id: &ConversationId) -> Result<(), ApiError> {
        if self.mine.contains(id) {
            return Ok(());
        }
        match self
            .state
            .store
            .contact_conversation(&self.contact, id)
            .await?
        {
            Some(_) => {
                self.mine.insert(id.clone());
                Ok(())
            }
            None => Err(ApiError::not_found()),
        }
    }

    async fn send_message(
        &mut self,
        client_id: &str,
        conversation_id: Option<ConversationId>,
        text: &str,
        attachments: Vec<frontdesk_core::files::AttachmentId>,
        greeting: Option<frontdesk_core::triggers::TriggerId>,
    ) -> Result<Message, ApiError> {
        let client_id = ClientId::parse(client_id)?;
        let attachments = crate::http::api::parse_files(attachments)?;
        let text = MessageText::parse_with_files(text, !attachments.is_empty())?;
        if !self.state.limits.sends_per_visitor.check(&self.contact.0) {
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                "you are sending too fast; wait a moment",
            ));
        }
        // A greeting can only open a chat: it rides on a send without a conversation.
        let greeting = match (&greeting, &conversation_id) {
            (Some(t), None) => {
                let name = match self.state.store.website(&self.website).await? {
                    Some(w) => w.organization_name,
                    None => String::new(),
                };
                crate::http::triggers::greeting(&self.state, &self.website, || name, t).await?
            }
            _ => None,
        };
        let target = match conversation_id {
            Some(id) => Target::Conversation(id),
            None => Target::LatestOfContact {
                contact_id: self.contact.clone(),
                organization_id: self.org.clone(),
                website_id: self.website.clone(),
            },
        };
        let send = WriteOp::Send {
            scope: Scope::Contact(self.contact.clone()),
            target,
            client_id: Some(client_id),
            kind: MessageKind::Visitor,
            author: None,
            text,
            attachments,
        };
        let op = match greeting {
            Some(greeting) => WriteOp::Greeted {
                greeting,
                send: Box::new(send),
            },
            None => send,
        };
        let out = self.state.store.write(op).await?;
        self.mine.insert(out.conversation.id.clone());
        out.messages
            .last()
            .and_then(Message::for_visitor)
            .ok_or_else(|| ApiError::internal("visitor send stored no visible message"))
    }
}

impl Handler for Visitor {
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
                    greeting,
                } => {
                    let r = if note {
                        Err(ApiError::forbidden("visitors cannot write notes"))
                    } else {
                        self.send_message(&client_id, conversation_id, &text, attachments, greeting)
                            .await
                    };
                    ack_or_error(socket, client_id, r).await?;
                }
                ClientFrame::Sync {
                    conversation_id,
                    after_seq,
                } => {
                    self.owns(&conversation_id).await?;
                    send_history(socket, &self.state.store, conversation_id, after_seq, true)
                        .await?;
                }
                ClientFrame::Typing {
                    conversation_id,
                    typing,
                    preview,
                } => {
                    self.owns(&conversation_id).await?;
                    let preview = preview
                        .filter(|_| typing)
                        .map(|p| frontdesk_core::clip_chars(&p, MAX_TYPING_PREVIEW_CHARS))
                        .filter(|p| !p.trim().is_empty());
                    // Forward a change at once; the same state again at most once a second,
                    // new preview text at most four times a second.
                    let now = std::time::Instant::now();
                    let forward = match &self.last_typing {
                        Some((t, p, at)) => {
                            let since = now.duration_since(*at).as_millis();
                            *t != typing || since >= 1000 || (*p != preview && since >= 250)
                        }
                        None => true,
                    };
                    if forward {
                        self.last_typing = Some((typing, preview.clone(), now));
                        self.state.bus.publish(Event::Typing {
                            org: self.org.clone(),
                            contact: self.contact.clone(),
                            conversation_id,
                            side: Side::Visitor,
                            name: None,
                            typing,
                            preview,
                        });
                    }
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
                            scope: Scope::Contact(self.contact.clone()),
                            conversation_id,
                            side: Side::Visitor,
                            read: is_read,
                            public_seq,
                            actor: None,
                        })
                        .await?;
                }
                ClientFrame::SetContact {
                    name,
                    email,
                    department,
                } => {
                    if let Some(d) = department {
                        // Only a department the site routes by: a visitor cannot invent one.
                        let site = self.state.store.website(&self.website).await?;
                        if !site.is_some_and(|w| w.routing.departments().contains(&d)) {
                            return Err(Stop::Client(ApiError::new(
                                ErrorCode::InvalidFrame,
                                "unknown department",
                            )));
                        }
                        let attrs = [("department".to_string(), d)].into_iter().collect();
                        self.state
                            .store
                            .merge_contact_attributes(&self.contact, &attrs)
                            .await?;
                    }
                    let name = name
                        .as_deref()
                        .filter(|n| !n.trim().is_empty())
                        .map(Name::parse)
                        .transpose()?;
                    let email = email
                        .as_deref()
                        .filter(|e| !e.trim().is_empty())
                        .map(Email::parse)
                        .transpose()?;
                    self.state
                        .store
                        .set_contact_profile(&self.contact, name.as_ref(), email.as_ref())
                        .await?;
                    if let Some(c) = self.state.store.latest_conversation(&self.contact).await? {
                        self.state.bus.publish(Event::Conversation {
                            org: self.org.clone(),
                            contact: self.contact.clone(),
                            conversation: c,
                        });
                    }
                    // Open contact panels show what the visitor gave, as they show an agent's edit.
                    if let Some(p) = self
                        .state
                        .store
                        .contact_profile(&self.org, &self.contact)
                        .await?
                    {
                        self.state.bus.publish(Event::Contact {
                            org: self.org.clone(),
                            contact: p,
                            merged_from: None,
                        });
                    }
                }
                ClientFrame::Transcript { conversation_id } => {
                    self.owns(&conversation_id).await?;
                    if !self.state.limits.sends_per_visitor.check(&self.contact.0) {
                        return Err(Stop::Client(ApiError::new(
                            ErrorCode::RateLimited,
                            "you are asking too fast; wait a moment",
                        )));
                    }
                    let email = self
                        .state
                        .store
                        .contact(&self.contact)
                        .await?
                        .and_then(|c| c.email)
                        .ok_or_else(|| {
                            ApiError::new(
                                ErrorCode::InvalidEmail,
                                "give your email address first, to send the transcript to",
                            )
                        })?;
                    self.state
                        .store
                        .queue_transcript(&self.org, &conversation_id, &email, now_ms())
                        .await?;
                }
                ClientFrame::LeaveMessage { conversation_id } => {
                    self.owns(&conversation_id).await?;
                    self.state
                        .store
                        .write(WriteOp::LeaveMessage {
                            scope: Scope::Contact(self.contact.clone()),
                            conversation_id,
                        })
                        .await?;
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
