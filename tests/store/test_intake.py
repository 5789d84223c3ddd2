"""Intake: a comment with its thread, first audit event, full IP and
idempotency record; the recent activity the guard judges; parents."""
import asyncio

from moderation.domain import Reason, Status
from moderation.store.base import IdempotencyRecord

from .conftest import T0, add, new_comment


async def test_a_comment_is_stored_with_its_thread_and_first_audit_event(store, site):
    result = await store.insert_comment(new_comment(
        site.id, status=Status.PUBLISHED, score=0.125, reasons=(Reason.MODEL_HAM,),
        thread="article-7", title="Le marché", body="Très clair, merci !"))
    assert result.replay is None
    comment = await store.get_comment(result.comment_id)
    assert (comment.site_id, comment.thread_id, comment.thread_title) == (site.id, "article-7", "Le marché")
    assert comment.thread_url == "https://journal.example/article-7"
    assert (comment.body, comment.status, comment.spam_score) == ("Très clair, merci !", Status.PUBLISHED, 0.125)
    assert comment.reasons == ("model_ham",) and comment.model_version == "toy-1"
    assert (comment.ip_prefix, comment.user_agent, comment.referrer) == (
        "203.0.113.0/24", "Mozilla/5.0 (test)", "https://journal.example/")
    assert comment.created_at == comment.updated_at == comment.published_at == T0
    assert comment.erased_at is None and comment.parent_id is None
    [event] = await store.audit_trail(comment.id)
    assert (event.actor, event.action, event.from_status, event.to_status) == (
        "intake", "submit", None, "published")
    assert (event.reason, event.at, event.spam_score, event.model_version) == (
        "model_ham", T0, 0.125, "toy-1")
    data = await store.person_data("reader@example.fr")
    assert data.full_ips == {comment.id: "203.0.113.7"}


async def test_times_come_back_exactly_as_written(store, site):
    created = T0 + 0.123456789          # finer than a microsecond
    comment = await store.get_comment(await add(store, site.id, created_at=created))
    assert comment.created_at == created and comment.published_at is None


async def test_unscored_comments_and_comments_without_ip(store, site):
    comment_id = await add(store, site.id, score=None, ip="", reasons=(Reason.NO_MODEL,))
    comment = await store.get_comment(comment_id)
    assert (comment.spam_score, comment.model_version, comment.ip_prefix) == (None, None, "")
    assert (await store.person_data("reader@example.fr")).full_ips == {}


async def test_a_later_comment_refreshes_the_thread_unless_it_names_nothing(store, site):
    first = await add(store, site.id, thread="a", url="https://old", title="Old")
    await add(store, site.id, thread="a", url="", title="")
    assert ((await store.get_comment(first)).thread_url, (await store.get_comment(first)).thread_title) == (
        "https://old", "Old")
    await add(store, site.id, thread="a", url="https://new", title="New")
    comment = await store.get_comment(first)
    assert (comment.thread_url, comment.thread_title) == ("https://new", "New")


async def test_a_later_comment_may_rename_the_title_or_move_the_url_alone(store, site):
    first = await add(store, site.id, thread="a", url="https://a", title="Old")
    await add(store, site.id, thread="a", url="https://a", title="New")
    comment = await store.get_comment(first)
    assert (comment.thread_url, comment.thread_title) == ("https://a", "New")
    await add(store, site.id, thread="a", url="https://b", title="")
    comment = await store.get_comment(first)
    assert (comment.thread_url, comment.thread_title) == ("https://b", "New")
    second = await add(store, site.id, thread="a", url="https://b", title="New")   # nothing new
    assert (await store.get_comment(second)).thread_title == "New"
    other = await add(store, site.id, thread="b", url="", title="")       # a thread without either
    assert ((await store.get_comment(other)).thread_url, (await store.get_comment(other)).thread_title) == (
        "", "")


async def test_first_comments_of_a_new_thread_at_once_all_land_in_it(store, open_stores, site):
    instances = [store, *[await open_stores() for _ in range(3)]]
    for round_ in range(5):
        thread = f"new-{round_}"
        ids = await asyncio.gather(*(
            add(s, site.id, thread=thread, status=Status.PUBLISHED, body=f"{round_} from {i}",
                title=f"Title {i % 2}")
            for i, s in enumerate(instances * 2)))
        assert len(set(ids)) == len(instances) * 2
        page = await store.thread_comments(site.id, thread, after_id=0, limit=100)
        assert sorted(c.id for c in page) == sorted(ids)
        assert {c.thread_title for c in page} in ({"Title 0"}, {"Title 1"})    # one thread row
        for comment_id in ids:
            assert len(await store.audit_trail(comment_id)) == 1


