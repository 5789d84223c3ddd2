"""The review queue (filters, the four orders against the pure reference
:func:`sort_key`, keyset paging), decisions and their conflicts, labels and
statistics."""
import asyncio
import itertools

import pytest

from moderation.domain import Reason, Status
from moderation.policy import Bands
from moderation.domain import Cursor, Order, QueueFilter, sort_key
from moderation.store.base import CONFLICT, DECIDED, NOT_FOUND, DecisionRequest

from .conftest import T0, add

BANDS = Bands(approve_below=0.3, reject_above=0.8)
TO_STATUS = {"approve": "published", "reject": "rejected", "spam": "spam"}


def request(comment_id, action="spam", new="spam", expected="pending", actor="claire", **extra):
    return DecisionRequest(comment_id=comment_id, expected_status=expected, new_status=new,
                           actor=actor, action=action, **extra)


@pytest.fixture
async def queue(store, site):
    """Twelve pending comments on two sites with varied scores, plus others."""
    blog = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    await store.set_site_thresholds(blog.id, approve_below=0.1, reject_above=0.5)
    scores = [0.55, None, 0.3, 0.8, 0.05, 0.55, 0.97, None, 0.42, 0.6, 0.3, 0.12]
    ids = []
    for i, score in enumerate(scores):
        ids.append(await add(store, blog.id if i % 3 == 2 else site.id, score=score,
                             created_at=T0 + (i * 7) % 12, thread=f"t{i % 2}",
                             language="fr" if i % 4 == 0 else "en",
                             reasons=(Reason.NO_MODEL,) if score is None else (Reason.MODEL_UNCERTAIN,)))
    await add(store, site.id, status=Status.PUBLISHED)
    await add(store, site.id, status=Status.SPAM, score=0.99)
    return site, blog, ids


def expected_order(comments, order, sites):
    def key(c):
        site = sites[c.site_id]
        bands = Bands(site.approve_below if site.approve_below is not None else BANDS.approve_below,
                      site.reject_above if site.reject_above is not None else BANDS.reject_above)
        return sort_key(order, c.spam_score, c.created_at, bands)
    keyed = sorted(((key(c), c.id) for c in comments),
                   key=lambda kc: ((-kc[0] if order.descending else kc[0]), kc[1]))
    return keyed


@pytest.mark.parametrize("order", list(Order))
async def test_each_order_matches_the_reference_key_and_pages_without_gaps(store, queue, order):
    site, blog, ids = queue
    sites = {s.id: s for s in await store.list_sites()}
    comments = (await store.get_comments(ids)).values()
    expected = expected_order(comments, order, sites)
    seen, after = [], None
    while True:
        page = await store.review_queue(QueueFilter(), order=order, after=after, limit=5,
                                        model_bands=BANDS)
        if not page:
            break
        seen.extend((row.sort_key, row.comment.id) for row in page)
        after = Cursor(order, page[-1].sort_key, page[-1].comment.id)
    assert [i for _, i in seen] == [i for _, i in expected]
    assert [k for k, _ in seen] == pytest.approx([k for k, _ in expected])


async def test_queue_filters(store, queue):
    site, blog, ids = queue
    comments = await store.get_comments(ids)

    async def page(**fields):
        rows = await store.review_queue(QueueFilter(**fields), order=Order.OLDEST, after=None,
                                        limit=100, model_bands=BANDS)
        return {row.comment.id for row in rows}

    def where(test):
        return {i for i, c in comments.items() if test(c)}

    assert await page() == set(ids)
    assert await page(site_ids=(blog.id,)) == where(lambda c: c.site_id == blog.id)
    assert await page(site_ids=()) == set()
    assert await page(thread="t1") == where(lambda c: c.thread_id == "t1")
    assert await page(language="fr") == where(lambda c: c.language == "fr")
    assert await page(reason="no_model") == where(lambda c: c.spam_score is None)
    assert await page(reason="model") == set()                         # whole codes only
    assert await page(min_score=0.3, max_score=0.6) == where(
        lambda c: c.spam_score is not None and 0.3 <= c.spam_score <= 0.6)
    assert await page(min_score=0.0) == where(lambda c: c.spam_score is not None)
    assert await page(created_after=T0 + 3, created_before=T0 + 8) == where(
        lambda c: T0 + 3 <= c.created_at <= T0 + 8)
    spam = await page(status="spam")
    assert len(spam) == 1 and not spam & set(ids)


async def test_queue_counts_ignore_the_status_filter(store, queue):
    site, blog, ids = queue
    assert await store.queue_counts(QueueFilter()) == {"pending": 12, "spam": 1}
    assert await store.queue_counts(QueueFilter(status="spam", site_ids=(blog.id,))) == {
        "pending": 4, "spam": 0}
    assert await store.queue_counts(QueueFilter(site_ids=())) == {"pending": 0, "spam": 0}


