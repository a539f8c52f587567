//! Bans: who may not chat with an organization, by visitor and by IP address.

use crate::{Result, Store, StoreError, entropy, on_db};
use frontdesk_core::bans::{BanView, ban_holds};
use frontdesk_core::*;

/// A new ban; the caller has checked that the contact belongs to the organization.
#[derive(Clone, Debug)]
pub struct NewBan<'a> {
    pub organization_id: &'a OrganizationId,
    pub contact_id: &'a ContactId,
    pub ip: Option<&'a str>,
    pub reason: &'a str,
    pub created_by: &'a AgentId,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
}

type BanRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
);

const BAN_SELECT: &str = "SELECT b.id, b.contact_id, ct.name, b.ip, b.reason, b.created_by, a.name, \
    b.created_at, b.expires_at FROM bans b LEFT JOIN contacts ct ON ct.id = b.contact_id \
    LEFT JOIN agents a ON a.id = b.created_by";

fn view(r: BanRow) -> BanView {
    BanView {
        id: r.0,
        contact_id: r.1.map(ContactId),
        contact_name: r.2,
        ip: r.3,
        reason: r.4,
        created_by: r.5.map(AgentId),
        created_by_name: r.6,
        created_at: r.7,
        expires_at: r.8,
    }
}

impl Store {
    /// Remembers the address a visitor last came from (for a ban by IP).
    pub async fn record_contact_ip(&self, contact: &ContactId, ip: &str) -> Result<()> {
        on_db!(&self.db, |p| {
            sqlx::query("UPDATE contacts SET last_ip = $2 WHERE id = $1")
                .bind(contact.as_str())
                .bind(ip)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// The address a contact of `org` last came from.
    pub async fn contact_ip(
        &self,
        org: &OrganizationId,
        contact: &ContactId,
    ) -> Result<Option<String>> {
        on_db!(&self.db, |p| {
            let r: Option<(Option<String>,)> = sqlx::query_as(
                "SELECT last_ip FROM contacts WHERE id = $1 AND organization_id = $2",
            )
            .bind(contact.as_str())
            .bind(org.as_str())
            .fetch_optional(p)
            .await?;
            Ok(r.and_then(|(ip,)| ip))
        })
    }

    pub async fn create_ban(&self, b: &NewBan<'_>) -> Result<BanView> {
        let id = MessageId::new(b.created_at, entropy()).0;
        on_db!(&self.db, |p| {
            sqlx::query(
                "INSERT INTO bans (id, organization_id, contact_id, ip, reason, created_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&id)
            .bind(b.organization_id.as_str())
            .bind(b.contact_id.as_str())
            .bind(b.ip)
            .bind(b.reason)
            .bind(b.created_by.as_str())
            .bind(b.created_at)
            .bind(b.expires_at)
            .execute(p)
            .await?;
        });
        let row: Option<BanRow> = on_db!(&self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{BAN_SELECT} WHERE b.id = $1")))
                .bind(&id)
                .fetch_optional(p)
                .await?
        });
        row.map(view).ok_or(StoreError::NotFound)
    }

    /// The bans of an organization that still hold at `now`, newest first.
    pub async fn bans(&self, org: &OrganizationId, now: Millis) -> Result<Vec<BanView>> {
        let rows: Vec<BanRow> = on_db!(&self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{BAN_SELECT} WHERE b.organization_id = $1 AND (b.expires_at IS NULL OR b.expires_at > $2) \
                 ORDER BY b.created_at DESC, b.id DESC"
            )))
            .bind(org.as_str())
            .bind(now)
            .fetch_all(p)
            .await?
        });
        Ok(rows.into_iter().map(view).collect())
    }

    /// Lifts a ban.
    pub async fn delete_ban(&self, org: &OrganizationId, id: &str) -> Result<()> {
        on_db!(&self.db, |p| {
            let n = sqlx::query("DELETE FROM bans WHERE id = $1 AND organization_id = $2")
                .bind(id)
                .bind(org.as_str())
                .execute(p)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
        });
        Ok(())
    }

    /// Whether this visitor, or this address, is banned by the organization at `now`.
    /// One indexed lookup; used on every widget session and visitor socket.
    pub async fn is_banned(
        &self,
        org: &OrganizationId,
        contact: Option<&ContactId>,
        ip: Option<&str>,
        now: Millis,
    ) -> Result<bool> {
        if contact.is_none() && ip.is_none() {
            return Ok(false);
        }
        let rows: Vec<(Option<i64>,)> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT expires_at FROM bans WHERE organization_id = $1 AND (contact_id = $2 OR ip = $3)",
            )
            .bind(org.as_str())
            .bind(contact.map(|c| c.as_str()))
            .bind(ip)
            .fetch_all(p)
            .await?
        });
        Ok(rows.into_iter().any(|(e,)| ban_holds(e, now)))
    }
}
