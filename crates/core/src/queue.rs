//! The waiting visitor's view of the queue: their position, an honest estimate of the wait
//! computed from live service rates, and when to offer offline mode.
//!
//! The estimate never makes a number up: with nobody online or no handle times to go on it is
//! `None`, and the widget shows the position alone.

use crate::Millis;
use crate::ids::{AgentId, ConversationId};
use crate::routing::{AgentSnapshot, Presence, Team, Waiting, service_order};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The 1-based position of `conversation` among the conversations waiting for the same team,
/// in the order routing serves them ([`service_order`]). `None` if it is not waiting.
pub fn position(queue: &[Waiting], conversation: &ConversationId) -> Option<usize> {
    let order = service_order(queue);
    let me = order.iter().find(|w| &w.conversation == conversation)?;
    order
        .iter()
        .filter(|w| w.team == me.team)
        .position(|w| &w.conversation == conversation)
        .map(|i| i + 1)
}

/// How fast a team serves conversations right now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStats {
    /// Handle times (assignment to resolution, ms) of the team's recently completed chats.
    /// The caller picks the window, e.g. the last 50 chats or the last hour.
    pub recent_handle_ms: Vec<i64>,
    /// Chats the team can hold at once: the sum of its online agents' limits.
    pub capacity: u32,
    /// Chats its online agents hold now, each counted up to that agent's limit.
    pub busy: u32,
}

impl ServiceStats {
    /// The capacity and load of `team`'s online members, with the given handle times.
    pub fn for_team(team: &Team, agents: &[AgentSnapshot], recent_handle_ms: Vec<i64>) -> Self {
        let members: BTreeSet<&AgentId> = team.members.iter().collect();
        let mut seen = BTreeSet::new();
        let (mut capacity, mut busy) = (0u32, 0u32);
        for a in agents {
            if members.contains(&a.id) && a.presence == Presence::Online && seen.insert(&a.id) {
                capacity = capacity.saturating_add(a.limit);
                busy = busy.saturating_add(a.active.min(a.limit));
            }
        }
        Self {
            recent_handle_ms,
            capacity,
            busy,
        }
    }
}

/// The estimated wait (ms) of the conversation at `position` (1-based) in its team's queue.
///
/// Model: the team's `capacity` slots each finish a chat every `mean handle time` on average,
/// so together they free a slot every `mean / capacity`. A conversation that a free slot can
/// take now waits 0; the k-th conversation beyond the free slots waits for k completions, about
/// `k × mean / capacity`. For exponential handle times (an M/M/c queue) this is the exact
/// expected wait; `queue.rs`'s simulation test checks it against a simulated queue.
///
/// `None` when nobody is online (`capacity` 0) or there is no handle time to go on (no positive
/// entry in `recent_handle_ms`): there is no honest number to show then.
pub fn estimate_wait_ms(position: usize, stats: &ServiceStats) -> Option<i64> {
    if stats.capacity == 0 {
        return None;
    }
    let handles: Vec<i128> = stats
        .recent_handle_ms
        .iter()
        .filter(|&&h| h > 0)
        .map(|&h| i128::from(h))
        .collect();
    if handles.is_empty() {
        return None;
    }
    let mean = handles.iter().sum::<i128>() / handles.len() as i128;
    let free = stats.capacity.saturating_sub(stats.busy) as usize;
    let ahead = position.saturating_sub(free) as i128;
    let wait = ahead * mean / i128::from(stats.capacity);
    Some(i64::try_from(wait).unwrap_or(i64::MAX))
}

