"""The PostgreSQL store's webhooks (their outbox and its deliveries) and the
training labels sites send (the contract is in :mod:`.base`).

Outbox rows are written by the trigger of migration 0005 in the transaction
that inserts a comment or changes its status. Deliverers on several hosts
claim due rows with ``FOR UPDATE SKIP LOCKED`` and a lease: a row is never
claimed twice while its lease holds, and a deliverer never waits for another.
"""
from __future__ import annotations

from typing import Any

from .base import DRIFT_EPISODE_COLUMNS, DRIFT_EPISODE_WIDTH, drift_episode_from
from .base import Delivery, TrainingLabel, Webhook, WebhookInfo
from .postgres_sql import COMMENT_COLUMNS, PostgresConnection, comment_from, execute, fetch, fetchrow

_DUE = """delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= :now::float8
          AND (lease_until IS NULL OR lease_until < :now::float8)"""
MAX_ERROR_CHARS = 500


class WebhookQueries(PostgresConnection):
    """The webhook and training-label half of :class:`~.postgres.PostgresStore`."""

    # -- webhooks
    async def add_webhook(self, *, site_id: int, url: str, secret: str, events: list[str],
                          now: float) -> Webhook:
        async with self._transaction() as db:
            row = await fetchrow(db, """
                INSERT INTO webhooks (site_id, url, secret, events, created_at)
                VALUES (:site, :url, :secret, :events, :now)
                RETURNING id, (SELECT name FROM sites WHERE id = :site)""",
                {"site": site_id, "url": url, "secret": secret, "events": list(events), "now": now})
        return Webhook(id=row[0], site_id=site_id, site=row[1], url=url, events=tuple(events),
                       created_at=now, secret=secret)

    async def list_webhooks(self, site_id: int | None = None) -> list[WebhookInfo]:
        params: dict[str, Any] = {}
        where = ""
        if site_id is not None:
            where = "WHERE w.site_id = :site"
            params["site"] = site_id
        rows = await self._fetch(
            f"""SELECT w.id, w.site_id, s.name, w.url, w.events, w.created_at,
                  COUNT(o.id) FILTER (WHERE o.delivered_at IS NULL AND o.dead_at IS NULL),
                  COUNT(o.id) FILTER (WHERE o.delivered_at IS NOT NULL),
                  COUNT(o.id) FILTER (WHERE o.dead_at IS NOT NULL),
                  MAX(o.delivered_at),
                  (SELECT l.last_error FROM outbox l WHERE l.webhook_id = w.id
                     AND l.delivered_at IS NULL AND l.last_error <> '' ORDER BY l.id DESC LIMIT 1)
                FROM webhooks w JOIN sites s ON s.id = w.site_id
                LEFT JOIN outbox o ON o.webhook_id = w.id
                {where} GROUP BY w.id, s.name ORDER BY w.id""", params)
        return [WebhookInfo(
            webhook=Webhook(id=r[0], site_id=r[1], site=r[2], url=r[3], events=tuple(r[4]),
                            created_at=r[5]),
            queued=r[6], delivered=r[7], dead=r[8], last_delivered_at=r[9], last_error=r[10] or "")
            for r in rows]

    async def remove_webhook(self, webhook_id: int) -> bool:
        async with self._transaction() as db:
            return await execute(db, "DELETE FROM webhooks WHERE id = :id", {"id": webhook_id}) == 1

    async def requeue_dead(self, webhook_id: int, *, now: float) -> int:
        async with self._transaction() as db:
            return await execute(db, """
                UPDATE outbox SET dead_at = NULL, attempts = 0, next_attempt_at = :now,
                  last_error = ''
                WHERE webhook_id = :id AND dead_at IS NOT NULL""", {"now": now, "id": webhook_id})

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

    async def finish_delivery(self, delivery_id: int, *, lease_token: str, now: float,
                              delivered: bool, next_attempt_at: float | None,
                              error: str = "") -> bool:
        async with self._transaction() as db:
            return await execute(db, """
                UPDATE outbox SET attempts = attempts + 1, lease_until = NULL, lease_token = NULL,
                  delivered_at = CASE WHEN :ok THEN :now::float8 END,
                  last_error = CASE WHEN :ok THEN last_error ELSE :error END,
                  next_attempt_at = CASE WHEN :ok OR :next::float8 IS NULL THEN next_attempt_at
                                         ELSE :next::float8 END,
                  dead_at = CASE WHEN NOT :ok AND :next::float8 IS NULL THEN :now::float8 END
                WHERE id = :id AND lease_token = :token""",
                {"ok": delivered, "now": now, "error": error[:MAX_ERROR_CHARS],
                 "next": next_attempt_at, "id": delivery_id, "token": lease_token}) == 1

    async def purge_outbox(self, *, before: float) -> int:
        async with self._transaction() as db:
            return await execute(db, "DELETE FROM outbox WHERE delivered_at < :before "
                                     "OR dead_at < :before", {"before": before})

    # -- training labels from sites
    async def save_training_label(self, *, site_id: int, body: str, body_hash: str, label: str,
                                  language: str, source: str, now: float) -> None:
        async with self._transaction() as db:
            await execute(db, """
                INSERT INTO training_labels (site_id, body, body_hash, label, language, source,
                  created_at) VALUES (:site, :body, :hash, :label, :language, :source, :now)
                ON CONFLICT (site_id, body_hash) DO UPDATE SET body = excluded.body,
                  label = excluded.label, language = excluded.language,
                  source = excluded.source, created_at = excluded.created_at""",
                {"site": site_id, "body": body, "hash": body_hash, "label": label,
                 "language": language, "source": source, "now": now})

    async def training_labels(self, *, since: float | None, site_id: int | None, after_id: int,
                              limit: int) -> list[TrainingLabel]:
        params: dict[str, Any] = {"after": after_id, "limit": limit}
        clauses = ["l.id > :after"]
        if since is not None:
            clauses.append("l.created_at >= :since::float8")
            params["since"] = since
        if site_id is not None:
            clauses.append("l.site_id = :site")
            params["site"] = site_id
        rows = await self._fetch(
            f"""SELECT l.id, s.name, l.body, l.label, l.language, l.source, l.created_at
                FROM training_labels l JOIN sites s ON s.id = l.site_id
                WHERE {' AND '.join(clauses)} ORDER BY l.id LIMIT :limit""", params)
        return [TrainingLabel(id=r[0], site=r[1], body=r[2], label=r[3], language=r[4], source=r[5],
                              created_at=r[6]) for r in rows]
