"""Replies under a pending parent: which parents a reply may have, and replies
held for their parent (reason ``parent_pending``) published with it, by a
decision, a rescore or ``release_replies``, never before it."""
import asyncio

import pytest

from moderation.domain import Reason, Status
from moderation.store.base import (DECIDED, RELEASE_ACTION, RELEASE_ACTOR, RELEASE_REASON,
                                   DecisionRequest, held_only_for_parent)

from .conftest import T0, add

HELD = (Reason.MODEL_HAM, Reason.PARENT_PENDING)


def approve(comment_id, expected="pending", actor="claire"):
    return DecisionRequest(comment_id=comment_id, expected_status=expected, new_status="published",
                           actor=actor, action="approve")


def reject(comment_id):
    return DecisionRequest(comment_id=comment_id, expected_status="pending", new_status="rejected",
                           actor="claire", action="reject")


async def statuses(store, ids):
    found = await store.get_comments(list(ids))
    return [found[i].status.value for i in ids]


def test_only_a_ham_reply_held_for_its_parent_alone_goes_with_it():
    assert held_only_for_parent(HELD)
    assert held_only_for_parent(["parent_pending", "model_ham"])
    assert not held_only_for_parent([Reason.MODEL_HAM])
    assert not held_only_for_parent([Reason.MODEL_HAM, Reason.PARENT_PENDING, Reason.AUDIT])
    assert not held_only_for_parent([Reason.MODEL_UNCERTAIN, Reason.PARENT_PENDING])
    assert not held_only_for_parent([Reason.MODEL_HAM, Reason.DUPLICATE, Reason.PARENT_PENDING])


async def test_parent_status_names_the_status_within_the_same_site_and_thread(store, site):
    other = await store.create_site(name="other", url="u", lang="fr", mode="pre", key_hash="k2", now=T0)
    ids = {status: await add(store, site.id, thread="a", status=status) for status in Status}
    for status, comment_id in ids.items():
        assert await store.parent_status(site.id, "a", comment_id) is status
    assert await store.parent_status(site.id, "b", ids[Status.PUBLISHED]) is None
    assert await store.parent_status(other.id, "a", ids[Status.PUBLISHED]) is None
    assert await store.parent_status(site.id, "a", 999_999) is None


async def test_approving_the_parent_publishes_its_held_replies_in_the_same_transaction(store, site):
    parent = await add(store, site.id, thread="a")
    held = await add(store, site.id, thread="a", parent_id=parent, reasons=HELD, score=0.05,
                     created_at=T0 + 1)
    # Replies waiting for a moderator for another reason stay pending.
    audited = await add(store, site.id, thread="a", parent_id=parent, score=0.05,
                        reasons=(Reason.MODEL_HAM, Reason.AUDIT))
    uncertain = await add(store, site.id, thread="a", parent_id=parent,
                          reasons=(Reason.MODEL_UNCERTAIN,))
    pre = await add(store, site.id, thread="a", parent_id=parent,
                    reasons=(Reason.MODEL_HAM, Reason.PRE_MODERATION))
    # A reply of another comment is not touched.
    elsewhere = await add(store, site.id, thread="a")
    stranger = await add(store, site.id, thread="a", parent_id=elsewhere, reasons=HELD)

    [outcome] = await store.apply_decisions([approve(parent)], now=T0 + 10)
    assert (outcome.comment_id, outcome.outcome, outcome.status) == (parent, DECIDED, "published")
    assert await statuses(store, [parent, held, audited, uncertain, pre, elsewhere, stranger]) == [
        "published", "published", "pending", "pending", "pending", "pending", "pending"]

    reply = await store.get_comment(held)
    assert reply.published_at == T0 + 10 and reply.updated_at == T0 + 10
    assert set(reply.reasons) == {"model_ham", "parent_pending"}   # why it waited stays
    event = (await store.audit_trail(held))[-1]
    assert (event.actor, event.action, event.from_status, event.to_status, event.reason) == (
        RELEASE_ACTOR, RELEASE_ACTION, "pending", "published", RELEASE_REASON)
    assert event.at == T0 + 10 and str(parent) in event.note
    assert (event.model_version, event.spam_score) == ("toy-1", 0.05)
    # The public sees both; the moderator's label is on the parent only.
    page = await store.thread_comments(site.id, "a", after_id=0, limit=10)
    assert [c.id for c in page] == [parent, held]
    labels = await store.decided_comments(since=None, site_id=None, after_id=0, limit=10)
    assert [d.comment_id for d in labels] == [parent]


