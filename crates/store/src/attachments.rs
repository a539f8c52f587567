//! Files of conversations: what is known about each (the bytes live in the server's blob
//! store, under the same id).
//!
//! A file is uploaded first and is unsent until the writer binds it to the message that sends
//! it (`WriteOp::Send { attachments }`), under the conversation's lock, once. Who may fetch a
//! file is decided here: an agent of its organization; its visitor, once it was sent in their
//! conversation and not in a note (or, before it is sent, the visitor who uploaded it). Anyone
//! else reads it as not found.

use crate::{Result, Store, StoreError, on_db};
use frontdesk_core::files::{Attachment, AttachmentId};
use frontdesk_core::*;

/// Most unsent files one person may upload in [`UNSENT_WINDOW_MS`]: a bound on what a visitor
/// can leave on disk without sending anything.
pub const MAX_UNSENT_FILES: i64 = 20;
/// The window of [`MAX_UNSENT_FILES`]: an hour.
pub const UNSENT_WINDOW_MS: i64 = 3_600_000;

/// Who uploaded a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Uploader {
    Visitor(ContactId),
    Agent(AgentId),
}

impl Uploader {
    pub(crate) fn columns(&self) -> (&'static str, &str) {
        match self {
            Uploader::Visitor(c) => ("visitor", c.as_str()),
            Uploader::Agent(a) => ("agent", a.as_str()),
        }
    }
}

/// A file just received, checked and stored as bytes.
#[derive(Clone, Debug)]
pub struct NewAttachment {
    pub id: AttachmentId,
    pub organization_id: OrganizationId,
    /// Agents upload to a conversation; a visitor's file names its conversation when sent.
    pub conversation_id: Option<ConversationId>,
    pub uploader: Uploader,
    /// Already made safe (`files::safe_name`).
    pub name: String,
    /// Told from the bytes (`files::sniff`).
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
}

impl Store {
    /// Records an uploaded file, unsent. `TooManyFiles` when the uploader already has
    /// [`MAX_UNSENT_FILES`] unsent files from the last hour.
    pub async fn create_attachment(&self, a: &NewAttachment, now: Millis) -> Result<Attachment> {
        let (kind, uploader) = a.uploader.columns();
        let n = on_db!(&self.db, |p| {
            sqlx::query(
                "INSERT INTO attachments (id, organization_id, conversation_id, uploader_kind, uploader_id, \
                 name, content_type, size, sha256, created_at) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 \
                 WHERE (SELECT COUNT(*) FROM attachments WHERE uploader_id = $5 AND message_id IS NULL \
                 AND created_at > $11) < $12",
            )
            .bind(a.id.as_str())
            .bind(a.organization_id.as_str())
            .bind(a.conversation_id.as_ref().map(|c| c.as_str()))
            .bind(kind)
            .bind(uploader)
            .bind(&a.name)
            .bind(&a.content_type)
            .bind(a.size)
            .bind(&a.sha256)
            .bind(now)
            .bind(now - UNSENT_WINDOW_MS)
            .bind(MAX_UNSENT_FILES)
            .execute(p)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::TooManyFiles);
        }
        Ok(Attachment::new(
            a.id.clone(),
            a.name.clone(),
            a.content_type.clone(),
            a.size,
        ))
    }

    /// A file of `org`, for one of its agents.
    pub async fn attachment_for_agent(
        &self,
        org: &OrganizationId,
        id: &AttachmentId,
    ) -> Result<Option<Attachment>> {
        let row: Option<(String, String, i64)> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT name, content_type, size FROM attachments WHERE id = $1 AND organization_id = $2",
            )
            .bind(id.as_str())
            .bind(org.as_str())
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(|(name, ct, size)| Attachment::new(id.clone(), name, ct, size)))
    }

    /// A file the visitor `contact` may see: sent in their conversation, not in a note; or
    /// uploaded by them and not sent yet.
    pub async fn attachment_for_visitor(
        &self,
        contact: &ContactId,
        id: &AttachmentId,
    ) -> Result<Option<Attachment>> {
        let row: Option<(String, String, i64)> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT a.name, a.content_type, a.size FROM attachments a \
                 LEFT JOIN messages m ON m.id = a.message_id \
                 LEFT JOIN conversations c ON c.id = m.conversation_id \
                 WHERE a.id = $1 AND ( \
                   (a.message_id IS NULL AND a.uploader_kind = 'visitor' AND a.uploader_id = $2) \
                   OR (m.kind <> 'note' AND c.contact_id = $2))",
            )
            .bind(id.as_str())
            .bind(contact.as_str())
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(|(name, ct, size)| Attachment::new(id.clone(), name, ct, size)))
    }

    /// Files uploaded before `cutoff` and never sent, oldest first.
    pub async fn unsent_attachments_before(
        &self,
        cutoff: Millis,
        limit: i64,
    ) -> Result<Vec<AttachmentId>> {
        let rows: Vec<(String,)> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT id FROM attachments WHERE message_id IS NULL AND created_at < $1 \
                 ORDER BY created_at, id LIMIT $2",
            )
            .bind(cutoff)
            .bind(limit)
            .fetch_all(p)
            .await?
        });
        Ok(rows.into_iter().map(|(id,)| AttachmentId(id)).collect())
    }

    /// Forgets a file if it is still unsent; returns whether it did (then its bytes may go).
    /// A send that binds it at the same moment wins or loses as a whole: the writer holds the
    /// row's lock while it binds it.
    pub async fn delete_unsent_attachment(&self, id: &AttachmentId) -> Result<bool> {
        let n = on_db!(&self.db, |p| {
            sqlx::query("DELETE FROM attachments WHERE id = $1 AND message_id IS NULL")
                .bind(id.as_str())
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }
}
