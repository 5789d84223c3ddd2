"""Webhooks: events enqueued with the change that caused them, leased
deliveries, retries, dead rows; training labels sent by sites."""
import asyncio

from moderation.domain import Status
from moderation.store.base import DecisionRequest, IdempotencyRecord

from .conftest import T0, add, new_comment

EVERY_STATUS = ["comment.pending", "comment.published", "comment.rejected", "comment.spam"]


async def claim_all(store, now=T0 + 1000, token="lease-a", limit=100):
    return await store.claim_deliveries(now=now, lease_until=now + 60, lease_token=token, limit=limit)


async def test_a_webhook_is_listed_with_its_site_and_without_its_secret(store, site):
    hook = await store.add_webhook(site_id=site.id, url="https://hooks.example/a", secret="s3cret",
                                   events=["comment.published"], now=T0)
    assert (hook.site, hook.url, hook.events, hook.secret, hook.created_at) == (
        "journal", "https://hooks.example/a", ("comment.published",), "s3cret", T0)
    [info] = await store.list_webhooks()
    assert info.webhook.id == hook.id and info.webhook.secret == "" and info.webhook.site == "journal"
    assert (info.queued, info.delivered, info.dead, info.last_delivered_at, info.last_error) == (
        0, 0, 0, None, "")
    blog = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    other = await store.add_webhook(site_id=blog.id, url="https://hooks.example/b", secret="x",
                                    events=EVERY_STATUS, now=T0)
    assert [i.webhook.id for i in await store.list_webhooks()] == [hook.id, other.id]
    assert [i.webhook.id for i in await store.list_webhooks(blog.id)] == [other.id]


async def test_inserts_and_status_changes_enqueue_the_subscribed_events(store, site):
    hook = await store.add_webhook(site_id=site.id, url="https://h.example", secret="k",
                                   events=["comment.published", "comment.rejected"], now=T0)
    blog = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    await add(store, blog.id, status=Status.PUBLISHED)                       # no webhook there
    published = await add(store, site.id, status=Status.PUBLISHED, created_at=T0 + 1)
    pending = await add(store, site.id, created_at=T0 + 2)                    # not subscribed
    await store.rescore(pending, spam_score=0.4, model_version="toy-2", new_status=None, reasons=[],
                        now=T0 + 3)                                            # no status change
    await store.apply_decisions([DecisionRequest(pending, "pending", "rejected", "claire", "reject")],
                                now=T0 + 4)
    await store.apply_decisions([DecisionRequest(pending, "pending", "spam", "bruno", "spam")],
                                now=T0 + 5)                                    # a conflict: nothing
    deliveries = await claim_all(store)
    assert [(d.comment.id, d.event, d.status, d.occurred_at, d.attempts) for d in deliveries] == [
        (published, "comment.published", "published", T0 + 1, 0),
        (pending, "comment.rejected", "rejected", T0 + 4, 0)]
    first = deliveries[0]
    assert (first.webhook_id, first.url, first.secret, first.site) == (hook.id, "https://h.example", "k",
                                                                       "journal")
    assert first.comment.status is Status.PUBLISHED
    # Erasure changes a published comment's status: that is an event too.
    await store.erase_person("reader@example.fr", actor="ada", now=T0 + 6)
    [erased] = await claim_all(store, token="lease-b")
    assert (erased.comment.id, erased.event, erased.occurred_at) == (published, "comment.rejected", T0 + 6)
    assert erased.comment.body == "" and erased.comment.erased_at == T0 + 6


async def test_a_replayed_idempotency_key_enqueues_nothing(store, site, open_stores):
    await store.add_webhook(site_id=site.id, url="https://h.example", secret="k", events=EVERY_STATUS,
                            now=T0)
    other = await open_stores()
    record = IdempotencyRecord("key", "h", 202, {"status": "pending"})
    results = await asyncio.gather(*(s.insert_comment(new_comment(site.id), record)
                                     for s in (store, other, store, other)))
    assert len({r.comment_id for r in results}) == 1
    assert len(await claim_all(store)) == 1


