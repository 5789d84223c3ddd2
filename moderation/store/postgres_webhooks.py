"""The PostgreSQL store's claim of webhook deliveries (the contract is in
:mod:`.base`; the rest of the webhooks' queries are in :mod:`.shared`).

Outbox rows are written by the trigger of migration 0005 in the transaction
that inserts a comment or changes its status. Deliverers on several hosts
claim due rows with ``FOR UPDATE SKIP LOCKED`` and a lease: a row is never
claimed twice while its lease holds, and a deliverer never waits for another.
"""
from __future__ import annotations

from .base import DRIFT_EPISODE_COLUMNS, DRIFT_EPISODE_WIDTH, drift_episode_from
from .base import Delivery
from .postgres_sql import PostgresConnection, comment_from, fetch
from .shared import COMMENT_COLUMNS

_DUE = """delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= :now::float8
          AND (lease_until IS NULL OR lease_until < :now::float8)"""


class WebhookQueries(PostgresConnection):
    """Claiming due webhook deliveries, for :class:`~.postgres.PostgresStore`."""

    async def claim_deliveries(self, *, now: float, lease_until: float, lease_token: str,
                               limit: int) -> list[Delivery]:
        params = {"now": now, "until": lease_until, "token": lease_token, "limit": limit}
        if await self._fetchrow(f"SELECT 1 FROM outbox WHERE {_DUE} LIMIT 1", params) is None:
            return []    # the usual case: one indexed read, no write transaction
        async with self._transaction() as db:
            claimed = [r[0] for r in await fetch(db, f"""
                UPDATE outbox SET lease_until = :until, lease_token = :token
                WHERE id IN (SELECT id FROM outbox WHERE {_DUE}
                             ORDER BY next_attempt_at, id LIMIT :limit FOR UPDATE SKIP LOCKED)
                RETURNING id""", params)]
        if not claimed:
            return []
        rows = await self._fetch(
            f"""SELECT o.id, o.webhook_id, w.url, w.secret, o.event, o.status, o.occurred_at,
                  o.attempts, s.name, c.id IS NOT NULL, {COMMENT_COLUMNS},
                  {DRIFT_EPISODE_COLUMNS}
                FROM outbox o JOIN webhooks w ON w.id = o.webhook_id
                JOIN sites s ON s.id = w.site_id
                LEFT JOIN comments c ON c.id = o.comment_id LEFT JOIN threads t ON t.id = c.thread_id
                LEFT JOIN drift_episodes d ON d.id = o.drift_episode_id
                WHERE o.id = ANY(:ids::bigint[]) AND o.lease_token = :token
                ORDER BY o.next_attempt_at, o.id""", {"ids": claimed, "token": lease_token})
        return [Delivery(id=r[0], webhook_id=r[1], url=r[2], secret=r[3], event=r[4], status=r[5],
                         occurred_at=r[6], attempts=r[7], site=r[8],
                         comment=comment_from(tuple(r)[10:]) if r[9] else None,
                         drift=drift_episode_from(tuple(r)[-DRIFT_EPISODE_WIDTH:], r[8]))
                for r in rows]

    # -- training labels from sites
