-- Model reloads across worker processes and hosts (moderation/api/admin.py).
-- Each POST /v1/admin/model/reload adds a row: its id is the new model
-- generation, which every worker polls (max(id): one index read) and reloads
-- on. Only the latest rows are kept; the latest one is never deleted, so ids
-- keep growing without AUTOINCREMENT.
CREATE TABLE model_reloads (
    id INTEGER PRIMARY KEY,
    requested_by TEXT NOT NULL,
    requested_at REAL NOT NULL
);
-- One row per running worker ("host:pid"): the generation it has applied, the
-- model version it serves, the error of its last reload (NULL when it loaded)
-- and its heartbeat. A worker deletes its row when it stops; rows whose
-- heartbeat is old are ignored, and pruned when a worker starts.
CREATE TABLE model_workers (
    worker TEXT PRIMARY KEY,
    generation INTEGER NOT NULL,
    model_version TEXT,
    loaded_at REAL,
    error TEXT,
    heartbeat_at REAL NOT NULL
);
CREATE INDEX model_workers_heartbeat ON model_workers (heartbeat_at)
