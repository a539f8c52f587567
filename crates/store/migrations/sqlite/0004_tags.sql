-- Tags on conversations: each organization's list, and which conversations carry which.
-- Names are unique per organization regardless of case: name_key is the name lower-cased by
-- the application (the same on both databases).

CREATE TABLE tags (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    color           TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX tags_name ON tags(organization_id, name_key);

-- Deleting a tag takes it off every conversation.
CREATE TABLE conversation_tags (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    tag_id          TEXT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    added_at        BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, tag_id)
);
CREATE INDEX conversation_tags_tag ON conversation_tags(tag_id, conversation_id);

-- The inbox filter by website.
CREATE INDEX conversations_website ON conversations(website_id, updated_at);
