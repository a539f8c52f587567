//! Reads, and writes that do not touch a conversation's order (tenants, agents, sessions,
//! websites, contacts, settings). Conversation changes go through [`crate::Store::write`].

use crate::BeginWrite;
use crate::rows::*;
use crate::{Result, Store, StoreError, entropy, now_ms, on_db, sql};
use frontdesk_core::protocol::*;
use frontdesk_core::*;

/// A website with what the widget needs to know of its organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Website {
    pub id: WebsiteId,
    pub organization_id: OrganizationId,
    pub organization_name: String,
    pub name: String,
    pub domain: String,
    pub site_key: String,
    /// Routing rules, hours and what to do while closed.
    pub routing: frontdesk_core::teams::SiteRouting,
    /// Where the widget may run, as the admin set it; `None`: the site's domain and its
    /// subdomains (`frontdesk_core::embed::AllowedDomains::for_site`).
    pub allowed_domains: Option<Vec<String>>,
}

#[derive(sqlx::FromRow)]
struct WebsiteRow {
    id: String,
    organization_id: String,
    organization_name: String,
    name: String,
    domain: String,
    site_key: String,
    routing: Option<String>,
    allowed_domains: Option<String>,
}

const WEBSITE_SELECT: &str = "SELECT w.id, w.organization_id, o.name AS organization_name, w.name, \
    w.domain, w.site_key, w.routing, w.allowed_domains FROM websites w JOIN organizations o ON o.id = w.organization_id";

impl From<WebsiteRow> for Website {
    fn from(r: WebsiteRow) -> Self {
        Website {
            id: WebsiteId(r.id),
            organization_id: OrganizationId(r.organization_id),
            organization_name: r.organization_name,
            name: r.name,
            domain: r.domain,
            site_key: r.site_key,
            routing: r
                .routing
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok())
                .unwrap_or_default(),
            allowed_domains: r
                .allowed_domains
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok()),
        }
    }
}

/// An agent with their password hash, for login.
#[derive(Clone, Debug)]
pub struct AgentCredentials {
    pub agent: AgentView,
    pub password_hash: String,
}

/// A new agent; the password is already hashed.
#[derive(Clone, Debug)]
pub struct NewAgent {
    pub organization_id: OrganizationId,
    pub email: Email,
    pub name: Name,
    pub password_hash: String,
    pub role: Role,
}

/// The inbox tab a list is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Unassigned,
    Mine,
    All,
    Resolved,
}

impl Tab {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "unassigned" => Some(Self::Unassigned),
            "mine" => Some(Self::Mine),
            "all" => Some(Self::All),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

/// What the visitor's browser tells us about the visit, already clipped to bounds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VisitContext {
    pub current_url: Option<String>,
    pub page_title: Option<String>,
    pub referrer: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    pub language: Option<String>,
    pub timezone: Option<String>,
}

