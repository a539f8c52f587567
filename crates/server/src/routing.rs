//! The routing loop: the adapter between the pure routing engine (`frontdesk_core::routing`,
//! `queue`, `hours`) and the store.
//!
//! Each pass reads a snapshot of an organization (teams, agents, the live queue), asks the
//! engine for a plan, and applies it through the writer, where every assignment is checked
//! again under the conversation's and the agent's row locks. So passes may run on several
//! threads or nodes at once: a stale plan changes nothing, it never assigns twice or past a
//! limit. A pass runs when something routing cares about changes, and on a tick (overflow
//! timers, queue estimates). After each pass the node tells its own waiting visitors their
//! position and estimated wait, when those changed.
//!
//! Presence: a node renews a lease (`online_until`) for the agents connected to it. An agent
//! whose lease ran out longer than `agent_away_grace_secs` ago is set away, and their open
//! chats return to their teams, as each team's `away_action` says.

use crate::AppState;
use crate::bus::Event;
use frontdesk_core::conversation::AgentRef;
use frontdesk_core::protocol::{AgentStatus, Role, ServerFrame};
use frontdesk_core::queue::{ServiceStats, estimate_wait_ms, offer_offline, position};
use frontdesk_core::routing::{AgentSnapshot, Presence, Strategy, Team, TeamId, Waiting, route};
use frontdesk_core::teams::{AgentLoad, AwayAction, MonitorView, QueueStatus, TeamLoad};
use frontdesk_core::{Action, ContactId, ConversationId, Millis, OrganizationId};
use frontdesk_store::{RoutingSnapshot, Scope, StoreError, WriteOp, now_ms};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;

/// How long a presence lease lasts, and how often it is renewed.
const LEASE_MS: i64 = 30_000;
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// The pseudo-team of conversations without a team: a manual pool of every agent.
const NO_TEAM: &str = "";

type Told = HashMap<OrganizationId, HashMap<ConversationId, (ContactId, QueueStatus)>>;

#[derive(Default)]
pub struct Router {
    wake: Notify,
    /// The last queue status told to each waiting conversation's visitor, per organization.
    told: Mutex<Told>,
    dirty: Mutex<BTreeSet<OrganizationId>>,
}

impl Router {
    /// Asks for a routing pass over `org` soon.
    pub fn poke(&self, org: &OrganizationId) {
        self.dirty
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(org.clone());
        self.wake.notify_one();
    }

    /// The queue status last computed for a conversation, to greet a visitor who connects.
    pub fn status_of(&self, conversation: &ConversationId) -> Option<QueueStatus> {
        self.told
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .find_map(|m| m.get(conversation))
            .map(|(_, s)| s.clone())
    }
}

/// Runs the routing loop until shutdown.
pub fn spawn(s: AppState) {
    let tick = Duration::from_millis(s.config.routing_tick_ms.max(10));
    tokio::spawn(async move {
        let mut stop = s.shutdown.clone();
        let mut last_renew = tokio::time::Instant::now() - RENEW_EVERY;
        loop {
            tokio::select! {
                _ = s.router.wake.notified() => {}
                _ = tokio::time::sleep(tick) => {}
                _ = stop.wait_for(|v| *v) => break,
            }
            if last_renew.elapsed() >= RENEW_EVERY {
                last_renew = tokio::time::Instant::now();
                renew(&s).await;
            }
            if let Err(e) = sweep(&s).await {
                tracing::warn!(error = %e, "presence sweep failed");
            }
            let mut orgs: BTreeSet<OrganizationId> =
                std::mem::take(&mut *s.router.dirty.lock().unwrap_or_else(|e| e.into_inner()));
            match s.store.organizations_to_route().await {
                Ok(list) => orgs.extend(list),
                Err(e) => tracing::warn!(error = %e, "routing: cannot list organizations"),
            }
            for org in &orgs {
                if let Err(e) = pass(&s, org).await {
                    tracing::warn!(error = %e, %org, "routing pass failed; will retry");
                }
            }
            // Organizations with nothing waiting: their visitors are no longer in a queue.
            s.router
                .told
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|org, _| orgs.contains(org));
        }
    });
}

