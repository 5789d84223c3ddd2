"""The SQL of surge mode (``thread_surges``, migration 0010) that both backends
share: written with ``:name`` parameters, valid on SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any

from ..domain import ThreadSurge

SURGE_COLUMNS = """id, site_id, thread_ext_id, started_at, until, ended_at, comments, threshold,
    baseline, window_seconds, extensions"""

#: The guard's read of a submission's recent sources on its site
#: (``recent_activity``): comments from its network and its e-mail since
#: ``:rate`` (count and oldest), whether the e-mail posted the same text since
#: ``:dup``, and whether another e-mail did (the same text under several names).
GUARD_ACTIVITY = """SELECT
  (SELECT COUNT(*) FROM comments WHERE site_id = :site AND ip_prefix = :ip
     AND ip_prefix <> '' AND created_at >= :rate),
  (SELECT MIN(created_at) FROM comments WHERE site_id = :site AND ip_prefix = :ip
     AND ip_prefix <> '' AND created_at >= :rate),
  (SELECT COUNT(*) FROM comments WHERE site_id = :site AND email_key = :email
     AND created_at >= :rate),
  (SELECT MIN(created_at) FROM comments WHERE site_id = :site AND email_key = :email
     AND created_at >= :rate),
  EXISTS (SELECT 1 FROM comments WHERE site_id = :site AND email_key = :email
     AND created_at >= :dup AND body_hash = :hash),
  EXISTS (SELECT 1 FROM comments WHERE site_id = :site AND body_hash = :hash
     AND created_at >= :dup AND email_key <> :email)"""

#: The guard's part of that read when the guard needs none (no rate limit, no
#: duplicate check): the same columns, as nothing found.
NO_GUARD = "SELECT 0, NULL, 0, NULL, 0, 0"

#: Appended to the guard's read (``recent_activity``) when it names a thread:
#: the thread's recent comments (an index range of ``comments_thread_recent``
#: cut at ``:thread_cap`` entries), its open surge's end, and whether the
#: author has a published comment on the site.
SURGE_ACTIVITY = """,
  (SELECT COUNT(*) FROM (SELECT 1 FROM comments
     WHERE thread_id = (SELECT id FROM threads WHERE site_id = :site AND ext_id = :thread)
       AND created_at >= :thread_since LIMIT :thread_cap) AS recent),
  (SELECT until FROM thread_surges
     WHERE site_id = :site AND thread_ext_id = :thread AND ended_at IS NULL),
  EXISTS (SELECT 1 FROM comments WHERE site_id = :site AND email_key = :email
     AND email_key <> '' AND status = 'published')"""

#: (n, how many (thread, window) pairs held n comments) of one site over a time range;
#: ``{bucket}`` is the backend's floor of ``created_at / :window`` (the statuses are
#: listed so that the index ``comments_site_status`` serves the time range).
SURGE_BASELINE = """
SELECT n, COUNT(*) FROM (
  SELECT COUNT(*) AS n FROM comments
  WHERE site_id = :site AND status IN ('pending', 'published', 'rejected', 'spam')
    AND created_at >= :since AND created_at < :until
  GROUP BY thread_id, {bucket}
) AS windows GROUP BY n"""
SQLITE_BUCKET = "CAST(created_at / :window AS INTEGER)"   # times are positive: truncation floors
POSTGRES_BUCKET = "floor(created_at / :window)"

#: Ends the open surges whose time is over (all, or one thread's with the extra condition).
END_SURGES = f"""UPDATE thread_surges SET ended_at = until
    WHERE ended_at IS NULL AND until <= :now {{thread}} RETURNING {SURGE_COLUMNS}"""
ONE_THREAD = "AND site_id = :site AND thread_ext_id = :thread"

#: Starts a surge, or pushes the open one's end back (never forward).
UPSERT_SURGE = f"""
INSERT INTO thread_surges (site_id, thread_ext_id, started_at, until, comments, threshold,
  baseline, window_seconds)
VALUES (:site, :thread, :now, :until, :comments, :threshold,
  CAST(:baseline AS DOUBLE PRECISION), :window)
ON CONFLICT (site_id, thread_ext_id) WHERE ended_at IS NULL DO UPDATE SET
  until = CASE WHEN excluded.until > thread_surges.until THEN excluded.until
               ELSE thread_surges.until END,
  extensions = thread_surges.extensions
    + CASE WHEN excluded.until > thread_surges.until THEN 1 ELSE 0 END
RETURNING {SURGE_COLUMNS}, started_at = :now"""

THREAD_SURGES = f"""SELECT {SURGE_COLUMNS} FROM thread_surges
    WHERE site_id = :site AND thread_ext_id = :thread ORDER BY id DESC LIMIT :limit"""

ACTIVE_SURGES = f"""SELECT {SURGE_COLUMNS} FROM thread_surges
    WHERE ended_at IS NULL AND until > :now {{where}} ORDER BY id"""


def surge_from(row: Any) -> ThreadSurge:
    return ThreadSurge(id=row[0], site_id=row[1], thread_id=row[2], started_at=row[3], until=row[4],
                       ended_at=row[5], comments=row[6], threshold=row[7], baseline=row[8],
                       window_seconds=row[9], extensions=row[10])


def histogram_from(rows: Any) -> dict[int, int]:
    return {int(n): int(k) for n, k in rows}
