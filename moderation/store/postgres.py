"""PostgreSQL backend (asyncpg): the same contract as SQLite, for several
service processes on several hosts sharing one database.

``MODERATION_DATABASE_URL=postgresql://user@host:5432/dbname`` (or
``postgres://``); query parameters asyncpg does not know become server
settings, e.g. ``?search_path=moderation``.

Times are Unix seconds in ``double precision`` columns, exactly the floats the
contract (and SQLite's REAL) carries: a value read back is the value written,
which keyset cursors (``oldest`` order, equality on the key) depend on, and
day arithmetic stays ``floor(at / 86400)`` on both backends.

What makes the writes safe across processes (see :mod:`.postgres_sql` for the
pool, transactions and migrations):

- Idempotency: ``idempotency_keys``' primary key (site, key). The insert of a
  keyed comment ends with ``INSERT ... ON CONFLICT DO NOTHING``; when another
  transaction took the key first (PostgreSQL makes us wait for its commit),
  ours rolls back and the answer it recorded is replayed. One key, one comment.
- Decisions and rescoring: guarded updates (``WHERE id = $1 AND status = $2``);
  a concurrent update of the same row waits for the first to commit, then
  re-checks the condition and finds the status moved: one winner.
- Rate limits and duplicates are counted from the comments table, so every
  instance sees every other's comments. The limits are enforced in the
  insert's transaction, after a transaction-level advisory lock on each key
  counted (site and IP prefix, site and canonical e-mail, taken in one order):
  inserts sharing a key run their count-then-insert one after the other, on
  every host; the others do not wait.
"""
from __future__ import annotations

import hashlib
from typing import Any

import asyncpg

from ..domain import NewComment, RateLimitExceeded, RateLimits, Reason, Status, ThreadCount, canonical_email
from .base import (DatabaseUnavailable, IdempotencyRecord, InsertResult, Store,
                   StoredAnswer, StoreError)
from .postgres_review import ReviewQueries, lock_with_pending_replies, release_replies_in
from .postgres_webhooks import WebhookQueries
from .shared_drift import SharedDrift
from .shared import COMMENT_COLUMNS, COMMENT_FROM
from .shared_review import SharedReviewQueries
from .postgres_sql import execute, fetch, fetchrow
from .postgres_sql import is_unavailable  # noqa: F401  (the service's 503 database_unavailable)
from .shared_surges import SharedSurges
from .surge_sql import POSTGRES_BUCKET

WRITABLE_PROBE_TIMEOUT_SECONDS = 5.0


class _KeyTaken(Exception):
    """Raised inside an insert transaction to roll it back: the key was used."""

    def __init__(self, answer: StoredAnswer) -> None:
        super().__init__(answer.request_hash)
        self.answer = answer


def _answer(row: Any) -> StoredAnswer | None:
    if row is None:
        return None
    answer = dict(row[2])
    answer["id"] = row[3]
    return StoredAnswer(request_hash=row[0], status_code=row[1], answer=answer)


_ANSWER_SQL = ("SELECT request_hash, status_code, answer, comment_id FROM idempotency_keys "
               "WHERE site_id = :site AND key = :key")


