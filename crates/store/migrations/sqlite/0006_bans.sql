-- Bans: a visitor (by contact) and optionally their IP address, with a reason and an expiry.

CREATE TABLE bans (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    contact_id      TEXT REFERENCES contacts(id),
    ip              TEXT,
    reason          TEXT NOT NULL,
    created_by      TEXT REFERENCES agents(id) ON DELETE SET NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT
);
CREATE INDEX bans_contact ON bans(contact_id);
CREATE INDEX bans_ip ON bans(organization_id, ip);

ALTER TABLE contacts ADD COLUMN last_ip TEXT;
