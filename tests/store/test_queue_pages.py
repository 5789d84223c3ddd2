"""Review-queue pages read as index range scans: every order against the
reference :func:`sort_key` over sites with different bands, with unscored
comments, ties and scores whose keys round alike; paging with any small limit
equals one big page; a cursor between keys; filters; many sites; a comment
decided while its page is read; and the statements walk the queue indexes
without sorting."""
import pytest

from moderation.domain import Reason, Status
from moderation.policy import Bands
from moderation.domain import Cursor, Order, QueueFilter, sort_key
from moderation.store import postgres_sql, queue_reads

from .conftest import T0, add
from .test_review import request

BANDS = Bands(approve_below=0.3, reject_above=0.8)
TINY = (0.0, 5e-324, 1e-20, 2e-20)        # below every middle: one key, far from it
SCORES = (None, 0.5, 0.375, 0.625, 0.5, None, 0.55, 0.3, 0.8, 1.0, 0.9999999999999999, 0.97,
          0.625, 0.97, 0.42, 0.05, 0.375, 0.7, None, 0.5) + TINY * 2


@pytest.fixture
async def sites(store, site):
    """journal: the model's bands; blog: its own (0.25, 0.75), whose middle 0.5
    puts 0.375 and 0.625 at exactly one key; radio: only approve_below (0.1)."""
    blog = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    radio = await store.create_site(name="radio", url="u", lang="en", mode="auto", key_hash="kr",
                                    now=T0)
    await store.set_site_thresholds(blog.id, approve_below=0.25, reject_above=0.75)
    await store.set_site_thresholds(radio.id, approve_below=0.1, reject_above=None)
    return site, blog, radio


@pytest.fixture
async def queued(store, sites):
    """Each score of SCORES on each site (ids interleaved across sites), a few
    times alike (ties on created_at too), and comments no queue page shows."""
    ids = []
    for n, score in enumerate(SCORES):
        for s in sites:
            ids.append(await add(store, s.id, score=score, created_at=T0 + n % 5,
                                 thread=f"t{n % 2}", language="fr" if n % 3 == 0 else "en",
                                 reasons=(Reason.NO_MODEL,) if score is None
                                 else (Reason.MODEL_UNCERTAIN,)))
    for n, comment_id in enumerate(ids[::5]):   # readers' flags: 1 to 3 on some, ties among them
        for reader in range(1 + n % 3):
            await store.flag_comment(comment_id, reader=f"r{reader}", reason="abuse", now=T0 + 8,
                                     threshold=0)
    await add(store, sites[0].id, status=Status.PUBLISHED, score=0.5)
    await add(store, sites[1].id, status=Status.SPAM, score=0.55)
    erased = await add(store, sites[2].id, score=0.5, email="gone@example.fr")
    await store.erase_person("gone@example.fr", actor="ada", now=T0 + 9)
    assert (await store.get_comment(erased)).status is Status.REJECTED
    return ids


async def expected(store, order, query_filter=QueueFilter(), after=None):
    """(key, id) of every comment the page may hold, in order: the reference."""
    sites = {s.id: s for s in await store.list_sites()}
    comments = (await store.get_comments(list(range(1, 1000)))).values()
    keyed = []
    for c in comments:
        f = query_filter
        if (c.status.value != f.status or c.erased_at is not None
                or (f.site_ids is not None and c.site_id not in f.site_ids)
                or (f.language is not None and c.language != f.language)
                or (f.reason is not None and f.reason not in c.reasons)
                or (f.thread is not None and c.thread_id != f.thread)
                or (f.min_score is not None and (c.spam_score is None or c.spam_score < f.min_score))
                or (f.max_score is not None and (c.spam_score is None or c.spam_score > f.max_score))):
            continue
        site = sites[c.site_id]
        bands = Bands(BANDS.approve_below if site.approve_below is None else site.approve_below,
                      BANDS.reject_above if site.reject_above is None else site.reject_above)
        key = sort_key(order, c.spam_score, c.created_at, bands, c.flag_count)
        keyed.append(((-key if order.descending else key, c.id), (key, c.id)))
    keyed.sort()
    if after is not None:
        mark = (-after.key if order.descending else after.key, after.id)
        keyed = [k for k in keyed if k[0] > mark]
    return [k[1] for k in keyed]


