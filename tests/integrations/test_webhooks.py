"""Webhooks end to end: the real app delivering to a receiver on 127.0.0.1."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

from moderation.keys import STORE
from moderation.store.base import open_store
from moderation.webhooks.signing import new_signing_secret, verify

from ..conftest import add_moderator, add_site, auth, comment_payload
from ..review.conftest import run_cli  # noqa: F401  (fixture)
from ..toy_model import HAM_TEXT
from .conftest import eventually

FAST = {"webhook_poll_seconds": 0.01, "webhook_backoff_seconds": 0.1,
        "webhook_backoff_max_seconds": 1.0, "webhook_timeout_seconds": 5.0}
ALL = ["comment.pending", "comment.published", "comment.rejected", "comment.spam"]


async def add_webhook(client, url, site="journal", events=ALL) -> str:
    store = client.app[STORE]
    secret = new_signing_secret()
    await store.add_webhook(site_id=(await store.site_by_name(site)).id, url=url, secret=secret,
                            events=list(events), now=time.time())
    return secret


async def post_comment(client, key, **overrides):
    response = await client.post("/v1/comments", headers=auth(key), json=comment_payload(**overrides))
    return response.status, await response.json()


async def attempts(client) -> list[tuple]:
    return [tuple(r) for r in await client.app[STORE]._fetchall(
        "SELECT attempts, delivered_at IS NOT NULL, last_error FROM outbox ORDER BY id")]


async def all_delivered(client, count: int) -> None:
    """Wait until *count* rows are recorded as delivered (the receiver answers
    a moment before the deliverer writes down its answer)."""
    async def done():
        rows = await attempts(client)
        return len(rows) == count and all(delivered for _, delivered, _ in rows)
    await eventually(done, what=f"{count} deliveries recorded")


async def test_events_are_signed_and_carry_no_email_or_ip(app_client, receiver):
    client = await app_client(**FAST)
    key = await add_site(client, mode="pre", lang="en")
    secret = await add_webhook(client, receiver.url)
    await receiver.start()
    status, answer = await post_comment(client, key, body=HAM_TEXT)
    assert (status, answer["status"]) == (202, "pending")
    moderator = await add_moderator(client)
    response = await client.post(f"/v1/review/comments/{answer['id']}/decision", headers=auth(moderator),
                                 json={"action": "approve", "expected_status": "pending"})
    assert response.status == 200

    got = await receiver.wait_accepted(2)
    events = []
    for request in got:
        headers, body = request.headers, request.body
        timestamp = headers["X-Moderation-Timestamp"]
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
        assert headers["X-Moderation-Signature"] == "sha256=" + expected.hexdigest()
        assert verify(secret, timestamp, body, headers["X-Moderation-Signature"], now=time.time())
        assert not verify(secret, timestamp, body.replace(b"journal", b"journal2"),
                          headers["X-Moderation-Signature"], now=time.time())
        assert headers["Content-Type"] == "application/json"
        payload = json.loads(body)
        assert headers["X-Moderation-Event"] == payload["event"]
        for private in (b"jean.dupont@example.fr", b"203.0.113", b"Mozilla", b"claire"):
            assert private not in body
        events.append((payload["event"], payload["site"], payload["comment"]["id"],
                       payload["comment"]["status"], payload["comment"]["author_name"],
                       payload["comment"]["body"], int(headers["X-Moderation-Delivery"])))
    events.sort(key=lambda e: e[-1])
    await all_delivered(client, 2)
    assert [e[:-1] for e in events] == [
        ("comment.pending", "journal", answer["id"], "pending", "Jean Dupont", HAM_TEXT),
        ("comment.published", "journal", answer["id"], "published", "Jean Dupont", HAM_TEXT)]
    [info] = await client.app[STORE].list_webhooks()
    assert (info.queued, info.delivered, info.dead) == (0, 2, 0)


async def test_only_subscribed_events_are_sent(app_client, receiver):
    client = await app_client(**FAST)
    key = await add_site(client, mode="pre", lang="en")
    await add_webhook(client, receiver.url, events=["comment.spam"])
    await receiver.start()
    await post_comment(client, key, body=HAM_TEXT)                          # pending: not wanted
    status, answer = await post_comment(client, key, body="Another remark", honeypot="bot")
    assert answer["status"] == "spam"
    [got] = await receiver.wait_accepted(1)
    assert json.loads(got.body)["comment"]["id"] == answer["id"]
    await all_delivered(client, 1)


async def test_a_receiver_answering_503_gets_retries_with_backoff(app_client, receiver):
    client = await app_client(**FAST)
    key = await add_site(client, mode="pre", lang="en")
    await add_webhook(client, receiver.url)
    receiver.fail_first = 3
    await receiver.start()
    status, _ = await post_comment(client, key, body=HAM_TEXT)
    assert status == 202
    await receiver.wait_accepted(1)
    await all_delivered(client, 1)
    arrivals = [r.at for r in receiver.requests]
    assert len(arrivals) == 4
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    # Each wait is at least half of backoff * 2 ** (n - 1) (jitter takes up to half away).
    for n, gap in enumerate(gaps, start=1):
        assert gap >= 0.5 * 0.1 * 2 ** (n - 1) * 0.95, gaps
    assert {r.body for r in receiver.requests} == {receiver.requests[0].body}   # same event
    assert await attempts(client) == [(4, 1, "HTTP 503")]


async def test_a_receiver_down_for_a_while_gets_everything_once_up(app_client, receiver):
    client = await app_client(**FAST)
    key = await add_site(client, mode="pre", lang="en")
    await add_webhook(client, receiver.url)          # nothing listens there yet: refused
    started = time.monotonic()
    for n in range(3):
        status, _ = await post_comment(client, key, body=f"{HAM_TEXT} ({n})")
        assert status == 202
    assert time.monotonic() - started < 2.0          # the intake never waits on delivery

    async def retried():
        rows = await attempts(client)
        return len(rows) == 3 and all(a >= 2 and not done and err for a, done, err in rows)
    await eventually(retried, what="failed attempts against the closed port")
    [info] = await client.app[STORE].list_webhooks()
    assert info.queued == 3 and info.delivered == 0 and info.last_error

    await receiver.start()
    got = await receiver.wait_accepted(3)
    assert sorted(json.loads(r.body)["comment"]["body"] for r in got) == [
        f"{HAM_TEXT} ({n})" for n in range(3)]
    await all_delivered(client, 3)
    [info] = await client.app[STORE].list_webhooks()
    assert (info.queued, info.delivered, info.dead, info.last_error) == (0, 3, 0, "")


async def test_the_intake_answers_while_a_receiver_hangs(app_client, receiver):
    client = await app_client(**{**FAST, "webhook_timeout_seconds": 30.0})
    key = await add_site(client, mode="pre", lang="en")
    await add_webhook(client, receiver.url)
    receiver.hang = True
    await receiver.start()
    await post_comment(client, key, body=HAM_TEXT)
    await eventually(lambda: _true(len(receiver.requests) == 1), what="the first delivery")

    started = time.monotonic()
    status, answer = await post_comment(client, key, body="A second remark on the market.")
    elapsed = time.monotonic() - started
    assert status == 202 and elapsed < 1.0, elapsed
    # The hanging delivery holds one slot; the second event goes out beside it.
    await eventually(lambda: _true(len(receiver.requests) == 2), what="the second delivery")
    assert receiver.accepted == [] and not receiver.release.is_set()

    receiver.release.set()
    await receiver.wait_accepted(2)
    await all_delivered(client, 2)
    assert [a for a, _, _ in await attempts(client)] == [1, 1]


async def _true(value: bool) -> bool:
    return value


async def test_the_event_is_written_with_the_comment_before_the_answer(app_client, settings_for):
    client = await app_client(webhook_poll_seconds=0.0)       # no deliverer: the outbox only fills
    key = await add_site(client, mode="pre", lang="en")
    await add_webhook(client, "http://127.0.0.1:9/never")
    status, answer = await post_comment(client, key, body=HAM_TEXT)
    assert status == 202
    status, _ = await post_comment(client, key, body="A reply", parent_id=999_999)
    assert status == 422                                       # refused: no comment, no event

    other = open_store(settings_for().database_url)            # another process, same database
    await other.open()
    try:
        [delivery] = await other.claim_deliveries(now=time.time() + 1, lease_until=time.time() + 60,
                                                  lease_token="t", limit=10)
    finally:
        await other.close()
    assert (delivery.event, delivery.status, delivery.comment.id) == (
        "comment.pending", "pending", answer["id"])


async def test_cli_adds_lists_redelivers_and_removes(client, run_cli, capsys):
    await add_site(client, mode="pre", lang="en")
    assert await run_cli("webhook", "add", "journal", "https://hooks.example/in",
                         "--event", "comment.published", "--event", "comment.spam") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    secret = lines[-1]
    assert secret.startswith("whsec_") and "comment.published, comment.spam" in lines[0]
    [hook] = await client.app[STORE].list_webhooks()
    assert hook.webhook.events == ("comment.published", "comment.spam")

    assert await run_cli("webhook", "list") == 0
    out = capsys.readouterr().out
    assert "https://hooks.example/in" in out and secret not in out
    assert await run_cli("webhook", "list", "--site", "journal") == 0
    assert await run_cli("webhook", "redeliver", str(hook.webhook.id)) == 0
    assert "0 dead deliveries queued again" in capsys.readouterr().out
    assert await run_cli("webhook", "add", "nowhere", "https://hooks.example/in") == 1
    assert await run_cli("webhook", "add", "journal", "ftp://hooks.example/in") == 2
    assert await run_cli("webhook", "remove", str(hook.webhook.id)) == 0
    assert await run_cli("webhook", "remove", str(hook.webhook.id)) == 1
    assert await client.app[STORE].list_webhooks() == []
    assert await run_cli("purge") == 0
    assert "webhook deliveries older than 7 days" in capsys.readouterr().out
