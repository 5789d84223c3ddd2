"""Public reads (thread pages, counts, top threads), model upkeep (pending,
rescore) and the review page's thread context."""
from moderation.domain import PublicComment, Status
from moderation.store.base import DecisionRequest

from .conftest import T0, add


async def test_a_thread_page_holds_published_comments_oldest_first_after_an_id(store, site):
    ids = [await add(store, site.id, thread="a", status=Status.PUBLISHED, created_at=T0 + i)
           for i in range(5)]
    await add(store, site.id, thread="a")                                  # pending: never shown
    await add(store, site.id, thread="a", status=Status.SPAM)
    await add(store, site.id, thread="b", status=Status.PUBLISHED)         # another thread
    other = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    await add(store, other.id, thread="a", status=Status.PUBLISHED)        # another site
    page = await store.thread_comments(site.id, "a", after_id=0, limit=3)
    assert [c.id for c in page] == ids[:3]
    page = await store.thread_comments(site.id, "a", after_id=ids[2], limit=3)
    assert [c.id for c in page] == ids[3:]
    assert await store.thread_comments(site.id, "nothing", after_id=0, limit=3) == []


async def test_published_counts_name_every_thread_asked(store, site):
    for thread, status in (("a", Status.PUBLISHED), ("a", Status.PUBLISHED), ("a", Status.PENDING),
                           ("b", Status.PUBLISHED), ("c", Status.SPAM)):
        await add(store, site.id, thread=thread, status=status)
    assert await store.published_counts(site.id, ["a", "b", "c", "zz"]) == {"a": 2, "b": 1, "c": 0, "zz": 0}
    assert await store.published_counts(site.id, []) == {}


async def test_top_threads_by_comments_published_since_then_by_latest(store, site):
    for thread, at in (("a", T0), ("a", T0 + 1), ("b", T0 + 2), ("b", T0 + 3), ("c", T0 + 5),
                       ("d", T0 - 100), ("d", T0 - 99), ("d", T0 - 98)):
        await add(store, site.id, thread=thread, status=Status.PUBLISHED, created_at=at)
    await add(store, site.id, thread="c")   # pending: not counted
    top = await store.top_threads(site.id, since=T0, limit=10)
    assert [(t.thread_id, t.count) for t in top] == [("b", 2), ("a", 2), ("c", 1)]
    assert top[0].url == "https://journal.example/b" and top[0].title == "B"
    assert [t.thread_id for t in await store.top_threads(site.id, since=T0, limit=1)] == ["b"]


async def test_public_reads_by_site_name_are_the_public_fields_of_the_reads_by_id(store, site):
    other = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    ids = [await add(store, site.id, thread="a", status=Status.PUBLISHED, created_at=T0 + i)
           for i in range(4)]
    await add(store, site.id, thread="a")                                   # pending: never shown
    await add(store, site.id, thread="b", status=Status.PUBLISHED, created_at=T0 + 9)
    await add(store, other.id, thread="a", status=Status.PUBLISHED)         # another site
    for after, limit in ((0, 3), (ids[2], 3), (0, 100), (ids[3], 3)):
        by_name = await store.public_thread_page("journal", "a", after_id=after, limit=limit)
        by_id = await store.thread_comments(site.id, "a", after_id=after, limit=limit)
        assert by_name == [PublicComment(c.id, c.parent_id, c.author_name, c.body, c.created_at)
                           for c in by_id]
    assert [c.id for c in await store.public_thread_page("journal", "a", after_id=0, limit=3)] == ids[:3]
    assert await store.public_thread_page("journal", "nothing", after_id=0, limit=3) == []
    assert await store.public_thread_page("Journal", "a", after_id=0, limit=3) is None   # names are exact
    asked = ["a", "b", "zz", "b-not"]
    assert await store.site_published_counts("journal", asked) == {"a": 4, "b": 1, "zz": 0, "b-not": 0}
    assert await store.site_published_counts("blog", asked) == {"a": 1, "b": 0, "zz": 0, "b-not": 0}
    assert await store.site_published_counts("journal", ["zz"]) == {"zz": 0}
    assert await store.site_published_counts("journal", []) == {}
    assert await store.site_published_counts("nobody", ["a"]) is None
    assert await store.site_published_counts("nobody", []) is None
    top = await store.site_top_threads("journal", since=T0, limit=10)
    assert top == await store.top_threads(site.id, since=T0, limit=10)
    assert [(t.thread_id, t.count) for t in top] == [("a", 4), ("b", 1)]
    assert [t.thread_id for t in await store.site_top_threads("journal", since=T0, limit=1)] == ["a"]
    assert await store.site_top_threads("journal", since=T0 + 100, limit=10) == []
    assert await store.site_top_threads("nobody", since=T0, limit=10) is None


async def test_pending_comments_are_paged_by_id(store, site):
    ids = [await add(store, site.id) for _ in range(4)]
    await add(store, site.id, status=Status.PUBLISHED)
    assert [c.id for c in await store.pending_comments(after_id=0, limit=3)] == ids[:3]
    assert [c.id for c in await store.pending_comments(after_id=ids[2], limit=3)] == ids[3:]


