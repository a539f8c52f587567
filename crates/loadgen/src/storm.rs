//! `storm`: N visitors, each with a conversation, drop their sockets at once. While they are
//! away the agent writes one message to each conversation; then they all come back (`hello`
//! with the same token, `sync` from the last `seq` each holds) and must get that message with
//! no gap. Reports the time from the drop to the last visitor back with everything (`back_s`,
//! and the histogram of each visitor's time back), split into the agents' writes
//! (`agent_sends_s`, by `--agents` sockets side by side) and the reconnection (`reconnect_s`:
//! from the moment the visitors start coming back to the last one back with no gap).

use crate::Ctx;
use crate::net::{read_frame, send_json};
use crate::report::{Hist, Outcome};
use anyhow::{Context, bail};
use frontdesk_core::protocol::ServerFrame;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 1000)]
    pub n: usize,
    /// Reconnections in flight at once (a real storm has clients backing off with jitter).
    #[arg(long, default_value_t = 512)]
    pub concurrency: usize,
    /// Agents' REST sends in flight while the visitors are away (one at a time would make the
    /// writes, not the storm, the figure).
    #[arg(long, default_value_t = 32)]
    pub agents: usize,
}

/// Applies a visitor-side frame to the last contiguous `seq` held for `conv`.
/// Returns false on a gap (a `seq` past the next one).
fn hold(last: &mut i64, conv: &str, frame: &ServerFrame) -> bool {
    let m = match frame {
        ServerFrame::Message { message } | ServerFrame::Ack { message, .. } => message,
        _ => return true,
    };
    if m.conversation_id.0 != conv || m.seq <= *last {
        return true;
    }
    if m.seq == *last + 1 {
        *last = m.seq;
        true
    } else {
        false
    }
}

struct Back {
    took: Duration,
    gaps: u64,
}