async def walk(store, order, limit, query_filter=QueueFilter()):
    """Every page with *limit*, each from the previous one's last (key, id)."""
    seen, after = [], None
    while True:
        page = await store.review_queue(query_filter, order=order, after=after, limit=limit,
                                        model_bands=BANDS)
        assert len(page) <= limit
        seen.extend((row.sort_key, row.comment.id) for row in page)
        if len(page) < limit:
            return seen
        after = Cursor(order, page[-1].sort_key, page[-1].comment.id)


@pytest.mark.parametrize("order", list(Order))
async def test_paging_with_any_limit_equals_one_page_and_the_reference(store, queued, order):
    reference = await expected(store, order)
    assert len(reference) == len(queued)
    one_page = await store.review_queue(QueueFilter(), order=order, after=None, limit=1000,
                                        model_bands=BANDS)
    assert [(row.sort_key, row.comment.id) for row in one_page] == reference
    for limit in (1, 2, 3, 7):
        assert await walk(store, order, limit) == reference, limit


async def test_uncertain_puts_unscored_first_and_ties_by_id(store, sites, queued):
    journal, blog, radio = sites
    rows = await store.review_queue(QueueFilter(), order=Order.UNCERTAIN, after=None, limit=1000,
                                    model_bands=BANDS)
    comments = [row.comment for row in rows]
    unscored = [c.id for c in comments if c.spam_score is None]
    assert [c.id for c in comments[:len(unscored)]] == sorted(unscored)
    # blog: 0.375 and 0.625 lie either side of its middle at one key, by id.
    even = [c.id for c in comments if c.site_id == blog.id and c.spam_score in (0.375, 0.625)]
    assert even == sorted(even) and len(even) == 4
    # Distinct tiny scores have one key: by id across them, last of their site.
    tiny = [c.id for c in comments if c.site_id == journal.id and c.spam_score in TINY]
    assert tiny == sorted(tiny) and len(tiny) == 8
    assert [c.id for c in comments if c.site_id == journal.id][-8:] == tiny
    # Each site's own bands: the middle of each band first among its scores.
    firsts = {}
    for c in comments:
        if c.spam_score is not None:
            firsts.setdefault(c.site_id, c.spam_score)
    assert firsts == {journal.id: 0.55, blog.id: 0.5, radio.id: 0.42}


@pytest.mark.parametrize("order", list(Order))
async def test_a_cursor_anywhere_starts_strictly_after_it(store, queued, order):
    reference = await expected(store, order)
    keys = sorted({k for k, _ in reference})
    marks = [(keys[0] - 1.0, 1), (keys[-1] + 1.0, 1), (keys[-1], 10**6)]
    marks += [((a + b) / 2, 5) for a, b in zip(keys, keys[1:])]       # between two keys
    marks += [(k, i) for k, i in reference[::5]] + [(k, 0) for k in keys[::3]]
    for key, comment_id in marks:
        after = Cursor(order, key, comment_id)
        page = await store.review_queue(QueueFilter(), order=order, after=after, limit=4,
                                        model_bands=BANDS)
        assert [(r.sort_key, r.comment.id) for r in page] == (
            await expected(store, order, after=after))[:4], (key, comment_id)


@pytest.mark.parametrize("query_filter", [
    QueueFilter(language="fr"), QueueFilter(thread="t1", max_score=0.6),
    QueueFilter(min_score=0.3, max_score=0.97), QueueFilter(min_score=0.0),
    QueueFilter(status="spam"), QueueFilter(site_ids=(2, 3), language="en"),
    QueueFilter(reason="no_model")])
