"""Review statistics: queue depth, oldest pending, decisions per day, overrules."""
import datetime as dt
import time

from moderation.domain import Status

from ..conftest import auth
from .conftest import decide, get_json, seed


async def test_stats_count_the_queue_and_the_overrules(desk):
    store, client, now = desk.store, desk.client, time.time()
    oldest = now - 5000
    await seed(store, desk.site_id, created_at=oldest)
    await seed(store, desk.site_id)
    await seed(store, desk.site_id, status=Status.SPAM, score=0.99)
    await seed(store, desk.other_site_id)
    rescued = await seed(store, desk.site_id, status=Status.SPAM, score=0.9)
    missed = await seed(store, desk.site_id, score=0.1)
    agreed = await seed(store, desk.site_id, score=0.2)
    rude = await seed(store, desk.site_id, score=0.5)
    await decide(client, desk.claire, rescued, "approve", expected="spam")   # overrules
    await decide(client, desk.claire, missed, "spam")                        # overrules
    await decide(client, desk.claire, agreed, "approve")                     # agrees
    await decide(client, desk.claire, rude, "reject")                        # not a spam judgement

    status, body = await get_json(client, "/v1/review/stats", desk.admin)
    assert status == 200, body
    assert body["days"] == 30
    sites = {s["site"]: s for s in body["sites"]}
    assert (sites["journal"]["pending"], sites["journal"]["spam"]) == (2, 2)   # one by a moderator
    assert sites["journal"]["oldest_pending_age_seconds"] >= 5000
    assert (sites["blog"]["pending"], sites["blog"]["spam"]) == (1, 0)
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert body["decisions_per_day"] == [
        {"day": today, "total": 4, "approve": 2, "reject": 1, "spam": 1}]
    assert body["overrule"] == {"judged": 3, "overruled": 2, "rate": 0.6667, "spam_leaning_at": 0.5}

    # A moderator sees their own sites only.
    status, mine = await get_json(client, "/v1/review/stats", desk.paul, days="7")
    assert [s["site"] for s in mine["sites"]] == ["blog"]
    assert mine["decisions_per_day"] == [] and mine["overrule"]["rate"] is None
    response = await client.get("/v1/review/stats?days=0&x=1", headers=auth(desk.admin))
    assert response.status == 400
