-- Surge mode (moderation/surge.py): each surge of a thread, shared by every
-- worker and host. Decisions in the thread are stricter while a row of it has
-- ended_at NULL and until later than now; until is pushed back while the surge
-- lasts; ended_at records its end (= until) once that has passed. The rows are
-- the thread's surge history: when it started, on what figures, when it ended.
-- Self-contained (it needs nothing of 0009, shadow scoring) and idempotent (IF NOT
-- EXISTS): it applies the same whether 0009 ran before it or not.
CREATE TABLE IF NOT EXISTS thread_surges (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    thread_ext_id TEXT NOT NULL,
    started_at REAL NOT NULL,
    until REAL NOT NULL,
    ended_at REAL,
    comments INTEGER NOT NULL,        -- comments in the window when it started
    threshold INTEGER NOT NULL,       -- the count that started it
    baseline REAL,                    -- the site's baseline then (NULL: none yet)
    window_seconds REAL NOT NULL,
    extensions INTEGER NOT NULL DEFAULT 0
);
-- At most one open surge per thread; the intake's look-up of a thread's surge.
CREATE UNIQUE INDEX IF NOT EXISTS thread_surges_open ON thread_surges (site_id, thread_ext_id)
    WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS thread_surges_thread ON thread_surges (site_id, thread_ext_id, id);
CREATE INDEX IF NOT EXISTS thread_surges_due ON thread_surges (until) WHERE ended_at IS NULL;
-- A thread's comments of the last minutes: one index range per new comment.
CREATE INDEX IF NOT EXISTS comments_thread_recent ON comments (thread_id, created_at);
