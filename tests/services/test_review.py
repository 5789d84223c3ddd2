"""The moderators' use cases (moderation.services.review) called directly: a
real SQLite store on disk, the toy model loaded, no HTTP and no mocks."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from moderation.domain import (DecisionConflict, InvalidParameter, NotFound, OutOfScope, Reason,
                               Status)
from moderation.review.decisions import parse_decision
from moderation.review.queue import parse_queue_query
from moderation.scoring.model import holder_for
from moderation.services.review import ReviewDesk
from moderation.store.base import open_store

from ..review.conftest import seed


@pytest.fixture
async def desk(settings_for, tmp_path):
    settings = settings_for(database_url=f"sqlite:///{tmp_path / 'review.db'}")
    holder = holder_for(settings)
    holder.reload()
    async with open_store(settings.database_url) as store:
        with ThreadPoolExecutor(max_workers=1) as executor:
            yield ReviewDesk(store, holder, executor)


async def sites_and_people(desk):
    store, now = desk.store, time.time()
    journal = await store.create_site(name="journal", url="https://journal.example", lang="fr",
                                      mode="auto", key_hash="hash-journal", now=now)
    blog = await store.create_site(name="blog", url="https://blog.example", lang="en",
                                   mode="auto", key_hash="hash-blog", now=now)
    claire = await store.create_moderator(name="claire", role="moderator", site_ids=[journal.id],
                                          token_hash="hash-claire", now=now)
    admin = await store.create_moderator(name="ada", role="admin", site_ids=[],
                                         token_hash="hash-ada", now=now)
    return journal, blog, claire, admin


def approve(expected: str = "pending"):
    return parse_decision({"action": "approve", "expected_status": expected})


async def test_a_moderator_sees_and_decides_only_their_sites(desk):
    journal, blog, claire, _ = await sites_and_people(desk)
    mine = await seed(desk.store, journal.id, score=0.5)
    theirs = await seed(desk.store, blog.id, score=0.5)
    now = time.time()

    page = await desk.queue(claire, parse_queue_query({}, now), now)
    assert [row.comment.id for row in page.rows] == [mine]
    assert page.counts["pending"] == 1

    with pytest.raises(OutOfScope):
        await desk.comment(claire, theirs)
    with pytest.raises(OutOfScope):
        await desk.queue(claire, parse_queue_query({"site": "blog"}, now), now)
    with pytest.raises(InvalidParameter) as unknown:
        await desk.queue(claire, parse_queue_query({"site": "nowhere"}, now), now)
    assert unknown.value.field == "site"
    with pytest.raises(NotFound):
        await desk.comment(claire, theirs + 1000)


async def test_a_decision_is_applied_once_and_the_second_one_conflicts(desk):
    journal, _, claire, admin = await sites_and_people(desk)
    comment_id = await seed(desk.store, journal.id, score=0.5)
    comment = await desk.comment(claire, comment_id)

    outcome = await desk.decide(claire, comment, approve(), time.time())
    assert outcome.status == Status.PUBLISHED.value
    assert (await desk.store.get_comment(comment_id)).status is Status.PUBLISHED
    trail = await desk.store.audit_trail(comment_id)
    assert [(e.actor, e.action) for e in trail][-1] == ("claire", "approve")

    with pytest.raises(DecisionConflict) as conflict:
        await desk.decide(admin, comment, approve(), time.time())
    assert conflict.value.outcome.status == Status.PUBLISHED.value
    assert len(await desk.store.audit_trail(comment_id)) == len(trail)   # nothing more written


async def test_a_bulk_decision_answers_for_each_id_in_order(desk):
    journal, blog, claire, _ = await sites_and_people(desk)
    waiting = await seed(desk.store, journal.id, score=0.5)
    published = await seed(desk.store, journal.id, score=0.01, status=Status.PUBLISHED,
                           reasons=(Reason.MODEL_HAM,))
    elsewhere = await seed(desk.store, blog.id, score=0.5)
    missing = elsewhere + 1000
    decision = parse_decision({"action": "reject", "expected_status": "pending",
                               "ids": [missing, elsewhere, published, waiting]}, bulk=True)

    answer = await desk.decide_many(claire, decision, time.time())

    assert [(r["id"], r["outcome"]) for r in answer["results"]] == [
        (missing, "not_found"), (elsewhere, "forbidden"), (published, "conflict"), (waiting, "decided")]
    assert answer["summary"] == {"decided": 1, "conflict": 1, "not_found": 1, "forbidden": 1}
    assert answer["results"][2]["current"]["status"] == "published"
    assert (await desk.store.get_comment(waiting)).status is Status.REJECTED
    assert (await desk.store.get_comment(elsewhere)).status is Status.PENDING


async def test_the_detail_explains_the_score_and_the_stats_count_the_decision(desk):
    journal, _, claire, _ = await sites_and_people(desk)
    comment_id = await seed(desk.store, journal.id, score=0.5,
                            body="Win free money now, click here to claim your prize")
    comment = await desk.comment(claire, comment_id)

    detail = await desk.detail(comment, time.time())
    assert detail["id"] == comment_id and detail["site"] == "journal"
    assert detail["explanation"]["model_version"] == desk.models.bundle.version
    assert detail["explanation"]["features"], "the toy model explains what pushed the score"

    await desk.decide(claire, comment, parse_decision(
        {"action": "spam", "expected_status": "pending"}), time.time())
    stats = await desk.stats(claire, None, 7, time.time(), audit_share=0.0)
    assert [day["spam"] for day in stats["decisions_per_day"]] == [1]
    assert [(site["site"], site["pending"]) for site in stats["sites"]] == [("journal", 0)]
