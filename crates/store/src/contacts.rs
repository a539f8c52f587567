//! Contacts as profiles: reading and editing one, the contacts list (search, filters, cursor
//! pages), a contact's conversations, merging two contacts, and finding the contact a visitor
//! token stands for once its contact was merged away.
//!
//! Every statement an agent reaches takes the organization; another tenant's contact, and a
//! contact merged into another, read as not found.
//!
//! A merge runs in one transaction: the kept contact takes the merged profile
//! (`frontdesk_core::contacts::merge`) and the newer visit context; the other contact's
//! conversations, page views, visit and bans move to it; the other contact (and any contact
//! merged into it earlier) points at it with `merged_into`, so a merged contact never lists
//! again and its visitor token leads to the kept one. It changes no message and no `seq`:
//! moving a conversation changes only whose it is.

use crate::BeginWrite;
use crate::rows::{CONTACT_SELECT, ContactRow};
use crate::{Db, Result, Store, StoreError, on_db, sql};
use frontdesk_core::contacts::*;
use frontdesk_core::protocol::Contact;
use frontdesk_core::visitors::PAGE_TRAIL_MAX;
use frontdesk_core::*;

#[derive(sqlx::FromRow)]
struct ProfileRow {
    id: String,
    website_id: String,
    website_name: String,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    company: Option<String>,
    attributes: String,
    created_at: i64,
    last_seen_at: i64,
    conversation_count: i64,
}

const PROFILE_SELECT: &str = "SELECT ct.id, ct.website_id, w.name AS website_name, ct.name, \
    ct.email, ct.phone, ct.company, ct.attributes, ct.created_at, ct.last_seen_at, \
    (SELECT COUNT(*) FROM conversations cv WHERE cv.contact_id = ct.id) AS conversation_count \
    FROM contacts ct JOIN websites w ON w.id = ct.website_id";

/// Who the contacts list shows: people, not every anonymous page view. A contact is listed
/// once they have a name, email, phone or company, or have talked to the organization.
const LISTED: &str = "(ct.name IS NOT NULL OR ct.email IS NOT NULL OR ct.phone IS NOT NULL \
    OR ct.company IS NOT NULL OR EXISTS (SELECT 1 FROM conversations lc WHERE lc.contact_id = ct.id))";

