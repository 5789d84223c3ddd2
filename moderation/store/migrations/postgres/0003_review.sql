-- Review: erasure marker, indexes for the queue, decisions, labels and privacy requests.
ALTER TABLE comments ADD COLUMN erased_at double precision;
CREATE INDEX comments_queue ON comments (status, site_id, created_at);

-- E-mail addresses match ignoring the case of ASCII letters only, as SQLite's
-- lower() does (PostgreSQL's lower() follows the locale).
CREATE FUNCTION ascii_lower(value text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN translate(value, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
CREATE INDEX comments_email_lower ON comments (ascii_lower(author_email));

CREATE INDEX comments_parent ON comments (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX audit_decisions ON audit_events (at) WHERE action IN ('approve', 'reject', 'spam');
CREATE INDEX client_ips_created ON client_ips (created_at);
CREATE INDEX idempotency_created ON idempotency_keys (created_at);
CREATE INDEX idempotency_comment ON idempotency_keys (comment_id);
