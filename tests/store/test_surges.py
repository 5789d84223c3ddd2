"""Surge mode's table (``thread_surges``, migration 0010) and reads, on both
backends: the thread's count and surge and the author's history in the guard's
read, a surge started once and pushed back across instances, its end recorded
once, the site's baseline histogram; and the migration itself."""
import asyncio
import sqlite3

from moderation.domain import Reason, Status
from moderation.store import postgres_sql
from moderation.store import sqlite as sqlite_store
from moderation.store.base import open_store

from .conftest import T0, add


async def activity(store, site, *, thread="hot", email="reader@example.fr", since=T0 - 600, cap=100):
    return await store.recent_activity(site_id=site.id, ip_prefix="", email=email, body_hash="x",
                                       rate_since=T0 - 60, duplicate_since=T0 - 60,
                                       thread_ext_id=thread, thread_since=since, thread_cap=cap)


async def start(store, site, *, thread="hot", now=T0, until=T0 + 1800, comments=30, threshold=30,
                baseline=4.0):
    return await store.record_surge(site_id=site.id, thread_ext_id=thread, now=now, until=until,
                                    comments=comments, threshold=threshold, baseline=baseline,
                                    window_seconds=600.0)


async def test_the_guard_read_counts_the_threads_recent_comments_up_to_a_cap(store, site):
    other = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    await add(store, site.id, thread="hot", created_at=T0 - 700, body="too old")
    for i in range(5):
        await add(store, site.id, thread="hot", created_at=T0 - 100 - i, body=f"hot {i}",
                  status=Status.SPAM if i == 0 else Status.PENDING)     # every status counts
    await add(store, site.id, thread="calm", created_at=T0 - 10, body="another thread")
    await add(store, other.id, thread="hot", created_at=T0 - 10, body="another site")
    found = await activity(store, site)
    assert (found.thread_count, found.surge_until, found.author_published) == (5, None, False)
    assert (await activity(store, site, cap=3)).thread_count == 3
    assert (await activity(store, site, thread="new")).thread_count == 0
    assert (await activity(store, site, since=T0 - 102)).thread_count == 3
    # The guard's counts are left out when it needs none.
    alone = await store.recent_activity(site_id=site.id, ip_prefix="203.0.113.0/24", email="reader@example.fr",
                                        body_hash="x", rate_since=0, duplicate_since=0, guard=False,
                                        thread_ext_id="hot", thread_since=T0 - 600, thread_cap=100)
    assert (alone.ip_count, alone.ip_oldest_at, alone.email_count, alone.email_oldest_at, alone.duplicate,
            alone.thread_count) == (0, None, 0, None, False, 5)
    # Without a thread the read is the guard's alone.
    plain = await store.recent_activity(site_id=site.id, ip_prefix="", email="reader@example.fr",
                                        body_hash="x", rate_since=T0 - 60, duplicate_since=T0 - 60)
    assert (plain.thread_count, plain.surge_until, plain.author_published) == (0, None, False)


async def test_an_author_is_known_by_a_published_comment_on_the_site_whatever_the_case(store, site):
    other = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    await add(store, site.id, email="pending@example.fr", body="waits")
    await add(store, other.id, email="elsewhere@example.fr", status=Status.PUBLISHED,
              reasons=(Reason.MODEL_HAM,), body="published on another site")
    await add(store, site.id, email="Known@Example.FR", status=Status.PUBLISHED,
              reasons=(Reason.MODEL_HAM,), body="published here", thread="old-thread")
    assert (await activity(store, site, email="known@example.fr")).author_published is True
    assert (await activity(store, site, email="KNOWN@example.fr")).author_published is True
    assert (await activity(store, site, email="pending@example.fr")).author_published is False
    assert (await activity(store, site, email="elsewhere@example.fr")).author_published is False
    assert (await activity(store, site, email="nobody@example.fr")).author_published is False


