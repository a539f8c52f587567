//! The WebSocket gateway. One task per socket: it reads frames, writes what the hub queues for
//! it, and pings. Each frame is parsed into a core type and fails alone.

pub mod agent;
pub mod relay;
pub mod visitor;

use crate::AppState;
use crate::error::ApiError;
use crate::hub::Conn;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use frontdesk_core::ErrorCode;
use frontdesk_core::protocol::{ClientFrame, MAX_FRAME_BYTES, PROTOCOL_VERSION, ServerFrame};
use std::time::{Duration, Instant};

const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a single frame may take to leave; a peer slower than this is cut off.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Close codes (RFC 6455 and the registered range).
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_RESTART: u16 = 1012;
const CLOSE_TRY_LATER: u16 = 1013;

/// A new socket from `peer` within the per-address limit: the client's address, or the typed
/// refusal to answer the upgrade with.
pub fn admit(
    s: &AppState,
    headers: &axum::http::HeaderMap,
    peer: std::net::IpAddr,
) -> Result<std::net::IpAddr, ApiError> {
    let ip = crate::http::client_ip(&s.config, headers, peer);
    if !s.limits.connect_per_ip.check(&ip) {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many connections from this address; wait a minute",
        ));
    }
    Ok(ip)
}

/// Small buffers: the default 128 KiB read buffer per socket would cost more than everything
/// else a connection holds. 1 KiB fits the usual frame (the buffer grows for a larger one, up
/// to `MAX_FRAME_BYTES`) and took an idle socket from 12.7 KB to 9.8 KB of server RSS.
pub fn configure(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(1024)
        .write_buffer_size(0)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
}

pub async fn send(socket: &mut WebSocket, f: &ServerFrame) -> bool {
    let text = serde_json::to_string(f).unwrap_or_default();
    socket.send(Message::Text(text.into())).await.is_ok()
}

pub async fn send_error(socket: &mut WebSocket, e: &ApiError, client_id: Option<String>) -> bool {
    send(
        socket,
        &ServerFrame::Error {
            code: e.code,
            message: e.detail.clone(),
            client_id,
        },
    )
    .await
}

pub async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

/// Parses a text frame. Errors name what was wrong.
pub fn parse(text: &str) -> Result<ClientFrame, ApiError> {
    serde_json::from_str::<ClientFrame>(text).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            ApiError::new(ErrorCode::InvalidJson, "the frame is not valid JSON")
        } else {
            ApiError::new(ErrorCode::InvalidFrame, e.to_string())
        }
    })
}

/// Waits for the `hello` frame. On failure the socket has been told why and closed.
pub async fn await_hello(socket: &mut WebSocket) -> Option<Option<String>> {
    let first = tokio::time::timeout(HELLO_TIMEOUT, socket.recv()).await;
    let err = match first {
        Ok(Some(Ok(Message::Text(t)))) => match parse(&t) {
            Ok(ClientFrame::Hello { v, token }) if v == PROTOCOL_VERSION => return Some(token),
            Ok(ClientFrame::Hello { .. }) => ApiError::new(
                ErrorCode::UnsupportedVersion,
                format!("this server speaks version {PROTOCOL_VERSION}"),
            ),
            Ok(_) => ApiError::new(ErrorCode::HelloRequired, "the first frame must be hello"),
            Err(e) => e,
        },
        Ok(Some(Err(e))) if e.to_string().contains("too long") => {
            close(socket, CLOSE_TOO_BIG, "frame too large").await;
            return None;
        }
        Ok(Some(Ok(_))) | Err(_) => {
            ApiError::new(ErrorCode::HelloRequired, "the first frame must be hello")
        }
        Ok(None) | Ok(Some(Err(_))) => return None,
    };
    send_error(socket, &err, None).await;
    close(socket, CLOSE_POLICY, "hello required").await;
    None
}

/// Why handling a frame stopped: an error the client should hear, or the socket is gone.
pub enum Stop {
    Client(ApiError),
    Closed,
}

impl From<ApiError> for Stop {
    fn from(e: ApiError) -> Self {
        Stop::Client(e)
    }
}

impl From<frontdesk_core::InputError> for Stop {
    fn from(e: frontdesk_core::InputError) -> Self {
        Stop::Client(e.into())
    }
}

impl From<frontdesk_store::StoreError> for Stop {
    fn from(e: frontdesk_store::StoreError) -> Self {
        Stop::Client(e.into())
    }
}

