-- Moderators' browser sessions (the /moderate pages). The cookie holds a random
-- id; only its SHA-256 is kept here, so a copy of the database opens no session.
CREATE TABLE sessions (
    id_hash text PRIMARY KEY,
    moderator_id bigint NOT NULL REFERENCES moderators(id) ON DELETE CASCADE,
    created_at double precision NOT NULL,
    expires_at double precision NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_moderator ON sessions (moderator_id);
