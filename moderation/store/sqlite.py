"""SQLite backend: a writer connection, a read-only reader, and the intake's
group-commit connection (``sqlite_intake``), all in WAL mode.

Durability: ``journal_mode=WAL`` with ``synchronous=FULL``: a transaction is on
disk when COMMIT returns, and write methods return only after COMMIT. Every
write transaction runs in ``BEGIN IMMEDIATE`` under one asyncio lock in this
process and an exclusive ``flock`` on ``<database>.writer-lock`` across the
processes sharing the file. Schema migrations are the numbered files in
``migrations/sqlite``, applied in order and recorded in ``PRAGMA user_version``.
"""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import sqlite3
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, AsyncIterator

import aiosqlite

from ..domain import Comment, NewComment, RateLimits, Reason, Status
from .base import (CONFLICT, DECIDED, NOT_FOUND, RELEASE_ACTION, RELEASE_ACTOR, RELEASE_REASON,
                   DatabaseMissing, DecisionOutcome, DecisionRequest, IdempotencyRecord, InsertResult,
                   Store, StoredAnswer, StoreError,
                   held_only_for_parent, parent_release_note)
from .base import Delivery
from .base import DRIFT_EPISODE_COLUMNS, DRIFT_EPISODE_WIDTH, drift_episode_from
from .shared import COMMENT_COLUMNS, EVENT_COLUMNS, comment_from, event_from
from .shared_review import SharedReviewQueries
from .shared_drift import SharedDrift
from .sqlite_intake import IntakeWriter, answer_from_row, is_unwritable
from .sqlite_reads import BatchedReader
from .shared_surges import SharedSurges
from .surge_sql import SQLITE_BUCKET

# How long a write waits for another process's SQLite write lock before it is
# answered 503 database_busy; MODERATION_SQLITE_BUSY_TIMEOUT_MS overrides it (tests).
BUSY_TIMEOUT_MS = int(os.environ.get("MODERATION_SQLITE_BUSY_TIMEOUT_MS", "10000"))
CONNECTION_PRAGMAS = [f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", "PRAGMA journal_mode = WAL",
                      "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON",
                      "PRAGMA temp_store = MEMORY"]   # savepoints journal in memory: a third of an insert's cost



def migrations() -> list[tuple[int, str]]:
    """(number, SQL) of every migration file, in order."""
    folder = resources.files("moderation.store") / "migrations" / "sqlite"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _comment(row: Any) -> Comment:
    return comment_from(row, tuple(json.loads(row[11])))


def _like_literal(text: str) -> str:
    """*text* for a LIKE pattern with ``\\`` as the escape character."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _in_list(prefix: str, values: list | tuple, params: dict) -> str:
    """``:prefix0, :prefix1, ...`` with the values added to *params*."""
    names = []
    for index, value in enumerate(values):
        params[f"{prefix}{index}"] = value
        names.append(f":{prefix}{index}")
    return ", ".join(names)




async def _release_replies(db: aiosqlite.Connection, parent_ids: list[int], now: float) -> list[int]:
    """Inside a write transaction: publish the replies of *parent_ids* (just
    published) held only for them, then theirs in turn, each with its audit
    event (see :meth:`Store.release_replies`). Their ids, level by level."""
    released: list[int] = []
    parents = sorted(set(parent_ids))
    while parents:
        params: dict[str, Any] = {}
        marks = _in_list("parent", parents, params)
        cursor = await db.execute(
            f"""SELECT id, parent_id, reasons FROM comments
                WHERE parent_id IN ({marks}) AND status = 'pending' AND erased_at IS NULL
                ORDER BY id""", params)
        replies = await cursor.fetchall()
        await cursor.close()
        parents = []
        for reply_id, parent_id, reasons in replies:
            if not held_only_for_parent(json.loads(reasons)):
                continue
            cursor = await db.execute(
                """UPDATE comments SET status = 'published', updated_at = :now,
                     published_at = COALESCE(published_at, :now)
                   WHERE id = :id AND status = 'pending' RETURNING model_version, spam_score""",
                {"now": now, "id": reply_id})
            moved = await cursor.fetchone()
            await cursor.close()
            if moved is None:
                continue
            await db.execute(
                """INSERT INTO audit_events (comment_id, at, actor, action, from_status, to_status,
                     reason, note, model_version, spam_score)
                   VALUES (?, ?, ?, ?, 'pending', 'published', ?, ?, ?, ?)""",
                (reply_id, now, RELEASE_ACTOR, RELEASE_ACTION, RELEASE_REASON,
                 parent_release_note(parent_id), moved[0], moved[1]))
            released.append(reply_id)
            parents.append(reply_id)
    return released


def sql_statements(script: str) -> list[str]:
    """*script* cut into complete statements by SQLite's own tokenizer
    (``sqlite3.complete_statement``): a ``;`` inside a string, a comment or a
    trigger body does not end a statement. The last may lack its ``;``."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    rest = "\n".join(line for line in current.splitlines() if not line.strip().startswith("--"))
    if rest.strip():   # a last statement may go without its ";"
        if not sqlite3.complete_statement(rest + ";"):
            raise StoreError(f"incomplete SQL statement in a migration: {rest.strip()[:80]!r}")
        statements.append(rest.strip())
    return statements


