//! `relay-rs`: the fastest plain relay we know how to write, as the limit Frontdesk's relay mode
//! (`bench_relay`) is measured against (`bench/peers.sh`). It speaks the load generator's
//! minimal relay mode: `ws://HOST:PORT/relay?room=ROOM`, every text frame goes unchanged to the
//! room's other sockets, frames over 4 KiB close the socket with 1009, `GET /healthz` answers
//! "ok". Nothing is stored, checked or logged.
//!
//! What makes it fast: one task per socket; a frame is fanned out as a reference-counted
//! `Utf8Bytes` (no copy per receiver) into each peer's bounded queue under the room's own lock
//! (no global lock per frame); a writer sends everything queued and flushes once; small read
//! buffers keep an idle socket cheap. A peer whose queue is full is dropped from its room.
//!
//! `relay-rs [--listen HOST:PORT] [--threads N]`: N = 0 runs one current-thread runtime,
//! otherwise a multi-thread runtime of N workers (default 2). Prints `listening on ADDR`.

// tungstenite's handshake callback returns its whole HTTP error response by value.
#![allow(clippy::result_large_err)]

use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

const MAX_FRAME: usize = 4096;
/// Frames waiting for one socket (as in Frontdesk's hub).
const QUEUE: usize = 256;
/// Frames written before one flush.
const BATCH: usize = 64;

struct Peer {
    id: u64,
    tx: mpsc::Sender<Utf8Bytes>,
}

#[derive(Default)]
struct Room {
    peers: Mutex<Vec<Peer>>,
}

#[derive(Default)]
struct Relay {
    rooms: Mutex<HashMap<String, Arc<Room>>>,
    next_id: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Relay {
    fn join(&self, name: &str, tx: mpsc::Sender<Utf8Bytes>) -> (Arc<Room>, u64) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let room = lock(&self.rooms)
            .entry(name.to_owned())
            .or_default()
            .clone();
        lock(&room.peers).push(Peer { id, tx });
        (room, id)
    }

    fn leave(&self, name: &str, room: &Room, id: u64) {
        let mut rooms = lock(&self.rooms);
        let mut peers = lock(&room.peers);
        peers.retain(|p| p.id != id);
        if peers.is_empty() {
            rooms.remove(name);
        }
    }
}

impl Room {
    fn fan_out(&self, from: u64, text: &Utf8Bytes) {
        // A peer that stops reading is dropped: its queue drains, then its socket closes.
        lock(&self.peers).retain(|p| {
            p.id == from
                || !matches!(
                    p.tx.try_send(text.clone()),
                    Err(mpsc::error::TrySendError::Full(_))
                )
        });
    }
}

fn valid_room(room: &str) -> bool {
    (1..=64).contains(&room.len())
        && room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn room_of(req: &Request) -> Result<String, ErrorResponse> {
    let refuse = |status: StatusCode, why: &str| {
        let mut r = ErrorResponse::new(Some(why.to_owned()));
        *r.status_mut() = status;
        r
    };
    if req.uri().path() != "/relay" {
        return Err(refuse(StatusCode::NOT_FOUND, "not found"));
    }
    req.uri()
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("room="))
        .filter(|r| valid_room(r))
        .map(str::to_owned)
        .ok_or_else(|| {
            refuse(
                StatusCode::BAD_REQUEST,
                "room must be 1 to 64 of A-Z a-z 0-9 _ -",
            )
        })
}

/// Answers `GET /healthz` without a WebSocket; true when it did.
async fn health_check(tcp: &mut TcpStream) -> bool {
    let mut head = [0u8; 16];
    let Ok(n) = tcp.peek(&mut head).await else {
        return true;
    };
    if !head[..n].starts_with(b"GET /healthz") {
        return false;
    }
    // Read the request's head (bounded), then answer and close.
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 8192 {
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return true,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let _ = tcp
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        .await;
    true
}

async fn serve(relay: Arc<Relay>, mut tcp: TcpStream) {
    if health_check(&mut tcp).await {
        return;
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(Some(MAX_FRAME))
        .max_frame_size(Some(MAX_FRAME));
    // The socket joins its room before the handshake is answered, so a frame sent by anyone once
    // this client sees its socket open reaches it. The membership ends when dropped, also when
    // the handshake fails.
    let (tx, mut rx) = mpsc::channel(QUEUE);
    let mut member = None;
    let callback = |req: &Request, resp: Response| {
        let name = room_of(req)?;
        let (room, id) = relay.join(&name, tx);
        member = Some(Member {
            relay: relay.clone(),
            name,
            room,
            id,
        });
        Ok(resp)
    };
    let Ok(mut ws) =
        tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, Some(config)).await
    else {
        return;
    };
    let Some(member) = member else { return };
    let (room, id) = (&member.room, member.id);
    let close = |code: CloseCode, reason: &'static str| {
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    };
    loop {
        tokio::select! {
            out = rx.recv() => {
                let Some(first) = out else {
                    let _ = ws.send(close(CloseCode::Again, "too slow")).await;
                    break;
                };
                let mut r = ws.feed(Message::Text(first)).await;
                let mut n = 1;
                while r.is_ok() && n < BATCH {
                    let Ok(next) = rx.try_recv() else { break };
                    r = ws.feed(Message::Text(next)).await;
                    n += 1;
                }
                if r.is_err() || ws.flush().await.is_err() {
                    break;
                }
            }
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => room.fan_out(id, &t),
                Some(Ok(Message::Binary(_))) => {
                    let _ = ws.send(close(CloseCode::Unsupported, "text frames only")).await;
                    break;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(_))) | None => break,
                Some(Err(WsError::Capacity(_))) => {
                    let _ = ws.send(close(CloseCode::Size, "frame too large")).await;
                    break;
                }
                Some(Err(_)) => break,
            },
        }
    }
    drop(member);
}

/// A socket's place in its room, given back when dropped.
struct Member {
    relay: Arc<Relay>,
    name: String,
    room: Arc<Room>,
    id: u64,
}

impl Drop for Member {
    fn drop(&mut self) {
        self.relay.leave(&self.name, &self.room, self.id);
    }
}

async fn run(listen: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    println!("listening on {}", listener.local_addr()?);
    let relay = Arc::new(Relay::default());
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(a) => a,
            // Out of file descriptors, say: wait for sockets to close rather than spin.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(serve(relay.clone(), tcp));
    }
}

fn main() -> std::io::Result<()> {
    let mut listen: SocketAddr = "127.0.0.1:9100".parse().expect("valid default");
    let mut threads = 2usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next();
        let bad = || {
            std::io::Error::other(format!(
                "usage: relay-rs [--listen HOST:PORT] [--threads N] ({a}?)"
            ))
        };
        match (a.as_str(), value) {
            ("--listen", Some(v)) => listen = v.parse().map_err(|_| bad())?,
            ("--threads", Some(v)) => threads = v.parse().map_err(|_| bad())?,
            _ => return Err(bad()),
        }
    }
    let runtime = if threads == 0 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(run(listen))
}
