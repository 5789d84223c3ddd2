-- Webhooks and their durable outbox; training labels sent by sites (Akismet
-- submit-spam / submit-ham).
--
-- A webhook's secret is the HMAC-SHA256 key its deliveries are signed with.
-- Unlike site keys and moderator tokens it is kept as given, not hashed: the
-- service needs it to sign, and no request to the service is authenticated
-- with it (it proves to the receiver that a delivery comes from here).
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,                 -- JSON list, e.g. ["comment.published", "comment.spam"]
    created_at REAL NOT NULL
);
CREATE INDEX webhooks_site ON webhooks (site_id);

-- One row per (event, webhook) to deliver. Written by the triggers below in the
-- transaction that inserts the comment or changes its status, so an event exists
-- exactly when its change was committed. A deliverer claims due rows with a lease
-- (lease_until, lease_token), then marks them delivered, reschedules them, or
-- marks them dead after the last attempt. The payload is built at delivery time
-- from the comment as it is then (an erased comment's text is never sent).
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    comment_id INTEGER NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
    event TEXT NOT NULL,                  -- comment.<status>
    status TEXT NOT NULL,                 -- the status the change set
    occurred_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    lease_until REAL,
    lease_token TEXT,
    delivered_at REAL,
    dead_at REAL,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_webhook ON outbox (webhook_id, id);
CREATE INDEX outbox_comment ON outbox (comment_id);

CREATE TRIGGER comments_outbox_insert AFTER INSERT ON comments
BEGIN
    INSERT INTO outbox (webhook_id, comment_id, event, status, occurred_at, next_attempt_at)
    SELECT w.id, NEW.id, 'comment.' || NEW.status, NEW.status, NEW.created_at, NEW.created_at
    FROM webhooks w
    WHERE w.site_id = NEW.site_id
      AND EXISTS (SELECT 1 FROM json_each(w.events) e WHERE e.value = 'comment.' || NEW.status); END;

CREATE TRIGGER comments_outbox_status AFTER UPDATE OF status ON comments
WHEN NEW.status IS NOT OLD.status
BEGIN
    INSERT INTO outbox (webhook_id, comment_id, event, status, occurred_at, next_attempt_at)
    SELECT w.id, NEW.id, 'comment.' || NEW.status, NEW.status, NEW.updated_at, NEW.updated_at
    FROM webhooks w
    WHERE w.site_id = NEW.site_id
      AND EXISTS (SELECT 1 FROM json_each(w.events) e WHERE e.value = 'comment.' || NEW.status); END;

-- Labels a site taught us through the Akismet API: text and label only (no
-- name, e-mail or IP). One row per site and text: the latest label wins.
CREATE TABLE training_labels (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    body TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    label TEXT NOT NULL CHECK (label IN ('spam', 'ham')),
    language TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'akismet',
    created_at REAL NOT NULL,
    UNIQUE (site_id, body_hash)
);
CREATE INDEX training_labels_created ON training_labels (created_at);
