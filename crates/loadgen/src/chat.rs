//! `chat`: visitors send messages, one agent socket receives them.
//!
//! Open loop (the default): visitor `v` of `C` sends its `k`th message at the fixed time
//! `start + (k + v/C) * C/R`, whether or not the server kept up, and latency runs from that
//! scheduled time to the agent's receipt, so a stalled server shows in the latency instead of
//! slowing the senders (no coordinated omission). After `--duration`, a bounded drain.
//! `--closed`: each visitor sends `--messages` messages, the next after the previous ack;
//! latency from the actual send.
//!
//! A message counts as delivered only when it was acked (persisted) and the agent received it
//! with `seq` = the previous `seq` of its conversation + 1 (any other `seq` is a gap).

use crate::Ctx;
use crate::net::{Ws, read_frame};
use crate::report::{Hist, Outcome};
use anyhow::bail;
use frontdesk_core::protocol::ServerFrame;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 50)]
    pub visitors: usize,
    /// Messages per second, in total (open loop).
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Seconds of sending (open loop).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Closed loop: each visitor waits for its ack before the next message.
    #[arg(long)]
    pub closed: bool,
    /// Messages per visitor (closed loop).
    #[arg(long, default_value_t = 100)]
    pub messages: usize,
    /// Seconds to wait, after the last send, for acks and deliveries.
    #[arg(long, default_value_t = 10.0)]
    pub drain: f64,
}

/// Fixed send times: visitor `v` of `visitors` sends its `k`th frame at
/// `start + period * (k + v / visitors)`, `period` = visitors / rate, for `duration`.
#[derive(Clone, Copy)]
pub struct Schedule {
    pub start: Instant,
    pub period: Duration,
    pub visitors: usize,
    pub duration: Duration,
}

impl Schedule {
    pub fn new(start: Instant, visitors: usize, rate: f64, duration: f64) -> anyhow::Result<Self> {
        if !(rate > 0.0 && duration > 0.0) || visitors == 0 {
            bail!("--rate, --duration and --visitors must be positive");
        }
        Ok(Self {
            start,
            period: Duration::from_secs_f64(visitors as f64 / rate),
            visitors,
            duration: Duration::from_secs_f64(duration),
        })
    }

    pub fn offset(&self, v: usize, k: usize) -> Duration {
        self.period
            .mul_f64(k as f64 + v as f64 / self.visitors as f64)
    }

    pub fn at(&self, v: usize, k: usize) -> Instant {
        self.start + self.offset(v, k)
    }

    /// How many frames visitor `v` sends.
    pub fn count(&self, v: usize) -> usize {
        (0..)
            .take_while(|&k| self.offset(v, k) < self.duration)
            .count()
    }
}

/// Opens `n` visitor sockets (sessions first), 256 at a time.
pub async fn open_visitors(ctx: &Ctx, n: usize) -> anyhow::Result<Vec<Ws>> {
    let tokens = ctx.target.sessions(&ctx.client, &ctx.site, n).await?;
    let sem = Arc::new(tokio::sync::Semaphore::new(256));
    let mut tasks = Vec::with_capacity(n);
    for (i, token) in tokens.into_iter().enumerate() {
        let (target, sem) = (ctx.target.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await?;
            target.visitor(i + 1, &token).await
        }));
    }
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await??);
    }
    Ok(out)
}

/// What the agent socket saw: for each of our `(visitor, k)` in order, the latency.
struct Received {
    latency: HashMap<(u32, u32), Duration>,
    gaps: u64,
    last: Option<Instant>,
    failed: bool,
}

/// Reads the agent socket until `expected` of this shard's messages arrived or `deadline`.
/// `sent_at` gives the time latency runs from (the scheduled or the actual send).
fn receive(
    mut agent: Ws,
    prefix: String,
    expected: usize,
    mut deadline: tokio::sync::watch::Receiver<tokio::time::Instant>,
    sent_at: impl Fn(u32, u32) -> Option<Instant> + Send + 'static,
) -> tokio::task::JoinHandle<Received> {
    tokio::spawn(async move {
        let mut last_seq: HashMap<String, i64> = HashMap::new();
        let mut r = Received {
            latency: HashMap::with_capacity(expected),
            gaps: 0,
            last: None,
            failed: false,
        };
        while r.latency.len() < expected {
            let until = *deadline.borrow_and_update();
            let frame = tokio::select! {
                f = tokio::time::timeout_at(until, read_frame(&mut agent)) => match f {
                    Ok(Ok(f)) => f,
                    Ok(Err(_)) => {
                        r.failed = true;
                        break;
                    }
                    Err(_) => break,
                },
                // A new deadline (the drain's): wait on that one.
                Ok(()) = deadline.changed() => continue,
            };
            let ServerFrame::Message { message } = frame else {
                continue;
            };
            let now = Instant::now();
            let prev = last_seq.insert(message.conversation_id.0.clone(), message.seq);
            let in_order = prev.is_none_or(|p| message.seq == p + 1);
            let Some(id) = message
                .client_id
                .as_deref()
                .and_then(|c| c.strip_prefix(&prefix))
                .and_then(parse_id)
            else {
                if !in_order {
                    r.gaps += 1;
                }
                continue;
            };
            if !in_order {
                r.gaps += 1;
                continue;
            }
            if let Some(t) = sent_at(id.0, id.1) {
                r.latency.insert(id, now.saturating_duration_since(t));
                r.last = Some(now);
            }
        }
        r
    })
}

