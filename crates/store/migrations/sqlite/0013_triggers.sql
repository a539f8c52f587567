-- Proactive triggers. A website's rules are one JSON document (frontdesk_core::triggers::
-- SiteTriggers, checked by the core before it is stored), read whole by the widget's config and
-- the dashboard. Each rule has a row of counts: shows and accepts reported by the widget,
-- conversions counted by the writer when a reply to the greeting starts a chat. Counts exist
-- only for the site's current rules (a rule's row is made when it is saved, dropped with it),
-- so what a widget reports is bounded by the rules an admin made.
CREATE TABLE site_triggers (
    website_id      TEXT PRIMARY KEY REFERENCES websites(id),
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    triggers        TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE TABLE trigger_counts (
    website_id  TEXT NOT NULL REFERENCES websites(id),
    trigger_id  TEXT NOT NULL,
    shows       BIGINT NOT NULL DEFAULT 0,
    accepts     BIGINT NOT NULL DEFAULT 0,
    conversions BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (website_id, trigger_id)
);
