"""`POST /v1/admin/model/reload` against `moderation serve --workers 2`: one
request reloads every worker (not only the one that answered), a refused model
is named per worker and every worker keeps the old one (a pickle planted with a
self-consistent manifest included: it never runs), and a worker that died
without a word is named as not answering."""
import asyncio
import hashlib
import json
import os
import pickle
import shutil
import signal
import socket
import time
from pathlib import Path

import aiohttp
import pytest

from moderation.store.base import open_store

from .server import cli, free_port, start_server
from .test_workers import versions_seen, worker_pids
from .toy_model import TOY_VERSION, write_toy_version

pytestmark = pytest.mark.slow
NEW_VERSION = "toy-20260606T000000Z"


@pytest.fixture
def two_workers(tmp_path, toy_models_dir, server_env):
    """A `--workers 2` server on SQLite with its own models directory; yields
    (server, port, admin token, models directory) once both workers are registered."""
    models = tmp_path / "models"
    shutil.copytree(toy_models_dir, models)
    server_env.update(MODERATION_WORKERS="2", MODERATION_MODEL_DIR=str(models),
                      MODERATION_MODEL_RELOAD_WAIT_SECONDS="3")
    cli(server_env, "init")   # the CLI creates no database but on init (or serve)
    admin = cli(server_env, "moderator", "add", "ops", "--role", "admin")
    port = free_port()
    server = start_server(server_env, port)
    try:
        pids = wait_for(lambda: len(worker_pids(server.pid)) == 2 and worker_pids(server.pid))
        wait_for(lambda: {w.worker for w in registered(server_env)} == {worker_id(p) for p in pids})
        yield server, port, admin, models
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except Exception:
                server.kill()


def worker_id(pid):
    return f"{socket.gethostname()}:{pid}"


def children(pid):
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def registered(env):
    """The live workers' rows, read through the store as another process would."""
    async def read():
        store = open_store(env["MODERATION_DATABASE_URL"])
        await store.open()
        try:
            return await store.model_workers(alive_since=time.time() - 15)
        finally:
            await store.close()
    return asyncio.run(read())


def wait_for(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def tamper(models, version):
    """Append a byte to the model file *version*'s manifest names (its sha256 no longer matches)."""
    manifest = json.loads((models / f"{version}.json").read_text())
    with open(models / manifest["model_file"], "ab") as handle:
        handle.write(b"\0")


async def reload(port, token):
    async with aiohttp.ClientSession() as session:
        async with session.post(f"http://127.0.0.1:{port}/v1/admin/model/reload",
                                headers={"Authorization": f"Bearer {token}"}) as response:
            return response.status, await response.json()


def test_one_reload_request_reloads_every_worker(two_workers):
    server, port, admin, models = two_workers
    pids = worker_pids(server.pid)
    assert set(asyncio.run(versions_seen(port, 12))) == {TOY_VERSION}
    write_toy_version(models, NEW_VERSION)
    status, body = asyncio.run(reload(port, admin))
    assert status == 200, body
    assert body["model_version"] == NEW_VERSION and body["generation"] >= 1
    assert sorted(w["worker"] for w in body["workers"]) == sorted(worker_id(p) for p in pids)
    assert {(w["status"], w["model_version"], w["error"]) for w in body["workers"]} == {
        ("loaded", NEW_VERSION, None)}
    # Answered only once every worker loaded it: no waiting here, and fresh
    # connections each time, so the kernel hands them to either worker.
    assert asyncio.run(versions_seen(port, 12)) == [NEW_VERSION] * 12


def test_a_refused_model_is_named_per_worker_and_every_worker_keeps_the_old_one(two_workers):
    server, port, admin, models = two_workers
    pids = worker_pids(server.pid)
    write_toy_version(models, NEW_VERSION)
    tamper(models, NEW_VERSION)
    status, body = asyncio.run(reload(port, admin))
    assert status == 409, body
    error = body["error"]
    assert error["code"] == "model_reload_failed" and error["message"]
    assert sorted(f["detail"].split(": ", 1)[0] for f in error["fields"]) == sorted(
        worker_id(p) for p in pids)
    assert {(f["field"], f["code"]) for f in error["fields"]} == {("model", "model_refused")}
    assert all("tampered" in f["detail"] for f in error["fields"])
    assert {(w["status"], w["model_version"]) for w in error["workers"]} == {("failed", TOY_VERSION)}
    assert all("tampered" in w["error"] for w in error["workers"])
    assert asyncio.run(versions_seen(port, 12)) == [TOY_VERSION] * 12
    assert server.poll() is None


def test_a_worker_that_died_without_a_word_is_named_until_its_heartbeat_is_stale(two_workers, server_env):
    server, port, admin, models = two_workers
    survivor, killed = worker_pids(server.pid)
    os.kill(killed, signal.SIGKILL)      # its row stays, with a recent heartbeat
    # Reaped: every thread of it gone, so its listening socket is closed (a zombie
    # leader may still have threads holding it, and new connections get reset).
    wait_for(lambda: str(killed) not in children(server.pid))
    write_toy_version(models, NEW_VERSION)
    status, body = asyncio.run(reload(port, admin))
    assert status == 503, body
    error = body["error"]
    assert error["code"] == "model_reload_incomplete"
    assert [(f["code"], f["detail"].split(": ", 1)[0]) for f in error["fields"]] == [
        ("no_answer", worker_id(killed))]
    statuses = {w["worker"]: (w["status"], w["model_version"]) for w in error["workers"]}
    assert statuses[worker_id(killed)] == ("no_answer", TOY_VERSION)
    assert statuses[worker_id(survivor)] == ("loaded", NEW_VERSION)
    # The parent restarted the killed worker; the new one loaded the new model.
    assert asyncio.run(versions_seen(port, 12)) == [NEW_VERSION] * 12


class _Exploit:
    """Unpickling it creates the file *marker*: proof that loading ran code."""
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_planted_pickle_with_a_matching_manifest_never_runs_in_a_worker(two_workers, tmp_path):
    """What someone who can write the models directory can do, with the HMAC key off
    (the default): a pickle as the model file and a manifest whose sha256 matches it,
    named by CURRENT. Neither the reload API nor SIGHUP runs it; both workers keep the
    model they had."""
    server, port, admin, models = two_workers
    write_toy_version(models, NEW_VERSION)
    marker = tmp_path / "ran"
    manifest_path = models / f"{NEW_VERSION}.json"
    manifest = json.loads(manifest_path.read_text())
    payload = pickle.dumps(_Exploit(marker))
    (models / manifest["model_file"]).write_bytes(payload)
    manifest["sha256"] = hashlib.sha256(payload).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    status, body = asyncio.run(reload(port, admin))
    assert status == 409, body
    assert {f["code"] for f in body["error"]["fields"]} == {"model_refused"}
    assert all("a pickle or joblib file is never" in f["detail"] for f in body["error"]["fields"])
    server.send_signal(signal.SIGHUP)
    time.sleep(1.5)
    assert asyncio.run(versions_seen(port, 12)) == [TOY_VERSION] * 12
    assert not marker.exists()
    assert server.poll() is None