async def test_a_lease_keeps_a_row_from_other_deliverers_until_it_expires(store, site):
    await store.add_webhook(site_id=site.id, url="https://h.example", secret="k", events=EVERY_STATUS,
                            now=T0)
    ids = [await add(store, site.id, created_at=T0 + i) for i in range(3)]
    assert await store.claim_deliveries(now=T0 - 1, lease_until=T0 + 60, lease_token="early",
                                        limit=10) == []                       # not due yet
    first = await store.claim_deliveries(now=T0 + 1, lease_until=T0 + 61, lease_token="a", limit=10)
    assert [d.comment.id for d in first] == ids[:2]                          # due by now, oldest first
    second = await store.claim_deliveries(now=T0 + 5, lease_until=T0 + 65, lease_token="b", limit=10)
    assert [d.comment.id for d in second] == ids[2:]                         # the leased ones skipped
    assert await store.claim_deliveries(now=T0 + 60, lease_until=T0 + 120, lease_token="c",
                                        limit=10) == []
    expired = await store.claim_deliveries(now=T0 + 62, lease_until=T0 + 120, lease_token="d", limit=1)
    assert [d.id for d in expired] == [first[0].id]                          # lease over: free again
    # The first holder lost its lease: its report changes nothing.
    assert await store.finish_delivery(first[0].id, lease_token="a", now=T0 + 63, delivered=True,
                                       next_attempt_at=None) is False
    assert await store.finish_delivery(first[0].id, lease_token="d", now=T0 + 63, delivered=True,
                                       next_attempt_at=None) is True


async def test_failures_reschedule_then_die_and_dead_rows_can_be_requeued(store, site):
    hook = await store.add_webhook(site_id=site.id, url="https://h.example", secret="k",
                                   events=EVERY_STATUS, now=T0)
    await add(store, site.id)
    delivered_id = (await claim_all(store, now=T0))[0].id
    await store.finish_delivery(delivered_id, lease_token="lease-a", now=T0 + 1, delivered=True,
                                next_attempt_at=None)
    await add(store, site.id, created_at=T0 + 2, body="second")
    [row] = await claim_all(store, now=T0 + 2)
    assert await store.finish_delivery(row.id, lease_token="lease-a", now=T0 + 3, delivered=False,
                                       next_attempt_at=T0 + 30, error="HTTP 500 " + "x" * 600)
    assert await claim_all(store, now=T0 + 29) == []
    [retry] = await claim_all(store, now=T0 + 30, token="lease-b")
    assert (retry.id, retry.attempts) == (row.id, 1)
    await store.finish_delivery(row.id, lease_token="lease-b", now=T0 + 31, delivered=False,
                                next_attempt_at=None, error="timeout")
    [info] = await store.list_webhooks()
    assert (info.queued, info.delivered, info.dead, info.last_delivered_at, info.last_error) == (
        0, 1, 1, T0 + 1, "timeout")
    assert await claim_all(store, now=T0 + 10_000) == []                      # dead: never again
    assert await store.requeue_dead(hook.id, now=T0 + 40) == 1
    [again] = await claim_all(store, now=T0 + 40, token="lease-c")
    assert (again.id, again.attempts) == (row.id, 0)
    [info] = await store.list_webhooks()
    assert (info.queued, info.dead, info.last_error) == (1, 0, "")
    assert await store.purge_outbox(before=T0 + 2) == 1                      # the delivered row
    assert (await store.list_webhooks())[0].delivered == 0


async def test_a_long_error_is_cut(store, site):
    await store.add_webhook(site_id=site.id, url="https://h.example", secret="k", events=EVERY_STATUS,
                            now=T0)
    await add(store, site.id)
    [row] = await claim_all(store)
    await store.finish_delivery(row.id, lease_token="lease-a", now=T0, delivered=False,
                                next_attempt_at=T0 + 1, error="e" * 2000)
    assert (await store.list_webhooks())[0].last_error == "e" * 500


