"""Database faults, caused for real against the real server: a foreign process
holding SQLite's write lock past busy_timeout, and a full disk. Every waiter is
answered 503 with Retry-After in the one error shape, and the service recovers
without a restart once the fault is gone."""
from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import time

import aiohttp
import pytest

from ..conftest import comment_payload
from ..server import cli, free_port, start_server

pytestmark = pytest.mark.slow


async def post_comments(port, key, n, tag) -> list[tuple[int, dict, dict]]:
    url = f"http://127.0.0.1:{port}/v1/comments"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
        async def one(i):
            payload = comment_payload(body=f"A thoughtful remark {tag} number {i}.",
                                      author={"name": f"Reader {i}", "email": f"r{tag}{i}@example.org"})
            async with session.post(url, json=payload, headers={"Accept-Language": "fr"},
                                    timeout=aiohttp.ClientTimeout(total=30)) as response:
                return response.status, dict(response.headers), await response.json()
        return list(await asyncio.gather(*[one(i) for i in range(n)]))


async def get(port, path) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}{path}") as response:
            return response.status, await response.json()


def stop(server) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def test_foreign_write_lock_answers_503_busy_and_the_writer_recovers(server_env):
    env = dict(server_env, MODERATION_SQLITE_BUSY_TIMEOUT_MS="300")
    cli(env, "init")
    key = cli(env, "site", "add", "--name", "journal", "--url", "https://journal.example",
              "--lang", "en", "--mode", "auto")
    path = env["MODERATION_DATABASE_URL"][len("sqlite:///"):]
    port = free_port()
    server = start_server(env, port)
    try:
        # Another process's writer (sqlite3 shell, a migration script): it holds
        # SQLite's write lock, not our writer-lock flock.
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        answers = asyncio.run(post_comments(port, key, 5, "locked"))
        elapsed = time.monotonic() - started
        for status, headers, body in answers:
            assert status == 503, body
            assert headers.get("Retry-After", "").isdigit()
            assert body["error"]["code"] == "database_busy"
            assert body["error"]["message"] and body["error"]["fields"] == []
        assert elapsed < 10
        holder.execute("ROLLBACK")
        holder.close()
        started = time.monotonic()
        answers = asyncio.run(post_comments(port, key, 3, "free"))
        assert [status for status, _, _ in answers if status not in (201, 202)] == [], answers
        recovered = time.monotonic() - started
        assert recovered < 10
        print(f"\nforeign write lock: 5 posts answered 503 database_busy in {elapsed:.2f} s "
              f"(busy timeout 0.3 s); lock released: 3 posts stored in {recovered:.2f} s")
    finally:
        stop(server)


