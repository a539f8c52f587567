//! The benchmark relay (`bench_relay`, off by default): `/relay?room=ROOM` passes every text
//! frame a socket sends, unchanged, to the room's other sockets. It exists to compare our
//! delivery path with plain relays (`bench/peers.sh`), so it takes that path minus storage: the
//! visitor socket's WebSocket settings (but 4 KiB frames, the relays' contract), the connection
//! limit, a publish on the bus, the hub's fan-out into bounded per-socket queues (a socket that
//! stops reading is cut off), and the same write loop with its timeout and heartbeat.

use super::{CLOSE_RESTART, CLOSE_TOO_BIG, CLOSE_TRY_LATER, WRITE_TIMEOUT, close};
use crate::AppState;
use crate::bus::Event;
use crate::hub::{Conn, Hub};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The relays' frame limit; a larger frame closes the socket with 1009.
pub const MAX_RELAY_FRAME_BYTES: usize = 4096;
/// Close code for a frame that is not text.
const CLOSE_UNSUPPORTED: u16 = 1003;

#[derive(serde::Deserialize)]
pub struct RoomQuery {
    room: Option<String>,
}

/// 1 to 64 of `A-Z a-z 0-9 _ -`.
pub fn valid_room(room: &str) -> bool {
    (1..=64).contains(&room.len())
        && room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub async fn upgrade(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    Query(q): Query<RoomQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(room) = q.room.filter(|r| valid_room(r)) else {
        return (
            StatusCode::BAD_REQUEST,
            "room must be 1 to 64 of A-Z a-z 0-9 _ -",
        )
            .into_response();
    };
    if let Err(refused) = super::admit(&s, &headers, peer.ip()) {
        return refused.into_response();
    }
    // The socket joins its room before the upgrade is answered, so a frame sent by anyone once
    // this client sees its socket open reaches it.
    let room: Arc<str> = room.into();
    let (conn, outbox) = s.hub.new_conn();
    // Not the connection's id: those are per node, and with Redis a frame reaches every node.
    let tag: u64 = rand::random();
    s.hub.add_relay(&room, tag, conn.clone());
    let member = Member {
        hub: s.hub.clone(),
        room,
        conn,
    };
    super::configure(ws)
        .max_message_size(MAX_RELAY_FRAME_BYTES)
        .max_frame_size(MAX_RELAY_FRAME_BYTES)
        .on_upgrade(move |socket| serve(s, socket, member, tag, outbox))
}

/// A socket's place in its room, given back when dropped: when the socket ends, and also when
/// the upgrade fails and the socket never runs.
struct Member {
    hub: Arc<Hub>,
    room: Arc<str>,
    conn: Conn,
}

impl Drop for Member {
    fn drop(&mut self) {
        self.hub.remove_relay(&self.room, self.conn.id);
    }
}

async fn serve(
    s: AppState,
    mut socket: WebSocket,
    member: Member,
    tag: u64,
    mut outbox: crate::hub::Outbox,
) {
    let (room, conn) = (member.room.clone(), &member.conn);
    let heartbeat = Duration::from_secs(s.config.heartbeat_secs.max(1));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let mut last_heard = Instant::now();
    let mut shutdown = s.shutdown.clone();
    if *shutdown.borrow_and_update() {
        close(&mut socket, CLOSE_RESTART, "server restarting").await;
    } else {
        loop {
            tokio::select! {
                _ = shutdown.changed() => {
                    close(&mut socket, CLOSE_RESTART, "server restarting").await;
                    break;
                }
                _ = conn.kicked() => {
                    close(&mut socket, CLOSE_TRY_LATER, "too slow").await;
                    break;
                }
                out = outbox.recv() => match out {
                    Some(text) => {
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
                        Some(Ok(Message::Text(t))) => s.bus.publish(Event::Relay {
                            room: room.clone(),
                            from: tag,
                            text: Arc::from(t.as_str()),
                        }),
                        Some(Ok(Message::Binary(_))) => {
                            close(&mut socket, CLOSE_UNSUPPORTED, "text frames only").await;
                            break;
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                        Some(Ok(Message::Close(_))) | None => break,
                        Some(Err(e)) => {
                            if e.to_string().contains("too long") {
                                close(&mut socket, CLOSE_TOO_BIG, "frame too large").await;
                            }
                            break;
                        }
                    }
                }
                _ = ticker.tick() => {
                    if last_heard.elapsed() > heartbeat * 2
                        || socket.send(Message::Ping(Default::default())).await.is_err()
                    {
                        break;
                    }
                }
            }
        }
    }
    drop(member);
}

#[cfg(test)]
mod tests {
    use super::valid_room;

    #[test]
    fn rooms_are_short_plain_names() {
        assert!(valid_room("a"));
        assert!(valid_room("room-1_B"));
        assert!(valid_room(&"x".repeat(64)));
        assert!(!valid_room(""));
        assert!(!valid_room(&"x".repeat(65)));
        assert!(!valid_room("a b"));
        assert!(!valid_room("a/b"));
        assert!(!valid_room("é"));
    }
}
