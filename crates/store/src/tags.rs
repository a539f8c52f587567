//! The statements of an organization's tag list. Putting a tag on a conversation or taking it
//! off changes the conversation, so it goes through the writer (`WriteOp::SetTag`); the list
//! itself (create, rename, recolour, delete) is plain queries here.
//!
//! Uniqueness is on `(organization_id, name_key)`, where `name_key` is [`TagName::key`]: the
//! name lower-cased in Rust, so both databases compare the same way.

use crate::{Result, Store, StoreError, entropy, now_ms, on_db};
use frontdesk_core::tags::{MAX_TAGS_PER_ORGANIZATION, Tag, TagColor, TagName};
use frontdesk_core::{OrganizationId, TagId};

#[derive(sqlx::FromRow)]
struct TagRow {
    id: String,
    name: String,
    color: String,
}

impl From<TagRow> for Tag {
    fn from(r: TagRow) -> Self {
        Tag {
            id: TagId(r.id),
            name: r.name,
            color: TagColor::parse(&r.color),
        }
    }
}

impl Store {
    /// The organization's tags, sorted by name (case-folded).
    pub async fn tags(&self, org: &OrganizationId) -> Result<Vec<Tag>> {
        on_db!(&self.db, |p| {
            let rows: Vec<TagRow> = sqlx::query_as(
                "SELECT id, name, color FROM tags WHERE organization_id = $1 ORDER BY name_key, id",
            )
            .bind(org.as_str())
            .fetch_all(p)
            .await?;
            Ok(rows.into_iter().map(Tag::from).collect())
        })
    }

    /// A tag of the organization; another organization's reads as `None`.
    pub async fn tag(&self, org: &OrganizationId, id: &TagId) -> Result<Option<Tag>> {
        on_db!(&self.db, |p| {
            let r: Option<TagRow> = sqlx::query_as(
                "SELECT id, name, color FROM tags WHERE id = $1 AND organization_id = $2",
            )
            .bind(id.as_str())
            .bind(org.as_str())
            .fetch_optional(p)
            .await?;
            Ok(r.map(Tag::from))
        })
    }

    async fn tag_by_name(&self, org: &OrganizationId, name: &TagName) -> Result<Option<Tag>> {
        on_db!(&self.db, |p| {
            let r: Option<TagRow> = sqlx::query_as(
                "SELECT id, name, color FROM tags WHERE organization_id = $1 AND name_key = $2",
            )
            .bind(org.as_str())
            .bind(name.key())
            .fetch_optional(p)
            .await?;
            Ok(r.map(Tag::from))
        })
    }

    /// Inserts a tag unless the name is taken or the organization is at its limit; whether a
    /// row went in. One statement, so the count and the insert see the same table.
    async fn insert_tag(
        &self,
        org: &OrganizationId,
        id: &TagId,
        name: &TagName,
        color: TagColor,
    ) -> Result<bool> {
        let n = on_db!(&self.db, |p| {
            sqlx::query(
                "INSERT INTO tags (id, organization_id, name, name_key, color, created_at) \
                 SELECT $1, $2, $3, $4, $5, $6 \
                 WHERE (SELECT COUNT(*) FROM tags WHERE organization_id = $2) < $7 \
                 ON CONFLICT (organization_id, name_key) DO NOTHING",
            )
            .bind(id.as_str())
            .bind(org.as_str())
            .bind(name.as_str())
            .bind(name.key())
            .bind(color.as_str())
            .bind(now_ms())
            .bind(MAX_TAGS_PER_ORGANIZATION)
            .execute(p)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    /// Creates a tag. `Conflict` when the organization has one of that name in any case,
    /// `TooManyTags` at the limit.
    pub async fn create_tag(
        &self,
        org: &OrganizationId,
        name: &TagName,
        color: TagColor,
    ) -> Result<Tag> {
        let id = TagId::new(now_ms(), entropy());
        if self.insert_tag(org, &id, name, color).await? {
            return Ok(Tag {
                id,
                name: name.as_str().to_owned(),
                color,
            });
        }
        match self.tag_by_name(org, name).await? {
            Some(_) => Err(StoreError::Conflict),
            None => Err(StoreError::TooManyTags),
        }
    }

    /// The organization's tag of this name (in any case), created with `color` if there is
    /// none; `true` with it when it was created now. Two agents naming the same new tag at
    /// once get the same tag.
    pub async fn tag_named(
        &self,
        org: &OrganizationId,
        name: &TagName,
        color: TagColor,
    ) -> Result<(Tag, bool)> {
        if let Some(t) = self.tag_by_name(org, name).await? {
            return Ok((t, false));
        }
        let id = TagId::new(now_ms(), entropy());
        if self.insert_tag(org, &id, name, color).await? {
            let t = Tag {
                id,
                name: name.as_str().to_owned(),
                color,
            };
            return Ok((t, true));
        }
        match self.tag_by_name(org, name).await? {
            Some(t) => Ok((t, false)),
            None => Err(StoreError::TooManyTags),
        }
    }

    /// Renames and/or recolours a tag. `NotFound` for another organization's, `Conflict`
    /// when the new name is another tag's.
    pub async fn update_tag(
        &self,
        org: &OrganizationId,
        id: &TagId,
        name: Option<&TagName>,
        color: Option<TagColor>,
    ) -> Result<Tag> {
        let n = on_db!(&self.db, |p| {
            sqlx::query(
                "UPDATE tags SET name = COALESCE($3, name), name_key = COALESCE($4, name_key), \
                 color = COALESCE($5, color) WHERE id = $1 AND organization_id = $2",
            )
            .bind(id.as_str())
            .bind(org.as_str())
            .bind(name.map(TagName::as_str))
            .bind(name.map(TagName::key))
            .bind(color.map(TagColor::as_str))
            .execute(p)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.tag(org, id).await?.ok_or(StoreError::NotFound)
    }

    /// Deletes a tag; it comes off every conversation that carried it (no note is written:
    /// the `tags` frame tells the dashboards). `NotFound` for another organization's.
    pub async fn delete_tag(&self, org: &OrganizationId, id: &TagId) -> Result<()> {
        let n = on_db!(&self.db, |p| {
            sqlx::query("DELETE FROM tags WHERE id = $1 AND organization_id = $2")
                .bind(id.as_str())
                .bind(org.as_str())
                .execute(p)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
