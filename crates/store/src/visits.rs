//! Visits: the page trail (bounded per contact), the current visit's UTM tags, rough location
//! and count, and the widget's presence lease that the live visitors page reads. Plain queries:
//! nothing here touches a conversation (a proactive chat's message goes through the writer).

use crate::{Result, Store, StoreError, entropy, on_db, sql};
use frontdesk_core::visitors::*;
use frontdesk_core::*;

/// A page view to record: the contact's current page (already clipped and checked).
#[derive(Clone, Debug, Default)]
pub struct NewPageView {
    pub url: String,
    pub title: Option<String>,
    /// From the IP address, when a GeoIP database is configured.
    pub location: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DetailsRow {
    id: String,
    website_id: String,
    website_name: String,
    current_url: Option<String>,
    page_title: Option<String>,
    referrer: Option<String>,
    browser: Option<String>,
    os: Option<String>,
    device: Option<String>,
    language: Option<String>,
    timezone: Option<String>,
    location: Option<String>,
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
    utm_term: Option<String>,
    utm_content: Option<String>,
    visit_count: Option<i64>,
    visit_started_at: Option<i64>,
    online_until: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct LiveRow {
    id: String,
    name: Option<String>,
    website_id: String,
    website_name: String,
    current_url: Option<String>,
    page_title: Option<String>,
    referrer: Option<String>,
    location: Option<String>,
    visit_count: i64,
    visit_started_at: i64,
    open_conversation_id: Option<String>,
}

impl Store {
    /// Records that a contact of `org` is on `page` now. Starts a new visit after
    /// [`VISIT_GAP_MS`] of silence; UTM tags in the URL replace the visit's tags. A page equal to
    /// the latest one in the trail (a session refresh) is not recorded twice. Keeps at most
    /// [`PAGE_TRAIL_MAX`] page views per contact. Returns the new page view, if one was added.
    pub async fn record_page_view(
        &self,
        org: &OrganizationId,
        contact: &ContactId,
        page: &NewPageView,
        now: Millis,
    ) -> Result<Option<PageView>> {
        let utm = Utm::from_url(&page.url);
        let has_utm = !utm.is_empty() as i64;
        on_db!(&self.db, |p| {
            // The first statement writes (SQLite: no read-then-write upgrade).
            let n = sqlx::query(
                "INSERT INTO visits (contact_id, organization_id, website_id, utm_source, utm_medium, utm_campaign, utm_term, utm_content, \
                 location, visit_count, visit_started_at, last_page_at, online_until) \
                 SELECT id, organization_id, website_id, $3, $4, $5, $6, $7, $8, 1, $9, $9, 0 FROM contacts WHERE id = $1 AND organization_id = $2 \
                 ON CONFLICT (contact_id) DO UPDATE SET \
                 visit_count = visits.visit_count + CASE WHEN $9 - visits.last_page_at > $10 THEN 1 ELSE 0 END, \
                 visit_started_at = CASE WHEN $9 - visits.last_page_at > $10 THEN $9 ELSE visits.visit_started_at END, \
                 utm_source = CASE WHEN $11 = 1 THEN $3 ELSE visits.utm_source END, \
                 utm_medium = CASE WHEN $11 = 1 THEN $4 ELSE visits.utm_medium END, \
                 utm_campaign = CASE WHEN $11 = 1 THEN $5 ELSE visits.utm_campaign END, \
                 utm_term = CASE WHEN $11 = 1 THEN $6 ELSE visits.utm_term END, \
                 utm_content = CASE WHEN $11 = 1 THEN $7 ELSE visits.utm_content END, \
                 location = COALESCE($8, visits.location), last_page_at = $9",
            )
            .bind(contact.as_str())
            .bind(org.as_str())
            .bind(utm.source.as_deref())
            .bind(utm.medium.as_deref())
            .bind(utm.campaign.as_deref())
            .bind(utm.term.as_deref())
            .bind(utm.content.as_deref())
            .bind(page.location.as_deref())
            .bind(now)
            .bind(VISIT_GAP_MS)
            .bind(has_utm)
            .execute(p)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let last: Option<(String,)> = sqlx::query_as(
                "SELECT url FROM page_views WHERE contact_id = $1 ORDER BY viewed_at DESC, id DESC LIMIT 1",
            )
            .bind(contact.as_str())
            .fetch_optional(p)
            .await?;
            if last.is_some_and(|(u,)| u == page.url) {
                return Ok(None);
            }
            sqlx::query(
                "INSERT INTO page_views (id, organization_id, contact_id, url, title, viewed_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(uuid_like(now))
            .bind(org.as_str())
            .bind(contact.as_str())
            .bind(&page.url)
            .bind(page.title.as_deref())
            .bind(now)
            .execute(p)
            .await?;
            sqlx::query(
                "DELETE FROM page_views WHERE contact_id = $1 AND id NOT IN \
                 (SELECT id FROM page_views WHERE contact_id = $1 ORDER BY viewed_at DESC, id DESC LIMIT $2)",
            )
            .bind(contact.as_str())
            .bind(PAGE_TRAIL_MAX)
            .execute(p)
            .await?;
        });
        Ok(Some(PageView {
            url: page.url.clone(),
            title: page.title.clone(),
            at: now,
        }))
    }

    /// A contact's page trail, latest first; another organization's contact has none.
    pub async fn page_trail(
        &self,
        org: &OrganizationId,
        contact: &ContactId,
    ) -> Result<Vec<PageView>> {
        let rows: Vec<(String, Option<String>, i64)> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT url, title, viewed_at FROM page_views WHERE contact_id = $1 AND organization_id = $2 \
                 ORDER BY viewed_at DESC, id DESC LIMIT $3",
            )
            .bind(contact.as_str())
            .bind(org.as_str())
            .bind(PAGE_TRAIL_MAX)
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(url, title, at)| PageView { url, title, at })
            .collect())
    }