fn parse_id(s: &str) -> Option<(u32, u32)> {
    let (v, k) = s.split_once('-')?;
    Some((v.parse().ok()?, k.parse().ok()?))
}

pub async fn run(ctx: &Ctx, a: Args) -> anyhow::Result<Outcome> {
    let visitors = ctx.share(a.visitors);
    let sockets = open_visitors(ctx, visitors).await?;
    // The agent last: a socket nobody reads while visitors arrive would be cut off.
    let agent = ctx
        .target
        .agent(&ctx.client, &ctx.agent_email, &ctx.agent_password)
        .await?;
    let prefix = format!("lg{}-", ctx.shard);
    if a.closed {
        closed(ctx, &a, agent, sockets, prefix).await
    } else {
        open(ctx, &a, agent, sockets, prefix).await
    }
}

async fn open(
    ctx: &Ctx,
    a: &Args,
    agent: Ws,
    sockets: Vec<Ws>,
    prefix: String,
) -> anyhow::Result<Outcome> {
    let visitors = sockets.len();
    let rate = ctx.rate_share(a.rate, a.visitors);
    let probe = ctx.ready().await?;
    let sched = Schedule::new(
        Instant::now() + Duration::from_millis(20),
        visitors,
        rate,
        a.duration,
    )?;
    let deadline = tokio::time::Instant::from_std(
        sched.start + sched.duration + Duration::from_secs_f64(a.drain),
    );
    let expected: usize = (0..visitors).map(|v| sched.count(v)).sum();
    let (_keep, deadline_rx) = tokio::sync::watch::channel(deadline);
    let receiver = receive(agent, prefix.clone(), expected, deadline_rx, move |v, k| {
        Some(sched.at(v as usize, k as usize))
    });
    let mut tasks = Vec::with_capacity(visitors);
    for (v, ws) in sockets.into_iter().enumerate() {
        let prefix = prefix.clone();
        tasks.push(tokio::spawn(async move {
            let n = sched.count(v);
            let (mut tx, mut rx) = ws.split();
            // As the widget does: the first send opens the conversation, later ones name it.
            let conversation = std::sync::OnceLock::<String>::new();
            let write = async {
                for k in 0..n {
                    tokio::time::sleep_until(sched.at(v, k).into()).await;
                    let f = json!({"type":"send","client_id":format!("{prefix}{v}-{k}"),
                                   "conversation_id":conversation.get(),"text":format!("load {v} {k}")});
                    tx.send(Message::Text(f.to_string().into())).await?;
                }
                anyhow::Ok(())
            };
            let read = async {
                let mut acked = Vec::with_capacity(n);
                let mut errors = 0u64;
                while acked.len() + (errors as usize) < n {
                    match tokio::time::timeout_at(deadline, read_frame(&mut rx)).await {
                        Ok(Ok(ServerFrame::Ack { client_id, message })) => {
                            let _ = conversation.set(message.conversation_id.0);
                            if let Some((_, k)) = client_id.strip_prefix(&prefix).and_then(parse_id)
                            {
                                acked.push(k);
                            }
                        }
                        Ok(Ok(ServerFrame::Error { .. })) => errors += 1,
                        Ok(Ok(_)) => {}
                        Ok(Err(_)) | Err(_) => break,
                    }
                }
                let missing = n - acked.len().min(n) - (errors as usize).min(n);
                (acked, errors, missing)
            };
            let (w, (acked, errors, missing)) = tokio::join!(write, read);
            // A socket that failed counts once; frames never answered count one each.
            (acked, errors + u64::from(w.is_err()) + missing as u64)
        }));
    }
    let mut acked = HashSet::new();
    let mut errors = 0;
    for (v, t) in tasks.into_iter().enumerate() {
        match t.await {
            Ok((ks, e)) => {
                acked.extend(ks.into_iter().map(|k| (v as u32, k)));
                errors += e;
            }
            Err(_) => errors += 1,
        }
    }
    let r = receiver.await?;
    let server = probe.finish();
    let mut out = tally(&r, &acked, errors);
    out.connections = visitors as u64 + 1;
    out.sent = expected as u64;
    out.elapsed_s = r
        .last
        .map_or(0.0, |l| {
            l.saturating_duration_since(sched.start).as_secs_f64()
        })
        .max(sched.duration.as_secs_f64());
    out.server = server;
    out.extra.insert("rate".into(), json!(rate));
    out.extra.insert("mode".into(), json!("open"));
    Ok(out)
}

