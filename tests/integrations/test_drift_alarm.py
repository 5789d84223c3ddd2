"""The drift alarm (moderation.services.drift_monitor): PSI of each site's spam
scores and languages against a reference, in /metrics and /readyz, and one
model.drift webhook per episode, in the app (a clock of the test's) and
through the real server with two workers."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import shutil
import sqlite3
import time

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from moderation.domain import Reason, Status
from moderation.keys import DRIFT, MODELS, STORE
from moderation.scoring.drift import SCORE_EDGES, reference_entry
from moderation.scoring.features import ScoringInput
from moderation.scoring.model import current_manifest_path, load_bundle
from moderation.store.base import DriftEpisode
from moderation.webhooks.payload import delivery_body
from moderation.webhooks.signing import new_signing_secret

from ..conftest import add_site
from ..server import cli, free_port, start_server
from ..store.conftest import new_comment
from ..toy_model import HAM_TEXTS, SPAM_TEXT, TOY_VERSION, training_rows

HOUR = 3600.0
SPAM_TEXTS = [text for text, label in zip(*training_rows()) if label == 1]


# -- the payload
def test_a_model_drift_payload_holds_aggregates_only():
    from moderation.store.base import Delivery
    episode = DriftEpisode(id=3, site_id=1, site="journal", started_at=1_767_225_600.0, ended_at=None,
                           reference="traffic", model_version="spam-svm-1", threshold=0.25,
                           score_psi=0.612345, language_psi=None, comments=240, reference_comments=1510)
    delivery = Delivery(id=9, webhook_id=2, url="https://h.example", secret="s", event="model.drift",
                        status="started", occurred_at=episode.started_at, attempts=0, site="journal",
                        comment=None, drift=episode)
    assert json.loads(delivery_body(delivery)) == {
        "event": "model.drift", "occurred_at": "2026-01-01T00:00:00.000Z", "site": "journal",
        "drift": {"episode": 3, "started_at": "2026-01-01T00:00:00.000Z", "ended_at": None,
                  "reference": "traffic", "model_version": "spam-svm-1", "threshold": 0.25,
                  "score_psi": 0.6123, "language_psi": None, "comments": 240,
                  "reference_comments": 1510}}


# -- in the app, with the test's clock
def psi_samples(text: str) -> dict[tuple[str, str, str], float]:
    """(metric, site, reference) -> value of the drift gauges in a scrape."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in ("moderation_score_drift_psi", "moderation_language_drift_psi"):
                found[(sample.name, sample.labels["site"], sample.labels["reference"])] = sample.value
    return found


async def insert(store, site_id, count, *, at, score, language="en", version=TOY_VERSION):
    """*count* comments a second apart from *at*, scored *score* by *version*."""
    for i in range(count):
        await store.insert_comment(new_comment(
            site_id, created_at=at + i, score=score, language=language, model_version=version,
            status=Status.PUBLISHED if score < 0.5 else Status.SPAM, reasons=(Reason.MODEL_HAM,),
            body=f"comment {at} {i}", email=f"reader{i}@example.fr"))


DRIFT_SETTINGS = {"drift_poll_seconds": 3600.0, "drift_window_hours": 1.0, "drift_reference_days": 1.0,
                  "drift_min_comments": 50, "webhook_poll_seconds": 0.0}


