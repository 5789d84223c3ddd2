"""The drift alarm's store contract, on SQLite and PostgreSQL: the aggregate the
monitor reads, drift episodes (one open per site, across processes and hosts)
and their model.drift webhook rows (migration 0011)."""
import asyncio
import sqlite3

import asyncpg
import pytest

from moderation.domain import Status
from moderation.scoring.drift import SCORE_EDGES, score_bin
from moderation.store import postgres_sql
from moderation.store import sqlite as sqlite_store
from moderation.store.base import DecisionRequest, open_store
from moderation.store.postgres import PostgresStore

from .conftest import T0, add

EPISODE = dict(reference="traffic", model_version="toy-1", threshold=0.25, score_psi=0.61,
               language_psi=0.02, comments=240, reference_comments=1510)


def counted(rows):
    return {(r.current, r.excluded, r.score_bin, r.language): r.count for r in rows}


async def test_drift_counts_bins_the_model_s_scores_by_period_and_language(store, site):
    blog = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    # Before the window (T0 + 100): the reference; from it on: the window.
    await add(store, site.id, score=0.001, created_at=T0 + 10)
    await add(store, site.id, score=0.001, created_at=T0 + 20, status=Status.PUBLISHED)
    await add(store, site.id, score=0.6, created_at=T0 + 30, language="fr", status=Status.SPAM)
    await add(store, site.id, score=0.7, created_at=T0 + 40, model_version="older-model")  # another model
    await add(store, site.id, score=None, created_at=T0 + 50)                            # not scored
    await add(store, site.id, score=0.99, created_at=T0 + 60)                            # left out below
    await add(store, site.id, score=0.5, created_at=T0 + 100)                            # in the window
    await add(store, site.id, score=1.0, created_at=T0 + 150, status=Status.REJECTED)
    await add(store, site.id, score=0.2, created_at=T0 + 200)                            # at `until`: out
    await add(store, site.id, score=0.2, created_at=T0 + 5)                              # before `since`
    await add(store, blog.id, score=0.5, created_at=T0 + 120)                            # another site
    rows = await store.drift_counts(site.id, since=T0 + 10, split=T0 + 100, until=T0 + 200,
                                    score_edges=SCORE_EDGES, model_version="toy-1",
                                    excluded=[(T0 + 55, T0 + 65), (T0 + 140, T0 + 160)])
    assert counted(rows) == {
        (False, False, score_bin(0.001), "en"): 2,
        (False, False, score_bin(0.6), "fr"): 1,
        (False, False, -1, "en"): 2,                 # the other model's score and the unscored one
        (False, True, score_bin(0.99), "en"): 1,     # before the window, in a left-out interval
        (True, False, score_bin(0.5), "en"): 1,
        (True, False, score_bin(1.0), "en"): 1,      # in the window: never left out
    }
    assert score_bin(0.5) == 5 and score_bin(1.0) == 9
    # No model in service: nothing is in a score bin.
    rows = await store.drift_counts(site.id, since=T0, split=T0 + 100, until=T0 + 200,
                                    score_edges=SCORE_EDGES, model_version=None)
    assert {r.score_bin for r in rows} == {-1} and sum(r.count for r in rows) == 9
    assert not any(r.excluded for r in rows)


async def test_erased_comments_still_count(store, site):
    await add(store, site.id, score=0.001, created_at=T0 + 1, email="gone@example.org")
    await store.erase_person("gone@example.org", actor="ada", now=T0 + 2)
    rows = await store.drift_counts(site.id, since=T0, split=T0, until=T0 + 10,
                                    score_edges=SCORE_EDGES, model_version="toy-1")
    assert counted(rows) == {(True, False, 0, "en"): 1}


async def subscribe(store, site, events=("model.drift",), url="https://hooks.example/drift"):
    return await store.add_webhook(site_id=site.id, url=url, secret="k", events=list(events), now=T0)


async def claim_all(store, now=T0 + 1000, token="lease-a"):
    return await store.claim_deliveries(now=now, lease_until=now + 60, lease_token=token, limit=100)


async def test_starting_an_episode_enqueues_model_drift_for_the_subscribed_webhooks(store, site):
    drift_hook = await subscribe(store, site)
    every = await subscribe(store, site, events=("comment.published", "model.drift"),
                            url="https://hooks.example/every")
    await subscribe(store, site, events=("comment.published",), url="https://hooks.example/comments")
    blog = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    await subscribe(store, blog, url="https://hooks.example/blog")            # another site's
    episode = await store.start_drift_episode(site_id=site.id, started_at=T0 + 100,
                                              quiet_since=T0 + 40, **EPISODE)
    assert (episode.site_id, episode.site, episode.started_at, episode.ended_at) == (
        site.id, "journal", T0 + 100, None)
    assert (episode.reference, episode.model_version, episode.threshold, episode.score_psi,
            episode.language_psi, episode.comments, episode.reference_comments) == (
        "traffic", "toy-1", 0.25, 0.61, 0.02, 240, 1510)
    deliveries = await claim_all(store)
    assert sorted((d.webhook_id, d.event, d.status, d.occurred_at, d.site, d.comment) for d in deliveries) == [
        (drift_hook.id, "model.drift", "started", T0 + 100, "journal", None),
        (every.id, "model.drift", "started", T0 + 100, "journal", None)]
    assert {d.drift for d in deliveries} == {episode}
    # Delivered like any row; counted by list_webhooks.
    for delivery in deliveries:
        assert await store.finish_delivery(delivery.id, lease_token="lease-a", now=T0 + 1001,
                                           delivered=True, next_attempt_at=None)
    infos = {i.webhook.id: i for i in await store.list_webhooks(site.id)}
    assert (infos[drift_hook.id].delivered, infos[every.id].delivered) == (1, 1)
    # Ending the episode sends nothing.
    assert await store.end_drift_episode(episode.id, ended_at=T0 + 500)
    assert await claim_all(store, now=T0 + 2000, token="lease-b") == []