impl Store {
    // ---- settings ----

    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        on_db!(&self.db, |p| {
            let v: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_optional(p)
                .await?;
            Ok(v.map(|(v,)| v))
        })
    }

    /// Stores `value` under `key` unless a value is there; returns the value that is stored.
    /// Several nodes starting at once agree on one value.
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String> {
        on_db!(&self.db, |p| {
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(value)
            .execute(p)
            .await?;
        });
        self.setting(key).await?.ok_or(StoreError::NotFound)
    }

    pub async fn delete_setting(&self, key: &str) -> Result<()> {
        on_db!(&self.db, |p| {
            sqlx::query("DELETE FROM settings WHERE key = $1")
                .bind(key)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    // ---- organizations, agents, websites ----

    /// Creates an organization with its first admin and first website, in one transaction.
    /// `once_key`, when given, is a settings key that must not exist yet: it makes the first-run
    /// setup succeed at most once even when two requests race.
    pub async fn create_organization(
        &self,
        name: &Name,
        admin: (&Email, &Name, &str),
        website: (&Name, &Domain, &str),
        once_key: Option<&str>,
    ) -> Result<(AgentView, Website)> {
        let now = now_ms();
        let org = OrganizationId::new(now, entropy());
        let agent = AgentId::new(now, entropy());
        let site = WebsiteId::new(now, entropy());
        on_db!(&self.db, |p| {
            let mut tx = p.begin_write().await?;
            if let Some(key) = once_key {
                let n = sqlx::query("INSERT INTO settings (key, value) VALUES ($1, '1') ON CONFLICT (key) DO NOTHING")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n == 0 {
                    return Err(StoreError::Conflict);
                }
            }
            sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(org.as_str())
                .bind(name.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO agents (id, organization_id, email, name, password_hash, role, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 'admin', 'online', $6)",
            )
            .bind(agent.as_str())
            .bind(org.as_str())
            .bind(admin.0.as_str())
            .bind(admin.1.as_str())
            .bind(admin.2)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO websites (id, organization_id, name, domain, site_key, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(site.as_str())
            .bind(org.as_str())
            .bind(website.0.as_str())
            .bind(website.1.as_str())
            .bind(website.2)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        let agent = self.agent(&agent).await?.ok_or(StoreError::NotFound)?;
        let website = self.website(&site).await?.ok_or(StoreError::NotFound)?;
        Ok((agent, website))
    }

    pub async fn create_agent(&self, a: &NewAgent) -> Result<AgentView> {
        let now = now_ms();
        let id = AgentId::new(now, entropy());
        on_db!(&self.db, |p| {
            sqlx::query(
                "INSERT INTO agents (id, organization_id, email, name, password_hash, role, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'away', $7)",
            )
            .bind(id.as_str())
            .bind(a.organization_id.as_str())
            .bind(a.email.as_str())
            .bind(a.name.as_str())
            .bind(&a.password_hash)
            .bind(a.role.as_str())
            .bind(now)
            .execute(p)
            .await?;
        });
        self.agent(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn agent_count(&self) -> Result<i64> {
        on_db!(&self.db, |p| {
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM agents")
                .fetch_one(p)
                .await?;
            Ok(n)
        })
    }

    pub async fn agent(&self, id: &AgentId) -> Result<Option<AgentView>> {
        on_db!(&self.db, |p| {
            let r: Option<AgentRow> = sqlx::query_as(sql!("{AGENT_SELECT} WHERE a.id = $1"))
                .bind(id.as_str())
                .fetch_optional(p)
                .await?;
            Ok(r.map(|r| r.view()))
        })
    }

    pub async fn agent_credentials(&self, email: &Email) -> Result<Option<AgentCredentials>> {
        on_db!(&self.db, |p| {
            let r: Option<AgentRow> = sqlx::query_as(sql!("{AGENT_SELECT} WHERE a.email = $1"))
                .bind(email.as_str())
                .fetch_optional(p)
                .await?;
            Ok(r.map(|r| AgentCredentials {
                agent: r.view(),
                password_hash: r.password_hash,
            }))
        })
    }

    pub async fn agents(&self, org: &OrganizationId) -> Result<Vec<AgentView>> {
        on_db!(&self.db, |p| {
            let rows: Vec<AgentRow> = sqlx::query_as(sql!(
                "{AGENT_SELECT} WHERE a.organization_id = $1 ORDER BY a.name, a.id"
            ))
            .bind(org.as_str())
            .fetch_all(p)
            .await?;
            Ok(rows.iter().map(AgentRow::view).collect())
        })
    }

    pub async fn set_agent_status(&self, id: &AgentId, status: AgentStatus) -> Result<()> {
        on_db!(&self.db, |p| {
            let n = sqlx::query("UPDATE agents SET status = $2, auto_away = 0 WHERE id = $1")
                .bind(id.as_str())
                .bind(status.as_str())
                .execute(p)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
        });
        Ok(())
    }

    pub async fn create_website(
        &self,
        org: &OrganizationId,
        name: &Name,
        domain: &Domain,
        site_key: &str,
    ) -> Result<Website> {
        let now = now_ms();
        let id = WebsiteId::new(now, entropy());
        on_db!(&self.db, |p| {
            sqlx::query(
                "INSERT INTO websites (id, organization_id, name, domain, site_key, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id.as_str())
            .bind(org.as_str())
            .bind(name.as_str())
            .bind(domain.as_str())
            .bind(site_key)
            .bind(now)
            .execute(p)
            .await?;
        });
        self.website(&id).await?.ok_or(StoreError::NotFound)
    }

    /// Sets where a site's widget may run (entries checked by `frontdesk_core::embed`).
    pub async fn set_allowed_domains(
        &self,
        org: &OrganizationId,
        site: &WebsiteId,
        domains: &[String],
    ) -> Result<()> {
        self.set_site_json(org, site, "allowed_domains", domains)
            .await
    }

    /// Writes one of a site's JSON settings (`column`, one of this crate's names, never input);
    /// `NotFound` for another tenant's site.
    pub(crate) async fn set_site_json(
        &self,
        org: &OrganizationId,
        site: &WebsiteId,
        column: &'static str,
        value: &(impl serde::Serialize + ?Sized),
    ) -> Result<()> {
        let json =
            serde_json::to_string(value).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        on_db!(&self.db, |p| {
            let n = sqlx::query(sql!(
                "UPDATE websites SET {column} = $3 WHERE id = $1 AND organization_id = $2"
            ))
            .bind(site.as_str())
            .bind(org.as_str())
            .bind(&json)
            .execute(p)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
        });
        Ok(())
    }

    pub async fn website(&self, id: &WebsiteId) -> Result<Option<Website>> {
        on_db!(&self.db, |p| {
            let r: Option<WebsiteRow> = sqlx::query_as(sql!("{WEBSITE_SELECT} WHERE w.id = $1"))
                .bind(id.as_str())
                .fetch_optional(p)
                .await?;
            Ok(r.map(Into::into))
        })
    }

    pub async fn website_by_key(&self, site_key: &str) -> Result<Option<Website>> {
        on_db!(&self.db, |p| {
            let r: Option<WebsiteRow> =
                sqlx::query_as(sql!("{WEBSITE_SELECT} WHERE w.site_key = $1"))
                    .bind(site_key)
                    .fetch_optional(p)
                    .await?;
            Ok(r.map(Into::into))
        })
    }

    pub async fn websites(&self, org: &OrganizationId) -> Result<Vec<Website>> {
        on_db!(&self.db, |p| {
            let r: Vec<WebsiteRow> = sqlx::query_as(sql!(
                "{WEBSITE_SELECT} WHERE w.organization_id = $1 ORDER BY w.created_at, w.id"
            ))
            .bind(org.as_str())
            .fetch_all(p)
            .await?;
            Ok(r.into_iter().map(Into::into).collect())
        })
    }

    // ---- sessions ----

    pub async fn create_session(
        &self,
        token_hash: &str,
        agent: &AgentId,
        expires_at: Millis,
    ) -> Result<()> {
        on_db!(&self.db, |p| {
            sqlx::query("INSERT INTO sessions (token_hash, agent_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                .bind(token_hash)
                .bind(agent.as_str())
                .bind(now_ms())
                .bind(expires_at)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// The agent a session token (hashed) belongs to, if the session has not expired.
    pub async fn session_agent(&self, token_hash: &str) -> Result<Option<AgentView>> {
        on_db!(&self.db, |p| {
            let r: Option<AgentRow> = sqlx::query_as(sql!(
                "{AGENT_SELECT} JOIN sessions s ON s.agent_id = a.id WHERE s.token_hash = $1 AND s.expires_at > $2"
            ))
            .bind(token_hash)
            .bind(now_ms())
            .fetch_optional(p)
            .await?;
            Ok(r.map(|r| r.view()))
        })
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        on_db!(&self.db, |p| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    // ---- contacts ----

    pub async fn create_contact(&self, site: &Website, ctx: &VisitContext) -> Result<Contact> {
        let now = now_ms();
        let id = ContactId::new(now, entropy());
        on_db!(&self.db, |p| {
            sqlx::query(
                "INSERT INTO contacts (id, organization_id, website_id, current_url, page_title, referrer, browser, os, device, language, timezone, created_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
            )
            .bind(id.as_str())
            .bind(site.organization_id.as_str())
            .bind(site.id.as_str())
            .bind(ctx.current_url.as_deref())
            .bind(ctx.page_title.as_deref())
            .bind(ctx.referrer.as_deref())
            .bind(ctx.browser.as_deref())
            .bind(ctx.os.as_deref())
            .bind(ctx.device.as_deref())
            .bind(ctx.language.as_deref())
            .bind(ctx.timezone.as_deref())
            .bind(now)
            .execute(p)
            .await?;
        });
        self.contact(&id).await?.ok_or(StoreError::NotFound)
    }

    /// Records a new page view of a returning contact. Fields the browser did not send keep
    /// their old values.
    pub async fn touch_contact(&self, id: &ContactId, ctx: &VisitContext) -> Result<Contact> {
        on_db!(&self.db, |p| {
            let n = sqlx::query(
                "UPDATE contacts SET current_url = COALESCE($2, current_url), page_title = COALESCE($3, page_title), \
                 referrer = COALESCE($4, referrer), browser = COALESCE($5, browser), os = COALESCE($6, os), \
                 device = COALESCE($7, device), language = COALESCE($8, language), timezone = COALESCE($9, timezone), \
                 last_seen_at = $10 WHERE id = $1",
            )
            .bind(id.as_str())
            .bind(ctx.current_url.as_deref())
            .bind(ctx.page_title.as_deref())
            .bind(ctx.referrer.as_deref())
            .bind(ctx.browser.as_deref())
            .bind(ctx.os.as_deref())
            .bind(ctx.device.as_deref())
            .bind(ctx.language.as_deref())
            .bind(ctx.timezone.as_deref())
            .bind(now_ms())
            .execute(p)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
        });
        self.contact(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn set_contact_profile(
        &self,
        id: &ContactId,
        name: Option<&Name>,
        email: Option<&Email>,
    ) -> Result<Contact> {
        on_db!(&self.db, |p| {
            let n = sqlx::query("UPDATE contacts SET name = COALESCE($2, name), email = COALESCE($3, email) WHERE id = $1")
                .bind(id.as_str())
                .bind(name.map(|n| n.as_str()))
                .bind(email.map(|e| e.as_str()))
                .execute(p)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
        });
        self.contact(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn contact(&self, id: &ContactId) -> Result<Option<Contact>> {
        Ok(self.contact_row(id).await?.map(ContactRow::into_contact))
    }

    /// The organization a contact belongs to, with the contact.
    pub async fn contact_in_org(
        &self,
        id: &ContactId,
    ) -> Result<Option<(OrganizationId, Contact)>> {
        Ok(self
            .contact_row(id)
            .await?
            .map(|r| (OrganizationId(r.organization_id.clone()), r.into_contact())))
    }

    async fn contact_row(&self, id: &ContactId) -> Result<Option<ContactRow>> {
        on_db!(&self.db, |p| {
            Ok(sqlx::query_as(sql!("{CONTACT_SELECT} WHERE id = $1"))
                .bind(id.as_str())
                .fetch_optional(p)
                .await?)
        })
    }

    // ---- conversations and messages ----

    /// A conversation of an organization; another organization's reads as `None`.
    pub async fn conversation(
        &self,
        org: &OrganizationId,
        id: &ConversationId,
    ) -> Result<Option<Conversation>> {
        on_db!(&self.db, |p| {
            let r: Option<ConvRow> = sqlx::query_as(sql!(
                "{CONV_SELECT} WHERE c.id = $1 AND c.organization_id = $2"
            ))
            .bind(id.as_str())
            .bind(org.as_str())
            .fetch_optional(p)
            .await?;
            Ok(r.map(ConvRow::into_conversation))
        })
    }

    /// A contact's latest conversation, if any.
    pub async fn latest_conversation(&self, contact: &ContactId) -> Result<Option<Conversation>> {
        on_db!(&self.db, |p| {
            let r: Option<ConvRow> = sqlx::query_as(sql!(
                "{CONV_SELECT} WHERE c.contact_id = $1 ORDER BY c.created_at DESC, c.id DESC LIMIT 1"
            ))
            .bind(contact.as_str())
            .fetch_optional(p)
            .await?;
            Ok(r.map(ConvRow::into_conversation))
        })
    }

    /// A conversation, if it belongs to this contact.
    pub async fn contact_conversation(
        &self,
        contact: &ContactId,
        id: &ConversationId,
    ) -> Result<Option<Conversation>> {
        on_db!(&self.db, |p| {
            let r: Option<ConvRow> =
                sqlx::query_as(sql!("{CONV_SELECT} WHERE c.id = $1 AND c.contact_id = $2"))
                    .bind(id.as_str())
                    .bind(contact.as_str())
                    .fetch_optional(p)
                    .await?;
            Ok(r.map(ConvRow::into_conversation))
        })
    }

    /// One page of an inbox tab, most recent activity first. The cursor is opaque to clients.
    pub async fn conversations(
        &self,
        org: &OrganizationId,
        me: &AgentId,
        tab: Tab,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<ConversationPage> {
        self.conversations_filtered(
            org,
            me,
            tab,
            &frontdesk_core::tags::InboxFilter::default(),
            cursor,
            limit,
        )
        .await
    }

    /// One page of an inbox tab narrowed by `filter`, most recent activity first. The cursor
    /// is `(updated_at, id)` of the last row, so paging stays exact under any filter: a page
    /// starts strictly after the previous one in the same order.
    pub async fn conversations_filtered(
        &self,
        org: &OrganizationId,
        me: &AgentId,
        tab: Tab,
        filter: &frontdesk_core::tags::InboxFilter,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<ConversationPage> {
        let (tab_sql, uses_me) = tab_filter(tab);
        let (c_at, c_id) = match cursor.and_then(parse_cursor) {
            Some((t, id)) => (t, id),
            None => (i64::MAX, String::new()),
        };
        let limit = limit.clamp(1, 100);
        let (filter_sql, binds) = filter_clauses(filter, 6);
        // $3/$4: rows strictly after the cursor in (updated_at DESC, id DESC) order.
        let sql = format!(
            "{CONV_SELECT} WHERE c.organization_id = $1 AND {tab_sql}{filter_sql} \
             AND (c.updated_at < $3 OR (c.updated_at = $3 AND c.id < $4)) \
             ORDER BY c.updated_at DESC, c.id DESC LIMIT $5"
        );
        let me_or_empty = if uses_me { me.as_str() } else { "" };
        let rows: Vec<ConvRow> = on_db!(&self.db, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(org.as_str())
                .bind(me_or_empty)
                .bind(c_at)
                .bind(if cursor.is_some() {
                    c_id.as_str()
                } else {
                    "\u{10FFFF}"
                })
                .bind(limit + 1);
            for b in &binds {
                q = match b {
                    Bind::Text(s) => q.bind(s.as_str()),
                    Bind::Int(i) => q.bind(*i),
                };
            }
            q.fetch_all(p).await?
        });
        let mut items: Vec<Conversation> =
            rows.into_iter().map(ConvRow::into_conversation).collect();
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|c| format!("{}_{}", c.updated_at, c.id))
        } else {
            None
        };
        Ok(ConversationPage { items, next_cursor })
    }

    pub async fn inbox_counts(&self, org: &OrganizationId, me: &AgentId) -> Result<InboxCounts> {
        on_db!(&self.db, |p| {
            let (unassigned, mine, all, uu, um, ua): (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
                "SELECT \
                 COALESCE(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN status = 'assigned' AND (assignee_id = $2 OR cp.agent_id IS NOT NULL) THEN 1 ELSE 0 END), 0), \
                 COUNT(*), \
                 COALESCE(SUM(CASE WHEN status = 'open' AND unread > 0 THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN status = 'assigned' AND (assignee_id = $2 OR cp.agent_id IS NOT NULL) AND unread > 0 THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN unread > 0 THEN 1 ELSE 0 END), 0) \
                 FROM conversations c LEFT JOIN conversation_participants cp ON cp.conversation_id = c.id AND cp.agent_id = $2 \
                 WHERE c.organization_id = $1 AND c.status <> 'resolved'",
            )
            .bind(org.as_str())
            .bind(me.as_str())
            .fetch_one(p)
            .await?;
            Ok(InboxCounts {
                unassigned,
                mine,
                all,
                unread_unassigned: uu,
                unread_mine: um,
                unread_all: ua,
            })
        })
    }

    /// Messages after `after_seq`, in order. For a visitor (`visitor = true`), `after_seq` and
    /// the returned `seq` count in `public_seq`, and notes are left out.
    pub async fn messages(
        &self,
        conversation: &ConversationId,
        after_seq: i64,
        limit: i64,
        visitor: bool,
    ) -> Result<MessagePage> {
        let limit = limit.clamp(1, 1000);
        let sql = if visitor {
            format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND public_seq IS NOT NULL \
                 AND kind <> 'note' AND public_seq > $2 ORDER BY public_seq LIMIT $3"
            )
        } else {
            format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            )
        };
        let rows: Vec<MessageRow> = on_db!(&self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(conversation.as_str())
                .bind(after_seq)
                .bind(limit + 1)
                .fetch_all(p)
                .await?
        });
        let has_more = rows.len() as i64 > limit;
        let mut items: Vec<Message> = rows
            .into_iter()
            .take(limit as usize)
            .map(Message::from)
            .collect();
        if visitor {
            items = items.iter().filter_map(Message::for_visitor).collect();
        }
        Ok(MessagePage { items, has_more })
    }
}

fn tab_filter(tab: Tab) -> (&'static str, bool) {
    match tab {
        Tab::Unassigned => ("c.status = 'open' AND $2 = $2", false),
        Tab::Mine => (
            "c.status = 'assigned' AND (c.assignee_id = $2 OR EXISTS (SELECT 1 FROM conversation_participants cp \
             WHERE cp.conversation_id = c.id AND cp.agent_id = $2))",
            true,
        ),
        Tab::All => ("c.status <> 'resolved' AND $2 = $2", false),
        Tab::Resolved => ("c.status = 'resolved' AND $2 = $2", false),
    }
}

/// A value bound to a placeholder of a statement built at run time.
enum Bind {
    Text(String),
    Int(i64),
}

/// The SQL of an inbox filter, each condition prefixed with ` AND `, numbering its
/// placeholders from `$first`; and the values to bind to them, in order. Only this crate's
/// own text goes into the SQL: every value is bound.
fn filter_clauses(f: &frontdesk_core::tags::InboxFilter, first: usize) -> (String, Vec<Bind>) {
    let mut sql = String::new();
    let mut binds = Vec::new();
    let mut add = |clause: &str, b: Bind| {
        let n = first + binds.len();
        sql.push_str(" AND ");
        sql.push_str(&clause.replace("$?", &format!("${n}")));
        binds.push(b);
    };
    if let Some(t) = &f.team {
        add("c.team_id = $?", Bind::Text(t.0.clone()));
    }
    if let Some(a) = &f.assignee {
        add("c.assignee_id = $?", Bind::Text(a.0.clone()));
    }
    if let Some(t) = &f.tag {
        add(
            "EXISTS (SELECT 1 FROM conversation_tags fg WHERE fg.conversation_id = c.id AND fg.tag_id = $?)",
            Bind::Text(t.0.clone()),
        );
    }
    if let Some(w) = &f.website {
        add("c.website_id = $?", Bind::Text(w.0.clone()));
    }
    if let Some(p) = f.priority {
        add("c.priority = $?", Bind::Text(priority_str(p).to_owned()));
    }
    let column = match f.date {
        frontdesk_core::tags::DateField::Created => "c.created_at",
        frontdesk_core::tags::DateField::Activity => "c.updated_at",
    };
    if let Some(from) = f.from {
        add(&format!("{column} >= $?"), Bind::Int(from));
    }
    if let Some(to) = f.to {
        add(&format!("{column} < $?"), Bind::Int(to));
    }
    (sql, binds)
}

fn parse_cursor(s: &str) -> Option<(i64, String)> {
    let (t, id) = s.split_once('_')?;
    let t = t.parse().ok()?;
    ConversationId::parse(id).ok().map(|id| (t, id.0))
}

impl Store {
    /// Runs one administrative statement (tests create databases with it). Never pass input.
    #[doc(hidden)]
    pub async fn execute_admin(&self, statement: &str) -> Result<()> {
        on_db!(&self.db, |p| {
            sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
                .execute(p)
                .await?;
        });
        Ok(())
    }
}

impl Store {
    /// The oldest organization, if any.
    pub async fn first_organization(&self) -> Result<Option<OrganizationId>> {
        on_db!(&self.db, |p| {
            let r: Option<(String,)> =
                sqlx::query_as("SELECT id FROM organizations ORDER BY created_at, id LIMIT 1")
                    .fetch_optional(p)
                    .await?;
            Ok(r.map(|(id,)| OrganizationId(id)))
        })
    }
}
