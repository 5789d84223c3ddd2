-- Drift alarm (moderation/services/drift_monitor.py): each drift episode of a
-- site, shared by every worker and host. An episode opens when a measure finds
-- the PSI of the site's spam scores or languages above the threshold, and ends
-- (ended_at) when a measure finds them back below the lower bound. At most one
-- open episode per site (the unique index): of the workers that find the drift
-- at once, one opens it and enqueues its model.drift webhook events.
-- Needs only 0005 (webhooks, outbox): it applies the same whatever 0009 and
-- 0010 did, or whether they ran.
CREATE TABLE IF NOT EXISTS drift_episodes (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    started_at REAL NOT NULL,
    ended_at REAL,
    reference TEXT NOT NULL,          -- model (held-out predictions) or traffic (earlier comments)
    model_version TEXT,
    threshold REAL NOT NULL,
    score_psi REAL,                   -- the measure that opened it (NULL: not judged)
    language_psi REAL,
    comments INTEGER NOT NULL,
    reference_comments INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS drift_episodes_open ON drift_episodes (site_id) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS drift_episodes_site ON drift_episodes (site_id, started_at);

-- An outbox row is now about a comment (comment.<status>) or a drift episode
-- (model.drift), exactly one of them. SQLite cannot drop a NOT NULL in place:
-- the table is rebuilt (rows and ids kept), and the triggers of 0005 that
-- write to it are dropped first and made again as they were, or the rename
-- would find them naming a table that is gone.
DROP TRIGGER IF EXISTS comments_outbox_insert;
DROP TRIGGER IF EXISTS comments_outbox_status;
CREATE TABLE outbox_0011 (
    id INTEGER PRIMARY KEY,
    webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    comment_id INTEGER REFERENCES comments(id) ON DELETE CASCADE,
    event TEXT NOT NULL,                  -- comment.<status> or model.drift
    status TEXT NOT NULL,                 -- the status the change set; "started" for model.drift
    occurred_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    lease_until REAL,
    lease_token TEXT,
    delivered_at REAL,
    dead_at REAL,
    last_error TEXT NOT NULL DEFAULT '',
    drift_episode_id INTEGER REFERENCES drift_episodes(id) ON DELETE CASCADE,
    CHECK ((comment_id IS NULL) <> (drift_episode_id IS NULL))
);
INSERT INTO outbox_0011 (id, webhook_id, comment_id, event, status, occurred_at, attempts,
                         next_attempt_at, lease_until, lease_token, delivered_at, dead_at, last_error)
    SELECT id, webhook_id, comment_id, event, status, occurred_at, attempts, next_attempt_at,
           lease_until, lease_token, delivered_at, dead_at, last_error FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_0011 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_webhook ON outbox (webhook_id, id);
CREATE INDEX outbox_comment ON outbox (comment_id);
CREATE INDEX outbox_drift_episode ON outbox (drift_episode_id) WHERE drift_episode_id IS NOT NULL;

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
