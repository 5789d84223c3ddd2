-- The review queue reads each site's queued comments a page at a time along
-- these indexes (moderation/store/queue_reads.py) instead of sorting them all:
-- by score ascending, by score descending, and by submission time, each with
-- ties by ascending id, each a forward scan that needs no sort (with or
-- without table statistics).
-- Partial: only comments a queue can show, so published ones cost them nothing.
-- Queries name the predicate word for word, so that generic plans (whose
-- status is a parameter) may use them too.
CREATE INDEX comments_queue_score ON comments (status, site_id, spam_score, id)
    WHERE status IN ('pending', 'spam') AND erased_at IS NULL;
CREATE INDEX comments_queue_score_desc ON comments (status, site_id, spam_score DESC, id)
    WHERE status IN ('pending', 'spam') AND erased_at IS NULL;
-- The same columns as before, then the id (SQLite's copy ends with the rowid).
DROP INDEX comments_queue;
CREATE INDEX comments_queue ON comments (status, site_id, created_at, id);
