"""The intake's use cases (moderation.services.intake) called directly: a real
SQLite store on disk, the toy model trained in a fixture, no HTTP and no mocks."""
from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from moderation.domain import IdempotencyKeyReused, RateLimitExceeded, Reason, Status
from moderation.scoring.model import holder_for
from moderation.scoring.features import ScoringInput
from moderation.scoring.scorer import Scorer
from moderation.services import intake
from moderation.store.base import open_store
from moderation.validation import ValidationFailed

from ..toy_model import HAM_TEXT, SPAM_TEXT

T0 = 1_700_000_000.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def body(text: str = HAM_TEXT, *, email: str = "jean.dupont@example.fr", ip: str = "203.0.113.7",
         thread: str = "article-42", parent_id: int | None = None, **extra) -> bytes:
    payload = {"thread": {"id": thread}, "author": {"name": "Jean Dupont", "email": email},
               "body": text, "client": {"ip": ip}, **extra}
    if parent_id is not None:
        payload["parent_id"] = parent_id
    return json.dumps(payload).encode()


@pytest.fixture
def settings(settings_for, tmp_path):
    # Limits as shipped, except the duplicate check, which each test asks for when it needs it.
    return settings_for(database_url=f"sqlite:///{tmp_path / 'intake.db'}",
                        duplicate_window_seconds=0)


@pytest.fixture
async def store(settings):
    async with open_store(settings.database_url) as opened:
        yield opened


@pytest.fixture
async def scorer(settings):
    holder = holder_for(settings)
    holder.reload()
    with ThreadPoolExecutor(max_workers=1) as executor:
        yield Scorer(lambda: holder.bundle, executor, batch_wait=0.0)


async def toy_bands(scorer) -> tuple[float, float]:
    """Thresholds between the toy's scores of HAM_TEXT and SPAM_TEXT, measured now."""
    ham, spam = [(await scorer.score(ScoringInput(text))).score for text in (HAM_TEXT, SPAM_TEXT)]
    assert ham < spam
    return ham + (spam - ham) / 3, spam - (spam - ham) / 3


async def new_site(store, scorer, *, name="journal", mode="auto", bands=None):
    site = await store.create_site(name=name, url=f"https://{name}.example", lang="en", mode=mode,
                                   key_hash=f"hash-{name}", now=T0)
    approve_below, reject_above = bands or await toy_bands(scorer)
    await store.set_site_thresholds(site.id, approve_below=approve_below, reject_above=reject_above)
    return await store.site_by_name(name)


@pytest.fixture
async def site(store, scorer):
    return await new_site(store, scorer)


