"""Ops: swap the model without a restart (admin endpoint, SIGHUP), keep the last
good model when a new one is refused, and re-score pending comments."""
from __future__ import annotations

import asyncio
import shutil
import signal

import aiohttp
import pytest

from .conftest import add_moderator, add_site, auth, comment_payload
from .server import cli, free_port, start_server
from .toy_model import HAM_TEXT, SPAM_TEXT, TOY_VERSION, write_toy_version


@pytest.fixture
def models_dir(tmp_path, toy_models_dir):
    """A private copy of the toy models directory, free to change."""
    target = tmp_path / "models"
    shutil.copytree(toy_models_dir, target)
    return target


async def test_admin_reloads_a_new_model(app_client, models_dir):
    client = await app_client(model_dir=str(models_dir))
    admin = await add_moderator(client, name="ops", role="admin")
    moderator = await add_moderator(client, name="claire")
    write_toy_version(models_dir, "toy-20260202T000000Z")
    assert (await client.post("/v1/admin/model/reload")).status == 401
    assert (await client.post("/v1/admin/model/reload", headers=auth(moderator))).status == 403
    response = await client.post("/v1/admin/model/reload", headers=auth(admin))
    assert response.status == 200
    assert (await response.json())["model_version"] == "toy-20260202T000000Z"
    ready = await (await client.get("/readyz")).json()
    assert ready["model_version"] == "toy-20260202T000000Z"


async def test_a_tampered_model_is_refused_and_the_old_one_kept(app_client, models_dir):
    client = await app_client(model_dir=str(models_dir))
    admin = await add_moderator(client, name="ops", role="admin")
    new = write_toy_version(models_dir, "toy-20260303T000000Z")
    with open(new, "ab") as handle:
        handle.write(b"\0")
    response = await client.post("/v1/admin/model/reload", headers=auth(admin))
    assert response.status == 409
    body = await response.json()
    assert body["error"]["code"] == "model_reload_failed"
    assert "tampered" in body["error"]["fields"][0]["detail"]
    key = await add_site(client, mode="auto", lang="en")
    posted = await client.post("/v1/comments", json=comment_payload(body=HAM_TEXT), headers=auth(key))
    assert (await posted.json())["model_version"] == TOY_VERSION


async def test_with_an_hmac_key_an_unsigned_model_is_not_loaded(app_client, models_dir):
    client = await app_client(model_dir=str(models_dir), model_hmac_key="a-secret-key")
    ready = await client.get("/readyz")
    assert ready.status == 503
    problem = (await ready.json())["error"]["fields"][0]
    assert problem["field"] == "model" and "not signed" in problem["detail"]


def test_sighup_swaps_the_model_of_a_running_server(tmp_path, models_dir, server_env):
    server_env["MODERATION_MODEL_DIR"] = str(models_dir)
    port = free_port()
    server = start_server(server_env, port)
    try:
        assert asyncio.run(ready_version(port)) == TOY_VERSION
        write_toy_version(models_dir, "toy-20260404T000000Z")
        server.send_signal(signal.SIGHUP)
        assert asyncio.run(ready_version(port, wait_for="toy-20260404T000000Z")) == "toy-20260404T000000Z"
        (models_dir / "CURRENT").write_text("no-such-model\n")
        server.send_signal(signal.SIGHUP)
        assert asyncio.run(ready_version(port)) == "toy-20260404T000000Z"
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=30)


async def ready_version(port, wait_for=None, attempts=100):
    async with aiohttp.ClientSession() as session:
        for _ in range(attempts):
            async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                version = (await response.json()).get("model_version")
            if wait_for is None or version == wait_for:
                return version
            await asyncio.sleep(0.05)
    return version


def test_rescore_scores_pending_comments_with_the_current_model(tmp_path, toy_models_dir, server_env):
    empty = tmp_path / "empty-models"
    empty.mkdir()
    server_env["MODERATION_MODEL_DIR"] = str(empty)
    cli(server_env, "init")   # the CLI creates no database but on init (or serve)
    key = cli(server_env, "site", "add", "--name", "blog", "--url", "https://blog.example",
              "--lang", "en", "--mode", "auto")
    port = free_port()
    server = start_server(server_env, port)
    try:
        posted = asyncio.run(post_texts(port, key, [HAM_TEXT, SPAM_TEXT]))
        assert [p["reasons"] for p in posted] == [["no_model"], ["no_model"]]
    finally:
        server.terminate()
        server.wait(timeout=30)
    server_env["MODERATION_MODEL_DIR"] = str(toy_models_dir)
    assert cli(server_env, "rescore") == "rescored 2 pending comments; 0 moved"
    assert cli(server_env, "rescore", "--apply") == "rescored 2 pending comments; 2 moved"
    assert cli(server_env, "rescore", "--apply") == "rescored 0 pending comments; 0 moved"
    port = free_port()
    server = start_server(server_env, port)
    try:
        statuses = asyncio.run(get_statuses(port, key, [p["id"] for p in posted]))
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert statuses == ["published", "spam"]


async def post_texts(port, key, texts):
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
        results = []
        for n, text in enumerate(texts):
            payload = comment_payload(body=text, author={"name": "R", "email": f"r{n}@example.org"})
            async with session.post(f"http://127.0.0.1:{port}/v1/comments", json=payload) as response:
                results.append(await response.json())
        return results


async def get_statuses(port, key, ids):
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
        statuses = []
        for comment_id in ids:
            async with session.get(f"http://127.0.0.1:{port}/v1/comments/{comment_id}") as response:
                statuses.append((await response.json())["status"])
        return statuses
