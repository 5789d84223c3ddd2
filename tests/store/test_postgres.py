"""What only PostgreSQL has: its URL, its migrations shared by instances
starting at once, its health probe, and service processes (separate
interpreters, as on several hosts) sharing one database."""
import asyncio
import multiprocessing
import sqlite3

import asyncpg
import pytest

from moderation.store import postgres_sql, sqlite as sqlite_store
from moderation.store.base import CONFLICT, DECIDED, StoreError, open_store
from moderation.store.postgres import PostgresStore

from . import workers
from .conftest import T0, add

pytestmark = pytest.mark.postgres
PROCESSES = 4


def run_processes(target, argument_lists, timeout=60):
    """Start one spawned process per argument list (each gets a shared barrier and
    result queue last), wait for them all; their results."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(len(argument_lists)), context.Queue()
    processes = [context.Process(target=target, args=(*args, barrier, results))
                 for args in argument_lists]
    for process in processes:
        process.start()
    collected = [results.get(timeout=timeout) for _ in processes]
    for process in processes:
        process.join(timeout)
        assert process.exitcode == 0
    return collected


def test_open_store_dispatches_postgres_urls():
    for url in ("postgresql://u@db.example:5432/moderation", "postgres://u@db.example/moderation"):
        store = open_store(url)
        assert isinstance(store, PostgresStore) and store.dsn == url
    with pytest.raises(StoreError, match="postgresql://"):
        open_store("mysql://u@db.example/moderation")


async def test_an_unreachable_server_is_a_store_error():
    store = PostgresStore("postgresql://postgres@127.0.0.1:1/test")
    with pytest.raises(StoreError, match="cannot connect"):
        await store.open()


async def test_a_read_only_database_is_reported_unwritable(postgres_url):
    store = PostgresStore(postgres_url)
    await store.open()
    await store.close()
    read_only = PostgresStore(postgres_url, server_settings={"default_transaction_read_only": "on"})
    await read_only.open()     # migrated already: nothing to write
    try:
        with pytest.raises(StoreError, match="not writable"):
            await read_only.check_writable()
    finally:
        await read_only.close()


def test_migrations_are_numbered_as_sqlite_ones():
    assert [n for n, _ in postgres_sql.migrations()] == [n for n, _ in sqlite_store.migrations()]


async def test_both_backends_have_the_same_tables_and_columns(postgres_url, tmp_path):
    lite = sqlite_store.SQLiteStore(tmp_path / "x.db")
    await lite.open()
    await lite.close()
    with sqlite3.connect(tmp_path / "x.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        sqlite_columns = {t: {r[1] for r in db.execute(f"PRAGMA table_info({t})")} for t in tables}
        user_version = db.execute("PRAGMA user_version").fetchone()[0]
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        rows = await store._fetch("""SELECT table_name, column_name FROM information_schema.columns
                                     WHERE table_schema = current_schema()""", {})
        version = await store.schema_version()
    finally:
        await store.close()
    pg_columns: dict[str, set] = {}
    for table, column in rows:
        pg_columns.setdefault(table, set()).add(column)
    assert pg_columns.pop("schema_migrations") == {"version", "applied_at"}
    assert pg_columns == sqlite_columns
    assert version == user_version


async def test_instances_starting_at_once_migrate_once(postgres_url):
    stores = [PostgresStore(postgres_url) for _ in range(6)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        rows = await stores[0]._fetch("SELECT version FROM schema_migrations ORDER BY version", {})
        assert [r[0] for r in rows] == [n for n, _ in postgres_sql.migrations()]
        assert {await s.schema_version() for s in stores} == {rows[-1][0]}
    finally:
        await asyncio.gather(*(s.close() for s in stores))


def test_processes_starting_at_once_migrate_once(postgres_url):
    assert run_processes(workers.open_and_close, [(postgres_url,)] * PROCESSES) == ["ok"] * PROCESSES

    async def versions():
        connection = await asyncpg.connect(postgres_url)
        try:
            return [r[0] for r in await connection.fetch("SELECT version FROM schema_migrations")]
        finally:
            await connection.close()
    assert sorted(asyncio.run(versions())) == [n for n, _ in postgres_sql.migrations()]


async def test_deciders_in_separate_processes_one_winner_per_comment(postgres_url):
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        site = await store.create_site(name="journal", url="u", lang="en", mode="auto",
                                       key_hash="k", now=T0)
        ids = [await add(store, site.id) for _ in range(60)]
        actions = [("approve", "published"), ("reject", "rejected"), ("spam", "spam"), ("spam", "spam")]
        results = await asyncio.to_thread(run_processes, workers.decide_everything, [
            (postgres_url, ids, action, new, f"moderator-{n}")
            for n, (action, new) in enumerate(actions[:PROCESSES])])
        outcomes = [(actor, *o) for actor, batch in results for o in batch]
        assert len(outcomes) == PROCESSES * len(ids)
        for comment_id in ids:
            mine = [o for o in outcomes if o[1] == comment_id]
            assert sorted(o[2] for o in mine) == [CONFLICT] * (PROCESSES - 1) + [DECIDED]
            winner = next(o for o in mine if o[2] == DECIDED)
            assert {o[3] for o in mine} == {winner[3]}      # losers see the winner's status
            trail = await store.audit_trail(comment_id)
            assert [(e.action, e.actor) for e in trail][1:] == [(e.action, winner[0]) for e in trail[1:]]
            assert len(trail) == 2
            assert (await store.get_comment(comment_id)).status.value == winner[3]
        # Which process wins which comment is up to the scheduler (on a busy machine
        # one may decide all 60 before the others start): only the above is asserted.
    finally:
        await store.close()


async def test_idempotency_keys_across_processes_one_comment_each(postgres_url):
    store = PostgresStore(postgres_url)
    await store.open()
    try:
        site = await store.create_site(name="journal", url="u", lang="en", mode="auto",
                                       key_hash="k", now=T0)
        keys = [f"key-{i}" for i in range(30)]
        results = await asyncio.to_thread(run_processes, workers.submit_keyed, [
            (postgres_url, site.id, keys, f"worker-{n}") for n in range(PROCESSES)])
        outcomes = [o for _, batch in results for o in batch]
        for key in keys:
            mine = [o for o in outcomes if o[0] == key]
            assert len({o[1] for o in mine}) == 1 and sum(not o[2] for o in mine) == 1
        assert len(await store.pending_comments(after_id=0, limit=1000)) == len(keys)
    finally:
        await store.close()
