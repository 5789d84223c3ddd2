"""SiteCache: a site found by its key is remembered for a few seconds; unknown keys never are."""
import pytest

from moderation.domain import Mode, Site
from moderation.sitecache import SiteCache


def _site(site_id: int, mode: Mode = Mode.AUTO) -> Site:
    return Site(id=site_id, name=f"site{site_id}", url="https://example.org", lang="fr", mode=mode)


class Lookups:
    """A fake clock and a fetch that answers from a dict and counts its calls."""

    def __init__(self, sites: dict):
        self.sites, self.calls, self.now = sites, 0, 1000.0

    async def fetch(self, key_hash: str):
        self.calls += 1
        return self.sites.get(key_hash)

    def clock(self) -> float:
        return self.now


async def test_a_site_is_fetched_once_within_the_time_then_again():
    lookups = Lookups({"k1": _site(1)})
    cache = SiteCache(5.0, clock=lookups.clock)
    assert (await cache.by_key_hash("k1", lookups.fetch)).id == 1
    lookups.sites["k1"] = _site(1, Mode.PRE)   # changed on the command line
    lookups.now += 4.9
    assert (await cache.by_key_hash("k1", lookups.fetch)).mode is Mode.AUTO
    assert lookups.calls == 1
    lookups.now += 0.2
    assert (await cache.by_key_hash("k1", lookups.fetch)).mode is Mode.PRE
    assert lookups.calls == 2


async def test_unknown_keys_are_never_remembered():
    lookups = Lookups({})
    cache = SiteCache(5.0, clock=lookups.clock)
    assert await cache.by_key_hash("new", lookups.fetch) is None
    lookups.sites["new"] = _site(2)            # the site is added a moment later
    assert (await cache.by_key_hash("new", lookups.fetch)).id == 2
    del lookups.sites["new"]
    lookups.now += 10
    assert await cache.by_key_hash("new", lookups.fetch) is None
    assert await cache.by_key_hash("new", lookups.fetch) is None
    assert lookups.calls == 4


@pytest.mark.parametrize("seconds", [0, 0.0])
async def test_zero_seconds_turns_it_off(seconds):
    lookups = Lookups({"k1": _site(1)})
    cache = SiteCache(seconds, clock=lookups.clock)
    for _ in range(3):
        assert (await cache.by_key_hash("k1", lookups.fetch)).id == 1
    assert lookups.calls == 3