async def test_replies_of_released_replies_follow_and_a_rejected_parent_keeps_them(store, site):
    parent = await add(store, site.id, thread="a")
    child = await add(store, site.id, thread="a", parent_id=parent, reasons=HELD)
    grandchild = await add(store, site.id, thread="a", parent_id=child, reasons=HELD)
    refused = await add(store, site.id, thread="a")
    orphan = await add(store, site.id, thread="a", parent_id=refused, reasons=HELD)

    outcomes = await store.apply_decisions([approve(parent), reject(refused)], now=T0 + 5)
    assert [o.outcome for o in outcomes] == [DECIDED, DECIDED]
    assert await statuses(store, [parent, child, grandchild, refused, orphan]) == [
        "published", "published", "published", "rejected", "pending"]
    assert (await store.audit_trail(grandchild))[-1].note.endswith(f"#{child}")


async def test_an_erased_reply_or_one_decided_meanwhile_is_left_alone(store, site):
    parent = await add(store, site.id, thread="a")
    erased = await add(store, site.id, thread="a", parent_id=parent, reasons=HELD,
                       email="gone@example.fr")
    decided = await add(store, site.id, thread="a", parent_id=parent, reasons=HELD)
    await store.erase_person("gone@example.fr", actor="cli", now=T0 + 1)
    await store.apply_decisions([reject(decided)], now=T0 + 2)
    await store.apply_decisions([approve(parent)], now=T0 + 3)
    assert await statuses(store, [erased, decided]) == ["rejected", "rejected"]
    assert [e.action for e in await store.audit_trail(decided)] == ["submit", "reject"]


async def test_a_parent_rescued_from_spam_takes_its_replies_along(store, site):
    parent = await add(store, site.id, thread="a")
    reply = await add(store, site.id, thread="a", parent_id=parent, reasons=HELD)
    await store.apply_decisions([DecisionRequest(parent, "pending", "spam", "claire", "spam")],
                                now=T0 + 1)
    assert await statuses(store, [reply]) == ["pending"]
    await store.apply_decisions([approve(parent, expected="spam")], now=T0 + 2)
    assert await statuses(store, [parent, reply]) == ["published", "published"]


async def test_release_replies_acts_only_once_the_parent_is_published(store, site):
    parent = await add(store, site.id, thread="a")
    reply = await add(store, site.id, thread="a", parent_id=parent, reasons=HELD)
    assert await store.release_replies(parent, now=T0 + 1) == []
    assert await store.release_replies(999_999, now=T0 + 1) == []
    assert await statuses(store, [reply]) == ["pending"]
    # As if the parent had been published between the intake's check and its insert.
    published = await add(store, site.id, thread="a", status=Status.PUBLISHED)
    late = await add(store, site.id, thread="a", parent_id=published, reasons=HELD)
    assert await store.release_replies(published, now=T0 + 2) == [late]
    assert await store.release_replies(published, now=T0 + 3) == []
    assert [e.action for e in await store.audit_trail(late)] == ["submit", RELEASE_ACTION]


async def test_a_rescore_never_publishes_a_reply_before_its_parent(store, site):
    parent = await add(store, site.id, thread="a")
    reply = await add(store, site.id, thread="a", parent_id=parent)   # model_uncertain
    moved = await store.rescore(reply, spam_score=0.02, model_version="toy-2",
                                new_status="published", reasons=["model_ham"], now=T0 + 1)
    assert moved is False
    comment = await store.get_comment(reply)
    assert comment.status is Status.PENDING and comment.spam_score == 0.02
    assert comment.reasons == ("model_ham", "parent_pending")
    # A rescore publishing the parent publishes the reply now held for it.
    assert await store.rescore(parent, spam_score=0.01, model_version="toy-2",
                               new_status="published", reasons=["model_ham"], now=T0 + 2)
    assert await statuses(store, [parent, reply]) == ["published", "published"]
    event = (await store.audit_trail(reply))[-1]
    assert (event.action, event.model_version, event.spam_score) == (RELEASE_ACTION, "toy-2", 0.02)