impl ProfileRow {
    fn view(self) -> ContactProfile {
        ContactProfile {
            id: ContactId(self.id),
            website_id: WebsiteId(self.website_id),
            website_name: self.website_name,
            name: self.name,
            email: self.email,
            phone: self.phone,
            company: self.company,
            attributes: read_attributes(&self.attributes),
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            conversation_count: self.conversation_count,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ConversationRow {
    id: String,
    status: String,
    website_name: String,
    assignee_id: Option<String>,
    assignee_name: Option<String>,
    last_message_preview: Option<String>,
    last_message_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

/// What a merge reads of each contact: the profile and the visit context.
#[derive(sqlx::FromRow)]
struct MergeRow {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    company: Option<String>,
    attributes: String,
    created_at: i64,
    last_seen_at: i64,
    current_url: Option<String>,
    page_title: Option<String>,
    referrer: Option<String>,
    browser: Option<String>,
    os: Option<String>,
    device: Option<String>,
    language: Option<String>,
    timezone: Option<String>,
    last_ip: Option<String>,
}

const MERGE_SELECT: &str = "SELECT name, email, phone, company, attributes, created_at, \
    last_seen_at, current_url, page_title, referrer, browser, os, device, language, timezone, \
    last_ip FROM contacts WHERE id = $1";

impl MergeRow {
    fn profile(&self) -> Profile {
        Profile {
            name: self.name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            company: self.company.clone(),
            attributes: read_attributes(&self.attributes),
        }
    }
}

/// What a merge did.
#[derive(Clone, Debug)]
pub struct MergeOutcome {
    /// The kept contact, with its conversations.
    pub detail: ContactDetail,
    /// The conversations that moved to the kept contact.
    pub moved: Vec<ConversationId>,
}

/// A value bound to a placeholder of a statement built at run time.
enum Bind {
    Text(String),
    Int(i64),
}

/// `%text%` for `LIKE … ESCAPE '\'`: the text's own `%`, `_` and `\` match only themselves.
fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The phone number's digits, for a search typed without separators (`+49301234`).
const PHONE_DIGITS: &str = "REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(COALESCE(ct.phone, ''), ' ', ''), \
    '-', ''), '(', ''), ')', ''), '+', '')";

/// The SQL of the list's conditions, each prefixed with ` AND `, numbering placeholders from
/// `$first`, and the values to bind in order. Only this crate's text goes into the SQL.
fn filter_clauses(db: &Db, f: &ContactFilter, first: usize) -> (String, Vec<Bind>) {
    let mut sql = String::new();
    let mut binds: Vec<Bind> = Vec::new();
    // `$?` is the next placeholder, `$?2` the one after it.
    let mut add = |clause: &str, b: Vec<Bind>| {
        let n = first + binds.len();
        sql.push_str(" AND ");
        sql.push_str(
            &clause
                .replace("$?2", &format!("${}", n + 1))
                .replace("$?", &format!("${n}")),
        );
        binds.extend(b);
    };
    if let Some(q) = &f.search {
        let mut clause = String::from("(");
        for (i, col) in ["ct.name", "ct.email", "ct.phone", "ct.company"]
            .iter()
            .enumerate()
        {
            if i > 0 {
                clause.push_str(" OR ");
            }
            clause.push_str(&format!("LOWER(COALESCE({col}, '')) LIKE $? ESCAPE '\\'"));
        }
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        let phone_like = digits.len() >= 3
            && q.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '+'));
        if phone_like {
            clause.push_str(&format!(" OR {PHONE_DIGITS} LIKE $?2"));
            clause.push(')');
            add(
                &clause,
                vec![
                    Bind::Text(like_pattern(q)),
                    Bind::Text(like_pattern(&digits)),
                ],
            );
        } else {
            clause.push(')');
            add(&clause, vec![Bind::Text(like_pattern(q))]);
        }
    }
    if let Some(w) = &f.website {
        add("ct.website_id = $?", vec![Bind::Text(w.0.clone())]);
    }
    match f.has_email {
        Some(true) => add("ct.email IS NOT NULL AND ct.email <> ''", vec![]),
        Some(false) => add("(ct.email IS NULL OR ct.email = '')", vec![]),
        None => {}
    }
    if let Some(t) = f.seen_after {
        add("ct.last_seen_at >= $?", vec![Bind::Int(t)]);
    }
    if let Some(t) = f.seen_before {
        add("ct.last_seen_at < $?", vec![Bind::Int(t)]);
    }
    for (key, value) in &f.attributes {
        // The one piece of SQL that differs per database: reading a JSON value as text.
        // Both give `true`/`false` for booleans and the number as written for numbers.
        match db {
            Db::Sqlite(_) => add(
                "(CASE json_type(ct.attributes, $?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
                 ELSE CAST(json_extract(ct.attributes, $?) AS TEXT) END) = $?2",
                vec![
                    Bind::Text(format!("$.\"{key}\"")),
                    Bind::Text(value.clone()),
                ],
            ),
            Db::Postgres(_) => add(
                "(CAST(ct.attributes AS jsonb) ->> $?) = $?2",
                vec![Bind::Text(key.clone()), Bind::Text(value.clone())],
            ),
        }
    }
    (sql, binds)
}

impl Store {
    /// A contact of `org` as agents see it; merged ones and other tenants' read as `None`.
    pub async fn contact_profile(
        &self,
        org: &OrganizationId,
        id: &ContactId,
    ) -> Result<Option<ContactProfile>> {
        let row: Option<ProfileRow> = on_db!(&self.db, |p| {
            sqlx::query_as(crate::sql!(
                "{PROFILE_SELECT} WHERE ct.id = $1 AND ct.organization_id = $2 AND ct.merged_into IS NULL"
            ))
            .bind(id.as_str())
            .bind(org.as_str())
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(ProfileRow::view))
    }

    /// A contact's conversations, newest first, at most `limit`.
    pub async fn contact_conversations(
        &self,
        org: &OrganizationId,
        id: &ContactId,
        limit: i64,
    ) -> Result<Vec<ContactConversation>> {
        let rows: Vec<ConversationRow> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT c.id, c.status, w.name AS website_name, c.assignee_id, a.name AS assignee_name, \
                 c.last_message_preview, c.last_message_at, c.created_at, c.updated_at \
                 FROM conversations c JOIN websites w ON w.id = c.website_id \
                 LEFT JOIN agents a ON a.id = c.assignee_id \
                 WHERE c.contact_id = $1 AND c.organization_id = $2 \
                 ORDER BY c.created_at DESC, c.id DESC LIMIT $3",
            )
            .bind(id.as_str())
            .bind(org.as_str())
            .bind(limit.clamp(1, 1000))
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| ContactConversation {
                id: ConversationId(r.id),
                status: ConversationStatus::parse(&r.status).unwrap_or(ConversationStatus::Open),
                website_name: r.website_name,
                assignee_id: r.assignee_id.map(AgentId),
                assignee_name: r.assignee_name,
                last_message_preview: r.last_message_preview,
                last_message_at: r.last_message_at,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
            .collect())
    }

