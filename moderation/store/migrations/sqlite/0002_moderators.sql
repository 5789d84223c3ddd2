-- People who work the review queue. An empty site list means every site.
CREATE TABLE moderators (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('moderator', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    site_ids TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
