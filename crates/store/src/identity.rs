//! The JS SDK's storage: a site's identity secret (identity verification), contacts bound to a
//! site's own user id (`external_id`, one per site), and the events a page tracks (bounded per
//! contact). Plain queries: nothing here touches a conversation.

use crate::{Result, Store, StoreError, VisitContext, Website, entropy, on_db};
use frontdesk_core::contacts::{read_attributes, write_attributes};
use frontdesk_core::identity::{EVENT_TRAIL_MAX, VisitorEvent};
use frontdesk_core::protocol::Contact;
use frontdesk_core::*;

impl Store {
    /// A website's identity secret; `None` while verification is off (or for another
    /// organization's website).
    pub async fn identity_secret(
        &self,
        org: &OrganizationId,
        website: &WebsiteId,
    ) -> Result<Option<String>> {
        let r: Option<(Option<String>,)> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT identity_secret FROM websites WHERE id = $1 AND organization_id = $2",
            )
            .bind(website.as_str())
            .bind(org.as_str())
            .fetch_optional(p)
            .await?
        });
        Ok(r.and_then(|(s,)| s))
    }

    /// Turns verification on with `secret`, or off with `None`. `NotFound` for another
    /// organization's website.
    pub async fn set_identity_secret(
        &self,
        org: &OrganizationId,
        website: &WebsiteId,
        secret: Option<&str>,
    ) -> Result<()> {
        on_db!(&self.db, |p| {
            let n = sqlx::query(
                "UPDATE websites SET identity_secret = $3 WHERE id = $1 AND organization_id = $2",
            )
            .bind(website.as_str())
            .bind(org.as_str())
            .bind(secret)
            .execute(p)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
        });
        Ok(())
    }

    /// The contact of `site` that is the site's user `external_id` (following a merge), if any.
    pub async fn contact_by_external_id(
        &self,
        site: &WebsiteId,
        external_id: &str,
    ) -> Result<Option<Contact>> {
        let r: Option<(String,)> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT COALESCE(merged_into, id) FROM contacts WHERE website_id = $1 AND external_id = $2",
            )
            .bind(site.as_str())
            .bind(external_id)
            .fetch_optional(p)
            .await?
        });
        match r {
            Some((id,)) => self.contact(&ContactId(id)).await,
            None => Ok(None),
        }
    }

    /// The contact that is `site`'s user `external_id`, for a visitor whose identity was
    /// verified: the one already bound to it; else `current` (the visitor's contact) if it is
    /// bound to nobody yet; else a new contact. Never binds a contact bound to another user.
    /// Returns the contact and whether it is another one than `current`.
    pub async fn identified_contact(
        &self,
        site: &Website,
        current: Option<&ContactId>,
        external_id: &str,
        ctx: &VisitContext,
    ) -> Result<(Contact, bool)> {
        // Two tries: a concurrent identify of the same user may win the unique index.
        for _ in 0..2 {
            if let Some(c) = self.contact_by_external_id(&site.id, external_id).await? {
                let switched = current != Some(&c.id);
                return Ok((c, switched));
            }
            if let Some(cur) = current {
                let bound = on_db!(&self.db, |p| {
                    sqlx::query(
                        "UPDATE contacts SET external_id = $3 WHERE id = $1 AND website_id = $2 \
                         AND external_id IS NULL AND merged_into IS NULL",
                    )
                    .bind(cur.as_str())
                    .bind(site.id.as_str())
                    .bind(external_id)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
                });
                match bound {
                    Ok(1) => {
                        let c = self.contact(cur).await?.ok_or(StoreError::NotFound)?;
                        return Ok((c, false));
                    }
                    Ok(_) => {}
                    Err(e) => match StoreError::from(e) {
                        StoreError::Conflict => continue,
                        e => return Err(e),
                    },
                }
            }
            let c = self.create_contact(site, ctx).await?;
            let bound = on_db!(&self.db, |p| {
                sqlx::query("UPDATE contacts SET external_id = $2 WHERE id = $1")
                    .bind(c.id.as_str())
                    .bind(external_id)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
            });
            match bound {
                Ok(_) => return Ok((c, true)),
                Err(e) => match StoreError::from(e) {
                    // Someone else bound the user meanwhile: use theirs (the new contact stays
                    // an empty anonymous one).
                    StoreError::Conflict => continue,
                    e => return Err(e),
                },
            }
        }
        self.contact_by_external_id(&site.id, external_id)
            .await?
            .map(|c| (c, true))
            .ok_or(StoreError::NotFound)
    }

    /// The site's user id a contact is bound to, if any.
    pub async fn external_id(&self, contact: &ContactId) -> Result<Option<String>> {
        let r: Option<(Option<String>,)> = on_db!(&self.db, |p| {
            sqlx::query_as("SELECT external_id FROM contacts WHERE id = $1")
                .bind(contact.as_str())
                .fetch_optional(p)
                .await?
        });
        Ok(r.and_then(|(s,)| s))
    }

    /// Records an event a contact's page tracked; keeps the newest [`EVENT_TRAIL_MAX`].
    pub async fn record_event(
        &self,
        org: &OrganizationId,
        contact: &ContactId,
        event: &VisitorEvent,
    ) -> Result<()> {
        let id = ContactId::new(event.at, entropy()).0;
        on_db!(&self.db, |p| {
            let n = sqlx::query(
                "INSERT INTO contact_events (id, organization_id, contact_id, name, data, at) \
                 SELECT $1, organization_id, id, $4, $5, $6 FROM contacts WHERE id = $3 AND organization_id = $2",
            )
            .bind(&id)
            .bind(org.as_str())
            .bind(contact.as_str())
            .bind(&event.name)
            .bind(write_attributes(&event.data))
            .bind(event.at)
            .execute(p)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "DELETE FROM contact_events WHERE contact_id = $1 AND id NOT IN \
                 (SELECT id FROM contact_events WHERE contact_id = $1 ORDER BY at DESC, id DESC LIMIT $2)",
            )
            .bind(contact.as_str())
            .bind(EVENT_TRAIL_MAX)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// A contact's tracked events, newest first; another organization's contact has none.
    pub async fn contact_events(
        &self,
        org: &OrganizationId,
        contact: &ContactId,
    ) -> Result<Vec<VisitorEvent>> {
        let rows: Vec<(String, String, i64)> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT name, data, at FROM contact_events WHERE contact_id = $1 AND organization_id = $2 \
                 ORDER BY at DESC, id DESC LIMIT $3",
            )
            .bind(contact.as_str())
            .bind(org.as_str())
            .bind(EVENT_TRAIL_MAX)
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(name, data, at)| VisitorEvent {
                name,
                data: read_attributes(&data),
                at,
            })
            .collect())
    }
}
