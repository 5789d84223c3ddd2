"""Nothing acknowledged is lost: the real server, killed hard right after the
last acknowledgment, restarts with every acknowledged comment on disk."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

import aiohttp
import pytest

from .conftest import comment_payload
from .toy_model import HAM_TEXTS

pytestmark = pytest.mark.slow
N = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server_env(tmp_path, toy_models_dir):
    env = dict(os.environ)
    env.update({
        "MODERATION_DATABASE_URL": f"sqlite:///{tmp_path / 'durable.db'}",
        "MODERATION_MODEL_DIR": str(toy_models_dir),
        "MODERATION_RATE_LIMIT_PER_IP": "0",
        "MODERATION_RATE_LIMIT_PER_EMAIL": "0",
        "MODERATION_DUPLICATE_WINDOW_SECONDS": "0",
        "MODERATION_LOG_LEVEL": "WARNING",
    })
    return env


def cli(env, *args) -> str:
    done = subprocess.run([sys.executable, "-m", "moderation", *args], env=env, check=True,
                          capture_output=True, text=True, timeout=60)
    return done.stdout.strip().splitlines()[-1]


def start_server(env, port) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "moderation", "serve", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("server did not start")


async def post_all(port, key, n) -> list[int]:
    url = f"http://127.0.0.1:{port}/v1/comments"
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession() as session:
        async def one(i):
            payload = comment_payload(body=f"{HAM_TEXTS[i % len(HAM_TEXTS)]} ({i})",
                                      author={"name": f"Reader {i}", "email": f"reader{i}@example.org"})
            async with session.post(url, json=payload, headers=headers) as response:
                assert response.status in (201, 202), await response.text()
                return (await response.json())["id"]
        return list(await asyncio.gather(*[one(i) for i in range(n)]))


async def fetch_statuses(port, key, ids) -> dict[int, int]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
        async def one(comment_id):
            async with session.get(f"http://127.0.0.1:{port}/v1/comments/{comment_id}") as response:
                return comment_id, response.status
        return dict(await asyncio.gather(*[one(i) for i in ids]))


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM])
def test_acknowledged_comments_survive_the_process_dying(server_env, stop):
    key = cli(server_env, "site", "add", "--name", "journal", "--url", "https://journal.example",
              "--lang", "en", "--mode", "auto")
    assert key.startswith("msk_")
    port = free_port()
    server = start_server(server_env, port)
    try:
        ids = asyncio.run(post_all(port, key, N))
        server.send_signal(stop)          # right after the last acknowledgment
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    assert len(set(ids)) == N
    port = free_port()
    server = start_server(server_env, port)
    try:
        statuses = asyncio.run(fetch_statuses(port, key, ids))
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert statuses == {comment_id: 200 for comment_id in ids}
