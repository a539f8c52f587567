//! `loadgen`: drives a running Frontdesk server (or a minimal relay) over loopback with the
//! real protocol, and reports one JSON object (`--json FILE`) and a table.
//!
//! Phases: `idle` (sockets held open), `chat` (open loop, or `--closed`), `storm` (every
//! visitor drops and resumes), `typing` (typing indicators), `relay` (the minimal relay mode of
//! `/tmp/fd/relay-proto.md`, for comparing servers on the same terms). Every run is bounded in
//! count and time, and talks only to a loopback server.
//!
//! `--procs P` runs P copies of itself (`--shard i/P`, each on its own source addresses and with
//! its share of the connections and the rate) because one process may hold at most 20,000
//! files here. The children set up, say `ready`, start their measured window together on
//! `go`, and print their result with its histogram; the parent merges them.

mod chat;
mod net;
mod relay;
mod report;
mod storm;
mod typing;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use futures_util::StreamExt;
use net::Target;
use report::{Outcome, Probe};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Parser)]
struct Cli {
    /// The server, e.g. http://127.0.0.1:8080 (or ws://IP:PORT for `relay`); loopback only.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    #[arg(long, default_value = "demo-site")]
    site: String,
    /// The server's pid, to read its RSS and CPU time from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Spread connections over this many 127.0.x.y source addresses (per process).
    #[arg(long, default_value_t = 32)]
    sources: u8,
    /// Run this many loadgen processes, each with a share of the connections and the rate.
    #[arg(long, default_value_t = 1)]
    procs: usize,
    /// Write the result (one JSON object) to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    #[arg(long, default_value = "alice@demo.frontdesk.test")]
    agent_email: String,
    #[arg(long, default_value = "demo-password")]
    agent_password: String,
    /// Internal: this process is shard i of P (set by `--procs`).
    #[arg(long, hide = true)]
    shard: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Open N visitor sockets (session + hello) and hold them.
    Idle {
        #[arg(long, default_value_t = 1000)]
        n: usize,
        /// Seconds to hold the connections after they are all open.
        #[arg(long, default_value_t = 5)]
        hold: u64,
    },
    /// Visitors send messages that one agent socket receives.
    Chat(chat::Args),
    /// Every visitor drops at once and resumes; the agent writes to each meanwhile.
    Storm(storm::Args),
    /// Visitors send typing indicators that the agent socket receives.
    Typing(typing::Args),
    /// The minimal relay mode: per room a sender and a receiver socket.
    Relay(relay::Args),
}

impl Cmd {
    fn name(&self) -> &'static str {
        match self {
            Cmd::Idle { .. } => "idle",
            Cmd::Chat(_) => "chat",
            Cmd::Storm(_) => "storm",
            Cmd::Typing(_) => "typing",
            Cmd::Relay(_) => "relay",
        }
    }
}

/// What every phase gets: where to connect, and which shard of the run this process is.
pub struct Ctx {
    pub target: Arc<Target>,
    pub client: reqwest::Client,
    pub site: String,
    pub server_pid: Option<u32>,
    pub agent_email: String,
    pub agent_password: String,
    pub shard: usize,
    pub procs: usize,
}

impl Ctx {
    /// This shard's share of `total` (the first `total % procs` shards take one more).
    pub fn share(&self, total: usize) -> usize {
        total / self.procs + usize::from(self.shard < total % self.procs)
    }

    /// This shard's share of a rate, in proportion to its share of `of`.
    pub fn rate_share(&self, rate: f64, of: usize) -> f64 {
        if of == 0 {
            0.0
        } else {
            rate * self.share(of) as f64 / of as f64
        }
    }

    /// Set-up is done: in a shard, say so and wait for the parent's `go`, so that all shards'
    /// measured windows start together. Returns the probe of the server's use.
    pub async fn ready(&self) -> anyhow::Result<Probe> {
        if self.procs > 1 {
            println!("ready");
            let line = tokio::task::spawn_blocking(|| {
                let mut l = String::new();
                std::io::stdin().read_line(&mut l).map(|_| l)
            })
            .await??;
            if line.trim() != "go" {
                bail!("expected go from the parent, got {line:?}");
            }
        }
        Ok(Probe::start(self.server_pid))
    }
}

