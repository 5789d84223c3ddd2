"""Surge mode end to end: `moderation serve --workers 2` with the toy model, a
site with a week of ordinary history, ordinary traffic on several threads, then
a burst on one thread. Its comments from new authors and those the model is
unsure of go to review with reason `surge`, clear spam stays spam and a known
author's clear ham is published, while the other threads are unaffected; the
state is shared by both workers (a new connection per request); /moderate
shows the badge; after the configured time the thread is back to normal by
itself, and the surge's start and end are on record."""
import asyncio
import json
import re
import time

import aiohttp
import pytest

from moderation.domain import NewComment, Reason, Status, ThreadIn
from moderation.guard import body_fingerprint
from moderation.store.base import open_store

from .conftest import comment_payload
from .server import cli, free_port, read_log, start_server, wait_for_workers
from .toy_model import HAM_TEXT, SPAM_TEXT

pytestmark = pytest.mark.slow

UNSURE_TEXT = "Well written. Subscribe now for free gift cards"   # the toy model: between its bands
WINDOW, SURGE = 6.0, 8.0
SETTINGS = {"MODERATION_WORKERS": "2", "MODERATION_LOG_LEVEL": "INFO", "MODERATION_LOG_FORMAT": "json",
            "MODERATION_SURGE_FACTOR": "4", "MODERATION_SURGE_WINDOW_SECONDS": str(WINDOW),
            "MODERATION_SURGE_MIN_COMMENTS": "6", "MODERATION_SURGE_BASELINE_DAYS": "1",
            "MODERATION_SURGE_BASELINE_MIN_WINDOWS": "5", "MODERATION_SURGE_SECONDS": str(SURGE)}
KNOWN = "known.reader@example.org"


async def seed_history(url: str) -> int:
    """A day of ordinary traffic an hour ago: ten threads each got 2 comments
    in one window (the baseline: 2, so the threshold is max(6, 4 x 2) = 8),
    and a known author has a published comment."""
    store = open_store(url)
    await store.open()
    try:
        [site] = await store.list_sites()
        start = (time.time() - 3600) // WINDOW * WINDOW
        for k in range(10):
            for i in range(2):
                email = KNOWN if (k, i) == (0, 0) else f"old{k}-{i}@example.org"
                body = f"{HAM_TEXT} (old {k} {i})"
                await store.insert_comment(NewComment(
                    site_id=site.id, thread=ThreadIn(id=f"old-{k}"), parent_id=None, author_name="Old",
                    author_email=email, body=body, body_hash=body_fingerprint(body), language="en",
                    spam_score=0.05, model_version="toy", status=Status.PUBLISHED,
                    reasons=(Reason.MODEL_HAM,), ip_prefix="", ip_full="", user_agent="", referrer="",
                    created_at=start - k * 600 + 1 + i))
        return site.id
    finally:
        await store.close()


