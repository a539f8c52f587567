//! `loadgen`: drives a running Frontdesk server over loopback with the real protocol.
//!
//! - `idle`: opens N visitor sockets (session + hello) and holds them; reports the server's RSS
//!   before and after, per connection.
//! - `chat`: C visitors each send M messages (closed loop: the next after the ack) while one
//!   agent socket receives them; reports persisted-and-delivered messages per second and the
//!   latency from send to the agent's receipt. A message counts only when the agent has it and
//!   its sequence number follows the previous one of its conversation.
//!
//! Connections are spread over 127.0.0.x source addresses (one address has ~28k ports). Every
//! run is bounded in count and time, and talks only to the given loopback server.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use frontdesk_core::protocol::ServerFrame;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpSocket;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Parser)]
struct Cli {
    /// The server, e.g. http://127.0.0.1:8080 (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    #[arg(long, default_value = "demo-site")]
    site: String,
    /// The server's pid, to read its RSS from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Spread connections over this many 127.0.0.x source addresses.
    #[arg(long, default_value_t = 32)]
    sources: u8,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    Idle {
        #[arg(long, default_value_t = 1000)]
        n: usize,
        /// Seconds to hold the connections after they are all open.
        #[arg(long, default_value_t = 5)]
        hold: u64,
    },
    Chat {
        #[arg(long, default_value_t = 50)]
        visitors: usize,
        #[arg(long, default_value_t = 100)]
        messages: usize,
        #[arg(long, default_value = "alice@demo.frontdesk.test")]
        agent_email: String,
        #[arg(long, default_value = "demo-password")]
        agent_password: String,
    },
}

fn rss_kb(pid: Option<u32>) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

struct Target {
    http: String,
    host: SocketAddr,
    sources: u8,
}

impl Target {
    fn new(url: &str, sources: u8) -> anyhow::Result<Self> {
        let hostport = url
            .strip_prefix("http://")
            .context("http:// URL")?
            .trim_end_matches('/');
        let host: SocketAddr = hostport
            .parse()
            .context("URL must be an IP:port on loopback")?;
        if !host.ip().is_loopback() {
            bail!("loadgen only targets loopback servers");
        }
        Ok(Self {
            http: url.trim_end_matches('/').to_owned(),
            host,
            sources: sources.max(1),
        })
    }