/// Delivered = acked and received in order; errors include the agent socket failing.
fn tally(r: &Received, acked: &HashSet<(u32, u32)>, errors: u64) -> Outcome {
    let mut hist = Hist::default();
    let mut delivered = 0;
    for (id, l) in &r.latency {
        if acked.contains(id) {
            delivered += 1;
            hist.record(*l);
        }
    }
    Outcome {
        delivered,
        gaps: r.gaps,
        errors: errors + u64::from(r.failed),
        hist,
        ..Outcome::default()
    }
}

async fn closed(
    ctx: &Ctx,
    a: &Args,
    agent: Ws,
    sockets: Vec<Ws>,
    prefix: String,
) -> anyhow::Result<Outcome> {
    let visitors = sockets.len();
    let messages = a.messages;
    let sent_at: Arc<Mutex<HashMap<(u32, u32), Instant>>> = Arc::default();
    let probe = ctx.ready().await?;
    let started = Instant::now();
    // Bounded: every ack waits at most READ_TIMEOUT; once the visitors are done, the drain.
    let (deadline, deadline_rx) =
        tokio::sync::watch::channel(tokio::time::Instant::now() + Duration::from_secs(3600));
    let receiver = {
        let sent_at = sent_at.clone();
        receive(
            agent,
            prefix.clone(),
            visitors * messages,
            deadline_rx,
            move |v, k| sent_at.lock().ok()?.get(&(v, k)).copied(),
        )
    };
    let mut tasks = Vec::new();
    for (v, mut ws) in sockets.into_iter().enumerate() {
        let (prefix, sent_at) = (prefix.clone(), sent_at.clone());
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::with_capacity(messages);
            // As the widget does: the first send opens the conversation, later ones name it.
            let mut conversation: Option<String> = None;
            for k in 0..messages {
                let cid = format!("{prefix}{v}-{k}");
                if let Ok(mut m) = sent_at.lock() {
                    m.insert((v as u32, k as u32), Instant::now());
                }
                let f = json!({"type":"send","client_id":cid,"conversation_id":conversation,"text":format!("load {v} {k}")});
                ws.send(Message::Text(f.to_string().into())).await?;
                loop {
                    match read_frame(&mut ws).await? {
                        ServerFrame::Ack { client_id, message } if client_id == cid => {
                            conversation = Some(message.conversation_id.0);
                            break;
                        }
                        ServerFrame::Error { code, message, .. } => bail!("{code:?}: {message}"),
                        _ => {}
                    }
                }
                acked.push(k as u32);
            }
            anyhow::Ok(acked)
        }));
    }
    let mut acked = HashSet::new();
    let mut errors = 0;
    for (v, t) in tasks.into_iter().enumerate() {
        match t.await {
            Ok(Ok(ks)) => acked.extend(ks.into_iter().map(|k| (v as u32, k))),
            Ok(Err(e)) => {
                eprintln!("chat: visitor {v} failed: {e:#}");
                errors += 1;
            }
            Err(e) => {
                eprintln!("chat: visitor {v} failed: {e}");
                errors += 1;
            }
        }
    }
    let _ = deadline.send(tokio::time::Instant::now() + Duration::from_secs_f64(a.drain));
    let r = receiver.await?;
    let server = probe.finish();
    let mut out = tally(&r, &acked, errors);
    out.connections = visitors as u64 + 1;
    out.sent = (visitors * messages) as u64;
    out.elapsed_s = started.elapsed().as_secs_f64();
    out.server = server;
    out.extra.insert("mode".into(), json!("closed"));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_spreads_the_rate_over_visitors() {
        let s = Schedule::new(Instant::now(), 4, 100.0, 1.0).unwrap();
        // 100/s over 1 s: 100 sends, 25 each, 10 ms apart overall.
        assert_eq!((0..4).map(|v| s.count(v)).sum::<usize>(), 100);
        assert_eq!(s.offset(0, 1), Duration::from_millis(40));
        assert_eq!(s.offset(1, 0), Duration::from_millis(10));
        let mut all: Vec<Duration> = (0..4)
            .flat_map(|v| (0..s.count(v)).map(move |k| s.offset(v, k)))
            .collect();
        all.sort();
        assert!(
            all.windows(2)
                .all(|w| w[1] - w[0] <= Duration::from_micros(10_001))
        );
    }
}
