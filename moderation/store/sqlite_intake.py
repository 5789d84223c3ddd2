"""Group commit of new comments on SQLite: many inserts, one transaction, one fsync.

Contract:

- ``IntakeWriter.insert(comment, idempotency)`` returns only after the COMMIT
  that holds the comment (``synchronous=FULL``: it is on disk).
- Concurrent inserts form batches: the first to arrive starts one at once;
  those arriving while it commits form the next. Each insert runs in its own
  SAVEPOINT, so one failing insert fails alone; if BEGIN or COMMIT fails, the
  whole batch fails and nothing of it is stored.
- A batch runs as one synchronous function on the writer's own connection and
  thread: one hop off the event loop per batch, instead of one per statement.
- Writes of the whole store stay serialized: a batch holds the store's asyncio
  write lock in this process, and an exclusive ``flock`` on the writer-lock file
  across processes (taken in the writer thread, so waiting costs no hop).
- An idempotency key already stored for the site returns its stored answer
  (``InsertResult.replay``) instead of inserting.
- Rate limits (``RateLimits``) are counted inside the batch's transaction,
  before the insert they guard: since every writer of the file takes that
  transaction in turn (``BEGIN IMMEDIATE``), the count and the insert are one
  atomic step across processes, and a comment past a limit fails alone with
  ``RateLimitExceeded``. The batch reads the recent times of all its keys in
  one query per kind (:class:`RecentTimes`), then counts in memory, adding
  each comment it writes: a check costs no statement per comment.
"""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from ..domain import NewComment, RateLimitExceeded, RateLimits, Status, canonical_email
from .base import IdempotencyRecord, InsertResult, StoredAnswer

_Pending = tuple[NewComment, IdempotencyRecord | None, RateLimits | None, asyncio.Future]
_Work = tuple[NewComment, IdempotencyRecord | None, RateLimits | None]