async def test_filters_page_like_the_reference(store, queued, query_filter):
    for order in Order:
        assert await walk(store, order, 3, query_filter) == await expected(
            store, order, query_filter), order


async def test_many_sites_are_read_a_few_rows_at_a_time(store, monkeypatch):
    """Past FULL_CHUNK_SITES sites each stream first reads fewer rows than a
    page: a site holding most of the queue is read further as needed. (And
    a round of reads spans several statements past STREAMS_PER_STATEMENT.)"""
    monkeypatch.setattr(queue_reads, "STREAMS_PER_STATEMENT", 4)
    site_ids = [(await store.create_site(name=f"s{n}", url="u", lang="en", mode="auto",
                                         key_hash=f"k{n}", now=T0)).id for n in range(7)]
    await store.set_site_thresholds(site_ids[1], approve_below=0.1, reject_above=0.3)
    for n in range(130):
        site_id = site_ids[0] if n % 10 else site_ids[n // 10 % 7]
        await add(store, site_id, score=None if n % 17 == 0 else (n * 37 % 101) / 100,
                  created_at=T0 + n % 9)
    for order in Order:
        reference = await expected(store, order)
        assert len(reference) == 130
        assert await walk(store, order, 50) == reference, order
        assert await walk(store, order, 9) == reference, order


async def test_a_comment_decided_while_its_page_is_read_is_left_out(store, queued, monkeypatch):
    read_back = store.get_comments
    decided = []

    async def decide_first_then_read(ids):
        if not decided:
            decided.append(ids[0])
            await store.apply_decisions([request(ids[0], "approve", "published")], now=T0 + 60)
        return await read_back(ids)

    monkeypatch.setattr(store, "get_comments", decide_first_then_read)
    page = await store.review_queue(QueueFilter(), order=Order.UNCERTAIN, after=None, limit=5,
                                    model_bands=BANDS)
    assert [(r.sort_key, r.comment.id) for r in page] == (await expected(store, Order.UNCERTAIN))[:5]
    assert decided[0] not in [r.comment.id for r in page]


async def test_queue_reads_walk_the_queue_indexes_without_sorting(store, queued, monkeypatch,
                                                                  database_url):
    statements = []
    build = queue_reads.streams_sql

    def keep(*args, **kwargs):
        sql = build(*args, **kwargs)
        statements.append((sql, dict(kwargs["params"])))
        return sql

    monkeypatch.setattr(queue_reads, "streams_sql", keep)
    for order in Order:
        first = await store.review_queue(QueueFilter(), order=order, after=None, limit=10,
                                         model_bands=BANDS)
        for row in (first[3], first[-1]):      # deeper pages: cursor bounds, ties
            await store.review_queue(QueueFilter(), order=order, limit=10, model_bands=BANDS,
                                     after=Cursor(order, row.sort_key, row.comment.id))
    assert statements
    for sql, params in statements:
        if database_url.startswith("sqlite"):
            plan = [r[3] for r in await store._fetchall(f"EXPLAIN QUERY PLAN {sql}", params)]
            searches = [line for line in plan if line.startswith(("SEARCH", "SCAN c"))]
            assert searches and all("USING" in line and "INDEX comments_queue" in line
                                    for line in searches), plan
            assert not any("TEMP B-TREE" in line for line in plan), plan
        else:
            text, values = postgres_sql.named(f"EXPLAIN (COSTS OFF) {sql}", params)
            async with store._pool.acquire() as connection, connection.transaction():
                for setting in ("enable_sort", "enable_incremental_sort", "enable_seqscan",
                                "enable_bitmapscan"):
                    await connection.execute(f"SET LOCAL {setting} = off")
                plan = [r[0] for r in await connection.fetch(text, *values)]
            assert not any("Sort" in line for line in plan), plan
            assert any("comments_queue" in line for line in plan), plan
