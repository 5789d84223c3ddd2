"""PostgreSQL faults, caused for real against ``moderation serve --workers 2``
under a load of concurrent comment POSTs:

- the server restarted (``pg_ctl restart -m fast``), then stopped for a few
  seconds and started again, on a private cluster of this test's own (the
  shared one at 127.0.0.1:5432 serves other tests meanwhile): the pools
  recover by themselves, requests meanwhile answer 503 ``database_unavailable``
  with Retry-After (never 500, never a hang), ``/readyz`` says not ready while
  the server is down, every worker's background tasks (model reload poller,
  webhook deliverer) live on, and every acknowledged comment is stored;
- the service killed hard (SIGKILL of every process; SIGTERM too) while
  comments arrive: every acknowledged comment is in the database and served
  after a restart.

Beside them, quicker checks: which exceptions mean "out of reach" (503
``database_unavailable`` with Retry-After), a pooled connection the server
terminated is replaced, a statement past its timeout is ``DatabaseUnavailable``.
"""
from __future__ import annotations

import asyncio
import http.client
import http.server
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from moderation.i18n import message
from moderation.middlewares import database_unavailable
from moderation.store import postgres_sql
from moderation.store.base import DatabaseUnavailable, open_store
from moderation.store.postgres import is_unavailable

from ..conftest import comment_payload
from ..server import cli, free_port, read_log, start_server
from ..store.conftest import postgres_server, postgres_url  # noqa: F401  (fixtures)
from ..test_workers import worker_pids

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PG_BIN = Path(os.environ.get("MODERATION_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
THREADS = 6
CLIENT_TIMEOUT = 30.0      # a request still unanswered by then is a hang
SLOWEST_ANSWER = 15.0      # no answer, even a 503 during the outage, may take longer
RECOVERY_SECONDS = 5.0     # after PostgreSQL is back, every request succeeds from then on


# -- which failures mean "PostgreSQL is out of reach" -------------------------------------------

def _raised_from(cause: BaseException, outer: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as exc:
            raise outer from exc
    except BaseException as exc:
        return exc


@pytest.mark.parametrize("exc, unavailable", [
    (DatabaseUnavailable("cannot reach PostgreSQL: ConnectionRefusedError"), True),
    (asyncpg.CannotConnectNowError("the database system is starting up"), True),
    (asyncpg.CannotConnectNowError("the database system is shutting down"), True),
    (asyncpg.AdminShutdownError("terminating connection due to administrator command"), True),
    (asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"), True),
    (asyncpg.ConnectionFailureError("connection failure"), True),
    (asyncpg.TooManyConnectionsError("sorry, too many clients already"), True),
    (asyncpg.InterfaceError("connection is closed"), True),
    (asyncpg.InterfaceError("pool is closing"), True),
    (_raised_from(asyncpg.AdminShutdownError("terminating connection"), RuntimeError("wrapped")), True),
    (asyncpg.UniqueViolationError("duplicate key value"), False),
    (asyncpg.QueryCanceledError("canceling statement due to statement timeout"), False),
    (asyncpg.ProtocolViolationError("protocol violation"), False),
    (asyncpg.InterfaceError("cannot perform operation: another operation is in progress"), False),
    (OSError("No space left on device"), False),   # not from connecting: not the database's
    (ValueError("a bug"), False),
])
def test_failures_that_mean_the_database_is_out_of_reach_answer_503(exc, unavailable):
    assert is_unavailable(exc) is unavailable
    answer = database_unavailable(exc)
    if unavailable:
        assert (answer.status, answer.code) == (503, "database_unavailable")
        assert answer.headers["Retry-After"].isdigit()
    else:
        assert answer is None


def test_database_unavailable_has_french_and_english_messages():
    assert message("database_unavailable", "fr") != message("database_unavailable", "en")
    assert "database_unavailable" not in (message("database_unavailable", "fr"),
                                          message("database_unavailable", "en"))


async def test_a_connection_the_server_dropped_is_replaced(postgres_url):  # noqa: F811
    """pg_terminate_backend on the store's pooled connection: the next operation
    answers DatabaseUnavailable or succeeds on a new connection; the one after
    it succeeds on a new connection."""
    store = open_store(postgres_url)
    await store.open()
    try:
        first = await store._fetchval("SELECT pg_backend_pid()", {})
        admin = await asyncpg.connect(postgres_url, timeout=10)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()
        await asyncio.sleep(0.2)
        try:
            await store._fetchval("SELECT 1", {})
        except DatabaseUnavailable:
            pass
        second = await store._fetchval("SELECT pg_backend_pid()", {})
        assert second != first
        await store.check_writable()
    finally:
        await store.close()


async def test_a_statement_past_its_timeout_is_database_unavailable(postgres_url, monkeypatch):  # noqa: F811
    monkeypatch.setattr(postgres_sql, "COMMAND_TIMEOUT_SECONDS", 0.3)
    store = open_store(postgres_url)
    await store.open()
    try:
        with pytest.raises(DatabaseUnavailable):
            await store._fetchval("SELECT pg_sleep(3)", {})
        assert await store._fetchval("SELECT 1", {}) == 1   # cancelled, the pool serves on
    finally:
        await store.close()


# -- a private PostgreSQL cluster ------------------------------------------------------------

class PrivateCluster:
    """A cluster in a temporary directory owned by ``postgres``, on its own
    port, trust authentication, listening on 127.0.0.1 only."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", "postgres", "--", *args], capture_output=True,
                              text=True, timeout=timeout, cwd=self.root)

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                         "-w", "-t", "60", *args)
        if check and done.returncode != 0:
            raise AssertionError(f"pg_ctl {' '.join(args)} failed: {done.stdout}{done.stderr}\n"
                                 f"{self.log_tail()}")
        return done

    def _options(self) -> list[str]:
        return ["-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"]

    def initdb(self) -> None:
        done = self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust",
                         "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-instructions")
        if done.returncode != 0:
            raise AssertionError(f"initdb failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        self._pg_ctl(*self._options(), "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "stop")

    def restart(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, *self._options(), "restart")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def destroy(self) -> None:
        """Stop the server whatever state it is in, and delete its files."""
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("-m", "immediate", "stop", check=False)
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pid = None
        if pid is not None:   # pg_ctl could not stop it: kill it
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_postgres():
    """A private PostgreSQL 15 cluster, started; stopped and deleted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("a private PostgreSQL cluster needs root (to run initdb as postgres)")
    missing = [name for name in ("initdb", "pg_ctl", "postgres") if not (PG_BIN / name).exists()]
    if missing:
        pytest.skip(f"PostgreSQL binaries missing in {PG_BIN}: {', '.join(missing)}")
    if shutil.which("runuser") is None:
        pytest.skip("runuser is missing (needed to run initdb as postgres)")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres user to own a private cluster")
    # Not under pytest's tmp_path: postgres must be able to reach its directory.
    root = Path(tempfile.mkdtemp(prefix="moderation-pg-"))
    shutil.chown(root, "postgres", "postgres")
    cluster = PrivateCluster(root, free_port())
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


# -- load --------------------------------------------------------------------------------------

@dataclass
class Answer:
    started: float
    ended: float
    status: int | None = None
    retry_after: str | None = None
    body: dict | None = None
    language: str = "en"
    error: str = ""


class Load:
    """Threads POSTing comments, each on a new connection (so both workers
    take some), one after the other, until :meth:`stop`."""

    def __init__(self, port: int, key: str, threads: int = THREADS) -> None:
        self.port, self.key = port, key
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True)
                         for n in range(threads)]

    def __enter__(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=CLIENT_TIMEOUT + 5)

    def _run(self, number: int) -> None:
        language = "fr" if number % 2 else "en"
        i = 0
        while not self._stopping.is_set():
            i += 1
            payload = comment_payload(
                body=f"Load comment {number}-{i}: the tram line should reach the hospital.",
                author={"name": f"Reader {number}", "email": f"load{number}.{i}@example.org"})
            answer = post(self.port, self.key, payload, language)
            with self._lock:
                self.answers.append(answer)
            time.sleep(0.02)

    def acked(self) -> list[int]:
        return [a.body["id"] for a in self.answers if a.status in (201, 202)]


def post(port: int, key: str, payload: dict, language: str = "en") -> Answer:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    try:
        connection.request("POST", "/v1/comments", body=json.dumps(payload).encode(), headers={
            "Authorization": f"Bearer {key}", "Content-Type": "application/json",
            "Accept-Language": language})
        response = connection.getresponse()
        raw = response.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"raw": raw.decode(errors="replace")}
        return Answer(started, time.monotonic(), response.status,
                      response.getheader("Retry-After"), body, language)
    except Exception as exc:   # noqa: BLE001: refused, reset, timed out: all recorded
        return Answer(started, time.monotonic(), language=language,
                      error=f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()


def get(port: int, path: str, token: str | None = None, method: str = "GET") -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def wait_for(condition, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


async def stored_ids(url: str) -> set[int]:
    connection = await asyncpg.connect(url, timeout=10)
    try:
        return {row[0] for row in await connection.fetch("SELECT id FROM comments")}
    finally:
        await connection.close()


def server_log(server) -> str:
    return read_log(server)


# -- a webhook receiver -------------------------------------------------------------------------

class Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.comment_ids: set[int] = set()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):   # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.comment_ids.add(body["comment"]["id"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def receiver():
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# -- 1. PostgreSQL restarted, then stopped for a while, under load --------------------------------

def summary(answers: list[Answer]) -> str:
    counts: dict[str, int] = {}
    for a in answers:
        name = str(a.status) if a.status is not None else a.error.split(":")[0]
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


def test_postgres_restarted_and_stopped_under_load(private_postgres, server_env, receiver, tmp_path):
    cluster = private_postgres
    env = dict(server_env, MODERATION_DATABASE_URL=cluster.url, MODERATION_WORKERS="2",
               MODERATION_WEBHOOK_POLL_SECONDS="0.2", MODERATION_WEBHOOK_TIMEOUT_SECONDS="2",
               MODERATION_WEBHOOK_BACKOFF_SECONDS="0.5", MODERATION_WEBHOOK_BACKOFF_MAX_SECONDS="2",
               TMPDIR=str(tmp_path))
    cli(env, "init")
    key = cli(env, "site", "add", "--name", "journal", "--url", "https://journal.example",
              "--lang", "en", "--mode", "auto")
    admin = cli(env, "moderator", "add", "ops", "--role", "admin")
    cli(env, "webhook", "add", "journal", f"http://127.0.0.1:{receiver.server_port}/hook")
    port = free_port()
    server = start_server(env, port)
    try:
        workers = wait_for(lambda: len(worker_pids(server.pid)) == 2 and worker_pids(server.pid), 30)
        assert workers, "two workers did not start"
        assert wait_for(lambda: get(port, "/readyz")[0] == 200, 30)
        timeline: dict[str, float] = {}
        readyz_down: list[tuple[int, dict]] = []
        with Load(port, key) as load:
            time.sleep(2)
            timeline["restart"] = time.monotonic()
            cluster.restart("fast")
            timeline["restarted"] = time.monotonic()
            time.sleep(RECOVERY_SECONDS + 2)
            timeline["stop"] = time.monotonic()
            cluster.stop("fast")
            timeline["stopped"] = time.monotonic()
            for _ in range(4):   # new connections: either worker answers
                readyz_down.append(get(port, "/readyz"))
            time.sleep(max(0.0, 3 - (time.monotonic() - timeline["stopped"])))
            cluster.start()
            timeline["started"] = time.monotonic()
            ready = wait_for(lambda: get(port, "/readyz")[0] == 200, 30)
            timeline["ready"] = time.monotonic()
            time.sleep(RECOVERY_SECONDS + 3)
        answers = sorted(load.answers, key=lambda a: a.started)
        report = summary(answers)

        # Never a hang, never a 500: each answer came, and each is 201/202 or 503.
        assert [a.error for a in answers if a.error] == [], report
        assert [a for a in answers if a.status not in (201, 202, 503)] == [], report
        assert max(a.ended - a.started for a in answers) < SLOWEST_ANSWER, report
        failed = [a for a in answers if a.status == 503]
        assert failed, f"the outages caused no 503 at all: {report}"
        for a in failed:
            assert a.retry_after and a.retry_after.isdigit() and int(a.retry_after) > 0, a
            assert a.body["error"]["code"] == "database_unavailable", a
            assert a.body["error"]["message"] == message("database_unavailable", a.language), a
            assert a.body["error"]["fields"] == [], a
        # Failures only around the outages; from a few seconds after each, all succeed
        # (a request still in flight when the next fault starts may fail with it).
        assert all(a.status in (201, 202) for a in answers if a.ended < timeline["restart"]), report
        for back, next_fault in ((timeline["restarted"], timeline["stop"]),
                                 (timeline["started"], float("inf"))):
            after = [a for a in answers if back + RECOVERY_SECONDS <= a.started and a.ended < next_fault]
            assert after, "no request after the recovery window"
            assert all(a.status in (201, 202) for a in after), (back, summary(after))
        # /readyz: not ready while PostgreSQL is down, ready once it is back.
        for status, body in readyz_down:
            assert status == 503, body
            assert body["error"]["code"] == "not_ready"
            assert [f["code"] for f in body["error"]["fields"]] == ["database_unavailable"], body
        assert ready and timeline["ready"] - timeline["started"] < RECOVERY_SECONDS

        # The workers lived through it (no restart by the parent) ...
        assert server.poll() is None
        assert sorted(worker_pids(server.pid)) == sorted(workers)
        # ... and so did their model reload pollers: both confirm a reload.
        status, body = get(port, "/v1/admin/model/reload", admin, method="POST")
        assert status == 200, body
        assert len(body["workers"]) == 2 and {w["status"] for w in body["workers"]} == {"loaded"}

        # Every acknowledged comment is stored ...
        acked = load.acked()
        stored = asyncio.run(stored_ids(cluster.url))
        assert len(set(acked)) == len(acked)
        assert set(acked) - stored == set()
        # ... and its webhook event delivered, the outage notwithstanding.
        assert wait_for(lambda: set(acked) <= receiver.comment_ids, 60, 0.5), (
            f"{len(set(acked) - receiver.comment_ids)} acknowledged comments never delivered")
        log = server_log(server)
        assert "unhandled error" not in log and "Task exception was never retrieved" not in log, log
        recovery = [max([a.ended for a in answers if a.status == 503 and start <= a.started < end],
                        default=back) - back
                    for start, back, end in ((timeline["restart"], timeline["restarted"], timeline["stop"]),
                                             (timeline["stop"], timeline["started"], float("inf")))]
        print(f"\nrequests {len(answers)} ({report}); acked {len(acked)}, stored {len(stored)}; "
              f"restart took {timeline['restarted'] - timeline['restart']:.1f} s, last 503 "
              f"{recovery[0]:.1f} s after it; stop {timeline['started'] - timeline['stop']:.1f} s, "
              f"last 503 {recovery[1]:.1f} s after start, ready after "
              f"{timeline['ready'] - timeline['started']:.1f} s; slowest answer "
              f"{max(a.ended - a.started for a in answers):.1f} s")
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)


# -- 2. SIGKILL of the service under load, on PostgreSQL -----------------------------------------

def start_server_group(env, port) -> subprocess.Popen:
    """``moderation serve`` in a process group of its own (so that every worker
    can be killed at once), once it accepts connections."""
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, "-m", "moderation", "serve", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=log,
                               start_new_session=True)
    process.log = log
    if not wait_for(lambda: process.poll() is not None or _accepts(port), 60, 0.05) \
            or process.poll() is not None:
        _kill_group(process)
        raise RuntimeError(server_log(process))
    return process


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _kill_group(process: subprocess.Popen, signum: int = signal.SIGKILL) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM])
def test_acknowledged_comments_survive_the_service_dying_under_load_on_postgres(
        postgres_url, server_env, tmp_path, stop):  # noqa: F811
    env = dict(server_env, MODERATION_DATABASE_URL=postgres_url, MODERATION_WORKERS="2",
               TMPDIR=str(tmp_path))
    cli(env, "init")
    key = cli(env, "site", "add", "--name", "journal", "--url", "https://journal.example",
              "--lang", "en", "--mode", "auto")
    port = free_port()
    server = start_server_group(env, port)
    try:
        load = Load(port, key)
        with load:
            assert wait_for(lambda: len(load.acked()) >= 40, 60), summary(load.answers)
            _kill_group(server, stop)   # every process of the service, requests in flight
            try:   # a stop is bounded (moderation.serve.stop_deadline): 8 + 10 s at most
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pytest.fail(f"still running 30 s after {stop.name}:\n{server_log(server)[-5000:]}")
        killed_at_ack = len(load.acked())
    finally:
        _kill_group(server)
        server.wait(timeout=30)
    answers = load.answers
    assert [a for a in answers if a.status is not None and a.status not in (201, 202)] == [], \
        summary(answers)
    acked = load.acked()
    assert len(set(acked)) == len(acked) == killed_at_ack
    stored = asyncio.run(stored_ids(postgres_url))
    assert set(acked) - stored == set(), f"{len(set(acked) - stored)} acknowledged comments lost"

    port = free_port()
    server = start_server(dict(env, MODERATION_WORKERS="1"), port)
    try:
        async def statuses():
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
                async def one(comment_id):
                    async with session.get(f"http://127.0.0.1:{port}/v1/comments/{comment_id}") as r:
                        return comment_id, r.status
                return dict(await asyncio.gather(*(one(i) for i in acked)))
        assert asyncio.run(statuses()) == {comment_id: 200 for comment_id in acked}
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\n{stop.name}: requests {len(answers)} ({summary(answers)}); acked {len(acked)}, "
          f"stored {len(stored)}")
