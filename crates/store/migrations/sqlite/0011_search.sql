-- Full-text search over messages and contacts. Dialect-specific by nature: the PostgreSQL
-- copy of this file differs (the schema test allows it for files named *_search.sql only).
--
-- SQLite: two contentless FTS5 indexes (they hold the index only; the text stays in its table)
-- kept in step by triggers. Each row's FTS rowid is its table row's rowid, which VACUUM keeps
-- for tables with an index (a conformance test checks it on the bundled SQLite); if ever in
-- doubt, drop the index rows and rerun the backfill below.
--
-- `unicode61 remove_diacritics 2` lower-cases and folds Latin diacritics, as
-- frontdesk_core::search::fold does for the query. `org` holds the organization's id as one
-- token (its UUID without dashes): every search names it, so the index itself keeps tenants
-- apart and a small organization's search never walks a large one's matches. The store still
-- joins to the organization's rows.
--
-- Messages: what visitors and agents wrote and internal notes; system messages are not
-- searched. Notes are searchable by agents only (search is an agent endpoint).

CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, org,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.kind IN ('visitor', 'agent', 'note')
BEGIN
    INSERT INTO messages_fts (rowid, body, org)
    SELECT new.rowid, new.body, replace(c.organization_id, '-', '')
    FROM conversations c WHERE c.id = new.conversation_id;
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, kind ON messages
BEGIN
    DELETE FROM messages_fts WHERE rowid = old.rowid;
    INSERT INTO messages_fts (rowid, body, org)
    SELECT new.rowid, new.body, replace(c.organization_id, '-', '')
    FROM conversations c
    WHERE c.id = new.conversation_id AND new.kind IN ('visitor', 'agent', 'note');
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
BEGIN
    DELETE FROM messages_fts WHERE rowid = old.rowid;
END;

INSERT INTO messages_fts (rowid, body, org)
SELECT m.rowid, m.body, replace(c.organization_id, '-', '')
FROM messages m JOIN conversations c ON c.id = m.conversation_id
WHERE m.kind IN ('visitor', 'agent', 'note');

-- Contacts: name, email, phone and company. Only a change to one of those reindexes a contact
-- (the widget touches last_seen_at and the page on every visit). A merged contact stays in
-- the index and is left out when searching.

CREATE VIRTUAL TABLE contacts_fts USING fts5(
    name, email, phone, company, org,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts
WHEN COALESCE(new.name, new.email, new.phone, new.company) IS NOT NULL
BEGIN
    INSERT INTO contacts_fts (rowid, name, email, phone, company, org)
    VALUES (new.rowid, new.name, new.email, new.phone, new.company, replace(new.organization_id, '-', ''));
END;

CREATE TRIGGER contacts_fts_update AFTER UPDATE OF name, email, phone, company ON contacts
WHEN old.name IS NOT new.name OR old.email IS NOT new.email
    OR old.phone IS NOT new.phone OR old.company IS NOT new.company
BEGIN
    DELETE FROM contacts_fts WHERE rowid = old.rowid;
    INSERT INTO contacts_fts (rowid, name, email, phone, company, org)
    SELECT new.rowid, new.name, new.email, new.phone, new.company, replace(new.organization_id, '-', '')
    WHERE COALESCE(new.name, new.email, new.phone, new.company) IS NOT NULL;
END;

CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts
BEGIN
    DELETE FROM contacts_fts WHERE rowid = old.rowid;
END;

INSERT INTO contacts_fts (rowid, name, email, phone, company, org)
SELECT rowid, name, email, phone, company, replace(organization_id, '-', '')
FROM contacts
WHERE COALESCE(name, email, phone, company) IS NOT NULL;