async def post(port, key, thread, body, email):
    """One comment, on a new connection (either worker may take it)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        async with session.post(f"http://127.0.0.1:{port}/v1/comments", headers={"Authorization": f"Bearer {key}"},
                                json=comment_payload(thread={"id": thread}, body=body,
                                                     author={"name": "R", "email": email})) as answer:
            found = await answer.json()
            assert answer.status in (201, 202), found
            return found


async def review_detail(port, token, comment_id):
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
        async with session.get(f"http://127.0.0.1:{port}/v1/review/comments/{comment_id}") as answer:
            assert answer.status == 200
            return await answer.json()


async def moderate_page(port, token, language):
    """/moderate as a signed-in browser sees it."""
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{base}/moderate/signin") as page:
            signin = page.cookies["moderation_signin"].value
        async with session.post(f"{base}/moderate/signin", allow_redirects=False,
                                data={"csrf_token": signin, "token": token}) as done:
            assert done.status == 303
        async with session.get(f"{base}/moderate?limit=100", headers={"Accept-Language": language}) as page:
            assert page.status == 200
            return await page.text()


def items(html):
    """{comment id: its queue item's HTML}."""
    parts = re.split(r'(?=<li class="item" id="c\d+")', html)
    return {int(re.match(r'<li class="item" id="c(\d+)"', p).group(1)): p
            for p in parts if p.startswith('<li class="item"')}


def test_a_burst_on_one_thread_makes_it_stricter_for_a_while_across_workers(server_env, tmp_path):
    server_env.update(SETTINGS)
    cli(server_env, "init")
    key = cli(server_env, "site", "add", "--name", "blog", "--url", "https://blog.example",
              "--lang", "en", "--mode", "auto")
    token = cli(server_env, "moderator", "add", "ada", "--role", "admin")
    site_id = asyncio.run(seed_history(server_env["MODERATION_DATABASE_URL"]))
    port = free_port()
    server = start_server(server_env, port)
    try:
        wait_for_workers(server, port, 2)
        asyncio.run(scenario(server, port, key, token, site_id, server_env["MODERATION_DATABASE_URL"]))
    finally:
        server.terminate()
        server.wait(timeout=30)


async def scenario(server, port, key, token, site_id, url):
    # -- ordinary traffic on several threads: decided as usual
    for n in range(3):
        for thread in ("calm-1", "calm-2", "calm-3"):
            answer = await post(port, key, thread, f"{HAM_TEXT} ({thread} {n})", f"{thread}-{n}@example.org")
            assert (answer["status"], answer["reasons"]) == ("published", ["model_ham"])
    unsure_calm = await post(port, key, "calm-1", UNSURE_TEXT, "unsure.calm@example.org")
    assert (unsure_calm["status"], unsure_calm["reasons"]) == ("pending", ["model_uncertain"])

    # -- a burst on one thread, from new authors: the 8th comment reaches the threshold
    burst = [await post(port, key, "hot", f"{HAM_TEXT} (hot {n})", f"burst{n}@example.org")
             for n in range(12)]
    assert [(a["status"], a["reasons"]) for a in burst[:7]] == [("published", ["model_ham"])] * 7
    assert [(a["status"], a["reasons"]) for a in burst[7:]] == [("pending", ["model_ham", "surge"])] * 5
    # in the surge: the model unsure -> review; clear spam -> spam; a known author's ham -> published
    unsure = await post(port, key, "hot", UNSURE_TEXT, "unsure.hot@example.org")
    assert (unsure["status"], unsure["reasons"]) == ("pending", ["model_uncertain", "surge"])
    spam = await post(port, key, "hot", SPAM_TEXT, "spammer@example.org")
    assert (spam["status"], spam["reasons"]) == ("spam", ["model_spam"])
    known = await post(port, key, "hot", f"{HAM_TEXT} (known)", KNOWN.upper())   # any case: one identity
    assert (known["status"], known["reasons"]) == ("published", ["model_ham"])
    # the other threads are unaffected, new authors and all
    elsewhere = await post(port, key, "calm-2", f"{HAM_TEXT} (meanwhile)", "newcomer@example.org")
    assert (elsewhere["status"], elsewhere["reasons"]) == ("published", ["model_ham"])

    # -- what moderators see: the reason in words, the surge's figures, the badge
    held = burst[7]["id"]
    detail = await review_detail(port, token, held)
    assert detail["reasons"] == ["model_ham", "surge"] and detail["surge"] is not None
    [surge] = detail["surges"]
    assert surge["active"] is True and surge["ended_at"] is None
    assert (surge["comments"], surge["threshold"], surge["baseline"], surge["window_seconds"]) == (
        8, 8, 2.0, WINDOW)
    assert detail["explanation"]["surge"]["text"]["en"].startswith(
        "Surge on this thread: 8 comments in 6 s (the site's busy threads usually get 2; threshold 8).")
    assert detail["explanation"]["surge"]["text"]["fr"].startswith("Afflux sur ce fil : 8 commentaires en 6 s")
    assert detail["history"][0]["reason"] == "model_ham,surge"
    calm_detail = await review_detail(port, token, unsure_calm["id"])
    assert (calm_detail["surge"], calm_detail["surges"], calm_detail["explanation"]["surge"]) == (None, [], None)
    for language, badge in (("fr", "Fil en afflux"), ("en", "Thread surging")):
        queue = items(await moderate_page(port, token, language))
        hot_pending = {a["id"] for a in burst[7:]} | {unsure["id"]}
        assert hot_pending <= set(queue) and unsure_calm["id"] in queue
        assert all(badge in queue[i] and 'class="chip surge"' in queue[i] for i in hot_pending)
        assert badge not in queue[unsure_calm["id"]]

    # -- then it switches back by itself, and its end is recorded
    store = open_store(url)
    await store.open()
    try:
        deadline = time.monotonic() + SURGE + 15
        while True:
            [row] = await store.thread_surges(site_id, "hot")
            if row.ended_at is not None or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.25)
        assert row.ended_at is not None and row.ended_at == row.until and row.started_at < row.until
        assert time.time() >= row.until
    finally:
        await store.close()
    await asyncio.sleep(max(0.0, row.until + 0.2 - time.time()))
    after = await post(port, key, "hot", f"{HAM_TEXT} (after)", "after.surge@example.org")
    assert (after["status"], after["reasons"]) == ("published", ["model_ham"])
    detail = await review_detail(port, token, held)
    [surge] = detail["surges"]
    assert detail["surge"] is None and surge["active"] is False and surge["ended_at"] is not None
    assert detail["explanation"]["surge"]["text"]["en"].startswith("Surge on this thread from ")
    assert "waited for a moderator" in detail["explanation"]["surge"]["text"]["en"]

    # -- both workers served the intake, and each logged its part
    records = [json.loads(line) for line in read_log(server).splitlines() if line.startswith("{")]
    posting = {r["pid"] for r in records if r.get("path") == "/v1/comments"}
    assert len(posting) == 2, posting
    messages = [r["message"] for r in records]
    assert sum(m.startswith("surge mode on for thread 'hot'") for m in messages) == 1
    assert sum(m.startswith("surge mode off for thread 'hot'") for m in messages) == 1
