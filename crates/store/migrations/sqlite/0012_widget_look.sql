-- The widget's look per website (colour, position, texts, shown agents, page rules) as the
-- JSON of frontdesk_core::widget::WidgetLook, and agents' photos (files in the blob store).
-- A website without a row has the default look.

CREATE TABLE widget_looks (
    website_id  TEXT PRIMARY KEY REFERENCES websites(id),
    look        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE agent_photos (
    agent_id        TEXT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    file_id         TEXT NOT NULL UNIQUE,
    content_type    TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);