async def test_a_decision_moves_the_comment_and_writes_its_event(store, site):
    comment_id = await add(store, site.id, score=0.42)
    [outcome] = await store.apply_decisions([request(comment_id, "approve", "published",
                                                     reason="on topic", note="checked")], now=T0 + 60)
    assert (outcome.outcome, outcome.status, outcome.updated_at) == (DECIDED, "published", T0 + 60)
    event = outcome.event
    assert (event.actor, event.action, event.from_status, event.to_status, event.reason,
            event.note, event.spam_score, event.model_version, event.at) == (
        "claire", "approve", "pending", "published", "on topic", "checked", 0.42, "toy-1", T0 + 60)
    assert (await store.audit_trail(comment_id))[-1] == event
    comment = await store.get_comment(comment_id)
    assert (comment.status, comment.published_at, comment.updated_at) == (Status.PUBLISHED, T0 + 60, T0 + 60)
    # Published again later: published_at keeps the first time.
    await store.apply_decisions([request(comment_id, "reject", "rejected", expected="published")], now=T0 + 70)
    await store.apply_decisions([request(comment_id, "approve", "published", expected="rejected")], now=T0 + 80)
    assert (await store.get_comment(comment_id)).published_at == T0 + 60


async def test_a_stale_decision_is_a_conflict_with_the_current_state(store, site):
    comment_id = await add(store, site.id)
    [first] = await store.apply_decisions([request(comment_id, "spam", "spam")], now=T0 + 1)
    [stale] = await store.apply_decisions([request(comment_id, "approve", "published", actor="ada")],
                                          now=T0 + 2)
    assert (stale.outcome, stale.status, stale.updated_at, stale.erased) == (CONFLICT, "spam", T0 + 1, False)
    assert stale.event == first.event
    [missing] = await store.apply_decisions([request(999_999)], now=T0)
    assert (missing.outcome, missing.status, missing.event) == (NOT_FOUND, None, None)
    assert len(await store.audit_trail(comment_id)) == 2


async def test_an_erased_comment_is_never_decided(store, site):
    comment_id = await add(store, site.id, status=Status.SPAM)
    await store.erase_person("reader@example.fr", actor="ada", now=T0 + 5)
    [outcome] = await store.apply_decisions([request(comment_id, "approve", "published", expected="spam")],
                                            now=T0 + 6)
    assert (outcome.outcome, outcome.status, outcome.erased) == (CONFLICT, "spam", True)
    assert outcome.event.action == "erase"


async def test_bulk_decisions_answer_in_request_order_each_on_its_own(store, site):
    ids = [await add(store, site.id) for _ in range(4)]
    await store.apply_decisions([request(ids[1], "reject", "rejected")], now=T0)
    requests = [request(ids[3]), request(ids[1]), request(424242), request(ids[0]), request(ids[3])]
    outcomes = await store.apply_decisions(requests, now=T0 + 1)
    assert [(o.comment_id, o.outcome) for o in outcomes] == [
        (ids[3], DECIDED), (ids[1], CONFLICT), (424242, NOT_FOUND), (ids[0], DECIDED), (ids[3], CONFLICT)]
    assert outcomes[4].event == outcomes[0].event
    assert (await store.get_comment(ids[2])).status is Status.PENDING
    assert await store.apply_decisions([], now=T0) == []


async def test_concurrent_deciders_on_several_instances_one_winner_each(store, open_stores, site):
    instances = [store, *[await open_stores() for _ in range(3)]]
    ids = [await add(store, site.id) for _ in range(8)]
    actions = [("approve", "published"), ("reject", "rejected"), ("spam", "spam"), ("spam", "spam")]

    async def decider(index, instance):
        action, new = actions[index]
        # Singles and a bulk in reverse order: bulks lock in id order, so no deadlock.
        singles = [instance.apply_decisions([request(i, action, new, actor=f"m{index}")], now=T0)
                   for i in ids[:4]]
        bulk = instance.apply_decisions([request(i, action, new, actor=f"m{index}")
                                         for i in reversed(ids[4:])], now=T0)
        return list(itertools.chain.from_iterable(await asyncio.gather(*singles, bulk)))

    results = list(itertools.chain.from_iterable(
        await asyncio.gather(*(decider(i, s) for i, s in enumerate(instances)))))
    for comment_id in ids:
        mine = [o for o in results if o.comment_id == comment_id]
        assert sorted(o.outcome for o in mine) == [CONFLICT, CONFLICT, CONFLICT, DECIDED]
        winner = next(o for o in mine if o.outcome == DECIDED)
        assert {o.status for o in mine} == {winner.status}
        trail = await store.audit_trail(comment_id)
        assert [e.action for e in trail] == ["submit", winner.event.action]


