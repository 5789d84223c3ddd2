"""The store's part: sessions kept as hashes with an expiry, and a comment's
thread around it."""
import time

from moderation.domain import Status
from moderation.store.sqlite import SQLiteStore

from ..review.conftest import desk, seed  # noqa: F401  (the desk fixture)


async def test_sessions_live_until_they_expire_and_die_when_signed_out(tmp_path):
    async with SQLiteStore(tmp_path / "s.db") as store:
        moderator = await store.create_moderator(name="claire", role="moderator", site_ids=[2, 3],
                                                 token_hash="t", now=time.time())
        now = time.time()
        await store.create_session(id_hash="h1", moderator_id=moderator.id, now=now, expires_at=now + 60)
        record = await store.session_by_hash("h1", now=now)
        assert record.moderator == moderator and record.expires_at == now + 60
        assert await store.session_by_hash("h1", now=now + 60) is None     # expired at expires_at
        assert await store.session_by_hash("nope", now=now) is None
        assert await store.delete_session("h1") is True
        assert await store.delete_session("h1") is False
        assert await store.session_by_hash("h1", now=now) is None


async def test_opening_a_session_clears_the_expired_ones(tmp_path):
    async with SQLiteStore(tmp_path / "s.db") as store:
        moderator = await store.create_moderator(name="claire", role="admin", site_ids=[],
                                                 token_hash="t", now=time.time())
        await store.create_session(id_hash="old", moderator_id=moderator.id, now=0, expires_at=10)
        await store.create_session(id_hash="new", moderator_id=moderator.id, now=100, expires_at=200)
        async with store._reader.execute("SELECT id_hash FROM sessions") as cursor:
            assert [r[0] for r in await cursor.fetchall()] == ["new"]


async def test_a_comments_thread_is_shown_around_it(desk):
    ids = [await seed(desk.store, desk.site_id, thread="long") for _ in range(9)]
    await seed(desk.store, desk.site_id, thread="elsewhere")
    around = await desk.store.thread_context(ids[4], limit=4)
    assert [c.id for c in around] == ids[2:6]
    assert [c.id for c in await desk.store.thread_context(ids[8], limit=4)] == ids[5:9]
    assert [c.id for c in await desk.store.thread_context(ids[0], limit=4)] == ids[0:4]
    everything = await desk.store.thread_context(ids[3], limit=100)
    assert [c.id for c in everything] == ids
    assert {c.status for c in everything} == {Status.PENDING}
    assert await desk.store.thread_context(999999, limit=10) == []
