-- Visitor context beyond the contact row: the current visit (UTM tags, rough location, visit
-- count), presence of the widget's socket (a lease renewed by the node holding it), and a page
-- trail bounded per contact.
CREATE TABLE visits (
    contact_id       TEXT PRIMARY KEY REFERENCES contacts(id),
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    website_id       TEXT NOT NULL REFERENCES websites(id),
    utm_source       TEXT,
    utm_medium       TEXT,
    utm_campaign     TEXT,
    utm_term         TEXT,
    utm_content      TEXT,
    location         TEXT,
    visit_count      BIGINT NOT NULL DEFAULT 1,
    visit_started_at BIGINT NOT NULL,
    last_page_at     BIGINT NOT NULL,
    online_until     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX visits_online ON visits(organization_id, online_until);

CREATE TABLE page_views (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    contact_id      TEXT NOT NULL REFERENCES contacts(id),
    url             TEXT NOT NULL,
    title           TEXT,
    viewed_at       BIGINT NOT NULL
);
CREATE INDEX page_views_contact ON page_views(contact_id, viewed_at);
