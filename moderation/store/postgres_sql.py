"""What the PostgreSQL store's modules share: the connection pool with its
transactions and migrations (:class:`PostgresConnection`), named parameters,
column lists and row mappers.

Queries are written with ``:name`` parameters, as the SQLite store's are, and
turned into asyncpg's ``$n`` by :func:`named` (a name used twice is one
parameter). ``jsonb`` columns (reasons, moderators' sites, stored answers)
come and go as Python lists and dicts.
"""
from __future__ import annotations

import functools
import json
import logging
import re
import time
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any, AsyncIterator

import asyncpg

from ..domain import Comment
from .base import DatabaseUnavailable, StoreError
from .shared import comment_from as shared_comment_from

log = logging.getLogger(__name__)



# ``:name`` not preceded by a colon or a word character (so ``x::jsonb`` is a cast).
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def named(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """*sql* with ``:name`` parameters as ``$1, $2...`` and their values in order.

    A name used several times becomes one ``$n``; a name missing from
    *params* raises ``KeyError``."""
    text, names = _numbered(sql)
    return text, [params[name] for name in names]


@functools.lru_cache(maxsize=1024)
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """*sql* with ``$n`` for ``:name``, and the names in ``$n`` order. The
    queries are a fixed set of literals, so each is rewritten once per process."""
    order: dict[str, int] = {}

    def number(match: re.Match) -> str:
        name = match.group(1)
        if name not in order:
            order[name] = len(order) + 1
        return f"${order[name]}"

    text = _PARAMETER.sub(number, sql)
    return text, tuple(order)


def migrations() -> list[tuple[int, str]]:
    """(number, SQL) of every file in ``migrations/postgres``, in order."""
    folder = resources.files("moderation.store") / "migrations" / "postgres"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


async def init_connection(connection: asyncpg.Connection) -> None:
    """Per pooled connection: ``json``/``jsonb`` as Python values."""
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(type_name, schema="pg_catalog", encoder=json.dumps,
                                        decoder=json.loads, format="text")


async def keep_session(connection: asyncpg.Connection) -> None:
    """The pool's ``reset``: nothing to send when a connection goes back.

    asyncpg's default reset sends ``SELECT pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL`` on every release, a second round trip for
    each query that holds the connection meanwhile. The store leaves no session
    state behind: no ``SET`` (settings come in the connection's startup
    packet), only transaction-scoped advisory locks, no ``LISTEN``, no cursors
    outside a transaction. A transaction left open is still rolled back by the
    pool (``Connection._reset``) before this runs. Code that starts keeping
    session state must undo it itself, or this must send the reset again."""


def comment_from(row: Any) -> Comment:
    return shared_comment_from(row, tuple(row[11]))


#: The advisory lock held while migrating: instances starting at once migrate
#: one after the other, and the later ones find nothing left to do.
MIGRATION_LOCK = 0x6D6F646572617431   # "modera" "t1"
POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 10
COMMAND_TIMEOUT_SECONDS = 60.0
#: Opening one connection (TCP, TLS, startup); beyond, the attempt fails.
CONNECT_TIMEOUT_SECONDS = 5.0
#: Waiting for a pooled connection, a new one's connect included: beyond, the
#: operation fails with DatabaseUnavailable (a request answers 503, never hangs).
ACQUIRE_TIMEOUT_SECONDS = 10.0

# Texts of errors without a telling type (an unknown SQLSTATE, asyncpg's
# InterfaceError) that still mean the connection or the server is gone.
_UNAVAILABLE_MESSAGES = ("the database system is", "terminating connection",
                         "connection is closed", "connection was closed", "pool is closing")


def is_unavailable(exc: BaseException) -> bool:
    """Whether *exc* (or an exception it was raised from) means the PostgreSQL
    server cannot be reached right now rather than anything wrong with the
    operation: :class:`~.base.DatabaseUnavailable`; asyncpg's connection errors
    (``ConnectionDoesNotExistError``, ``ConnectionFailureError``, ...);
    ``57P01`` admin shutdown, ``57P02`` crash shutdown, ``57P03`` "the database
    system is starting up / shutting down" (``CannotConnectNowError``);
    ``53300`` too many connections; asyncpg's ``InterfaceError`` about a closed
    connection or a closing pool. Retrying later may succeed."""
    # Connection exceptions (class 08) but a protocol violation (a bug, not an
    # outage); operator intervention (class 57) but a cancelled query.
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, DatabaseUnavailable):
            return True
        if isinstance(exc, asyncpg.PostgresConnectionError):
            if not isinstance(exc, asyncpg.ProtocolViolationError):
                return True
        elif isinstance(exc, asyncpg.exceptions.OperatorInterventionError):
            if not isinstance(exc, asyncpg.QueryCanceledError):
                return True
        elif isinstance(exc, asyncpg.TooManyConnectionsError):
            return True
        elif isinstance(exc, (asyncpg.PostgresError, asyncpg.InterfaceError)):
            text = str(exc).lower()
            if any(marker in text for marker in _UNAVAILABLE_MESSAGES):
                return True
        exc, seen = exc.__cause__, seen + 1
    return False


