-- Transcripts by email share the outbox with replies; `kind` tells them apart. A transcript
-- row's `message_id` is a fresh id of its own (it names no message).

ALTER TABLE email_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'reply';
