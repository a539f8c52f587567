//! Canned responses: an organization's shared ones and each agent's personal ones.
//!
//! Every statement takes the organization and the agent asking, and reaches only what that
//! agent may see: the shared list and their own. Another agent's personal response, like
//! another tenant's, reads as not found. Who may *change* a visible one (admins, for shared
//! ones) is the caller's rule; these functions change only the owner scope they are given.

use crate::{Result, Store, StoreError, entropy, now_ms, on_db};
use frontdesk_core::canned::*;
use frontdesk_core::*;

#[derive(sqlx::FromRow)]
struct CannedRow {
    id: String,
    owner_id: Option<String>,
    shortcut: String,
    title: String,
    body: String,
    updated_at: i64,
}

impl CannedRow {
    fn view(self) -> CannedResponse {
        CannedResponse {
            id: CannedResponseId(self.id),
            scope: if self.owner_id.is_some() {
                CannedScope::Personal
            } else {
                CannedScope::Shared
            },
            shortcut: self.shortcut,
            title: self.title,
            body: self.body,
            rendered: None,
            updated_at: self.updated_at,
        }
    }
}

/// The owner column of a scope, as the unique index sees it: `''` for the shared list.
fn owner_key(owner: Option<&AgentId>) -> &str {
    owner.map(AgentId::as_str).unwrap_or("")
}

/// A canned response's validated fields.
#[derive(Clone, Copy, Debug)]
pub struct CannedFields<'a> {
    pub shortcut: &'a Shortcut,
    pub title: &'a CannedTitle,
    pub body: &'a CannedBody,
}

impl Store {
    /// The shared canned responses of `org` and `me`'s personal ones, by shortcut (a personal
    /// one before a shared one with the same shortcut).
    pub async fn canned_responses(
        &self,
        org: &OrganizationId,
        me: &AgentId,
    ) -> Result<Vec<CannedResponse>> {
        let rows: Vec<CannedRow> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT id, owner_id, shortcut, title, body, updated_at FROM canned_responses \
                 WHERE organization_id = $1 AND (owner_id IS NULL OR owner_id = $2) \
                 ORDER BY shortcut, CASE WHEN owner_id IS NULL THEN 1 ELSE 0 END, id",
            )
            .bind(org.as_str())
            .bind(me.as_str())
            .fetch_all(p)
            .await?
        });
        Ok(rows.into_iter().map(CannedRow::view).collect())
    }

    /// One canned response, if `me` may see it (shared, or their own).
    pub async fn canned_response(
        &self,
        org: &OrganizationId,
        me: &AgentId,
        id: &CannedResponseId,
    ) -> Result<Option<CannedResponse>> {
        let row: Option<CannedRow> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT id, owner_id, shortcut, title, body, updated_at FROM canned_responses \
                 WHERE id = $1 AND organization_id = $2 AND (owner_id IS NULL OR owner_id = $3)",
            )
            .bind(id.as_str())
            .bind(org.as_str())
            .bind(me.as_str())
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(CannedRow::view))
    }

    /// Adds a canned response to the shared list (`owner` = `None`) or to `owner`'s own.
    /// `Ok(None)` when that list already holds `max` of them; `Conflict` when the shortcut is
    /// taken in that list. One statement, so the count and the insert see the same rows.
    pub async fn create_canned_response(
        &self,
        org: &OrganizationId,
        owner: Option<&AgentId>,
        f: CannedFields<'_>,
        max: usize,
    ) -> Result<Option<CannedResponse>> {
        let now = now_ms();
        let id = CannedResponseId::new(now, entropy());
        let inserted = on_db!(&self.db, |p| {
            sqlx::query(
                "INSERT INTO canned_responses \
                 (id, organization_id, owner_id, shortcut, title, body, created_at, updated_at) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $7 \
                 WHERE (SELECT COUNT(*) FROM canned_responses \
                        WHERE organization_id = $2 AND COALESCE(owner_id, '') = $8) < $9",
            )
            .bind(id.as_str())
            .bind(org.as_str())
            .bind(owner.map(AgentId::as_str))
            .bind(f.shortcut.as_str())
            .bind(f.title.as_str())
            .bind(f.body.as_str())
            .bind(now)
            .bind(owner_key(owner))
            .bind(max as i64)
            .execute(p)
            .await?
            .rows_affected()
        });
        if inserted == 0 {
            return Ok(None);
        }
        let me = owner.cloned().unwrap_or_else(|| AgentId(String::new()));
        self.canned_response(org, &me, &id)
            .await?
            .ok_or(StoreError::NotFound)
            .map(Some)
    }

    /// Changes a canned response of the shared list (`owner` = `None`) or of `owner`'s own;
    /// `NotFound` when it is not in that list.
    pub async fn update_canned_response(
        &self,
        org: &OrganizationId,
        owner: Option<&AgentId>,
        id: &CannedResponseId,
        f: CannedFields<'_>,
    ) -> Result<CannedResponse> {
        let n = on_db!(&self.db, |p| {
            sqlx::query(
                "UPDATE canned_responses SET shortcut = $4, title = $5, body = $6, updated_at = $7 \
                 WHERE id = $1 AND organization_id = $2 AND COALESCE(owner_id, '') = $3",
            )
            .bind(id.as_str())
            .bind(org.as_str())
            .bind(owner_key(owner))
            .bind(f.shortcut.as_str())
            .bind(f.title.as_str())
            .bind(f.body.as_str())
            .bind(now_ms())
            .execute(p)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let me = owner.cloned().unwrap_or_else(|| AgentId(String::new()));
        self.canned_response(org, &me, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Deletes a canned response of the shared list (`owner` = `None`) or of `owner`'s own;
    /// `NotFound` when it is not in that list.
    pub async fn delete_canned_response(
        &self,
        org: &OrganizationId,
        owner: Option<&AgentId>,
        id: &CannedResponseId,
    ) -> Result<()> {
        let n = on_db!(&self.db, |p| {
            sqlx::query(
                "DELETE FROM canned_responses \
                 WHERE id = $1 AND organization_id = $2 AND COALESCE(owner_id, '') = $3",
            )
            .bind(id.as_str())
            .bind(org.as_str())
            .bind(owner_key(owner))
            .execute(p)
            .await?
            .rows_affected()
        });
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }
}
