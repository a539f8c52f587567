-- Teams, routing, the queue, operating hours, offline messages and the email outbox.
-- Times are milliseconds since the Unix epoch (UTC); flags are 0/1 integers; JSON is text.

CREATE TABLE teams (
    id                  TEXT PRIMARY KEY,
    organization_id     TEXT NOT NULL REFERENCES organizations(id),
    name                TEXT NOT NULL,
    strategy            TEXT NOT NULL,
    overflow_team_id    TEXT,
    overflow_after_ms   BIGINT,
    overflow_when_full  BIGINT NOT NULL DEFAULT 0,
    away_action         TEXT NOT NULL DEFAULT 'return',
    hours               TEXT,
    created_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX teams_name ON teams(organization_id, name);

CREATE TABLE team_members (
    team_id  TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, agent_id)
);
CREATE INDEX team_members_agent ON team_members(agent_id);

ALTER TABLE agents ADD COLUMN max_chats BIGINT NOT NULL DEFAULT 3;
ALTER TABLE agents ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agents ADD COLUMN languages TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agents ADD COLUMN last_assigned_at BIGINT;
ALTER TABLE agents ADD COLUMN online_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN auto_away BIGINT NOT NULL DEFAULT 0;

ALTER TABLE websites ADD COLUMN routing TEXT;

ALTER TABLE contacts ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';

ALTER TABLE conversations ADD COLUMN team_id TEXT REFERENCES teams(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal';
ALTER TABLE conversations ADD COLUMN required_skill TEXT;
ALTER TABLE conversations ADD COLUMN language TEXT;
ALTER TABLE conversations ADD COLUMN enqueued_at BIGINT;
ALTER TABLE conversations ADD COLUMN assigned_at BIGINT;
ALTER TABLE conversations ADD COLUMN first_reply_at BIGINT;
ALTER TABLE conversations ADD COLUMN resolved_at BIGINT;
ALTER TABLE conversations ADD COLUMN offline BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN missed BIGINT NOT NULL DEFAULT 0;
CREATE INDEX conversations_queue ON conversations(status, organization_id, team_id);
CREATE INDEX conversations_team_resolved ON conversations(team_id, resolved_at);

CREATE TABLE conversation_participants (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    agent_id        TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    added_at        BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, agent_id)
);
CREATE INDEX conversation_participants_agent ON conversation_participants(agent_id);

CREATE TABLE email_outbox (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    message_id      TEXT NOT NULL UNIQUE,
    to_address      TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    sent_at         BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX email_outbox_due ON email_outbox(sent_at, next_attempt_at);
