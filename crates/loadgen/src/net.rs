//! Connections to the server under test: loopback only, spread over 127.0.x.y source addresses
//! (one address has ~28k ephemeral ports), each shard of a `--procs` run on its own addresses.

use anyhow::{Context, bail};
use frontdesk_core::protocol::ServerFrame;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub type Ws = WebSocketStream<TcpStream>;

/// How long one read may wait before the connection counts as failed.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Target {
    pub http: String,
    pub host: SocketAddr,
    sources: u8,
    /// The third octet of this process's source addresses (its shard).
    net: u8,
}

impl Target {
    /// `url` is `http://IP:PORT` or `ws://IP:PORT`, on loopback.
    pub fn new(url: &str, sources: u8, shard: usize) -> anyhow::Result<Self> {
        let hostport = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("ws://"))
            .context("the URL must start with http:// or ws://")?
            .trim_end_matches('/');
        let host: SocketAddr = hostport
            .parse()
            .context("URL must be an IP:port on loopback")?;
        if !host.ip().is_loopback() {
            bail!("loadgen only targets loopback servers");
        }
        Ok(Self {
            http: format!("http://{hostport}"),
            host,
            sources: sources.max(1),
            net: u8::try_from(shard).context("at most 256 shards")?,
        })
    }

    pub async fn session(&self, client: &reqwest::Client, site: &str) -> anyhow::Result<String> {
        let r: serde_json::Value = client
            .post(format!("{}/api/v1/widget/session", self.http))
            .json(&json!({"site_key": site, "token": null}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(r["token"].as_str().context("token")?.to_owned())
    }

    /// `n` visitor tokens, at most 256 requests in flight.
    pub async fn sessions(
        self: &Arc<Self>,
        client: &reqwest::Client,
        site: &str,
        n: usize,
    ) -> anyhow::Result<Vec<String>> {
        let mut tokens = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(256) {
            let mut batch = Vec::new();
            for _ in chunk {
                let (target, client, site) = (self.clone(), client.clone(), site.to_owned());
                batch.push(tokio::spawn(
                    async move { target.session(&client, &site).await },
                ));
            }
            for b in batch {
                tokens.push(b.await??);
            }
        }
        Ok(tokens)
    }

    /// A WebSocket to `path` from the `i`th source address.
    pub async fn socket(
        &self,
        i: usize,
        path: &str,
        headers: &[(&'static str, String)],
    ) -> anyhow::Result<Ws> {
        let src = IpAddr::V4(Ipv4Addr::new(
            127,
            0,
            self.net,
            1 + (i % self.sources as usize) as u8,
        ));
        let sock = TcpSocket::new_v4()?;
        sock.bind(SocketAddr::new(src, 0))?;
        let stream = sock.connect(self.host).await?;
        stream.set_nodelay(true)?;
        let mut req = format!("ws://{}{path}", self.host).into_client_request()?;
        for (k, v) in headers {
            req.headers_mut().insert(*k, v.parse()?);
        }
        let (ws, _) = tokio_tungstenite::client_async(req, stream).await?;
        Ok(ws)
    }

    /// A visitor socket that has said hello (and read `welcome`).
    pub async fn visitor(&self, i: usize, token: &str) -> anyhow::Result<Ws> {
        let mut ws = self.socket(i, "/ws/visitor", &[]).await?;
        send_json(&mut ws, &json!({"type":"hello","v":1,"token":token})).await?;
        match read_frame(&mut ws).await? {
            ServerFrame::Welcome { .. } => Ok(ws),
            other => bail!("expected welcome, got {other:?}"),
        }
    }

    /// Logs the agent in and opens their socket (hello said, welcome read).
    pub async fn agent(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> anyhow::Result<Ws> {
        let cookie = self.agent_cookie(client, email, password).await?;
        let mut ws = self
            .socket(
                0,
                "/ws/agent",
                &[("Origin", self.http.clone()), ("Cookie", cookie)],
            )
            .await?;
        send_json(&mut ws, &json!({"type":"hello","v":1,"token":null})).await?;
        read_frame(&mut ws).await?;
        Ok(ws)
    }

    /// Logs an agent in; their session cookie (`name=value`).
    pub async fn agent_cookie(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> anyhow::Result<String> {
        let login = client
            .post(format!("{}/api/v1/auth/login", self.http))
            .header("Origin", &self.http)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await?
            .error_for_status()?;
        let cookie = login
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .context("no session cookie")?
            .to_owned();
        Ok(cookie)
    }
}

pub async fn send_json(ws: &mut Ws, v: &serde_json::Value) -> anyhow::Result<()> {
    ws.send(Message::Text(v.to_string().into())).await?;
    Ok(())
}

/// The next protocol frame (pings are answered by tungstenite as the stream is read).
pub async fn read_frame<S>(ws: &mut S) -> anyhow::Result<ServerFrame>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match tokio::time::timeout(READ_TIMEOUT, ws.next()).await? {
            Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(&t)?),
            Some(Ok(Message::Close(_))) | None => bail!("socket closed"),
            Some(Err(e)) => return Err(e.into()),
            _ => {}
        }
    }
}