async def test_a_surge_starts_once_is_pushed_back_never_forward_and_is_seen_by_another_instance(
        store, open_stores, site):
    surge, started = await start(store, site)
    assert started is True
    assert (surge.site_id, surge.thread_id, surge.started_at, surge.until, surge.ended_at) == (
        site.id, "hot", T0, T0 + 1800, None)
    assert (surge.comments, surge.threshold, surge.baseline, surge.window_seconds,
            surge.extensions) == (30, 30, 4.0, 600.0, 0)
    other = await open_stores()
    assert (await activity(other, site)).surge_until == T0 + 1800
    assert (await activity(other, site, thread="calm")).surge_until is None
    later, started = await start(other, site, now=T0 + 600, until=T0 + 2400, comments=31)
    assert started is False
    assert (later.id, later.started_at, later.until, later.comments, later.extensions) == (
        surge.id, T0, T0 + 2400, 30, 1)
    earlier, started = await start(store, site, now=T0 + 601, until=T0 + 2000)
    assert started is False and (earlier.until, earlier.extensions) == (T0 + 2400, 1)
    assert (await activity(store, site)).surge_until == T0 + 2400
    assert [s.id for s in await store.thread_surges(site.id, "hot")] == [surge.id]


async def test_a_new_surge_after_the_end_records_the_end_and_starts_again(store, site):
    first, _ = await start(store, site, until=T0 + 100, baseline=None)
    assert first.baseline is None
    second, started = await start(store, site, now=T0 + 150, until=T0 + 1950)
    assert started is True and second.id != first.id
    newest, oldest = await store.thread_surges(site.id, "hot")
    assert (newest.id, newest.started_at, newest.ended_at) == (second.id, T0 + 150, None)
    assert (oldest.id, oldest.ended_at, oldest.until) == (first.id, T0 + 100, T0 + 100)
    assert oldest.active(T0 + 50) is False and newest.active(T0 + 200) is True
    assert [s.id for s in await store.thread_surges(site.id, "hot", limit=1)] == [second.id]


async def test_ends_are_recorded_once_when_their_time_has_come(store, open_stores, site):
    a, _ = await start(store, site, thread="a", until=T0 + 100)
    b, _ = await start(store, site, thread="b", until=T0 + 200)
    assert await store.end_surges(now=T0 + 99) == []
    other = await open_stores()
    ended = await asyncio.gather(store.end_surges(now=T0 + 150), other.end_surges(now=T0 + 150))
    [only] = [s for batch in ended for s in batch]      # one of the two instances ended it
    assert (only.id, only.ended_at) == (a.id, T0 + 100)
    assert [s.id for s in await store.end_surges(now=T0 + 300)] == [b.id]
    assert await store.end_surges(now=T0 + 400) == []
    assert (await activity(store, site, thread="a")).surge_until is None
    assert [s.ended_at for s in await store.thread_surges(site.id, "b")] == [T0 + 200]


async def test_active_surges_are_the_open_ones_not_yet_over(store, site):
    other = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    on, _ = await start(store, site, thread="on")
    over, _ = await start(store, site, thread="over", until=T0 + 10)
    elsewhere, _ = await start(store, other, thread="on")
    assert [s.id for s in await store.active_surges(now=T0 + 20)] == [on.id, elsewhere.id]
    assert [s.id for s in await store.active_surges(now=T0 + 5)] == [on.id, over.id, elsewhere.id]
    assert [s.id for s in await store.active_surges(now=T0 + 20, site_ids=[site.id])] == [on.id]
    assert await store.active_surges(now=T0 + 20, site_ids=[]) == []
    assert [s.id for s in await store.active_surges(now=T0 + 5, thread_ids=["over", "x"])] == [over.id]
    assert [s.id for s in await store.active_surges(now=T0 + 5, site_ids=[other.id],
                                                    thread_ids=["on"])] == [elsewhere.id]
    assert await store.active_surges(now=T0 + 5, thread_ids=[]) == []
    assert await store.active_surges(now=T0 + 5000) == []


async def test_instances_starting_one_threads_surge_at_once_start_it_once(store, open_stores, site):
    stores = [store] + [await open_stores() for _ in range(3)]
    results = await asyncio.gather(*(start(s, site, now=T0 + i * 0.001, until=T0 + 1800 + i)
                                     for i, s in enumerate(stores)))
    assert sum(started for _, started in results) == 1
    [surge] = await store.thread_surges(site.id, "hot")
    assert surge.until == T0 + 1800 + 3 and surge.ended_at is None