@pytest.fixture
def small_tmpfs(tmp_path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mountpoint)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace')}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_full_disk_answers_503_unwritable_and_readyz_recovers(server_env, small_tmpfs):
    env = dict(server_env, MODERATION_DATABASE_URL=f"sqlite:///{small_tmpfs / 'full.db'}")
    cli(env, "init")
    key = cli(env, "site", "add", "--name", "journal", "--url", "https://journal.example",
              "--lang", "en", "--mode", "auto")
    port = free_port()
    server = start_server(env, port)
    filler = small_tmpfs / "filler"
    try:
        assert asyncio.run(get(port, "/readyz"))[0] == 200
        descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)   # fill the disk to the last byte
        try:
            while True:
                os.write(descriptor, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(descriptor)
        answers = asyncio.run(post_comments(port, key, 20, "full"))
        failed = [(h, b) for status, h, b in answers if status == 503]
        assert failed, answers   # the WAL may still hold a few pages' room: most fail
        for headers, body in failed:
            assert headers.get("Retry-After", "").isdigit()
            assert body["error"]["code"] == "database_unwritable"
        assert all(status in (201, 202, 503) for status, _, _ in answers)
        status, body = asyncio.run(get(port, "/readyz"))
        assert status == 503
        assert body["error"]["code"] == "not_ready"
        assert [f["code"] for f in body["error"]["fields"]] == ["database_unwritable"]
        assert body["error"]["fields"][0]["detail"]

        filler.unlink()
        started = time.monotonic()
        assert asyncio.run(get(port, "/readyz"))[0] == 200   # a real write probe succeeds
        answers = asyncio.run(post_comments(port, key, 3, "freed"))
        assert [status for status, _, _ in answers if status not in (201, 202)] == [], answers
        recovered = time.monotonic() - started
        assert recovered < 10
        print(f"\ndisk full: {len(failed)} of 20 posts 503 database_unwritable, /readyz 503; space "
              f"freed: /readyz 200 and 3 posts stored in {recovered:.2f} s, no restart")
    finally:
        stop(server)


def _corrupt_header(path) -> None:
    with open(path, "r+b") as f:
        f.write(b"this is not a SQLite file at all" * 4)


def _corrupt_pages(path) -> None:
    size = os.path.getsize(path)
    with open(path, "r+b") as f:   # every page after the first: b-tree pages turn to garbage
        for offset in range(4096 + 100, size, 4096):
            f.seek(offset)
            f.write(os.urandom(512))


@pytest.mark.parametrize("corrupt", [_corrupt_header, _corrupt_pages])
def test_serve_refuses_a_corrupt_database_promptly_and_leaves_it_untouched(server_env, corrupt):
    cli(server_env, "init")
    cli(server_env, "site", "add", "--name", "journal", "--url", "https://journal.example",
        "--lang", "en", "--mode", "auto")
    path = server_env["MODERATION_DATABASE_URL"][len("sqlite:///"):]
    for suffix in ("-wal", "-shm", ".writer-lock"):   # a clean shutdown leaves only the file
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    corrupt(path)
    before = open(path, "rb").read()
    for workers in ("1", "2"):
        env = dict(server_env, MODERATION_WORKERS=workers)
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "moderation", "serve", "--port", str(free_port())],
                              env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode != 0
        seconds = time.monotonic() - started
        assert seconds < 15
        assert path in done.stderr and "corrupt" in done.stderr and "quick_check" in done.stderr
        print(f"\n{corrupt.__name__}, {workers} worker(s): exit {done.returncode} in {seconds:.2f} s")
        assert open(path, "rb").read() == before
        assert not os.path.exists(path + ".writer-lock")


def test_serve_refuses_a_database_on_a_read_only_file_system(server_env, small_tmpfs):
    """A read-only mount (a volume mounted wrong) is said as such, not as
    corruption, and nothing is written or created there."""
    path = small_tmpfs / "journal.db"
    env = dict(server_env, MODERATION_DATABASE_URL=f"sqlite:///{path}")
    cli(env, "init")
    for suffix in ("-wal", "-shm", ".writer-lock"):
        if os.path.exists(f"{path}{suffix}"):
            os.unlink(f"{path}{suffix}")
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    for database in (path, small_tmpfs / "new.db"):   # an existing file, a file to create
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "moderation", "serve", "--port", str(free_port())],
                              env=dict(env, MODERATION_DATABASE_URL=f"sqlite:///{database}"),
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 1, done.stderr
        assert time.monotonic() - started < 15
        assert "not writable" in done.stderr and "corrupt" not in done.stderr
    assert sorted(os.listdir(small_tmpfs)) == ["journal.db"]


def test_serve_refuses_a_database_in_a_folder_that_does_not_exist(server_env, tmp_path):
    missing = tmp_path / "not-mounted" / "journal.db"
    done = subprocess.run([sys.executable, "-m", "moderation", "serve", "--port", str(free_port())],
                          env=dict(server_env, MODERATION_DATABASE_URL=f"sqlite:///{missing}"),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert f"directory {missing.parent} does not exist" in done.stderr
    assert not missing.parent.exists()