    /// Everything the visitor panel shows; another organization's contact reads as `None`.
    pub async fn visitor_details(
        &self,
        org: &OrganizationId,
        contact: &ContactId,
        now: Millis,
    ) -> Result<Option<VisitorDetails>> {
        let row: Option<DetailsRow> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT c.id, c.website_id, w.name AS website_name, c.current_url, c.page_title, c.referrer, c.browser, c.os, \
                 c.device, c.language, c.timezone, v.location, v.utm_source, v.utm_medium, v.utm_campaign, v.utm_term, \
                 v.utm_content, v.visit_count, v.visit_started_at, v.online_until \
                 FROM contacts c JOIN websites w ON w.id = c.website_id LEFT JOIN visits v ON v.contact_id = c.id \
                 WHERE c.id = $1 AND c.organization_id = $2",
            )
            .bind(contact.as_str())
            .bind(org.as_str())
            .fetch_optional(p)
            .await?
        });
        let Some(r) = row else { return Ok(None) };
        let pages = self.page_trail(org, contact).await?;
        let events = self.contact_events(org, contact).await?;
        Ok(Some(VisitorDetails {
            contact_id: ContactId(r.id),
            website_id: WebsiteId(r.website_id),
            website_name: r.website_name,
            current_url: r.current_url,
            page_title: r.page_title,
            referrer: r.referrer,
            browser: r.browser,
            os: r.os,
            device: r.device,
            language: r.language,
            timezone: r.timezone,
            location: r.location,
            utm: Utm {
                source: r.utm_source,
                medium: r.utm_medium,
                campaign: r.utm_campaign,
                term: r.utm_term,
                content: r.utm_content,
            },
            visit_count: r.visit_count.unwrap_or(0),
            visit_started_at: r.visit_started_at,
            online: r.online_until.is_some_and(|u| u > now),
            pages,
            events,
        }))
    }

    /// Renews the presence lease of visitors whose widget is connected to this node.
    pub async fn renew_visitors(&self, contacts: &[ContactId], until: Millis) -> Result<()> {
        self.set_leases(contacts, until, "AND online_until < $1")
            .await
    }

    /// These visitors' last widget sockets closed: their leases end now.
    pub async fn visitors_gone(&self, contacts: &[ContactId]) -> Result<()> {
        self.set_leases(contacts, 0, "").await
    }

    /// Sets these visitors' `online_until` where `condition` (on `$1`, the new value) holds.
    async fn set_leases(
        &self,
        contacts: &[ContactId],
        until: Millis,
        condition: &str,
    ) -> Result<()> {
        for chunk in contacts.chunks(200) {
            let list = (2..chunk.len() + 2)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            on_db!(&self.db, |p| {
                let mut q = sqlx::query(sql!(
                    "UPDATE visits SET online_until = $1 WHERE contact_id IN ({list}) {condition}"
                ))
                .bind(until);
                for c in chunk {
                    q = q.bind(c.as_str());
                }
                q.execute(p).await?;
            });
        }
        Ok(())
    }

    /// Visitors of `org` whose widget is connected now (on any node), the latest visit first.
    pub async fn live_visitors(
        &self,
        org: &OrganizationId,
        now: Millis,
    ) -> Result<Vec<LiveVisitor>> {
        let rows: Vec<LiveRow> = on_db!(&self.db, |p| {
            sqlx::query_as(
                "SELECT c.id, c.name, c.website_id, w.name AS website_name, c.current_url, c.page_title, c.referrer, \
                 v.location, v.visit_count, v.visit_started_at, \
                 (SELECT cv.id FROM conversations cv WHERE cv.contact_id = c.id AND cv.status <> 'resolved' \
                  ORDER BY cv.created_at DESC LIMIT 1) AS open_conversation_id \
                 FROM visits v JOIN contacts c ON c.id = v.contact_id JOIN websites w ON w.id = c.website_id \
                 WHERE v.organization_id = $1 AND v.online_until > $2 \
                 ORDER BY v.visit_started_at DESC, c.id LIMIT 500",
            )
            .bind(org.as_str())
            .bind(now)
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| LiveVisitor {
                contact_id: ContactId(r.id),
                name: r.name,
                website_id: WebsiteId(r.website_id),
                website_name: r.website_name,
                current_url: r.current_url,
                page_title: r.page_title,
                referrer: r.referrer,
                location: r.location,
                visit_count: r.visit_count,
                visit_started_at: r.visit_started_at,
                open_conversation_id: r.open_conversation_id.map(ConversationId),
            })
            .collect())
    }
}

/// A page view's id: time-ordered like the typed ids.
fn uuid_like(now: Millis) -> String {
    ContactId::new(now, entropy()).0
}