async def test_decided_comments_are_labels_that_still_stand(store, site):
    blog = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    approved = await add(store, site.id, score=0.7, body="fine words")
    spam = await add(store, blog.id, score=0.2)
    rejected = await add(store, site.id)
    overturned = await add(store, site.id)
    untouched = await add(store, site.id)
    await store.apply_decisions([request(approved, "approve", "published"), request(spam),
                                 request(rejected, "reject", "rejected"), request(overturned)], now=T0 + 10)
    await store.apply_decisions([request(overturned, "approve", "published", expected="spam")], now=T0 + 20)
    await store.rescore(approved, spam_score=0.1, model_version="toy-2", new_status=None, reasons=[],
                        now=T0 + 30)
    rows = await store.decided_comments(since=None, site_id=None, after_id=0, limit=10)
    assert [(r.comment_id, r.status, r.decided_at) for r in rows] == [
        (approved, "published", T0 + 10), (spam, "spam", T0 + 10), (rejected, "rejected", T0 + 10),
        (overturned, "published", T0 + 20)]
    assert (rows[0].body, rows[0].language, rows[0].site, rows[0].model_score) == (
        "fine words", "en", "journal", 0.7)      # the score when decided
    assert rows[1].site == "blog"
    assert untouched not in [r.comment_id for r in rows]
    assert [r.comment_id for r in await store.decided_comments(
        since=T0 + 15, site_id=None, after_id=0, limit=10)] == [overturned]
    assert [r.comment_id for r in await store.decided_comments(
        since=None, site_id=blog.id, after_id=0, limit=10)] == [spam]
    assert [r.comment_id for r in await store.decided_comments(
        since=None, site_id=None, after_id=spam, limit=2)] == [rejected, overturned]
    # A later decision replaces the label; erasure removes them all.
    await store.apply_decisions([request(approved, "reject", "rejected", expected="published",
                                         actor="ada")], now=T0 + 40)
    rows = await store.decided_comments(since=None, site_id=None, after_id=0, limit=1)
    assert [(r.comment_id, r.status, r.decided_at) for r in rows] == [(approved, "rejected", T0 + 40)]
    await store.erase_person("reader@example.fr", actor="ada", now=T0 + 50)
    assert [r.comment_id for r in await store.decided_comments(
        since=None, site_id=None, after_id=0, limit=10)] == []


async def test_queue_depth_per_site_by_name(store, queue):
    site, blog, ids = queue
    comments = await store.get_comments(ids)
    empty = await store.create_site(name="archive", url="u", lang="en", mode="pre", key_hash="ka", now=T0)
    depth = await store.queue_depth(None)
    assert [(d.site, d.pending, d.spam) for d in depth] == [("archive", 0, 0), ("blog", 4, 0), ("journal", 8, 1)]
    assert depth[0].oldest_pending_at is None and depth[0].site_id == empty.id
    assert depth[1].oldest_pending_at == min(c.created_at for c in comments.values() if c.site_id == blog.id)
    assert [d.site for d in await store.queue_depth([blog.id])] == ["blog"]
    assert await store.queue_depth([]) == []


