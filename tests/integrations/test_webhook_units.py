"""The pure parts of webhooks: retry schedule, signatures, payload."""
from __future__ import annotations

import hashlib
import hmac
import json

from moderation.domain import Comment, Status
from moderation.store.base import Delivery
from moderation.webhooks.deliverer import RetryPolicy, _retry_after
from moderation.webhooks.payload import COMMENT_FIELDS, delivery_body, delivery_payload
from moderation.webhooks.signing import new_signing_secret, signature, verify


def test_backoff_doubles_with_jitter_up_to_the_cap_then_gives_up():
    policy = RetryPolicy(max_attempts=6, backoff=5.0, backoff_max=60.0)
    assert [policy.delay(n, rng=lambda: 1.0) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert [policy.delay(n, rng=lambda: 0.0) for n in range(1, 5)] == [2.5, 5, 10, 20]
    assert policy.delay(200, rng=lambda: 1.0) == 60.0          # no overflow far out
    assert policy.next_attempt_at(1, 1000.0, rng=lambda: 1.0) == 1005.0
    assert policy.next_attempt_at(5, 1000.0, rng=lambda: 1.0) == 1060.0
    assert policy.next_attempt_at(6, 1000.0) is None            # the last attempt failed: dead
    # A receiver's Retry-After lengthens the wait, never beyond the cap.
    assert policy.next_attempt_at(1, 1000.0, retry_after=30, rng=lambda: 1.0) == 1030.0
    assert policy.next_attempt_at(1, 1000.0, retry_after=3600, rng=lambda: 1.0) == 1060.0
    assert policy.next_attempt_at(1, 1000.0, retry_after=1, rng=lambda: 1.0) == 1005.0
    assert (_retry_after("120"), _retry_after(" 7 "), _retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            _retry_after(None)) == (120.0, 7.0, None, None)


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    secret = new_signing_secret()
    assert secret.startswith("whsec_") and len(secret) > 40
    body = b'{"event":"comment.published"}'
    expected = hmac.new(secret.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature(secret, 1700000000, body) == "sha256=" + expected
    given = signature(secret, "1700000000", body)
    assert verify(secret, "1700000000", body, given, now=1700000100)
    assert not verify(secret, "1700000000", body + b" ", given, now=1700000100)     # body changed
    assert not verify(secret, "1700000001", body, given, now=1700000100)            # time changed
    assert not verify("whsec_other", "1700000000", body, given, now=1700000100)     # other secret
    assert not verify(secret, "1700000000", body, given, now=1700000000 + 301)      # too old
    assert not verify(secret, "yesterday", body, given, now=1700000100)
    assert not verify(secret, "1700000000", body, "sha256=é", now=1700000100)


def _comment(**overrides) -> Comment:
    values = dict(id=17, site_id=1, thread_id="article-1", parent_id=None, author_name="Jean",
                  author_email="jean@example.fr", body="Très bon article.", language="fr",
                  spam_score=0.123456, model_version="m1", status=Status.PUBLISHED,
                  reasons=("model_ham",), ip_prefix="203.0.113.0/24", user_agent="Mozilla/5.0",
                  referrer="https://ref.example/", created_at=1_700_000_000.0,
                  thread_url="https://journal.example/a/1", updated_at=1_700_000_050.0)
    values.update(overrides)
    return Comment(**values)


def _delivery(comment) -> Delivery:
    return Delivery(id=5, webhook_id=2, url="http://127.0.0.1:1/", secret="whsec_x",
                    event="comment.spam", status="spam", occurred_at=1_700_000_060.0, attempts=0,
                    site="journal", comment=comment)


def test_payload_holds_the_event_and_public_fields_only():
    payload = delivery_payload(_delivery(_comment()))
    assert payload == {
        "event": "comment.spam", "occurred_at": "2023-11-14T22:14:20.000Z", "site": "journal",
        "comment": {"id": 17, "thread": "article-1", "thread_url": "https://journal.example/a/1",
                    "parent_id": None, "status": "spam", "reasons": ["model_ham"],
                    "spam_score": 0.1235, "language": "fr", "author_name": "Jean",
                    "body": "Très bon article.", "created_at": "2023-11-14T22:13:20.000Z",
                    "erased": False}}
    assert tuple(payload["comment"]) == COMMENT_FIELDS
    raw = delivery_body(_delivery(_comment()))
    assert json.loads(raw) == payload and "Très".encode() in raw
    for private in (b"jean@example.fr", b"203.0.113", b"Mozilla", b"ref.example", b"m1"):
        assert private not in raw
    erased = delivery_payload(_delivery(_comment(author_name="[erased]", body="", author_email="",
                                                 erased_at=1_700_000_055.0)))
    assert (erased["comment"]["author_name"], erased["comment"]["body"],
            erased["comment"]["erased"]) == ("[erased]", "", True)
    assert delivery_payload(_delivery(None))["comment"] is None
