//! The relay binary, started on a free port: a room's frames reach its other sockets unchanged,
//! never the sender and never another room; a frame over 4 KiB closes with 1009; `/healthz`.

use futures_util::{SinkExt, StreamExt};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(10);
/// How long a socket must stay quiet to show that a frame was not delivered to it.
const QUIET: Duration = Duration::from_millis(300);

/// The running relay; killed when dropped.
struct Relay {
    child: Child,
    addr: String,
}

impl Relay {
    fn start(threads: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_relay-rs"))
            .args(["--listen", "127.0.0.1:0", "--threads", threads])
            .stdout(Stdio::piped())
            .spawn()
            .expect("relay-rs starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .expect("the relay says where it listens")
            .to_owned();
        Relay { child, addr }
    }

    async fn join(&self, room: &str) -> Ws {
        let url = format!("ws://{}/relay?room={room}", self.addr);
        tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .expect("connect in time")
            .expect("relay socket opens")
            .0
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn say(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.unwrap();
}

async fn heard(ws: &mut Ws) -> String {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
        {
            Some(Ok(Message::Text(t))) => return t.to_string(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

async fn quiet(ws: &mut Ws) {
    if let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(QUIET, ws.next()).await {
        panic!("expected nothing, heard {t}");
    }
}

async fn rooms_deliver_to_others_only(relay: &Relay) {
    let mut a1 = relay.join("room-a").await;
    let mut a2 = relay.join("room-a").await;
    let mut b1 = relay.join("room_b").await;
    say(&mut a1, r#"{"n":1,"t":5}"#).await;
    assert_eq!(heard(&mut a2).await, r#"{"n":1,"t":5}"#);
    say(&mut a2, "back").await;
    // a1's next frame is a2's: its own was not echoed.
    assert_eq!(heard(&mut a1).await, "back");
    for n in 2..=50 {
        say(&mut a1, &format!("m{n}")).await;
    }
    for n in 2..=50 {
        assert_eq!(heard(&mut a2).await, format!("m{n}"), "in order, unchanged");
    }
    quiet(&mut b1).await;
    say(&mut b1, "other room").await;
    quiet(&mut a1).await;
    quiet(&mut a2).await;
}

#[tokio::test]
async fn a_rooms_frames_reach_its_other_sockets_only() {
    let relay = Relay::start("2");
    rooms_deliver_to_others_only(&relay).await;
}

#[tokio::test]
async fn the_current_thread_runtime_relays_the_same() {
    let relay = Relay::start("0");
    rooms_deliver_to_others_only(&relay).await;
}

#[tokio::test]
async fn a_frame_over_4_kib_closes_the_socket_with_1009() {
    let relay = Relay::start("2");
    let mut a1 = relay.join("big").await;
    let mut a2 = relay.join("big").await;
    let largest = "x".repeat(4096);
    say(&mut a1, &largest).await;
    assert_eq!(heard(&mut a2).await, largest);
    say(&mut a1, &"x".repeat(4097)).await;
    let code = loop {
        match tokio::time::timeout(WAIT, a1.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Close(Some(f)))) => break u16::from(f.code),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(code, 1009);
    quiet(&mut a2).await;
}

#[tokio::test]
async fn bad_rooms_are_refused_and_healthz_answers() {
    let relay = Relay::start("2");
    for bad in [
        "/relay",
        "/relay?room=",
        "/relay?room=a%20b",
        &format!("/relay?room={}", "x".repeat(65)),
    ] {
        let e = tokio_tungstenite::connect_async(format!("ws://{}{bad}", relay.addr))
            .await
            .expect_err("a bad room is refused");
        assert!(e.to_string().contains("400"), "{bad}: {e}");
    }
    let e = tokio_tungstenite::connect_async(format!("ws://{}/other?room=a", relay.addr))
        .await
        .expect_err("only /relay");
    assert!(e.to_string().contains("404"), "{e}");
    let mut tcp = std::net::TcpStream::connect(&relay.addr).unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    tcp.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.ends_with("\r\n\r\nok"), "{reply}");
}
