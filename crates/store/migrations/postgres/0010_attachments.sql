-- Files sent in conversations. The bytes live in a blob store (local disk by default) under
-- the attachment's id, 128 random bits; this table holds what is known about them. A file is
-- uploaded first, unsent (message_id NULL), and the writer binds it to the message that sends
-- it, under the conversation's lock. An agent's upload names its conversation from the start,
-- a visitor's when it is sent. uploader_kind is 'visitor' (uploader_id: the contact) or
-- 'agent' (the agent). content_type is told from the bytes, never taken from the uploader.
CREATE TABLE attachments (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    conversation_id TEXT REFERENCES conversations(id),
    message_id      TEXT REFERENCES messages(id),
    position        BIGINT NOT NULL DEFAULT 0,
    uploader_kind   TEXT NOT NULL,
    uploader_id     TEXT NOT NULL,
    name            TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX attachments_message ON attachments(message_id);
-- Unsent files: bounded per uploader, and swept when they were never sent.
CREATE INDEX attachments_unsent_uploader ON attachments(uploader_id) WHERE message_id IS NULL;
CREATE INDEX attachments_unsent_age ON attachments(created_at) WHERE message_id IS NULL;
