"""The queries both backends run alike, written once over a small dialect.

:class:`SharedQueries` implements the parts of the store contract whose SQL
is the same on SQLite and PostgreSQL: sites, moderators, their sessions and
sign-in throttling, webhooks (but claiming deliveries), training labels, model
reloads, workers and changes, shadow rows, comments read by id or thread,
public pages, authors' rules and edits, readers' flags (the review queue,
people's data and retention are in :mod:`.shared_review`, surge mode and the
drift alarm in :mod:`.shared_surges` and :mod:`.shared_drift`). The SQL is
portable: ``:name`` parameters (SQLite binds them; PostgreSQL's store numbers
them), ``CAST(:x AS ...)`` where PostgreSQL must know a parameter's type,
``RETURNING`` for new ids, ``FILTER`` on aggregates.

A backend mixes it in before :class:`~moderation.store.base.Store` and
provides the dialect:

- ``_transaction()``: an async context manager, one write transaction that
  yields a connection ``db``;
- ``_serialize(db, *key)``: inside a write transaction, hold a lock named
  *key* until it ends (PostgreSQL's advisory lock; nothing on SQLite, whose
  write transaction holds the whole file);
- ``_rows(sql, params)``: the rows of a read outside any transaction;
  ``_intake_row(sql, params)``: the one row of the intake's guard read (on
  SQLite, batched with other submissions' reads);
- ``_tx_rows(db, sql, params)`` and ``_tx_execute(db, sql, params)``: the rows
  of a statement inside one, or the number of rows it touched;
- ``UNIQUE_VIOLATION``: the exception a unique constraint raises;
- ``BYTE_ORDER``: the ``COLLATE`` clause that orders text by its bytes;
- ``list_param(values)`` and ``list_value(column)``: how a list column (a
  moderator's sites, a webhook's events) is written and read, and
  ``member_of(column, param, type)`` the test that a column is in such a list;
  ``json_param(value)`` and ``json_value(column)`` the same for an object.

Rows are read by position, the same on both drivers.
"""
from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

from ..domain import (AdminEvent, AuditEvent, AuthorRule, Comment, FlagOutcome, Mode, Moderator, PublicComment,
                      Reason, RecentActivity, Role, RuleAction, RuleKind, Site, Status, ThreadRule,
                      canonical_email)
from .surge_sql import GUARD_ACTIVITY, NO_GUARD, SURGE_ACTIVITY
from .base import (KEPT_MODEL_RELOADS, ModelChange, ModelWorker, ModeratorExists, SessionRecord,
                   ShadowRow, SigninAttempt, SiteExists, ThreadCount, TrainingLabel, Webhook, WebhookInfo,
                   shadow_row)

SITE_COLUMNS = "id, name, url, lang, mode, approve_below, reject_above, created_at, auto_trust_after"
#: What ``update_site`` changes and records (``auto_trust_after`` only when it changed,
#: so that earlier records keep their shape).
SITE_SETTINGS = ("mode", "lang", "approve_below", "reject_above", "auto_trust_after")
MODERATOR_COLUMNS = "id, name, role, site_ids, created_at, disabled"
MODEL_WORKER_COLUMNS = """worker, generation, model_version, loaded_at, error, heartbeat_at,
    shadow_version, shadow_error"""
MAX_DELIVERY_ERROR_CHARS = 500
COMMENT_COLUMNS = """c.id, c.site_id, t.ext_id, c.parent_id, c.author_name, c.author_email, c.body,
    c.language, c.spam_score, c.model_version, c.status, c.reasons, c.ip_prefix, c.user_agent,
    c.referrer, c.created_at, c.published_at, t.url, t.title, c.updated_at, c.erased_at, c.flag_count"""
"""A :class:`Comment`'s columns, read by :func:`comment_from` (both backends)."""
COMMENT_FROM = "comments c JOIN threads t ON t.id = c.thread_id"
RULE_COLUMNS = "id, site_id, kind, value, action, note, expires_at, created_by, created_at"
#: What an author's history is looked up by: the comments' column for each.
#: A public thread page's orders: (inner ORDER BY, outer ORDER BY, which rows
#: follow the cursor *after*, OFFSET). ``oldest`` and ``newest`` page by the
#: last id read; ``replies`` (most replied first) by how many were read.
PUBLIC_ORDERS = {
    "oldest": ("c.id", "p.id", "c.id > CAST(:after AS BIGINT)", ""),
    "newest": ("c.id DESC", "p.id DESC", "(CAST(:after AS BIGINT) = 0 OR c.id < CAST(:after AS BIGINT))", ""),
    "replies": ("replies DESC, c.id", "p.replies DESC, p.id", "1 = 1", " OFFSET :after"),
}
#: A person's comments not yet erased, by the canonical form of their e-mail
#: (domain.canonical_email, kept in email_key: migration 0008).
PERSON = "email_key = :email AND email_key <> '' AND erased_at IS NULL"
HISTORY_COLUMNS = {"email": "c.email_key", "ip": "c.ip_prefix", "name": "c.author_name"}


EVENT_COLUMNS = """id, comment_id, at, actor, action, from_status, to_status, reason, note,
    model_version, spam_score"""


def event_from(row: Any) -> AuditEvent:
    """An audit event from a row of :data:`EVENT_COLUMNS`."""
    return AuditEvent(id=row[0], comment_id=row[1], at=row[2], actor=row[3], action=row[4],
                      from_status=row[5], to_status=row[6], reason=row[7], note=row[8],
                      model_version=row[9], spam_score=row[10])


def comment_from(row: Any, reasons: tuple) -> Comment:
    """A comment from a row of :data:`COMMENT_COLUMNS`, its reasons decoded by the backend."""
    return Comment(id=row[0], site_id=row[1], thread_id=row[2], parent_id=row[3],
                   author_name=row[4], author_email=row[5], body=row[6], language=row[7],
                   spam_score=row[8], model_version=row[9], status=Status(row[10]),
                   reasons=reasons, ip_prefix=row[12], user_agent=row[13],
                   referrer=row[14], created_at=row[15], published_at=row[16],
                   thread_url=row[17], thread_title=row[18], updated_at=row[19],
                   erased_at=row[20], flag_count=row[21])