# A new comment with its thread, first audit event and full IP, in one statement
# (data-modifying CTEs: atomic without a transaction); the comment's id.
#
# The thread: ``found`` is a plain read of the row when it exists and names what
# the comment names (an empty url or title names nothing). Only otherwise, new
# or renamed, does ``upserted`` write it, its row lock then held until the
# comment commits; so a busy thread's comments do not queue on its row.
# Two first comments of a new thread at once: the second's INSERT waits for the
# first's commit, then updates (ON CONFLICT) the row it could not see. Outbox rows
# come from the trigger on ``comments`` (migration 0005), as for any insert.
_INSERT_COMMENT = """
WITH found AS (
  SELECT id FROM threads WHERE site_id = :site AND ext_id = :ext_id
    AND (:url = '' OR url = :url) AND (:title = '' OR title = :title)
), upserted AS (
  INSERT INTO threads (site_id, ext_id, url, title, created_at)
  SELECT :site, :ext_id, :url, :title, :now WHERE NOT EXISTS (SELECT FROM found)
  ON CONFLICT (site_id, ext_id) DO UPDATE SET
    url = CASE WHEN excluded.url <> '' THEN excluded.url ELSE threads.url END,
    title = CASE WHEN excluded.title <> '' THEN excluded.title ELSE threads.title END
  RETURNING id
), new_comment AS (
  INSERT INTO comments (site_id, thread_id, parent_id, status, author_name, author_email,
    email_key, body, body_hash, language, spam_score, model_version, reasons, ip_prefix,
    user_agent, referrer, created_at, updated_at, published_at, shadow_version, shadow_score,
    shadow_band, author_token_hash)
  VALUES (:site, (SELECT id FROM found UNION ALL SELECT id FROM upserted), :parent, :status,
    :name, :email, :email_key, :body, :body_hash, :language, :score, :model, :reasons, :ip_prefix,
    :user_agent, :referrer, :now, :now, :published_at::float8, :shadow_version::text,
    :shadow_score::float8, :shadow_band::text, :author_token_hash::text)
  RETURNING id
), audit AS (
  INSERT INTO audit_events (comment_id, at, actor, action, from_status, to_status, reason,
    model_version, spam_score)
  SELECT id, :now, 'intake', 'submit', NULL, :status, :reason, :model, :score FROM new_comment
), ip AS (
  INSERT INTO client_ips (comment_id, ip, created_at)
  SELECT id, :ip, :now FROM new_comment WHERE :ip <> ''
)
SELECT id FROM new_comment"""


