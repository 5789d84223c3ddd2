"""The store contract suite runs every test on SQLite (a file in tmp_path) and on
PostgreSQL: one schema of the ``test`` database, migrated once per session and
emptied before each test (ids restart at 1, as in a fresh SQLite file); tests
of migrations themselves take a fresh schema each (``postgres_url``).

PostgreSQL tests are marked ``postgres``; they are skipped, with the reason,
only when no server answers at ``MODERATION_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``). ``.ci/run`` starts the server
first, so in CI they run.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import uuid

import asyncpg
import pytest

from moderation.domain import NewComment, Reason, Status, ThreadIn
from moderation.guard import body_fingerprint
from moderation.store.base import Store, open_store

POSTGRES_URL = os.environ.get("MODERATION_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
T0 = 1_700_000_000.0     # a fixed "now" (2023-11-14 22:13:20 UTC) for the tests


def run_async(coroutine):
    """Run *coroutine* to completion on a loop of its own (from sync fixtures,
    even while the test's loop runs)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The server's URL, or a skip saying why there is none."""
    try:
        run_async(_admin("SELECT 1"))
    except (OSError, asyncio.TimeoutError, asyncpg.CannotConnectNowError) as exc:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL} ({type(exc).__name__}: {exc}); "
                    "start it with: pg_ctlcluster --skip-systemctl-redirect 15 main start")
    return POSTGRES_URL


def _schema_url(server_url: str, schema: str) -> str:
    separator = "&" if "?" in server_url else "?"
    return f"{server_url}{separator}search_path={schema}"


@pytest.fixture
def postgres_url(postgres_server):
    """A URL on a fresh, empty schema (the store migrates it), dropped afterwards."""
    schema = f"test_{uuid.uuid4().hex[:16]}"
    run_async(_admin(f"CREATE SCHEMA {schema}"))
    yield _schema_url(postgres_server, schema)
    run_async(_admin(f"DROP SCHEMA {schema} CASCADE"))


# Every table of the schema, children before parents (the order rows are deleted in).
TABLES = ("outbox", "reader_flags", "drift_episodes", "webhooks", "training_labels", "sessions", "idempotency_keys",
          "audit_events", "admin_events", "author_rules",
          "client_ips", "comments", "threads", "moderators", "thread_surges", "sites", "model_reloads",
          "model_workers", "signin_attempts", "model_changes")


async def _migrate(url: str) -> None:
    async with open_store(url):
        pass


async def _empty(url: str) -> None:
    """Delete every row but the migrations' and restart the ids."""
    connection = await asyncpg.connect(url, timeout=5)
    try:
        found = {r[0] for r in await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
        unknown = found - {"schema_migrations", *TABLES}
        assert not unknown, f"add {sorted(unknown)} to TABLES in tests/store/conftest.py"
        tables = [t for t in TABLES if t in found]
        await connection.execute("; ".join(
            [f"DELETE FROM {t}" for t in tables]
            + [f"ALTER TABLE {t} ALTER COLUMN id RESTART" for t in tables
               if t not in ("sessions", "idempotency_keys", "client_ips", "model_workers")]))
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def contract_schema(postgres_server):
    """The URL of the schema the contract tests share, migrated once."""
    schema = f"contract_{uuid.uuid4().hex[:16]}"
    run_async(_admin(f"CREATE SCHEMA {schema}"))
    url = _schema_url(postgres_server, schema)
    run_async(_migrate(url))
    yield url
    run_async(_admin(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """``MODERATION_DATABASE_URL`` of an empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url = request.getfixturevalue("contract_schema")
    run_async(_empty(url))
    return url


@pytest.fixture
async def open_stores(database_url):
    """``await open_stores()``: another opened store on the same database (as a
    second service instance would hold), closed after the test."""
    opened: list[Store] = []

    async def make() -> Store:
        store = open_store(database_url)
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in reversed(opened):
        await store.close()


@pytest.fixture
async def store(open_stores) -> Store:
    return await open_stores()


@pytest.fixture
async def site(store):
    return await store.create_site(name="journal", url="https://journal.example", lang="en",
                                   mode="auto", key_hash="key-journal", now=T0)


def new_comment(site_id: int, *, thread: str = "article-1", status: Status = Status.PENDING,
                score: float | None = 0.5, created_at: float = T0, email: str = "reader@example.fr",
                body: str | None = None, ip: str = "203.0.113.7", parent_id: int | None = None,
                reasons: tuple[Reason, ...] = (Reason.MODEL_UNCERTAIN,), language: str = "en",
                name: str = "Reader", url: str | None = None, title: str | None = None,
                model_version: str | None = "toy-1") -> NewComment:
    """A comment as the intake would write it."""
    body = body if body is not None else f"Comment scored {score} at {created_at}"
    return NewComment(
        site_id=site_id, thread=ThreadIn(id=thread, url=f"https://journal.example/{thread}"
                                         if url is None else url,
                                         title=thread.title() if title is None else title),
        parent_id=parent_id, author_name=name, author_email=email, body=body,
        body_hash=body_fingerprint(body), language=language, spam_score=score,
        model_version=model_version if score is not None else None, status=status,
        reasons=reasons, ip_prefix="203.0.113.0/24" if ip else "", ip_full=ip,
        user_agent="Mozilla/5.0 (test)", referrer="https://journal.example/", created_at=created_at)


async def add(store, site_id: int, **fields) -> int:
    """Insert one comment; its id."""
    return (await store.insert_comment(new_comment(site_id, **fields))).comment_id
