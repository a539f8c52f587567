-- Contacts as profiles: phone and company beside name and email (custom attributes live in
-- `attributes`, added with routing). A merged contact points at the one it was merged into;
-- its conversations, visits and page views move there and it no longer lists.
ALTER TABLE contacts ADD COLUMN phone TEXT;
ALTER TABLE contacts ADD COLUMN company TEXT;
ALTER TABLE contacts ADD COLUMN merged_into TEXT REFERENCES contacts(id);
CREATE INDEX contacts_org_seen ON contacts(organization_id, last_seen_at);