class DatabaseCorrupt(StoreError):
    """A SQLite file that fails ``PRAGMA quick_check``: never served nor written."""


class DatabaseUnwritable(StoreError):
    """A SQLite file (or its folder, which holds the WAL) that cannot be written:
    a read-only file system or file, or no permission. Not served: every comment
    would be refused."""


def check_writable(path: str) -> None:
    """Raise DatabaseUnwritable unless the file (when it exists) and its folder
    accept writes (``access(2)``: a read-only mount refuses even root)."""
    absolute = Path(path).absolute()
    for target, what in ((absolute, "database file"), (absolute.parent, "folder of the database")):
        if target.exists() and not os.access(target, os.W_OK):
            raise DatabaseUnwritable(
                f"{what} {target} is not writable (read-only file system, read-only file or no "
                "permission); not serving it")


def quick_check(path: str) -> None:
    """``PRAGMA quick_check`` on a read-only connection; raises DatabaseCorrupt naming the file."""
    absolute = Path(path).absolute()
    try:
        connection = sqlite3.connect(f"{absolute.as_uri()}?mode=ro", uri=True)
        try:
            rows = connection.execute("PRAGMA quick_check").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseCorrupt(f"database file {absolute} is corrupt (PRAGMA quick_check: {exc}); "
                              "not serving it and not writing to it") from exc
    problems = [str(row[0]) for row in rows if row[0] != "ok"]
    if problems:
        raise DatabaseCorrupt(f"database file {absolute} is corrupt (PRAGMA quick_check: "
                              f"{'; '.join(problems[:5])}); not serving it and not writing to it")


