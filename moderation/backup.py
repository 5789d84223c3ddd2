"""Backups of the service's database: ``moderation backup`` and ``moderation restore``.

SQLite, with the online backup API (:meth:`sqlite3.Connection.backup`), safe
while ``moderation serve`` runs and writes:

- :func:`backup_sqlite` copies the database into a temporary file beside the
  target, in steps of :data:`STEP_PAGES` pages, all read from one snapshot (a
  read transaction held from before the first step to after the last one: in
  WAL mode it never blocks the service's writers, and no write can restart or
  tear the copy). The copy is made a single self-contained file (rollback
  journal), checked with ``PRAGMA quick_check``, flushed to disk, then renamed
  to the target: a reader never sees a half-written backup. It holds every
  comment acknowledged before the backup started.
- :func:`restore_sqlite` checks the backup (``quick_check``, a moderation
  schema), copies it into a working file beside the database (brought up to
  this version's schema when older), then, holding the service's writer lock
  (``<database>.writer-lock``, as every writer of the store does), copies that
  INTO the database with the backup API: one transaction, so a running service
  sees the old content, then the restored one, never a mix, and needs no
  restart. The service's operational rows are carried over rather than
  restored: the model generation (``model_reloads``: running workers remember
  the one they applied) and the live workers' rows (``model_workers``).

PostgreSQL is backed up with ``pg_dump`` and restored with ``pg_restore``:
:func:`postgres_advice` gives the commands for a database URL.

No aiohttp here: this module only needs :mod:`sqlite3` and the migrations.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shlex
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .store.base import DatabaseMissing

STEP_PAGES = 1024          # pages copied per backup step (4 MiB with SQLite's default page size)
LOCK_POLL_SECONDS = 0.05
#: Tables a moderation database has (migration 0001); with ``PRAGMA user_version``
#: > 0, the number of the last migration applied.
MODERATION_TABLES = ("sites", "threads", "comments", "audit_events")


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why, in one line."""


class DatabaseBusy(BackupError):
    """The service held its write lock for longer than the wait: nothing restored."""


@dataclass(frozen=True, slots=True)
class Summary:
    """What a SQLite database holds, for the commands' reports."""

    path: Path
    size: int
    schema_version: int
    sites: int
    comments: int
    newest_id: int | None
    newest_at: float | None

    def describe(self) -> str:
        newest = ""
        if self.newest_id is not None:
            newest = f" (newest #{self.newest_id}, {_iso(self.newest_at)})"
        return f"{_count(self.sites, 'site')}, {_count(self.comments, 'comment')}{newest}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _iso(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _busy_timeout_ms() -> int:
    """The store's SQLite busy timeout (``MODERATION_SQLITE_BUSY_TIMEOUT_MS``, 10 s)."""
    return int(os.environ.get("MODERATION_SQLITE_BUSY_TIMEOUT_MS", "10000"))