class IntakeWriter:
    def __init__(self, path: str, write_lock: asyncio.Lock, lock_file_descriptor: int,
                 pragmas: list[str], on_write=None) -> None:
        self._on_write = on_write   # called with None after a commit, or the batch's error
        self._path = path
        self._write_lock = write_lock
        self._lock_fd = lock_file_descriptor
        self._pragmas = pragmas
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-intake")
        self._connection: sqlite3.Connection | None = None
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task | None = None

    async def open(self) -> None:
        self._connection = await asyncio.get_running_loop().run_in_executor(self._thread, self._connect)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        for pragma in self._pragmas:
            connection.execute(pragma)
        return connection

    async def close(self) -> None:
        """Waits for the batch in flight and those queued, then closes."""
        if self._flusher is not None:
            await self._flusher
        if self._connection is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._connection.close)
            self._connection = None
        self._thread.shutdown(wait=True)

    async def insert(self, comment: NewComment, idempotency: IdempotencyRecord | None,
                     limits: RateLimits | None = None) -> InsertResult:
        assert self._connection is not None, "store is not open"
        future = asyncio.get_running_loop().create_future()
        self._pending.append((comment, idempotency, limits, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                async with self._write_lock:
                    work = loop.run_in_executor(self._thread, self._commit_batch,
                                                [(c, i, l) for c, i, l, _ in batch])
                    try:
                        outcomes = await asyncio.shield(work)
                    except asyncio.CancelledError:
                        # The batch commits in its thread all the same: let it end, answer, stop.
                        self._settle(batch, await work)
                        raise
                    except Exception as exc:   # the batch itself broke: every waiter hears it
                        outcomes = [exc] * len(batch)
                if self._on_write is not None:
                    failed = next((o for o in outcomes if isinstance(o, sqlite3.Error)
                                   and is_unwritable(o)), None)
                    if failed is not None:
                        self._on_write(failed)
                    elif any(not isinstance(o, Exception) for o in outcomes):
                        self._on_write(None)   # committed: the file takes writes again
                self._settle(batch, outcomes)
        finally:
            self._flusher = None

    @staticmethod
    def _settle(batch: list[_Pending], outcomes: list[InsertResult | Exception]) -> None:
        for (_, _, _, future), outcome in zip(batch, outcomes):
            if future.cancelled():
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _commit_batch(self, batch: list[_Work]) -> list[InsertResult | Exception]:
        """Blocking, in the writer thread: the whole batch in one transaction.
        Returns one outcome per insert; if the transaction fails, its error for all."""
        db = self._connection
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            try:
                db.execute("BEGIN IMMEDIATE")   # may fail (busy, unwritable): answered, not lost
                outcomes: list[InsertResult | Exception] = []
                recent = RecentTimes.read(db, batch)
                for comment, idempotency, limits in batch:
                    db.execute("SAVEPOINT one_insert")
                    try:
                        outcome = _insert_one(db, comment, idempotency, limits, recent)
                        if outcome.replay is None:
                            recent.add(comment)
                        outcomes.append(outcome)
                    except Exception as exc:   # this insert only: the batch goes on
                        db.execute("ROLLBACK TO one_insert")
                        outcomes.append(exc)
                    db.execute("RELEASE one_insert")
                db.execute("COMMIT")
            except Exception as exc:   # BEGIN or COMMIT failed: nothing of the batch is stored
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                return [exc] * len(batch)
            return outcomes
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)


_UNWRITABLE = ("database or disk is full", "readonly database", "disk i/o error",
               "unable to open database file")


def is_unwritable(exc: BaseException) -> bool:
    """A SQLite error saying the file takes no writes (disk full, read-only, I/O)."""
    text = str(exc).lower()
    return any(marker in text for marker in _UNWRITABLE)


def answer_from_row(row) -> StoredAnswer | None:
    """An ``idempotency_keys`` row (request_hash, status_code, answer, comment_id) as a StoredAnswer."""
    if row is None:
        return None
    answer = json.loads(row[2])
    answer["id"] = row[3]
    return StoredAnswer(request_hash=row[0], status_code=row[1], answer=answer)


_LIMITED_COLUMNS = {"ip": "ip_prefix", "email": "email_key"}


class RecentTimes:
    """Inside a batch's write transaction: the creation times of the comments
    of each (site, kind, key) the batch's limits count, read once for the
    batch, then kept current as the batch writes (:meth:`add`)."""

    def __init__(self, times: dict[tuple[int, str, str], list[float]]) -> None:
        self._times = times

    @classmethod
    def read(cls, db: sqlite3.Connection, batch: list[_Work]) -> "RecentTimes":
        wanted: dict[tuple[int, str], set[str]] = {}
        since: dict[tuple[int, str], float] = {}
        for comment, _, limits in batch:
            if not limits:
                continue
            for kind, key in _limited_keys(comment, limits):
                wanted.setdefault((comment.site_id, kind), set()).add(key)
                start = comment.created_at - limits.window_seconds
                since[(comment.site_id, kind)] = min(start, since.get((comment.site_id, kind), start))
        times: dict[tuple[int, str, str], list[float]] = {
            (site_id, kind, key): [] for (site_id, kind), keys in wanted.items() for key in keys}
        for (site_id, kind), keys in wanted.items():
            column, keys = _LIMITED_COLUMNS[kind], sorted(keys)
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                rows = db.execute(
                    f"SELECT {column}, created_at FROM comments WHERE site_id = ? AND {column} IN "
                    f"({', '.join('?' * len(chunk))}) AND created_at >= ?",
                    (site_id, *chunk, since[(site_id, kind)])).fetchall()
                for key, created_at in rows:
                    times[(site_id, kind, key)].append(created_at)
        return cls(times)

    def check(self, c: NewComment, limits: RateLimits) -> None:
        """Raise RateLimitExceeded when *c* would exceed *limits*."""
        since, waits = c.created_at - limits.window_seconds, []
        for kind, key in _limited_keys(c, limits):
            inside = [t for t in self._times.get((c.site_id, kind, key), ()) if t >= since]
            if len(inside) >= (limits.per_ip if kind == "ip" else limits.per_email):
                waits.append(limits.retry_after(min(inside), c.created_at))
        if waits:
            raise RateLimitExceeded(max(waits))

    def add(self, c: NewComment) -> None:
        for kind, key in (("ip", c.ip_prefix), ("email", canonical_email(c.author_email))):
            times = self._times.get((c.site_id, kind, key))
            if times is not None:
                times.append(c.created_at)


def _limited_keys(c: NewComment, limits: RateLimits) -> list[tuple[str, str]]:
    """The (kind, key) pairs *limits* counts for *c*: no key, no count."""
    keys = []
    if limits.per_ip and c.ip_prefix:
        keys.append(("ip", c.ip_prefix))
    if limits.per_email:
        email_key = canonical_email(c.author_email)
        if email_key:
            keys.append(("email", email_key))
    return keys


def _insert_one(db: sqlite3.Connection, c: NewComment, idempotency: IdempotencyRecord | None,
                limits: RateLimits | None = None, recent: RecentTimes | None = None) -> InsertResult:
    if idempotency is not None:
        previous = answer_from_row(db.execute(
            "SELECT request_hash, status_code, answer, comment_id FROM idempotency_keys "
            "WHERE site_id = ? AND key = ?", (c.site_id, idempotency.key)).fetchone())
        if previous is not None:
            return InsertResult(comment_id=previous.answer["id"], replay=previous)
    email_key = canonical_email(c.author_email)
    if limits:
        (recent or RecentTimes.read(db, [(c, idempotency, limits)])).check(c, limits)
    (thread_id,) = db.execute(
        """INSERT INTO threads (site_id, ext_id, url, title, created_at)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (site_id, ext_id) DO UPDATE SET
             url = CASE WHEN excluded.url != '' THEN excluded.url ELSE threads.url END,
             title = CASE WHEN excluded.title != '' THEN excluded.title ELSE threads.title END
           RETURNING id""",
        (c.site_id, c.thread.id, c.thread.url, c.thread.title, c.created_at)).fetchone()
    published_at = c.created_at if c.status is Status.PUBLISHED else None
    comment_id = db.execute(
        """INSERT INTO comments (site_id, thread_id, parent_id, status, author_name,
             author_email, email_key, body, body_hash, language, spam_score, model_version,
             reasons, ip_prefix, user_agent, referrer, created_at, updated_at, published_at,
             shadow_version, shadow_score, shadow_band, author_token_hash)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (c.site_id, thread_id, c.parent_id, c.status.value, c.author_name, c.author_email,
         email_key, c.body, c.body_hash, c.language, c.spam_score, c.model_version,
         json.dumps([r.value for r in c.reasons]), c.ip_prefix, c.user_agent, c.referrer,
         c.created_at, c.created_at, published_at, c.shadow_version, c.shadow_score,
         c.shadow_band, c.author_token_hash)).lastrowid
    db.execute(
        """INSERT INTO audit_events (comment_id, at, actor, action, from_status, to_status,
             reason, model_version, spam_score)
           VALUES (?, ?, 'intake', 'submit', NULL, ?, ?, ?, ?)""",
        (comment_id, c.created_at, c.status.value, ",".join(r.value for r in c.reasons),
         c.model_version, c.spam_score))
    if c.ip_full:
        db.execute("INSERT INTO client_ips (comment_id, ip, created_at) VALUES (?, ?, ?)",
                   (comment_id, c.ip_full, c.created_at))
    if idempotency is not None:
        db.execute(
            """INSERT INTO idempotency_keys (site_id, key, request_hash, comment_id,
                 status_code, answer, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (c.site_id, idempotency.key, idempotency.request_hash, comment_id,
             idempotency.status_code, json.dumps(idempotency.answer), c.created_at))
    return InsertResult(comment_id=comment_id)
