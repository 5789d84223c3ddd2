"""The SQLite store's drift alarm queries (the contract is in :mod:`.base`).

Every write runs under the store's one writer (``BEGIN IMMEDIATE`` and the
cross-process lock): of several workers starting a site's episode, the first
opens it, the others find it open. The unique index of migration 0011 (one
open episode per site) guards it all the same."""
from __future__ import annotations

from typing import Any

from .base import DRIFT_EPISODE_WIDTH, DriftCount, DriftEpisode, drift_episode_from
from .drift_sql import (DRIFT_EVENT, DRIFT_STATUS, EPISODE_FIELDS, EPISODES_SQL, START_EPISODE_SQL,
                        drift_count_rows, drift_count_sql)


class SQLiteDriftQueries:
    """The drift half of :class:`~.sqlite.SQLiteStore` (uses its ``_transaction``
    and ``_fetchall``)."""

    async def drift_counts(self, site_id: int, *, since: float, split: float, until: float,
                           score_edges: tuple[float, ...], model_version: str | None,
                           excluded: list[tuple[float, float]] = ()) -> list[DriftCount]:
        params: dict[str, Any] = {}
        sql = drift_count_sql(params, site_id=site_id, since=since, split=split, until=until,
                              score_edges=score_edges, model_version=model_version,
                              excluded=excluded, null_safe_differs="IS NOT")
        return drift_count_rows(await self._fetchall(sql, params))

    async def start_drift_episode(self, *, site_id: int, started_at: float, quiet_since: float,
                                  reference: str, model_version: str | None, threshold: float,
                                  score_psi: float | None, language_psi: float | None,
                                  comments: int, reference_comments: int) -> DriftEpisode | None:
        params = {"site": site_id, "at": started_at, "quiet_since": quiet_since,
                  "reference": reference, "model_version": model_version, "threshold": threshold,
                  "score_psi": score_psi, "language_psi": language_psi, "comments": comments,
                  "reference_comments": reference_comments}
        sql = START_EPISODE_SQL.format(**{name: f":{name}" for name in EPISODE_FIELDS})
        async with self._transaction() as db:
            cursor = await db.execute(sql, params)
            row = await cursor.fetchone()
            await cursor.close()
            if row is None:
                return None
            params["episode"] = row[0]
            await db.execute(
                f"""INSERT INTO outbox (webhook_id, drift_episode_id, event, status, occurred_at,
                      next_attempt_at)
                    SELECT w.id, :episode, '{DRIFT_EVENT}', '{DRIFT_STATUS}', :at, :at FROM webhooks w
                    WHERE w.site_id = :site
                      AND EXISTS (SELECT 1 FROM json_each(w.events) e WHERE e.value = '{DRIFT_EVENT}')""",
                params)
            cursor = await db.execute(
                EPISODES_SQL.format(site_clause="AND d.id = :episode"), {**params, "since": 0.0})
            found = await cursor.fetchone()
            await cursor.close()
        return drift_episode_from(found[:DRIFT_EPISODE_WIDTH], found[DRIFT_EPISODE_WIDTH])

    async def end_drift_episode(self, episode_id: int, *, ended_at: float) -> bool:
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE drift_episodes SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
                (ended_at, episode_id))
            return cursor.rowcount == 1

    async def drift_episodes(self, *, since: float, site_id: int | None = None) -> list[DriftEpisode]:
        clause = "" if site_id is None else "AND d.site_id = :site"
        rows = await self._fetchall(EPISODES_SQL.format(site_clause=clause),
                                    {"since": since, "site": site_id})
        return [drift_episode_from(r[:DRIFT_EPISODE_WIDTH], r[DRIFT_EPISODE_WIDTH]) for r in rows]
