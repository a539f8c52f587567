-- The JS SDK: identity verification and tracked events.
-- A site that verifies identities has a secret (NULL: verification is off); `identify` with a
-- valid HMAC of a user id binds the visitor to the contact carrying that `external_id`, one per
-- site. Events a page tracks are kept per contact, newest first, bounded like the page trail.
ALTER TABLE websites ADD COLUMN identity_secret TEXT;
ALTER TABLE contacts ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX contacts_external_id ON contacts(website_id, external_id);

CREATE TABLE contact_events (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    contact_id      TEXT NOT NULL REFERENCES contacts(id),
    name            TEXT NOT NULL,
    data            TEXT NOT NULL,
    at              BIGINT NOT NULL
);
CREATE INDEX contact_events_contact ON contact_events(contact_id, at);