/// Answers a send: `ack` with the stored message, or `error` carrying the client id.
pub async fn ack_or_error(
    socket: &mut WebSocket,
    client_id: String,
    r: Result<frontdesk_core::protocol::Message, ApiError>,
) -> Result<(), Stop> {
    let ok = match r {
        Ok(message) => send(socket, &ServerFrame::Ack { client_id, message }).await,
        Err(e) => send_error(socket, &e, Some(client_id)).await,
    };
    if ok { Ok(()) } else { Err(Stop::Closed) }
}

/// Sends every message after `after_seq`, in order, then `synced`. The caller has checked the
/// conversation is theirs. Visitors count in `public_seq` and never get notes.
pub async fn send_history(
    socket: &mut WebSocket,
    store: &frontdesk_store::Store,
    conversation_id: frontdesk_core::ConversationId,
    after_seq: i64,
    visitor: bool,
) -> Result<(), Stop> {
    let mut after = after_seq.max(0);
    loop {
        let page = store
            .messages(&conversation_id, after, 500, visitor)
            .await?;
        for m in page.items {
            after = m.seq;
            if !send(socket, &ServerFrame::Message { message: m }).await {
                return Err(Stop::Closed);
            }
        }
        if !page.has_more {
            break;
        }
    }
    let synced = ServerFrame::Synced {
        conversation_id,
        last_seq: after,
    };
    if send(socket, &synced).await {
        Ok(())
    } else {
        Err(Stop::Closed)
    }
}

/// Turns a frame's outcome into "keep the socket open?", telling the client of its error.
pub async fn finish(socket: &mut WebSocket, r: Result<(), Stop>) -> bool {
    match r {
        Ok(()) => true,
        Err(Stop::Closed) => false,
        Err(Stop::Client(e)) => send_error(socket, &e, None).await,
    }
}

/// What a socket's side does with the frames it reads.
pub trait Handler {
    /// Handles one parsed frame; may write replies to the socket. Returns false to close.
    fn on_frame(
        &mut self,
        socket: &mut WebSocket,
        frame: ClientFrame,
    ) -> impl Future<Output = bool> + Send;
}

/// Runs a socket after its hello: reads frames into `handler`, writes queued frames, pings, and
/// closes on shutdown, on a kick from the hub, or when the peer goes silent.
pub async fn run<H: Handler + Send>(
    state: &AppState,
    socket: &mut WebSocket,
    conn: &Conn,
    mut outbox: crate::hub::Outbox,
    handler: &mut H,
) {
    let heartbeat = Duration::from_secs(state.config.heartbeat_secs.max(1));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let mut last_heard = Instant::now();
    let mut shutdown = state.shutdown.clone();
    if *shutdown.borrow_and_update() {
        close(socket, CLOSE_RESTART, "server restarting").await;
        return;
    }
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                close(socket, CLOSE_RESTART, "server restarting").await;
                break;
            }
            _ = conn.kicked() => {
                close(socket, CLOSE_TRY_LATER, "reconnect and resume").await;
                break;
            }
            out = outbox.recv() => match out {
                Some(text) => {
                    // A peer that stops reading fills the kernel's buffer and then blocks this
                    // send; the hub's kick (its queue is full) or the timeout ends it, and the
                    // socket is dropped without a close frame (that would block too).
                    tokio::select! {
                        r = socket.send(Message::Text(text.as_ref().into())) => if r.is_err() { break },
                        _ = conn.kicked() => break,
                        _ = tokio::time::sleep(WRITE_TIMEOUT) => break,
                    }
                }
                None => break,
            },
            msg = socket.recv() => {
                last_heard = Instant::now();
                match msg {
                    Some(Ok(Message::Text(t))) => match parse(&t) {
                        Ok(ClientFrame::Hello { .. }) => {
                            let e = ApiError::new(ErrorCode::InvalidFrame, "hello was already sent");
                            if !send_error(socket, &e, None).await { break; }
                        }
                        Ok(f) => {
                            // Boxed: a frame handler's future is large, and inline it would sit in
                            // every idle socket's task.
                            if !Box::pin(handler.on_frame(socket, f)).await { break; }
                        }
                        Err(e) => {
                            if !send_error(socket, &e, None).await { break; }
                        }
                    },
                    Some(Ok(Message::Binary(_))) => {
                        let e = ApiError::new(ErrorCode::InvalidFrame, "frames are JSON text");
                        if !send_error(socket, &e, None).await { break; }
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Err(e)) => {
                        if e.to_string().contains("too long") {
                            close(socket, CLOSE_TOO_BIG, "frame too large").await;
                        }
                        break;
                    }
                }
            }
            _ = ticker.tick() => {
                if last_heard.elapsed() > heartbeat * 2 {
                    break;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
        }
    }
}
