//! `typing`: each visitor (with a conversation started by one message) sends typing
//! indicators on the open-loop schedule of `chat`, alternating `typing: true` and `false` (the
//! server forwards every change at once, and a repeat of the same state at most once a second).
//! The agent socket must receive each visitor's indicators in order; latency runs from the
//! scheduled time. An indicator out of turn counts as a gap.

use crate::Ctx;
use crate::chat::{Schedule, open_visitors};
use crate::net::{read_frame, send_json};
use crate::report::{Hist, Outcome};
use anyhow::bail;
use frontdesk_core::protocol::{ServerFrame, Side};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 50)]
    pub visitors: usize,
    /// Typing frames per second, in total.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds to wait, after the last send, for the indicators still on their way.
    #[arg(long, default_value_t = 5.0)]
    pub drain: f64,
}

pub async fn run(ctx: &Ctx, a: Args) -> anyhow::Result<Outcome> {
    let visitors = ctx.share(a.visitors);
    let rate = ctx.rate_share(a.rate, a.visitors);
    let mut sockets = open_visitors(ctx, visitors).await?;
    // A conversation each (typing is about one).
    let mut convs = Vec::with_capacity(visitors);
    for (v, ws) in sockets.iter_mut().enumerate() {
        let cid = format!("lgt{}-{v}", ctx.shard);
        send_json(
            ws,
            &json!({"type":"send","client_id":cid,"conversation_id":null,"text":"typing next"}),
        )
        .await?;
        loop {
            match read_frame(ws).await? {
                ServerFrame::Ack { client_id, message } if client_id == cid => {
                    convs.push(message.conversation_id.0);
                    break;
                }
                ServerFrame::Error { code, message, .. } => bail!("{code:?}: {message}"),
                _ => {}
            }
        }
    }
    let of: HashMap<String, usize> = convs
        .iter()
        .cloned()
        .enumerate()
        .map(|(v, c)| (c, v))
        .collect();
    let mut agent = ctx
        .target
        .agent(&ctx.client, &ctx.agent_email, &ctx.agent_password)
        .await?;
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
    let receiver = tokio::spawn(async move {
        let mut got = vec![0usize; visitors];
        let (mut hist, mut delivered, mut gaps, mut failed) = (Hist::default(), 0u64, 0u64, false);
        let mut last = None;
        while delivered + gaps < expected as u64 {
            let f = match tokio::time::timeout_at(deadline, read_frame(&mut agent)).await {
                Ok(Ok(f)) => f,
                Ok(Err(_)) => {
                    failed = true;
                    break;
                }
                Err(_) => break,
            };
            let ServerFrame::Typing {
                conversation_id,
                side: Side::Visitor,
                typing,
                ..
            } = f
            else {
                continue;
            };
            let Some(&v) = of.get(&conversation_id.0) else {
                continue;
            };
            let k = got[v];
            got[v] += 1;
            if typing == k.is_multiple_of(2) {
                let now = Instant::now();
                hist.record(now.saturating_duration_since(sched.at(v, k)));
                delivered += 1;
                last = Some(now);
            } else {
                gaps += 1;
            }
        }
        (hist, delivered, gaps, failed, last)
    });
    let mut tasks = Vec::with_capacity(visitors);
    for (v, (ws, conv)) in sockets.into_iter().zip(convs).enumerate() {
        tasks.push(tokio::spawn(async move {
            let (mut tx, mut rx) = ws.split();
            // Drain what the server sends the visitor (answering pings) until the end.
            let drain = tokio::spawn(async move {
                while let Ok(Some(Ok(_))) = tokio::time::timeout_at(deadline, rx.next()).await {}
            });
            for k in 0..sched.count(v) {
                tokio::time::sleep_until(sched.at(v, k).into()).await;
                let f = json!({"type":"typing","conversation_id":conv,"typing":k.is_multiple_of(2),"preview":null});
                tx.send(Message::Text(f.to_string().into())).await?;
            }
            drain.abort();
            anyhow::Ok(())
        }));
    }
    let mut errors = 0;
    for t in tasks {
        if !matches!(t.await, Ok(Ok(()))) {
            errors += 1;
        }
    }
    let (hist, delivered, gaps, failed, last) = receiver.await?;
    let server = probe.finish();
    let mut out = Outcome {
        connections: visitors as u64 + 1,
        sent: expected as u64,
        delivered,
        errors: errors + u64::from(failed),
        gaps,
        elapsed_s: last
            .map_or(0.0, |l| {
                l.saturating_duration_since(sched.start).as_secs_f64()
            })
            .max(sched.duration.as_secs_f64()),
        hist,
        server,
        ..Outcome::default()
    };
    out.extra.insert("rate".into(), json!(rate));
    Ok(out)
}