def _connect_read_only(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
    connection.execute(f"PRAGMA busy_timeout = {_busy_timeout_ms()}")
    return connection


def _tables(connection: sqlite3.Connection) -> set[str]:
    return {row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}


def _summary(connection: sqlite3.Connection, path: Path) -> Summary:
    """Counts read on *connection* (in its current transaction, if any)."""
    tables = _tables(connection)
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    sites = comments = 0
    newest_id = newest_at = None
    if "sites" in tables:
        (sites,) = connection.execute("SELECT count(*) FROM sites").fetchone()
    if "comments" in tables:
        (comments,) = connection.execute("SELECT count(*) FROM comments").fetchone()
        row = connection.execute(
            "SELECT id, created_at FROM comments ORDER BY id DESC LIMIT 1").fetchone()
        if row is not None:
            newest_id, newest_at = row
    size = path.stat().st_size if path.exists() else 0
    return Summary(path=path, size=size, schema_version=version, sites=sites, comments=comments,
                   newest_id=newest_id, newest_at=newest_at)


def _quick_check(connection: sqlite3.Connection) -> list[str]:
    return [str(row[0]) for row in connection.execute("PRAGMA quick_check").fetchall()
            if row[0] != "ok"]


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove_sqlite_file(path: Path) -> None:
    """Delete a private SQLite file and whatever journal it left beside it."""
    for name in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            name.unlink()


def _database_files(database: Path) -> set[Path]:
    return {database, *(Path(f"{database}{suffix}") for suffix in ("-wal", "-shm", "-journal",
                                                                     ".writer-lock"))}


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


# -- backup -----------------------------------------------------------------------------------

def backup_sqlite(database: Path, target: Path, *, force: bool = False,
                  step_pages: int = STEP_PAGES) -> Summary:
    """Copy the SQLite *database* (live or not) to *target*; what the copy holds.

    Refuses an existing *target* unless *force*. Raises DatabaseMissing when
    there is no *database*, BackupError for anything else refused or failed
    (the target is then left as it was)."""
    database, target = database.absolute(), target.absolute()
    if not database.is_file():
        raise DatabaseMissing(str(database))
    if target.is_dir():
        raise BackupError(f"{target} is a directory: give the backup's file name")
    if target in _database_files(database) or _same_file(target, database):
        raise BackupError(f"{target} is the database itself (or one of its files): "
                          "give the backup another name")
    if target.exists() and not force:
        raise BackupError(f"{target} exists already: not overwritten (--force replaces it)")
    if not target.parent.is_dir():
        raise BackupError(f"directory {target.parent} does not exist: nothing written")
    try:
        descriptor, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                            dir=target.parent)
    except OSError as exc:
        raise BackupError(f"cannot write in {target.parent}: {exc.strerror or exc}") from exc
    os.close(descriptor)
    partial = Path(name)
    try:
        try:
            summary = _copy_snapshot(database, partial, step_pages)
        except sqlite3.Error as exc:
            raise BackupError(f"backup of {database} failed ({exc}): nothing written") from exc
        try:
            _fsync(partial)
            _publish(partial, target, force=force)
        except OSError as exc:
            raise BackupError(f"cannot write {target} ({exc.strerror or exc}): nothing written") \
                from exc
        with contextlib.suppress(OSError):   # the rename itself on disk
            _fsync(target.parent)
    finally:
        _remove_sqlite_file(partial)
    return Summary(**{**_fields(summary), "path": target, "size": target.stat().st_size})


def _fields(summary: Summary) -> dict:
    return {name: getattr(summary, name) for name in Summary.__dataclass_fields__}


def _copy_snapshot(database: Path, partial: Path, step_pages: int) -> Summary:
    source = _connect_read_only(database)
    try:
        copy = sqlite3.connect(partial, isolation_level=None)
        try:
            # One read transaction over every step: they all copy the same
            # snapshot. (Without it, each step reads the latest state and any
            # write by the service restarts the copy from its first page.)
            source.execute("BEGIN")
            tables = _tables(source)   # the first read: the snapshot starts here
            if not set(MODERATION_TABLES) <= tables:
                raise BackupError(f"{database} is not a moderation database (no "
                                  f"{', '.join(sorted(set(MODERATION_TABLES) - tables))} "
                                  "table): nothing written")
            source.backup(copy, pages=step_pages)
            source.execute("ROLLBACK")
            # The copy carries the live file's WAL flag: make it one self-contained file.
            copy.execute("PRAGMA journal_mode = DELETE")
            problems = _quick_check(copy)
            if problems:
                raise BackupError(f"the copy of {database} fails PRAGMA quick_check "
                                  f"({'; '.join(problems[:5])}): the database itself may be "
                                  "damaged; nothing written")
            return _summary(copy, partial)
        finally:
            copy.close()
    finally:
        source.close()


def _publish(partial: Path, target: Path, *, force: bool) -> None:
    """Rename *partial* to *target* atomically; without *force*, never over a
    file that appeared meanwhile."""
    if force:
        os.replace(partial, target)
        return
    try:
        os.link(partial, target)   # fails if the target exists: no check-then-rename race
    except FileExistsError:
        raise BackupError(f"{target} exists already: not overwritten (--force replaces it)") from None
    except OSError:   # a file system without hard links
        if target.exists():
            raise BackupError(f"{target} exists already: not overwritten (--force replaces it)") \
                from None
        os.replace(partial, target)


# -- restore ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Restored:
    backup: Summary      # what the backup file holds
    before: Summary      # what the database held, now replaced
    after: Summary       # what it holds now


