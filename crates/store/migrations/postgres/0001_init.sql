-- Frontdesk schema v1. Keep in step with ../sqlite/0001_init.sql (a test compares them).
-- Ids are UUIDv7 text; times are milliseconds since the Unix epoch (UTC) as integers.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE agents (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    email           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX agents_org ON agents(organization_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    agent_id   TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_agent ON sessions(agent_id);

CREATE TABLE websites (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    name            TEXT NOT NULL,
    domain          TEXT NOT NULL,
    site_key        TEXT NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL
);
CREATE INDEX websites_org ON websites(organization_id);

CREATE TABLE contacts (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    website_id      TEXT NOT NULL REFERENCES websites(id),
    name            TEXT,
    email           TEXT,
    current_url     TEXT,
    page_title      TEXT,
    referrer        TEXT,
    browser         TEXT,
    os              TEXT,
    device          TEXT,
    language        TEXT,
    timezone        TEXT,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL
);
CREATE INDEX contacts_website ON contacts(website_id);

CREATE TABLE conversations (
    id                    TEXT PRIMARY KEY,
    organization_id       TEXT NOT NULL REFERENCES organizations(id),
    website_id            TEXT NOT NULL REFERENCES websites(id),
    contact_id            TEXT NOT NULL REFERENCES contacts(id),
    status                TEXT NOT NULL,
    assignee_id           TEXT REFERENCES agents(id),
    last_seq              BIGINT NOT NULL DEFAULT 0,
    last_public_seq       BIGINT NOT NULL DEFAULT 0,
    visitor_delivered_seq BIGINT NOT NULL DEFAULT 0,
    visitor_read_seq      BIGINT NOT NULL DEFAULT 0,
    agent_delivered_seq   BIGINT NOT NULL DEFAULT 0,
    agent_read_seq        BIGINT NOT NULL DEFAULT 0,
    unread                BIGINT NOT NULL DEFAULT 0,
    last_message_preview  TEXT,
    last_message_at       BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX conversations_inbox ON conversations(organization_id, status, updated_at);
CREATE INDEX conversations_assignee ON conversations(assignee_id, status, updated_at);
CREATE INDEX conversations_contact ON conversations(contact_id, created_at);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq             BIGINT NOT NULL,
    public_seq      BIGINT,
    client_id       TEXT,
    kind            TEXT NOT NULL,
    author_id       TEXT,
    author_name     TEXT,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_id ON messages(conversation_id, client_id);
CREATE UNIQUE INDEX messages_public_seq ON messages(conversation_id, public_seq);