async def test_removing_a_webhook_removes_its_outbox(store, site):
    hook = await store.add_webhook(site_id=site.id, url="https://h.example", secret="k",
                                   events=EVERY_STATUS, now=T0)
    await add(store, site.id)
    assert await store.remove_webhook(hook.id) is True
    assert await store.remove_webhook(hook.id) is False
    assert await store.list_webhooks() == [] and await claim_all(store) == []


async def test_deliverers_on_several_instances_never_claim_a_row_twice(store, site, open_stores):
    await store.add_webhook(site_id=site.id, url="https://h.example", secret="k", events=EVERY_STATUS,
                            now=T0)
    for i in range(40):
        await add(store, site.id, created_at=T0 + i / 100, body=f"c{i}")
    instances = [store, *[await open_stores() for _ in range(3)]]
    batches = await asyncio.gather(*(
        s.claim_deliveries(now=T0 + 10, lease_until=T0 + 70, lease_token=f"t{n}-{k}", limit=7)
        for k in range(2) for n, s in enumerate(instances)))
    claimed = [d.id for batch in batches for d in batch]
    assert len(claimed) == len(set(claimed)) == 40


async def test_training_labels_one_per_text_latest_wins(store, site):
    blog = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    await store.save_training_label(site_id=site.id, body="Buy now", body_hash="h1", label="spam",
                                    language="en", source="akismet", now=T0)
    await store.save_training_label(site_id=site.id, body="Nice piece", body_hash="h2", label="ham",
                                    language="en", source="akismet", now=T0 + 1)
    await store.save_training_label(site_id=blog.id, body="Buy now", body_hash="h1", label="spam",
                                    language="en", source="akismet", now=T0 + 2)
    await store.save_training_label(site_id=site.id, body="Buy now!", body_hash="h1", label="ham",
                                    language="fr", source="akismet", now=T0 + 3)
    labels = await store.training_labels(since=None, site_id=None, after_id=0, limit=10)
    assert [(label.site, label.body, label.label, label.language, label.created_at) for label in labels] == [
        ("journal", "Buy now!", "ham", "fr", T0 + 3), ("journal", "Nice piece", "ham", "en", T0 + 1),
        ("blog", "Buy now", "spam", "en", T0 + 2)]
    assert labels[0].source == "akismet"
    assert [label.body for label in await store.training_labels(since=T0 + 2, site_id=None, after_id=0,
                                                        limit=10)] == ["Buy now!", "Buy now"]
    assert [label.site for label in await store.training_labels(since=None, site_id=blog.id, after_id=0,
                                                        limit=10)] == ["blog"]
    assert [label.id for label in await store.training_labels(since=None, site_id=None, after_id=labels[0].id,
                                                      limit=1)] == [labels[1].id]


async def test_sqlite_a_claim_returns_its_rows_while_another_read_is_in_progress(tmp_path):
    """SQLite's one reader connection is shared by coroutines: a read still in
    progress there holds a snapshot older than the claim's leases, so the claimed
    rows are read back on the writer (they used to come back empty, leased for
    nothing until the lease ran out)."""
    from moderation.store.sqlite import SQLiteStore
    store = SQLiteStore(tmp_path / "claims.db")
    await store.open()
    try:
        site = await store.create_site(name="journal", url="u", lang="en", mode="auto", key_hash="k",
                                       now=T0)
        await store.add_webhook(site_id=site.id, url="https://h.example", secret="k",
                                events=EVERY_STATUS, now=T0)
        for n in range(3):
            await add(store, site.id, body=f"comment {n}")
        reading = await store._reader.execute("SELECT id FROM comments")   # another coroutine's read,
        await reading.fetchone()                                            # rows still to come
        try:
            assert len(await claim_all(store)) == 3
        finally:
            await reading.close()
    finally:
        await store.close()