class WouldReplace(BackupError):
    """The database holds comments (or sites) and the restore was not confirmed."""

    def __init__(self, database: Summary, backup: Summary) -> None:
        self.database, self.backup = database, backup
        super().__init__(
            f"{database.path} holds {database.describe()}; restoring {backup.path} "
            f"({backup.describe()}) replaces all of it, and what was written since the backup is "
            "lost: add --yes to restore")


def _holds_data(summary: Summary) -> bool:
    """Whether restoring over *summary* loses something: comments, or sites
    (their keys) made since ``moderation init``."""
    return bool(summary.comments or summary.sites)


def check_backup(path: Path) -> Summary:
    """What the backup file *path* holds; BackupError unless it is a sound
    moderation database this version can serve."""
    from .store.sqlite import migrations
    path = path.absolute()
    if not path.exists():
        raise BackupError(f"no backup at {path}: nothing restored")
    if not path.is_file():
        raise BackupError(f"{path} is not a file: nothing restored")
    if path.stat().st_size == 0:
        raise BackupError(f"{path} is empty, not a moderation backup: nothing restored")
    try:
        connection = _connect_read_only(path)
        try:
            problems = _quick_check(connection)
            if problems:
                raise BackupError(f"{path} is corrupt (PRAGMA quick_check: "
                                  f"{'; '.join(problems[:5])}): nothing restored")
            tables = _tables(connection)
            missing = sorted(set(MODERATION_TABLES) - tables)
            summary = _summary(connection, path)
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_CORRUPT:
            raise BackupError(f"{path} is corrupt ({exc}): nothing restored") from exc
        raise BackupError(f"{path} is not a usable SQLite database ({exc}): nothing restored") \
            from exc
    latest = max(number for number, _ in migrations())
    if summary.schema_version < 1 or missing:
        raise BackupError(f"{path} is not a moderation database (schema version "
                          f"{summary.schema_version}" + (f", no {', '.join(missing)} table"
                                                         if missing else "")
                          + "): nothing restored")
    if summary.schema_version > latest:
        raise BackupError(f"{path} has schema version {summary.schema_version}, newer than this "
                          f"moderation's {latest}: restore it with the version that made it; "
                          "nothing restored")
    return summary


def database_summary(database: Path) -> Summary:
    """What the SQLite *database* holds (read-only)."""
    connection = _connect_read_only(database)
    try:
        return _summary(connection, database)
    finally:
        connection.close()


def restore_sqlite(backup: Path, database: Path, *, replace: bool = False) -> Restored:
    """Copy the backup file *backup* into the SQLite *database*, which a
    service may be serving. Refuses (WouldReplace) when the database holds
    comments or sites, unless *replace*. DatabaseBusy when the service's write lock
    is not free within the busy timeout; BackupError for anything else."""
    backup, database = backup.absolute(), database.absolute()
    if not database.is_file():
        raise DatabaseMissing(str(database))
    if backup in _database_files(database) or _same_file(backup, database):
        raise BackupError(f"{backup} is the database itself: nothing restored")
    source = check_backup(backup)
    try:
        current = database_summary(database)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"cannot read {database} ({exc}): nothing restored") from exc
    if _holds_data(current) and not replace:
        raise WouldReplace(current, source)
    try:
        descriptor, name = tempfile.mkstemp(prefix=f".{database.name}.", suffix=".restore",
                                            dir=database.parent)
    except OSError as exc:
        raise BackupError(f"cannot write in {database.parent}: {exc.strerror or exc}") from exc
    os.close(descriptor)
    work = Path(name)
    try:
        try:
            _prepare_work_copy(backup, work, _page_size(database))
        except sqlite3.Error as exc:
            raise BackupError(f"cannot copy {backup} beside {database} ({exc}): nothing restored") \
                from exc
        try:
            with _writer_lock(database) as deadline:
                return _restore_locked(work, database, source, replace=replace, deadline=deadline)
        except OSError as exc:   # the lock file
            raise BackupError(f"cannot lock {database} ({exc.strerror or exc}): nothing restored") \
                from exc
    finally:
        _remove_sqlite_file(work)


