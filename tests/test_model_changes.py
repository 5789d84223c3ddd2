"""Shadow a candidate, compare, what-if, promote, roll back: through the real
server with two workers and the real CLI, on SQLite.

The live model is the English toy; the candidate is the bilingual toy, which
also decides French: on French comments the live model sends everything to
review (language_unsupported) where the candidate publishes the ham and holds
the spam."""
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp
import pytest

from .conftest import comment_payload
from .server import cli, free_port, start_server
from .toy_model import (BILINGUAL_VERSION, FRENCH_HAM_TEXT, FRENCH_SPAM_TEXT, HAM_TEXT, SPAM_TEXT,
                        TOY_VERSION, build_bilingual_toy_models)

pytestmark = pytest.mark.slow


def run(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "moderation", *args], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def models(tmp_path, toy_models_dir):
    """The English toy, live, and the bilingual toy beside it (not live)."""
    folder = tmp_path / "models"
    shutil.copytree(toy_models_dir, folder)
    with tempfile.TemporaryDirectory() as scratch:
        build_bilingual_toy_models(Path(scratch))
        for path in Path(scratch).glob(f"{BILINGUAL_VERSION}.*"):
            shutil.copy(path, folder / path.name)
    return folder


async def post_all(port, key, texts):
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
        async def one(i, text):
            payload = comment_payload(body=f"{text} ({i})", author={"name": "R", "email": f"r{i}@example.org"})
            async with session.post(f"http://127.0.0.1:{port}/v1/comments", json=payload) as answer:
                assert answer.status in (201, 202), await answer.text()
                return await answer.json()
        return await asyncio.gather(*(one(i, t) for i, t in enumerate(texts)))


async def call(port, method, path, token, body=None):
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
        async with session.request(method, f"http://127.0.0.1:{port}{path}", json=body) as answer:
            return answer.status, await answer.json()


async def versions_served(port, attempts=12):
    seen = set()
    for _ in range(attempts):   # a new connection each time: either worker may answer
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/readyz") as answer:
                seen.add((await answer.json())["model_version"])
    return seen


def test_shadow_compare_promote_rollback_with_two_workers(server_env, models):
    server_env.update(MODERATION_WORKERS="2", MODERATION_MODEL_DIR=str(models))
    cli(server_env, "init")
    key = cli(server_env, "site", "add", "--name", "journal", "--url", "https://journal.example",
              "--lang", "en", "--mode", "auto")
    admin = cli(server_env, "moderator", "add", "ops", "--role", "admin")
    port = free_port()
    server = start_server(server_env, port)
    try:
        assert run(server_env, "model", "promote").returncode == 1      # nothing shadowed yet
        shadowed = run(server_env, "model", "shadow", str(models / f"{BILINGUAL_VERSION}.json"))
        assert shadowed.returncode == 0, shadowed.stderr
        assert shadowed.stdout.count(f"shadowing {BILINGUAL_VERSION}") == 3   # the line, 2 workers

        texts = [HAM_TEXT] * 4 + [SPAM_TEXT] * 4 + [FRENCH_HAM_TEXT] * 6 + [FRENCH_SPAM_TEXT] * 6
        answers = asyncio.run(post_all(port, key, texts))
        assert {a["model_version"] for a in answers} == {TOY_VERSION}          # the live one decides
        french = answers[8:]
        assert {a["status"] for a in french} == {"pending"}                    # live: unsupported
        decisions = [{"id": a["id"], "action": "approve"} for a in french[:6]]
        decisions += [{"id": a["id"], "action": "spam"} for a in french[6:]]
        for decision in decisions:
            status, _ = asyncio.run(call(port, "POST", f"/v1/review/comments/{decision['id']}/decision",
                                         admin, {"action": decision["action"],
                                                 "expected_status": "pending"}))
            assert status == 200

        # What-if through the database the running server wrote: the labels are French,
        # a language the live model does not decide, so nothing is replayed, and it says so.
        what_if = run(server_env, "thresholds", "what-if", "--site", "journal",
                      "--approve-below", "0.3", "--reject-above", "0.8", "--json")
        assert what_if.returncode == 2 and what_if.stdout == ""
        assert (f"site journal has 0 ham and 0 spam labels scored by model {TOY_VERSION} in the "
                f"languages it decides") in what_if.stderr

        compared = run(server_env, "model", "compare", "--json")
        assert compared.returncode == 0, compared.stderr
        report = json.loads(compared.stdout)
        assert report["candidate"] == BILINGUAL_VERSION and report["shadowing"] is True
        assert report["comments"] == len(texts)
        pairs = {(b["live"], b["candidate"]): b["count"] for b in report["bands"]}
        assert pairs[("review", "publish")] >= 5 and pairs[("review", "spam")] >= 5   # the French
        assert report["labelled"] == {"ham": 6, "spam": 6}
        assert report["live"]["review"]["count"] >= 12
        assert report["candidate_rates"]["spam_published"]["count"] == 0
        assert report["candidate_rates"]["review"]["share"] < report["live"]["review"]["share"]
        status, over_http = asyncio.run(call(port, "GET", "/v1/admin/model/compare?site=journal", admin))
        assert status == 200 and over_http["bands"] == report["bands"]
        table = run(server_env, "model", "compare", "--site", "journal").stdout
        assert "bands (rows: live model, columns: candidate)" in table

        promoted = run(server_env, "model", "promote")
        assert promoted.returncode == 0, promoted.stderr + promoted.stdout
        assert (models / "CURRENT").read_text().strip() == BILINGUAL_VERSION
        assert asyncio.run(versions_served(port)) == {BILINGUAL_VERSION}
        later = asyncio.run(post_all(port, key, [FRENCH_HAM_TEXT]))
        assert later[0]["model_version"] == BILINGUAL_VERSION and later[0]["status"] == "published"

        rolled = run(server_env, "model", "rollback")
        assert rolled.returncode == 0, rolled.stderr
        assert asyncio.run(versions_served(port)) == {TOY_VERSION}
        assert run(server_env, "model", "rollback").returncode == 1              # nothing left to undo

        # A candidate whose file changed after it was shadowed is refused at promote:
        # CURRENT and every worker keep the live model.
        assert run(server_env, "model", "shadow", BILINGUAL_VERSION).returncode == 0
        model_file = models / f"{BILINGUAL_VERSION}.npz"
        model_file.write_bytes(model_file.read_bytes()[:-10] + b"tampered!!")
        failed = run(server_env, "model", "promote")
        assert failed.returncode == 1 and "does not load" in failed.stderr
        assert (models / "CURRENT").read_text().strip() == TOY_VERSION
        assert asyncio.run(versions_served(port)) == {TOY_VERSION}
        status_text = run(server_env, "model", "status").stdout
        assert f"live: {TOY_VERSION}" in status_text and "rollback" in status_text
    finally:
        server.terminate()
        server.wait(timeout=30)
