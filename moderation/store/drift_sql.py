"""The drift alarm's SQL, shared by both backends (see
:meth:`moderation.store.base.Store.drift_counts` and the episode methods);
:mod:`.shared_drift` runs it."""
from __future__ import annotations

from typing import Any

from ..domain import Status
from .base import DRIFT_EPISODE_COLUMNS, DriftCount

DRIFT_EVENT = "model.drift"
DRIFT_STATUS = "started"
# Every status, named: the range on created_at then runs along comments_site_status
# (site_id, status, created_at), one index range per status, whatever the statistics.
_ALL_STATUSES = ", ".join(f"'{s.value}'" for s in Status)


def drift_count_sql(params: dict[str, Any], *, site_id: int, since: float, split: float,
                    until: float, score_edges, model_version: str | None,
                    excluded, null_safe_differs: str) -> str:
    """The aggregate query of ``drift_counts``; fills *params*.
    *null_safe_differs* is the backend's ``IS NOT`` / ``IS DISTINCT FROM``."""
    params.update(site=site_id, since=since, split=split, until=until, version=model_version)
    bins = []
    inner = list(score_edges)[1:-1]
    for index, edge in enumerate(inner):
        params[f"edge{index}"] = float(edge)
        bins.append(f"WHEN spam_score < :edge{index} THEN {index}")
    intervals = []
    for index, (start, end) in enumerate(excluded):
        params[f"xs{index}"], params[f"xe{index}"] = float(start), float(end)
        intervals.append(f"(created_at >= :xs{index} AND created_at < :xe{index})")
    left_out = f"created_at < :split AND ({' OR '.join(intervals)})" if intervals else "FALSE"
    return f"""
        SELECT CASE WHEN created_at >= :split THEN 1 ELSE 0 END,
               CASE WHEN {left_out} THEN 1 ELSE 0 END,
               CASE WHEN spam_score IS NULL OR model_version {null_safe_differs} CAST(:version AS TEXT) THEN -1
                    {' '.join(bins)} ELSE {len(inner)} END,
               language, COUNT(*)
        FROM comments
        WHERE site_id = :site AND status IN ({_ALL_STATUSES})
          AND created_at >= :since AND created_at < :until
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"""


def drift_count_rows(rows) -> list[DriftCount]:
    return [DriftCount(current=bool(r[0]), excluded=bool(r[1]), score_bin=int(r[2]),
                       language=r[3], count=int(r[4])) for r in rows]


EPISODE_FIELDS = ("site", "at", "quiet_since", "reference", "model_version", "threshold",
                  "score_psi", "language_psi", "comments", "reference_comments")
#: Each field's SQL type, for the CAST PostgreSQL needs (SQLite takes it as an affinity).
EPISODE_TYPES = {"site": "BIGINT", "at": "FLOAT8", "quiet_since": "FLOAT8", "reference": "TEXT",
                 "model_version": "TEXT", "threshold": "FLOAT8", "score_psi": "FLOAT8",
                 "language_psi": "FLOAT8", "comments": "INTEGER", "reference_comments": "INTEGER"}

START_EPISODE_SQL = """
    INSERT INTO drift_episodes (site_id, started_at, reference, model_version, threshold, score_psi,
                                language_psi, comments, reference_comments)
    SELECT {site}, {at}, {reference}, {model_version}, {threshold}, {score_psi}, {language_psi},
           {comments}, {reference_comments}
    WHERE NOT EXISTS (SELECT 1 FROM drift_episodes WHERE site_id = {site}
                        AND (ended_at IS NULL OR ended_at > {quiet_since}))
    ON CONFLICT DO NOTHING
    RETURNING id"""

EPISODES_SQL = f"""
    SELECT {DRIFT_EPISODE_COLUMNS}, s.name
    FROM drift_episodes d JOIN sites s ON s.id = d.site_id
    WHERE (d.ended_at IS NULL OR d.ended_at >= :since) {{site_clause}}
    ORDER BY d.id"""
