//! What a phase measured: the shared JSON object (`--json FILE`), the table on stdout, the
//! server's RSS and CPU over the measured window, and the merge of `--procs` shards.
//!
//! Latencies go into an [`hdrhistogram`] (the Rust port of Gil Tene's HdrHistogram, well kept
//! and widely used): microsecond values at 3 significant digits, so p99.9 is exact to 0.1 %
//! whatever the count, and shards merge losslessly (each child sends its histogram serialized).

use anyhow::Context;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// A latency histogram in microseconds.
pub struct Hist(pub Histogram<u64>);

impl Default for Hist {
    fn default() -> Self {
        Self(Histogram::new(3).expect("3 significant digits is valid"))
    }
}

impl Hist {
    pub fn record(&mut self, d: Duration) {
        // Auto-resizing: every value fits.
        let _ = self.0.record((d.as_micros() as u64).max(1));
    }

    fn ms(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            0.0
        } else {
            self.0.value_at_quantile(q) as f64 / 1000.0
        }
    }

    fn to_hex(&self) -> anyhow::Result<String> {
        let mut buf = Vec::new();
        V2Serializer::new()
            .serialize(&self.0, &mut buf)
            .map_err(|e| anyhow::anyhow!("serializing a histogram: {e:?}"))?;
        Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
    }

    fn from_hex(s: &str) -> anyhow::Result<Self> {
        let bytes = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2).context("odd hex")?, 16).context("hex"))
            .collect::<anyhow::Result<Vec<u8>>>()?;
        let h: Histogram<u64> = Deserializer::new()
            .deserialize(&mut &bytes[..])
            .map_err(|e| anyhow::anyhow!("reading a histogram: {e:?}"))?;
        Ok(Self(h))
    }
}

/// What a phase (or one shard of it) measured, before the percentiles are taken.
#[derive(Default)]
pub struct Outcome {
    pub connections: u64,
    pub sent: u64,
    pub delivered: u64,
    pub errors: u64,
    pub gaps: u64,
    /// The measured window: what `msgs_per_sec` divides by.
    pub elapsed_s: f64,
    pub back_s: Option<f64>,
    pub hist: Hist,
    pub server: ServerUse,
    /// Phase-specific figures (added to the JSON object as they are).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The shared JSON object (see the loadgen contract); `extra` is flattened into it.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Report {
    pub phase: String,
    pub connections: u64,
    pub sent: u64,
    pub delivered: u64,
    pub msgs_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub errors: u64,
    pub gaps: u64,
    pub elapsed_s: f64,
    pub server_rss_kb: Option<u64>,
    pub server_cpu_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_s: Option<f64>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Outcome {
    pub fn report(&self, phase: &str) -> Report {
        Report {
            phase: phase.to_owned(),
            connections: self.connections,
            sent: self.sent,
            delivered: self.delivered,
            msgs_per_sec: if self.elapsed_s > 0.0 {
                self.delivered as f64 / self.elapsed_s
            } else {
                0.0
            },
            p50_ms: self.hist.ms(0.5),
            p99_ms: self.hist.ms(0.99),
            p999_ms: self.hist.ms(0.999),
            errors: self.errors,
            gaps: self.gaps,
            elapsed_s: self.elapsed_s,
            server_rss_kb: self.server.rss_kb,
            server_cpu_pct: self.server.cpu_pct,
            back_s: self.back_s,
            extra: self.extra.clone(),
        }
    }

    /// One shard's result as a child prints it (one line of JSON on stdout).
    pub fn to_shard_line(&self, phase: &str) -> anyhow::Result<String> {
        Ok(
            serde_json::json!({"report": self.report(phase), "hist": self.hist.to_hex()?})
                .to_string(),
        )
    }

    pub fn from_shard_line(line: &str) -> anyhow::Result<Self> {
        #[derive(Deserialize)]
        struct Line {
            report: Report,
            hist: String,
        }
        let l: Line = serde_json::from_str(line).context("a shard's result")?;
        let r = l.report;
        Ok(Self {
            connections: r.connections,
            sent: r.sent,
            delivered: r.delivered,
            errors: r.errors,
            gaps: r.gaps,
            elapsed_s: r.elapsed_s,
            back_s: r.back_s,
            hist: Hist::from_hex(&l.hist)?,
            server: ServerUse {
                rss_kb: r.server_rss_kb,
                cpu_pct: r.server_cpu_pct,
            },
            extra: r.extra,
        })
    }

    /// Merges shards that ran at the same time: counts add up, the window is the longest one,
    /// histograms merge, the server's figures are the largest RSS and the mean CPU.
    pub fn merge(shards: Vec<Outcome>) -> anyhow::Result<Outcome> {
        let n = shards.len();
        let mut out = Outcome::default();
        let mut cpu = Vec::new();
        for s in shards {
            out.connections += s.connections;
            out.sent += s.sent;
            out.delivered += s.delivered;
            out.errors += s.errors;
            out.gaps += s.gaps;
            out.elapsed_s = out.elapsed_s.max(s.elapsed_s);
            out.back_s = match (out.back_s, s.back_s) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            out.hist
                .0
                .add(&s.hist.0)
                .map_err(|e| anyhow::anyhow!("merging histograms: {e:?}"))?;
            out.server.rss_kb = out.server.rss_kb.max(s.server.rss_kb);
            cpu.extend(s.server.cpu_pct);
            for (k, v) in s.extra {
                // Counts and rates add up; the server's figures and times are the largest.
                let sum = match (out.extra.get(&k).and_then(|x| x.as_f64()), v.as_f64()) {
                    (Some(a), Some(b)) if k.starts_with("server_") || k.ends_with("_s") => {
                        serde_json::json!(a.max(b))
                    }
                    (Some(a), Some(b)) => serde_json::json!(a + b),
                    _ => v,
                };
                out.extra.insert(k, sum);
            }
        }
        if !cpu.is_empty() {
            out.server.cpu_pct = Some(cpu.iter().sum::<f64>() / cpu.len() as f64);
        }
        out.extra.insert("procs".into(), serde_json::json!(n));
        Ok(out)
    }
}

impl Report {
    pub fn table(&self) -> String {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        let mut rows = vec![
            ("phase", self.phase.clone()),
            ("connections", self.connections.to_string()),
            ("sent", self.sent.to_string()),
            ("delivered", self.delivered.to_string()),
            ("msgs/s", format!("{:.1}", self.msgs_per_sec)),
            ("p50 ms", format!("{:.3}", self.p50_ms)),
            ("p99 ms", format!("{:.3}", self.p99_ms)),
            ("p99.9 ms", format!("{:.3}", self.p999_ms)),
            ("errors", self.errors.to_string()),
            ("gaps", self.gaps.to_string()),
            ("elapsed s", format!("{:.3}", self.elapsed_s)),
            (
                "server RSS KB",
                opt(self.server_rss_kb.map(|v| v.to_string())),
            ),
            (
                "server CPU %",
                opt(self.server_cpu_pct.map(|v| format!("{v:.1}"))),
            ),
        ];
        if let Some(b) = self.back_s {
            rows.push(("back s", format!("{b:.3}")));
        }
        let mut out = String::new();
        for (k, v) in rows {
            out.push_str(&format!("{k:<14} {v}\n"));
        }
        for (k, v) in &self.extra {
            out.push_str(&format!("{k:<14} {v}\n"));
        }
        out
    }
}

/// The server's RSS at the end of the window and its CPU over it (% of one core).
#[derive(Default, Clone, Copy)]
pub struct ServerUse {
    pub rss_kb: Option<u64>,
    pub cpu_pct: Option<f64>,
}

/// Reads the server's CPU time when the measured window opens; [`Probe::finish`] closes it.
pub struct Probe {
    pid: Option<u32>,
    ticks: Option<u64>,
    at: Instant,
}

impl Probe {
    pub fn start(pid: Option<u32>) -> Self {
        Self {
            pid,
            ticks: pid.and_then(cpu_ticks),
            at: Instant::now(),
        }
    }