/// Renews the presence lease of every agent connected here.
async fn renew(s: &AppState) {
    let agents = s.hub.connected_agents();
    if agents.is_empty() {
        return;
    }
    match s.store.renew_presence(&agents, now_ms() + LEASE_MS).await {
        Ok(back) => {
            for a in back {
                if let Ok(Some(v)) = s.store.agent(&a).await {
                    s.bus.publish(Event::AgentStatus {
                        org: v.organization_id.clone(),
                        agent: a,
                        status: AgentStatus::Online,
                    });
                    s.router.poke(&v.organization_id);
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot renew agents' presence"),
    }
}

/// An agent connected (or reconnected): start their lease now, so routing sees them at once.
pub async fn agent_connected(s: &AppState, org: &OrganizationId, agent: &frontdesk_core::AgentId) {
    match s
        .store
        .renew_presence(std::slice::from_ref(agent), now_ms() + LEASE_MS)
        .await
    {
        Ok(back) if !back.is_empty() => s.bus.publish(Event::AgentStatus {
            org: org.clone(),
            agent: agent.clone(),
            status: AgentStatus::Online,
        }),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot record the agent's presence"),
    }
    s.router.poke(org);
}

/// An agent's socket closed: if it was their last one here, their lease ends now and the
/// grace period starts.
pub async fn agent_disconnected(
    s: &AppState,
    org: &OrganizationId,
    agent: &frontdesk_core::AgentId,
) {
    if s.hub.agent_sockets(org, agent) == 0 {
        if let Err(e) = s.store.end_presence(agent, now_ms()).await {
            tracing::warn!(error = %e, "cannot end the agent's presence");
        }
        s.router.poke(org);
    }
}

/// Sets away the agents gone longer than the grace period and returns their chats.
async fn sweep(s: &AppState) -> Result<(), StoreError> {
    let cutoff = now_ms() - (s.config.agent_away_grace_secs as i64) * 1000;
    for (org, agent, name) in s.store.sweep_gone_agents(cutoff).await? {
        tracing::info!(%agent, "agent gone past the grace period; set away");
        s.bus.publish(Event::AgentStatus {
            org: org.clone(),
            agent: agent.clone(),
            status: AgentStatus::Away,
        });
        release(s, &org, &AgentRef { id: agent, name }, false).await?;
        s.router.poke(&org);
    }
    Ok(())
}

/// Returns an agent's open chats to their teams: those whose team says `return`, or all of
/// them with `all` (the agent asked to hand them back).
pub async fn release(
    s: &AppState,
    org: &OrganizationId,
    agent: &AgentRef,
    all: bool,
) -> Result<usize, StoreError> {
    let mut n = 0;
    for (conv, action) in s.store.held_conversations(&agent.id).await? {
        if !all && action == AwayAction::Keep {
            continue;
        }
        let r = s
            .store
            .write(WriteOp::Act {
                scope: Scope::Organization(org.clone()),
                conversation_id: conv,
                action: Action::Unassign { by: agent.clone() },
                actor: agent.id.clone(),
                role: Role::Admin,
            })
            .await;
        match r {
            Ok(_) => n += 1,
            Err(StoreError::Transition(_)) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The engine's view of a snapshot: teams (a team outside its hours has no members, so it
/// takes nothing and can overflow), agents, and the live queue.
fn engine_input(
    snap: &RoutingSnapshot,
    now: Millis,
) -> (Vec<Team>, Vec<AgentSnapshot>, Vec<Waiting>) {
    let mut teams: Vec<Team> = snap
        .teams
        .iter()
        .map(|t| Team {
            id: t.id.clone(),
            strategy: t.strategy,
            members: if t.hours.as_ref().is_none_or(|h| h.is_open(now)) {
                t.members.clone()
            } else {
                Vec::new()
            },
            overflow: t.overflow.clone(),
        })
        .collect();
    teams.push(Team {
        id: TeamId(NO_TEAM.into()),
        strategy: Strategy::Manual,
        members: snap.agents.iter().map(|a| a.id.clone()).collect(),
        overflow: None,
    });
    let agents = snap
        .agents
        .iter()
        .map(|a| AgentSnapshot {
            id: a.id.clone(),
            presence: Presence::of(a.status, a.connected),
            active: a.active,
            limit: a.max_chats,
            skills: a.skills.iter().cloned().collect(),
            languages: a.languages.iter().cloned().collect(),
            last_assigned_at: a.last_assigned_at,
        })
        .collect();
    let queue = snap
        .waiting
        .iter()
        .map(|w| Waiting {
            conversation: w.id.clone(),
            team: w.team_id.clone().unwrap_or_else(|| TeamId(NO_TEAM.into())),
            priority: w.priority,
            required_skill: w.required_skill.clone(),
            language: w.language.clone(),
            enqueued_at: w.enqueued_at,
        })
        .collect();
    (teams, agents, queue)
}

/// One routing pass over an organization.
async fn pass(s: &AppState, org: &OrganizationId) -> Result<(), StoreError> {
    let now = now_ms();
    let snap = s.store.routing_snapshot(org, now, midnight(now)).await?;
    if snap.waiting.is_empty() {
        s.router
            .told
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(org);
        return Ok(());
    }
    let (teams, mut agents, queue) = engine_input(&snap, now);
    let plan = route(now, &teams, &agents, &queue);
    let team_of: HashMap<&ConversationId, &TeamId> =
        queue.iter().map(|w| (&w.conversation, &w.team)).collect();
    let members: HashMap<&TeamId, &Vec<frontdesk_core::AgentId>> =
        teams.iter().map(|t| (&t.id, &t.members)).collect();
    let names: HashMap<&frontdesk_core::AgentId, &str> = snap
        .agents
        .iter()
        .map(|a| (&a.id, a.name.as_str()))
        .collect();
    let team_names: HashMap<&TeamId, &str> = snap
        .teams
        .iter()
        .map(|t| (&t.id, t.name.as_str()))
        .collect();
    let overflow_of: HashMap<&TeamId, &TeamId> = snap
        .teams
        .iter()
        .filter_map(|t| t.overflow.as_ref().map(|o| (&t.id, &o.to)))
        .collect();

    let mut moved: HashMap<ConversationId, TeamId> = HashMap::new();
    for (conv, to) in &plan.overflows {
        let Some(from) = team_of.get(conv) else {
            continue;
        };
        let done = s
            .store
            .write(WriteOp::MoveTeam {
                organization_id: org.clone(),
                conversation_id: conv.clone(),
                from: (*from).clone(),
                to: to.clone(),
                to_name: team_names.get(to).copied().unwrap_or("another team").into(),
            })
            .await?;
        if done.changed {
            moved.insert(conv.clone(), to.clone());
        }
    }
    // The assignments go to the writer together, so they share its commits; each is checked
    // under its own locks, so their order does not matter.
    let (names, team_names) = (&names, &team_names);
    let results = futures_util::future::join_all(plan.assignments.iter().map(|(conv, agent)| {
        let team = team_of.get(conv).map(|t| (*t).clone());
        let backup = team
            .as_ref()
            .filter(|t| !members.get(t).is_some_and(|m| m.contains(agent)))
            .and_then(|t| overflow_of.get(t))
            .map(|to| (*to).clone());
        async move {
            let Some(mut team) = team else {
                return Ok(None);
            };
            // Served by the backup team's agent: move it there first, so its stats are right.
            if let Some(to) = backup {
                let done = s
                    .store
                    .write(WriteOp::MoveTeam {
                        organization_id: org.clone(),
                        conversation_id: conv.clone(),
                        from: team.clone(),
                        to: to.clone(),
                        to_name: team_names
                            .get(&to)
                            .copied()
                            .unwrap_or("another team")
                            .into(),
                    })
                    .await?;
                if !done.changed {
                    return Ok(None);
                }
                team = to;
            }
            let done = s
                .store
                .write(WriteOp::Route {
                    organization_id: org.clone(),
                    conversation_id: conv.clone(),
                    team: (team.0 != NO_TEAM).then_some(team),
                    agent: AgentRef {
                        id: agent.clone(),
                        name: names.get(agent).copied().unwrap_or("An agent").into(),
                    },
                })
                .await?;
            Ok::<_, StoreError>(done.changed.then(|| (conv.clone(), agent.clone())))
        }
    }))
    .await;
    let mut assigned: BTreeSet<ConversationId> = BTreeSet::new();
    for r in results {
        if let Some((conv, agent)) = r? {
            assigned.insert(conv);
            if let Some(a) = agents.iter_mut().find(|a| a.id == agent) {
                a.active += 1;
            }
        }
    }

    // Tell the visitors still waiting where they stand.
    let remaining: Vec<Waiting> = queue
        .iter()
        .filter(|w| !assigned.contains(&w.conversation))
        .map(|w| match moved.get(&w.conversation) {
            Some(t) => Waiting {
                team: t.clone(),
                enqueued_at: now,
                ..w.clone()
            },
            None => w.clone(),
        })
        .collect();
    let team_by_id: HashMap<&TeamId, &Team> = teams.iter().map(|t| (&t.id, t)).collect();
    let rows: HashMap<&ConversationId, &frontdesk_store::WaitingRow> =
        snap.waiting.iter().map(|w| (&w.id, w)).collect();
    let mut statuses = Vec::new();
    for w in &remaining {
        let Some(pos) = position(&remaining, &w.conversation) else {
            continue;
        };
        let Some(row) = rows.get(&w.conversation) else {
            continue;
        };
        let estimate = team_by_id.get(&w.team).and_then(|t| {
            let stats = ServiceStats::for_team(
                t,
                &agents,
                snap.handle_times.get(&w.team).cloned().unwrap_or_default(),
            );
            estimate_wait_ms(pos, &stats)
        });
        let offer_after = snap
            .sites
            .get(&row.website_id)
            .map_or(120, |r| r.offer_offline_after_secs) as i64
            * 1000;
        // The wait counts from when the visitor started waiting, across overflows.
        let started = row.enqueued_at.min(w.enqueued_at);
        statuses.push((
            row.contact_id.clone(),
            QueueStatus {
                conversation_id: w.conversation.clone(),
                position: pos as u32,
                estimated_wait_ms: estimate,
                offer_offline: offer_offline(now - started, offer_after),
            },
        ));
    }
    let mut told = s.router.told.lock().unwrap_or_else(|e| e.into_inner());
    let old = told.remove(org).unwrap_or_default();
    let mut new = HashMap::with_capacity(statuses.len());
    for (contact, st) in statuses {
        if old.get(&st.conversation_id).map(|(_, o)| o) != Some(&st) {
            s.hub
                .send_to_visitor(&contact, &ServerFrame::Queue { status: st.clone() });
        }
        new.insert(st.conversation_id.clone(), (contact, st));
    }
    told.insert(org.clone(), new);
    Ok(())
}

/// Local midnight in UTC for "missed today".
fn midnight(now: Millis) -> Millis {
    now - now.rem_euclid(86_400_000)
}

/// The live queue monitor of an organization.
pub async fn monitor(s: &AppState, org: &OrganizationId) -> Result<MonitorView, StoreError> {
    let now = now_ms();
    let snap = s.store.routing_snapshot(org, now, midnight(now)).await?;
    let (teams, agents, queue) = engine_input(&snap, now);
    let wait_of = |w: &Waiting| now - w.enqueued_at;
    let mut per_team: BTreeMap<&TeamId, (u32, Option<i64>)> = BTreeMap::new();
    for w in &queue {
        let e = per_team.entry(&w.team).or_default();
        e.0 += 1;
        e.1 = Some(e.1.unwrap_or(0).max(wait_of(w)));
    }
    let longest = snap.waiting.iter().map(|w| now - w.enqueued_at).max();
    let team_views = snap
        .teams
        .iter()
        .map(|t| {
            let engine = teams.iter().find(|e| e.id == t.id);
            let stats = engine.map(|e| ServiceStats::for_team(e, &agents, Vec::new()));
            let (waiting, longest) = per_team.get(&t.id).copied().unwrap_or_default();
            TeamLoad {
                id: t.id.clone(),
                name: t.name.clone(),
                strategy: t.strategy,
                waiting,
                longest_wait_ms: longest,
                active: snap.active_per_team.get(&t.id).copied().unwrap_or(0),
                online_agents: engine.map_or(0, |e| {
                    e.members
                        .iter()
                        .filter(|m| {
                            agents
                                .iter()
                                .any(|a| &a.id == *m && a.presence == Presence::Online)
                        })
                        .count() as u32
                }),
                capacity: stats.map_or(0, |st| st.capacity),
                open: t.hours.as_ref().is_none_or(|h| h.is_open(now)),
            }
        })
        .collect();
    let agent_views = snap
        .agents
        .iter()
        .map(|a| AgentLoad {
            id: a.id.clone(),
            name: a.name.clone(),
            role: a.role,
            status: a.status,
            presence: Presence::of(a.status, a.connected),
            active: a.active,
            limit: a.max_chats,
            teams: snap
                .teams
                .iter()
                .filter(|t| t.members.contains(&a.id))
                .map(|t| t.id.clone())
                .collect(),
        })
        .collect();
    Ok(MonitorView {
        now,
        waiting: snap.waiting.len() as u32,
        longest_wait_ms: longest,
        offline_waiting: snap.offline_waiting,
        missed_today: snap.missed_since,
        teams: team_views,
        agents: agent_views,
    })
}
