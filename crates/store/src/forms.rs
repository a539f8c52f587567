//! The widget's forms: a site's pre-chat form and end-of-chat settings, the answers a visitor
//! gave (waiting on the contact until the writer creates their conversation, which takes
//! them), and conversations' ratings (one each; a second replaces the first).

use crate::BeginWrite;
use crate::{Result, Store, StoreError, entropy, on_db};
use frontdesk_core::prechat::{
    ConversationFeedback, EndOfChat, FormAnswer, PrechatForm, Rating, SiteForms, SubmittedForm,
};
use frontdesk_core::*;

type FormsRow = (String, i64, i64);

fn forms_of(r: FormsRow) -> SiteForms {
    SiteForms {
        // A row written by this code always reads back; a bad one reads as no form.
        prechat: serde_json::from_str::<PrechatForm>(&r.0).unwrap_or_default(),
        end_of_chat: EndOfChat {
            csat: r.1 != 0,
            ces: r.2 != 0,
        },
    }
}

impl Store {
    /// A site's forms; the defaults (no pre-chat form, CSAT asked, CES not) until an admin
    /// saves some. For the widget, which knows the site by its key.
    pub async fn site_forms(&self, website: &WebsiteId) -> Result<SiteForms> {
        let r: Option<FormsRow> = on_db!(&self.db, |p| {
            sqlx::query_as("SELECT prechat, csat, ces FROM site_forms WHERE website_id = $1")
                .bind(website.as_str())
                .fetch_optional(p)
                .await?
        });
        Ok(r.map(forms_of).unwrap_or_default())
    }

    /// A site's forms, for agents of `org`; `NotFound` for a site of another organization.
    pub async fn site_forms_in_org(
        &self,
        org: &OrganizationId,
        website: &WebsiteId,
    ) -> Result<SiteForms> {
        let found: Option<(String,)> = on_db!(&self.db, |p| {
            sqlx::query_as("SELECT id FROM websites WHERE id = $1 AND organization_id = $2")
                .bind(website.as_str())
                .bind(org.as_str())
                .fetch_optional(p)
                .await?
        });
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        self.site_forms(website).await
    }

    /// Saves a site's forms (checked by the caller); `NotFound` for another organization's site.
    pub async fn save_site_forms(
        &self,
        org: &OrganizationId,
        website: &WebsiteId,
        forms: &SiteForms,
        now: Millis,
    ) -> Result<SiteForms> {
        let prechat = serde_json::to_string(&forms.prechat).unwrap_or_else(|_| "{}".into());
        on_db!(&self.db, |p| {
            let n = sqlx::query(
                "INSERT INTO site_forms (website_id, organization_id, prechat, csat, ces, updated_at) \
                 SELECT id, organization_id, $3, $4, $5, $6 FROM websites WHERE id = $1 AND organization_id = $2 \
                 ON CONFLICT (website_id) DO UPDATE SET prechat = excluded.prechat, csat = excluded.csat, \
                 ces = excluded.ces, updated_at = excluded.updated_at",
            )
            .bind(website.as_str())
            .bind(org.as_str())
            .bind(&prechat)
            .bind(forms.end_of_chat.csat as i64)
            .bind(forms.end_of_chat.ces as i64)
            .bind(now)
            .execute(p)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
        });
        self.site_forms(website).await
    }

    /// Keeps a visitor's pre-chat answers: with `conversation` when they have one, else waiting
    /// on the contact for the conversation their first message creates. Answers given again
    /// replace the earlier ones of the same conversation (or the waiting ones).
    pub async fn save_form_answers(
        &self,
        org: &OrganizationId,
        contact: &ContactId,
        conversation: Option<&ConversationId>,
        answers: &[FormAnswer],
        offline: bool,
        now: Millis,
    ) -> Result<()> {
        let id = MessageId::new(now, entropy()).0;
        let json = serde_json::to_string(answers).unwrap_or_else(|_| "[]".into());
        let conv = conversation.map(|c| c.as_str());
        on_db!(&self.db, |p| {
            let mut tx = p.begin_write().await?;
            // The delete comes first: on SQLite it takes the write lock before anything is read.
            sqlx::query(
                "DELETE FROM form_answers WHERE contact_id = $1 AND organization_id = $2 \
                 AND (conversation_id = $3 OR (conversation_id IS NULL AND $3 IS NULL))",
            )
            .bind(contact.as_str())
            .bind(org.as_str())
            .bind(conv)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO form_answers (id, organization_id, contact_id, conversation_id, answers, offline, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(org.as_str())
            .bind(contact.as_str())
            .bind(conv)
            .bind(&json)
            .bind(offline as i64)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// What the visitor told about a conversation of `org`: the pre-chat answers it took and its
    /// rating. Another organization's conversation reads as empty.
    pub async fn conversation_feedback(
        &self,
        org: &OrganizationId,
        conversation: &ConversationId,
    ) -> Result<ConversationFeedback> {
        type AnswersRow = (String, i64, i64);
        type RatingRow = (i64, Option<i64>, Option<String>, i64);
        let (form, rating): (Option<AnswersRow>, Option<RatingRow>) = on_db!(&self.db, |p| {
            let form = sqlx::query_as(
                "SELECT answers, offline, created_at FROM form_answers \
                 WHERE conversation_id = $1 AND organization_id = $2 ORDER BY created_at DESC, id DESC LIMIT 1",
            )
            .bind(conversation.as_str())
            .bind(org.as_str())
            .fetch_optional(p)
            .await?;
            let rating = sqlx::query_as(
                "SELECT csat, ces, comment, updated_at FROM conversation_ratings \
                 WHERE conversation_id = $1 AND organization_id = $2",
            )
            .bind(conversation.as_str())
            .bind(org.as_str())
            .fetch_optional(p)
            .await?;
            (form, rating)
        });
        Ok(ConversationFeedback {
            form: form.map(|(answers, offline, at)| SubmittedForm {
                answers: serde_json::from_str(&answers).unwrap_or_default(),
                offline: offline != 0,
                submitted_at: at,
            }),
            rating: rating.map(|(csat, ces, comment, at)| Rating {
                csat: csat.clamp(1, 5) as u8,
                ces: ces.map(|c| c.clamp(1, 5) as u8),
                comment,
                rated_at: at,
            }),
        })
    }

    /// Stores the rating of a conversation of `org` (checked by the caller: the visitor's own,
    /// resolved); a conversation's second rating replaces its first.
    pub async fn rate_conversation(
        &self,
        org: &OrganizationId,
        conversation: &ConversationId,
        r: &Rating,
    ) -> Result<()> {
        on_db!(&self.db, |p| {
            let n = sqlx::query(
                "INSERT INTO conversation_ratings (conversation_id, organization_id, csat, ces, comment, created_at, updated_at) \
                 SELECT id, organization_id, $3, $4, $5, $6, $6 FROM conversations WHERE id = $1 AND organization_id = $2 \
                 ON CONFLICT (conversation_id) DO UPDATE SET csat = excluded.csat, ces = excluded.ces, \
                 comment = excluded.comment, updated_at = excluded.updated_at",
            )
            .bind(conversation.as_str())
            .bind(org.as_str())
            .bind(r.csat as i64)
            .bind(r.ces.map(i64::from))
            .bind(r.comment.as_deref())
            .bind(r.rated_at)
            .execute(p)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
        });
        Ok(())
    }
}
