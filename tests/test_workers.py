"""`moderation serve --workers 2`: two processes share the port, both take
SIGHUP model reloads, and SIGTERM stops them all."""
import asyncio
import os
import shutil
import signal
from pathlib import Path

import aiohttp
import pytest

from .conftest import comment_payload
from .server import cli, free_port, start_server
from .toy_model import HAM_TEXT, TOY_VERSION, write_toy_version

pytestmark = pytest.mark.slow


def worker_pids(pid):
    """The parent's children that run the app (not multiprocessing's resource tracker)."""
    pids = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [p for p in pids if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]


async def versions_seen(port, attempts):
    seen = []
    for _ in range(attempts):
        # A new connection each time, so the kernel may pick either worker.
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                seen.append((await response.json())["model_version"])
    return seen


async def post_many(port, key, n):
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
        async def one(i):
            payload = comment_payload(body=f"{HAM_TEXT} ({i})", author={"name": "R", "email": f"w{i}@example.org"})
            async with session.post(f"http://127.0.0.1:{port}/v1/comments", json=payload) as response:
                return response.status
        return await asyncio.gather(*[one(i) for i in range(n)])


def test_two_workers_share_the_port_reload_and_stop_together(tmp_path, toy_models_dir, server_env):
    models = tmp_path / "models"
    shutil.copytree(toy_models_dir, models)
    server_env.update(MODERATION_WORKERS="2", MODERATION_MODEL_DIR=str(models))
    cli(server_env, "init")   # the CLI creates no database but on init (or serve)
    key = cli(server_env, "site", "add", "--name", "blog", "--url", "https://blog.example",
              "--lang", "en", "--mode", "auto")
    port = free_port()
    server = start_server(server_env, port)
    try:
        assert set(asyncio.run(versions_seen(port, 10))) == {TOY_VERSION}
        workers = worker_pids(server.pid)
        assert len(workers) == 2
        assert set(asyncio.run(post_many(port, key, 40))) == {201}
        write_toy_version(models, "toy-20260505T000000Z")
        server.send_signal(signal.SIGHUP)
        for _ in range(100):
            seen = asyncio.run(versions_seen(port, 12))
            if set(seen) == {"toy-20260505T000000Z"}:
                break
        assert set(seen) == {"toy-20260505T000000Z"}
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        for pid in workers:
            assert not os.path.exists(f"/proc/{pid}") or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    finally:
        if server.poll() is None:
            server.kill()
