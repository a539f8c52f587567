//! The benchmark relay (`bench_relay`): served only when turned on; a room's frames reach its
//! other sockets unchanged, never the sender and never another room; a frame over 4 KiB
//! closes the socket with 1009.

use crate::common::{Backend, TestServer, WAIT};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a socket must stay quiet to show that a frame was not delivered to it.
const QUIET: Duration = Duration::from_millis(300);

async fn join(t: &TestServer, room: &str) -> Ws {
    let url = t.ws_url(&format!("/relay?room={room}"));
    tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
        .await
        .expect("connect in time")
        .expect("relay socket opens")
        .0
}

async fn say(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.unwrap();
}

/// The next text frame, skipping pings.
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

async fn relay_server() -> TestServer {
    TestServer::start_with(Backend::Sqlite, |c| c.bench_relay = true).await
}

#[tokio::test]
async fn a_rooms_frames_reach_its_other_sockets_only() {
    let t = relay_server().await;
    let mut a1 = join(&t, "room-a").await;
    let mut a2 = join(&t, "room-a").await;
    let mut b1 = join(&t, "room_b").await;
    // A socket joins its room before its upgrade is answered: a frame sent now must arrive.
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
    t.stop().await;
}

#[tokio::test]
async fn a_frame_over_4_kib_closes_the_socket_with_1009() {
    let t = relay_server().await;
    let mut a1 = join(&t, "big").await;
    let mut a2 = join(&t, "big").await;
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
    t.stop().await;
}

#[tokio::test]
async fn the_relay_is_off_unless_turned_on_and_checks_the_room() {
    let off = TestServer::start(Backend::Sqlite).await;
    let e = tokio_tungstenite::connect_async(off.ws_url("/relay?room=a"))
        .await
        .expect_err("no /relay by default");
    assert!(e.to_string().contains("404"), "{e}");
    off.stop().await;

    let on = relay_server().await;
    for bad in [
        "",
        "?room=",
        "?room=a%20b",
        &format!("?room={}", "x".repeat(65)),
    ] {
        let e = tokio_tungstenite::connect_async(on.ws_url(&format!("/relay{bad}")))
            .await
            .expect_err("a bad room is refused");
        assert!(e.to_string().contains("400"), "{bad}: {e}");
    }
    let health = reqwest::get(format!("{}/healthz", on.url)).await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    on.stop().await;
}