def _page_size(database: Path) -> int:
    connection = _connect_read_only(database)
    try:
        return connection.execute("PRAGMA page_size").fetchone()[0]
    finally:
        connection.close()


def _prepare_work_copy(backup: Path, work: Path, page_size: int) -> None:
    """*backup* copied to *work*, in the database's page size (a WAL database
    takes no other), at this version's schema."""
    from .store.sqlite import migrations, sql_statements
    source = _connect_read_only(backup)
    try:
        copy = sqlite3.connect(work, isolation_level=None)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    copy = sqlite3.connect(work, isolation_level=None)
    try:
        copy.execute("PRAGMA journal_mode = DELETE")
        if copy.execute("PRAGMA page_size").fetchone()[0] != page_size:
            copy.execute(f"PRAGMA page_size = {int(page_size)}")
            copy.execute("VACUUM")
        (current,) = copy.execute("PRAGMA user_version").fetchone()
        pending = [(number, sql) for number, sql in migrations() if number > current]
        if pending:   # the store's own migration steps, as `moderation migrate` would run them
            copy.execute("BEGIN IMMEDIATE")
            for number, sql in pending:
                for statement in sql_statements(sql):
                    copy.execute(statement)
                copy.execute(f"PRAGMA user_version = {number}")
            copy.execute("COMMIT")
    finally:
        copy.close()


@contextlib.contextmanager
def _writer_lock(database: Path):
    """Hold the ``flock`` every writer of the store takes (``<database>.writer-lock``):
    the service's writes wait for the restore instead of failing busy. Yields
    the deadline (monotonic) of the whole wait."""
    deadline = time.monotonic() + _busy_timeout_ms() / 1000
    with open(f"{database}.writer-lock", "a+b") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _busy(database) from None
                time.sleep(LOCK_POLL_SECONDS)
        try:
            yield deadline
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _busy(database: Path) -> DatabaseBusy:
    return DatabaseBusy(f"{database} is busy: another process held its write lock for "
                        f"{_busy_timeout_ms() / 1000:g} s (MODERATION_SQLITE_BUSY_TIMEOUT_MS); "
                        "nothing restored, try again")


def _restore_locked(work: Path, database: Path, source: Summary, *, replace: bool,
                    deadline: float) -> Restored:
    target = sqlite3.connect(database, isolation_level=None)
    try:
        wait_ms = max(100, int((deadline - time.monotonic()) * 1000))
        target.execute(f"PRAGMA busy_timeout = {wait_ms}")
        try:
            before = _summary(target, database)
            if _holds_data(before) and not replace:   # written since the first look
                raise WouldReplace(before, source)
            _carry_operational_rows(target, work)

            def give_up_when_busy(status: int, remaining: int, total: int) -> None:
                if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) \
                        and time.monotonic() >= deadline:
                    raise _busy(database)

            copy = sqlite3.connect(f"{work.as_uri()}?mode=ro", uri=True, isolation_level=None)
            try:
                # One step: the database stays locked from the first page to the
                # commit anyway, and readers see the old content until then.
                copy.backup(target, pages=-1, progress=give_up_when_busy)
            finally:
                copy.close()
            after = _summary(target, database)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise _busy(database) from exc
            raise BackupError(f"restore into {database} failed ({exc}): nothing restored") from exc
        except sqlite3.Error as exc:
            raise BackupError(f"restore into {database} failed ({exc}): nothing restored") from exc
    finally:
        target.close()
    return Restored(backup=source, before=before, after=after)


def _carry_operational_rows(target: sqlite3.Connection, work: Path) -> None:
    """Into the working copy: the running service's model generation (never
    lower than the one its workers applied, or they would ignore the next
    reloads) and its live workers' rows, both read from *target* now."""
    if not {"model_reloads", "model_workers"} <= _tables(target):
        return
    (generation,) = target.execute("SELECT COALESCE(MAX(id), 0) FROM model_reloads").fetchone()
    workers = target.execute(
        """SELECT worker, generation, model_version, loaded_at, error, heartbeat_at
           FROM model_workers""").fetchall()
    copy = sqlite3.connect(work, isolation_level=None)
    try:
        if not {"model_reloads", "model_workers"} <= _tables(copy):
            return
        copy.execute("BEGIN IMMEDIATE")
        (restored,) = copy.execute("SELECT COALESCE(MAX(id), 0) FROM model_reloads").fetchone()
        if restored < generation:
            copy.execute("INSERT INTO model_reloads (id, requested_by, requested_at) "
                         "VALUES (?, 'restore', ?)", (generation, time.time()))
        copy.execute("DELETE FROM model_workers")
        copy.executemany(
            """INSERT INTO model_workers (worker, generation, model_version, loaded_at, error,
                 heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)""", workers)
        copy.execute("COMMIT")
    finally:
        copy.close()


