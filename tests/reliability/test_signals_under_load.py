"""Stopping under load, through the real server (two workers, SQLite).

SIGTERM: requests in progress finish and are answered, the server exits 0,
and every acknowledged comment is there after a restart. SIGKILL of every
process at once (the OOM killer, ``docker kill``): requests in progress are
lost to their clients, but every acknowledged comment is there.
The requests are made to be in progress at the signal: the scorer waits
400 ms to gather a batch, so each comment POST spends that long inside the
server."""
from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time

import aiohttp
import pytest

from ..conftest import comment_payload
from ..server import cli, free_port, start_server

pytestmark = pytest.mark.slow
IN_FLIGHT = 16


async def load_then_signal(port, key, server, stop, *, waves: int = 3):
    """Waves of IN_FLIGHT comments; the last wave is in progress when *stop* is
    sent. Returns the answers: (status, id) or ("error", exception name)."""
    url = f"http://127.0.0.1:{port}/v1/comments"
    answers = []

    async def one(session, wave, i):
        payload = comment_payload(body=f"Wave {wave}, comment {i}: a fair point about the budget.",
                                  author={"name": f"R{i}", "email": f"w{wave}r{i}@example.org"})
        try:
            async with session.post(url, json=payload) as response:
                body = await response.json()
                return response.status, body.get("id"), body.get("error", {}).get("code")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return "error", None, type(exc).__name__

    connector = aiohttp.TCPConnector(force_close=True, limit=0)
    async with aiohttp.ClientSession(connector=connector, headers={"Authorization": f"Bearer {key}"},
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:
        for wave in range(waves):
            tasks = [asyncio.create_task(one(session, wave, i)) for i in range(IN_FLIGHT)]
            if wave == waves - 1:
                await asyncio.sleep(0.2)     # every request sent, each waiting for its batch
                if stop is signal.SIGKILL:
                    kill_every_process(server.pid)
                else:
                    server.send_signal(stop)
            answers += await asyncio.gather(*tasks)
    return answers


def kill_every_process(pid: int) -> None:
    """SIGKILL the server and its workers at once: none gets to finish anything."""
    children = [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    for process in (*children, pid):
        os.kill(process, signal.SIGKILL)


def stored_ids(database: str) -> set[int]:
    with sqlite3.connect(database) as db:
        return {row[0] for row in db.execute("SELECT id FROM comments")}


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_stopping_under_load_loses_nothing_acknowledged(server_env, stop):
    server_env.update(MODERATION_WORKERS="2", MODERATION_SCORING_BATCH_WAIT_MS="400")
    cli(server_env, "init")
    key = cli(server_env, "site", "add", "--name", "journal", "--url", "https://journal.example",
              "--lang", "en", "--mode", "auto")
    port = free_port()
    server = start_server(server_env, port)
    try:
        answers = asyncio.run(load_then_signal(port, key, server, stop))
        started = time.monotonic()
        code = server.wait(timeout=30)
        stopped_in = time.monotonic() - started
    finally:
        if server.poll() is None:
            server.kill()
    acknowledged = {comment_id for status, comment_id, _ in answers if status in (201, 202)}
    last_wave = answers[-IN_FLIGHT:]
    assert not [a for a in answers if isinstance(a[0], int) and a[0] >= 500 and a[0] != 503], answers
    if stop is signal.SIGTERM:
        assert code == 0 and stopped_in < 8
        assert all(status in (201, 202) for status, _, _ in last_wave), last_wave   # they finished
        assert len(acknowledged) == 3 * IN_FLIGHT
    else:
        assert code == -signal.SIGKILL
        assert len(acknowledged) == 2 * IN_FLIGHT                 # the last wave died with it
        assert all(status == "error" for status, _, _ in last_wave), last_wave
    database = server_env["MODERATION_DATABASE_URL"][len("sqlite:///"):]
    assert acknowledged <= stored_ids(database)
    restarted = start_server(server_env, free_port())   # and the file opens cleanly again
    restarted.terminate()
    assert restarted.wait(timeout=30) == 0