    pub fn finish(&self) -> ServerUse {
        let secs = self.at.elapsed().as_secs_f64();
        let cpu_pct = match (self.ticks, self.pid.and_then(cpu_ticks)) {
            (Some(a), Some(b)) if secs > 0.0 => {
                Some(b.saturating_sub(a) as f64 / clock_ticks_per_sec() / secs * 100.0)
            }
            _ => None,
        };
        ServerUse {
            rss_kb: rss_kb(self.pid),
            cpu_pct,
        }
    }
}

pub fn rss_kb(pid: Option<u32>) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// utime + stime of the process, in clock ticks (`/proc/PID/stat` fields 14 and 15).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field 14 is index 11.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_merge_counts_and_histograms() {
        let mut a = Outcome {
            sent: 10,
            delivered: 9,
            elapsed_s: 2.0,
            ..Outcome::default()
        };
        for ms in 1..=9 {
            a.hist.record(Duration::from_millis(ms));
        }
        let mut b = Outcome {
            sent: 5,
            delivered: 5,
            gaps: 1,
            elapsed_s: 2.5,
            ..Outcome::default()
        };
        for _ in 0..5 {
            b.hist.record(Duration::from_millis(100));
        }
        let a = Outcome::from_shard_line(&a.to_shard_line("chat").unwrap()).unwrap();
        let b = Outcome::from_shard_line(&b.to_shard_line("chat").unwrap()).unwrap();
        let m = Outcome::merge(vec![a, b]).unwrap();
        let r = m.report("chat");
        assert_eq!((r.sent, r.delivered, r.gaps), (15, 14, 1));
        assert_eq!(r.elapsed_s, 2.5);
        assert!((r.msgs_per_sec - 14.0 / 2.5).abs() < 1e-9);
        assert!((r.p50_ms - 7.0).abs() < 0.01, "{}", r.p50_ms);
        assert!((r.p99_ms - 100.0).abs() < 0.1, "{}", r.p99_ms);
    }

    #[test]
    fn own_cpu_time_is_read() {
        let pid = std::process::id();
        let p = Probe::start(Some(pid));
        let t = Instant::now();
        let mut x = 0u64;
        while t.elapsed() < Duration::from_millis(300) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        let u = p.finish();
        assert!(u.rss_kb.unwrap() > 0);
        assert!(u.cpu_pct.unwrap() > 0.0, "{:?}", u.cpu_pct);
        // The same CPU time as the kernel's own account (getrusage), to a few ticks.
        let ticks = cpu_ticks(pid).unwrap() as f64 / clock_ticks_per_sec();
        // SAFETY: getrusage writes into the struct given.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) }, 0);
        let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
        let rusage = secs(ru.ru_utime) + secs(ru.ru_stime);
        assert!(rusage > 0.05, "{rusage}");
        assert!((ticks - rusage).abs() < 0.05, "{ticks} vs {rusage}");
    }
}
