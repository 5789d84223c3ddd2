"""Surge mode's store (``thread_surges``, migration 0010), written once for both
backends over the dialect of :mod:`moderation.store.shared`; the SQL is
:mod:`moderation.store.surge_sql`. A backend sets ``SURGE_BUCKET``: its floor
of ``created_at / :window``."""
from __future__ import annotations

from typing import Any

from ..domain import ThreadSurge
from .surge_sql import (ACTIVE_SURGES, END_SURGES, ONE_THREAD, SURGE_BASELINE, THREAD_SURGES, UPSERT_SURGE,
                        histogram_from, surge_from)


class SharedSurges:
    SURGE_BUCKET = ""

    async def surge_baseline(self, site_id: int, *, since: float, until: float,
                             window_seconds: float) -> dict[int, int]:
        return histogram_from(await self._rows(
            SURGE_BASELINE.format(bucket=self.SURGE_BUCKET),
            {"site": site_id, "since": since, "until": until, "window": float(window_seconds)}))

    async def record_surge(self, *, site_id: int, thread_ext_id: str, now: float, until: float,
                           comments: int, threshold: int, baseline: float | None,
                           window_seconds: float) -> tuple[ThreadSurge, bool]:
        """One transaction: the thread's surge that is over ends, then the open
        one is extended or started. Its row (or on PostgreSQL the unique index of
        open surges) serializes concurrent callers on one thread: one starts it."""
        params = {"site": site_id, "thread": thread_ext_id, "now": now, "until": until,
                  "comments": comments, "threshold": threshold, "baseline": baseline,
                  "window": float(window_seconds)}
        async with self._transaction() as db:
            await self._tx_execute(db, END_SURGES.format(thread=ONE_THREAD), params)
            (row,) = await self._tx_rows(db, UPSERT_SURGE, params)
        return surge_from(row), bool(row[-1])

    async def end_surges(self, *, now: float) -> list[ThreadSurge]:
        if not await self._rows("SELECT 1 FROM thread_surges WHERE ended_at IS NULL AND until <= :now "
                                "LIMIT 1", {"now": now}):
            return []    # the usual case: one indexed read, no write transaction
        async with self._transaction() as db:
            rows = await self._tx_rows(db, END_SURGES.format(thread=""), {"now": now})
        return sorted((surge_from(r) for r in rows), key=lambda s: s.id)

    async def thread_surges(self, site_id: int, thread_ext_id: str, *,
                            limit: int = 20) -> list[ThreadSurge]:
        rows = await self._rows(THREAD_SURGES, {"site": site_id, "thread": thread_ext_id, "limit": limit})
        return [surge_from(r) for r in rows]

    async def active_surges(self, *, now: float, site_ids: list[int] | None = None,
                            thread_ids: list[str] | None = None) -> list[ThreadSurge]:
        params: dict[str, Any] = {"now": now}
        where = ""
        if site_ids is not None:
            where += f" AND {self.member_of('site_id', 'sites', 'BIGINT')}"
            params["sites"] = self.list_param(sorted(set(site_ids)))
        if thread_ids is not None:
            where += f" AND {self.member_of('thread_ext_id', 'threads', 'TEXT')}"
            params["threads"] = self.list_param(sorted(set(thread_ids)))
        rows = await self._rows(ACTIVE_SURGES.format(where=where), params)
        return [surge_from(r) for r in rows]
