"""Review-queue micro-benchmark: milliseconds per ``store.review_queue`` call
(and per ``queue_counts``) with thousands of pending comments, on a fresh
SQLite file and, with --postgres URL, on a fresh schema of that database.

    .venv/bin/python bench/review_queue.py [--pending 5000] [--calls 200] \\
        [--postgres postgresql://postgres@127.0.0.1:5432/test]

Each figure is wall-clock milliseconds per call, then the CPU milliseconds
per call it cost (this process, plus on PostgreSQL the server processes
serving it, read from /proc): on a busy machine the wall clock mostly measures
waiting for a core, the CPU much less so.

Seeds through the store API: three sites (one with its own thresholds),
``--pending`` pending comments (a few unscored, many clear-ham scores as a
pre-moderated site has, some repeated scores), a fifth as many published and
spam ones. Then times each scenario ``--calls`` times, one call at a time, and
prints a Markdown table. No server, no load generator: one coroutine.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from moderation.domain import NewComment, Reason, Status, ThreadIn
from moderation.guard import body_fingerprint
from moderation.policy import Bands
from moderation.domain import Cursor, Order, QueueFilter
from moderation.store.base import Store, open_store

MODEL_BANDS = Bands(approve_below=0.2, reject_above=0.9)
PAGE = 51          # what GET /v1/review/queue?limit=50 asks the store for
T0 = 1_700_000_000.0


def random_score(rng: random.Random) -> float | None:
    draw = rng.random()
    if draw < 0.05:
        return None
    if draw < 0.35:
        return rng.random() * 1e-3            # clear ham on a pre-moderated site
    if draw < 0.45:
        return rng.choice((0.5, 0.25, 0.75))  # repeated scores: ties
    return rng.random()


def comment(site_id: int, index: int, status: Status, rng: random.Random) -> NewComment:
    score = random_score(rng)
    body = f"Seeded comment {index} with a body of ordinary length for a news site comment."
    return NewComment(
        site_id=site_id, thread=ThreadIn(id=f"article-{index % 40}", url="https://x.example/a",
                                         title="An article"),
        parent_id=None, author_name=f"Reader {index}", author_email=f"r{index}@example.org",
        body=body, body_hash=body_fingerprint(body), language=rng.choice(("en", "fr")),
        spam_score=score, model_version=None if score is None else "bench-1", status=status,
        reasons=(Reason.NO_MODEL,) if score is None else (Reason.MODEL_UNCERTAIN,),
        ip_prefix="203.0.113.0/24", ip_full="203.0.113.7", user_agent="bench", referrer="",
        created_at=T0 + rng.random() * 86400 * 3)


async def seed(store: Store, pending: int) -> list[int]:
    rng = random.Random(7)
    sites = []
    for name in ("journal", "blog", "radio"):
        site = await store.create_site(name=name, url=f"https://{name}.example", lang="en",
                                       mode="pre", key_hash=f"key-{name}", now=T0)
        sites.append(site.id)
    await store.set_site_thresholds(sites[1], approve_below=0.1, reject_above=0.6)
    statuses = [Status.PENDING] * pending + [Status.PUBLISHED] * (pending // 5) + [
        Status.SPAM] * (pending // 5)
    rng.shuffle(statuses)
    comments = [comment(sites[i % 3] if i % 5 else sites[0], i, status, rng)
                for i, status in enumerate(statuses)]
    for start in range(0, len(comments), 50):
        await asyncio.gather(*(store.insert_comment(c) for c in comments[start:start + 50]))
    return sites


async def deep_cursor(store: Store, order: Order, query_filter: QueueFilter, skip: int) -> Cursor:
    """The cursor after the first *skip* comments of the queue."""
    after, seen = None, 0
    while seen < skip:
        rows = await store.review_queue(query_filter, order=order, after=after,
                                        limit=min(200, skip - seen), model_bands=MODEL_BANDS)
        seen += len(rows)
        after = Cursor(order, rows[-1].sort_key, rows[-1].comment.id)
    return after


async def no_server_cpu() -> dict[int, float]:
    return {}


def backend_cpu(admin: asyncpg.Connection, application_name: str) -> Callable[[], Awaitable[dict]]:
    """Per PostgreSQL process serving *application_name*: CPU seconds used so far."""
    tick = os.sysconf("SC_CLK_TCK")

    async def used() -> dict[int, float]:
        found = {}
        for (pid,) in await admin.fetch(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1", application_name):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / tick     # utime, stime
        return found
    return used


async def timed(calls: int, make, server_cpu) -> tuple[float, float]:
    """(wall ms, CPU ms) per call of *make*."""
    await make()                                  # warm up (statement caches)
    server = await server_cpu()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        await make()
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    used += sum(seconds - server.get(pid, 0.0) for pid, seconds in (await server_cpu()).items())
    return 1000 * wall / calls, 1000 * used / calls


Figures = list[tuple[str, tuple[float, float]]]   # (scenario, (wall ms, CPU ms))


async def measure(store: Store, pending: int, calls: int,
                  server_cpu: Callable[[], Awaitable[dict]] = no_server_cpu) -> Figures:
    sites = await seed(store, pending)
    everything, one_site = QueueFilter(), QueueFilter(site_ids=(sites[0],))
    rows = []
    for order in Order:
        for scope, query_filter in (("all sites", everything), ("one site", one_site)):
            if order is not Order.UNCERTAIN and scope == "one site":
                continue
            deep = await deep_cursor(store, order, query_filter, pending // 3)
            for page, after in (("first page", None), (f"after {pending // 3}", deep)):
                ms = await timed(calls, lambda: store.review_queue(
                    query_filter, order=order, after=after, limit=PAGE, model_bands=MODEL_BANDS),
                    server_cpu)
                rows.append((f"review_queue {order.value}, {scope}, {page}", ms))
    rows.append(("review_queue uncertain, language=fr, first page", await timed(
        calls, lambda: store.review_queue(QueueFilter(language="fr"), order=Order.UNCERTAIN,
                                          after=None, limit=PAGE, model_bands=MODEL_BANDS),
        server_cpu)))
    rows.append(("queue_counts, all sites",
                 await timed(calls, lambda: store.queue_counts(everything), server_cpu)))
    return rows


async def on_sqlite(pending: int, calls: int) -> Figures:
    with tempfile.TemporaryDirectory() as folder:
        async with open_store(f"sqlite:///{Path(folder) / 'bench.db'}") as store:
            return await measure(store, pending, calls)


async def on_postgres(url: str, pending: int, calls: int) -> Figures:
    schema = f"bench_queue_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
        separator = "&" if "?" in url else "?"
        async with open_store(f"{url}{separator}search_path={schema}"
                              f"&application_name={schema}") as store:
            result = await measure(store, pending, calls, backend_cpu(admin, schema))
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=5000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--postgres", help="a PostgreSQL URL (a schema is made and dropped)")
    args = parser.parse_args()
    results = {"SQLite": asyncio.run(on_sqlite(args.pending, args.calls))}
    if args.postgres:
        results["PostgreSQL"] = asyncio.run(on_postgres(args.postgres, args.pending, args.calls))
    backends = list(results)
    print(f"| call ({args.pending} pending, {args.calls} calls each) | "
          + " | ".join(f"{b} ms (CPU ms)" for b in backends) + " |")
    print("|---|" + "---|" * len(backends))
    for index, (name, _) in enumerate(results["SQLite"]):
        print(f"| {name} | " + " | ".join(
            "{:.2f} ({:.2f})".format(*results[b][index][1]) for b in backends) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
