//! Reads and settings writes for routing: teams and members, agents' routing settings and
//! presence, sites' routing settings, the routing snapshot, the queue monitor, participants
//! and the email outbox. Conversation changes still go through [`crate::Store::write`].

use crate::BeginWrite;
use crate::rows::*;
use crate::{Result, Store, StoreError, entropy, now_ms, on_db, sql};
use frontdesk_core::protocol::*;
use frontdesk_core::routing::{Overflow, Strategy, TeamId};
use frontdesk_core::teams::{AwayAction, SiteRouting, TeamView};
use frontdesk_core::*;
use std::collections::BTreeMap;

#[derive(sqlx::FromRow)]
struct TeamRow {
    id: String,
    name: String,
    strategy: String,
    overflow_team_id: Option<String>,
    overflow_after_ms: Option<i64>,
    overflow_when_full: i64,
    away_action: String,
    hours: Option<String>,
}

const TEAM_SELECT: &str = "SELECT id, name, strategy, overflow_team_id, overflow_after_ms, \
    overflow_when_full, away_action, hours FROM teams";

pub fn strategy_str(s: Strategy) -> &'static str {
    match s {
        Strategy::Manual => "manual",
        Strategy::RoundRobin => "round_robin",
        Strategy::LeastBusy => "least_busy",
        Strategy::Skills => "skills",
    }
}

fn parse_strategy(s: &str) -> Strategy {
    match s {
        "round_robin" => Strategy::RoundRobin,
        "least_busy" => Strategy::LeastBusy,
        "skills" => Strategy::Skills,
        _ => Strategy::Manual,
    }
}

impl TeamRow {
    fn view(self, members: Vec<AgentId>) -> TeamView {
        TeamView {
            id: TeamId(self.id),
            name: self.name,
            strategy: parse_strategy(&self.strategy),
            members,
            overflow: self.overflow_team_id.map(|to| Overflow {
                to: TeamId(to),
                after_ms: self.overflow_after_ms,
                when_full: self.overflow_when_full != 0,
            }),
            away_action: AwayAction::parse(&self.away_action).unwrap_or_default(),
            hours: self
                .hours
                .as_deref()
                .and_then(|h| serde_json::from_str(h).ok()),
        }
    }
}

/// An agent as routing and the monitor see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentState {
    pub id: AgentId,
    pub name: String,
    pub role: Role,
    pub status: AgentStatus,
    /// Connected to some node (their presence lease has not run out).
    pub connected: bool,
    pub max_chats: u32,
    pub skills: Vec<String>,
    pub languages: Vec<String>,
    pub last_assigned_at: Option<Millis>,
    /// Conversations assigned to them and not resolved.
    pub active: u32,
}

/// A conversation waiting for an agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitingRow {
    pub id: ConversationId,
    pub contact_id: ContactId,
    pub website_id: WebsiteId,
    pub team_id: Option<TeamId>,
    pub priority: routing::Priority,
    pub required_skill: Option<String>,
    pub language: Option<String>,
    pub enqueued_at: Millis,
}

/// Everything one routing pass over an organization needs, read at one moment.
#[derive(Clone, Debug, Default)]
pub struct RoutingSnapshot {
    pub teams: Vec<TeamView>,
    pub agents: Vec<AgentState>,
    /// Live chats waiting (not offline messages), oldest first.
    pub waiting: Vec<WaitingRow>,
    /// Handle times (assigned → resolved, ms) of each team's recently resolved chats; the
    /// team `""` holds those of conversations without a team.
    pub handle_times: BTreeMap<TeamId, Vec<i64>>,
    /// Assigned, unresolved conversations per team.
    pub active_per_team: BTreeMap<TeamId, u32>,
    pub offline_waiting: u32,
    pub missed_since: u32,
    /// Each site's routing settings, for the offer-offline time.
    pub sites: BTreeMap<WebsiteId, SiteRouting>,
}

/// An email to send: a reply to an offline message.
#[derive(Clone, Debug)]
pub struct EmailJob {
    pub id: String,
    pub organization_id: OrganizationId,
    pub conversation_id: ConversationId,
    pub contact_id: ContactId,
    pub website_id: WebsiteId,
    pub site_key: String,
    pub website_name: String,
    pub organization_name: String,
    pub to_address: String,
    pub author_name: Option<String>,
    pub text: String,
    /// The names of the reply's files, in order.
    pub files: Vec<String>,
    pub attempts: i64,
    /// A transcript of the conversation rather than one reply.
    pub transcript: bool,
}