def row_counts(database_url: str) -> dict[str, int]:
    path = Path(database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


async def test_submit_publishes_ham_and_holds_spam(store, scorer, settings, site):
    seen = []
    ham = await intake.submit(store, scorer, settings, site=site, raw=body(), clock=Clock(),
                              observe=lambda decision, source: seen.append((decision.status, source)))
    spam = await intake.submit(store, scorer, settings, site=site, raw=body(SPAM_TEXT, email="x@spam.example"),
                               clock=Clock())
    assert (ham.status_code, ham.answer["status"], ham.replayed) == (201, "published", False)
    assert (spam.status_code, spam.answer["status"]) == (202, "spam")
    assert seen == [(Status.PUBLISHED, "intake")]
    assert (await store.get_comment(ham.comment_id)).status is Status.PUBLISHED
    assert (await store.get_comment(spam.comment_id)).status is Status.SPAM


async def test_submit_leaves_the_review_band_and_pre_moderation_pending(store, scorer, settings):
    unsure = await new_site(store, scorer, name="unsure", bands=(0.0, 1.0))
    pre = await new_site(store, scorer, name="pre", mode="pre")
    for s, reason in ((unsure, "model_uncertain"), (pre, "pre_moderation")):
        submitted = await intake.submit(store, scorer, settings, site=s, raw=body(), clock=Clock())
        assert (submitted.status_code, submitted.answer["status"]) == (202, "pending")
        assert reason in submitted.answer["reasons"]
        assert (await store.get_comment(submitted.comment_id)).status is Status.PENDING


async def test_submit_audits_the_share_drawn(store, scorer, settings_for, site):
    audited = await intake.submit(store, scorer, settings_for(audit_share=0.5), site=site, raw=body(),
                                  clock=Clock(), draw=lambda: 0.1)
    assert audited.answer["status"] == "pending" and "audit" in audited.answer["reasons"]


async def test_submit_raises_rate_limit_exceeded_at_the_limit(store, scorer, settings, site):
    clock = Clock()
    for n in range(settings.rate_limit_per_email):
        await intake.submit(store, scorer, settings, site=site, raw=body(f"{HAM_TEXT} {n}"), clock=clock)
    clock.now += 1
    with pytest.raises(RateLimitExceeded) as exceeded:
        await intake.submit(store, scorer, settings, site=site, raw=body(f"{HAM_TEXT} again"), clock=clock)
    assert 0 < exceeded.value.retry_after <= 60


async def test_submit_replays_the_answer_to_an_idempotency_key(store, scorer, settings, site):
    before = row_counts(settings.database_url)
    first = await intake.submit(store, scorer, settings, site=site, raw=body(), idempotency_key="k-1",
                                clock=Clock())
    again = await intake.submit(store, scorer, settings, site=site, raw=body(), idempotency_key="k-1",
                                clock=Clock(T0 + 5))
    mine = {"author_token", "editable_until"}   # in the first answer only
    assert mine <= set(first.answer) and not mine & set(again.answer)
    assert again.replayed and (again.comment_id, again.status_code, again.answer) == (
        first.comment_id, first.status_code, {k: v for k, v in first.answer.items() if k not in mine})
    assert row_counts(settings.database_url)["comments"] == before["comments"] + 1
    with pytest.raises(IdempotencyKeyReused):
        await intake.submit(store, scorer, settings, site=site, raw=body("Another text entirely."),
                            idempotency_key="k-1", clock=Clock(T0 + 6))


async def test_a_reply_to_a_pending_parent_is_held_for_it(store, scorer, settings, site):
    published = await intake.submit(store, scorer, settings, site=site, raw=body(), clock=Clock())
    await store.set_site_thresholds(site.id, approve_below=0.0, reject_above=1.0)
    pending = await intake.submit(store, scorer, settings, site=await store.site_by_name("journal"),
                                  raw=body(thread="article-43", email="b@example.fr"), clock=Clock())
    assert (published.answer["status"], pending.answer["status"]) == ("published", "pending")
    await store.set_site_thresholds(site.id, approve_below=site.approve_below,
                                    reject_above=site.reject_above)
    # Ham the policy would publish: under a published parent it is, under a pending one it waits.
    shown = await intake.submit(store, scorer, settings, site=site, clock=Clock(),
                                raw=body(HAM_TEXT + " Indeed.", email="c@example.fr",
                                         parent_id=published.comment_id))
    held = await intake.submit(store, scorer, settings, site=site, clock=Clock(),
                               raw=body(HAM_TEXT + " Indeed.", email="d@example.fr", thread="article-43",
                                        parent_id=pending.comment_id))
    assert shown.answer["status"] == "published"
    assert (held.status_code, held.answer["status"]) == (202, "pending")
    assert held.answer["reasons"][-1] == Reason.PARENT_PENDING.value
    assert (await store.get_comment(held.comment_id)).status is Status.PENDING


async def test_a_reply_to_no_such_parent_is_invalid(store, scorer, settings, site):
    with pytest.raises(ValidationFailed) as failed:
        await intake.submit(store, scorer, settings, site=site, raw=body(parent_id=999), clock=Clock())
    assert [(e.field, e.code) for e in failed.value.errors] == [("parent_id", "invalid_parent")]


async def test_check_decides_like_submit_and_stores_nothing(store, scorer, settings, site):
    await intake.submit(store, scorer, settings, site=site, raw=body(), clock=Clock())
    before = row_counts(settings.database_url)
    seen = []
    ham = await intake.check(store, scorer, settings, site=site, body=HAM_TEXT, client_ip="203.0.113.9",
                             author_email="reader@example.fr", clock=Clock(),
                             observe=lambda decision, source: seen.append(source))
    spam = await intake.check(store, scorer, settings, site=site, body=SPAM_TEXT, client_ip="203.0.113.9",
                              clock=Clock())
    trapped = await intake.check(store, scorer, settings, site=site, body=HAM_TEXT, honeypot="filled",
                                 client_ip="203.0.113.9", clock=Clock())
    assert ham.decision.status is Status.PUBLISHED and spam.decision.status is Status.SPAM
    assert Reason.HONEYPOT in trapped.decision.reasons and trapped.decision.status is Status.SPAM
    assert seen == ["akismet"]
    assert row_counts(settings.database_url) == before


async def test_check_applies_the_guard_s_duplicate_check_and_rate_limits(store, scorer, settings_for, site):
    settings = settings_for(database_url=settings_for().database_url.replace("moderation.db", "intake.db"),
                            duplicate_window_seconds=600, rate_limit_per_email=2)
    await intake.submit(store, scorer, settings, site=site, raw=body(), clock=Clock())
    duplicate = await intake.check(store, scorer, settings, site=site, body=HAM_TEXT,
                                   author_email="jean.dupont@example.fr", client_ip="198.51.100.1",
                                   clock=Clock())
    assert Reason.DUPLICATE in duplicate.decision.reasons
    await intake.submit(store, scorer, settings, site=site, raw=body(HAM_TEXT + " Again."), clock=Clock())
    with pytest.raises(RateLimitExceeded):
        await intake.check(store, scorer, settings, site=site, body="Something else to say.",
                           author_email="jean.dupont@example.fr", client_ip="198.51.100.1", clock=Clock())


async def test_rescore_moves_pending_comments_the_policy_now_decides(store, scorer, settings):
    unsure = await new_site(store, scorer, name="unsure", bands=(0.0, 1.0))
    ids = [(await intake.submit(store, scorer, settings, site=unsure, raw=body(text, email=email),
                                clock=Clock())).comment_id
           for text, email in ((HAM_TEXT, "a@example.fr"), (SPAM_TEXT, "b@spam.example"))]
    assert [(await store.get_comment(i)).status for i in ids] == [Status.PENDING] * 2
    assert await intake.rescore(store, settings, apply=False, clock=Clock()) == (0, 2)
    approve_below, reject_above = await toy_bands(scorer)
    await store.set_site_thresholds(unsure.id, approve_below=approve_below, reject_above=reject_above)
    assert await intake.rescore(store, settings, apply=True, clock=Clock(T0 + 60)) == (2, 2)
    assert [(await store.get_comment(i)).status for i in ids] == [Status.PUBLISHED, Status.SPAM]
    assert await intake.rescore(store, settings, apply=True, clock=Clock()) == (0, 0)