async def test_an_episode_starts_is_reported_and_ends_against_earlier_traffic(app_client):
    client = await app_client(**DRIFT_SETTINGS)
    await add_site(client, lang="en")
    store, monitor = client.app[STORE], client.app[DRIFT]
    site = await store.site_by_name("journal")
    secret = new_signing_secret()
    await store.add_webhook(site_id=site.id, url="https://hooks.example/drift", secret=secret,
                            events=["model.drift"], now=time.time())
    clock = [1_800_000_000.0]
    monitor.clock = lambda: clock[0]
    now = clock[0]

    # The site's usual traffic, 2 to 10 hours ago: nothing in the window yet, nothing judged.
    await insert(store, site.id, 100, at=now - 10 * HOUR, score=0.005)
    await insert(store, site.id, 20, at=now - 4 * HOUR, score=0.3)
    await monitor.step()
    assert psi_samples(await (await client.get("/metrics")).text()) == {}
    # The same traffic in the window: no drift.
    await insert(store, site.id, 50, at=now - HOUR / 2, score=0.005)
    await insert(store, site.id, 10, at=now - HOUR / 4, score=0.3)
    await monitor.step()
    samples = psi_samples(await (await client.get("/metrics")).text())
    assert set(samples) == {("moderation_score_drift_psi", "journal", "traffic"),
                            ("moderation_language_drift_psi", "journal", "traffic")}
    assert all(value < 0.05 for value in samples.values()), samples
    assert "drift" not in await (await client.get("/readyz")).json()

    # A burst of spam: the score PSI goes far above 0.25; /readyz stays 200 and says so.
    await insert(store, site.id, 80, at=now - 200, score=0.995)
    await monitor.step()
    samples = psi_samples(await (await client.get("/metrics")).text())
    assert samples[("moderation_score_drift_psi", "journal", "traffic")] > 1.0
    assert samples[("moderation_language_drift_psi", "journal", "traffic")] < 0.05
    ready = await client.get("/readyz")
    assert ready.status == 200
    body = await ready.json()
    drift = body["drift"]["journal"]
    assert (drift["reference"], drift["threshold"], drift["since"]) == ("traffic", 0.25,
                                                                      "2027-01-15T08:00:00.000Z")
    assert drift["score_psi"] > 1.0 and drift["language_psi"] < 0.05
    [delivery] = await store.claim_deliveries(now=now + 1, lease_until=now + 60, lease_token="t", limit=10)
    payload = json.loads(delivery_body(delivery))
    assert payload["event"] == "model.drift" and payload["drift"]["reference"] == "traffic"
    assert payload["drift"]["comments"] == 140 and payload["drift"]["reference_comments"] == 120
    assert payload["drift"]["model_version"] == TOY_VERSION
    assert b"@" not in delivery_body(delivery)
    assert await store.finish_delivery(delivery.id, lease_token="t", now=now + 1, delivered=True,
                                       next_attempt_at=None)

    # Later measures while it lasts send nothing more.
    clock[0] = now + 60
    await monitor.step()
    assert await store.claim_deliveries(now=now + 61, lease_until=now + 120, lease_token="u", limit=10) == []

    # Two hours on, usual traffic again: the spam left the window, and the reference leaves
    # out the episode (from one window before its start), so the episode ends.
    clock[0] = now + 2 * HOUR
    await insert(store, site.id, 50, at=now + 2 * HOUR - 1000, score=0.005)
    await insert(store, site.id, 10, at=now + 2 * HOUR - 900, score=0.3)
    await monitor.step()
    samples = psi_samples(await (await client.get("/metrics")).text())
    assert samples[("moderation_score_drift_psi", "journal", "traffic")] < 0.2
    assert "drift" not in await (await client.get("/readyz")).json()
    [episode] = await store.drift_episodes(since=0)
    assert episode.ended_at == now + 2 * HOUR
    assert await store.claim_deliveries(now=now + 3 * HOUR, lease_until=now + 4 * HOUR,
                                        lease_token="v", limit=10) == []


async def test_another_language_raises_the_language_psi(app_client):
    client = await app_client(**DRIFT_SETTINGS)
    await add_site(client, lang="en")
    store, monitor = client.app[STORE], client.app[DRIFT]
    site = await store.site_by_name("journal")
    now = 1_800_000_000.0
    monitor.clock = lambda: now
    await insert(store, site.id, 100, at=now - 5 * HOUR, score=0.005)
    await insert(store, site.id, 60, at=now - 600, score=0.005, language="de")
    await monitor.step()
    assessment = monitor.sites["journal"]
    assert assessment.language_psi > 5 and assessment.score_psi < 0.05
    assert [e.language_psi for e in await store.drift_episodes(since=0)] == [assessment.language_psi]


@pytest.fixture
def models_with_reference(tmp_path, toy_models_dir):
    """The toy model again, its manifest holding a held-out reference as train.py
    writes it: the toy's scores of 80 % ham and 20 % spam English texts."""
    models = tmp_path / "models"
    shutil.copytree(toy_models_dir, models)
    manifest_path = current_manifest_path(models)
    bundle = load_bundle(manifest_path)
    texts = [HAM_TEXTS[i % len(HAM_TEXTS)] for i in range(80)] + [SPAM_TEXT] * 20
    scores = bundle.predict_proba([ScoringInput(body=t, language="en") for t in texts])
    manifest = json.loads(manifest_path.read_text())
    manifest["reference"] = reference_entry(scores, ["en"] * len(texts))
    manifest_path.write_text(json.dumps(manifest))
    return models, scores


