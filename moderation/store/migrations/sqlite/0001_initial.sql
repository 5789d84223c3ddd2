-- Sites, threads, comments, their audit trail, idempotency keys, full IPs.
CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    lang TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('pre', 'auto')),
    key_hash TEXT NOT NULL UNIQUE,
    approve_below REAL,
    reject_above REAL,
    created_at REAL NOT NULL
);

CREATE TABLE threads (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    ext_id TEXT NOT NULL,
    url TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    UNIQUE (site_id, ext_id)
);

CREATE TABLE comments (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    thread_id INTEGER NOT NULL REFERENCES threads(id),
    parent_id INTEGER REFERENCES comments(id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'published', 'rejected', 'spam')),
    author_name TEXT NOT NULL,
    author_email TEXT NOT NULL,
    body TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    language TEXT NOT NULL,
    spam_score REAL,
    model_version TEXT,
    reasons TEXT NOT NULL DEFAULT '[]',
    ip_prefix TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    referrer TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    published_at REAL
);
CREATE INDEX comments_thread_status ON comments (thread_id, status, id);
CREATE INDEX comments_site_status ON comments (site_id, status, created_at);
CREATE INDEX comments_ip_recent ON comments (site_id, ip_prefix, created_at);
CREATE INDEX comments_email_recent ON comments (site_id, author_email, created_at);
CREATE INDEX comments_published ON comments (site_id, published_at) WHERE status = 'published';

-- The full address, kept apart from the comment with its own retention.
CREATE TABLE client_ips (
    comment_id INTEGER PRIMARY KEY REFERENCES comments(id) ON DELETE CASCADE,
    ip TEXT NOT NULL,
    created_at REAL NOT NULL
);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    comment_id INTEGER NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    model_version TEXT,
    spam_score REAL
);
CREATE INDEX audit_comment ON audit_events (comment_id, id);

CREATE TABLE idempotency_keys (
    site_id INTEGER NOT NULL REFERENCES sites(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    comment_id INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    answer TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (site_id, key)
);