async def test_a_rescore_publishes_a_reply_whose_parent_is_published(store, site):
    parent = await add(store, site.id, thread="a", status=Status.PUBLISHED)
    reply = await add(store, site.id, thread="a", parent_id=parent)
    assert await store.rescore(reply, spam_score=0.02, model_version="toy-2",
                               new_status="published", reasons=["model_ham"], now=T0 + 1)
    assert (await store.get_comment(reply)).reasons == ("model_ham",)


async def test_the_webhook_outbox_hears_of_the_released_reply(store, site):
    parent = await add(store, site.id, thread="a")
    await store.add_webhook(site_id=site.id, url="https://hooks.example/in", secret="s",
                            events=["comment.published"], now=T0)
    await add(store, site.id, thread="a", parent_id=parent, reasons=HELD)
    await store.apply_decisions([approve(parent)], now=T0 + 1)
    [info] = await store.list_webhooks(site.id)
    assert info.queued == 2   # the parent and its reply


async def test_approving_a_parent_and_its_reply_at_once_from_two_instances(store, open_stores, site):
    """The reply is published once, by the moderator or with its parent, and
    neither transaction fails (PostgreSQL: no deadlock between the two)."""
    second = await open_stores()
    for round_ in range(5):
        parent = await add(store, site.id, thread=f"r{round_}")
        reply = await add(store, site.id, thread=f"r{round_}", parent_id=parent, reasons=HELD)
        sibling = await add(store, site.id, thread=f"r{round_}", parent_id=parent, reasons=HELD)
        first, other = await asyncio.gather(
            store.apply_decisions([approve(parent), approve(sibling)], now=T0 + round_),
            second.apply_decisions([approve(reply, actor="paul"), approve(sibling, actor="paul")],
                                   now=T0 + round_))
        assert await statuses(store, [parent, reply, sibling]) == ["published"] * 3
        for comment_id in (reply, sibling):
            moves = [e for e in await store.audit_trail(comment_id) if e.to_status == "published"]
            assert len(moves) == 1
        assert first[0].outcome == DECIDED


@pytest.mark.parametrize("count", [3])
async def test_bulk_approval_of_several_parents_releases_each_ones_replies(store, site, count):
    parents = [await add(store, site.id, thread="a") for _ in range(count)]
    replies = [await add(store, site.id, thread="a", parent_id=p, reasons=HELD) for p in parents]
    outcomes = await store.apply_decisions([approve(p) for p in reversed(parents)], now=T0 + 1)
    assert [o.comment_id for o in outcomes] == list(reversed(parents))
    assert await statuses(store, replies) == ["published"] * count


async def test_bulk_decisions_on_a_parent_its_reply_and_a_later_comment_at_once(store, open_stores,
                                                                                site):
    """One instance approves a parent and a later comment, another the parent's
    reply and that comment: rows are locked in id order, so neither waits for
    the other in a cycle (PostgreSQL would abort one as a deadlock)."""
    second = await open_stores()
    for round_ in range(5):
        parent = await add(store, site.id, thread=f"d{round_}")
        reply = await add(store, site.id, thread=f"d{round_}", parent_id=parent, reasons=HELD)
        later = await add(store, site.id, thread=f"d{round_}")
        first, other = await asyncio.gather(
            store.apply_decisions([approve(parent), approve(later)], now=T0 + round_),
            second.apply_decisions([approve(reply, actor="paul"), approve(later, actor="paul")],
                                   now=T0 + round_))
        assert await statuses(store, [parent, reply, later]) == ["published"] * 3
        assert sorted([first[1].outcome, other[1].outcome]) == ["conflict", "decided"]