def site_from(row: Any) -> Site:
    return Site(id=row[0], name=row[1], url=row[2], lang=row[3], mode=Mode(row[4]),
                approve_below=row[5], reject_above=row[6], created_at=row[7], auto_trust_after=row[8])


class SharedQueries:
    """The backend-independent half of a store (see the module docstring)."""

    UNIQUE_VIOLATION: type[Exception] = Exception
    BYTE_ORDER = ""
    FOR_UPDATE = ""   # what locks a row read in a transaction for its update

    @staticmethod
    def list_param(values) -> Any:
        raise NotImplementedError

    @staticmethod
    def list_value(column: Any) -> tuple:
        raise NotImplementedError

    @staticmethod
    def json_param(value: dict) -> Any:
        raise NotImplementedError

    @staticmethod
    def member_of(column: str, param: str, sql_type: str) -> str:
        """SQL true when *column* is one of the list parameter *param* (a
        :meth:`list_param` of values of *sql_type*)."""
        raise NotImplementedError

    @staticmethod
    def has_reason(column: str, code: str) -> str:
        """SQL true when the reasons list *column* holds the reason *code* (a constant)."""
        raise NotImplementedError

    @staticmethod
    def day_of(seconds: str) -> str:
        """SQL for the day number (Unix time // 86400) of the positive time *seconds*."""
        raise NotImplementedError

    @staticmethod
    def json_value(column: Any) -> dict:
        raise NotImplementedError

    def _moderator(self, row: Any) -> Moderator:
        return Moderator(id=row[0], name=row[1], role=Role(row[2]),
                         site_ids=tuple(self.list_value(row[3])), created_at=row[4],
                         revoked=bool(row[5]))

    async def _record(self, db, *, at: float, actor: str, action: str, site_id: int | None,
                      target: str, detail: dict) -> None:
        """One row of the admin log, in the caller's transaction."""
        await self._tx_execute(db, """
            INSERT INTO admin_events (at, actor, action, site_id, target, detail)
            VALUES (:at, :actor, :action, CAST(:site AS BIGINT), :target, :detail)""",
            {"at": at, "actor": actor, "action": action, "site": site_id, "target": target,
             "detail": self.json_param(detail)})

    async def _row(self, sql: str, params: dict[str, Any]) -> Any:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    async def _serialize(self, db, *key: object) -> None:
        """Inside a write transaction: wait for, and hold until it ends, the lock
        named *key* (PostgreSQL: an advisory lock; SQLite: nothing to do, its
        write transaction holds the whole file)."""

    async def _insert_id(self, db, sql: str, params: dict[str, Any]) -> int:
        """Run an ``INSERT ... RETURNING id`` inside a transaction; the new id."""
        [row] = await self._tx_rows(db, sql, params)
        return row[0]

    # -- sites
    async def create_site(self, *, name: str, url: str, lang: str, mode: str,
                          key_hash: str, now: float) -> Site:
        try:
            async with self._transaction() as db:
                site_id = await self._insert_id(db, """
                    INSERT INTO sites (name, url, lang, mode, key_hash, created_at)
                    VALUES (:name, :url, :lang, :mode, :key_hash, :now) RETURNING id""",
                    {"name": name, "url": url, "lang": lang, "mode": mode, "key_hash": key_hash,
                     "now": now})
        except self.UNIQUE_VIOLATION as exc:
            raise SiteExists(name) from exc
        return Site(id=site_id, name=name, url=url, lang=lang, mode=Mode(mode), created_at=now)

    async def list_sites(self) -> list[Site]:
        rows = await self._rows(f"SELECT {SITE_COLUMNS} FROM sites ORDER BY name{self.BYTE_ORDER}", {})
        return [site_from(r) for r in rows]

    async def set_site_thresholds(self, site_id: int, *, approve_below: float | None,
                                  reject_above: float | None) -> None:
        async with self._transaction() as db:
            await self._tx_execute(db, """
                UPDATE sites SET approve_below = CAST(:low AS DOUBLE PRECISION),
                  reject_above = CAST(:high AS DOUBLE PRECISION) WHERE id = :id""",
                {"low": approve_below, "high": reject_above, "id": site_id})

    async def site_by_key_hash(self, key_hash: str, *, now: float | None = None) -> Site | None:
        row = await self._row(
            f"""SELECT {SITE_COLUMNS} FROM sites WHERE key_hash = :hash
                UNION ALL
                SELECT {SITE_COLUMNS} FROM sites WHERE previous_key_hash = :hash
                  AND previous_key_until > CAST(:now AS DOUBLE PRECISION)""",
            {"hash": key_hash, "now": time.time() if now is None else now})
        return site_from(row) if row else None

    async def update_site(self, site: Site, *, actor: str, now: float) -> Site:
        async with self._transaction() as db:
            rows = await self._tx_rows(db, f"SELECT {SITE_COLUMNS} FROM sites WHERE id = :id", {"id": site.id})
            if not rows:
                raise KeyError(site.id)
            before = site_from(rows[0])
            await self._tx_execute(db, """
                UPDATE sites SET mode = :mode, lang = :lang,
                  approve_below = CAST(:low AS DOUBLE PRECISION),
                  reject_above = CAST(:high AS DOUBLE PRECISION), auto_trust_after = :trust WHERE id = :id""",
                {"mode": site.mode.value, "lang": site.lang, "low": site.approve_below,
                 "high": site.reject_above, "trust": site.auto_trust_after, "id": site.id})
            after = site_from((await self._tx_rows(
                db, f"SELECT {SITE_COLUMNS} FROM sites WHERE id = :id", {"id": site.id}))[0])
            fields = [f for f in SITE_SETTINGS if f != "auto_trust_after"
                      or before.auto_trust_after != after.auto_trust_after]
            await self._record(db, at=now, actor=actor, action="site.update", site_id=site.id,
                               target=before.name, detail={
                                   "before": {f: _plain(getattr(before, f)) for f in fields},
                                   "after": {f: _plain(getattr(after, f)) for f in fields}})
        return after

    async def rotate_site_key(self, site_id: int, *, key_hash: str, previous_until: float,
                              actor: str, now: float) -> None:
        async with self._transaction() as db:
            [(name,)] = await self._tx_rows(db, "SELECT name FROM sites WHERE id = :id", {"id": site_id})
            await self._tx_execute(db, """
                UPDATE sites SET previous_key_hash = key_hash,
                  previous_key_until = CAST(:until AS DOUBLE PRECISION), key_hash = :hash
                WHERE id = :id""", {"until": previous_until, "hash": key_hash, "id": site_id})
            await self._record(db, at=now, actor=actor, action="site.key_rotated", site_id=site_id,
                               target=name, detail={"previous_key_until": previous_until})

    async def site_by_name(self, name: str) -> Site | None:
        row = await self._row(f"SELECT {SITE_COLUMNS} FROM sites WHERE name = :name", {"name": name})
        return site_from(row) if row else None

    # -- moderators and their browser sessions
    async def create_moderator(self, *, name: str, role: str, site_ids: list[int],
                               token_hash: str, now: float) -> Moderator:
        try:
            async with self._transaction() as db:
                moderator_id = await self._insert_id(db, """
                    INSERT INTO moderators (name, role, token_hash, site_ids, created_at)
                    VALUES (:name, :role, :token_hash, :site_ids, :now) RETURNING id""",
                    {"name": name, "role": role, "token_hash": token_hash,
                     "site_ids": self.list_param(site_ids), "now": now})
        except self.UNIQUE_VIOLATION as exc:
            raise ModeratorExists(name) from exc
        return Moderator(id=moderator_id, name=name, role=Role(role), site_ids=tuple(site_ids),
                         created_at=now)

    async def moderator_by_token_hash(self, token_hash: str) -> Moderator | None:
        row = await self._row(f"""SELECT {MODERATOR_COLUMNS} FROM moderators
                                  WHERE token_hash = :hash AND NOT disabled""", {"hash": token_hash})
        return self._moderator(row) if row else None

    async def list_moderators(self) -> list[Moderator]:
        rows = await self._rows(f"SELECT {MODERATOR_COLUMNS} FROM moderators ORDER BY name{self.BYTE_ORDER}", {})
        return [self._moderator(r) for r in rows]

    async def moderator_by_name(self, name: str) -> Moderator | None:
        row = await self._row(f"SELECT {MODERATOR_COLUMNS} FROM moderators WHERE name = :name", {"name": name})
        return self._moderator(row) if row else None

    async def update_moderator(self, moderator_id: int, *, role: str, site_ids: list[int],
                               actor: str, now: float) -> Moderator:
        one = f"SELECT {MODERATOR_COLUMNS} FROM moderators WHERE id = :id"
        async with self._transaction() as db:
            before = self._moderator((await self._tx_rows(db, one, {"id": moderator_id}))[0])
            await self._tx_execute(db, "UPDATE moderators SET role = :role, site_ids = :sites WHERE id = :id",
                                   {"role": role, "sites": self.list_param(site_ids), "id": moderator_id})
            after = self._moderator((await self._tx_rows(db, one, {"id": moderator_id}))[0])
            await self._record(db, at=now, actor=actor, action="moderator.update", site_id=None,
                               target=before.name, detail={
                                   "before": {"role": before.role.value, "site_ids": list(before.site_ids)},
                                   "after": {"role": after.role.value, "site_ids": list(after.site_ids)}})
        return after

    async def revoke_moderator(self, moderator_id: int, *, actor: str, now: float) -> int:
        async with self._transaction() as db:
            [(name,)] = await self._tx_rows(db, "SELECT name FROM moderators WHERE id = :id",
                                            {"id": moderator_id})
            await self._tx_execute(db, "UPDATE moderators SET disabled = :yes WHERE id = :id",
                                   {"yes": True, "id": moderator_id})
            ended = await self._tx_execute(db, "DELETE FROM sessions WHERE moderator_id = :id",
                                           {"id": moderator_id})
            await self._record(db, at=now, actor=actor, action="moderator.revoked", site_id=None,
                               target=name, detail={"sessions_ended": ended})
        return ended

    async def create_session(self, *, id_hash: str, moderator_id: int, now: float,
                             expires_at: float) -> None:
        async with self._transaction() as db:
            await self._tx_execute(db, "DELETE FROM sessions WHERE expires_at <= :now", {"now": now})
            await self._tx_execute(db, """
                INSERT INTO sessions (id_hash, moderator_id, created_at, expires_at)
                VALUES (:hash, :moderator, :now, :expires)""",
                {"hash": id_hash, "moderator": moderator_id, "now": now, "expires": expires_at})

    async def session_by_hash(self, id_hash: str, *, now: float) -> SessionRecord | None:
        row = await self._row(
            """SELECT m.id, m.name, m.role, m.site_ids, m.created_at, m.disabled, s.created_at, s.expires_at
               FROM sessions s JOIN moderators m ON m.id = s.moderator_id
               WHERE s.id_hash = :hash AND s.expires_at > :now AND NOT m.disabled""",
            {"hash": id_hash, "now": now})
        if row is None:
            return None
        return SessionRecord(moderator=self._moderator(row), created_at=row[6], expires_at=row[7])

    async def delete_session(self, id_hash: str) -> bool:
        async with self._transaction() as db:
            return await self._tx_execute(db, "DELETE FROM sessions WHERE id_hash = :hash",
                                          {"hash": id_hash}) == 1

    async def begin_signin_attempt(self, network: str, *, now: float, window_seconds: float,
                                   max_failures: int) -> SigninAttempt:
        async with self._transaction() as db:   # one network's attempts, one at a time
            await self._serialize(db, "signin", network)
            await self._tx_execute(db, "DELETE FROM signin_attempts WHERE at <= :since",
                                   {"since": now - window_seconds})
            [(count, oldest)] = await self._tx_rows(
                db, "SELECT COUNT(*), MIN(at) FROM signin_attempts WHERE network = :network",
                {"network": network})
            if count >= max_failures:
                return SigninAttempt(None, max(1, math.ceil(oldest + window_seconds - now)))
            return SigninAttempt(await self._insert_id(
                db, "INSERT INTO signin_attempts (network, at) VALUES (:network, :now) RETURNING id",
                {"network": network, "now": now}))

    async def forget_signin_attempt(self, attempt_id: int) -> None:
        async with self._transaction() as db:
            await self._tx_execute(db, "DELETE FROM signin_attempts WHERE id = :id", {"id": attempt_id})

    # -- webhooks (the outbox rows are written by triggers; claiming is the backend's)
    async def add_webhook(self, *, site_id: int, url: str, secret: str, events: list[str],
                          now: float) -> Webhook:
        async with self._transaction() as db:
            webhook_id = await self._insert_id(db, """
                INSERT INTO webhooks (site_id, url, secret, events, created_at)
                VALUES (:site, :url, :secret, :events, :now) RETURNING id""",
                {"site": site_id, "url": url, "secret": secret, "events": self.list_param(events),
                 "now": now})
            [(site_name,)] = await self._tx_rows(db, "SELECT name FROM sites WHERE id = :site",
                                                 {"site": site_id})
        return Webhook(id=webhook_id, site_id=site_id, site=site_name, url=url,
                       events=tuple(events), created_at=now, secret=secret)

    async def list_webhooks(self, site_id: int | None = None) -> list[WebhookInfo]:
        params: dict[str, Any] = {}
        where = ""
        if site_id is not None:
            where = "WHERE w.site_id = :site"
            params["site"] = site_id
        rows = await self._rows(
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
            webhook=Webhook(id=r[0], site_id=r[1], site=r[2], url=r[3], events=self.list_value(r[4]),
                            created_at=r[5]),
            queued=r[6], delivered=r[7], dead=r[8], last_delivered_at=r[9], last_error=r[10] or "")
            for r in rows]

    async def remove_webhook(self, webhook_id: int) -> bool:
        async with self._transaction() as db:
            return await self._tx_execute(db, "DELETE FROM webhooks WHERE id = :id", {"id": webhook_id}) == 1

    async def requeue_dead(self, webhook_id: int, *, now: float) -> int:
        async with self._transaction() as db:
            return await self._tx_execute(db, """
                UPDATE outbox SET dead_at = NULL, attempts = 0, next_attempt_at = :now,
                  last_error = ''
                WHERE webhook_id = :id AND dead_at IS NOT NULL""", {"now": now, "id": webhook_id})

    async def finish_delivery(self, delivery_id: int, *, lease_token: str, now: float,
                              delivered: bool, next_attempt_at: float | None,
                              error: str = "") -> bool:
        async with self._transaction() as db:
            return await self._tx_execute(db, """
                UPDATE outbox SET attempts = attempts + 1, lease_until = NULL, lease_token = NULL,
                  delivered_at = CASE WHEN :ok THEN CAST(:now AS DOUBLE PRECISION) END,
                  last_error = CASE WHEN :ok THEN last_error ELSE :error END,
                  next_attempt_at = CASE WHEN :ok OR CAST(:next AS DOUBLE PRECISION) IS NULL
                                         THEN next_attempt_at
                                         ELSE CAST(:next AS DOUBLE PRECISION) END,
                  dead_at = CASE WHEN NOT :ok AND CAST(:next AS DOUBLE PRECISION) IS NULL
                                 THEN CAST(:now AS DOUBLE PRECISION) END
                WHERE id = :id AND lease_token = :token""",
                {"ok": delivered, "now": now, "error": error[:MAX_DELIVERY_ERROR_CHARS],
                 "next": next_attempt_at, "id": delivery_id, "token": lease_token}) == 1

    async def purge_outbox(self, *, before: float) -> int:
        async with self._transaction() as db:
            return await self._tx_execute(db, "DELETE FROM outbox WHERE delivered_at < :before "
                                              "OR dead_at < :before", {"before": before})

    # -- training labels from sites
    async def save_training_label(self, *, site_id: int, body: str, body_hash: str, label: str,
                                  language: str, source: str, now: float) -> None:
        async with self._transaction() as db:
            await self._tx_execute(db, """
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
            clauses.append("l.created_at >= CAST(:since AS DOUBLE PRECISION)")
            params["since"] = since
        if site_id is not None:
            clauses.append("l.site_id = :site")
            params["site"] = site_id
        rows = await self._rows(
            f"""SELECT l.id, s.name, l.body, l.label, l.language, l.source, l.created_at
                FROM training_labels l JOIN sites s ON s.id = l.site_id
                WHERE {' AND '.join(clauses)} ORDER BY l.id LIMIT :limit""", params)
        return [TrainingLabel(id=r[0], site=r[1], body=r[2], label=r[3], language=r[4], source=r[5],
                              created_at=r[6]) for r in rows]

    # -- model reloads shared by every worker, on every host
    async def request_model_reload(self, *, requested_by: str, now: float) -> int:
        async with self._transaction() as db:
            generation = await self._insert_id(db, """
                INSERT INTO model_reloads (requested_by, requested_at) VALUES (:by, :now)
                RETURNING id""", {"by": requested_by, "now": now})
            await self._tx_execute(db, "DELETE FROM model_reloads WHERE id <= :oldest",
                                   {"oldest": generation - KEPT_MODEL_RELOADS})
        return generation

    async def model_generation(self) -> int:
        return (await self._row("SELECT COALESCE(MAX(id), 0) FROM model_reloads", {}))[0]

    async def record_model_worker(self, worker: str, *, generation: int, model_version: str | None,
                                  loaded_at: float | None, error: str | None, now: float,
                                  shadow_version: str | None = None,
                                  shadow_error: str | None = None) -> None:
        async with self._transaction() as db:
            await self._tx_execute(db, f"""
                INSERT INTO model_workers ({MODEL_WORKER_COLUMNS}) VALUES (:worker, :generation,
                  CAST(:version AS TEXT), CAST(:loaded_at AS DOUBLE PRECISION), CAST(:error AS TEXT),
                  :now, CAST(:shadow AS TEXT), CAST(:shadow_error AS TEXT))
                ON CONFLICT (worker) DO UPDATE SET generation = excluded.generation,
                  model_version = excluded.model_version, loaded_at = excluded.loaded_at,
                  error = excluded.error, heartbeat_at = excluded.heartbeat_at,
                  shadow_version = excluded.shadow_version, shadow_error = excluded.shadow_error""",
                {"worker": worker, "generation": generation, "version": model_version,
                 "loaded_at": loaded_at, "error": error, "now": now, "shadow": shadow_version,
                 "shadow_error": shadow_error})

    async def model_workers(self, *, alive_since: float) -> list[ModelWorker]:
        rows = await self._rows(f"""SELECT {MODEL_WORKER_COLUMNS} FROM model_workers
                                    WHERE heartbeat_at >= :since ORDER BY worker{self.BYTE_ORDER}""",
                                {"since": alive_since})
        return [ModelWorker(*row) for row in rows]

    async def remove_model_worker(self, worker: str) -> None:
        async with self._transaction() as db:
            await self._tx_execute(db, "DELETE FROM model_workers WHERE worker = :worker", {"worker": worker})

    async def forget_model_workers(self, *, before: float) -> int:
        async with self._transaction() as db:
            return await self._tx_execute(db, "DELETE FROM model_workers WHERE heartbeat_at < :before",
                                          {"before": before})

    async def record_model_change(self, *, action: str, version: str | None,
                                  previous_version: str | None, actor: str, now: float) -> ModelChange:
        async with self._transaction() as db:
            change_id = await self._insert_id(db, """
                INSERT INTO model_changes (action, version, previous_version, actor, at)
                VALUES (:action, CAST(:version AS TEXT), CAST(:previous AS TEXT), :actor, :now)
                RETURNING id""",
                {"action": action, "version": version, "previous": previous_version, "actor": actor,
                 "now": now})
        return ModelChange(change_id, action, version, previous_version, actor, now)

    async def model_changes(self, *, limit: int = 20) -> list[ModelChange]:
        rows = await self._rows("SELECT id, action, version, previous_version, actor, at FROM model_changes "
                                "ORDER BY id DESC LIMIT :limit", {"limit": limit})
        return [ModelChange(*row) for row in rows]

    async def shadow_rows(self, *, shadow_version: str, since: float,
                          site_id: int | None = None) -> list[ShadowRow]:
        rows = await self._rows(
            """SELECT c.id, c.site_id, c.language, c.model_version, c.spam_score, c.shadow_version,
                     c.shadow_score, c.shadow_band, c.created_at, c.status,
                     (SELECT e.action FROM audit_events e WHERE e.comment_id = c.id
                        AND e.action IN ('approve', 'reject', 'spam') ORDER BY e.id DESC LIMIT 1)
              FROM comments c
              WHERE c.shadow_version = :version AND c.created_at >= CAST(:since AS DOUBLE PRECISION)
                AND c.erased_at IS NULL AND (CAST(:site_id AS BIGINT) IS NULL OR c.site_id = :site_id)
              ORDER BY c.id""",
            {"version": shadow_version, "since": since, "site_id": site_id})
        return [shadow_row(row) for row in rows]

    # -- comments: reads by id, by thread, for upkeep
    async def get_comment(self, comment_id: int) -> Comment | None:
        rows = await self._rows(f"SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM} WHERE c.id = :id",
                                {"id": comment_id})
        return self._comment(rows[0]) if rows else None

    async def get_comments(self, comment_ids: list[int]) -> dict[int, Comment]:
        rows = await self._rows(
            f"SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM} WHERE {self.member_of('c.id', 'ids', 'BIGINT')}",
            {"ids": self.list_param(comment_ids)})
        return {r[0]: self._comment(r) for r in rows}

    async def parent_status(self, site_id: int, thread_ext_id: str, comment_id: int) -> Status | None:
        rows = await self._rows(
            f"""SELECT c.status FROM {COMMENT_FROM}
                WHERE c.id = :id AND c.site_id = :site AND t.ext_id = :thread""",
            {"id": comment_id, "site": site_id, "thread": thread_ext_id})
        return Status(rows[0][0]) if rows else None

    async def thread_comments(self, site_id: int, thread_ext_id: str, *, after_id: int,
                              limit: int) -> list[Comment]:
        rows = await self._rows(
            f"""SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM}
                WHERE t.site_id = :site AND t.ext_id = :thread AND c.status = 'published'
                  AND c.id > :after ORDER BY c.id LIMIT :limit""",
            {"site": site_id, "thread": thread_ext_id, "after": after_id, "limit": limit})
        return [self._comment(r) for r in rows]

    async def thread_context(self, comment_id: int, *, limit: int) -> list[Comment]:
        params = {"id": comment_id, "limit": limit}
        thread = "c.thread_id = (SELECT thread_id FROM comments WHERE id = :id)"
        before = await self._rows(f"""SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM}
                                      WHERE {thread} AND c.id < :id ORDER BY c.id DESC LIMIT :limit""", params)
        after = await self._rows(f"""SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM}
                                     WHERE {thread} AND c.id >= :id ORDER BY c.id LIMIT :limit""", params)
        if not after:      # the comment itself is always among them when it exists
            return []
        n_before = min(len(before), max(limit // 2, limit - len(after)))
        n_after = min(len(after), limit - n_before)
        return [self._comment(r) for r in reversed(before[:n_before])] + [
            self._comment(r) for r in after[:n_after]]

    async def published_counts(self, site_id: int, thread_ext_ids: list[str]) -> dict[str, int]:
        counts = dict.fromkeys(thread_ext_ids, 0)
        if not thread_ext_ids:
            return counts
        rows = await self._rows(
            f"""SELECT t.ext_id, COUNT(c.id) FROM threads t
                JOIN comments c ON c.thread_id = t.id AND c.status = 'published'
                WHERE t.site_id = :site AND {self.member_of('t.ext_id', 'threads', 'TEXT')}
                GROUP BY t.ext_id""",
            {"site": site_id, "threads": self.list_param(thread_ext_ids)})
        counts.update({ext_id: n for ext_id, n in rows})
        return counts

    async def top_threads(self, site_id: int, *, since: float, limit: int) -> list[ThreadCount]:
        rows = await self._rows(
            """SELECT t.ext_id, t.url, t.title, COUNT(*) AS n, MAX(c.published_at) AS latest
               FROM comments c JOIN threads t ON t.id = c.thread_id
               WHERE c.site_id = :site AND c.status = 'published' AND c.published_at >= :since
               GROUP BY t.id ORDER BY n DESC, latest DESC LIMIT :limit""",
            {"site": site_id, "since": since, "limit": limit})
        return [ThreadCount(thread_id=r[0], url=r[1], title=r[2], count=r[3]) for r in rows]

    async def pending_comments(self, *, after_id: int, limit: int) -> list[Comment]:
        rows = await self._rows(
            f"""SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM}
                WHERE c.status = 'pending' AND c.id > :after ORDER BY c.id LIMIT :limit""",
            {"after": after_id, "limit": limit})
        return [self._comment(r) for r in rows]

    async def audit_trail(self, comment_id: int) -> list[AuditEvent]:
        rows = await self._rows(f"SELECT {EVENT_COLUMNS} FROM audit_events WHERE comment_id = :id ORDER BY id",
                                {"id": comment_id})
        return [event_from(r) for r in rows]

    async def public_thread_page(self, site_name: str, thread_ext_id: str, *, after_id: int,
                                 limit: int, sort: str = "oldest") -> list[PublicComment] | None:
        # One statement: no row means no such site, one row of NULLs beside its
        # id a site with nothing to show. A comment no longer shown that has a
        # published reply comes as a placeholder, its name and text not even read.
        inner_order, outer_order, keyset, offset = PUBLIC_ORDERS[sort]
        rows = await self._rows(
            f"""SELECT s.id, p.id, p.parent_id, p.author_name, p.body, p.created_at, p.replies, p.removed
                FROM sites s LEFT JOIN (
                  SELECT c.id, c.parent_id, c.created_at,
                         CASE WHEN c.status = 'published' THEN c.author_name END AS author_name,
                         CASE WHEN c.status = 'published' THEN c.body END AS body,
                         (SELECT COUNT(*) FROM comments r
                          WHERE r.parent_id = c.id AND r.status = 'published') AS replies,
                         c.status <> 'published' AS removed
                  FROM threads t JOIN comments c ON c.thread_id = t.id
                  WHERE t.site_id = (SELECT id FROM sites WHERE name = :name) AND t.ext_id = :thread
                    AND (c.status = 'published'
                         OR c.id IN (SELECT r.parent_id FROM comments r WHERE r.thread_id = t.id
                                     AND r.status = 'published' AND r.parent_id IS NOT NULL))
                    AND {keyset}
                  ORDER BY {inner_order} LIMIT :limit{offset}) p ON 1 = 1
                WHERE s.name = :name ORDER BY {outer_order}""",
            {"name": site_name, "thread": thread_ext_id, "after": after_id, "limit": limit})
        if not rows:
            return None
        return [PublicComment(r[1], r[2], r[3], r[4], r[5], replies=r[6], removed=bool(r[7]))
                for r in rows if r[1] is not None]

    # -- threads a moderator closed or pre-moderated, and the admin log
    async def set_thread_rule(self, site_id: int, thread_ext_id: str, *, closed: bool | None,
                              premoderated: bool | None, actor: str, now: float) -> ThreadRule:
        one = "SELECT ext_id, closed_at, premoderated FROM threads WHERE site_id = :site AND ext_id = :thread"
        params = {"site": site_id, "thread": thread_ext_id}
        async with self._transaction() as db:
            await self._tx_execute(db, """
                INSERT INTO threads (site_id, ext_id, created_at) VALUES (:site, :thread, :now)
                ON CONFLICT (site_id, ext_id) DO NOTHING""", {**params, "now": now})
            before = _thread_rule((await self._tx_rows(db, one, params))[0])
            closed_at = before.closed_at if closed is None or closed == before.closed else (
                now if closed else None)
            flag = before.premoderated if premoderated is None else premoderated
            await self._tx_execute(db, """
                UPDATE threads SET closed_at = CAST(:closed_at AS DOUBLE PRECISION), premoderated = :flag
                WHERE site_id = :site AND ext_id = :thread""", {**params, "closed_at": closed_at, "flag": flag})
            after = ThreadRule(thread_ext_id, closed_at, flag)
            await self._record(db, at=now, actor=actor, action="thread.update", site_id=site_id,
                               target=thread_ext_id, detail={
                                   "before": {"closed": before.closed, "premoderated": before.premoderated},
                                   "after": {"closed": after.closed, "premoderated": after.premoderated}})
        return after

    async def thread_rules(self, site_id: int) -> list[ThreadRule]:
        rows = await self._rows("""SELECT ext_id, closed_at, premoderated FROM threads
                                   WHERE site_id = :site AND (closed_at IS NOT NULL OR premoderated)
                                   ORDER BY id""", {"site": site_id})
        return [_thread_rule(r) for r in rows]

    async def admin_events(self, *, limit: int, site_id: int | None = None) -> list[AdminEvent]:
        rows = await self._rows("""SELECT id, at, actor, action, site_id, target, detail FROM admin_events
                                   WHERE CAST(:site AS BIGINT) IS NULL OR site_id = :site
                                   ORDER BY id DESC LIMIT :limit""", {"site": site_id, "limit": limit})
        return [AdminEvent(id=r[0], at=r[1], actor=r[2], action=r[3], site_id=r[4], target=r[5],
                           detail=self.json_value(r[6])) for r in rows]


    # -- authors: their history on the moderator's sites, and the rules set on them
    def _comment(self, row: Any) -> Comment:
        return comment_from(row, self.list_value(row[11]))

    async def author_history(self, *, by: str, value: str, site_ids: list[int] | None,
                             limit: int) -> tuple[dict[str, int], list[Comment]]:
        column = HISTORY_COLUMNS[by]
        params: dict[str, Any] = {"value": value, "limit": limit}
        where = f"{column} = :value AND c.erased_at IS NULL"
        if site_ids is not None:
            if not site_ids:
                return {}, []
            names = []
            for index, site_id in enumerate(site_ids):
                params[f"s{index}"] = site_id
                names.append(f":s{index}")
            where += f" AND c.site_id IN ({', '.join(names)})"
        counts = {status: n for status, n in await self._rows(
            f"SELECT c.status, COUNT(*) FROM comments c WHERE {where} GROUP BY c.status", params)}
        rows = await self._rows(f"SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM} WHERE {where} "
                                "ORDER BY c.id DESC LIMIT :limit", params)
        return counts, [self._comment(r) for r in rows]

    async def set_author_rule(self, site_id: int, *, kind: str, value: str, action: str, note: str,
                              expires_at: float | None, actor: str, now: float) -> AuthorRule:
        async with self._transaction() as db:
            await self._tx_execute(db, f"""
                INSERT INTO author_rules ({RULE_COLUMNS.replace("id, ", "", 1)})
                VALUES (:site, :kind, :value, :action, :note, CAST(:expires AS DOUBLE PRECISION), :actor, :now)
                ON CONFLICT (site_id, kind, value) DO UPDATE SET action = excluded.action,
                  note = excluded.note, expires_at = excluded.expires_at,
                  created_by = excluded.created_by, created_at = excluded.created_at""",
                {"site": site_id, "kind": kind, "value": value, "action": action, "note": note,
                 "expires": expires_at, "actor": actor, "now": now})
            [row] = await self._tx_rows(db, f"""SELECT {RULE_COLUMNS} FROM author_rules
                                               WHERE site_id = :site AND kind = :kind AND value = :value""",
                                        {"site": site_id, "kind": kind, "value": value})
            rule = _author_rule(row)
            await self._record(db, at=now, actor=actor, action="author.rule_set", site_id=site_id,
                               target=f"{kind}:{value}", detail={"action": action, "note": note,
                                                                 "expires_at": expires_at})
        return rule

    async def remove_author_rule(self, rule_id: int, *, actor: str, now: float) -> AuthorRule | None:
        async with self._transaction() as db:
            rows = await self._tx_rows(db, f"SELECT {RULE_COLUMNS} FROM author_rules WHERE id = :id",
                                       {"id": rule_id})
            if not rows:
                return None
            rule = _author_rule(rows[0])
            await self._tx_execute(db, "DELETE FROM author_rules WHERE id = :id", {"id": rule_id})
            await self._record(db, at=now, actor=actor, action="author.rule_removed", site_id=rule.site_id,
                               target=f"{rule.kind.value}:{rule.value}", detail={"action": rule.action.value})
        return rule

    async def author_rules(self, site_id: int) -> list[AuthorRule]:
        rows = await self._rows(f"SELECT {RULE_COLUMNS} FROM author_rules WHERE site_id = :site ORDER BY id",
                                {"site": site_id})
        return [_author_rule(r) for r in rows]

    async def author_record(self, site_id: int, email: str) -> tuple[int, int]:
        rows = await self._rows(
            """SELECT COUNT(DISTINCT CASE WHEN e.action = 'approve' THEN c.id END),
                      COUNT(DISTINCT CASE WHEN e.action IN ('reject', 'spam') THEN c.id END)
               FROM comments c JOIN audit_events e ON e.comment_id = c.id
               WHERE c.site_id = :site AND c.email_key = :email
                 AND e.action IN ('approve', 'reject', 'spam')""",
            {"site": site_id, "email": canonical_email(email)})
        return rows[0][0], rows[0][1]

    # -- readers' flags
    async def flag_comment(self, comment_id: int, *, reader: str, reason: str, now: float,
                           threshold: int) -> FlagOutcome | None:
        params = {"id": comment_id, "reader": reader, "reason": reason, "now": now}
        async with self._transaction() as db:
            rows = await self._tx_rows(db, f"""SELECT status, reasons, model_version, spam_score FROM comments
                                               WHERE id = :id{self.FOR_UPDATE}""", {"id": comment_id})
            if not rows:
                return None
            status, reasons, model_version, score = rows[0]
            new = await self._tx_execute(db, """
                INSERT INTO reader_flags (comment_id, reader, reason, created_at)
                VALUES (:id, :reader, :reason, :now) ON CONFLICT (comment_id, reader) DO NOTHING""", params) == 1
            [(flags,)] = await self._tx_rows(db, "SELECT COUNT(*) FROM reader_flags WHERE comment_id = :id",
                                             {"id": comment_id})
            if new:
                await self._tx_execute(db, "UPDATE comments SET flag_count = :flags WHERE id = :id",
                                       {"id": comment_id, "flags": flags})
            moved = new and threshold > 0 and flags == threshold and status == Status.PUBLISHED.value
            if moved:
                await self._tx_execute(db, """UPDATE comments SET status = 'pending', reasons = :reasons,
                                              updated_at = :now WHERE id = :id""",
                                       {"id": comment_id, "now": now, "reasons": self.list_param(
                                           [*self.list_value(reasons), Reason.READER_FLAGS.value])})
                await self._tx_execute(db, """
                    INSERT INTO audit_events (comment_id, at, actor, action, from_status, to_status, reason,
                      note, model_version, spam_score)
                    VALUES (:id, :now, 'readers', 'flag', 'published', 'pending', 'reader_flags', :note,
                      CAST(:model AS TEXT), CAST(:score AS DOUBLE PRECISION))""",
                    {"id": comment_id, "now": now, "note": f"{flags} flags", "model": model_version,
                     "score": score})
                status = Status.PENDING.value
        return FlagOutcome(flags=flags, new=new, sent_to_review=moved, status=status)

    async def comment_flags(self, comment_id: int) -> dict[str, int]:
        rows = await self._rows("""SELECT reason, COUNT(*) FROM reader_flags WHERE comment_id = :id
                                   GROUP BY reason ORDER BY reason""", {"id": comment_id})
        return {reason: n for reason, n in rows}

    # -- an author's own comment (moderation.services.author_edits)
    async def author_token(self, comment_id: int) -> tuple[str | None, bool] | None:
        rows = await self._rows(
            """SELECT c.author_token_hash, EXISTS (SELECT 1 FROM audit_events e WHERE e.comment_id = c.id
                 AND e.action IN ('approve', 'reject', 'spam'))
               FROM comments c WHERE c.id = :id""", {"id": comment_id})
        return (rows[0][0], bool(rows[0][1])) if rows else None

    async def edit_comment(self, comment_id: int, *, expected_status: str, body: str, body_hash: str,
                           language: str, spam_score: float | None, model_version: str | None,
                           status: str, reasons: list[str], now: float) -> bool:
        params = {"id": comment_id, "expected": expected_status, "body": body, "hash": body_hash,
                  "language": language, "score": spam_score, "model": model_version, "status": status,
                  "reasons": self.list_param(reasons), "now": now}
        async with self._transaction() as db:
            if not await self._tx_execute(db, """
                    UPDATE comments SET body = :body, body_hash = :hash, language = :language,
                      spam_score = CAST(:score AS DOUBLE PRECISION), model_version = CAST(:model AS TEXT),
                      status = CAST(:status AS TEXT), reasons = :reasons, updated_at = :now,
                      published_at = CASE WHEN CAST(:status AS TEXT) = 'published'
                                          THEN COALESCE(published_at, :now) ELSE published_at END
                    WHERE id = :id AND status = :expected AND erased_at IS NULL""", params):
                return False
            await self._tx_execute(db, """
                INSERT INTO audit_events (comment_id, at, actor, action, from_status, to_status, reason,
                  model_version, spam_score)
                VALUES (:id, :now, 'author', 'edit', :expected, CAST(:status AS TEXT), 'edited',
                  CAST(:model AS TEXT), CAST(:score AS DOUBLE PRECISION))""", params)
        return True

    async def delete_by_author(self, comment_id: int, *, now: float) -> str | None:
        async with self._transaction() as db:
            rows = await self._tx_rows(db, f"""SELECT status, reasons, model_version, spam_score FROM comments
                                               WHERE id = :id AND erased_at IS NULL{self.FOR_UPDATE}""",
                                       {"id": comment_id})
            if not rows:
                return None
            status, reasons, model_version, score = rows[0]
            if status not in (Status.PENDING.value, Status.PUBLISHED.value):
                return status
            params = {"id": comment_id, "now": now, "was": status, "model": model_version, "score": score,
                      "reasons": self.list_param([*self.list_value(reasons), Reason.AUTHOR_DELETED.value])}
            await self._tx_execute(db, """UPDATE comments SET status = 'rejected', body = '', reasons = :reasons,
                                          updated_at = :now WHERE id = :id""", params)
            await self._tx_execute(db, """
                INSERT INTO audit_events (comment_id, at, actor, action, from_status, to_status, reason,
                  model_version, spam_score)
                VALUES (:id, :now, 'author', 'delete', :was, 'rejected', 'author_deleted',
                  CAST(:model AS TEXT), CAST(:score AS DOUBLE PRECISION))""", params)
        return status

    # -- the guard's read at intake
    async def recent_activity(self, *, site_id: int, ip_prefix: str, email: str,
                              body_hash: str, rate_since: float,
                              duplicate_since: float, thread_ext_id: str | None = None,
                              thread_since: float = 0.0, thread_cap: int = 0,
                              guard: bool = True) -> RecentActivity:
        params = {"site": site_id, "ip": ip_prefix, "email": canonical_email(email),
                  "rate": rate_since, "dup": duplicate_since, "hash": body_hash}
        if thread_ext_id is not None:
            params.update(thread=thread_ext_id, thread_since=thread_since, thread_cap=thread_cap)
        row = await self._intake_row((GUARD_ACTIVITY if guard else NO_GUARD)
                                     + (SURGE_ACTIVITY if thread_ext_id is not None else ""), params)
        activity = RecentActivity(ip_count=row[0], ip_oldest_at=row[1], email_count=row[2],
                                  email_oldest_at=row[3], duplicate=bool(row[4]),
                                  duplicate_text=bool(row[5]))
        if thread_ext_id is None:
            return activity
        return replace(activity, thread_count=row[6], surge_until=row[7], author_published=bool(row[8]))

def _thread_rule(row: Any) -> ThreadRule:
    return ThreadRule(thread=row[0], closed_at=row[1], premoderated=bool(row[2]))


def _plain(value: Any) -> Any:
    """An enum's value, anything else as it is (for an event's JSON detail)."""
    return getattr(value, "value", value)


def _author_rule(row: Any) -> AuthorRule:
    return AuthorRule(id=row[0], site_id=row[1], kind=RuleKind(row[2]), value=row[3],
                      action=RuleAction(row[4]), note=row[5], expires_at=row[6], created_by=row[7],
                      created_at=row[8])
