"""The drift alarm's store (the contract is in :mod:`.base`), written once for
both backends over the dialect of :mod:`moderation.store.shared`; the SQL is
:mod:`.drift_sql`. A backend sets ``NULL_SAFE_DIFFERS`` (``IS NOT`` on SQLite,
``IS DISTINCT FROM`` on PostgreSQL).

Of several workers (or hosts) finding a site's drift at once, one opens the
episode: on SQLite every write runs under the one writer, so the later ones
find it open; on PostgreSQL the unique index of migration 0011 (one open
episode per site) makes them wait for the first to commit, then do nothing
(``ON CONFLICT DO NOTHING``). Only the transaction that opened it enqueues the
``model.drift`` events."""
from __future__ import annotations

from typing import Any

from .base import DRIFT_EPISODE_WIDTH, DriftCount, DriftEpisode, drift_episode_from
from .drift_sql import (DRIFT_EVENT, DRIFT_STATUS, EPISODE_FIELDS, EPISODE_TYPES, EPISODES_SQL,
                        START_EPISODE_SQL, drift_count_rows, drift_count_sql)


class SharedDrift:
    NULL_SAFE_DIFFERS = "IS DISTINCT FROM"

    async def drift_counts(self, site_id: int, *, since: float, split: float, until: float,
                           score_edges: tuple[float, ...], model_version: str | None,
                           excluded: list[tuple[float, float]] = ()) -> list[DriftCount]:
        params: dict[str, Any] = {}
        sql = drift_count_sql(params, site_id=site_id, since=since, split=split, until=until,
                              score_edges=score_edges, model_version=model_version,
                              excluded=excluded, null_safe_differs=self.NULL_SAFE_DIFFERS)
        return drift_count_rows(await self._rows(sql, params))

    async def start_drift_episode(self, *, site_id: int, started_at: float, quiet_since: float,
                                  reference: str, model_version: str | None, threshold: float,
                                  score_psi: float | None, language_psi: float | None,
                                  comments: int, reference_comments: int) -> DriftEpisode | None:
        params = {"site": site_id, "at": started_at, "quiet_since": quiet_since,
                  "reference": reference, "model_version": model_version, "threshold": threshold,
                  "score_psi": score_psi, "language_psi": language_psi, "comments": comments,
                  "reference_comments": reference_comments}
        sql = START_EPISODE_SQL.format(**{name: f"CAST(:{name} AS {EPISODE_TYPES[name]})"
                                          for name in EPISODE_FIELDS})
        async with self._transaction() as db:
            rows = await self._tx_rows(db, sql, params)
            if not rows:
                return None
            episode = {"episode": rows[0][0], "at": started_at, "site": site_id}
            await self._tx_execute(db, f"""
                INSERT INTO outbox (webhook_id, drift_episode_id, event, status, occurred_at,
                  next_attempt_at)
                SELECT w.id, CAST(:episode AS BIGINT), '{DRIFT_EVENT}', '{DRIFT_STATUS}',
                  CAST(:at AS FLOAT8), CAST(:at AS FLOAT8)
                FROM webhooks w
                WHERE w.site_id = CAST(:site AS BIGINT) AND {self.has_reason('w.events', DRIFT_EVENT)}""",
                episode)
            [found] = await self._tx_rows(db, EPISODES_SQL.format(site_clause="AND d.id = :episode"),
                                          {"since": 0.0, "episode": episode["episode"]})
        return drift_episode_from(tuple(found)[:DRIFT_EPISODE_WIDTH], found[DRIFT_EPISODE_WIDTH])

    async def end_drift_episode(self, episode_id: int, *, ended_at: float) -> bool:
        async with self._transaction() as db:
            return await self._tx_execute(db, "UPDATE drift_episodes SET ended_at = :at WHERE id = :id "
                                              "AND ended_at IS NULL", {"at": ended_at, "id": episode_id}) == 1

    async def drift_episodes(self, *, since: float, site_id: int | None = None) -> list[DriftEpisode]:
        clause, params = "", {"since": since}
        if site_id is not None:
            clause, params["site"] = "AND d.site_id = :site", site_id
        rows = await self._rows(EPISODES_SQL.format(site_clause=clause), params)
        return [drift_episode_from(tuple(r)[:DRIFT_EPISODE_WIDTH], r[DRIFT_EPISODE_WIDTH]) for r in rows]