async def test_a_model_with_a_held_out_reference_is_the_reference(app_client, models_with_reference):
    models, scores = models_with_reference
    client = await app_client(model_dir=str(models), drift_reference="auto", **DRIFT_SETTINGS)
    await add_site(client, lang="en")
    store, monitor = client.app[STORE], client.app[DRIFT]
    assert client.app[MODELS].bundle.manifest["reference"]["score_edges"] == list(SCORE_EDGES)
    site = await store.site_by_name("journal")
    now = 1_800_000_000.0
    monitor.clock = lambda: now
    ham, spam = scores[0], scores[-1]
    # No earlier traffic is needed: like the held-out set, 80 % ham and 20 % spam.
    await insert(store, site.id, 80, at=now - 900, score=ham)
    await insert(store, site.id, 20, at=now - 500, score=spam)
    await monitor.step()
    samples = psi_samples(await (await client.get("/metrics")).text())
    assert set(samples) == {("moderation_score_drift_psi", "journal", "model"),
                            ("moderation_language_drift_psi", "journal", "model")}
    assert samples[("moderation_score_drift_psi", "journal", "model")] < 0.05
    await insert(store, site.id, 100, at=now - 300, score=spam)                 # mostly spam now
    await monitor.step()
    assert monitor.sites["journal"].score_psi > 0.25
    drift = (await (await client.get("/readyz")).json())["drift"]["journal"]
    assert drift["reference"] == "model"


async def test_by_default_a_model_s_reference_is_not_used_and_a_wrong_setting_is_refused(
        app_client, models_with_reference, settings_for):
    models, _ = models_with_reference
    client = await app_client(model_dir=str(models), **DRIFT_SETTINGS)      # drift_reference: the default
    await add_site(client, lang="en")
    store, monitor = client.app[STORE], client.app[DRIFT]
    site = await store.site_by_name("journal")
    now = 1_800_000_000.0
    monitor.clock = lambda: now
    await insert(store, site.id, 60, at=now - 3 * HOUR, score=0.005)
    await insert(store, site.id, 60, at=now - 600, score=0.005)
    await monitor.step()
    assert monitor.sites["journal"].reference == "traffic"
    from moderation.services.drift_monitor import DriftMonitor
    with pytest.raises(ValueError, match="MODERATION_DRIFT_REFERENCE"):
        DriftMonitor(store, client.app[MODELS], settings_for(drift_reference="held-out"))


async def test_no_measure_when_switched_off(app_client):
    client = await app_client(drift_poll_seconds=0.0)
    assert client.app.get(DRIFT) is None
    assert psi_samples(await (await client.get("/metrics")).text()) == {}
    assert (await client.get("/readyz")).status == 200


# -- the real server, two workers
WINDOW_SECONDS = 6.0
MIN_COMMENTS = 40


async def post_comments(session, base, key, texts):
    for i, text in enumerate(texts):
        async with session.post(f"{base}/v1/comments", headers={"Authorization": f"Bearer {key}"}, json={
                "thread": {"id": "article-1", "url": "https://journal.example/article-1"},
                "author": {"name": "Reader", "email": f"reader{i}@example.fr"},
                "body": text}) as response:
            assert response.status in (201, 202), await response.text()


async def scrape(session, base) -> dict:
    async with session.get(f"{base}/metrics", headers={"Connection": "close"}) as response:
        return psi_samples(await response.text())


async def readiness(session, base) -> tuple[int, dict]:
    async with session.get(f"{base}/readyz", headers={"Connection": "close"}) as response:
        return response.status, await response.json()


