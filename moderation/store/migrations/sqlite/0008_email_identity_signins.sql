-- One identity per e-mail address (moderation.domain.canonical_email): rate
-- limits, duplicate checks and people export/erase compare email_key, never
-- the address as typed. Rows written before this migration get the address
-- with ASCII letters lower-cased, which is their canonical form unless the
-- address has non-ASCII letters.
ALTER TABLE comments ADD COLUMN email_key TEXT NOT NULL DEFAULT '';
UPDATE comments SET email_key = lower(trim(author_email)) WHERE erased_at IS NULL;
DROP INDEX comments_email_recent;
CREATE INDEX comments_email_recent ON comments (site_id, email_key, created_at);
DROP INDEX comments_email_lower;
CREATE INDEX comments_email_key ON comments (email_key) WHERE email_key != '';
-- Sign-in attempts per IP prefix, shared by every worker and host. An attempt
-- counts as a failure until it succeeds (then its row is deleted), so that
-- parallel guesses cannot all pass the check before any is counted.
CREATE TABLE signin_attempts (
    id INTEGER PRIMARY KEY,
    network TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX signin_attempts_recent ON signin_attempts (network, at);
CREATE INDEX signin_attempts_at ON signin_attempts (at);