async def test_decision_days_count_judged_and_overruled(store, site):
    blog = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    day0 = int(T0 // 86400)
    first_day = day0 * 86400.0

    async def decided(site_id, score, action, new, at):
        comment_id = await add(store, site_id, score=score)
        await store.apply_decisions([request(comment_id, action, new)], now=at)

    await decided(site.id, 0.9, "approve", "published", first_day + 10)        # overruled
    await decided(site.id, 0.1, "approve", "published", first_day + 86399.5)   # same day
    await decided(site.id, None, "approve", "published", first_day + 20)       # not judged
    await decided(site.id, 0.2, "spam", "spam", first_day + 86400)             # next day, overruled
    await decided(site.id, 0.9, "reject", "rejected", first_day + 86400)       # never judged
    await decided(blog.id, 0.9, "spam", "spam", first_day + 86401)
    await decided(site.id, 0.9, "spam", "spam", first_day - 1)                 # before since
    days = await store.decision_days(None, since=first_day, spam_leaning_at=0.5)
    assert [(d.day, d.action, d.count, d.judged, d.overruled) for d in days] == [
        (day0, "approve", 3, 2, 1), (day0 + 1, "reject", 1, 0, 0), (day0 + 1, "spam", 2, 2, 1)]
    days = await store.decision_days([blog.id], since=first_day, spam_leaning_at=0.5)
    assert [(d.day, d.action, d.count) for d in days] == [(day0 + 1, "spam", 1)]
    assert await store.decision_days([], since=0, spam_leaning_at=0.5) == []


async def test_audit_counts_by_site_language_band_and_latest_decision(store, site):
    blog = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    ham_audit, spam_audit = (Reason.MODEL_HAM, Reason.AUDIT), (Reason.MODEL_SPAM, Reason.AUDIT)

    async def decided(site_id, reasons, *actions, language="en", at=T0 + 10):
        comment_id = await add(store, site_id, reasons=reasons, language=language)
        status = "pending"
        for action in actions:
            new = TO_STATUS[action]
            [outcome] = await store.apply_decisions(
                [request(comment_id, action, new, expected=status)], now=at)
            assert outcome.outcome == DECIDED
            status, at = new, at + 1
        return comment_id

    await decided(site.id, ham_audit, "approve")
    await decided(site.id, ham_audit, "approve")
    await decided(site.id, ham_audit, "spam", "approve")            # the latest decision counts
    await decided(site.id, ham_audit, "spam")
    await decided(site.id, ham_audit, "reject")
    await decided(site.id, spam_audit, "spam")
    await decided(site.id, spam_audit, "approve", language="fr")
    await decided(blog.id, spam_audit, "spam", language="fr")
    await decided(site.id, ham_audit)                                # pending: not decided yet
    await decided(site.id, (Reason.MODEL_UNCERTAIN,), "spam")        # not audited
    await decided(site.id, (Reason.MODEL_HAM, Reason.PRE_MODERATION), "approve")
    await decided(site.id, ham_audit, "approve", at=T0 - 100)       # before the window
    rows = await store.audit_counts(None, since=T0)
    assert [(r.site, r.language, r.band, r.action, r.count) for r in rows] == [
        ("blog", "fr", "spam", "spam", 1),
        ("journal", "en", "ham", "approve", 3), ("journal", "en", "ham", "reject", 1),
        ("journal", "en", "ham", "spam", 1), ("journal", "en", "spam", "spam", 1),
        ("journal", "fr", "spam", "approve", 1)]
    assert rows[0].site_id == blog.id and rows[1].site_id == site.id
    assert [(r.site, r.count) for r in await store.audit_counts([blog.id], since=T0)] == [("blog", 1)]
    assert await store.audit_counts([], since=0) == []
    assert sum(r.count for r in await store.audit_counts(None, since=0)) == 9


async def test_scored_labels_of_one_site_and_model_version(store, site):
    blog = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)

    async def labelled(action, *, score=0.4, site_id=site.id, version="toy-1", language="en",
                       email="reader@example.fr", then=None):
        comment_id = await add(store, site_id, score=score, model_version=version,
                               language=language, email=email)
        await store.apply_decisions([request(comment_id, action, TO_STATUS[action])], now=T0 + 10)
        if then is not None:
            await store.apply_decisions([request(comment_id, then, TO_STATUS[then],
                                                 expected=TO_STATUS[action])], now=T0 + 20)
        return comment_id

    ham = await labelled("approve", score=0.1)
    spam = await labelled("spam", score=0.9, language="fr")
    await labelled("reject")                                       # not a spam verdict
    corrected = await labelled("spam", score=0.3, then="approve")  # the latest decision counts
    withdrawn = await labelled("approve", then="reject")
    await labelled("approve", version="toy-0")                     # another model's scale
    await labelled("approve", score=None)                          # unscored
    await labelled("approve", site_id=blog.id)                     # another site
    erased = await labelled("spam", email="gone@example.fr")
    await store.erase_person("gone@example.fr", actor="ada", now=T0 + 30)
    await add(store, site.id, score=0.2)                           # never decided
    # Rescored while waiting, then decided: the score and version of the decision.
    rescored = await add(store, site.id, score=0.6, model_version="toy-0")
    await store.rescore(rescored, spam_score=0.7, model_version="toy-1", new_status=None, reasons=[],
                        now=T0 + 5)
    await store.apply_decisions([request(rescored)], now=T0 + 10)
    # The audit sample: an automatic decision sent to a moderator all the same.
    audited = await add(store, site.id, score=0.05, model_version="toy-1",
                        reasons=(Reason.MODEL_HAM, Reason.AUDIT))
    await store.apply_decisions([request(audited, "approve", TO_STATUS["approve"])], now=T0 + 10)

    rows = await store.scored_labels(site.id, model_version="toy-1")
    assert [(r.comment_id, r.score, r.label, r.language, r.audited) for r in rows] == [
        (ham, 0.1, "ham", "en", False), (spam, 0.9, "spam", "fr", False),
        (corrected, 0.3, "ham", "en", False), (rescored, 0.7, "spam", "en", False),
        (audited, 0.05, "ham", "en", True)]
    assert withdrawn not in [r.comment_id for r in rows] and erased not in [r.comment_id for r in rows]
    assert [r.label for r in await store.scored_labels(blog.id, model_version="toy-1")] == ["ham"]
    assert await store.scored_labels(site.id, model_version="no-such-version") == []