async def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_two_workers_report_a_burst_and_send_one_model_drift(server_env, tmp_path, receiver):
    server_env.update({
        "MODERATION_WORKERS": "2", "MODERATION_WEBHOOK_POLL_SECONDS": "0.05",
        "MODERATION_DRIFT_POLL_SECONDS": "0.2",
        "MODERATION_DRIFT_WINDOW_HOURS": str(WINDOW_SECONDS / 3600),
        "MODERATION_DRIFT_REFERENCE_DAYS": str(120 / 86400),
        "MODERATION_DRIFT_MIN_COMMENTS": str(MIN_COMMENTS)})
    server_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    database = server_env["MODERATION_DATABASE_URL"].removeprefix("sqlite:///")
    await asyncio.to_thread(cli, server_env, "init")
    key = await asyncio.to_thread(cli, server_env, "site", "add", "--name", "journal", "--url",
                                  "https://journal.example", "--lang", "en", "--mode", "auto")
    secret = await asyncio.to_thread(cli, server_env, "webhook", "add", "journal", receiver.url,
                                     "--event", "model.drift")
    await receiver.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = await asyncio.to_thread(start_server, server_env, port)
    # Usual traffic: one comment in ten is spam.
    usual = [SPAM_TEXTS[i % len(SPAM_TEXTS)] if i % 10 == 9 else HAM_TEXTS[i % len(HAM_TEXTS)]
             for i in range(60)]
    try:
        async with aiohttp.ClientSession() as session:
            await wait_until(lambda: _ready(session, base), 30, "the server ready")
            # 1. Usual traffic, then the same again once the first has left the window.
            await post_comments(session, base, key, usual)
            await asyncio.sleep(WINDOW_SECONDS + 1.5)
            await post_comments(session, base, key, usual[:50])
            judged = await wait_until(lambda: _judged(session, base), 10, "a first judgement")
            print(f"\nusual traffic: {judged}")
            assert all(value < 0.1 for value in judged.values()), judged

            # 2. A burst of spam: above 0.25 in every worker's answer; /readyz 200 naming it.
            await post_comments(session, base, key, [SPAM_TEXTS[i % len(SPAM_TEXTS)] for i in range(100)])
            burst = await wait_until(lambda: _above(session, base, 0.25), 10, "PSI above 0.25")
            print(f"burst: {burst}")
            readies = [await readiness(session, base) for _ in range(8)]
            for status, body in readies:
                assert status == 200 and body["drift"]["journal"]["reference"] == "traffic", body
                assert body["drift"]["journal"]["score_psi"] > 0.25
            print(f"/readyz: {readies[0][1]}")
            [got] = await receiver.wait_accepted(1)
            timestamp = got.headers["X-Moderation-Timestamp"]
            expected = hmac.new(secret.encode(), timestamp.encode() + b"." + got.body, hashlib.sha256)
            assert got.headers["X-Moderation-Signature"] == "sha256=" + expected.hexdigest()
            assert got.headers["X-Moderation-Event"] == "model.drift"
            payload = json.loads(got.body)
            print(f"webhook: {payload}")
            assert payload["site"] == "journal" and payload["drift"]["reference"] == "traffic"
            assert payload["drift"]["score_psi"] > 0.25 and b"@" not in got.body

            # 3. Usual traffic again once the burst has left the window: the episode ends.
            await asyncio.sleep(WINDOW_SECONDS + 0.5)
            await post_comments(session, base, key, usual[:50])
            calm = await wait_until(lambda: _calm(session, base), 10, "the episode's end")
            print(f"usual again: {calm}")
            assert all(value < 0.2 for value in calm.values()), calm
            await asyncio.sleep(1.0)     # a few more measures in both workers
            assert len(receiver.requests) == 1, [r.body for r in receiver.requests]
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 30)
    with sqlite3.connect(database) as db:
        episodes = db.execute("SELECT ended_at IS NOT NULL, reference FROM drift_episodes").fetchall()
        rows = db.execute("SELECT event, delivered_at IS NOT NULL FROM outbox").fetchall()
    assert episodes == [(1, "traffic")] and rows == [("model.drift", 1)]


async def _ready(session, base):
    try:
        return (await readiness(session, base))[0] == 200
    except aiohttp.ClientError:
        return False


async def _judged(session, base):
    samples = {k: v for k, v in (await scrape(session, base)).items() if k[1] == "journal"}
    return samples if len(samples) == 2 else None


async def _above(session, base, threshold):
    """The samples once every one of 4 scrapes (either worker) shows the score PSI above."""
    scrapes = [await scrape(session, base) for _ in range(4)]
    key = ("moderation_score_drift_psi", "journal", "traffic")
    if all(s.get(key, 0) > threshold for s in scrapes):
        return scrapes[-1]
    return None


async def _calm(session, base):
    readies = [await readiness(session, base) for _ in range(4)]
    if all(status == 200 and "drift" not in body for status, body in readies):
        return await scrape(session, base)
    return None
