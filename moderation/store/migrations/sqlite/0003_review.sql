-- Review: erasure marker, indexes for the queue, decisions, labels and privacy requests.
ALTER TABLE comments ADD COLUMN erased_at REAL;
CREATE INDEX comments_queue ON comments (status, site_id, created_at);
CREATE INDEX comments_email_lower ON comments (lower(author_email));
CREATE INDEX comments_parent ON comments (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX audit_decisions ON audit_events (at) WHERE action IN ('approve', 'reject', 'spam');
CREATE INDEX client_ips_created ON client_ips (created_at);
CREATE INDEX idempotency_created ON idempotency_keys (created_at);
CREATE INDEX idempotency_comment ON idempotency_keys (comment_id);