async def test_an_idempotency_key_is_answered_once_and_replayed_after(store, site):
    answer = {"status": "pending", "reasons": ["model_uncertain"], "spam_score": 0.5}
    record = IdempotencyRecord("key-1", "hash-1", 202, answer)
    first = await store.insert_comment(new_comment(site.id), record)
    assert first.replay is None
    again = await store.insert_comment(new_comment(site.id, body="another body"),
                                       IdempotencyRecord("key-1", "hash-2", 201, {"status": "x"}))
    assert again.comment_id == first.comment_id
    assert again.replay.request_hash == "hash-1" and again.replay.status_code == 202
    assert again.replay.answer == {**answer, "id": first.comment_id}
    assert len(await store.pending_comments(after_id=0, limit=10)) == 1
    stored = await store.stored_answer(site.id, "key-1", not_before=T0)
    assert stored == again.replay
    assert await store.stored_answer(site.id, "key-1", not_before=T0 + 1) is None   # too old
    assert await store.stored_answer(site.id, "key-2", not_before=0) is None
    other = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    assert (await store.insert_comment(new_comment(other.id), record)).replay is None   # per site


async def test_the_same_key_at_once_from_two_instances_creates_one_comment(store, open_stores, site):
    others = [await open_stores() for _ in range(3)]
    for round_ in range(5):
        key = f"burst-{round_}"
        results = await asyncio.gather(*(
            s.insert_comment(new_comment(site.id, body=f"round {round_} from {i}"),
                             IdempotencyRecord(key, f"hash-{i}", 202, {"status": "pending"}))
            for i, s in enumerate([store, *others] * 2)))
        ids = {r.comment_id for r in results}
        assert len(ids) == 1, results
        assert sum(r.replay is None for r in results) == 1
        winner = next(r for r in results if r.replay is None)
        assert all(r.replay.answer["id"] == winner.comment_id for r in results if r.replay)
    pending = await store.pending_comments(after_id=0, limit=100)
    assert len(pending) == 5
    for comment in pending:
        assert len(await store.audit_trail(comment.id)) == 1


async def test_recent_activity_counts_per_ip_prefix_and_email_since_a_time(store, site):
    other = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    await add(store, site.id, created_at=T0 - 100, body="old")              # before the window
    await add(store, site.id, created_at=T0 - 50, body="same words")
    await add(store, site.id, created_at=T0 - 40, email="other@example.fr")
    await add(store, site.id, created_at=T0 - 30, ip="", body="no ip")
    await add(store, other.id, created_at=T0 - 20)                          # another site
    activity = await store.recent_activity(site_id=site.id, ip_prefix="203.0.113.0/24",
                                           email="reader@example.fr", body_hash=new_comment(
                                               site.id, body="Same   WORDS").body_hash,
                                           rate_since=T0 - 60, duplicate_since=T0 - 60)
    assert (activity.ip_count, activity.ip_oldest_at) == (2, T0 - 50)
    assert (activity.email_count, activity.email_oldest_at) == (2, T0 - 50)
    assert activity.duplicate is True
    later = await store.recent_activity(site_id=site.id, ip_prefix="198.51.100.0/24",
                                        email="new@example.fr", body_hash="x",
                                        rate_since=T0 - 60, duplicate_since=T0 - 45)
    assert (later.ip_count, later.ip_oldest_at, later.email_count, later.email_oldest_at,
            later.duplicate) == (0, None, 0, None, False)
    # An empty prefix is no address: never counted together.
    empty = await store.recent_activity(site_id=site.id, ip_prefix="", email="x@example.fr",
                                        body_hash="x", rate_since=0, duplicate_since=0)
    assert empty.ip_count == 0
    # The duplicate window is its own.
    outside = await store.recent_activity(site_id=site.id, ip_prefix="", email="reader@example.fr",
                                          body_hash=new_comment(site.id, body="same words").body_hash,
                                          rate_since=T0 - 60, duplicate_since=T0 - 45)
    assert outside.duplicate is False


async def test_recent_activity_sees_comments_written_by_another_instance(store, open_stores, site):
    other = await open_stores()
    for i in range(3):
        await other.insert_comment(new_comment(site.id, created_at=T0 - i, body=f"b{i}"))
    activity = await store.recent_activity(site_id=site.id, ip_prefix="203.0.113.0/24",
                                           email="reader@example.fr", body_hash="x",
                                           rate_since=T0 - 60, duplicate_since=T0 - 60)
    assert (activity.ip_count, activity.email_count, activity.ip_oldest_at) == (3, 3, T0 - 2)


async def test_a_parent_must_be_published_in_the_same_thread_of_the_same_site(store, site):
    published = await add(store, site.id, thread="a", status=Status.PUBLISHED)
    pending = await add(store, site.id, thread="a")
    other = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    assert await store.is_published_in_thread(site.id, "a", published) is True
    assert await store.is_published_in_thread(site.id, "a", pending) is False
    assert await store.is_published_in_thread(site.id, "b", published) is False
    assert await store.is_published_in_thread(other.id, "a", published) is False
    assert await store.is_published_in_thread(site.id, "a", 999_999) is False
    reply = await add(store, site.id, thread="a", parent_id=published)
    assert (await store.get_comment(reply)).parent_id == published