# -- PostgreSQL -------------------------------------------------------------------------------

#: Connection parameters libpq (hence pg_dump, pg_restore, psql) takes in a URL.
LIBPQ_PARAMETERS = frozenset({
    "host", "hostaddr", "port", "dbname", "user", "passfile", "channel_binding",
    "connect_timeout", "client_encoding", "options", "application_name",
    "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval",
    "keepalives_count", "tcp_user_timeout", "replication", "gssencmode", "sslmode", "requiressl",
    "sslcompression", "sslcert", "sslkey", "sslpassword", "sslrootcert", "sslcrl", "sslcrldir",
    "sslsni", "requirepeer", "ssl_min_protocol_version", "ssl_max_protocol_version",
    "krbsrvname", "gsslib", "service", "target_session_attrs", "load_balance_hosts"})


@dataclass(frozen=True, slots=True)
class PostgresAdvice:
    message: str          # why, and what to know (one paragraph)
    command: str          # the shell command to run


def _libpq_url(url: str) -> tuple[str, list[str], list[str]]:
    """(*url* as libpq reads it, the schemas its ``search_path`` names, notes).

    The password is left out (libpq reads ``PGPASSWORD`` or ``~/.pgpass``), and
    so are the parameters asyncpg passes to the server as settings, which
    libpq refuses; ``search_path`` becomes pg_dump's ``--schema``."""
    parts = urlsplit(url)
    notes: list[str] = []
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}@{netloc.rpartition('@')[2]}"
        notes.append("the URL's password is left out of the command: give it in PGPASSWORD "
                     "or ~/.pgpass")
    kept, schemas, dropped = [], [], []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "password":
            notes.append("the URL's password is left out of the command: give it in PGPASSWORD "
                         "or ~/.pgpass")
        elif key == "search_path":
            schemas += [s.strip() for s in value.split(",") if s.strip()]
        elif key in LIBPQ_PARAMETERS:
            kept.append((key, value))
        else:
            dropped.append(key)
    if dropped:
        notes.append(f"left out of the URL (server settings libpq does not take): "
                     f"{', '.join(dropped)}")
    scheme = "postgresql"
    return urlunsplit((scheme, netloc, parts.path, urlencode(kept), "")), schemas, notes


def postgres_advice(command: str, url: str, path: str) -> PostgresAdvice:
    """What to run instead of ``moderation backup|restore PATH`` on PostgreSQL."""
    libpq_url, schemas, notes = _libpq_url(url)
    if command == "backup":
        argv = ["pg_dump", "--format=custom", f"--file={path}"]
        argv += [f"--schema={schema}" for schema in schemas[:1]]
        argv.append(f"--dbname={libpq_url}")
        message = ("PostgreSQL databases are backed up with pg_dump (a consistent snapshot, "
                   "the service running), not by this command")
    else:
        plain = False
        with contextlib.suppress(OSError):
            with open(path, "rb") as handle:
                plain = handle.read(5) != b"PGDMP"
        if plain:   # a plain SQL dump (pg_dump without --format=custom)
            argv = ["psql", "--single-transaction", "--set=ON_ERROR_STOP=1",
                    f"--dbname={libpq_url}", f"--file={path}"]
        else:
            argv = ["pg_restore", "--clean", "--if-exists", "--single-transaction",
                    f"--dbname={libpq_url}", path]
        message = ("PostgreSQL databases are restored with pg_restore (psql for a plain SQL "
                   "dump), not by this command; it replaces the service's tables in one "
                   "transaction, the service running")
    if notes:
        message += " (" + "; ".join(dict.fromkeys(notes)) + ")"
    message += "; run:"
    return PostgresAdvice(message=message, command=shlex.join(argv))
