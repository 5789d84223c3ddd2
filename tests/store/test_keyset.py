"""The review queue's keyset merge, without a database: exact float bounds, and
pages merged from streams (read here by a plain Python reading of their
documented conditions) against a sort of every row by the reference key."""
import math
import random

import pytest

from moderation.policy import Bands
from moderation.store.keyset import FLAGS, SCORE, PagePlan, _Halves, first_float
from moderation.domain import Cursor, Order, sort_key

TINY = [0.0, 5e-324, 1e-300, 1e-20, 2e-20, 3e-18]     # all one key for most bands
SCORES = TINY + [0.375, 0.625, 0.5, 0.5, 0.55, 0.3, 0.8, 1.0, 0.9999999999999999, 0.97, 0.97]
BANDS = [Bands(0.3, 0.8), Bands(0.25, 0.75), Bands(0.1, 0.8), Bands(0.5, 0.5), Bands(0.7, 0.2),
         Bands(0.0, 1.0)]


@pytest.mark.parametrize("threshold", [0.0, -0.0, 5e-324, 0.1, 0.5, 1.0, -3.5, 1e300, math.inf])
@pytest.mark.parametrize("guess", [0.0, 0.3, 1e10, -math.inf])
def test_first_float_finds_the_exact_float(threshold, guess):
    found = first_float(lambda x: x >= threshold, -math.inf, math.inf, guess)
    assert found == threshold
    found = first_float(lambda x: x > threshold, -math.inf, math.inf, guess)
    assert found == (math.nextafter(threshold, math.inf) if threshold != math.inf else math.inf)


@pytest.mark.parametrize("bands", BANDS)
def test_halves_bounds_sit_exactly_where_the_key_crosses(bands):
    halves = _Halves(bands)
    middle, key = halves.middle, halves.key
    keys = sorted({key(s) for s in SCORES} | {-1.0, 0.0, 0.25, 0.5, 2.0, 1e6})
    for k in keys:
        for strictly in (False, True):
            def reaches(s):
                return key(s) > k if strictly else key(s) >= k
            upper = halves.upper_from(k, strictly=strictly)
            assert upper >= middle and reaches(upper)
            below = math.nextafter(upper, -math.inf)
            assert below < middle or not reaches(below)
            lower = halves.lower_from(k, strictly=strictly)
            assert lower < middle and reaches(lower)
            above = math.nextafter(lower, math.inf)
            assert above >= middle or not reaches(above)


def test_tiny_scores_share_a_key_and_are_not_alone():
    halves = _Halves(Bands(0.3, 0.8))
    assert len({halves.key(s) for s in TINY}) == 1
    assert not halves.alone_in_lower(1e-20)
    assert halves.alone_in_lower(0.3) and halves.alone_in_upper(0.55)


# -- pages from simulated streams
def read(stream, rows, count):
    """The rows a store returns for *stream*: its conditions, its order, *count* at most."""
    def column(row):
        return row[stream.column] if stream.column else row[SCORE]

    def wanted(row):
        if row["site_id"] != stream.site_id:
            return False
        value = column(row)
        if stream.column is None:
            if row[SCORE] is not None:
                return False
        elif value is None:
            return False
        for operator, bound in stream.bounds:
            if not {">=": value >= bound, "<": value < bound, "<=": value <= bound}[operator]:
                return False
        if stream.start is not None:
            start_value, start_id = stream.start
            if stream.column is None:
                if row["id"] <= start_id:
                    return False
            elif stream.descending:
                if not (value < start_value or (value == start_value and row["id"] > start_id)):
                    return False
            elif not (value, row["id"]) > (start_value, start_id):
                return False
        if stream.tie is not None:
            operator, bound, tie_id = stream.tie
            beyond = value >= bound if operator == ">=" else value <= bound
            if not (beyond or row["id"] > tie_id):
                return False
        return True

    def order(row):
        value = column(row)
        if stream.column is None:
            return (row["id"],)
        return (-value if stream.descending else value, row["id"])

    return sorted((r for r in rows if wanted(r)), key=order)[:count]


def simulated_page(rows, order, after, sites, limit):
    plan = PagePlan(order, after, sites, limit)
    rounds = 0
    while reads := plan.reads():
        rounds += 1
        plan.feed((number, r["id"], r[stream.column] if stream.column else r[SCORE])
                  for number, stream, count in reads for r in read(stream, rows, count))
    return [(c.key, c.id) for c in plan.page()], rounds


def reference(rows, order, after, sites, limit):
    ranked = []
    for r in rows:
        k = sort_key(order, r[SCORE], r["created_at"], sites[r["site_id"]] or Bands(0.3, 0.8), r[FLAGS])
        ranked.append(((-k if order.descending else k, r["id"]), (k, r["id"])))
    ranked.sort()
    if after is not None:
        mark = (-after.key if order.descending else after.key, after.id)
        ranked = [x for x in ranked if x[0] > mark]
    return [x[1] for x in ranked[:limit]]


@pytest.mark.parametrize("seed", range(12))
def test_pages_from_streams_equal_the_reference(seed):
    rng = random.Random(seed)
    site_count = rng.choice([1, 2, 3, 7])
    sites = {i: rng.choice(BANDS) for i in range(1, site_count + 1)}
    rows = [{"id": i, "site_id": rng.randint(1, site_count), "created_at": float(rng.randrange(8)),
             SCORE: rng.choice(SCORES + [None, None, rng.random()]), FLAGS: rng.choice([0, 0, 0, 1, 2, 5])}
            for i in range(1, rng.randint(2, 160))]
    rounds = []
    for _ in range(40):
        order = rng.choice(list(Order))
        limit = rng.choice([1, 2, 3, 5, 20, 51])
        whole = reference(rows, order, None, sites, 10**6)
        after = None
        if rng.random() < 0.7:
            k, i = rng.choice(whole)
            after = Cursor(order, k, i)
        elif rng.random() < 0.5:
            after = Cursor(order, rng.choice([-1.0, 0.5, 2.0, rng.random(), 1e9]), rng.randint(1, 200))
        page, used = simulated_page(rows, order, after, sites, limit)
        assert page == reference(rows, order, after, sites, limit), (order, after, limit)
        rounds.append(used)
    assert max(rounds) <= 12