async def test_one_open_episode_per_site_and_none_just_after_one_ended(store, site):
    await subscribe(store, site)
    blog = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    first = await store.start_drift_episode(site_id=site.id, started_at=T0, quiet_since=T0 - 60, **EPISODE)
    assert first is not None
    assert await store.start_drift_episode(site_id=site.id, started_at=T0 + 60, quiet_since=T0,
                                           **EPISODE) is None
    other = await store.start_drift_episode(site_id=blog.id, started_at=T0 + 60, quiet_since=T0,
                                            **EPISODE)
    assert other is not None and other.site == "blog"
    assert await store.end_drift_episode(first.id, ended_at=T0 + 120)
    assert not await store.end_drift_episode(first.id, ended_at=T0 + 130)     # ended already
    # Within the quiet time after its end: nothing starts (a worker whose measure lags).
    assert await store.start_drift_episode(site_id=site.id, started_at=T0 + 150, quiet_since=T0 + 90,
                                           **EPISODE) is None
    again = await store.start_drift_episode(site_id=site.id, started_at=T0 + 200, quiet_since=T0 + 140,
                                            **EPISODE)
    assert again is not None and again.id not in (first.id, other.id)
    rows = await claim_all(store)
    assert sorted(d.drift.id for d in rows) == [first.id, again.id]        # one event per episode

    listed = await store.drift_episodes(since=T0)
    assert [(e.id, e.ended_at) for e in listed] == [(first.id, T0 + 120), (other.id, None), (again.id, None)]
    assert [e.id for e in await store.drift_episodes(since=T0 + 121)] == [other.id, again.id]
    assert [e.id for e in await store.drift_episodes(since=T0, site_id=blog.id)] == [other.id]


async def test_workers_starting_one_episode_at_once_open_it_once(store, open_stores, site):
    await subscribe(store, site)
    stores = [store] + [await open_stores() for _ in range(4)]
    started = await asyncio.gather(*(
        s.start_drift_episode(site_id=site.id, started_at=T0 + i, quiet_since=T0 - 60, **EPISODE)
        for i, s in enumerate(stores)))
    assert len([e for e in started if e is not None]) == 1
    [open_one] = await store.drift_episodes(since=T0)
    assert open_one.ended_at is None
    assert [d.drift.id for d in await claim_all(store)] == [open_one.id]


async def test_a_drift_row_goes_with_a_purge_and_with_its_webhook(store, site):
    hook = await subscribe(store, site)
    first = await store.start_drift_episode(site_id=site.id, started_at=T0, quiet_since=T0 - 60,
                                            **EPISODE)
    [delivery] = await claim_all(store)
    await store.finish_delivery(delivery.id, lease_token="lease-a", now=T0 + 5, delivered=True,
                                next_attempt_at=None)
    assert await store.purge_outbox(before=T0 + 10) == 1
    await store.end_drift_episode(first.id, ended_at=T0 + 20)
    await store.start_drift_episode(site_id=site.id, started_at=T0 + 100, quiet_since=T0 + 40,
                                    **EPISODE)                             # queued, not delivered
    assert await store.remove_webhook(hook.id)
    assert await claim_all(store, now=T0 + 5000, token="t") == []
    assert len(await store.drift_episodes(since=0)) == 2                  # the episodes stay


async def test_comment_events_are_unchanged_by_the_new_outbox(store, site):
    hook = await subscribe(store, site, events=("comment.pending", "comment.published", "model.drift"))
    pending = await add(store, site.id, created_at=T0 + 1)
    await store.apply_decisions([DecisionRequest(pending, "pending", "published", "claire", "approve")],
                                now=T0 + 2)
    deliveries = await claim_all(store)
    assert [(d.webhook_id, d.comment.id, d.event, d.drift) for d in deliveries] == [
        (hook.id, pending, "comment.pending", None), (hook.id, pending, "comment.published", None)]


