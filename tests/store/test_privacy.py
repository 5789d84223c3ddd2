"""A person's data: export, erasure; retention: purge."""
from moderation.domain import ERASED_AUTHOR, Status
from moderation.store.base import DecisionRequest, IdempotencyRecord, PurgeResult

from .conftest import T0, add, new_comment


def mark_spam(comment_id, expected="pending", note=""):
    """Claire marks the comment as spam."""
    return DecisionRequest(comment_id=comment_id, expected_status=expected, new_status="spam",
                           actor="claire", action="spam", note=note)


async def test_person_data_matches_the_canonical_email(store, site):
    blog = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    mine = [await add(store, site.id, email="Jean.Dupont@Example.FR"),
            await add(store, blog.id, email="jean.dupont@example.fr", ip="")]
    await add(store, site.id, email="other@example.fr")
    accented = await add(store, site.id, email="élodie@exämple.fr")
    await store.apply_decisions([mark_spam(mine[0], note="called them")], now=T0 + 1)
    data = await store.person_data("JEAN.DUPONT@example.fr")
    assert [c.id for c in data.comments] == mine
    assert data.sites == {site.id: "journal", blog.id: "blog"}
    assert data.full_ips == {mine[0]: "203.0.113.7"}
    assert [e.action for e in data.events[mine[0]]] == ["submit", "spam"]
    assert [e.action for e in data.events[mine[1]]] == ["submit"]
    # Unicode case folding, and the domain as its IDNA A-label (domain.canonical_email):
    for spelling in ("élodie@exämple.fr", "ÉLODIE@EXÄMPLE.FR", "élodie@xn--exmple-cua.fr"):
        assert [c.id for c in (await store.person_data(spelling)).comments] == [accented]
    empty = await store.person_data("nobody@example.fr")
    assert (empty.comments, empty.sites, empty.full_ips, empty.events) == ([], {}, {}, {})


async def test_erasure_blanks_the_author_and_keeps_the_trail(store, site):
    pending = (await store.insert_comment(
        new_comment(site.id, email="Jean@example.fr"),
        IdempotencyRecord("k1", "h", 202, {"status": "pending"}))).comment_id
    published = await add(store, site.id, email="jean@example.fr", status=Status.PUBLISHED, thread="a")
    reply = await add(store, site.id, email="someone@example.fr", parent_id=published, thread="a",
                      status=Status.PUBLISHED)
    spam = await add(store, site.id, email="JEAN@example.fr", status=Status.SPAM)
    await store.apply_decisions([mark_spam(pending, note="private remark")], now=T0 + 1)
    erased = await store.erase_person("jean@EXAMPLE.fr", actor="ada", now=T0 + 10)
    assert erased == [pending, published, spam]
    for comment_id, before, after in ((pending, "spam", "spam"), (published, "published", "rejected"),
                                      (spam, "spam", "spam")):
        comment = await store.get_comment(comment_id)
        assert (comment.author_name, comment.author_email, comment.body, comment.ip_prefix,
                comment.user_agent, comment.referrer) == (ERASED_AUTHOR, "", "", "", "", "")
        assert (comment.erased_at, comment.updated_at, comment.status.value) == (T0 + 10, T0 + 10, after)
        assert comment.spam_score == 0.5 and comment.site_id == site.id
        trail = await store.audit_trail(comment_id)
        assert all(e.note == "" for e in trail)
        last = trail[-1]
        assert (last.actor, last.action, last.from_status, last.to_status, last.reason, last.at) == (
            "ada", "erase", before, after, "erasure_request", T0 + 10)
    assert [e.actor for e in await store.audit_trail(pending)] == ["intake", "claire", "ada"]
    assert (await store.get_comment(reply)).parent_id == published
    assert await store.stored_answer(site.id, "k1", not_before=0) is None
    assert (await store.person_data("jean@example.fr")).comments == []
    assert await store.erase_person("jean@example.fr", actor="ada", now=T0 + 20) == []
    # Erased comments leave the queue, the counts and the public thread.
    assert await store.thread_comments(site.id, "a", after_id=0, limit=10) == [
        await store.get_comment(reply)]


async def test_purge_deletes_old_spam_old_ips_and_old_keys(store, site):
    old_spam = (await store.insert_comment(
        new_comment(site.id, status=Status.SPAM, created_at=T0 - 1000, thread="a"),
        IdempotencyRecord("spam-key", "h", 202, {}))).comment_id
    fresh_spam = await add(store, site.id, status=Status.SPAM, created_at=T0, body="fresh")
    parent = await add(store, site.id, status=Status.PUBLISHED, created_at=T0 - 2000, thread="a")
    reply = await add(store, site.id, status=Status.PUBLISHED, created_at=T0 - 1500, thread="a",
                      parent_id=parent)
    await store.apply_decisions([mark_spam(parent, "published")], now=T0 - 900)
    old_key = (await store.insert_comment(new_comment(site.id, created_at=T0 - 500, body="kept"),
                                          IdempotencyRecord("old-key", "h", 202, {}))).comment_id
    result = await store.purge(spam_before=T0 - 100, ips_before=T0 - 1200, idempotency_before=T0 - 400)
    # Counted: old spam, then IPs and keys by age (those of deleted spam go with it uncounted,
    # except keys, which are counted with the spam they answered).
    assert result == PurgeResult(spam_comments=2, full_ips=1, idempotency_keys=2)
    # parent (spam since T0 - 900) and old_spam are gone with their trail; the reply stays.
    assert await store.get_comment(old_spam) is None and await store.get_comment(parent) is None
    assert await store.audit_trail(parent) == []
    assert (await store.get_comment(reply)).parent_id is None
    assert (await store.get_comment(fresh_spam)).status is Status.SPAM
    assert await store.get_comment(old_key) is not None
    assert await store.stored_answer(site.id, "old-key", not_before=0) is None
    ips = (await store.person_data("reader@example.fr")).full_ips
    assert set(ips) == {fresh_spam, old_key}
    assert await store.purge(spam_before=T0 - 100, ips_before=0, idempotency_before=0) == PurgeResult(0, 0, 0)
