"""The store's side of webhooks: events enqueued atomically with every status
change, leases, retries, dead rows; and the labels sites send. Run on SQLite and
on PostgreSQL (the store contract suite's ``database_url`` fixture)."""
from __future__ import annotations

import asyncio

import pytest

from moderation.domain import NewComment, Reason, Status, ThreadIn
from moderation.guard import body_fingerprint
from moderation.store.base import DecisionRequest, IdempotencyRecord, open_store

from ..store.conftest import postgres_server, postgres_url  # noqa: F401  (fixtures)

T0 = 1_700_000_000.0
ALL = ["comment.pending", "comment.published", "comment.rejected", "comment.spam"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """An empty database on each backend (PostgreSQL: a fresh schema)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'webhooks.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
async def store(database_url):
    opened = open_store(database_url)
    await opened.open()
    yield opened
    await opened.close()


async def new_site(store, name="journal"):
    return await store.create_site(name=name, url=f"https://{name}.example", lang="en", mode="auto",
                                   key_hash=f"hash-{name}", now=T0)


def comment(site_id, *, status=Status.PENDING, body="A fair point about the budget.",
            email="reader@example.fr", parent_id=None, created_at=T0) -> NewComment:
    return NewComment(
        site_id=site_id, thread=ThreadIn(id="article-1"), parent_id=parent_id, author_name="Reader",
        author_email=email, body=body, body_hash=body_fingerprint(body), language="en",
        spam_score=0.5, model_version="m1", status=status, reasons=(Reason.MODEL_UNCERTAIN,),
        ip_prefix="203.0.113.0/24", ip_full="203.0.113.7", user_agent="UA", referrer="",
        created_at=created_at)


async def outbox(store) -> list[tuple]:
    """Every outbox row: (webhook id, comment id, event, status, occurred_at)."""
    sql = "SELECT webhook_id, comment_id, event, status, occurred_at FROM outbox ORDER BY id"
    rows = await (store._fetch(sql, {}) if hasattr(store, "_fetch") else store._fetchall(sql))
    return [tuple(r) for r in rows]


async def test_every_status_change_enqueues_for_subscribed_webhooks_only(store):
    site, other = await new_site(store), await new_site(store, "blog")
    every = await store.add_webhook(site_id=site.id, url="http://127.0.0.1:9/a", secret="whsec_a",
                                    events=ALL, now=T0)
    published = await store.add_webhook(site_id=site.id, url="http://127.0.0.1:9/b",
                                        secret="whsec_b", events=["comment.published"], now=T0)
    first = (await store.insert_comment(comment(site.id))).comment_id
    await store.insert_comment(comment(other.id))                      # no webhook: no event
    assert await outbox(store) == [(every.id, first, "comment.pending", "pending", T0)]

    approve = DecisionRequest(first, "pending", "published", "claire", "approve")
    outcomes = await store.apply_decisions([approve, approve], now=T0 + 10)
    assert [o.outcome for o in outcomes] == ["decided", "conflict"]    # the conflict enqueues nothing
    assert (await outbox(store))[1:] == [(every.id, first, "comment.published", "published", T0 + 10),
                                         (published.id, first, "comment.published", "published",
                                          T0 + 10)]

    second = (await store.insert_comment(comment(site.id, body="Visit my shop"))).comment_id
    assert not await store.rescore(second, spam_score=0.5, model_version="m2", new_status=None,
                                   reasons=[], now=T0 + 20)             # score only: no event
    assert await store.rescore(second, spam_score=0.95, model_version="m2", new_status="spam",
                               reasons=["model_spam"], now=T0 + 30)
    assert (await outbox(store))[3:] == [(every.id, second, "comment.pending", "pending", T0),
                                         (every.id, second, "comment.spam", "spam", T0 + 30)]

    assert await store.erase_person("reader@example.fr", actor="ada", now=T0 + 40)
    # the published comment becomes rejected; the spam one keeps its status: no event
    assert (await outbox(store))[5:] == [(every.id, first, "comment.rejected", "rejected", T0 + 40)]


async def test_a_change_that_fails_or_rolls_back_leaves_no_event(store):
    site = await new_site(store)
    await store.add_webhook(site_id=site.id, url="http://127.0.0.1:9/", secret="whsec_a",
                            events=ALL, now=T0)
    # Two inserts in one group commit: the one whose parent does not exist fails alone.
    good, bad = await asyncio.gather(
        store.insert_comment(comment(site.id)),
        store.insert_comment(comment(site.id, body="orphan", parent_id=999_999)),
        return_exceptions=True)
    assert isinstance(bad, Exception)
    assert [r[1:3] for r in await outbox(store)] == [(good.comment_id, "comment.pending")]
    # A replayed idempotency key writes nothing, so no second event.
    keyed = IdempotencyRecord("key-1", "hash", 202, {"status": "pending"})
    first = await store.insert_comment(comment(site.id, body="keyed"), keyed)
    replay = await store.insert_comment(comment(site.id, body="keyed"), keyed)
    assert replay.replay is not None and replay.comment_id == first.comment_id
    assert len(await outbox(store)) == 2


async def test_a_status_change_rolled_back_takes_its_event_with_it(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'rollback.db'}")
    await store.open()
    try:
        site = await new_site(store)
        await store.add_webhook(site_id=site.id, url="http://127.0.0.1:9/", secret="whsec_a",
                                events=ALL, now=T0)
        first = await store.insert_comment(comment(site.id))
        await _crash_while_publishing(store, first.comment_id)
        assert len(await outbox(store)) == 1
        assert (await store.get_comment(first.comment_id)).status is Status.PENDING
    finally:
        await store.close()


async def _crash_while_publishing(store, comment_id):
    with pytest.raises(RuntimeError):
        async with store._transaction() as db:
            await db.execute("UPDATE comments SET status = 'published', updated_at = ? WHERE id = ?",
                             (T0 + 5, comment_id))
            assert len(await (await db.execute("SELECT id FROM outbox")).fetchall()) == 2
            raise RuntimeError("crash before COMMIT")


async def test_leases_keep_two_processes_from_sending_one_row(store, database_url):
    site = await new_site(store)
    hook = await store.add_webhook(site_id=site.id, url="http://127.0.0.1:9/", secret="whsec_a",
                                   events=ALL, now=T0)
    ids = [(await store.insert_comment(comment(site.id, body=f"text {i}"))).comment_id
           for i in range(2)]
    other = open_store(database_url)        # a second worker process's store
    await other.open()
    try:
        assert await store.claim_deliveries(now=T0 - 1, lease_until=T0 + 30, lease_token="a",
                                            limit=10) == []        # not due yet
        mine = await store.claim_deliveries(now=T0 + 1, lease_until=T0 + 31, lease_token="a", limit=10)
        assert [d.comment.id for d in mine] == ids
        assert (mine[0].url, mine[0].secret, mine[0].site, mine[0].attempts) == (
            hook.url, "whsec_a", "journal", 0)
        assert await other.claim_deliveries(now=T0 + 2, lease_until=T0 + 32, lease_token="b",
                                            limit=10) == []
        assert await store.finish_delivery(mine[0].id, lease_token="a", now=T0 + 3, delivered=True,
                                           next_attempt_at=None)
        # Process "a" stalls past its lease: "b" takes the row over, and "a" can no longer record.
        theirs = await other.claim_deliveries(now=T0 + 40, lease_until=T0 + 70, lease_token="b",
                                              limit=10)
        assert [d.id for d in theirs] == [mine[1].id]
        assert not await store.finish_delivery(mine[1].id, lease_token="a", now=T0 + 41,
                                               delivered=True, next_attempt_at=None)
        assert await other.finish_delivery(mine[1].id, lease_token="b", now=T0 + 42, delivered=False,
                                           next_attempt_at=T0 + 100, error="HTTP 503")
        assert await other.claim_deliveries(now=T0 + 50, lease_until=T0 + 80, lease_token="c",
                                            limit=10) == []        # waits for its backoff
        again = await other.claim_deliveries(now=T0 + 100, lease_until=T0 + 130, lease_token="c",
                                             limit=10)
        assert [(d.id, d.attempts) for d in again] == [(mine[1].id, 1)]
        assert await other.finish_delivery(mine[1].id, lease_token="c", now=T0 + 101,
                                           delivered=False, next_attempt_at=None, error="timeout")
    finally:
        await other.close()

    [info] = await store.list_webhooks()
    assert (info.queued, info.delivered, info.dead, info.last_delivered_at, info.last_error) == (
        0, 1, 1, T0 + 3, "timeout")
    assert info.webhook.secret == "" and info.webhook.events == tuple(ALL)
    assert await store.requeue_dead(hook.id, now=T0 + 200) == 1
    [info] = await store.list_webhooks(site.id)
    assert (info.queued, info.dead, info.last_error) == (1, 0, "")
    assert await store.purge_outbox(before=T0 + 1000) == 1          # the delivered row only
    assert await store.list_webhooks(site.id + 1) == []
    assert await store.remove_webhook(hook.id) and not await store.remove_webhook(hook.id)
    assert await outbox(store) == []


async def test_training_labels_one_row_per_text_latest_wins(store):
    site, other = await new_site(store), await new_site(store, "blog")
    for site_id, body, label, at in ((site.id, "Buy now", "spam", T0), (other.id, "Buy now", "ham", T0),
                                     (site.id, "Nice piece", "ham", T0 + 1),
                                     (site.id, "buy   NOW", "ham", T0 + 2)):
        await store.save_training_label(site_id=site_id, body=body, body_hash=body_fingerprint(body),
                                        label=label, language="en", source="akismet", now=at)
    rows = await store.training_labels(since=None, site_id=None, after_id=0, limit=10)
    assert [(r.site, r.body, r.label, r.created_at) for r in rows] == [
        ("journal", "buy   NOW", "ham", T0 + 2), ("blog", "Buy now", "ham", T0),
        ("journal", "Nice piece", "ham", T0 + 1)]
    assert [r.body for r in await store.training_labels(since=T0 + 1, site_id=site.id, after_id=0,
                                                        limit=10)] == ["buy   NOW", "Nice piece"]
    assert len(await store.training_labels(since=None, site_id=None, after_id=rows[0].id,
                                           limit=1)) == 1