fn parse_shard(s: &str) -> anyhow::Result<(usize, usize)> {
    let (i, p) = s.split_once('/').context("--shard i/P")?;
    let (i, p): (usize, usize) = (i.parse()?, p.parse()?);
    if p == 0 || i >= p {
        bail!("--shard i/P needs i < P");
    }
    Ok((i, p))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let phase = cli.cmd.name();
    let (shard, procs) = match &cli.shard {
        Some(s) => parse_shard(s)?,
        None => (0, 1),
    };
    let outcome = if cli.procs > 1 && cli.shard.is_none() {
        run_procs(cli.procs).await?
    } else {
        let ctx = Ctx {
            target: Arc::new(Target::new(&cli.url, cli.sources, shard)?),
            client: reqwest::Client::new(),
            site: cli.site.clone(),
            server_pid: cli.server_pid,
            agent_email: cli.agent_email.clone(),
            agent_password: cli.agent_password.clone(),
            shard,
            procs,
        };
        let out = match cli.cmd {
            Cmd::Idle { n, hold } => idle(&ctx, n, hold).await?,
            Cmd::Chat(a) => chat::run(&ctx, a).await?,
            Cmd::Storm(a) => storm::run(&ctx, a).await?,
            Cmd::Typing(a) => typing::run(&ctx, a).await?,
            Cmd::Relay(a) => relay::run(&ctx, a).await?,
        };
        if cli.shard.is_some() {
            println!("{}", out.to_shard_line(phase)?);
            return Ok(());
        }
        out
    };
    let report = outcome.report(phase);
    print!("{}", report.table());
    if let Some(path) = &cli.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Runs `procs` children (this binary with `--shard i/P`), starts them together, merges.
async fn run_procs(procs: usize) -> anyhow::Result<Outcome> {
    // The children get the same arguments, minus --procs and --json, plus --shard.
    let mut args: Vec<String> = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == "--procs" || a == "--json" {
            it.next();
        } else if !(a.starts_with("--procs=") || a.starts_with("--json=")) {
            args.push(a);
        }
    }
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for i in 0..procs {
        let mut child = tokio::process::Command::new(&exe)
            .arg("--shard")
            .arg(format!("{i}/{procs}"))
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting a shard")?;
        let stdout = BufReader::new(child.stdout.take().context("stdout")?).lines();
        children.push((child, stdout));
    }
    // Set-up may take a while (10,000 sessions), but not forever.
    let setup_deadline = Instant::now() + Duration::from_secs(900);
    for (i, (_, lines)) in children.iter_mut().enumerate() {
        let line = tokio::time::timeout_at(setup_deadline.into(), lines.next_line())
            .await
            .context("a shard's set-up timed out")??;
        if line.as_deref() != Some("ready") {
            bail!("shard {i} failed during set-up (said {line:?})");
        }
    }
    for (child, _) in &mut children {
        let stdin = child.stdin.as_mut().context("stdin")?;
        stdin.write_all(b"go\n").await?;
        stdin.flush().await?;
    }
    let results = futures_util::stream::iter(children.iter_mut().enumerate())
        .then(|(i, (_, lines))| async move {
            let line = lines
                .next_line()
                .await?
                .with_context(|| format!("shard {i} ended without a result"))?;
            Outcome::from_shard_line(&line)
        })
        .collect::<Vec<_>>()
        .await;
    let mut shards = Vec::new();
    for r in results {
        shards.push(r?);
    }
    for (mut child, _) in children {
        child.wait().await?;
    }
    Outcome::merge(shards)
}

/// Opens `n` visitor sockets (session + hello) and holds them for `hold` seconds. The
/// sessions come first (each makes a contact row), so the RSS measured around the sockets is
/// the sockets' own cost (`server_kb_per_connection`).
/// With `--procs`, every shard reads the same server, so the cost divides by all `total`.
async fn idle(ctx: &Ctx, total: usize, hold: u64) -> anyhow::Result<Outcome> {
    let n = ctx.share(total);
    let rss_start = report::rss_kb(ctx.server_pid);
    let tokens = ctx.target.sessions(&ctx.client, &ctx.site, n).await?;
    let probe = ctx.ready().await?;
    let before = report::rss_kb(ctx.server_pid);
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(256));
    let (done_tx, done_rx) = tokio::sync::watch::channel(false);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
    let mut tasks = Vec::with_capacity(n);
    for (i, token) in tokens.into_iter().enumerate() {
        let (target, sem, mut done, ready) = (
            ctx.target.clone(),
            sem.clone(),
            done_rx.clone(),
            ready_tx.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let permit = sem.acquire_owned().await?;
            let mut ws = match target.visitor(i, &token).await {
                Ok(ws) => ws,
                Err(e) => {
                    let _ = ready.send(false);
                    return Err(e);
                }
            };
            let _ = ready.send(true);
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
    }
    drop(ready_tx);
    // Wait until every socket has said hello or failed, then measure.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    let mut opened = 0u64;
    let mut answered = 0;
    while answered < n {
        match tokio::time::timeout_at(deadline, ready_rx.recv()).await {
            Ok(Some(ok)) => {
                answered += 1;
                opened += u64::from(ok);
            }
            _ => break,
        }
    }
    let open_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(hold)).await;
    let server = probe.finish();
    let closed_early = tasks.iter().filter(|t| t.is_finished()).count();
    let _ = done_tx.send(true);
    let mut errors = 0;
    for t in tasks {
        if !matches!(t.await, Ok(Ok(()))) {
            errors += 1;
        }
    }
    let mut out = Outcome {
        connections: opened,
        errors,
        elapsed_s: open_secs,
        server,
        ..Outcome::default()
    };
    let per_conn = match (before, server.rss_kb) {
        (Some(b), Some(a)) if total > 0 => Some((a.saturating_sub(b)) as f64 / total as f64),
        _ => None,
    };
    out.extra = serde_json::json!({
        "closed_early": closed_early,
        "server_rss_kb_start": rss_start,
        "server_rss_kb_before": before,
        "server_kb_per_connection": per_conn,
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    Ok(out)
}
