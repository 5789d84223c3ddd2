"""Backups, with the real service running and writing.

- ``moderation backup`` on SQLite, while a thread posts comments without a
  pause: the copy passes ``PRAGMA integrity_check``, is one self-contained file,
  holds every comment acknowledged before the backup started, and is one
  consistent snapshot (the posted comments it holds are exactly those up to
  its newest one), while the service answered every comment.
- ``moderation restore`` into the running service: its API answers exactly
  the backed-up state at once, without a restart; comments posted while the
  restore runs are answered (they wait for it) and those posted after it are
  kept; a model reload requested after the restore still reaches the workers.
- Refusals: an existing file without ``--force``, a non-database, a corrupt
  backup, a SQLite file that is not a moderation database, a restore over
  data without ``--yes``, a database busy beyond the wait; each leaves
  everything as it was, with one line saying why.
- PostgreSQL: the commands print the exact ``pg_dump`` / ``pg_restore``
  command (exit 2); run as printed against the running service, a restore
  gives back exactly the dumped state, without a restart.
"""
from __future__ import annotations

import fcntl
import http.client
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from moderation import cli as moderation_cli

from ..conftest import comment_payload
from ..server import cli, free_port, start_server
from ..store.conftest import postgres_server, postgres_url  # noqa: F401  (fixtures)
from ..toy_model import HAM_TEXTS, write_toy_version

pytestmark = pytest.mark.slow

SITE = "journal"
THREAD = "article-42"     # comment_payload's thread


# -- helpers ----------------------------------------------------------------------------------

def body(i: int) -> str:
    return f"{HAM_TEXTS[i % len(HAM_TEXTS)]} ({i})"


