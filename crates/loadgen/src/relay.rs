//! `relay`: the minimal relay mode (the shared contract in the bench notes): per room one
//! "visitor" socket sends `{"n":<counter>,"t":<ns since the loadgen started>}` on the open-loop
//! schedule of `chat`, and one "agent" socket in the same room receives them. Latency is the
//! receipt time minus the scheduled time; a frame counts once it arrives with `n` = previous
//! `n` + 1 (anything else is a gap). Used to compare servers on equal terms without Frontdesk's protocol.

use crate::Ctx;
use crate::chat::Schedule;
use crate::report::{Hist, Outcome};
use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 100)]
    pub rooms: usize,
    /// Frames per second, in total; 0 opens the sockets and holds them for `--duration`.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds to wait, after the last send, for frames still on their way.
    #[arg(long, default_value_t = 5.0)]
    pub drain: f64,
}

#[derive(Default)]
struct Room {
    hist: Hist,
    delivered: u64,
    gaps: u64,
    failed: bool,
    last: Option<Instant>,
}

pub async fn run(ctx: &Ctx, a: Args) -> anyhow::Result<Outcome> {
    let base = Instant::now();
    let rooms = ctx.share(a.rooms);
    let rate = ctx.rate_share(a.rate, a.rooms);
    let sem = Arc::new(tokio::sync::Semaphore::new(256));
    let mut opening = Vec::with_capacity(rooms);
    for r in 0..rooms {
        let (target, sem) = (ctx.target.clone(), sem.clone());
        let path = format!("/relay?room=lg{}-{r}", ctx.shard);
        opening.push(tokio::spawn(async move {
            let _p = sem.acquire_owned().await?;
            // The receiver first, so that it is in the room before the first frame.
            let agent = target.socket(2 * r, &path, &[]).await?;
            let visitor = target.socket(2 * r + 1, &path, &[]).await?;
            anyhow::Ok((visitor, agent))
        }));
    }
    let mut pairs = Vec::with_capacity(rooms);
    for o in opening {
        pairs.push(o.await?.context("opening a relay room")?);
    }
    let probe = ctx.ready().await?;
    if a.rate == 0.0 {
        // Rate 0: the sockets are only held open (the relays' idle cost).
        tokio::time::sleep(Duration::from_secs_f64(a.duration)).await;
        let mut out = Outcome {
            connections: 2 * rooms as u64,
            elapsed_s: a.duration,
            ..Outcome::default()
        };
        out.server = probe.finish();
        drop(pairs);
        return Ok(out);
    }
    // A little time for the relay to have registered the last sockets in their rooms.
    let sched = Schedule::new(
        Instant::now() + Duration::from_millis(100),
        rooms,
        rate,
        a.duration,
    )?;
    let deadline = tokio::time::Instant::from_std(
        sched.start + sched.duration + Duration::from_secs_f64(a.drain),
    );
    let mut senders = Vec::with_capacity(rooms);
    let mut receivers = Vec::with_capacity(rooms);
    for (r, (mut visitor, mut agent)) in pairs.into_iter().enumerate() {
        let n = sched.count(r);
        senders.push(tokio::spawn(async move {
            for k in 0..n {
                let at = sched.at(r, k);
                tokio::time::sleep_until(at.into()).await;
                let t = at.duration_since(base).as_nanos() as u64;
                let f = json!({"n": k + 1, "t": t}).to_string();
                visitor.send(Message::Text(f.into())).await?;
            }
            // Keep the sender in the room (and reading) until the receiver is done.
            while let Ok(Some(Ok(_))) = tokio::time::timeout_at(deadline, visitor.next()).await {}
            anyhow::Ok(())
        }));
        receivers.push(tokio::spawn(async move {
            let mut room = Room::default();
            let mut prev = 0u64;
            while prev < n as u64 {
                let text = match tokio::time::timeout_at(deadline, agent.next()).await {
                    Ok(Some(Ok(Message::Text(t)))) => t,
                    Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => {
                        room.failed = true;
                        break;
                    }
                    Ok(Some(Ok(_))) => continue,
                    Err(_) => break,
                };
                let now = Instant::now();
                let v: serde_json::Value = match serde_json::from_str(&text) {
                    Ok(v) => v,
                    Err(_) => {
                        room.gaps += 1;
                        continue;
                    }
                };
                let (Some(got), Some(t)) = (v["n"].as_u64(), v["t"].as_u64()) else {
                    room.gaps += 1;
                    continue;
                };
                if got == prev + 1 {
                    room.delivered += 1;
                    room.hist
                        .record(now.saturating_duration_since(base + Duration::from_nanos(t)));
                    room.last = Some(now);
                } else {
                    room.gaps += 1;
                }
                prev = prev.max(got);
            }
            room
        }));
    }
    let mut out = Outcome {
        connections: 2 * rooms as u64,
        sent: (0..rooms).map(|r| sched.count(r) as u64).sum(),
        ..Outcome::default()
    };
    let mut last = None;
    for r in receivers {
        let room = r.await?;
        out.delivered += room.delivered;
        out.gaps += room.gaps;
        out.errors += u64::from(room.failed);
        out.hist
            .0
            .add(&room.hist.0)
            .map_err(|e| anyhow::anyhow!("merging histograms: {e:?}"))?;
        last = last.max(room.last);
    }
    out.server = probe.finish();
    for s in senders {
        s.abort();
        if let Ok(Err(_)) = s.await {
            out.errors += 1;
        }
    }
    out.elapsed_s = last
        .map_or(0.0, |l| {
            l.saturating_duration_since(sched.start).as_secs_f64()
        })
        .max(sched.duration.as_secs_f64());
    out.extra.insert("rate".into(), json!(rate));
    Ok(out)
}
