-- Shadow scoring (moderation/services/model_changes.py): while a candidate model
-- is shadowed, every comment is scored by it too; the live model decides, and
-- the candidate's version, score and band (publish, review or spam at its own
-- thresholds) are kept here for `moderation model compare`.
ALTER TABLE comments ADD COLUMN shadow_version TEXT;
ALTER TABLE comments ADD COLUMN shadow_score REAL;
ALTER TABLE comments ADD COLUMN shadow_band TEXT;
-- Every model change, in order: shadow (a candidate starts being scored beside
-- the live model), unshadow, promote (the candidate became live; previous_version
-- is the one it replaced) and rollback (previous_version became live again).
-- The latest row says whether a candidate is shadowed now.
CREATE TABLE model_changes (
    id INTEGER PRIMARY KEY,
    action TEXT NOT NULL,
    version TEXT,
    previous_version TEXT,
    actor TEXT NOT NULL,
    at REAL NOT NULL
);
-- Each worker's shadowed candidate: its version, or why it could not load it.
ALTER TABLE model_workers ADD COLUMN shadow_version TEXT;
ALTER TABLE model_workers ADD COLUMN shadow_error TEXT;