class Api:
    """Blocking HTTP to the running service (one connection per thread)."""

    def __init__(self, port: int, key: str) -> None:
        self.port, self.key = port, key

    def request(self, method: str, path: str, body=None, token: str | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Authorization": f"Bearer {token or self.key}"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    def post(self, i: int) -> tuple[int, dict]:
        payload = comment_payload(body=body(i),
                                  author={"name": f"Reader {i}", "email": f"reader{i}@example.org"})
        return self.request("POST", "/v1/comments", payload)

    def post_ok(self, i: int) -> int:
        status, answer = self.post(i)
        assert status in (201, 202), answer
        return answer["id"]

    def status_of(self, comment_id: int) -> int:
        return self.request("GET", f"/v1/comments/{comment_id}")[0]

    def body_of(self, comment_id: int) -> str | None:
        """The comment's text as the API answers it; None when 404."""
        status, answer = self.request("GET", f"/v1/comments/{comment_id}")
        assert status in (200, 404), answer
        return answer["body"] if status == 200 else None

    def thread_ids(self) -> list[int]:
        """Ids of the thread's published comments, by the public read."""
        ids, after = [], 0
        while True:
            status, page = self.request(
                "GET", f"/v1/sites/{SITE}/threads/{THREAD}/comments?limit=200&after={after}")
            assert status == 200, page
            ids += [item["id"] for item in page["items"]]
            if page["next"] is None:
                return ids
            after = page["next"]


class Poster(threading.Thread):
    """Posts comments one after another until stopped; records each answer
    with the monotonic time it was acknowledged."""

    def __init__(self, api: Api, first: int) -> None:
        super().__init__(daemon=True)
        self.api, self.next = api, first
        self.acked: list[tuple[float, float, int, str]] = []   # (sent, acknowledged, id, body)
        self.failures: list[tuple[int, dict]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            sent = time.monotonic()
            try:
                status, answer = self.api.post(self.next)
            except OSError as exc:
                self.failures.append((0, {"error": repr(exc)}))
                continue
            if status in (201, 202):
                self.acked.append((sent, time.monotonic(), answer["id"], body(self.next)))
            else:
                self.failures.append((status, answer))
            self.next += 1

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=60)


def run(env, *args) -> subprocess.CompletedProcess:
    """``moderation ARGS`` as a process, whatever its exit code."""
    return subprocess.run([sys.executable, "-m", "moderation", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def database_file(env) -> Path:
    return Path(env["MODERATION_DATABASE_URL"][len("sqlite:///"):])


def comment_bodies(path: Path) -> list[str]:
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as connection:
        return [row[0] for row in connection.execute("SELECT body FROM comments")]


def comment_ids(path: Path) -> set[int]:
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM comments")}


def new_site(env) -> str:
    cli(env, "init")
    return cli(env, "site", "add", "--name", SITE, "--url", "https://journal.example",
               "--lang", "en", "--mode", "auto")


@pytest.fixture
def service(server_env):
    """``service()``: start ``moderation serve`` on *server_env*; stopped after the test."""
    started = []
    server_env["MODERATION_PUBLIC_CACHE_SECONDS"] = "0"   # reads answer the database's state now

    def start(env=None):
        port = free_port()
        process = start_server(env or server_env, port)
        started.append(process)
        return port, process

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def add_filler(database: Path, rows: int = 12000, chars: int = 2000) -> None:
    """Grow the live database (a few thousand pages: several backup steps) with
    copies of comment 1 in a thread of their own, held as spam."""
    with sqlite3.connect(database, timeout=30, isolation_level=None) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(comments)")
                   if row[1] not in ("id", "thread_id", "body", "status")]
        site_id = connection.execute("SELECT site_id FROM comments WHERE id = 1").fetchone()[0]
        connection.execute("BEGIN IMMEDIATE")
        thread_id = connection.execute(
            "INSERT INTO threads (site_id, ext_id, created_at) VALUES (?, 'filler', 0) "
            "RETURNING id", (site_id,)).fetchone()[0]
        listed = ", ".join(columns)
        connection.execute(
            f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                INSERT INTO comments (thread_id, body, status, {listed})
                SELECT ?, printf('%d ', i) || hex(randomblob(?)), 'spam', {listed}
                FROM n, (SELECT * FROM comments WHERE id = 1)""", (rows, thread_id, chars // 2))
        connection.execute("COMMIT")


# -- (a) a backup while the service writes ------------------------------------------------------

def test_backup_while_the_service_writes_holds_every_acknowledged_comment(
        server_env, service, tmp_path):
    key = new_site(server_env)
    port, server = service()
    api = Api(port, key)
    first = [api.post_ok(i) for i in range(20)]
    add_filler(database_file(server_env))
    poster = Poster(api, first=1000)
    poster.start()
    while len(poster.acked) < 20:     # the poster is under way before the backup starts
        time.sleep(0.01)
    target = tmp_path / "backups" / "moderation.db"
    target.parent.mkdir()
    started = time.monotonic()
    done = run(server_env, "backup", str(target))
    finished = time.monotonic()
    while not any(acked > finished for _, acked, _, _ in poster.acked):
        time.sleep(0.01)              # and still posting after it
    poster.stop()

    assert done.returncode == 0, done.stderr
    assert done.stderr == f"database: sqlite:///{database_file(server_env)}\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["moderation.db"]  # no temporary left
    assert not poster.failures, poster.failures[:3]      # the service answered every comment
    during = [i for sent, acked, i, _ in poster.acked if sent > started and acked < finished]
    assert len(during) >= 5, "too few comments posted while the backup ran to prove anything"
    with open(target, "rb") as handle:
        assert handle.read(20)[18:20] == b"\x01\x01"      # a rollback-journal file: no -wal needed
    with sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        (count,) = copy.execute("SELECT count(*) FROM comments").fetchone()
    held = comment_ids(target)
    before = {i for _, acked, i, _ in poster.acked if acked < started} | set(first)
    assert before <= held                                 # every comment acknowledged before
    posted = set(first) | {i for _, _, i, _ in poster.acked}
    newest = max(held & posted)
    assert held & posted == {i for i in posted if i <= newest}   # one snapshot, nothing torn
    out = done.stdout.strip()
    assert out.startswith(f"backup {target}: {target.stat().st_size} bytes, schema version ")
    assert f", {count} comments (newest #{max(held)}, " in out
    assert out.endswith("PRAGMA quick_check: ok")
    assert server.poll() is None


# -- (b) a restore into the running service ---------------------------------------------------

def test_restore_into_the_running_service_answers_the_backed_up_state(
        server_env, service, tmp_path):
    key = new_site(server_env)
    port, server = service()
    api = Api(port, key)
    kept = {api.post_ok(i): body(i) for i in range(8)}
    published_then = api.thread_ids()
    assert published_then, "the toy model publishes these comments"
    backup = tmp_path / "backup.db"
    assert run(server_env, "backup", str(backup)).returncode == 0
    lost = {api.post_ok(i): body(i) for i in range(100, 108)}
    assert all(api.body_of(i) == text for i, text in lost.items())

    refused = run(server_env, "restore", str(backup))    # data there: --yes needed
    assert refused.returncode == 1 and refused.stdout == ""
    assert "holds 1 site, 16 comments" in refused.stderr and "--yes" in refused.stderr
    assert all(api.body_of(i) == text for i, text in lost.items())   # nothing changed

    poster = Poster(api, first=1000)                      # the service keeps taking comments
    poster.start()
    while len(poster.acked) < 5:
        time.sleep(0.01)
    started = time.monotonic()
    done = run(server_env, "restore", "--yes", str(backup))
    finished = time.monotonic()
    while sum(sent > finished for sent, _, _, _ in poster.acked) < 5:
        time.sleep(0.01)
    poster.stop()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"restored {backup} into sqlite:///{database_file(server_env)}: "
                                  f"1 site, 8 comments (newest #{max(kept)}, ")
    assert done.stdout.strip().endswith("Running servers serve it now.")
    assert not poster.failures, poster.failures[:3]       # writes waited for the restore
    assert server.poll() is None                          # no restart

    # The same process answers the backed-up state, then what came after the restore.
    assert all(api.body_of(i) == text for i, text in kept.items())
    before = {i: text for _, acked, i, text in poster.acked if acked < started}
    after = {i: text for sent, _, i, text in poster.acked if sent > finished}
    assert before and after
    assert all(api.body_of(i) == text for i, text in after.items())
    for i, text in {**lost, **before}.items():            # gone (an id may be given again)
        assert api.body_of(i) != text
    held = set(comment_bodies(database_file(server_env)))
    assert set(kept.values()) | set(after.values()) <= held
    assert not (set(lost.values()) | set(before.values())) & held
    assert api.thread_ids()[:len(published_then)] == published_then
    status, readiness = api.request("GET", "/readyz")
    assert status == 200, readiness


def test_after_a_restore_the_running_service_shows_exactly_the_backup(
        server_env, service, tmp_path):
    """Nothing written while the restore runs: the API then answers exactly the backup."""
    key = new_site(server_env)
    port, server = service()
    api = Api(port, key)
    kept = [api.post_ok(i) for i in range(6)]
    published_then = api.thread_ids()
    backup = tmp_path / "backup.db"
    assert run(server_env, "backup", str(backup)).returncode == 0
    lost = [api.post_ok(i) for i in range(100, 106)]
    assert api.thread_ids() != published_then

    done = run(server_env, "restore", "--yes", str(backup))
    assert done.returncode == 0, done.stderr
    assert "; replaced 1 site, 12 comments " in done.stdout
    assert [api.status_of(i) for i in kept] == [200] * len(kept)
    assert [api.status_of(i) for i in lost] == [404] * len(lost)
    assert api.thread_ids() == published_then
    assert comment_ids(database_file(server_env)) == comment_ids(backup)
    assert api.post_ok(200) == max(kept) + 1            # the service writes on, from the backup's ids
    assert server.poll() is None


def test_a_model_reload_after_a_restore_reaches_the_running_workers(
        server_env, service, tmp_path, toy_models_dir):
    """Workers remember the model generation they applied: the restore keeps
    the service's generation, so the next reload is not taken for an old one."""
    models = tmp_path / "models"
    shutil.copytree(toy_models_dir, models)
    server_env["MODERATION_MODEL_DIR"] = str(models)
    key = new_site(server_env)
    admin = cli(server_env, "moderator", "add", "ops", "--role", "admin")
    port, server = service()
    api = Api(port, key)
    api.post_ok(0)
    backup = tmp_path / "backup.db"
    assert run(server_env, "backup", str(backup)).returncode == 0   # generation 0
    for version in ("toy-20260202T000000Z", "toy-20260303T000000Z"):
        write_toy_version(models, version)
        status, answer = api.request("POST", "/v1/admin/model/reload", token=admin)
        assert (status, answer["model_version"]) == (200, version), answer
    assert run(server_env, "restore", "--yes", str(backup)).returncode == 0
    write_toy_version(models, "toy-20260404T000000Z")
    status, answer = api.request("POST", "/v1/admin/model/reload", token=admin)
    assert status == 200, answer
    assert answer["generation"] == 3 and answer["model_version"] == "toy-20260404T000000Z"
    assert api.request("GET", "/readyz")[1]["model_version"] == "toy-20260404T000000Z"
    assert server.poll() is None


# -- (c) refusals -----------------------------------------------------------------------------

@pytest.fixture
def folder(tmp_path, monkeypatch, toy_models_dir):
    """The CLI in-process, in an empty folder with the default database URL."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODERATION_DATABASE_URL", raising=False)
    monkeypatch.setenv("MODERATION_MODEL_DIR", str(toy_models_dir))
    monkeypatch.setenv("MODERATION_LOG_LEVEL", "WARNING")
    return tmp_path


def main(capsys, *args) -> tuple[int, str, str]:
    code = moderation_cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def filled(folder, capsys) -> Path:
    """./moderation.db with a site and two comments (written as the store would)."""
    assert main(capsys, "init")[0] == 0
    assert main(capsys, "site", "add", "--name", SITE, "--url", "https://journal.example",
                "--lang", "en", "--mode", "auto")[0] == 0
    database = folder / "moderation.db"
    with sqlite3.connect(database, isolation_level=None) as connection:
        connection.execute("INSERT INTO threads (site_id, ext_id, created_at) VALUES (1, 't', 0)")
        for i in (1, 2):
            connection.execute(
                """INSERT INTO comments (site_id, thread_id, status, author_name, author_email,
                     body, body_hash, language, created_at, updated_at)
                   VALUES (1, 1, 'published', 'A', 'a@example.org', ?, ?, 'en', ?, ?)""",
                (f"text {i}", f"hash {i}", 1_700_000_000 + i, 1_700_000_000 + i))
    return database


def snapshot(path: Path) -> bytes:
    """The database's content, as SQL (unchanged content, unchanged dump)."""
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as connection:
        return "\n".join(connection.iterdump()).encode()


def test_backup_refuses_to_overwrite_without_force(folder, capsys):
    filled(folder, capsys)
    target = folder / "backup.db"
    target.write_bytes(b"yesterday's backup")
    code, out, err = main(capsys, "backup", str(target))
    assert (code, out) == (1, "")
    assert err.splitlines()[-1] == (f"moderation: {target} exists already: not overwritten "
                                    "(--force replaces it)")
    assert target.read_bytes() == b"yesterday's backup"
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []
    code, out, _ = main(capsys, "backup", "--force", str(target))
    assert code == 0 and "2 comments (newest #2, 2023-11-14T22:13:22Z)" in out
    assert comment_ids(target) == {1, 2}


def test_backup_and_restore_refuse_a_database_that_does_not_exist(folder, capsys):
    for command in (["backup", "b.db"], ["restore", "b.db"]):
        code, out, err = main(capsys, *command)
        assert (code, out) == (1, "")
        assert f"no database at {folder / 'moderation.db'}" in err and "moderation init" in err
    assert list(folder.iterdir()) == []


def test_backup_refuses_to_write_over_the_database_itself(folder, capsys):
    database = filled(folder, capsys)
    before = snapshot(database)
    code, _, err = main(capsys, "backup", "--force", "moderation.db")
    assert code == 1 and "is the database itself" in err
    assert snapshot(database) == before


@pytest.mark.parametrize("kind", ["text", "corrupt", "foreign", "empty", "missing"])
def test_restore_refuses_a_file_that_is_not_a_sound_moderation_backup(folder, capsys, kind):
    database = filled(folder, capsys)
    backup = folder / "backup.db"
    assert main(capsys, "backup", str(backup))[0] == 0
    if kind == "text":
        backup.write_text("id,body\n1,hello\n")
        expected = "is not a usable SQLite database (file is not a database)"
    elif kind == "corrupt":    # the second half of the file overwritten
        data = bytearray(backup.read_bytes())
        half = len(data) // 2
        data[half:] = bytes((i * 7 + 3) % 256 for i in range(len(data) - half))
        backup.write_bytes(bytes(data))
        expected = " is corrupt ("        # PRAGMA quick_check's finding, or SQLite's
    elif kind == "foreign":    # a SQLite file of something else
        backup.unlink()
        with sqlite3.connect(backup) as other:
            other.execute("CREATE TABLE notes (body TEXT)")
        expected = "is not a moderation database (schema version 0, no audit_events, comments"
    elif kind == "empty":
        backup.write_bytes(b"")
        expected = "is empty, not a moderation backup"
    else:
        backup.unlink()
        expected = f"no backup at {backup}"
    before = snapshot(database)
    code, out, err = main(capsys, "restore", "--yes", str(backup))
    assert (code, out) == (1, "")
    assert err.splitlines()[-1].startswith("moderation: ") and expected in err, err
    assert err.splitlines()[-1].endswith("nothing restored")
    assert snapshot(database) == before
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_restore_over_data_wants_yes_and_says_what_it_would_replace(folder, capsys):
    database = filled(folder, capsys)
    backup = folder / "backup.db"
    assert main(capsys, "backup", str(backup))[0] == 0
    with sqlite3.connect(database, isolation_level=None) as connection:
        connection.execute("DELETE FROM comments WHERE id = 2")
    code, out, err = main(capsys, "restore", str(backup))
    assert (code, out) == (1, "")
    assert err.splitlines()[-1] == (
        f"moderation: {database} holds 1 site, 1 comment (newest #1, 2023-11-14T22:13:21Z); "
        f"restoring {backup} (1 site, 2 comments (newest #2, 2023-11-14T22:13:22Z)) replaces all "
        "of it, and what was written since the backup is lost: add --yes to restore")
    assert comment_ids(database) == {1}
    code, out, _ = main(capsys, "restore", "--yes", str(backup))
    assert code == 0 and comment_ids(database) == {1, 2}
    assert out.strip().endswith("replaced 1 site, 1 comment (newest #1, 2023-11-14T22:13:21Z). "
                                "Running servers serve it now.")


def test_restore_into_a_fresh_database_needs_no_yes(folder, capsys, tmp_path_factory):
    source = filled(folder, capsys)
    backup = tmp_path_factory.mktemp("kept") / "backup.db"
    assert main(capsys, "backup", str(backup))[0] == 0
    for name in os.listdir(folder):                       # the database is lost
        os.unlink(folder / name)
    assert main(capsys, "init")[0] == 0                    # an empty one in its place
    code, out, err = main(capsys, "restore", str(backup))
    assert code == 0, err
    assert comment_ids(source) == {1, 2}
    assert main(capsys, "site", "list")[1].startswith(f"{SITE}\t")


def test_a_backup_of_an_older_version_is_migrated_on_the_way_in(folder, capsys):
    """A backup made before the last migrations: restored at this version's
    schema (the backup file itself untouched); one from a newer version is refused."""
    from moderation.store.sqlite import migrations, sql_statements
    *older, (latest, _) = migrations()
    backup = folder / "old-backup.db"
    with sqlite3.connect(backup, isolation_level=None) as old:
        for number, sql in older:
            for statement in sql_statements(sql):
                old.execute(statement)
        old.execute(f"PRAGMA user_version = {older[-1][0]}")
        old.execute("""INSERT INTO sites (name, url, lang, mode, key_hash, created_at)
                       VALUES ('old', 'https://old.example', 'en', 'auto', 'h', 0)""")
        old.execute("INSERT INTO threads (site_id, ext_id, created_at) VALUES (1, 't', 0)")
        old.execute("""INSERT INTO comments (site_id, thread_id, status, author_name, author_email,
                         body, body_hash, language, created_at, updated_at)
                       VALUES (1, 1, 'published', 'A', 'a@example.org', 'old text', 'x', 'en', 1, 1)""")
    kept = backup.read_bytes()
    assert main(capsys, "init")[0] == 0
    code, out, err = main(capsys, "restore", str(backup))
    assert code == 0, err
    with sqlite3.connect(folder / "moderation.db") as restored:
        assert restored.execute("PRAGMA user_version").fetchone()[0] == latest
        assert restored.execute("SELECT body FROM comments").fetchall() == [("old text",)]
    assert main(capsys, "site", "list")[1].startswith("old\t")
    assert backup.read_bytes() == kept

    with sqlite3.connect(backup) as newer:
        newer.execute(f"PRAGMA user_version = {latest + 1}")
    code, out, err = main(capsys, "restore", "--yes", str(backup))
    assert (code, out) == (1, "")
    assert f"has schema version {latest + 1}, newer than this moderation's {latest}" in err


@pytest.mark.parametrize("holder", ["sqlite-write-lock", "writer-flock"])
def test_restore_into_a_busy_database_gives_up_with_a_clear_message(
        folder, capsys, monkeypatch, holder):
    database = filled(folder, capsys)
    backup = folder / "backup.db"
    assert main(capsys, "backup", str(backup))[0] == 0
    with sqlite3.connect(database, isolation_level=None) as connection:
        connection.execute("DELETE FROM comments WHERE id = 2")
    monkeypatch.setenv("MODERATION_SQLITE_BUSY_TIMEOUT_MS", "300")
    other = sqlite3.connect(database, isolation_level=None)
    lock = open(f"{database}.writer-lock", "a+b")
    try:
        if holder == "writer-flock":          # a service's writer between its transactions
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        else:                                  # a writer that does not take the flock
            other.execute("BEGIN IMMEDIATE")
            other.execute("DELETE FROM comments WHERE id = 1")
        began = time.monotonic()
        code, out, err = main(capsys, "restore", "--yes", str(backup))
        assert time.monotonic() - began < 5
        assert (code, out) == (3, "")
        assert err.splitlines()[-1] == (
            f"moderation: {database} is busy: another process held its write lock for 0.3 s "
            "(MODERATION_SQLITE_BUSY_TIMEOUT_MS); nothing restored, try again")
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()
        lock.close()
    assert comment_ids(database) == {1}
    assert main(capsys, "restore", "--yes", str(backup))[0] == 0    # free again: it works
    assert comment_ids(database) == {1, 2}


# -- (d) PostgreSQL -----------------------------------------------------------------------------

@pytest.mark.postgres
def test_postgres_dump_and_restore_as_printed_under_the_running_service(
        postgres_url, server_env, service, tmp_path, toy_models_dir):  # noqa: F811  (fixture)
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install postgresql-client)")
    models = tmp_path / "models"
    shutil.copytree(toy_models_dir, models)
    server_env.update(MODERATION_DATABASE_URL=postgres_url, MODERATION_MODEL_DIR=str(models))
    key = new_site(server_env)
    admin = cli(server_env, "moderator", "add", "ops", "--role", "admin")
    port, server = service()
    api = Api(port, key)
    kept = [api.post_ok(i) for i in range(6)]
    published_then = api.thread_ids()
    dump = tmp_path / "moderation.pgc"

    advice = run(server_env, "backup", str(dump))
    assert advice.returncode == 2, advice.stderr
    assert "pg_dump" in advice.stderr and not dump.exists()
    command = advice.stdout.strip()
    schema = postgres_url.rsplit("search_path=", 1)[1]
    assert command == (f"pg_dump --format=custom --file={dump} --schema={schema} "
                       "--dbname=postgresql://postgres@127.0.0.1:5432/test")
    subprocess.run(shlex.split(command), check=True, capture_output=True, timeout=120)
    lost = [api.post_ok(i) for i in range(100, 106)]
    for version in ("toy-20260202T000000Z", "toy-20260303T000000Z"):   # generations 1 and 2
        write_toy_version(models, version)
        assert api.request("POST", "/v1/admin/model/reload", token=admin)[0] == 200
    assert api.thread_ids() != published_then

    advice = run(server_env, "restore", str(dump))
    assert advice.returncode == 2, advice.stderr
    command = advice.stdout.strip()
    assert command == ("pg_restore --clean --if-exists --single-transaction "
                       f"--dbname=postgresql://postgres@127.0.0.1:5432/test {dump}")
    for _ in range(3):   # a write of the service at that moment can deadlock it: rolled back, retried
        restored = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=120)
        if "deadlock detected" not in restored.stderr:
            break
    assert restored.returncode == 0, restored.stderr

    assert [api.status_of(i) for i in kept] == [200] * len(kept)
    assert [api.status_of(i) for i in lost] == [404] * len(lost)
    assert api.thread_ids() == published_then
    assert api.post_ok(200) == max(kept) + 1            # the sequences came back too
    # The dump's model generation (0) came back with it: the workers follow it
    # down, so the next reload (generation 1 again) is applied, not skipped.
    time.sleep(1.5)
    write_toy_version(models, "toy-20260404T000000Z")
    status, answer = api.request("POST", "/v1/admin/model/reload", token=admin)
    assert status == 200, answer
    assert (answer["generation"], answer["model_version"]) == (1, "toy-20260404T000000Z")
    assert {w["model_version"] for w in answer["workers"]} == {"toy-20260404T000000Z"}
    assert server.poll() is None
