//! Rate limits: new connections per IP, sends per visitor. Keyed token buckets (governor) that
//! forget idle keys every minute, so they cannot grow without bound.

use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// A keyed limit; `None` inside means "no limit".
#[derive(Clone)]
pub struct Limit<K: Hash + Eq + Clone>(Option<Arc<Keyed<K>>>);

impl<K: Hash + Eq + Clone> Limit<K> {
    pub fn new(quota: Option<Quota>) -> Self {
        Self(quota.map(|q| Arc::new(RateLimiter::keyed(q))))
    }
    /// Whether `key` may go ahead now.
    pub fn check(&self, key: &K) -> bool {
        self.0.as_ref().is_none_or(|l| l.check_key(key).is_ok())
    }
    pub fn forget_idle(&self) {
        if let Some(l) = &self.0 {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

#[derive(Clone)]
pub struct Limits {
    pub connect_per_ip: Limit<IpAddr>,
    pub sends_per_visitor: Limit<String>,
}

impl Limits {
    pub fn new(cfg: &crate::Config) -> Self {
        let per_minute = NonZeroU32::new(cfg.connections_per_minute_per_ip).map(|n| {
            Quota::per_minute(n)
                .allow_burst(NonZeroU32::new(cfg.connection_burst_per_ip).unwrap_or(n))
        });
        let per_second = NonZeroU32::new(cfg.visitor_sends_per_second).map(|n| {
            Quota::per_second(n).allow_burst(NonZeroU32::new(cfg.visitor_send_burst).unwrap_or(n))
        });
        Self {
            connect_per_ip: Limit::new(per_minute),
            sends_per_visitor: Limit::new(per_second),
        }
    }

    /// Forgets idle keys once a minute, until the runtime stops.
    pub fn spawn_janitor(&self) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut t = tokio::time::interval(Duration::from_secs(60));
            loop {
                t.tick().await;
                me.connect_per_ip.forget_idle();
                me.sends_per_visitor.forget_idle();
            }
        });
    }
}
