"""Rate limits enforced with the insert, sign-in attempts, e-mail identity:
atomic across store instances (worker processes, hosts) on both backends."""
import asyncio
from dataclasses import replace

import pytest

from moderation.domain import RateLimitExceeded, RateLimits

from .conftest import T0, add, new_comment

PER_EMAIL = RateLimits(per_email=5, window_seconds=60)


async def test_the_limit_refuses_the_comment_past_it_and_writes_nothing(store, site):
    for i in range(5):
        await store.insert_comment(new_comment(site.id, body=f"c{i}", created_at=T0 + i),
                                   limits=PER_EMAIL)
    with pytest.raises(RateLimitExceeded) as refused:
        await store.insert_comment(new_comment(site.id, body="sixth", created_at=T0 + 10),
                                   limits=PER_EMAIL)
    assert refused.value.retry_after == 50            # the first leaves the window at T0 + 60
    assert len(await store.pending_comments(after_id=0, limit=100)) == 5
    # Another address, and the same address once the window has moved, go through.
    await store.insert_comment(new_comment(site.id, email="other@example.fr", created_at=T0 + 10),
                               limits=PER_EMAIL)
    await store.insert_comment(new_comment(site.id, body="later", created_at=T0 + 60.5),
                               limits=PER_EMAIL)


async def test_the_email_limit_counts_the_canonical_address(store, site):
    spellings = ["Casey@Example.com", "casey@example.com", "CASEY@EXAMPLE.COM", " casey@Example.Com",
                 "ｃasey@example.com"]   # a full-width c: NFKC makes it "c"
    for i, email in enumerate(spellings):
        await store.insert_comment(new_comment(site.id, email=email, body=f"b{i}"), limits=PER_EMAIL)
    with pytest.raises(RateLimitExceeded):
        await store.insert_comment(new_comment(site.id, email="casey@EXAMPLE.com", body="again"),
                                   limits=PER_EMAIL)
    activity = await store.recent_activity(site_id=site.id, ip_prefix="", email="CaSeY@example.COM",
                                           body_hash=new_comment(site.id, body="b0").body_hash,
                                           rate_since=T0 - 60, duplicate_since=T0 - 60)
    assert activity.email_count == 5 and activity.duplicate


async def test_the_ip_limit_counts_the_prefix_and_skips_comments_without_one(store, site):
    limits = RateLimits(per_ip=3, window_seconds=60)
    for i in range(3):
        await store.insert_comment(new_comment(site.id, email=f"r{i}@example.fr", body=f"b{i}"),
                                   limits=limits)
    with pytest.raises(RateLimitExceeded):
        await store.insert_comment(new_comment(site.id, email="r9@example.fr"), limits=limits)
    elsewhere = replace(new_comment(site.id, email="r9@example.fr"), ip_prefix="198.51.100.0/24",
                        ip_full="198.51.100.4")
    await store.insert_comment(elsewhere, limits=limits)
    for i in range(5):   # no address: no IP limit
        await store.insert_comment(new_comment(site.id, email=f"n{i}@example.fr", ip="", body=f"n{i}"),
                                   limits=limits)


async def test_a_limit_holds_against_a_burst_from_several_instances(store, open_stores, site):
    """The check-then-insert race: 20 submissions at once from four store
    instances (as four worker processes would) under a limit of 5."""
    stores = [store, *[await open_stores() for _ in range(3)]]

    async def submit(i: int):
        try:
            return (await stores[i % 4].insert_comment(
                new_comment(site.id, email="Burst@Example.org" if i % 2 else "burst@example.org",
                            body=f"burst {i}", created_at=T0 + i / 100), limits=PER_EMAIL)).comment_id
        except RateLimitExceeded:
            return None

    results = await asyncio.gather(*(submit(i) for i in range(20)))
    assert sum(r is not None for r in results) == 5
    assert len(await store.pending_comments(after_id=0, limit=100)) == 5


async def test_a_refused_comment_does_not_spoil_its_neighbours(store, site):
    """On SQLite the comments of one group commit share a transaction."""
    await add(store, site.id, email="full@example.fr", body="first")
    limits = RateLimits(per_email=1)
    results = await asyncio.gather(
        store.insert_comment(new_comment(site.id, email="full@example.fr", body="x"), limits=limits),
        store.insert_comment(new_comment(site.id, email="free@example.fr", body="y"), limits=limits),
        return_exceptions=True)
    assert isinstance(results[0], RateLimitExceeded)
    assert results[1].comment_id > 0


async def test_signin_attempts_count_until_they_succeed(store):
    network = "198.51.100.0/24"
    granted = [await store.begin_signin_attempt(network, now=T0 + i, window_seconds=60, max_failures=3)
               for i in range(3)]
    assert all(a.attempt_id is not None for a in granted)
    refused = await store.begin_signin_attempt(network, now=T0 + 20, window_seconds=60, max_failures=3)
    assert (refused.attempt_id, refused.retry_after) == (None, 40)
    other = await store.begin_signin_attempt("203.0.113.0/24", now=T0 + 20, window_seconds=60,
                                             max_failures=3)
    assert other.attempt_id is not None
    await store.forget_signin_attempt(granted[2].attempt_id)   # that one succeeded
    assert (await store.begin_signin_attempt(network, now=T0 + 21, window_seconds=60,
                                             max_failures=3)).attempt_id is not None
    assert (await store.begin_signin_attempt(network, now=T0 + 22, window_seconds=60,
                                             max_failures=3)).attempt_id is None
    later = await store.begin_signin_attempt(network, now=T0 + 60.5, window_seconds=60, max_failures=3)
    assert later.attempt_id is not None                            # the first aged out


async def test_parallel_signin_attempts_from_several_instances_are_bounded(store, open_stores):
    stores = [store, *[await open_stores() for _ in range(3)]]
    attempts = await asyncio.gather(*(
        stores[i % 4].begin_signin_attempt("192.0.2.0/24", now=T0, window_seconds=60, max_failures=5)
        for i in range(24)))
    assert sum(a.attempt_id is not None for a in attempts) == 5


async def test_a_limit_holds_within_one_group_commit(store, site):
    """On SQLite, concurrent inserts of one instance share a transaction: the
    comments written earlier in it count for the later ones."""
    results = await asyncio.gather(*(
        store.insert_comment(new_comment(site.id, email="batch@example.org", body=f"b{i}",
                                         created_at=T0 + i / 1000), limits=PER_EMAIL)
        for i in range(8)), return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 5
    assert all(isinstance(r, RateLimitExceeded) for r in results if isinstance(r, Exception))
