-- An author may edit (within MODERATION_EDIT_WINDOW_SECONDS) or delete their
-- own comment with the token the intake answered once: its SHA-256 is kept,
-- never the token. NULL for comments taken before, or through Akismet.
ALTER TABLE comments ADD COLUMN IF NOT EXISTS author_token_hash TEXT;
