-- The review queue reads each site's queued comments a page at a time along
-- these indexes (moderation/store/queue_reads.py) instead of sorting them all:
-- by score ascending, and by score descending (both with ties by id, the rowid
-- that ends every SQLite index), each a forward scan that needs no sort.
-- Partial: only comments a queue can show, so published ones cost them nothing.
-- Queries name the predicate word for word, or SQLite will not use them.
CREATE INDEX comments_queue_score ON comments (status, site_id, spam_score)
    WHERE status IN ('pending', 'spam') AND erased_at IS NULL;
CREATE INDEX comments_queue_score_desc ON comments (status, site_id, spam_score DESC)
    WHERE status IN ('pending', 'spam') AND erased_at IS NULL;