class PostgresConnection:
    """An asyncpg pool on one database (and ``search_path``).

    Durability: PostgreSQL's default ``synchronous_commit = on``: a write
    method returns after its COMMIT is flushed to the WAL. Transactions run at
    READ COMMITTED; the write methods that must not race rely on guarded
    updates, unique constraints and row locks taken in id order (never on the
    isolation level), so they stay correct across processes and hosts.

    Migrations are the numbered files in ``migrations/postgres``, applied in
    order in one transaction under an advisory lock and recorded in
    ``schema_migrations`` (its highest version plays SQLite's ``user_version``).
    """

    def __init__(self, dsn: str, *, server_settings: dict[str, str] | None = None,
                 min_size: int = POOL_MIN_SIZE, max_size: int = POOL_MAX_SIZE) -> None:
        self.dsn = dsn
        self.server_settings = dict(server_settings or {})
        self.min_size, self.max_size = min_size, max_size
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn, min_size=self.min_size, max_size=self.max_size, init=init_connection,
                reset=keep_session, server_settings=self.server_settings,
                command_timeout=COMMAND_TIMEOUT_SECONDS, timeout=CONNECT_TIMEOUT_SECONDS)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {exc}") from exc
        try:
            await self._migrate()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _migrate(self) -> None:
        """Apply the migrations the database lacks. Up to date, it only reads
        (no lock, no DDL): a read-only connection can open the store."""
        latest = max(number for number, _ in migrations())
        if await self._fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL", {}):
            if await self.schema_version() >= latest:
                return
        async with self._transaction() as db:
            await db.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await db.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
                                  version integer PRIMARY KEY,
                                  applied_at double precision NOT NULL)""")
            current = await db.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            for number, sql in migrations():
                if number > current:
                    await db.execute(sql)
                    await db.execute("INSERT INTO schema_migrations (version, applied_at) "
                                     "VALUES ($1, $2)", number, time.time())

    async def schema_version(self) -> int:
        """The highest migration applied (0 before any)."""
        return await self._fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {})

    @asynccontextmanager
    async def _connection(self, *, timeout: float = ACQUIRE_TIMEOUT_SECONDS
                          ) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection, released afterwards.

        The pool recovers from a server restart by itself: a connection the
        server closed is replaced by a new one when next acquired. Meanwhile
        every failure that says the server is out of reach, at acquiring
        (refused, reset, timed out: no connection within *timeout*) or
        during the operation (:func:`is_unavailable`, or no answer within
        the statement's timeout, :data:`COMMAND_TIMEOUT_SECONDS` by default),
        is raised as :class:`~.base.DatabaseUnavailable` from the original."""
        assert self._pool is not None, "store is not open"
        try:
            connection = await self._pool.acquire(timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise DatabaseUnavailable(f"cannot reach PostgreSQL: {_describe(exc)}") from exc
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if is_unavailable(exc):
                raise DatabaseUnavailable(f"cannot reach PostgreSQL: {_describe(exc)}") from exc
            raise
        try:
            yield connection
        except asyncpg.exceptions.InternalClientError as exc:
            # The server ended the connection while asyncpg was sending on it
            # (a restart): its protocol state is broken, and the pool would
            # hand it out again, failing each time. Close it: the pool
            # replaces it with a new connection.
            _discard(connection)
            raise DatabaseUnavailable(f"lost PostgreSQL: {_describe(exc)}") from exc
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if is_unavailable(exc):
                _discard(connection)   # never reuse a connection the server dropped
                raise DatabaseUnavailable(f"lost PostgreSQL: {_describe(exc)}") from exc
            raise
        except TimeoutError as exc:   # a statement's timeout: asyncpg cancelled it
            raise DatabaseUnavailable("PostgreSQL did not answer in time") from exc
        finally:
            try:
                await self._pool.release(connection)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                # Resetting it failed (the server went away after the operation):
                # asyncpg closed it and the pool opens another. The operation's
                # outcome, committed or raised, stands.
                log.info("dropped a PostgreSQL connection that failed to reset: %s", _describe(exc))

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """One transaction on a pooled connection, committed on success and
        rolled back on any exception."""
        async with self._connection() as connection:
            async with connection.transaction():
                yield connection

    async def _fetch(self, sql: str, params: dict[str, Any]) -> list[asyncpg.Record]:
        async with self._connection() as connection:
            return await connection.fetch(*_args(sql, params))

    async def _fetchrow(self, sql: str, params: dict[str, Any]) -> asyncpg.Record | None:
        async with self._connection() as connection:
            return await connection.fetchrow(*_args(sql, params))

    async def _fetchval(self, sql: str, params: dict[str, Any]) -> Any:
        async with self._connection() as connection:
            return await connection.fetchval(*_args(sql, params))


def _discard(connection: asyncpg.Connection) -> None:
    """Close a pooled connection at once (the pool opens a new one when
    needed); nothing when it is closed already (the pool took it back then)."""
    try:
        connection.terminate()
    except asyncpg.InterfaceError:   # "connection has been released back to the pool"
        pass


def _describe(exc: BaseException) -> str:
    """``TimeoutError`` has no text of its own: name the type then."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _args(sql: str, params: dict[str, Any]) -> list[Any]:
    text, values = named(sql, params)
    return [text, *values]


async def fetch(db: asyncpg.Connection, sql: str, params: dict[str, Any]) -> list[asyncpg.Record]:
    """:func:`named` then ``fetch`` on a connection (inside a transaction)."""
    return await db.fetch(*_args(sql, params))


async def fetchrow(db: asyncpg.Connection, sql: str, params: dict[str, Any]) -> asyncpg.Record | None:
    return await db.fetchrow(*_args(sql, params))


async def execute(db: asyncpg.Connection, sql: str, params: dict[str, Any]) -> int:
    """:func:`named` then ``execute``; the number of rows the command touched."""
    status = await db.execute(*_args(sql, params))
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0