# -- migration 0011 on a database that has data, and with 0010 missing
def _sqlite_up_to(path, last):
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("PRAGMA foreign_keys = ON")
        for number, sql in sqlite_store.migrations():
            if number <= last:
                for statement in sqlite_store.sql_statements(sql):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")
        db.execute("INSERT INTO sites (id, name, url, lang, mode, key_hash, created_at) "
                   "VALUES (1, 'journal', 'u', 'en', 'auto', 'k', 0)")
        db.execute("INSERT INTO webhooks (site_id, url, secret, events, created_at) "
                   "VALUES (1, 'https://h.example', 's', '[\"comment.pending\", \"model.drift\"]', 0)")


#: A thread and a pending comment with the columns of schema 9 (the store's
#: own insert names columns that later migrations add).
OLD_THREAD = f"INSERT INTO threads (site_id, ext_id, created_at) VALUES (:site, 'old', {T0})"
OLD_COMMENT = f"""INSERT INTO comments (site_id, thread_id, status, author_name, author_email, body,
                    body_hash, language, created_at, updated_at)
                  SELECT :site, id, 'pending', 'Reader', 'reader@example.fr', 'An old comment', 'h', 'en',
                    {T0}, {T0} FROM threads WHERE ext_id = 'old' RETURNING id"""


def _old_comment_sqlite(db) -> int:
    db.execute(OLD_THREAD, {"site": 1})
    return db.execute(OLD_COMMENT, {"site": 1}).fetchone()[0]


async def _old_comment_postgres(store, site_id: int) -> int:
    await store._fetch(OLD_THREAD, {"site": site_id})
    return (await store._fetch(OLD_COMMENT, {"site": site_id}))[0][0]


@pytest.mark.parametrize("numbers", [None, "without 0010"])
async def test_sqlite_0011_keeps_the_outbox_and_its_triggers(tmp_path, monkeypatch, numbers):
    path = tmp_path / "old.db"
    everything = sqlite_store.migrations()
    kept = {n for n, _ in everything if numbers is None or n != 10}   # 0010 not there yet, or there
    _sqlite_up_to(path, 9)   # 0001 to 0009, then a comment with its queued event
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA foreign_keys = ON")
        first = _old_comment_sqlite(db)
    with sqlite3.connect(path) as db:
        before = db.execute("SELECT id, comment_id, event FROM outbox").fetchall()
    assert before == [(1, first, "comment.pending")]
    monkeypatch.setattr(sqlite_store, "migrations", lambda: [(n, sql) for n, sql in everything if n in kept])
    store = open_store(f"sqlite:///{path}")
    await store.open()
    try:
        second = await add(store, 1, created_at=T0 + 1)           # the triggers made again
        episode = await store.start_drift_episode(site_id=1, started_at=T0 + 2, quiet_since=T0,
                                                  **EPISODE)
        deliveries = await claim_all(store)
    finally:
        await store.close()
    assert [(d.id, d.comment.id if d.comment else None, d.event, d.drift.id if d.drift else None)
            for d in deliveries] == [(1, first, "comment.pending", None), (2, second, "comment.pending", None),
                                     (3, None, "model.drift", episode.id)]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == max(kept)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "outbox_0011" not in tables and "drift_episodes" in tables
        assert ("thread_surges" in tables) is (numbers is None)
        with pytest.raises(sqlite3.IntegrityError):     # a row is about a comment or an episode
            db.execute("INSERT INTO outbox (webhook_id, event, status, occurred_at, next_attempt_at) "
                       "VALUES (1, 'model.drift', 'started', 0, 0)")


@pytest.mark.postgres
@pytest.mark.parametrize("numbers", [None, "without 0010"])
async def test_postgres_0011_keeps_the_outbox(postgres_url, monkeypatch, numbers):
    everything = postgres_sql.migrations()
    skip = set() if numbers is None else {10}
    monkeypatch.setattr(postgres_sql, "migrations",
                        lambda: [(n, sql) for n, sql in everything if n <= 9 and n not in skip])
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        site = await store.create_site(name="journal", url="u", lang="en", mode="auto", key_hash="k",
                                       now=T0)
        await store.add_webhook(site_id=site.id, url="https://h.example", secret="s",
                                events=["comment.pending", "model.drift"], now=T0)
        first = await _old_comment_postgres(store, site.id)
    finally:
        await store.close()
    monkeypatch.setattr(postgres_sql, "migrations",
                        lambda: [(n, sql) for n, sql in everything if n not in skip])
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        assert await store.schema_version() == max(n for n, _ in everything)
        second = await add(store, site.id, created_at=T0 + 1)
        episode = await store.start_drift_episode(site_id=site.id, started_at=T0 + 2, quiet_since=T0,
                                                  **EPISODE)
        deliveries = await claim_all(store)
        with pytest.raises(asyncpg.CheckViolationError):
            await store._fetch("INSERT INTO outbox (webhook_id, event, status, occurred_at, "
                               "next_attempt_at) VALUES (1, 'model.drift', 'started', 0, 0)", {})
        tables = {r[0] for r in await store._fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()", {})}
    finally:
        await store.close()
    assert [(d.comment.id if d.comment else None, d.event, d.drift.id if d.drift else None)
            for d in deliveries] == [(first, "comment.pending", None), (second, "comment.pending", None),
                                     (None, "model.drift", episode.id)]
    assert ("thread_surges" in tables) is not skip
