"""Code run in separate processes by the cross-process tests: each opens its
own store on the shared database, as a service instance on another host would."""
from __future__ import annotations

import asyncio
import random

from moderation.store.base import DecisionRequest, IdempotencyRecord, open_store

from .conftest import new_comment


def decide_everything(url, comment_ids, action, new_status, actor, barrier, results) -> None:
    """Decide every comment (as *actor*), singles and bulks mixed, all at once
    once every process is ready; put ``(actor, [(id, outcome, status)])``."""
    results.put((actor, asyncio.run(_decide(url, comment_ids, action, new_status, actor, barrier))))


async def _decide(url, comment_ids, action, new_status, actor, barrier):
    store = open_store(url)
    await store.open()
    try:
        ids = list(comment_ids)
        random.Random(actor).shuffle(ids)

        def requests(chunk):
            return [DecisionRequest(comment_id=i, expected_status="pending", new_status=new_status,
                                    actor=actor, action=action) for i in chunk]

        singles, bulks = ids[: len(ids) // 2], ids[len(ids) // 2:]
        await asyncio.to_thread(barrier.wait)
        batches = await asyncio.gather(
            *(store.apply_decisions(requests([i]), now=1.0) for i in singles),
            *(store.apply_decisions(requests(bulks[start:start + 5]), now=1.0)
              for start in range(0, len(bulks), 5)))
        return [(o.comment_id, o.outcome, o.status) for batch in batches for o in batch]
    finally:
        await store.close()


def submit_keyed(url, site_id, keys, worker, barrier, results) -> None:
    """Insert one comment per idempotency key, all at once; put
    ``(worker, [(key, comment_id, replayed)])``."""
    results.put((worker, asyncio.run(_submit(url, site_id, keys, worker, barrier))))


async def _submit(url, site_id, keys, worker, barrier):
    store = open_store(url)
    await store.open()
    try:
        await asyncio.to_thread(barrier.wait)
        outcomes = await asyncio.gather(*(
            store.insert_comment(new_comment(site_id, body=f"{key} from {worker}"),
                                 IdempotencyRecord(key, f"hash-{worker}", 202, {"status": "pending"}))
            for key in keys))
        return [(key, o.comment_id, o.replay is not None) for key, o in zip(keys, outcomes)]
    finally:
        await store.close()


def open_and_close(url, barrier, results) -> None:
    """Open a store (migrating the database) at the same moment as the others."""
    async def run():
        store = open_store(url)
        await asyncio.to_thread(barrier.wait)
        await store.open()
        await store.close()
    asyncio.run(run())
    results.put("ok")
