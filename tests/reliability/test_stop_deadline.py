"""A stop is bounded, caused for real against ``moderation serve``: a worker
whose clean-up is stuck on a PostgreSQL lock exits at its own deadline (and
says where it waited), also when the signal comes during its start-up; a
second SIGTERM during a stop is only noted; and the supervisor kills a worker
that cannot act on the signal at all (SIGSTOP)."""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time

import asyncpg
import pytest

from moderation.serve import STOP_CLEANUP_SECONDS, SUPERVISOR_MARGIN_SECONDS

from ..server import cli, free_port, read_log, start_server, wait_for_workers
from ..store.conftest import postgres_server, postgres_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

GRACE = 1.0   # MODERATION_SHUTDOWN_TIMEOUT_SECONDS in these tests


class TableLock:
    """An open transaction holding ACCESS EXCLUSIVE on *table* (PostgreSQL),
    from a connection of its own, for as long as the ``with`` lasts."""

    def __init__(self, url: str, table: str) -> None:
        self.url, self.table = url, table
        self.loop = asyncio.new_event_loop()

    def __enter__(self) -> "TableLock":
        self.connection = self.loop.run_until_complete(asyncpg.connect(self.url, timeout=10))
        self.loop.run_until_complete(self.connection.execute(
            f"BEGIN; LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE"))
        return self

    def someone_waits(self) -> bool:
        """Whether a session waits for a lock (pg_locks is live, unlike
        pg_stat_activity, a snapshot per transaction)."""
        return bool(self.loop.run_until_complete(
            self.connection.fetchval("SELECT COUNT(*) FROM pg_locks WHERE NOT granted")))

    def __exit__(self, *exc_info) -> None:
        self.loop.run_until_complete(self.connection.close())
        self.loop.close()


@contextlib.contextmanager
def _reaped(server: subprocess.Popen):
    """Kills *server* on the way out if it still runs (a test that failed half-way)."""
    try:
        yield server
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)


def _sigterm(server: subprocess.Popen, wait: float, *, twice: bool = False) -> tuple[int, float]:
    """SIGTERM *server* (*twice*, half a second apart, as a group kill sends it) and
    wait up to *wait* seconds: its exit status and how long it took."""
    started = time.monotonic()
    server.send_signal(signal.SIGTERM)
    if twice:
        time.sleep(0.5)
        server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=wait)
    return code, time.monotonic() - started


def _stop_env(env: dict, **more: str) -> dict:
    return dict(env, MODERATION_SHUTDOWN_TIMEOUT_SECONDS=str(GRACE), MODERATION_LOG_LEVEL="INFO",
                MODERATION_LOG_FORMAT="json", **more)


@pytest.mark.postgres
def test_a_stop_stuck_on_a_database_lock_ends_at_its_deadline(server_env, postgres_url):  # noqa: F811
    env = _stop_env(server_env, MODERATION_DATABASE_URL=postgres_url)
    cli(env, "init")
    server = start_server(env, free_port())
    # A stopping worker deletes its row there (and its poller updates it): both wait.
    with TableLock(postgres_url, "model_workers"), _reaped(server):
        code, seconds = _sigterm(server, GRACE + STOP_CLEANUP_SECONDS + 20, twice=True)
    log = read_log(server)
    print(f"\nSIGTERM to exit with the clean-up stuck: {seconds:.1f} s")
    assert code == 1, log[-3000:]
    assert GRACE + STOP_CLEANUP_SECONDS - 1 <= seconds <= GRACE + STOP_CLEANUP_SECONDS + 5, log[-3000:]
    assert "already stopping: signal 15 ignored" in log
    assert "still stopping" in log
    assert "remove_model_worker" in log, log[-3000:]   # where it waited, named


def test_the_supervisor_kills_a_worker_that_cannot_stop(server_env, tmp_path):
    env = _stop_env(server_env, MODERATION_WORKERS="2", TMPDIR=str(tmp_path))
    port = free_port()
    server = start_server(env, port)
    with _reaped(server):
        workers = wait_for_workers(server, port, 2)
        frozen, other = sorted(workers)
        os.kill(frozen, signal.SIGSTOP)   # it cannot run its own deadline
        code, seconds = _sigterm(server, GRACE + STOP_CLEANUP_SECONDS + SUPERVISOR_MARGIN_SECONDS + 20)
    log = read_log(server)
    print(f"\nSIGTERM to exit with a frozen worker: {seconds:.1f} s")
    assert code == 1, log[-3000:]
    assert seconds <= GRACE + STOP_CLEANUP_SECONDS + SUPERVISOR_MARGIN_SECONDS + 5, log[-3000:]
    assert f"worker {frozen} still running" in log
    assert f"worker {other} still running" not in log   # it stopped by itself, in time
    assert not _alive(frozen) and not _alive(other)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:   # a zombie is not alive
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_a_plain_stop_exits_zero_well_before_the_deadline(server_env):
    server = start_server(_stop_env(server_env), free_port())
    started = time.monotonic()
    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=30)
    assert code == 0, read_log(server)[-3000:]
    assert time.monotonic() - started < GRACE + STOP_CLEANUP_SECONDS
    assert "still stopping" not in read_log(server)



@pytest.mark.postgres
def test_a_stop_during_a_start_up_stuck_on_a_lock_ends_in_time(server_env, postgres_url):  # noqa: F811
    """A worker's start-up first reads the schema's version: with the table
    locked it waits there; SIGTERM then still stops it within its deadline."""
    env = _stop_env(server_env, MODERATION_DATABASE_URL=postgres_url)
    cli(env, "init")
    log = tempfile.TemporaryFile()
    with TableLock(postgres_url, "schema_migrations") as lock:
        server = subprocess.Popen([sys.executable, "-m", "moderation", "serve", "--port", str(free_port())],
                                  env=env, stdout=subprocess.DEVNULL, stderr=log)
        server.log = log
        with _reaped(server):
            deadline = time.monotonic() + 60
            while not lock.someone_waits():   # its start-up is stuck on the lock
                assert server.poll() is None and time.monotonic() < deadline, read_log(server)[-3000:]
                time.sleep(0.1)
            code, seconds = _sigterm(server, GRACE + STOP_CLEANUP_SECONDS + 20)
    text = read_log(server)
    print(f"\nSIGTERM during start-up to exit: {seconds:.1f} s (status {code})")
    assert code in (0, 1) and seconds <= GRACE + STOP_CLEANUP_SECONDS + 5, text[-3000:]