async def test_the_baseline_counts_comments_per_thread_and_window(store, site):
    other = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    window = 600.0
    start_at = (T0 // window) * window - 10 * window       # a window boundary, ten windows back
    for i in range(3):                                        # thread a: 3 in one window
        await add(store, site.id, thread="a", created_at=start_at + i, body=f"a{i}")
    await add(store, site.id, thread="a", created_at=start_at + window, body="a next window")
    for i in range(3):                                        # thread b: 1, 1, 1 in three windows
        await add(store, site.id, thread="b", created_at=start_at + i * window + 5, body=f"b{i}",
                  status=Status.SPAM)
    await add(store, site.id, thread="c", created_at=start_at - 1, body="before the range")
    await add(store, site.id, thread="c", created_at=T0, body="at the range's end")
    await add(store, other.id, thread="a", created_at=start_at, body="another site")
    histogram = await store.surge_baseline(site.id, since=start_at, until=T0, window_seconds=window)
    assert histogram == {3: 1, 1: 4}
    assert await store.surge_baseline(site.id, since=T0 + 1, until=T0 + 2, window_seconds=window) == {}


async def test_a_database_at_migration_9_gets_0010_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        for number, sql in sqlite_store.migrations():
            if number < 10:
                for statement in sqlite_store.sql_statements(sql):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")
        db.execute("INSERT INTO sites (name, url, lang, mode, key_hash, created_at) "
                   "VALUES ('journal', 'u', 'en', 'auto', 'k', 0)")
    store = open_store(f"sqlite:///{path}")
    await store.open()
    try:
        [site] = await store.list_sites()
        surge, started = await start(store, site)
        assert started and (await activity(store, site)).surge_until == surge.until
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == sqlite_store.migrations()[-1][0]
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"thread_surges_open", "thread_surges_due", "comments_thread_recent"} <= indexes


def test_migrations_are_numbered_without_a_gap_on_both_backends():
    """The runners apply the files numbered above the database's version
    (``PRAGMA user_version``, ``MAX(version)`` of ``schema_migrations``): a file
    that lands with a number below a version already applied would be skipped
    for good. A gap in the numbers is such a file still to come."""
    for backend in (sqlite_store, postgres_sql):
        numbers = [n for n, _ in backend.migrations()]
        assert numbers == list(range(1, len(numbers) + 1)), backend.__name__
    names = {p.name for p in _migration_files("sqlite")}
    assert names == {p.name for p in _migration_files("postgres")}
    assert "0010_thread_surges.sql" in names


def _migration_files(backend):
    from importlib import resources
    return [p for p in (resources.files("moderation.store") / "migrations" / backend).iterdir()
            if p.name.endswith(".sql")]


async def test_the_intakes_reads_on_sqlite_are_batched_and_fail_alone(tmp_path):
    from moderation.store.sqlite_reads import BatchedReader
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    await store.open()
    await store.close()
    reader = BatchedReader(str(tmp_path / "x.db"), sqlite_store.CONNECTION_PRAGMAS)
    await reader.open()
    trips = []
    read_batch = reader._read_batch
    reader._read_batch = lambda batch: trips.append(len(batch)) or read_batch(batch)
    try:
        rows = await asyncio.gather(*(reader.fetchone("SELECT :n * 2", {"n": n}) for n in range(10)),
                                    reader.fetchone("SELECT * FROM no_such_table"), return_exceptions=True)
        assert rows[:10] == [(n * 2,) for n in range(10)]
        assert isinstance(rows[10], sqlite3.OperationalError)
        assert trips == [11]                       # one trip to the reader's thread for all
        assert await reader.fetchone("SELECT 1 WHERE 0") is None
        try:
            await reader.fetchone("DELETE FROM sites")
        except sqlite3.OperationalError as exc:    # a reader never writes
            assert "readonly" in str(exc)
        else:
            raise AssertionError("a write went through the reader")
    finally:
        await reader.close()
