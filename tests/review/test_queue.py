"""The review queue: filters, the orders, keyset paging, counts, bad parameters."""
import time

from moderation.domain import Reason, Status
from moderation.policy import Bands
from moderation.domain import uncertainty

from ..conftest import auth
from .conftest import decide, get_json, seed

TOY_BANDS = Bands(0.3, 0.8)   # the toy model's thresholds


async def queue(desk, token=None, **params):
    status, body = await get_json(desk.client, "/v1/review/queue", token or desk.admin, **params)
    assert status == 200, body
    return body


def ids(body):
    return [item["id"] for item in body["items"]]


async def test_uncertain_first_uses_each_sites_thresholds_and_puts_unscored_first(desk):
    store = desk.store
    await store.set_site_thresholds(desk.other_site_id, approve_below=0.1, reject_above=0.2)
    scores = {}
    for score in (0.95, 0.2, 0.55, 0.4, 0.75, 0.31):
        scores[await seed(store, desk.site_id, score=score)] = (score, TOY_BANDS)
    for score in (0.15, 0.6, 0.05):
        scores[await seed(store, desk.other_site_id, score=score)] = (score, Bands(0.1, 0.2))
    far_off = list(scores)[-2]   # 0.6 is far above blog's band: the clearest case of all
    unscored = await seed(store, desk.site_id, score=None, reasons=(Reason.NO_MODEL,))

    body = await queue(desk)
    expected = sorted(scores, key=lambda i: (uncertainty(*scores[i]), i))
    assert ids(body) == [unscored] + expected
    assert body["order"] == "uncertain"
    # The middle of a band comes before its edges, which come before clear cases.
    by_id = {item["id"]: item for item in body["items"]}
    assert by_id[ids(body)[1]]["spam_score"] in (0.55, 0.15)
    assert ids(body)[-1] == far_off


async def test_other_orders(desk):
    now = time.time()
    a = await seed(desk.store, desk.site_id, score=0.6, created_at=now - 300)
    b = await seed(desk.store, desk.site_id, score=0.1, created_at=now - 100)
    c = await seed(desk.store, desk.site_id, score=0.9, created_at=now - 200)
    d = await seed(desk.store, desk.site_id, score=None, created_at=now - 400)
    assert ids(await queue(desk, order="oldest")) == [d, a, c, b]
    assert ids(await queue(desk, order="score")) == [c, a, b, d]
    assert ids(await queue(desk, order="safest")) == [b, a, c, d]


async def test_filters(desk):
    store, now = desk.store, time.time()
    base = await seed(store, desk.site_id, score=0.5)
    other_thread = await seed(store, desk.site_id, score=0.5, thread="article-2")
    french = await seed(store, desk.site_id, score=0.5, language="fr",
                        reasons=(Reason.LANGUAGE_UNSUPPORTED,))
    low = await seed(store, desk.site_id, score=0.05, reasons=(Reason.MODEL_HAM, Reason.PRE_MODERATION))
    old = await seed(store, desk.site_id, score=0.5, created_at=now - 7200)
    spam = await seed(store, desk.site_id, score=0.97, status=Status.SPAM, reasons=(Reason.MODEL_SPAM,))
    elsewhere = await seed(store, desk.other_site_id, score=0.5)

    everything = {base, other_thread, french, low, old, elsewhere}
    assert set(ids(await queue(desk))) == everything
    assert set(ids(await queue(desk, site="journal"))) == everything - {elsewhere}
    assert ids(await queue(desk, thread="article-2")) == [other_thread]
    assert ids(await queue(desk, language="fr")) == [french]
    assert ids(await queue(desk, reason="language_unsupported")) == [french]
    assert ids(await queue(desk, reason="pre_moderation")) == [low]
    assert set(ids(await queue(desk, min_score="0.01", max_score="0.1"))) == {low}
    assert low not in ids(await queue(desk, min_score="0.2"))
    assert ids(await queue(desk, min_age="3600")) == [old]
    assert old not in ids(await queue(desk, max_age="3600"))
    # The spam folder, on request.
    body = await queue(desk, status="spam")
    assert ids(body) == [spam]
    assert body["items"][0]["status"] == "spam"
    assert body["counts"] == {"pending": len(everything), "spam": 1}
    # Counts follow the other filters.
    assert (await queue(desk, site="blog"))["counts"] == {"pending": 1, "spam": 0}


async def test_a_moderator_sees_only_their_sites(desk):
    mine = await seed(desk.store, desk.site_id)
    await seed(desk.store, desk.other_site_id)
    body = await queue(desk, desk.claire)
    assert ids(body) == [mine]
    assert body["counts"]["pending"] == 1
    assert body["items"][0]["site"] == "journal"
    assert "author_email" not in body["items"][0]


async def test_keyset_paging_is_stable_for_every_order(desk):
    now = time.time()
    for n, score in enumerate((0.5, 0.5, 0.5, 0.3, 0.8, None, 0.1, 0.99, 0.55, 0.5, 0.45)):
        await seed(desk.store, desk.site_id, score=score, created_at=now - (n % 4) * 60)
    for order in ("uncertain", "oldest", "score", "safest"):
        whole = ids(await queue(desk, order=order, limit="200"))
        walked, cursor = [], None
        while True:
            params = {"order": order, "limit": "3", **({"cursor": cursor} if cursor else {})}
            body = await queue(desk, **params)
            walked += ids(body)
            cursor = body["next"]
            if cursor is None:
                break
        assert walked == whole, order
        assert len(whole) == 11


async def test_a_decision_between_pages_shifts_nothing(desk):
    created = [await seed(desk.store, desk.site_id, score=0.5) for _ in range(6)]
    first = await queue(desk, order="oldest", limit="2")
    assert ids(first) == created[:2]
    status, _ = await decide(desk.client, desk.claire, created[0], "approve")
    assert status == 200
    second = await queue(desk, order="oldest", limit="2", cursor=first["next"])
    assert ids(second) == created[2:4]


async def test_bad_parameters_are_named(desk):
    client = desk.client
    response = await client.get("/v1/review/queue?order=random&min_score=2&limit=0&foo=1&status=published"
                                "&min_age=-5", headers=auth(desk.admin))
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "invalid_parameter"
    assert sorted((f["field"], f["code"]) for f in error["fields"]) == [
        ("foo", "unknown_field"), ("limit", "out_of_range"), ("min_age", "out_of_range"),
        ("min_score", "out_of_range"), ("order", "invalid_choice"), ("status", "invalid_choice")]
    for query in ("cursor=not-a-cursor", "language=fr&language=en", "site=nowhere"):
        response = await client.get(f"/v1/review/queue?{query}", headers=auth(desk.admin))
        assert response.status == 400, query
    # A cursor made for one order is refused by another.
    for _ in range(3):
        await seed(desk.store, desk.site_id)
    cursor = (await queue(desk, order="oldest", limit="1"))["next"]
    response = await client.get("/v1/review/queue", params={"order": "score", "cursor": cursor},
                                headers=auth(desk.admin))
    assert response.status == 400
    assert (await response.json())["error"]["fields"][0]["field"] == "cursor"
