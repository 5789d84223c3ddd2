-- An author may edit (within MODERATION_EDIT_WINDOW_SECONDS) or delete their
-- own comment with the token the intake answered once: its SHA-256 is kept,
-- never the token. NULL for comments taken before, or through Akismet.
ALTER TABLE comments ADD COLUMN IF NOT EXISTS author_token_hash TEXT;

-- A site may trust an author automatically (their comments skip review when
-- the model is unsure) once moderators approved this many of their comments
-- and rejected none. 0: never.
ALTER TABLE sites ADD COLUMN IF NOT EXISTS auto_trust_after INTEGER NOT NULL DEFAULT 0;

-- Readers' flags per comment, kept beside it (moderation/store/shared.py,
-- flag_comment) so that the review queue can be read most flagged first along
-- an index, as it is read by score (see 0006).
ALTER TABLE comments ADD COLUMN IF NOT EXISTS flag_count INTEGER NOT NULL DEFAULT 0;
UPDATE comments SET flag_count = (SELECT COUNT(*) FROM reader_flags f WHERE f.comment_id = comments.id)
    WHERE id IN (SELECT comment_id FROM reader_flags);
CREATE INDEX IF NOT EXISTS comments_queue_flags ON comments (status, site_id, flag_count DESC, id)
    WHERE status IN ('pending', 'spam') AND erased_at IS NULL;
