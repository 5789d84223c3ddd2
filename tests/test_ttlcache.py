"""TTLCache: values kept a few seconds, bounded, expired ones dropped first."""
from moderation.ttlcache import TTLCache


def test_a_full_cache_drops_expired_answers_first_then_all():
    now = [0.0]
    cache = TTLCache(10, max_entries=3, clock=lambda: now[0])
    cache.put("a", b"1")
    now[0] = 5
    cache.put("b", b"2")
    cache.put("c", b"3")
    now[0] = 11            # "a" has expired, "b" and "c" have not
    cache.put("d", b"4")
    assert (cache.get("a"), cache.get("b"), cache.get("d")) == (None, b"2", b"4")
    cache.put("e", b"5")   # full of live answers: start again
    assert (cache.get("b"), cache.get("c"), cache.get("e")) == (None, None, b"5")
    now[0] = 21
    assert cache.get("e") is None


def test_zero_seconds_keeps_nothing():
    cache = TTLCache(0)
    cache.put("a", b"1")
    assert cache.get("a") is None


def test_putting_a_kept_key_again_does_not_empty_a_full_cache():
    now = [0.0]
    cache = TTLCache(10, max_entries=2, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("b", 3)
    assert (cache.get("a"), cache.get("b")) == (1, 3)


async def test_get_or_load_loads_once_until_expiry_and_never_keeps_none():
    clock = [0.0]
    cache = TTLCache(5, clock=lambda: clock[0])
    loads = []

    async def load():
        loads.append(clock[0])
        return [] if len(loads) < 3 else None

    assert await cache.get_or_load("site", load) == [] and await cache.get_or_load("site", load) == []
    assert loads == [0.0]
    clock[0] = 5.0
    assert await cache.get_or_load("site", load) == [] and loads == [0.0, 5.0]
    cache.discard("site")
    assert await cache.get_or_load("site", load) is None and await cache.get_or_load("site", load) is None
    assert len(loads) == 4
