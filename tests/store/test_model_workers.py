"""Store contract for model reloads shared by every worker (moderation.services.model_sync),
on SQLite and PostgreSQL: the generation counter, the workers' rows and their
heartbeats, across two stores on one database as two processes would hold."""
from __future__ import annotations

import asyncio

from moderation.store.base import KEPT_MODEL_RELOADS, ModelWorker

from .conftest import T0


async def test_generations_start_at_one_and_grow_for_every_store(store, open_stores):
    other = await open_stores()
    assert await store.model_generation() == 0
    first = await store.request_model_reload(requested_by="ada", now=T0)
    assert first == 1
    assert await other.model_generation() == 1
    second = await other.request_model_reload(requested_by="bob", now=T0 + 1)
    assert second == 2
    assert await store.model_generation() == 2


async def test_concurrent_requests_get_distinct_generations(store, open_stores):
    stores = [store, await open_stores()]
    generations = await asyncio.gather(*(
        s.request_model_reload(requested_by=f"admin-{n}", now=T0) for n, s in enumerate(stores * 5)))
    assert sorted(generations) == list(range(1, 11))
    assert await store.model_generation() == 10


async def test_old_requests_are_dropped_but_the_generation_keeps_growing(store):
    for n in range(KEPT_MODEL_RELOADS + 5):
        generation = await store.request_model_reload(requested_by="ada", now=T0 + n)
    assert generation == KEPT_MODEL_RELOADS + 5
    assert await store.model_generation() == generation
    assert await store.request_model_reload(requested_by="ada", now=T0 + 999) == generation + 1


async def test_workers_record_their_model_and_heartbeat(store, open_stores):
    other = await open_stores()
    await store.record_model_worker("web-1:10", generation=0, model_version="spam-1", loaded_at=T0,
                                    error=None, now=T0)
    await other.record_model_worker("web-2:20", generation=0, model_version=None, loaded_at=None,
                                    error="no model: CURRENT missing", now=T0 + 1)
    assert await other.model_workers(alive_since=T0) == [
        ModelWorker("web-1:10", 0, "spam-1", T0, None, T0),
        ModelWorker("web-2:20", 0, None, None, "no model: CURRENT missing", T0 + 1)]
    # The same worker again replaces its row: a reload's outcome, or a heartbeat.
    await store.record_model_worker("web-1:10", generation=3, model_version="spam-1", loaded_at=T0,
                                    error="sha256 mismatch: tampered", now=T0 + 5)
    await store.record_model_worker("web-1:10", generation=4, model_version="spam-2",
                                    loaded_at=T0 + 6, error=None, now=T0 + 6)
    assert await store.model_workers(alive_since=T0 + 2) == [
        ModelWorker("web-1:10", 4, "spam-2", T0 + 6, None, T0 + 6)]


async def test_stopped_and_silent_workers_go(store):
    for n, worker in enumerate(["a:1", "b:2", "c:3"]):
        await store.record_model_worker(worker, generation=1, model_version="m", loaded_at=T0,
                                        error=None, now=T0 + n * 100)
    await store.remove_model_worker("b:2")
    await store.remove_model_worker("never-there:0")
    assert [w.worker for w in await store.model_workers(alive_since=0)] == ["a:1", "c:3"]
    assert await store.forget_model_workers(before=T0 + 150) == 1
    assert [w.worker for w in await store.model_workers(alive_since=0)] == ["c:3"]
    assert await store.forget_model_workers(before=T0 + 150) == 0


async def test_workers_are_listed_in_byte_order(store):
    for worker in ["web-b:2", "Web-a:1", "web-a:10", "web-a:9"]:
        await store.record_model_worker(worker, generation=0, model_version="m", loaded_at=T0,
                                        error=None, now=T0)
    assert [w.worker for w in await store.model_workers(alive_since=T0)] == [
        "Web-a:1", "web-a:10", "web-a:9", "web-b:2"]