pub async fn run(ctx: &Ctx, a: Args) -> anyhow::Result<Outcome> {
    let n = ctx.share(a.n);
    let tokens = ctx.target.sessions(&ctx.client, &ctx.site, n).await?;
    let prefix = format!("lgs{}-", ctx.shard);
    let sem = Arc::new(tokio::sync::Semaphore::new(256));
    let (drop_tx, drop_rx) = watch::channel(false);
    let (conv_tx, mut conv_rx) = mpsc::unbounded_channel::<(usize, String)>();
    let reconnect_sem = Arc::new(tokio::sync::Semaphore::new(a.concurrency.max(1)));
    let mut resume_txs = Vec::with_capacity(n);
    let mut tasks = Vec::with_capacity(n);
    for (v, token) in tokens.into_iter().enumerate() {
        let (target, sem, rsem, mut dropped, conv_tx) = (
            ctx.target.clone(),
            sem.clone(),
            reconnect_sem.clone(),
            drop_rx.clone(),
            conv_tx.clone(),
        );
        let cid = format!("{prefix}{v}");
        let (resume_tx, resume_rx) = oneshot::channel::<(i64, Instant)>();
        resume_txs.push(resume_tx);
        tasks.push(tokio::spawn(async move {
            // 1. A conversation: one message, acked.
            let permit = sem.acquire_owned().await?;
            let mut ws = target.visitor(v + 1, &token).await?;
            send_json(&mut ws, &json!({"type":"send","client_id":cid,"conversation_id":null,"text":"before the storm"})).await?;
            let (conv, mut last) = loop {
                match read_frame(&mut ws).await? {
                    ServerFrame::Ack { client_id, message } if client_id == cid => {
                        break (message.conversation_id.0, message.seq);
                    }
                    ServerFrame::Error { code, message, .. } => bail!("{code:?}: {message}"),
                    _ => {}
                }
            };
            drop(permit);
            let _ = conv_tx.send((v, conv.clone()));
            // 2. Live until the drop.
            let mut gaps = 0;
            loop {
                tokio::select! {
                    _ = dropped.changed() => break,
                    f = read_frame(&mut ws) => if !hold(&mut last, &conv, &f?) { gaps += 1 },
                }
            }
            drop(ws);
            // 3. Back, from the last seq held, until the agent's message is in.
            let (expected, dropped_at) = resume_rx.await.context("no resume")?;
            let _permit = rsem.acquire_owned().await?;
            let mut ws = target.visitor(v + 1, &token).await?;
            send_json(&mut ws, &json!({"type":"sync","conversation_id":conv,"after_seq":last})).await?;
            let mut synced = false;
            while !(synced && last >= expected) {
                let f = read_frame(&mut ws).await?;
                if !hold(&mut last, &conv, &f) {
                    gaps += 1;
                }
                if matches!(&f, ServerFrame::Synced { conversation_id, .. } if conversation_id.0 == conv) {
                    synced = true;
                }
            }
            anyhow::Ok(Back {
                took: dropped_at.elapsed(),
                gaps,
            })
        }));
    }
    drop(conv_tx);
    let mut convs: HashMap<usize, String> = HashMap::with_capacity(n);
    let setup_deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while convs.len() < n {
        match tokio::time::timeout_at(setup_deadline, conv_rx.recv()).await {
            Ok(Some((v, c))) => {
                convs.insert(v, c);
            }
            _ => {
                // Say why: the first visitor that failed.
                let mut why = String::from("no visitor failed");
                for t in tasks {
                    if t.is_finished()
                        && let Ok(Err(e)) = t.await
                    {
                        why = format!("{e:#}");
                        break;
                    }
                }
                bail!(
                    "only {} of {n} visitors started a conversation ({why})",
                    convs.len()
                )
            }
        }
    }

    // The agents write over the REST API: an agent socket would also receive every event of
    // the storm (10,000 visitors leaving and coming back) and be cut off as a slow consumer.
    let cookie = ctx
        .target
        .agent_cookie(&ctx.client, &ctx.agent_email, &ctx.agent_password)
        .await?;

    let probe = ctx.ready().await?;
    let dropped_at = Instant::now();
    let _ = drop_tx.send(true);
    // While they are away, the agents write to each conversation, `--agents` requests at once.
    let agent_prefix = format!("lgsa{}-", ctx.shard);
    let queue: Arc<std::sync::Mutex<Vec<(usize, String)>>> =
        Arc::new(std::sync::Mutex::new(convs.into_iter().collect()));
    let k = a.agents.max(1);
    let mut sending = Vec::with_capacity(k);
    for _ in 0..k {
        let (queue, client, cookie, http, prefix) = (
            queue.clone(),
            ctx.client.clone(),
            cookie.clone(),
            ctx.target.http.clone(),
            agent_prefix.clone(),
        );
        sending.push(tokio::spawn(async move {
            let mut done: Vec<(usize, i64)> = Vec::new();
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some((v, conv)) = next else { break };
                let r = client
                    .post(format!("{http}/api/v1/conversations/{conv}/messages"))
                    .header("Origin", &http)
                    .header("Cookie", &cookie)
                    .json(&json!({"client_id": format!("{prefix}{v}"), "text": "while you were away"}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        if let Ok(m) = r.json::<frontdesk_core::protocol::Message>().await {
                            done.push((v, m.public_seq.unwrap_or(m.seq)));
                        }
                    }
                    Ok(r) => eprintln!("storm: an agent's send failed: {}", r.status()),
                    Err(e) => eprintln!("storm: an agent's send failed: {e}"),
                }
            }
            done
        }));
    }
    let mut expected: HashMap<usize, i64> = HashMap::with_capacity(n);
    for t in sending {
        if let Ok(done) = t.await {
            expected.extend(done);
        }
    }
    let agent_sends_s = dropped_at.elapsed().as_secs_f64();
    let mut errors = (n - expected.len()) as u64;
    let resumed_at = Instant::now();
    for (v, tx) in resume_txs.into_iter().enumerate() {
        // A conversation the agent could not write to still resumes (from nothing new).
        let _ = tx.send((expected.get(&v).copied().unwrap_or(0), dropped_at));
    }
    let mut hist = Hist::default();
    let (mut delivered, mut gaps, mut back) = (0u64, 0u64, Duration::ZERO);
    for t in tasks {
        match tokio::time::timeout(Duration::from_secs(300), t).await {
            Ok(Ok(Ok(b))) => {
                delivered += 1;
                gaps += b.gaps;
                hist.record(b.took);
                back = back.max(b.took);
            }
            _ => errors += 1,
        }
    }
    let reconnect_s = (dropped_at + back)
        .saturating_duration_since(resumed_at)
        .as_secs_f64();
    let server = probe.finish();
    let mut out = Outcome {
        connections: n as u64 + 1,
        sent: n as u64,
        delivered,
        errors,
        gaps,
        elapsed_s: back.as_secs_f64(),
        back_s: Some(back.as_secs_f64()),
        hist,
        server,
        ..Outcome::default()
    };
    out.extra
        .insert("agent_sends_s".into(), json!(agent_sends_s));
    out.extra.insert("reconnect_s".into(), json!(reconnect_s));
    out.extra.insert("agents".into(), json!(k));
    Ok(out)
}
