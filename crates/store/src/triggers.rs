//! The statements of proactive triggers: a website's rules (one checked JSON document) and
//! each rule's counts. A conversion is counted by the writer, in the transaction that stores
//! the greeting (`WriteOp::Greeted`); shows and accepts are counted here.

use crate::BeginWrite;
use crate::{Result, Store, StoreError, now_ms, on_db};
use frontdesk_core::triggers::{SiteTriggers, TriggerEvent, TriggerId, TriggerStats};
use frontdesk_core::{OrganizationId, WebsiteId};

impl Store {
    /// A website's triggers; another organization's website reads as not found. A site that
    /// never saved any has none.
    pub async fn site_triggers(
        &self,
        org: &OrganizationId,
        website: &WebsiteId,
    ) -> Result<SiteTriggers> {
        self.website_of(org, website).await?;
        self.widget_triggers(website).await
    }

    /// A website's triggers, for its widget (callers pass on the enabled ones only).
    pub async fn widget_triggers(&self, website: &WebsiteId) -> Result<SiteTriggers> {
        let raw: Option<(String,)> = on_db!(&self.db, |p| {
            sqlx::query_as("SELECT triggers FROM site_triggers WHERE website_id = $1")
                .bind(website.as_str())
                .fetch_optional(p)
                .await?
        });
        Ok(raw
            .and_then(|(j,)| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    /// Replaces a website's triggers (already checked by `triggers::validate`). Each rule keeps
    /// its counts; a removed rule's counts go with it.
    pub async fn set_site_triggers(
        &self,
        org: &OrganizationId,
        website: &WebsiteId,
        triggers: &SiteTriggers,
    ) -> Result<()> {
        self.website_of(org, website).await?;
        let json =
            serde_json::to_string(triggers).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let ids: Vec<&str> = triggers.rules.iter().map(|r| r.id.as_str()).collect();
        let now = now_ms();
        on_db!(&self.db, |p| {
            let mut tx = p.begin_write().await?;
            // Written first: on SQLite this takes the write lock before anything is read.
            sqlx::query(
                "INSERT INTO site_triggers (website_id, organization_id, triggers, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (website_id) DO UPDATE SET triggers = excluded.triggers, updated_at = excluded.updated_at",
            )
            .bind(website.as_str())
            .bind(org.as_str())
            .bind(&json)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let kept: Vec<(String,)> =
                sqlx::query_as("SELECT trigger_id FROM trigger_counts WHERE website_id = $1")
                    .bind(website.as_str())
                    .fetch_all(&mut *tx)
                    .await?;
            for (old,) in &kept {
                if !ids.contains(&old.as_str()) {
                    sqlx::query(
                        "DELETE FROM trigger_counts WHERE website_id = $1 AND trigger_id = $2",
                    )
                    .bind(website.as_str())
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            for id in &ids {
                sqlx::query(
                    "INSERT INTO trigger_counts (website_id, trigger_id) VALUES ($1, $2) \
                     ON CONFLICT (website_id, trigger_id) DO NOTHING",
                )
                .bind(website.as_str())
                .bind(*id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Each rule's counts, in the order of the site's rules.
    pub async fn trigger_stats(
        &self,
        org: &OrganizationId,
        website: &WebsiteId,
    ) -> Result<Vec<TriggerStats>> {
        self.website_of(org, website).await?;
        let rows: Vec<(String, i64, i64, i64)> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT trigger_id, shows, accepts, conversions FROM trigger_counts WHERE website_id = $1 ORDER BY trigger_id",
            )
            .bind(website.as_str())
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, shows, accepts, conversions)| TriggerStats {
                trigger_id: TriggerId(id),
                shows,
                accepts,
                conversions,
            })
            .collect())
    }

    /// Counts a show or an accept of a site's rule; false when the site has no such rule.
    pub async fn count_trigger(
        &self,
        website: &WebsiteId,
        trigger: &TriggerId,
        event: TriggerEvent,
    ) -> Result<bool> {
        let column_sql = match event {
            TriggerEvent::Shown => {
                "UPDATE trigger_counts SET shows = shows + 1 WHERE website_id = $1 AND trigger_id = $2"
            }
            TriggerEvent::Accepted => {
                "UPDATE trigger_counts SET accepts = accepts + 1 WHERE website_id = $1 AND trigger_id = $2"
            }
        };
        let n = on_db!(&self.db, |p| {
            sqlx::query(column_sql)
                .bind(website.as_str())
                .bind(trigger.as_str())
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Fails with `NotFound` unless the website belongs to the organization.
    async fn website_of(&self, org: &OrganizationId, website: &WebsiteId) -> Result<()> {
        let found: Option<(String,)> = on_db!(&self.db, |p| {
            sqlx::query_as("SELECT id FROM websites WHERE id = $1 AND organization_id = $2")
                .bind(website.as_str())
                .bind(org.as_str())
                .fetch_optional(p)
                .await?
        });
        found.map(|_| ()).ok_or(StoreError::NotFound)
    }
}