def advisory_key(*parts: object) -> int:
    """A signed 64-bit key for ``pg_advisory_xact_lock`` naming *parts*."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def _check_limits(db: asyncpg.Connection, c: NewComment, limits: RateLimits) -> None:
    """Inside the insert's transaction: lock the keys *limits* counts, then
    count; RateLimitExceeded past a limit. READ COMMITTED: the count, a
    statement after the lock, sees every insert that held the lock before."""
    email_key = canonical_email(c.author_email)
    counted = {}
    if limits.per_ip and c.ip_prefix:
        counted["ip"] = ("ip_prefix", c.ip_prefix, limits.per_ip)
    if limits.per_email and email_key:
        counted["email"] = ("email_key", email_key, limits.per_email)
    if not counted:
        return
    locks = sorted(advisory_key("rate", c.site_id, kind, value) for kind, (_, value, _) in counted.items())
    await execute(db, "SELECT " + ", ".join(f"pg_advisory_xact_lock(:k{i}::bigint)"
                                            for i in range(len(locks))),
                  {f"k{i}": key for i, key in enumerate(locks)})
    waits = []
    for column, value, limit in counted.values():
        count, oldest = await fetchrow(
            db, f"""SELECT COUNT(*), MIN(created_at) FROM comments
                    WHERE site_id = :site AND {column} = :value AND created_at >= :since""",
            {"site": c.site_id, "value": value, "since": c.created_at - limits.window_seconds})
        if count >= limit:
            waits.append(limits.retry_after(oldest, c.created_at))
    if waits:
        raise RateLimitExceeded(max(waits))


def _insert_params(c: NewComment) -> dict[str, Any]:
    reasons = [r.value for r in c.reasons]
    return {
        "site": c.site_id, "ext_id": c.thread.id, "url": c.thread.url, "title": c.thread.title,
        "parent": c.parent_id, "status": c.status.value, "name": c.author_name,
        "email": c.author_email, "email_key": canonical_email(c.author_email),
        "body": c.body, "body_hash": c.body_hash,
        "language": c.language, "score": c.spam_score, "model": c.model_version,
        "reasons": reasons, "reason": ",".join(reasons), "ip_prefix": c.ip_prefix,
        "ip": c.ip_full, "user_agent": c.user_agent, "referrer": c.referrer,
        "now": c.created_at, "shadow_version": c.shadow_version, "shadow_score": c.shadow_score,
        "shadow_band": c.shadow_band, "author_token_hash": c.author_token_hash,
        "published_at": c.created_at if c.status is Status.PUBLISHED else None}


# The public reads, each written once for a site given by id (``{site}`` is
# ``:site``) and by name (``s.id`` of ``sites s``, joined in the same query).
_THREAD_PAGE = f"""SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM}
    WHERE t.site_id = {{site}} AND t.ext_id = :thread AND c.status = 'published'
      AND c.id > :after ORDER BY c.id LIMIT :limit"""
_THREADS_ASKED = "t.site_id = {site} AND t.ext_id = ANY(:threads::text[])"
_PUBLISHED_IN_THREAD = ("(SELECT COUNT(*) FROM comments c "
                        "WHERE c.thread_id = t.id AND c.status = 'published')")
_TOP_THREADS = """SELECT t.ext_id, t.url, t.title, COUNT(*) AS n, MAX(c.published_at) AS latest
    FROM comments c JOIN threads t ON t.id = c.thread_id
    WHERE c.site_id = {site} AND c.status = 'published' AND c.published_at >= :since
    GROUP BY t.id ORDER BY n DESC, latest DESC LIMIT :limit"""


class PostgresStore(ReviewQueries, WebhookQueries, SharedDrift, SharedSurges, SharedReviewQueries, Store):
    """The store on PostgreSQL. Decisions and retention live in
    :class:`~.postgres_review.ReviewQueries`; claiming webhook deliveries
    in :class:`~.postgres_webhooks.WebhookQueries`; the queries both backends
    run alike in :class:`~.shared_review.SharedReviewQueries` and
    :class:`~.shared.SharedQueries`, over the dialect below."""

    UNIQUE_VIOLATION = asyncpg.UniqueViolationError
    TYPED_PARAMS = True
    BYTE_ORDER = ' COLLATE "C"'
    FOR_UPDATE = " FOR UPDATE"
    SURGE_BUCKET = POSTGRES_BUCKET

    @staticmethod
    def list_param(values) -> list:
        return list(values)

    @staticmethod
    def list_value(column) -> tuple:
        return tuple(column)

    @staticmethod
    def json_param(value: dict) -> dict:
        return value      # the connection's jsonb codec encodes it

    @staticmethod
    def json_value(column) -> dict:
        return column

    @staticmethod
    def member_of(column: str, param: str, sql_type: str) -> str:
        return f"{column} = ANY(CAST(:{param} AS {sql_type}[]))"

    async def _serialize(self, db, *key: object) -> None:
        await execute(db, "SELECT pg_advisory_xact_lock(:key::bigint)", {"key": advisory_key(*key)})

    @staticmethod
    def reason_param(column: str, param: str, params: dict[str, Any], code: str) -> str:
        params[param] = code
        return f"{column} ? CAST(:{param} AS TEXT)"

    @staticmethod
    def has_reason(column: str, code: str) -> str:
        return f"{column} ? '{code}'"

    @staticmethod
    def day_of(seconds: str) -> str:
        return f"CAST(floor({seconds} / 86400) AS BIGINT)"

    async def _rows(self, sql: str, params: dict[str, Any]) -> list[asyncpg.Record]:
        return await self._fetch(sql, params)

    async def _intake_row(self, sql: str, params: dict[str, Any]) -> asyncpg.Record:
        return await self._fetchrow(sql, params)

    @staticmethod
    async def _tx_rows(db: asyncpg.Connection, sql: str, params: dict[str, Any]) -> list[asyncpg.Record]:
        return await fetch(db, sql, params)

    @staticmethod
    async def _tx_execute(db: asyncpg.Connection, sql: str, params: dict[str, Any]) -> int:
        return await execute(db, sql, params)

    @classmethod
    def from_url(cls, url: str) -> "PostgresStore":
        """``postgresql://...`` or ``postgres://...`` as asyncpg reads it."""
        if not url.startswith(("postgresql://", "postgres://")):
            raise StoreError(f"PostgreSQL URL must start with postgresql://, not {url!r}")
        return cls(url)

    # -- health
    async def check_writable(self) -> None:
        """Raises :class:`~.base.DatabaseUnavailable` when the server is out of
        reach (down, restarting, refusing connections) or no pooled connection
        comes within the probe's time, :class:`StoreError` when it refuses the
        write (a standby, ``default_transaction_read_only``)."""
        try:
            async with self._connection(timeout=WRITABLE_PROBE_TIMEOUT_SECONDS) as connection:
                async with connection.transaction():
                    # Refused in a read-only transaction even though it touches no row.
                    await connection.execute("UPDATE schema_migrations SET version = version WHERE false",
                                             timeout=WRITABLE_PROBE_TIMEOUT_SECONDS)
        except DatabaseUnavailable:
            raise
        except OSError as exc:
            raise DatabaseUnavailable(f"cannot reach PostgreSQL: {exc}") from exc
        except (TimeoutError, AssertionError, asyncpg.PostgresError,
                asyncpg.InterfaceError) as exc:
            raise StoreError(f"database not writable: {exc}") from exc

    # -- sign-in throttling
    # -- intake
    async def stored_answer(self, site_id: int, key: str, not_before: float) -> StoredAnswer | None:
        return _answer(await self._fetchrow(f"{_ANSWER_SQL} AND created_at >= :not_before",
                                            {"site": site_id, "key": key, "not_before": not_before}))

    async def insert_comment(self, comment: NewComment,
                             idempotency: IdempotencyRecord | None = None, *,
                             limits: RateLimits | None = None) -> InsertResult:
        """Without a key or limits: one statement (:data:`_INSERT_COMMENT`), atomic
        on its own, so one round trip and no transaction. Otherwise a transaction
        around the same statement: the key's look-up, the limits' locks and
        counts before it, the recording of the key after it."""
        if idempotency is None and not limits:
            return InsertResult(comment_id=await self._fetchval(
                _INSERT_COMMENT, _insert_params(comment)))
        try:
            async with self._transaction() as db:
                return await self._insert_guarded(db, comment, idempotency, limits)
        except _KeyTaken as taken:
            return InsertResult(comment_id=taken.answer.answer["id"], replay=taken.answer)

    @staticmethod
    async def _insert_guarded(db: asyncpg.Connection, c: NewComment,
                              idempotency: IdempotencyRecord | None,
                              limits: RateLimits | None) -> InsertResult:
        key = {"site": c.site_id, "key": idempotency.key} if idempotency is not None else None
        if key is not None:
            previous = _answer(await fetchrow(db, _ANSWER_SQL, key))
            if previous is not None:
                return InsertResult(comment_id=previous.answer["id"], replay=previous)
        if limits:
            await _check_limits(db, c, limits)
        comment_id = (await fetchrow(db, _INSERT_COMMENT, _insert_params(c)))[0]
        if key is None:
            return InsertResult(comment_id=comment_id)
        recorded = await fetchrow(db, """
            INSERT INTO idempotency_keys (site_id, key, request_hash, comment_id, status_code,
              answer, created_at)
            VALUES (:site, :key, :hash, :id, :code, :answer, :now)
            ON CONFLICT (site_id, key) DO NOTHING RETURNING 1""", {
            **key, "hash": idempotency.request_hash, "id": comment_id,
            "code": idempotency.status_code, "answer": idempotency.answer, "now": c.created_at})
        if recorded is None:
            # Another transaction recorded the key while we worked and has committed
            # (ON CONFLICT waited for it): this statement's snapshot sees its answer.
            raise _KeyTaken(_answer(await fetchrow(db, _ANSWER_SQL, key)))
        return InsertResult(comment_id=comment_id)

    async def release_replies(self, parent_id: int, *, now: float) -> list[int]:
        async with self._transaction() as db:
            # The parent first (a decision publishing it at this moment commits
            # before we read it), then its pending replies: id order, as decisions.
            await lock_with_pending_replies(db, [parent_id], [parent_id])
            status = await fetchrow(db, "SELECT status FROM comments WHERE id = :id",
                                    {"id": parent_id})
            if status is None or status[0] != Status.PUBLISHED.value:
                return []
            return await release_replies_in(db, [parent_id], now)

    # -- reads
    # -- public reads by site name: the site and its rows in one query (one round trip).
    # No row: no such site; one row of NULLs beside the site's id: a site with nothing to show.
    async def site_published_counts(self, site_name: str,
                                    thread_ext_ids: list[str]) -> dict[str, int] | None:
        rows = await self._fetch(
            f"""SELECT t.ext_id, {_PUBLISHED_IN_THREAD} FROM sites s
                LEFT JOIN threads t ON {_THREADS_ASKED.format(site="s.id")}
                WHERE s.name = :name""",
            {"name": site_name, "threads": list(thread_ext_ids)})
        if not rows:
            return None
        counts = dict.fromkeys(thread_ext_ids, 0)
        counts.update({ext_id: n for ext_id, n in rows if ext_id is not None})
        return counts

    async def site_top_threads(self, site_name: str, *, since: float,
                               limit: int) -> list[ThreadCount] | None:
        rows = await self._fetch(
            f"""SELECT top.ext_id, top.url, top.title, top.n FROM sites s
                LEFT JOIN LATERAL ({_TOP_THREADS.format(site="s.id")}) top ON true
                WHERE s.name = :name ORDER BY top.n DESC, top.latest DESC""",
            {"name": site_name, "since": since, "limit": limit})
        if not rows:
            return None
        return [ThreadCount(thread_id=r[0], url=r[1], title=r[2], count=r[3])
                for r in rows if r[0] is not None]

    # -- model upkeep
    async def rescore(self, comment_id: int, *, spam_score: float | None, model_version: str | None,
                      new_status: str | None, reasons: list[str], now: float) -> bool:
        params = {"id": comment_id, "score": spam_score, "model": model_version, "now": now}
        async with self._transaction() as db:
            await execute(db, """UPDATE comments SET spam_score = :score::float8,
                                   model_version = :model::text, updated_at = :now
                                 WHERE id = :id""", params)
            if new_status is None or new_status == Status.PENDING.value:
                return False
            if new_status == Status.PUBLISHED.value:
                # Not locked: a decision publishing the parent now locks this row
                # (held by the UPDATE above) before it releases the replies, so it
                # sees the reasons written here once we commit.
                parent = await fetchrow(db, """
                    SELECT p.status FROM comments c JOIN comments p ON p.id = c.parent_id
                    WHERE c.id = :id""", params)
                if parent is not None and parent[0] != Status.PUBLISHED.value:
                    held = [*reasons, *([] if Reason.PARENT_PENDING.value in reasons
                                        else [Reason.PARENT_PENDING.value])]
                    await execute(db, "UPDATE comments SET reasons = :reasons "
                                      "WHERE id = :id AND status = 'pending'",
                                  {"id": comment_id, "reasons": held})
                    return False
            moved = await fetchrow(db, """
                UPDATE comments SET status = :status, reasons = :reasons, updated_at = :now,
                  published_at = CASE WHEN :status = 'published' THEN :now ELSE published_at END
                WHERE id = :id AND status = 'pending' RETURNING id""",
                {**params, "status": new_status, "reasons": list(reasons)})
            if moved is None:
                return False
            await execute(db, """
                INSERT INTO audit_events (comment_id, at, actor, action, from_status, to_status,
                  reason, model_version, spam_score)
                VALUES (:id, :now, 'rescore', 'rescore', 'pending', :status, :reason,
                  :model::text, :score::float8)""",
                {**params, "status": new_status, "reason": ",".join(reasons)})
            if new_status == Status.PUBLISHED.value:
                await release_replies_in(db, [comment_id], now)
            return True

    # -- model reloads shared by every worker, on every host
    # -- model changes
