"""Nothing acknowledged is lost: the real server, killed hard right after the
last acknowledgment, restarts with every acknowledged comment on disk."""
from __future__ import annotations

import asyncio
import signal

import aiohttp
import pytest

from ..conftest import comment_payload
from ..server import cli, free_port, start_server
from ..toy_model import HAM_TEXTS

pytestmark = pytest.mark.slow
N = 60


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
    cli(server_env, "init")   # the CLI creates no database but on init (or serve)
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
