-- The widget's forms. A site's pre-chat form and end-of-chat questions (one row per site, absent
-- until an admin saves them: defaults apply). A visitor's pre-chat answers wait on the contact
-- (conversation_id NULL) until the writer creates their conversation, which takes them. A
-- conversation has at most one rating (a second one replaces it).
CREATE TABLE site_forms (
    website_id TEXT PRIMARY KEY REFERENCES websites(id),
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    prechat TEXT NOT NULL,
    csat BIGINT NOT NULL,
    ces BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE form_answers (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    contact_id TEXT NOT NULL REFERENCES contacts(id),
    conversation_id TEXT REFERENCES conversations(id),
    answers TEXT NOT NULL,
    offline BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX form_answers_contact ON form_answers(contact_id, conversation_id);
CREATE INDEX form_answers_conversation ON form_answers(conversation_id);
CREATE TABLE conversation_ratings (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id),
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    csat BIGINT NOT NULL,
    ces BIGINT,
    comment TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