/// Whether a visitor who has waited `waited_ms` should be offered offline mode (leave a
/// message, answered by email) under the site's setting `offer_after_ms`.
pub fn offer_offline(waited_ms: Millis, offer_after_ms: Millis) -> bool {
    waited_ms >= offer_after_ms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{Priority, Strategy, TeamId};
    use std::collections::VecDeque;

    fn waiting(c: &str, team: &str, priority: Priority, at: Millis) -> Waiting {
        Waiting {
            conversation: ConversationId(c.into()),
            team: TeamId(team.into()),
            priority,
            required_skill: None,
            language: None,
            enqueued_at: at,
        }
    }

    #[test]
    fn position_counts_within_the_team_in_service_order() {
        let queue = [
            waiting("a", "t", Priority::Normal, 10),
            waiting("b", "u", Priority::Normal, 5),
            waiting("c", "t", Priority::Urgent, 20),
            waiting("d", "t", Priority::Normal, 30),
        ];
        let pos = |c: &str| position(&queue, &ConversationId(c.into()));
        assert_eq!(pos("c"), Some(1));
        assert_eq!(pos("a"), Some(2));
        assert_eq!(pos("d"), Some(3));
        assert_eq!(pos("b"), Some(1));
        assert_eq!(pos("zzz"), None);
    }

    fn stats(handles: &[i64], capacity: u32, busy: u32) -> ServiceStats {
        ServiceStats {
            recent_handle_ms: handles.to_vec(),
            capacity,
            busy,
        }
    }

    #[test]
    fn estimate_is_none_without_agents_online_or_without_history() {
        assert_eq!(estimate_wait_ms(1, &stats(&[60_000], 0, 0)), None);
        assert_eq!(estimate_wait_ms(1, &stats(&[], 3, 3)), None);
        assert_eq!(estimate_wait_ms(1, &stats(&[0, -5], 3, 3)), None);
    }

    #[test]
    fn estimate_is_zero_while_slots_are_free_then_grows_with_position() {
        // Mean handle 6 min, 3 slots: a slot frees every 2 minutes.
        let s = stats(&[300_000, 420_000], 3, 2);
        assert_eq!(estimate_wait_ms(1, &s), Some(0));
        assert_eq!(estimate_wait_ms(2, &s), Some(120_000));
        assert_eq!(estimate_wait_ms(4, &s), Some(360_000));
        let full = stats(&[360_000], 3, 3);
        assert_eq!(estimate_wait_ms(1, &full), Some(120_000));
        assert_eq!(estimate_wait_ms(10, &full), Some(1_200_000));
    }

    #[test]
    fn service_stats_count_online_members_only_up_to_their_limits() {
        let agent = |id: &str, presence, active, limit| AgentSnapshot {
            id: AgentId(id.into()),
            presence,
            active,
            limit,
            skills: Default::default(),
            languages: Default::default(),
            last_assigned_at: None,
        };
        let agents = [
            agent("a", Presence::Online, 1, 3),
            agent("b", Presence::Online, 5, 2), // over its limit: counts as full, not more
            agent("c", Presence::Away, 0, 3),
            agent("d", Presence::Online, 0, 3), // not a member
        ];
        let team = Team {
            id: TeamId("t".into()),
            strategy: Strategy::LeastBusy,
            members: ["a", "b", "c"].map(|m| AgentId(m.into())).to_vec(),
            overflow: None,
        };
        let s = ServiceStats::for_team(&team, &agents, vec![1]);
        assert_eq!((s.capacity, s.busy), (5, 3));
    }

    #[test]
    fn offline_mode_is_offered_once_the_wait_reaches_the_setting() {
        assert!(!offer_offline(119_999, 120_000));
        assert!(offer_offline(120_000, 120_000));
    }

    /// xorshift64*: a small deterministic generator, so the simulation needs no crate and no
    /// entropy.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        /// Uniform in (0, 1].
        fn unit(&mut self) -> f64 {
            ((self.next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
        }
        fn exponential(&mut self, mean: f64) -> f64 {
            -self.unit().ln() * mean
        }
    }

    /// The mean estimated and the mean actual wait of the visitors who had to wait, in a
    /// simulated first-come-first-served queue: `slots` chat slots, exponential handle times
    /// with mean `handle_ms`, Poisson arrivals at `load` × the service rate. Each estimate is
    /// what the visitor would have seen on arrival, from the last 50 completed handle times.
    fn simulate(seed: u64, slots: u32, handle_ms: f64, load: f64, visitors: usize) -> (f64, f64) {
        let mut rng = Rng(seed);
        let arrival_mean = handle_ms / (f64::from(slots) * load);
        let mut recent: VecDeque<i64> = VecDeque::new();
        let mut in_service: Vec<(f64, f64)> = Vec::new(); // (ends at, handle time)
        let mut line: VecDeque<(f64, i64)> = VecDeque::new(); // (arrived at, estimate)
        let mut next_arrival = rng.exponential(arrival_mean);
        let (mut arrived, mut sum_estimate, mut sum_actual, mut waited) = (0, 0.0, 0.0, 0);
        let warm_up = 500;
        while arrived < visitors || !line.is_empty() {
            let next_end = in_service
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.0.total_cmp(&b.1.0));
            let end_first = next_end.is_some_and(|(_, e)| e.0 <= next_arrival);
            if end_first || arrived >= visitors {
                let Some((i, &(t, handle))) = next_end else {
                    break;
                };
                in_service.swap_remove(i);
                recent.push_back(handle as i64);
                if recent.len() > 50 {
                    recent.pop_front();
                }
                if let Some((came, estimate)) = line.pop_front() {
                    if estimate >= 0 {
                        sum_estimate += estimate as f64;
                        sum_actual += t - came;
                        waited += 1;
                    }
                    let h = rng.exponential(handle_ms);
                    in_service.push((t + h, h));
                }
            } else {
                let t = next_arrival;
                arrived += 1;
                next_arrival = t + rng.exponential(arrival_mean);
                if in_service.len() < slots as usize {
                    let h = rng.exponential(handle_ms);
                    in_service.push((t + h, h));
                    continue;
                }
                let stats = ServiceStats {
                    recent_handle_ms: recent.iter().copied().collect(),
                    capacity: slots,
                    busy: in_service.len() as u32,
                };
                let estimate = estimate_wait_ms(line.len() + 1, &stats);
                // Visitors in the warm-up, or with no estimate, are simulated but not scored.
                let scored = if arrived > warm_up { estimate } else { None };
                line.push_back((t, scored.unwrap_or(-1)));
            }
        }
        (sum_estimate / waited as f64, sum_actual / waited as f64)
    }

    #[test]
    fn estimated_wait_is_within_15_percent_of_a_simulated_queue_at_several_loads() {
        // 2 agents × 3 chats and 4 × 3, handle time 6 minutes, from quiet to nearly saturated.
        for (seed, slots, load) in [
            (0x9E37_79B9_7F4A_7C15, 6, 0.7),
            (0xD1B5_4A32_D192_ED03, 6, 0.9),
            (0x94D0_49BB_1331_11EB, 12, 0.8),
            (0xBF58_476D_1CE4_E5B9, 12, 0.95),
        ] {
            let (estimate, actual) = simulate(seed, slots, 360_000.0, load, 20_000);
            let error = (estimate - actual) / actual;
            assert!(
                error.abs() <= 0.15,
                "{slots} slots at load {load}: estimated {estimate:.0} ms, waited {actual:.0} ms"
            );
        }
    }
}