/// How many resolved chats per team feed the wait estimate.
const HANDLE_TIME_WINDOW: usize = 50;

impl Store {
    // ---- teams ----

    pub async fn teams(&self, org: &OrganizationId) -> Result<Vec<TeamView>> {
        let (rows, members): (Vec<TeamRow>, Vec<(String, String)>) = on_db!(&self.db, |p| {
            let rows = sqlx::query_as(sql!(
                "{TEAM_SELECT} WHERE organization_id = $1 ORDER BY name, id"
            ))
            .bind(org.as_str())
            .fetch_all(p)
            .await?;
            let members = sqlx::query_as(
                "SELECT m.team_id, m.agent_id FROM team_members m JOIN teams t ON t.id = m.team_id \
                 WHERE t.organization_id = $1 ORDER BY m.team_id, m.agent_id",
            )
            .bind(org.as_str())
            .fetch_all(p)
            .await?;
            (rows, members)
        });
        let mut by_team: BTreeMap<String, Vec<AgentId>> = BTreeMap::new();
        for (t, a) in members {
            by_team.entry(t).or_default().push(AgentId(a));
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let m = by_team.remove(&r.id).unwrap_or_default();
                r.view(m)
            })
            .collect())
    }

    pub async fn team(&self, org: &OrganizationId, id: &TeamId) -> Result<Option<TeamView>> {
        Ok(self.teams(org).await?.into_iter().find(|t| &t.id == id))
    }

    /// Creates (`id = None`) or replaces a team with its members. The caller has validated
    /// that the members and the overflow team belong to `org`.
    pub async fn save_team(
        &self,
        org: &OrganizationId,
        id: Option<&TeamId>,
        t: &TeamView,
    ) -> Result<TeamView> {
        let now = now_ms();
        let id = id.cloned().unwrap_or_else(|| TeamId::new(now, entropy()));
        let hours = t
            .hours
            .as_ref()
            .map(|h| serde_json::to_string(h).unwrap_or_default());
        let (over_to, over_after, over_full) = match &t.overflow {
            Some(o) => (Some(o.to.as_str()), o.after_ms, o.when_full as i64),
            None => (None, None, 0),
        };
        on_db!(&self.db, |p| {
            let mut tx = p.begin_write().await?;
            let updated = sqlx::query(
                "UPDATE teams SET name = $3, strategy = $4, overflow_team_id = $5, overflow_after_ms = $6, \
                 overflow_when_full = $7, away_action = $8, hours = $9 WHERE id = $1 AND organization_id = $2",
            )
            .bind(id.as_str())
            .bind(org.as_str())
            .bind(&t.name)
            .bind(strategy_str(t.strategy))
            .bind(over_to)
            .bind(over_after)
            .bind(over_full)
            .bind(t.away_action.as_str())
            .bind(hours.as_deref())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                sqlx::query(
                    "INSERT INTO teams (id, organization_id, name, strategy, overflow_team_id, overflow_after_ms, \
                     overflow_when_full, away_action, hours, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(id.as_str())
                .bind(org.as_str())
                .bind(&t.name)
                .bind(strategy_str(t.strategy))
                .bind(over_to)
                .bind(over_after)
                .bind(over_full)
                .bind(t.away_action.as_str())
                .bind(hours.as_deref())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("DELETE FROM team_members WHERE team_id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            let mut seen = std::collections::BTreeSet::new();
            for m in &t.members {
                if seen.insert(m) {
                    sqlx::query("INSERT INTO team_members (team_id, agent_id) VALUES ($1, $2)")
                        .bind(id.as_str())
                        .bind(m.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
        });
        self.team(org, &id).await?.ok_or(StoreError::NotFound)
    }

    /// Deletes a team. Its waiting conversations lose their team (the unassigned queue), and
    /// overflows into it are removed.
    pub async fn delete_team(&self, org: &OrganizationId, id: &TeamId) -> Result<()> {
        on_db!(&self.db, |p| {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("DELETE FROM team_members WHERE team_id IN (SELECT id FROM teams WHERE id = $1 AND organization_id = $2)")
                .bind(id.as_str())
                .bind(org.as_str())
                .execute(&mut *tx)
                .await?;
            let _ = n;
            sqlx::query("UPDATE teams SET overflow_team_id = NULL WHERE overflow_team_id = $1 AND organization_id = $2")
                .bind(id.as_str())
                .bind(org.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE conversations SET team_id = NULL WHERE team_id = $1 AND organization_id = $2")
                .bind(id.as_str())
                .bind(org.as_str())
                .execute(&mut *tx)
                .await?;
            let n = sqlx::query("DELETE FROM teams WHERE id = $1 AND organization_id = $2")
                .bind(id.as_str())
                .bind(org.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            tx.commit().await?;
        });
        Ok(())
    }

    // ---- agents' routing settings and presence ----

    pub async fn set_agent_settings(
        &self,
        org: &OrganizationId,
        id: &AgentId,
        role: Role,
        max_chats: u32,
        skills: &[String],
        languages: &[String],
    ) -> Result<AgentView> {
        let skills = serde_json::to_string(skills).unwrap_or_else(|_| "[]".into());
        let languages = serde_json::to_string(languages).unwrap_or_else(|_| "[]".into());
        on_db!(&self.db, |p| {
            let n = sqlx::query(
                "UPDATE agents SET role = $3, max_chats = $4, skills = $5, languages = $6 WHERE id = $1 AND organization_id = $2",
            )
            .bind(id.as_str())
            .bind(org.as_str())
            .bind(role.as_str())
            .bind(max_chats as i64)
            .bind(&skills)
            .bind(&languages)
            .execute(p)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
        });
        self.agent(id).await?.ok_or(StoreError::NotFound)
    }

    /// Extends the presence lease of agents connected to this node. An agent who was set
    /// away automatically (their connection dropped) is online again.
    pub async fn renew_presence(&self, agents: &[AgentId], until: Millis) -> Result<Vec<AgentId>> {
        let mut back = Vec::new();
        for a in agents {
            // Two single statements, no read-then-write transaction: on SQLite (WAL) a
            // transaction that reads before it writes can fail at once with "busy" when
            // another connection committed in between.
            let came_back: bool = on_db!(&self.db, |p| {
                let plain = sqlx::query(
                    "UPDATE agents SET online_until = $2 WHERE id = $1 AND auto_away = 0",
                )
                .bind(a.as_str())
                .bind(until)
                .execute(p)
                .await?
                .rows_affected();
                if plain > 0 {
                    false
                } else {
                    sqlx::query(
                        "UPDATE agents SET online_until = $2, status = 'online', auto_away = 0 WHERE id = $1 AND auto_away = 1",
                    )
                    .bind(a.as_str())
                    .bind(until)
                    .execute(p)
                    .await?
                    .rows_affected()
                        > 0
                }
            });
            if came_back {
                back.push(a.clone());
            }
        }
        Ok(back)
    }

    /// An agent set away automatically is online again, with a lease from `now` (so the grace
    /// period runs from now, not from when they were last connected). Whether they were.
    pub async fn return_from_auto_away(&self, agent: &AgentId, now: Millis) -> Result<bool> {
        on_db!(&self.db, |p| {
            Ok(sqlx::query(
                "UPDATE agents SET status = 'online', auto_away = 0, \
                 online_until = CASE WHEN online_until > $2 THEN online_until ELSE $2 END \
                 WHERE id = $1 AND auto_away = 1",
            )
            .bind(agent.as_str())
            .bind(now)
            .execute(p)
            .await?
            .rows_affected()
                > 0)
        })
    }

    /// Ends an agent's presence lease now (their last connection to this node closed).
    pub async fn end_presence(&self, agent: &AgentId, at: Millis) -> Result<()> {
        on_db!(&self.db, |p| {
            sqlx::query("UPDATE agents SET online_until = $2 WHERE id = $1 AND online_until > $2")
                .bind(agent.as_str())
                .bind(at)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Agents who chose to be online but whose lease ran out before `cutoff` (the grace
    /// period has passed): they are set away, marked as set away automatically, and returned.
    pub async fn sweep_gone_agents(
        &self,
        cutoff: Millis,
    ) -> Result<Vec<(OrganizationId, AgentId, String)>> {
        on_db!(&self.db, |p| {
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT organization_id, id, name FROM agents WHERE status = 'online' AND online_until < $1",
            )
            .bind(cutoff)
            .fetch_all(p)
            .await?;
            let mut gone = Vec::new();
            for (org, id, name) in rows {
                let n = sqlx::query(
                    "UPDATE agents SET status = 'away', auto_away = 1 WHERE id = $1 AND status = 'online' AND online_until < $2",
                )
                .bind(&id)
                .bind(cutoff)
                .execute(p)
                .await?
                .rows_affected();
                if n > 0 {
                    gone.push((OrganizationId(org), AgentId(id), name));
                }
            }
            Ok(gone)
        })
    }

    /// An agent's open (assigned) conversations, with what their team says to do when the
    /// agent goes away (`Return` when the conversation has no team).
    pub async fn held_conversations(
        &self,
        agent: &AgentId,
    ) -> Result<Vec<(ConversationId, AwayAction)>> {
        on_db!(&self.db, |p| {
            let rows: Vec<(String, Option<String>)> = sqlx::query_as(
                "SELECT c.id, t.away_action FROM conversations c LEFT JOIN teams t ON t.id = c.team_id \
                 WHERE c.assignee_id = $1 AND c.status = 'assigned' ORDER BY c.id",
            )
            .bind(agent.as_str())
            .fetch_all(p)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(id, a)| {
                    (
                        ConversationId(id),
                        a.as_deref().and_then(AwayAction::parse).unwrap_or_default(),
                    )
                })
                .collect())
        })
    }

    /// Whether an agent of the organization is online and connected to some node.
    pub async fn agents_online(&self, org: &OrganizationId, now: Millis) -> Result<bool> {
        on_db!(&self.db, |p| {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM agents WHERE organization_id = $1 AND status = 'online' AND online_until > $2",
            )
            .bind(org.as_str())
            .bind(now)
            .fetch_one(p)
            .await?;
            Ok(n > 0)
        })
    }

    // ---- sites ----

    pub async fn set_site_routing(
        &self,
        org: &OrganizationId,
        site: &WebsiteId,
        routing: &SiteRouting,
    ) -> Result<()> {
        self.set_site_json(org, site, "routing", routing).await
    }

    /// Merges text attributes into a contact's (a value of `""` removes the key); the
    /// contact's other attributes, of any type, stay.
    pub async fn merge_contact_attributes(
        &self,
        id: &ContactId,
        attributes: &BTreeMap<String, String>,
    ) -> Result<()> {
        use frontdesk_core::contacts::{AttributeValue, read_attributes, write_attributes};
        if attributes.is_empty() {
            return Ok(());
        }
        on_db!(&self.db, |p| {
            let mut tx = p.begin_write().await?;
            // Written first: it locks the row, and on SQLite takes the write lock before the read.
            sqlx::query("UPDATE contacts SET attributes = attributes WHERE id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            let (current,): (String,) =
                sqlx::query_as("SELECT attributes FROM contacts WHERE id = $1")
                    .bind(id.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
            let mut map = read_attributes(&current);
            for (k, v) in attributes {
                if v.is_empty() {
                    map.remove(k);
                } else {
                    map.insert(k.clone(), AttributeValue::Text(v.clone()));
                }
            }
            sqlx::query("UPDATE contacts SET attributes = $2 WHERE id = $1")
                .bind(id.as_str())
                .bind(write_attributes(&map))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    // ---- routing ----

    /// Organizations with live chats waiting, or with an agent online (whose presence can
    /// change routing).
    pub async fn organizations_to_route(&self) -> Result<Vec<OrganizationId>> {
        on_db!(&self.db, |p| {
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT DISTINCT organization_id FROM conversations WHERE status = 'open' AND offline = 0 \
                 ORDER BY organization_id",
            )
            .fetch_all(p)
            .await?;
            Ok(rows.into_iter().map(|(o,)| OrganizationId(o)).collect())
        })
    }

    /// Reads everything a routing pass over `org` needs. `missed_since` counts missed
    /// conversations created from that time on.
    pub async fn routing_snapshot(
        &self,
        org: &OrganizationId,
        now: Millis,
        missed_since: Millis,
    ) -> Result<RoutingSnapshot> {
        let teams = self.teams(org).await?;
        type AgentTuple = (
            String,
            String,
            String,
            String,
            i64,
            i64,
            String,
            String,
            Option<i64>,
            i64,
        );
        type WaitTuple = (
            String,
            String,
            String,
            Option<String>,
            String,
            Option<String>,
            Option<String>,
            Option<i64>,
            i64,
        );
        type Read = (
            Vec<AgentTuple>,
            Vec<WaitTuple>,
            Vec<(String, i64)>,
            Vec<(String, i64)>,
            (i64, i64),
            Vec<(String, Option<String>)>,
        );
        let (agents, waiting, handle, active, counts, sites): Read = on_db!(&self.db, |p| {
            let agents = sqlx::query_as(
                "SELECT a.id, a.name, a.role, a.status, a.online_until, a.max_chats, a.skills, a.languages, a.last_assigned_at, \
                 (SELECT COUNT(*) FROM conversations c WHERE c.assignee_id = a.id AND c.status = 'assigned') \
                 FROM agents a WHERE a.organization_id = $1 ORDER BY a.name, a.id",
            )
            .bind(org.as_str())
            .fetch_all(p)
            .await?;
            let waiting = sqlx::query_as(
                "SELECT id, contact_id, website_id, team_id, priority, required_skill, language, enqueued_at, created_at \
                 FROM conversations WHERE organization_id = $1 AND status = 'open' AND offline = 0 \
                 ORDER BY created_at, id",
            )
            .bind(org.as_str())
            .fetch_all(p)
            .await?;
            let handle = sqlx::query_as(
                "SELECT COALESCE(team_id, ''), resolved_at - assigned_at FROM conversations WHERE organization_id = $1 \
                 AND resolved_at IS NOT NULL AND assigned_at IS NOT NULL \
                 AND resolved_at > assigned_at AND resolved_at > $2 ORDER BY resolved_at DESC LIMIT 2000",
            )
            .bind(org.as_str())
            .bind(now - 24 * 3600 * 1000)
            .fetch_all(p)
            .await?;
            let active = sqlx::query_as(
                "SELECT team_id, COUNT(*) FROM conversations WHERE organization_id = $1 AND status = 'assigned' \
                 AND team_id IS NOT NULL GROUP BY team_id",
            )
            .bind(org.as_str())
            .fetch_all(p)
            .await?;
            let counts = sqlx::query_as(
                "SELECT \
                 COALESCE(SUM(CASE WHEN status = 'open' AND offline = 1 THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN missed = 1 AND created_at >= $2 THEN 1 ELSE 0 END), 0) \
                 FROM conversations WHERE organization_id = $1 AND (status = 'open' OR created_at >= $2)",
            )
            .bind(org.as_str())
            .bind(missed_since)
            .fetch_one(p)
            .await?;
            let sites =
                sqlx::query_as("SELECT id, routing FROM websites WHERE organization_id = $1")
                    .bind(org.as_str())
                    .fetch_all(p)
                    .await?;
            (agents, waiting, handle, active, counts, sites)
        });
        let mut handle_times: BTreeMap<TeamId, Vec<i64>> = BTreeMap::new();
        for (team, ms) in handle {
            let v = handle_times.entry(TeamId(team)).or_default();
            if v.len() < HANDLE_TIME_WINDOW {
                v.push(ms);
            }
        }
        Ok(RoutingSnapshot {
            teams,
            agents: agents
                .into_iter()
                .map(
                    |(id, name, role, status, until, max, skills, langs, last, active)| {
                        AgentState {
                            id: AgentId(id),
                            name,
                            role: Role::parse(&role).unwrap_or(Role::Agent),
                            status: AgentStatus::parse(&status).unwrap_or(AgentStatus::Away),
                            connected: until > now,
                            max_chats: max.clamp(0, u32::MAX as i64) as u32,
                            skills: json_list(&skills),
                            languages: json_list(&langs),
                            last_assigned_at: last,
                            active: active.clamp(0, u32::MAX as i64) as u32,
                        }
                    },
                )
                .collect(),
            waiting: waiting
                .into_iter()
                .map(
                    |(id, contact, site, team, prio, skill, lang, enq, created)| WaitingRow {
                        id: ConversationId(id),
                        contact_id: ContactId(contact),
                        website_id: WebsiteId(site),
                        team_id: team.map(TeamId),
                        priority: parse_priority(&prio),
                        required_skill: skill,
                        language: lang,
                        enqueued_at: enq.unwrap_or(created),
                    },
                )
                .collect(),
            handle_times,
            active_per_team: active
                .into_iter()
                .map(|(t, n)| (TeamId(t), n.clamp(0, u32::MAX as i64) as u32))
                .collect(),
            offline_waiting: counts.0.clamp(0, u32::MAX as i64) as u32,
            missed_since: counts.1.clamp(0, u32::MAX as i64) as u32,
            sites: sites
                .into_iter()
                .map(|(id, r)| {
                    (
                        WebsiteId(id),
                        r.as_deref()
                            .and_then(|j| serde_json::from_str(j).ok())
                            .unwrap_or_default(),
                    )
                })
                .collect(),
        })
    }

    // ---- participants ----

    pub async fn participants(&self, conversation: &ConversationId) -> Result<Vec<Participant>> {
        on_db!(&self.db, |p| {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT a.id, a.name FROM conversation_participants cp JOIN agents a ON a.id = cp.agent_id \
                 WHERE cp.conversation_id = $1 ORDER BY cp.added_at, a.id",
            )
            .bind(conversation.as_str())
            .fetch_all(p)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(id, name)| Participant {
                    id: AgentId(id),
                    name,
                })
                .collect())
        })
    }

    // ---- email outbox ----

    /// Emails due for a (first or next) attempt, oldest first.
    pub async fn due_emails(&self, now: Millis, limit: i64) -> Result<Vec<EmailJob>> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            i64,
            String,
        );
        let rows: Vec<Row> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT e.id, e.organization_id, e.conversation_id, c.contact_id, c.website_id, w.site_key, w.name, o.name, \
                 e.to_address, m.author_name, m.body, \
                 (SELECT string_agg(xa.name, '\x1e' ORDER BY xa.position) FROM attachments xa WHERE xa.message_id = m.id), \
                 e.attempts, e.kind \
                 FROM email_outbox e JOIN conversations c ON c.id = e.conversation_id \
                 JOIN websites w ON w.id = c.website_id JOIN organizations o ON o.id = e.organization_id \
                 LEFT JOIN messages m ON m.id = e.message_id \
                 WHERE e.sent_at IS NULL AND e.next_attempt_at <= $1 ORDER BY e.next_attempt_at, e.id LIMIT $2",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    org,
                    conv,
                    contact,
                    site,
                    key,
                    site_name,
                    org_name,
                    to,
                    author,
                    text,
                    files,
                    attempts,
                    kind,
                )| EmailJob {
                    id,
                    organization_id: OrganizationId(org),
                    conversation_id: ConversationId(conv),
                    contact_id: ContactId(contact),
                    website_id: WebsiteId(site),
                    site_key: key,
                    website_name: site_name,
                    organization_name: org_name,
                    to_address: to,
                    author_name: author,
                    text: text.unwrap_or_default(),
                    files: files
                        .map(|f| f.split('\x1e').map(str::to_owned).collect())
                        .unwrap_or_default(),
                    attempts,
                    transcript: kind == "transcript",
                },
            )
            .collect())
    }

    /// Queues a transcript of a conversation of `org` to `to`. Durable once this returns.
    pub async fn queue_transcript(
        &self,
        org: &OrganizationId,
        conversation: &ConversationId,
        to: &str,
        now: Millis,
    ) -> Result<()> {
        let id = MessageId::new(now, entropy()).0;
        on_db!(&self.db, |p| {
            sqlx::query(
                "INSERT INTO email_outbox (id, organization_id, conversation_id, message_id, to_address, next_attempt_at, created_at, kind) \
                 VALUES ($1, $2, $3, $1, $4, $5, $5, 'transcript')",
            )
            .bind(&id)
            .bind(org.as_str())
            .bind(conversation.as_str())
            .bind(to)
            .bind(now)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    pub async fn email_sent(&self, id: &str, at: Millis) -> Result<()> {
        on_db!(&self.db, |p| {
            sqlx::query("UPDATE email_outbox SET sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1")
                .bind(id)
                .bind(at)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    pub async fn email_failed(&self, id: &str, next_attempt_at: Millis, error: &str) -> Result<()> {
        on_db!(&self.db, |p| {
            sqlx::query("UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1")
                .bind(id)
                .bind(next_attempt_at)
                .bind(error)
                .execute(p)
                .await?;
        });
        Ok(())
    }
}
