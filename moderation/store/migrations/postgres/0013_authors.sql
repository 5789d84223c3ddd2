-- An author may edit (within MODERATION_EDIT_WINDOW_SECONDS) or delete their
-- own comment with the token the intake answered once: its SHA-256 is kept,
-- never the token. NULL for comments taken before, or through Akismet.
ALTER TABLE comments ADD COLUMN IF NOT EXISTS author_token_hash TEXT;

-- A site may trust an author automatically (their comments skip review when
-- the model is unsure) once moderators approved this many of their comments
-- and rejected none. 0: never.
ALTER TABLE sites ADD COLUMN IF NOT EXISTS auto_trust_after INTEGER NOT NULL DEFAULT 0;
