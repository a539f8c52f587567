//! The statements of the widget's look (one JSON row per website, `widget_looks`) and of
//! agents' photos (`agent_photos`: which blob is whose photo). The rules of a look live in
//! `frontdesk_core::widget`; the photos' bytes live in the server's blob store.

use crate::BeginWrite;
use crate::{Result, Store, StoreError, on_db};
use frontdesk_core::widget::WidgetLook;
use frontdesk_core::{AgentId, OrganizationId, WebsiteId};

/// An agent as the look sees them: name, and photo's file id when they have one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentFace {
    pub id: AgentId,
    pub name: String,
    pub photo: Option<String>,
}

fn read_look(json: Option<String>) -> WidgetLook {
    json.and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default()
}

impl Store {
    /// A website's look (the default when never set); another organization's site reads as
    /// `NotFound`.
    pub async fn widget_look(&self, org: &OrganizationId, site: &WebsiteId) -> Result<WidgetLook> {
        on_db!(&self.db, |p| {
            let r: Option<(Option<String>,)> = sqlx::query_as(
                "SELECT l.look FROM websites w LEFT JOIN widget_looks l ON l.website_id = w.id \
                 WHERE w.id = $1 AND w.organization_id = $2",
            )
            .bind(site.as_str())
            .bind(org.as_str())
            .fetch_optional(p)
            .await?;
            r.map(|(j,)| read_look(j)).ok_or(StoreError::NotFound)
        })
    }

    /// Sets a website's look (checked by the caller with `WidgetLook::check`).
    pub async fn set_widget_look(
        &self,
        org: &OrganizationId,
        site: &WebsiteId,
        look: &WidgetLook,
        now: frontdesk_core::Millis,
    ) -> Result<()> {
        let json =
            serde_json::to_string(look).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        on_db!(&self.db, |p| {
            let n = sqlx::query(
                "INSERT INTO widget_looks (website_id, look, updated_at) \
                 SELECT id, $3, $4 FROM websites WHERE id = $1 AND organization_id = $2 \
                 ON CONFLICT (website_id) DO UPDATE SET look = excluded.look, updated_at = excluded.updated_at",
            )
            .bind(site.as_str())
            .bind(org.as_str())
            .bind(&json)
            .bind(now)
            .execute(p)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
        });
        Ok(())
    }

    /// The organization's agents with their photos, by name.
    pub async fn agent_faces(&self, org: &OrganizationId) -> Result<Vec<AgentFace>> {
        on_db!(&self.db, |p| {
            let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
                "SELECT a.id, a.name, ph.file_id FROM agents a \
                 LEFT JOIN agent_photos ph ON ph.agent_id = a.id \
                 WHERE a.organization_id = $1 ORDER BY a.name, a.id",
            )
            .bind(org.as_str())
            .fetch_all(p)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(id, name, photo)| AgentFace {
                    id: AgentId(id),
                    name,
                    photo,
                })
                .collect())
        })
    }

    /// Makes `file_id` the agent's photo; returns the file id of the photo it replaces, whose
    /// bytes the caller deletes. An agent of another organization is `NotFound`.
    pub async fn set_agent_photo(
        &self,
        org: &OrganizationId,
        agent: &AgentId,
        file_id: &str,
        content_type: &str,
        now: frontdesk_core::Millis,
    ) -> Result<Option<String>> {
        on_db!(&self.db, |p| {
            let mut tx = p.begin_write().await?;
            // Written first: it locks the agent's row (and on SQLite takes the write lock before
            // the read), and proves the agent is of this organization.
            let n = sqlx::query("UPDATE agents SET id = id WHERE id = $1 AND organization_id = $2")
                .bind(agent.as_str())
                .bind(org.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let old: Option<(String,)> =
                sqlx::query_as("SELECT file_id FROM agent_photos WHERE agent_id = $1")
                    .bind(agent.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            sqlx::query(
                "INSERT INTO agent_photos (agent_id, organization_id, file_id, content_type, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agent_id) DO UPDATE SET \
                 file_id = excluded.file_id, content_type = excluded.content_type, updated_at = excluded.updated_at",
            )
            .bind(agent.as_str())
            .bind(org.as_str())
            .bind(file_id)
            .bind(content_type)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(old.map(|(f,)| f))
        })
    }

    /// Removes the agent's photo; returns its file id (`None` when they had none). An agent of
    /// another organization has none.
    pub async fn clear_agent_photo(
        &self,
        org: &OrganizationId,
        agent: &AgentId,
    ) -> Result<Option<String>> {
        on_db!(&self.db, |p| {
            let r: Option<(String,)> = sqlx::query_as(
                "DELETE FROM agent_photos WHERE agent_id = $1 AND organization_id = $2 RETURNING file_id",
            )
            .bind(agent.as_str())
            .bind(org.as_str())
            .fetch_optional(p)
            .await?;
            Ok(r.map(|(f,)| f))
        })
    }

    /// The content type of the photo stored as `file_id`, when it is someone's photo now.
    pub async fn agent_photo(&self, file_id: &str) -> Result<Option<String>> {
        on_db!(&self.db, |p| {
            let r: Option<(String,)> =
                sqlx::query_as("SELECT content_type FROM agent_photos WHERE file_id = $1")
                    .bind(file_id)
                    .fetch_optional(p)
                    .await?;
            Ok(r.map(|(c,)| c))
        })
    }
}
