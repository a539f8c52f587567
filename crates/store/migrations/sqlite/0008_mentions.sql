-- Mentions: an internal note that names a colleague (`@name`) lands in their mentions list.

CREATE TABLE mentions (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    agent_id        TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    message_id      TEXT NOT NULL REFERENCES messages(id),
    by_name         TEXT,
    created_at      BIGINT NOT NULL,
    read_at         BIGINT
);
CREATE UNIQUE INDEX mentions_once ON mentions(message_id, agent_id);
CREATE INDEX mentions_agent ON mentions(agent_id, created_at);