    async fn session(&self, client: &reqwest::Client, site: &str) -> anyhow::Result<String> {
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

    async fn socket(
        &self,
        i: usize,
        path: &str,
        headers: &[(&'static str, String)],
    ) -> anyhow::Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>> {
        let src = IpAddr::V4(Ipv4Addr::new(
            127,
            0,
            0,
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
}

async fn read_frame(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
) -> anyhow::Result<ServerFrame> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await? {
            Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(&t)?),
            Some(Ok(Message::Close(_))) | None => bail!("socket closed"),
            Some(Err(e)) => return Err(e.into()),
            _ => {}
        }
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let target = Arc::new(Target::new(&cli.url, cli.sources)?);
    let client = reqwest::Client::new();
    match cli.cmd {
        Cmd::Idle { n, hold } => {
            // Sessions first (each makes a contact row), so that the RSS measured around the
            // sockets is the sockets' own cost.
            let rss_start = rss_kb(cli.server_pid);
            let mut tokens = Vec::with_capacity(n);
            for chunk in (0..n).collect::<Vec<_>>().chunks(256) {
                let mut batch = Vec::new();
                for _ in chunk {
                    let (target, client, site) = (target.clone(), client.clone(), cli.site.clone());
                    batch.push(tokio::spawn(
                        async move { target.session(&client, &site).await },
                    ));
                }
                for b in batch {
                    tokens.push(b.await??);
                }
            }
            let before = rss_kb(cli.server_pid);
            let started = Instant::now();
            let mut tasks = Vec::with_capacity(n);
            let sem = Arc::new(tokio::sync::Semaphore::new(256));
            let (done_tx, done_rx) = tokio::sync::watch::channel(false);
            let ready = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            for (i, token) in tokens.into_iter().enumerate() {
                let (target, sem, mut done, ready) =
                    (target.clone(), sem.clone(), done_rx.clone(), ready.clone());
                tasks.push(tokio::spawn(async move {
                    let permit = sem.acquire_owned().await?;
                    let mut ws = target.socket(i, "/ws/visitor", &[]).await?;
                    ws.send(Message::Text(json!({"type":"hello","v":1,"token":token}).to_string().into())).await?;
                    read_frame(&mut ws).await?;
                    ready.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    drop(permit);
                    // Hold the socket, answering pings, until told to stop.
                    loop {
                        tokio::select! {
                            _ = done.changed() => break,
                            m = ws.next() => if m.is_none() { bail!("server closed an idle socket") },
                        }
                    }
                    anyhow::Ok(())
                }));
                if i % 1000 == 999 {
                    tokio::task::yield_now().await;
                }
            }
            // Wait until all have said hello (each drops its permit), then measure.
            let deadline = Instant::now() + Duration::from_secs(300);
            while ready.load(std::sync::atomic::Ordering::Relaxed)
                + tasks.iter().filter(|t| t.is_finished()).count()
                < n
                && Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let open_secs = started.elapsed().as_secs_f64();
            tokio::time::sleep(Duration::from_secs(hold)).await;
            let after = rss_kb(cli.server_pid);
            let failed = tasks.iter().filter(|t| t.is_finished()).count();
            let _ = done_tx.send(true);
            let mut errors = 0;
            for t in tasks {
                if !matches!(t.await, Ok(Ok(()))) {
                    errors += 1;
                }
            }
            let per_conn = match (before, after) {
                (Some(b), Some(a)) if n > 0 => Some((a.saturating_sub(b)) as f64 / n as f64),
                _ => None,
            };
            println!(
                "{}",
                json!({"phase":"idle","connections":n,"open_seconds":open_secs,"closed_early":failed,"errors":errors,
                       "server_rss_kb_start":rss_start,"server_rss_kb_before":before,"server_rss_kb_after":after,"server_kb_per_connection":per_conn})
            );
        }
        Cmd::Chat {
            visitors,
            messages,
            agent_email,
            agent_password,
        } => {
            let login = client
                .post(format!("{}/api/v1/auth/login", target.http))
                .header("Origin", &target.http)
                .json(&json!({"email": agent_email, "password": agent_password}))
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
            let mut agent = target
                .socket(
                    0,
                    "/ws/agent",
                    &[("Origin", target.http.clone()), ("Cookie", cookie)],
                )
                .await?;
            agent
                .send(Message::Text(
                    json!({"type":"hello","v":1,"token":null})
                        .to_string()
                        .into(),
                ))
                .await?;
            read_frame(&mut agent).await?;
            let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
            let total = visitors * messages;
            let receiver = {
                let sent_at = sent_at.clone();
                tokio::spawn(async move {
                    let mut last_seq: HashMap<String, i64> = HashMap::new();
                    let mut lat = Vec::with_capacity(total);
                    let mut gaps = 0usize;
                    while lat.len() < total {
                        match read_frame(&mut agent).await? {
                            ServerFrame::Message { message }
                                if message
                                    .client_id
                                    .as_deref()
                                    .is_some_and(|c| c.starts_with("lg")) =>
                            {
                                let prev =
                                    last_seq.insert(message.conversation_id.0.clone(), message.seq);
                                if prev.is_some_and(|p| message.seq != p + 1) {
                                    gaps += 1;
                                }
                                if let Some(t) = sent_at
                                    .lock()
                                    .await
                                    .remove(message.client_id.as_deref().unwrap_or(""))
                                {
                                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                                }
                            }
                            _ => {}
                        }
                    }
                    anyhow::Ok((lat, gaps))
                })
            };
            let started = Instant::now();
            let mut tasks = Vec::new();
            for v in 0..visitors {
                let (target, client, site, sent_at) = (
                    target.clone(),
                    client.clone(),
                    cli.site.clone(),
                    sent_at.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    let token = target.session(&client, &site).await?;
                    let mut ws = target.socket(v + 1, "/ws/visitor", &[]).await?;
                    ws.send(Message::Text(json!({"type":"hello","v":1,"token":token}).to_string().into())).await?;
                    read_frame(&mut ws).await?;
                    for m in 0..messages {
                        let cid = format!("lg{v}-{m}");
                        sent_at.lock().await.insert(cid.clone(), Instant::now());
                        ws.send(Message::Text(
                            json!({"type":"send","client_id":cid,"conversation_id":null,"text":format!("load {v} {m}")}).to_string().into(),
                        ))
                        .await?;
                        loop {
                            match read_frame(&mut ws).await? {
                                ServerFrame::Ack { client_id, .. } if client_id == cid => break,
                                ServerFrame::Error { code, message, .. } => bail!("{code:?}: {message}"),
                                _ => {}
                            }
                        }
                    }
                    anyhow::Ok(())
                }));
            }
            let mut errors = 0;
            for t in tasks {
                if !matches!(t.await, Ok(Ok(()))) {
                    errors += 1;
                }
            }
            let (mut lat, gaps) =
                tokio::time::timeout(Duration::from_secs(60), receiver).await???;
            let secs = started.elapsed().as_secs_f64();
            lat.sort_by(|a, b| a.total_cmp(b));
            println!(
                "{}",
                json!({"phase":"chat","visitors":visitors,"messages":lat.len(),"seconds":secs,
                       "messages_per_second": lat.len() as f64 / secs, "errors":errors, "seq_gaps":gaps,
                       "latency_ms":{"p50":pct(&lat,0.5),"p99":pct(&lat,0.99),"p999":pct(&lat,0.999)},
                       "server_rss_kb":rss_kb(cli.server_pid)})
            );
        }
    }
    Ok(())
}