class SQLiteStore(SharedDrift, SharedSurges, SharedReviewQueries, Store):
    # The dialect of the queries written once (moderation.store.shared)
    UNIQUE_VIOLATION = sqlite3.IntegrityError
    BYTE_ORDER = ""   # SQLite's default collation (BINARY) orders text by its bytes
    FOR_UPDATE = ""   # a write transaction holds the whole database already
    SURGE_BUCKET = SQLITE_BUCKET
    NULL_SAFE_DIFFERS = "IS NOT"

    @staticmethod
    def list_param(values) -> str:
        return json.dumps(list(values))

    @staticmethod
    def list_value(column: str) -> tuple:
        return tuple(json.loads(column))

    @staticmethod
    def json_param(value: dict) -> str:
        return json.dumps(value)

    @staticmethod
    def json_value(column: str) -> dict:
        return json.loads(column)

    @staticmethod
    def member_of(column: str, param: str, sql_type: str) -> str:
        return f"{column} IN (SELECT value FROM json_each(:{param}))"

    @staticmethod
    def reason_param(column: str, param: str, params: dict[str, Any], code: str) -> str:
        params[param] = f'%"{_like_literal(code)}"%'
        return f"{column} LIKE :{param} ESCAPE '\\'"

    @staticmethod
    def has_reason(column: str, code: str) -> str:
        return f"""{column} LIKE '%"{code}"%'"""   # a code matched whole in the JSON array

    @staticmethod
    def day_of(seconds: str) -> str:
        return f"CAST({seconds} / 86400 AS INTEGER)"

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = str(path)
        self.create = create   # False: opening a file that does not exist raises DatabaseMissing
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._writer_lock_file = None
        self._intake: IntakeWriter | None = None
        self._intake_reads: BatchedReader | None = None   # recent_activity, batched
        # Why the last write failed for the database's state (disk full, read-only),
        # until a write succeeds again: /readyz reports not ready meanwhile.
        self.write_failure: str | None = None

    def note_write(self, exc: BaseException | None) -> None:
        """Record a write's outcome: success clears the failure, an unwritable error sets it."""
        if exc is None:
            self.write_failure = None
        elif isinstance(exc, sqlite3.Error) and is_unwritable(exc):
            self.write_failure = str(exc)

    @classmethod
    def from_url(cls, url: str, *, create: bool = True) -> "SQLiteStore":
        """``sqlite:///relative.db`` or ``sqlite:////absolute/path.db``."""
        prefix = "sqlite:///"
        if not url.startswith(prefix) or len(url) == len(prefix):
            raise StoreError(f"SQLite URL must look like sqlite:///PATH, not {url!r}")
        return cls(url[len(prefix):], create=create)

    async def open(self) -> None:
        parent = Path(self.path).parent
        if not parent.is_dir():
            raise StoreError(f"directory {parent} does not exist")
        if not self.create and not Path(self.path).is_file():
            # Checked before anything touches the folder: not even the lock file is made.
            raise DatabaseMissing(str(Path(self.path).absolute()))
        await asyncio.get_running_loop().run_in_executor(None, check_writable, self.path)
        if Path(self.path).is_file() and Path(self.path).stat().st_size > 0:
            # Before anything writes (no lock file, no migration): a corrupt file is left as it is.
            await asyncio.get_running_loop().run_in_executor(None, quick_check, self.path)
        try:
            self._writer_lock_file = open(f"{self.path}.writer-lock", "a+b")
            self._writer = await aiosqlite.connect(self.path, isolation_level=None)
            await self._configure(self._writer)
            await self._migrate()
            self._reader = await aiosqlite.connect(self.path, isolation_level=None)
            await self._configure(self._reader)
            await self._reader.execute("PRAGMA query_only = ON")
            self._intake = IntakeWriter(self.path, self._write_lock, self._writer_lock_file.fileno(),
                                        CONNECTION_PRAGMAS, on_write=self.note_write)
            await self._intake.open()
            self._intake_reads = BatchedReader(self.path, CONNECTION_PRAGMAS)
            await self._intake_reads.open()
        except BaseException:
            # An open connection's thread would keep the process alive, neither
            # serving nor exiting: close what was opened, then fail.
            with contextlib.suppress(Exception):
                await self.close()
            raise

    async def _configure(self, connection: aiosqlite.Connection) -> None:
        for pragma in CONNECTION_PRAGMAS:
            await connection.execute(pragma)

    async def _migrate(self) -> None:
        async with self._transaction() as db:
            (current,) = await (await db.execute("PRAGMA user_version")).fetchone()
            for number, sql in migrations():
                if number > current:
                    for statement in sql_statements(sql):
                        await db.execute(statement)
                    await db.execute(f"PRAGMA user_version = {number}")

    async def close(self) -> None:
        if self._intake is not None:
            await self._intake.close()
            self._intake = None
        if self._intake_reads is not None:
            await self._intake_reads.close()
            self._intake_reads = None
        for connection in (self._reader, self._writer):
            if connection is not None:
                await connection.close()
        self._reader = self._writer = None
        if self._writer_lock_file is not None:
            self._writer_lock_file.close()
            self._writer_lock_file = None

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction, committed (durably) on success."""
        assert self._writer is not None, "store is not open"
        async with self._write_lock, self._other_processes_wait():
            begin = asyncio.ensure_future(self._writer.execute("BEGIN IMMEDIATE"))
            try:
                await asyncio.shield(begin)
            except asyncio.CancelledError:
                # The BEGIN runs to its end in the connection's thread all the same:
                # undo it, or the writer would stay inside a transaction for good.
                with contextlib.suppress(Exception):
                    await begin
                    await self._writer.execute("ROLLBACK")
                raise
            try:
                yield self._writer
            except BaseException as exc:
                self.note_write(exc)
                with contextlib.suppress(sqlite3.Error):
                    await self._writer.execute("ROLLBACK")
                raise
            try:
                await self._writer.execute("COMMIT")
            except sqlite3.Error as exc:
                self.note_write(exc)
                with contextlib.suppress(sqlite3.Error):
                    await self._writer.execute("ROLLBACK")
                raise
            self.note_write(None)

    @asynccontextmanager
    async def _other_processes_wait(self) -> AsyncIterator[None]:
        """Hold an exclusive ``flock`` on ``<database>.writer-lock`` for one
        write transaction. Worker processes sharing the file then queue in the
        kernel and wake the moment the lock is free, instead of sleeping in
        SQLite's busy handler (which backs off up to 100 ms a try)."""
        descriptor = self._writer_lock_file.fileno()
        acquire = asyncio.get_running_loop().run_in_executor(None, fcntl.flock, descriptor,
                                                             fcntl.LOCK_EX)
        try:
            await asyncio.shield(acquire)
        except asyncio.CancelledError:   # the thread takes the lock all the same: give it back
            with contextlib.suppress(Exception):
                await acquire
                fcntl.flock(descriptor, fcntl.LOCK_UN)
            raise
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)

    async def _fetchall(self, sql: str, params: tuple | list = ()) -> list[Any]:
        assert self._reader is not None, "store is not open"
        # One trip to the connection's thread that runs, reads and resets the
        # statement: no other read can interleave and hold an older snapshot.
        return list(await self._reader.execute_fetchall(sql, params))

    async def _fetchone(self, sql: str, params: tuple | list = ()) -> Any:
        rows = await self._fetchall(sql, params)
        return rows[0] if rows else None

    async def _rows(self, sql: str, params: dict[str, Any]) -> list[Any]:
        return await self._fetchall(sql, params)

    async def _intake_row(self, sql: str, params: dict[str, Any]) -> Any:
        assert self._intake_reads is not None, "store is not open"
        return await self._intake_reads.fetchone(sql, params)

    @staticmethod
    async def _tx_rows(db: aiosqlite.Connection, sql: str, params: dict[str, Any]) -> list[Any]:
        cursor = await db.execute(sql, params)
        rows = await cursor.fetchall()
        await cursor.close()
        return list(rows)

    @staticmethod
    async def _tx_execute(db: aiosqlite.Connection, sql: str, params: dict[str, Any]) -> int:
        cursor = await db.execute(sql, params)
        count = cursor.rowcount
        await cursor.close()
        return count

    # -- health
    async def check_writable(self) -> None:
        try:
            async with self._transaction() as db:
                if self.write_failure is None:
                    await db.execute("CREATE TEMP TABLE IF NOT EXISTS _ready_probe (x)")
                else:   # a write failed: probe with a real write to the file (the header)
                    (version,) = await (await db.execute("PRAGMA user_version")).fetchone()
                    await db.execute(f"PRAGMA user_version = {int(version)}")
        except (aiosqlite.Error, AssertionError) as exc:
            raise StoreError(f"database not writable: {exc}") from exc
        if self.write_failure is not None:
            raise StoreError(f"database not writable: {self.write_failure}")

    # -- intake
    async def stored_answer(self, site_id: int, key: str, not_before: float) -> StoredAnswer | None:
        row = await self._fetchone(
            "SELECT request_hash, status_code, answer, comment_id FROM idempotency_keys "
            "WHERE site_id = ? AND key = ? AND created_at >= ?", (site_id, key, not_before))
        return answer_from_row(row)

    async def insert_comment(self, comment: NewComment,
                             idempotency: IdempotencyRecord | None = None, *,
                             limits: RateLimits | None = None) -> InsertResult:
        """Group commit (see ``sqlite_intake``): concurrent inserts share one
        transaction and one fsync; each caller resumes after the COMMIT that holds it.
        The limits are counted inside that transaction, which every writer of
        the file takes in turn: exact across workers."""
        assert self._intake is not None, "store is not open"
        return await self._intake.insert(comment, idempotency, limits)

    async def release_replies(self, parent_id: int, *, now: float) -> list[int]:
        # Writes are serialized: a decision publishing the parent either committed
        # before this read, or starts after the reply's insert and takes it along.
        row = await self._fetchone("SELECT status FROM comments WHERE id = ?", (parent_id,))
        if row is None or row[0] != Status.PUBLISHED.value:
            return []
        async with self._transaction() as db:
            cursor = await db.execute("SELECT status FROM comments WHERE id = ?", (parent_id,))
            row = await cursor.fetchone()
            await cursor.close()
            if row is None or row[0] != Status.PUBLISHED.value:
                return []
            return await _release_replies(db, [parent_id], now)

    # -- reads
    # -- model upkeep
    async def rescore(self, comment_id: int, *, spam_score: float | None, model_version: str | None,
                      new_status: str | None, reasons: list[str], now: float) -> bool:
        async with self._transaction() as db:
            await db.execute(
                "UPDATE comments SET spam_score = ?, model_version = ?, updated_at = ? WHERE id = ?",
                (spam_score, model_version, now, comment_id))
            if new_status is None or new_status == Status.PENDING.value:
                return False
            if new_status == Status.PUBLISHED.value:
                cursor = await db.execute(
                    """SELECT p.status FROM comments c JOIN comments p ON p.id = c.parent_id
                       WHERE c.id = ?""", (comment_id,))
                parent = await cursor.fetchone()
                await cursor.close()
                if parent is not None and parent[0] != Status.PUBLISHED.value:
                    # Never before its parent: it waits, and is published with it.
                    held = [*reasons, *([] if Reason.PARENT_PENDING.value in reasons
                                        else [Reason.PARENT_PENDING.value])]
                    await db.execute("UPDATE comments SET reasons = ? WHERE id = ? AND status = 'pending'",
                                     (json.dumps(held), comment_id))
                    return False
            cursor = await db.execute(
                """UPDATE comments SET status = ?, reasons = ?, updated_at = ?,
                     published_at = CASE WHEN ? = 'published' THEN ? ELSE published_at END
                   WHERE id = ? AND status = 'pending'""",
                (new_status, json.dumps(reasons), now, new_status, now, comment_id))
            if cursor.rowcount != 1:
                return False
            await db.execute(
                """INSERT INTO audit_events (comment_id, at, actor, action, from_status, to_status,
                     reason, model_version, spam_score)
                   VALUES (?, ?, 'rescore', 'rescore', 'pending', ?, ?, ?, ?)""",
                (comment_id, now, new_status, ",".join(reasons), model_version, spam_score))
            if new_status == Status.PUBLISHED.value:
                await _release_replies(db, [comment_id], now)
            return True

    # -- review
    async def apply_decisions(self, requests: list[DecisionRequest], *,
                              now: float) -> list[DecisionOutcome]:
        outcomes = []
        async with self._transaction() as db:
            for request in requests:
                outcomes.append(await self._apply_decision(db, request, now))
            await _release_replies(db, [o.comment_id for o in outcomes
                                        if o.outcome == DECIDED and o.status == Status.PUBLISHED.value],
                                   now)
        return outcomes

    @staticmethod
    async def _apply_decision(db: aiosqlite.Connection, r: DecisionRequest,
                              now: float) -> DecisionOutcome:
        cursor = await db.execute(
            """UPDATE comments SET status = :new, updated_at = :now,
                 published_at = CASE WHEN :new = 'published' THEN COALESCE(published_at, :now)
                                     ELSE published_at END
               WHERE id = :id AND status = :expected AND erased_at IS NULL
               RETURNING model_version, spam_score""",
            {"new": r.new_status, "now": now, "id": r.comment_id, "expected": r.expected_status})
        moved = await cursor.fetchone()
        await cursor.close()
        if moved is not None:
            cursor = await db.execute(
                f"""INSERT INTO audit_events (comment_id, at, actor, action, from_status, to_status,
                      reason, note, model_version, spam_score)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {EVENT_COLUMNS}""",
                (r.comment_id, now, r.actor, r.action, r.expected_status, r.new_status, r.reason,
                 r.note, moved[0], moved[1]))
            event = event_from(await cursor.fetchone())
            await cursor.close()
            return DecisionOutcome(r.comment_id, DECIDED, r.new_status, event, updated_at=now)
        cursor = await db.execute("SELECT status, updated_at, erased_at FROM comments WHERE id = ?",
                                  (r.comment_id,))
        current = await cursor.fetchone()
        await cursor.close()
        if current is None:
            return DecisionOutcome(r.comment_id, NOT_FOUND, None)
        cursor = await db.execute(
            f"SELECT {EVENT_COLUMNS} FROM audit_events WHERE comment_id = ? ORDER BY id DESC LIMIT 1",
            (r.comment_id,))
        latest = await cursor.fetchone()
        await cursor.close()
        return DecisionOutcome(r.comment_id, CONFLICT, current[0], event_from(latest) if latest else None,
                               updated_at=current[1], erased=current[2] is not None)

    # -- retention
    # -- the review page: a comment's thread
    # -- webhook deliveries: the outbox rows are written by the triggers of migration 0005
    _DUE = """delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= :now
              AND (lease_until IS NULL OR lease_until < :now)"""

    async def claim_deliveries(self, *, now: float, lease_until: float, lease_token: str,
                               limit: int) -> list[Delivery]:
        params = {"now": now, "until": lease_until, "token": lease_token, "limit": limit}
        if await self._fetchone(f"SELECT 1 FROM outbox WHERE {self._DUE} LIMIT 1", params) is None:
            return []    # the usual case: one indexed read, no write transaction
        async with self._transaction() as db:
            cursor = await db.execute(
                f"""UPDATE outbox SET lease_until = :until, lease_token = :token
                    WHERE id IN (SELECT id FROM outbox WHERE {self._DUE}
                                 ORDER BY next_attempt_at, id LIMIT :limit)
                    RETURNING id""", params)
            claimed = [r[0] for r in await cursor.fetchall()]
            await cursor.close()
            if not claimed:
                return []
            # Read back on the writer: the shared reader may be inside another
            # coroutine's read, on a snapshot older than these leases.
            marks = _in_list("id", claimed, params)
            cursor = await db.execute(
                f"""SELECT o.id, o.webhook_id, w.url, w.secret, o.event, o.status, o.occurred_at,
                      o.attempts, s.name, c.id IS NOT NULL, {COMMENT_COLUMNS},
                      {DRIFT_EPISODE_COLUMNS}
                    FROM outbox o JOIN webhooks w ON w.id = o.webhook_id
                    JOIN sites s ON s.id = w.site_id
                    LEFT JOIN comments c ON c.id = o.comment_id LEFT JOIN threads t ON t.id = c.thread_id
                    LEFT JOIN drift_episodes d ON d.id = o.drift_episode_id
                    WHERE o.id IN ({marks}) AND o.lease_token = :token
                    ORDER BY o.next_attempt_at, o.id""", params)
            rows = await cursor.fetchall()
            await cursor.close()
        return [Delivery(id=r[0], webhook_id=r[1], url=r[2], secret=r[3], event=r[4], status=r[5],
                         occurred_at=r[6], attempts=r[7], site=r[8],
                         comment=_comment(r[10:]) if r[9] else None,
                         drift=drift_episode_from(r[-DRIFT_EPISODE_WIDTH:], r[8])) for r in rows]

    # -- training labels from sites
    # -- model reloads shared by every worker
    # -- model changes
