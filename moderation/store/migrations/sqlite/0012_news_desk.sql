-- A news desk runs its sites, moderators and threads after creating them.
-- A site's key can be rotated: the previous key keeps working until
-- previous_key_until (an overlap for the site to deploy the new one).
ALTER TABLE sites ADD COLUMN previous_key_hash TEXT;
ALTER TABLE sites ADD COLUMN previous_key_until REAL;
CREATE INDEX IF NOT EXISTS sites_previous_key ON sites (previous_key_hash)
    WHERE previous_key_hash IS NOT NULL;

-- A thread can be closed (new comments refused with 409 thread_closed) and
-- pre-moderated on its own (every new comment waits for a moderator).
ALTER TABLE threads ADD COLUMN closed_at REAL;
ALTER TABLE threads ADD COLUMN premoderated INTEGER NOT NULL DEFAULT 0;

-- What ops and admins changed, by whom: sites (mode, language, thresholds,
-- key), moderators (role, sites, revocation), threads (closed, pre-moderated).
-- detail is a JSON object of the values before and after.
CREATE TABLE IF NOT EXISTS admin_events (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    site_id INTEGER REFERENCES sites(id),
    target TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS admin_events_at ON admin_events (at);

-- Rules moderators set on one site's authors: ban, shadow_ban, watch, trust,
-- on the canonical e-mail, its domain or the network (ip: the IP prefix the
-- intake keeps), until expires_at (NULL: for good). One rule per key.
CREATE TABLE IF NOT EXISTS author_rules (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    kind TEXT NOT NULL CHECK (kind IN ('email', 'domain', 'ip')),
    value TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('ban', 'shadow_ban', 'watch', 'trust')),
    note TEXT NOT NULL DEFAULT '',
    expires_at REAL,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (site_id, kind, value)
);
-- An author's history by network uses comments_ip_recent; by name, the site's
-- comments are read (a moderator's occasional look-up; no index costs every insert).

-- Readers' flags on published comments: one per reader (a fingerprint the
-- service derives from what the site sends), with a reason.
CREATE TABLE IF NOT EXISTS reader_flags (
    id INTEGER PRIMARY KEY,
    comment_id INTEGER NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
    reader TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (comment_id, reader)
);

-- The guard's "same text from another e-mail" check: by text, on one site, recent first.
CREATE INDEX IF NOT EXISTS comments_site_body ON comments (site_id, body_hash, created_at);