async def test_get_comment_and_get_comments(store, site):
    ids = [await add(store, site.id) for _ in range(3)]
    assert await store.get_comment(999_999) is None
    found = await store.get_comments([ids[2], 999_999, ids[0]])
    assert set(found) == {ids[0], ids[2]} and found[ids[2]].id == ids[2]
    assert await store.get_comments([]) == {}


async def test_rescore_records_the_score_and_moves_a_pending_comment_once(store, site):
    comment_id = await add(store, site.id, score=None)
    moved = await store.rescore(comment_id, spam_score=0.05, model_version="toy-2",
                                new_status="published", reasons=["model_ham"], now=T0 + 10)
    assert moved is True
    comment = await store.get_comment(comment_id)
    assert (comment.status, comment.spam_score, comment.model_version) == (Status.PUBLISHED, 0.05, "toy-2")
    assert comment.reasons == ("model_ham",)
    assert comment.published_at == comment.updated_at == T0 + 10
    event = (await store.audit_trail(comment_id))[-1]
    assert (event.actor, event.action, event.from_status, event.to_status, event.reason) == (
        "rescore", "rescore", "pending", "published", "model_ham")
    assert (event.spam_score, event.model_version, event.at) == (0.05, "toy-2", T0 + 10)
    # No longer pending: the score is still recorded, the status stays.
    again = await store.rescore(comment_id, spam_score=0.99, model_version="toy-3",
                                new_status="spam", reasons=["model_spam"], now=T0 + 20)
    assert again is False
    comment = await store.get_comment(comment_id)
    assert (comment.status, comment.spam_score, comment.model_version) == (Status.PUBLISHED, 0.99, "toy-3")
    assert len(await store.audit_trail(comment_id)) == 2


async def test_rescore_that_keeps_it_pending_writes_no_event(store, site):
    comment_id = await add(store, site.id)
    for new_status in (None, "pending"):
        assert await store.rescore(comment_id, spam_score=None, model_version=None,
                                   new_status=new_status, reasons=[], now=T0 + 5) is False
    comment = await store.get_comment(comment_id)
    assert (comment.status, comment.spam_score, comment.model_version, comment.updated_at) == (
        Status.PENDING, None, None, T0 + 5)
    assert len(await store.audit_trail(comment_id)) == 1


async def test_thread_context_is_centred_on_the_comment_every_status(store, site):
    ids = [await add(store, site.id, thread="a", status=status)
           for status in (Status.PUBLISHED, Status.SPAM, Status.PENDING, Status.REJECTED,
                          Status.PUBLISHED, Status.PENDING)]
    await add(store, site.id, thread="b")
    assert [c.id for c in await store.thread_context(ids[3], limit=4)] == ids[1:5]
    assert [c.id for c in await store.thread_context(ids[5], limit=4)] == ids[2:6]   # few follow
    assert [c.id for c in await store.thread_context(ids[0], limit=3)] == ids[0:3]
    assert [c.id for c in await store.thread_context(ids[2], limit=100)] == ids
    assert await store.thread_context(999_999, limit=4) == []


async def test_a_public_thread_page_sorts_three_ways_and_keeps_removed_parents_as_placeholders(store, site):
    def at(i):
        return T0 + i
    first = await add(store, site.id, thread="a", status=Status.PUBLISHED, created_at=at(0))
    removed = await add(store, site.id, thread="a", status=Status.PUBLISHED, created_at=at(1),
                        body="Spam the moderator rejected after replies came", name="Spammer")
    lonely_removed = await add(store, site.id, thread="a", status=Status.SPAM, created_at=at(2))
    replies_to_first = [await add(store, site.id, thread="a", status=Status.PUBLISHED, created_at=at(3 + i),
                                  parent_id=first) for i in range(2)]
    reply_to_removed = await add(store, site.id, thread="a", status=Status.PUBLISHED, created_at=at(5),
                                 parent_id=removed)
    await add(store, site.id, thread="a", created_at=at(6), parent_id=removed)   # pending: not counted
    await store.apply_decisions([DecisionRequest(removed, "published", "rejected", "claire", "reject")],
                                now=at(7))

    page = await store.public_thread_page("journal", "a", after_id=0, limit=50)
    assert [c.id for c in page] == [first, removed, *replies_to_first, reply_to_removed]
    placeholder = page[1]
    assert placeholder.removed and placeholder.author_name is None and placeholder.body is None
    assert placeholder.replies == 1   # the pending reply does not count
    assert page[0].replies == 2 and not page[0].removed and page[0].body
    assert lonely_removed not in [c.id for c in page]   # no reply: nothing to keep its place

    newest = await store.public_thread_page("journal", "a", after_id=0, limit=2, sort="newest")
    assert [c.id for c in newest] == [reply_to_removed, replies_to_first[1]]
    rest = await store.public_thread_page("journal", "a", after_id=newest[-1].id, limit=50, sort="newest")
    assert [c.id for c in rest] == [replies_to_first[0], removed, first]

    replied = await store.public_thread_page("journal", "a", after_id=0, limit=2, sort="replies")
    assert [c.id for c in replied] == [first, removed]
    rest = await store.public_thread_page("journal", "a", after_id=2, limit=50, sort="replies")
    assert [c.id for c in rest] == [*replies_to_first, reply_to_removed]
    assert await store.public_thread_page("journal", "a", after_id=99, limit=5, sort="replies") == []
    assert await store.public_thread_page("nope", "a", after_id=99, limit=5, sort="replies") is None