    /// A contact's profile and its newest conversations; `None` like [`Self::contact_profile`].
    pub async fn contact_detail(
        &self,
        org: &OrganizationId,
        id: &ContactId,
    ) -> Result<Option<ContactDetail>> {
        let Some(contact) = self.contact_profile(org, id).await? else {
            return Ok(None);
        };
        let conversations = self
            .contact_conversations(org, id, MAX_LISTED_CONVERSATIONS)
            .await?;
        Ok(Some(ContactDetail {
            contact,
            conversations,
        }))
    }

    /// Changes a contact's profile. `NotFound` for another tenant's contact or a merged one;
    /// a patch that would leave more attributes than allowed changes nothing
    /// (`StoreError::Contact`).
    pub async fn update_contact(
        &self,
        org: &OrganizationId,
        id: &ContactId,
        patch: &ContactPatch,
    ) -> Result<ContactProfile> {
        let set = |v: &Option<Option<String>>| (v.is_some() as i64, v.clone().flatten());
        let (name_set, name) = set(&patch.name);
        let (phone_set, phone) = set(&patch.phone);
        let (company_set, company) = set(&patch.company);
        let email_set = patch.email.is_some() as i64;
        let email = patch.email.clone().flatten().map(|e| e.as_str().to_owned());
        on_db!(&self.db, |p| {
            let mut tx = p.begin_write().await?;
            // Written first: it locks the row (and, on SQLite, takes the write lock before the
            // read below).
            let n = sqlx::query(
                "UPDATE contacts SET name = CASE WHEN $3 = 1 THEN $4 ELSE name END, \
                 email = CASE WHEN $5 = 1 THEN $6 ELSE email END, \
                 phone = CASE WHEN $7 = 1 THEN $8 ELSE phone END, \
                 company = CASE WHEN $9 = 1 THEN $10 ELSE company END \
                 WHERE id = $1 AND organization_id = $2 AND merged_into IS NULL",
            )
            .bind(id.as_str())
            .bind(org.as_str())
            .bind(name_set)
            .bind(name.as_deref())
            .bind(email_set)
            .bind(email.as_deref())
            .bind(phone_set)
            .bind(phone.as_deref())
            .bind(company_set)
            .bind(company.as_deref())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            if !patch.attributes.is_empty() {
                let (current,): (String,) =
                    sqlx::query_as("SELECT attributes FROM contacts WHERE id = $1")
                        .bind(id.as_str())
                        .fetch_one(&mut *tx)
                        .await?;
                let next = patch.apply_attributes(&read_attributes(&current))?;
                sqlx::query("UPDATE contacts SET attributes = $2 WHERE id = $1")
                    .bind(id.as_str())
                    .bind(write_attributes(&next))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        self.contact_profile(org, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// One page of the contacts list: contacts of `org` who are known (a name, email, phone or
    /// company) or have talked to the organization, never merged ones, narrowed by `f`, the
    /// most recently seen first. The cursor is `(last_seen_at, id)` of the last row; a contact
    /// seen again while someone pages moves to the top, so a page may then miss or repeat it.
    pub async fn list_contacts(
        &self,
        org: &OrganizationId,
        f: &ContactFilter,
    ) -> Result<ContactPage> {
        let limit = f.limit.clamp(1, 100);
        let (c_at, c_id) = match &f.cursor {
            Some((t, id)) => (*t, id.0.clone()),
            // After every real row: any time, and an id above every UUID.
            None => (i64::MAX, "\u{10FFFF}".to_owned()),
        };
        let (filter_sql, binds) = filter_clauses(&self.db, f, 5);
        let sql = format!(
            "{PROFILE_SELECT} WHERE ct.organization_id = $1 AND ct.merged_into IS NULL AND {LISTED}{filter_sql} \
             AND (ct.last_seen_at < $2 OR (ct.last_seen_at = $2 AND ct.id < $3)) \
             ORDER BY ct.last_seen_at DESC, ct.id DESC LIMIT $4"
        );
        let rows: Vec<ProfileRow> = on_db!(&self.db, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(org.as_str())
                .bind(c_at)
                .bind(c_id.as_str())
                .bind(limit + 1);
            for b in &binds {
                q = match b {
                    Bind::Text(s) => q.bind(s.as_str()),
                    Bind::Int(i) => q.bind(*i),
                };
            }
            q.fetch_all(p).await?
        });
        let mut items: Vec<ContactProfile> = rows.into_iter().map(ProfileRow::view).collect();
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|c| contact_cursor(c.last_seen_at, &c.id))
        } else {
            None
        };
        Ok(ContactPage { items, next_cursor })
    }

    /// Merges `other` into `kept`, both of `org`, in one transaction (see the module's
    /// comment). `NotFound` when either is another tenant's, unknown, or already merged.
    pub async fn merge_contacts(
        &self,
        org: &OrganizationId,
        kept: &ContactId,
        other: &ContactId,
    ) -> Result<MergeOutcome> {
        if kept == other {
            return Err(ContactError::MergeWithItself.into());
        }
        let moved: Vec<String> = on_db!(&self.db, |p| {
            let mut tx = p.begin_write().await?;
            // Lock both rows, in id order so that two opposite merges cannot deadlock; a
            // contact merged meanwhile no longer matches.
            let (first, second) = if kept < other {
                (kept, other)
            } else {
                (other, kept)
            };
            for id in [first, second] {
                let n = sqlx::query(
                    "UPDATE contacts SET merged_into = merged_into \
                     WHERE id = $1 AND organization_id = $2 AND merged_into IS NULL",
                )
                .bind(id.as_str())
                .bind(org.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            let k: MergeRow = sqlx::query_as(MERGE_SELECT)
                .bind(kept.as_str())
                .fetch_one(&mut *tx)
                .await?;
            let o: MergeRow = sqlx::query_as(MERGE_SELECT)
                .bind(other.as_str())
                .fetch_one(&mut *tx)
                .await?;
            let m = merge(&k.profile(), &o.profile());
            // The visit context (current page, browser …) of whoever was seen last.
            let ctx = if o.last_seen_at > k.last_seen_at {
                &o
            } else {
                &k
            };
            sqlx::query(
                "UPDATE contacts SET name = $2, email = $3, phone = $4, company = $5, attributes = $6, \
                 created_at = $7, last_seen_at = $8, current_url = $9, page_title = $10, referrer = $11, \
                 browser = $12, os = $13, device = $14, language = $15, timezone = $16, last_ip = $17 \
                 WHERE id = $1",
            )
            .bind(kept.as_str())
            .bind(m.name.as_deref())
            .bind(m.email.as_deref())
            .bind(m.phone.as_deref())
            .bind(m.company.as_deref())
            .bind(write_attributes(&m.attributes))
            .bind(k.created_at.min(o.created_at))
            .bind(k.last_seen_at.max(o.last_seen_at))
            .bind(ctx.current_url.as_deref())
            .bind(ctx.page_title.as_deref())
            .bind(ctx.referrer.as_deref())
            .bind(ctx.browser.as_deref())
            .bind(ctx.os.as_deref())
            .bind(ctx.device.as_deref())
            .bind(ctx.language.as_deref())
            .bind(ctx.timezone.as_deref())
            .bind(ctx.last_ip.as_deref().or(k.last_ip.as_deref()))
            .execute(&mut *tx)
            .await?;
            // The other contact, and any merged into it before, now lead to the kept one.
            sqlx::query("UPDATE contacts SET merged_into = $1 WHERE id = $2 OR merged_into = $2")
                .bind(kept.as_str())
                .bind(other.as_str())
                .execute(&mut *tx)
                .await?;
            let moved: Vec<(String,)> = sqlx::query_as(
                "SELECT id FROM conversations WHERE contact_id = $1 AND organization_id = $2",
            )
            .bind(other.as_str())
            .bind(org.as_str())
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE conversations SET contact_id = $1 WHERE contact_id = $2 AND organization_id = $3",
            )
            .bind(kept.as_str())
            .bind(other.as_str())
            .bind(org.as_str())
            .execute(&mut *tx)
            .await?;
            // The page trails become one, still bounded.
            sqlx::query("UPDATE page_views SET contact_id = $1 WHERE contact_id = $2")
                .bind(kept.as_str())
                .bind(other.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "DELETE FROM page_views WHERE contact_id = $1 AND id NOT IN \
                 (SELECT id FROM page_views WHERE contact_id = $1 ORDER BY viewed_at DESC, id DESC LIMIT $2)",
            )
            .bind(kept.as_str())
            .bind(PAGE_TRAIL_MAX)
            .execute(&mut *tx)
            .await?;
            // Tracked events too (the SDK's `track`), bounded alike.
            sqlx::query("UPDATE contact_events SET contact_id = $1 WHERE contact_id = $2")
                .bind(kept.as_str())
                .bind(other.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "DELETE FROM contact_events WHERE contact_id = $1 AND id NOT IN \
                 (SELECT id FROM contact_events WHERE contact_id = $1 ORDER BY at DESC, id DESC LIMIT $2)",
            )
            .bind(kept.as_str())
            .bind(frontdesk_core::identity::EVENT_TRAIL_MAX)
            .execute(&mut *tx)
            .await?;
            // One visit row per contact: the newer visit stays, the counts add up, and the
            // widget's presence lease is the later of the two.
            let visit =
                "SELECT visit_count, last_page_at, online_until FROM visits WHERE contact_id = $1";
            let kv: Option<(i64, i64, i64)> = sqlx::query_as(visit)
                .bind(kept.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let ov: Option<(i64, i64, i64)> = sqlx::query_as(visit)
                .bind(other.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if let Some((o_count, o_last, o_online)) = ov {
                let (count, online, newer) = match kv {
                    Some((k_count, k_last, k_online)) => {
                        (k_count + o_count, k_online.max(o_online), o_last > k_last)
                    }
                    None => (o_count, o_online, true),
                };
                let (drop, keep) = if newer { (kept, other) } else { (other, kept) };
                sqlx::query("DELETE FROM visits WHERE contact_id = $1")
                    .bind(drop.as_str())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE visits SET contact_id = $1, visit_count = $3, online_until = $4 WHERE contact_id = $2",
                )
                .bind(kept.as_str())
                .bind(keep.as_str())
                .bind(count)
                .bind(online)
                .execute(&mut *tx)
                .await?;
            }
            // A ban follows the person: banned before the merge, banned after it.
            sqlx::query(
                "UPDATE bans SET contact_id = $1 WHERE contact_id = $2 AND organization_id = $3",
            )
            .bind(kept.as_str())
            .bind(other.as_str())
            .bind(org.as_str())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            moved.into_iter().map(|(id,)| id).collect()
        });
        let detail = self
            .contact_detail(org, kept)
            .await?
            .ok_or(StoreError::NotFound)?;
        let moved = moved.into_iter().map(ConversationId).collect();
        Ok(MergeOutcome { detail, moved })
    }

    /// The contact a visitor token names, if the token's website belongs to the contact's
    /// organization, following a merge to the contact it was merged into. `None` when the
    /// contact does not exist (any more).
    pub async fn visitor_contact(
        &self,
        contact: &ContactId,
        website: &WebsiteId,
    ) -> Result<Option<(OrganizationId, Contact)>> {
        // One statement: it runs on every widget socket's `hello`, thousands at once in a
        // reconnect storm.
        let row: Option<ContactRow> = on_db!(&self.db, |p| {
            sqlx::query_as(sql!(
                "{CONTACT_SELECT} WHERE id = (SELECT t.id FROM contacts c \
                 JOIN websites w ON w.id = $2 AND w.organization_id = c.organization_id \
                 JOIN contacts t ON t.id = COALESCE(c.merged_into, c.id) \
                 WHERE c.id = $1 AND t.merged_into IS NULL)"
            ))
            .bind(contact.as_str())
            .bind(website.as_str())
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(|r| (OrganizationId(r.organization_id.clone()), r.into_contact())))
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_their_wildcards() {
        assert_eq!(like_pattern("ann"), "%ann%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
