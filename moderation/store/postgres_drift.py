"""The PostgreSQL store's drift alarm queries (the contract is in :mod:`.base`).

Workers on several hosts may find a site's drift at once: each tries to open
the episode in its own transaction; the unique index of migration 0011 (one
open episode per site) makes the later ones wait for the first to commit, then
do nothing (``ON CONFLICT DO NOTHING``), so one transaction only enqueues the
``model.drift`` events."""
from __future__ import annotations

from typing import Any

from .base import DRIFT_EPISODE_WIDTH, DriftCount, DriftEpisode, drift_episode_from
from .drift_sql import (DRIFT_EVENT, DRIFT_STATUS, EPISODE_FIELDS, EPISODES_SQL, START_EPISODE_SQL,
                        drift_count_rows, drift_count_sql)
from .postgres_sql import PostgresConnection, execute, fetchrow

_CASTS = {"site": "bigint", "at": "float8", "quiet_since": "float8", "reference": "text",
          "model_version": "text", "threshold": "float8", "score_psi": "float8",
          "language_psi": "float8", "comments": "integer", "reference_comments": "integer"}


class PostgresDriftQueries(PostgresConnection):
    """The drift half of :class:`~.postgres.PostgresStore`."""

    async def drift_counts(self, site_id: int, *, since: float, split: float, until: float,
                           score_edges: tuple[float, ...], model_version: str | None,
                           excluded: list[tuple[float, float]] = ()) -> list[DriftCount]:
        params: dict[str, Any] = {}
        sql = drift_count_sql(params, site_id=site_id, since=since, split=split, until=until,
                              score_edges=score_edges, model_version=model_version,
                              excluded=excluded, null_safe_differs="IS DISTINCT FROM")
        sql = sql.replace(":version", ":version::text")
        return drift_count_rows(await self._fetch(sql, params))

    async def start_drift_episode(self, *, site_id: int, started_at: float, quiet_since: float,
                                  reference: str, model_version: str | None, threshold: float,
                                  score_psi: float | None, language_psi: float | None,
                                  comments: int, reference_comments: int) -> DriftEpisode | None:
        params = {"site": site_id, "at": started_at, "quiet_since": quiet_since,
                  "reference": reference, "model_version": model_version, "threshold": threshold,
                  "score_psi": score_psi, "language_psi": language_psi, "comments": comments,
                  "reference_comments": reference_comments}
        sql = START_EPISODE_SQL.format(**{name: f":{name}::{_CASTS[name]}" for name in EPISODE_FIELDS})
        async with self._transaction() as db:
            row = await fetchrow(db, sql, params)
            if row is None:
                return None
            params["episode"] = row[0]
            await execute(db, f"""
                INSERT INTO outbox (webhook_id, drift_episode_id, event, status, occurred_at,
                  next_attempt_at)
                SELECT w.id, :episode, '{DRIFT_EVENT}', '{DRIFT_STATUS}', :at::float8, :at::float8
                FROM webhooks w
                WHERE w.site_id = :site::bigint AND w.events ? '{DRIFT_EVENT}'""",
                {"episode": row[0], "at": started_at, "site": site_id})
            found = await fetchrow(db, EPISODES_SQL.format(site_clause="AND d.id = :episode"),
                                   {"since": 0.0, "episode": row[0]})
        return drift_episode_from(tuple(found)[:DRIFT_EPISODE_WIDTH], found[DRIFT_EPISODE_WIDTH])

    async def end_drift_episode(self, episode_id: int, *, ended_at: float) -> bool:
        async with self._transaction() as db:
            return await execute(db, "UPDATE drift_episodes SET ended_at = :at WHERE id = :id "
                                     "AND ended_at IS NULL", {"at": ended_at, "id": episode_id}) == 1

    async def drift_episodes(self, *, since: float, site_id: int | None = None) -> list[DriftEpisode]:
        clause, params = "", {"since": since}
        if site_id is not None:
            clause, params["site"] = "AND d.site_id = :site", site_id
        rows = await self._fetch(EPISODES_SQL.format(site_clause=clause), params)
        return [drift_episode_from(tuple(r)[:DRIFT_EPISODE_WIDTH], r[DRIFT_EPISODE_WIDTH]) for r in rows]
