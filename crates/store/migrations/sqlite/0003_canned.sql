-- Canned responses: replies agents insert by shortcut (`/hello`). A shared one has no owner
-- (admins manage it); a personal one belongs to one agent and goes when they go.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE canned_responses (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    owner_id        TEXT REFERENCES agents(id) ON DELETE CASCADE,
    shortcut        TEXT NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
-- A shortcut is unique within its list: the organization's shared list, or one agent's own.
-- (NULLs never collide in a unique index, hence the COALESCE.)
CREATE UNIQUE INDEX canned_responses_shortcut
    ON canned_responses(organization_id, COALESCE(owner_id, ''), shortcut);
