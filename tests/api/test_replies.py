"""Replies to comments still waiting for a moderator: accepted, never shown
before their parent, published with it when it is approved."""
from __future__ import annotations

import time

import pytest

from moderation.domain import NewComment, Reason, Status, ThreadIn
from moderation.guard import body_fingerprint
from moderation.keys import STORE

from ..conftest import add_moderator, add_site, auth, comment_payload
from ..toy_model import HAM_TEXT, SPAM_TEXT

REPLY_TEXT = "I agree with you, the reporting on the market was excellent."
MARIE = {"name": "Marie", "email": "marie@example.org"}


@pytest.fixture
async def client(app_client):
    """The app without its public cache: a thread is read before and after a decision."""
    return await app_client(public_cache_seconds=0)


async def post(client, key, **overrides):
    response = await client.post("/v1/comments", json=comment_payload(**overrides), headers=auth(key))
    return response.status, await response.json()


async def stored_parent(client, status=Status.PENDING, reasons=(Reason.MODEL_UNCERTAIN,),
                        thread="article-42") -> int:
    """A comment of the site ``journal`` as the intake would have stored it."""
    store = client.app[STORE]
    site = await store.site_by_name("journal")
    body = f"A parent comment left {status.value}."
    return (await store.insert_comment(NewComment(
        site_id=site.id, thread=ThreadIn(id=thread, url="https://journal.example/a/42"),
        parent_id=None, author_name="Jean", author_email="jean@example.fr", body=body,
        body_hash=body_fingerprint(body), language="en", spam_score=0.5, model_version="toy",
        status=status, reasons=reasons, ip_prefix="", ip_full="", user_agent="", referrer="",
        created_at=time.time()))).comment_id


async def public_ids(client, thread="article-42"):
    listing = await (await client.get(f"/v1/sites/journal/threads/{thread}/comments")).json()
    return [c["id"] for c in listing["items"]]


async def approve(client, token, comment_id, expected="pending"):
    response = await client.post(f"/v1/review/comments/{comment_id}/decision", headers=auth(token),
                                 json={"action": "approve", "expected_status": expected})
    return response.status, await response.json()


async def test_a_reply_to_a_pending_comment_waits_for_it_then_is_published_with_it(client):
    key = await add_site(client, mode="auto", lang="en")
    claire = await add_moderator(client)
    parent = await stored_parent(client)

    status, reply = await post(client, key, parent_id=parent, body=REPLY_TEXT, author=MARIE)
    assert status == 202, reply
    assert reply["status"] == "pending"
    assert reply["reasons"] == ["model_ham", "parent_pending"]
    assert reply["message"] == ("Thank you for your comment. It will be visible with the comment "
                                "it replies to, once that one is approved.")
    assert await public_ids(client) == []

    status, decided = await approve(client, claire, parent)
    assert (status, decided["status"]) == (200, "published")
    assert await public_ids(client) == [parent, reply["id"]]
    seen = await (await client.get(f"/v1/comments/{reply['id']}", headers=auth(key))).json()
    assert seen["status"] == "published" and seen["published_at"]
    trail = await client.app[STORE].audit_trail(reply["id"])
    assert [(e.actor, e.action, e.to_status) for e in trail] == [
        ("intake", "submit", "pending"), ("system", "release", "published")]


async def test_a_reply_held_for_other_reasons_waits_for_a_moderator(client):
    """On a pre-moderated site the reply waits as any comment does: approving
    its parent does not publish it."""
    key = await add_site(client, mode="pre", lang="en")
    claire = await add_moderator(client)
    parent = await stored_parent(client, reasons=(Reason.MODEL_HAM, Reason.PRE_MODERATION))
    status, reply = await post(client, key, parent_id=parent, body=REPLY_TEXT, author=MARIE)
    assert status == 202
    assert reply["reasons"] == ["model_ham", "pre_moderation"]
    assert (await approve(client, claire, parent))[0] == 200
    assert await public_ids(client) == [parent]
    spam_status, spam = await post(client, key, parent_id=parent, body=SPAM_TEXT,
                                   author={"name": "Bot", "email": "bot@example.org"})
    assert (spam_status, spam["status"]) == (202, "spam")


async def test_a_spam_reply_to_a_pending_comment_stays_spam(client):
    key = await add_site(client, mode="auto", lang="en")
    parent = await stored_parent(client)
    status, reply = await post(client, key, parent_id=parent, body=SPAM_TEXT, author=MARIE)
    assert (status, reply["status"], reply["reasons"]) == (202, "spam", ["model_spam"])


async def test_replies_to_spam_rejected_or_missing_parents_are_refused(client):
    key = await add_site(client, mode="auto", lang="en")
    for refused in (Status.SPAM, Status.REJECTED):
        parent = await stored_parent(client, status=refused)
        status, body = await post(client, key, parent_id=parent, body=REPLY_TEXT, author=MARIE)
        assert status == 422, refused
        assert body["error"]["fields"][0]["code"] == "invalid_parent"
    status, body = await post(client, key, parent_id=10_000, body=REPLY_TEXT, author=MARIE)
    assert (status, body["error"]["fields"][0]["code"]) == (422, "invalid_parent")
    # A pending comment of another thread is no parent either.
    elsewhere = await stored_parent(client, thread="another-article")
    status, body = await post(client, key, parent_id=elsewhere, body=REPLY_TEXT, author=MARIE)
    assert (status, body["error"]["fields"][0]["code"]) == (422, "invalid_parent")


async def test_a_reply_to_a_published_comment_is_published_at_once(client):
    key = await add_site(client, mode="auto", lang="en")
    _, parent = await post(client, key, body=HAM_TEXT)
    status, reply = await post(client, key, parent_id=parent["id"], body=REPLY_TEXT, author=MARIE)
    assert (status, reply["reasons"]) == (201, ["model_ham"])


async def test_a_reply_whose_parent_was_published_meanwhile_is_published(client, monkeypatch):
    """The parent is published between the intake's check and the reply's
    insert: the reply goes out with it all the same."""
    key = await add_site(client, mode="auto", lang="en")
    claire = await add_moderator(client)
    parent = await stored_parent(client)
    store = client.app[STORE]
    insert = store.insert_comment

    async def insert_after_the_parent_is_approved(comment, idempotency=None, **options):
        assert (await approve(client, claire, parent))[0] == 200
        return await insert(comment, idempotency, **options)

    monkeypatch.setattr(store, "insert_comment", insert_after_the_parent_is_approved)
    status, reply = await post(client, key, parent_id=parent, body=REPLY_TEXT, author=MARIE)
    assert (status, reply["reasons"]) == (202, ["model_ham", "parent_pending"])
    assert await public_ids(client) == [parent, reply["id"]]
