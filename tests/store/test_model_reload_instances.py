"""Two service instances on one PostgreSQL database, each with its own models
directory, as two hosts behind a load balancer: one `POST /v1/admin/model/reload`
through either reloads both, and a model one host refuses is named."""
import json
import shutil

import pytest

from moderation.keys import MODEL_SYNC
from moderation.app import create_app

from ..conftest import add_moderator, auth
from ..toy_model import TOY_VERSION, write_toy_version

pytestmark = pytest.mark.postgres
NEW_VERSION = "toy-20260707T000000Z"


@pytest.fixture
async def hosts(postgres_url, aiohttp_client, settings_for, toy_models_dir, tmp_path):
    """Two test clients on one database, each loading its own copy of the models
    (the apps stop before the database's schema is dropped: they delete their rows)."""
    clients, dirs = [], []
    for name in ("host-a", "host-b"):
        models = tmp_path / name
        shutil.copytree(toy_models_dir, models)
        settings = settings_for(database_url=postgres_url, model_dir=str(models),
                                model_reload_wait_seconds=5.0)
        clients.append(await aiohttp_client(create_app(settings)))
        dirs.append(models)
    return clients, dirs


def tamper(models, version):
    """Append a byte to the model file *version*'s manifest names (its sha256 no longer matches)."""
    manifest = json.loads((models / f"{version}.json").read_text())
    with open(models / manifest["model_file"], "ab") as handle:
        handle.write(b"\0")


async def ready_version(client):
    return (await (await client.get("/readyz")).json())["model_version"]


async def test_a_reload_through_one_instance_reloads_the_other(hosts):
    (first, second), dirs = hosts
    admin = await add_moderator(first, name="ops", role="admin")
    for models in dirs:
        write_toy_version(models, NEW_VERSION)
    response = await second.post("/v1/admin/model/reload", headers=auth(admin))
    body = await response.json()
    assert response.status == 200, body
    assert {w["worker"]: (w["status"], w["model_version"]) for w in body["workers"]} == {
        client.app[MODEL_SYNC].worker: ("loaded", NEW_VERSION) for client in (first, second)}
    assert [await ready_version(c) for c in (first, second)] == [NEW_VERSION, NEW_VERSION]


async def test_a_model_one_host_refuses_is_named_and_the_other_host_loads_it(hosts):
    (first, second), (good, bad) = hosts
    admin = await add_moderator(first, name="ops", role="admin")
    write_toy_version(good, NEW_VERSION)
    write_toy_version(bad, NEW_VERSION)
    tamper(bad, NEW_VERSION)
    response = await first.post("/v1/admin/model/reload", headers=auth(admin))
    body = await response.json()
    assert response.status == 409, body
    refused = second.app[MODEL_SYNC].worker
    assert [(f["code"], f["detail"].split(": ", 1)[0]) for f in body["error"]["fields"]] == [
        ("model_refused", refused)]
    assert {w["worker"]: (w["status"], w["model_version"]) for w in body["error"]["workers"]} == {
        first.app[MODEL_SYNC].worker: ("loaded", NEW_VERSION), refused: ("failed", TOY_VERSION)}
    assert [await ready_version(c) for c in (first, second)] == [NEW_VERSION, TOY_VERSION]
