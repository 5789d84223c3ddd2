"""Review statistics: queue depth, oldest pending, decisions per day, overrules."""
import datetime as dt
import time

from moderation.domain import Reason, Status
from moderation.keys import SETTINGS
from moderation.openapi import build_document

from ..api.test_openapi import validator
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


async def test_stats_measure_the_audit_sample_per_site_and_language(desk):
    store, client = desk.store, desk.client
    ham_band, spam_band = (Reason.MODEL_HAM, Reason.AUDIT), (Reason.MODEL_SPAM, Reason.AUDIT)
    decisions = [  # site, language, reasons, moderator's action
        *[("journal", "en", ham_band, "approve")] * 7, ("journal", "en", ham_band, "spam"),
        ("journal", "en", ham_band, "reject"),
        *[("journal", "en", spam_band, "spam")] * 3, ("journal", "en", spam_band, "approve"),
        ("journal", "fr", spam_band, "spam"),
        ("blog", "fr", ham_band, "approve"),
        ("journal", "en", (Reason.MODEL_UNCERTAIN,), "spam"),             # not in the sample
    ]
    ids = {"journal": desk.site_id, "blog": desk.other_site_id}
    for site, language, reasons, action in decisions:
        comment_id = await seed(store, ids[site], language=language, reasons=reasons,
                                status=Status.PENDING, score=0.5)
        token = desk.claire if site == "journal" else desk.paul
        status, body = await decide(client, token, comment_id, action)
        assert status == 200, body
    await seed(store, desk.site_id, reasons=ham_band)                      # not decided yet

    status, body = await get_json(client, "/v1/review/stats", desk.admin)
    assert status == 200, body
    audit = body["audit"]
    assert audit["share"] == 0.0          # the tests' servers draw no audit
    groups = {(g["site"], g["language"]): g for g in audit["by_site_language"]}
    assert list(groups) == [("blog", "fr"), ("journal", "en"), ("journal", "fr")]
    assert groups["journal", "en"]["ham_band"] == {
        "decided": 9, "approve": 7, "reject": 1, "spam": 1, "judged": 8, "spam_published_rate": 0.125}
    assert groups["journal", "en"]["spam_band"] == {
        "decided": 4, "approve": 1, "reject": 0, "spam": 3, "judged": 4, "ham_held_rate": 0.25}
    assert groups["journal", "fr"]["ham_band"]["spam_published_rate"] is None   # no sample
    assert groups["journal", "fr"]["spam_band"]["ham_held_rate"] == 0.0
    assert groups["blog", "fr"]["ham_band"]["spam_published_rate"] == 0.0
    validator(build_document(client.app[SETTINGS]), "Stats").validate(body)

    # A moderator sees their own sites only; the site filter narrows the sample too.
    status, mine = await get_json(client, "/v1/review/stats", desk.paul)
    assert [(g["site"], g["language"]) for g in mine["audit"]["by_site_language"]] == [("blog", "fr")]
    status, only = await get_json(client, "/v1/review/stats", desk.admin, site="journal")
    assert [g["site"] for g in only["audit"]["by_site_language"]] == ["journal", "journal"]
