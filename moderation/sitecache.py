"""The sites behind API keys, remembered for a few seconds.

Contract:

- ``SiteCache.by_key_hash(key_hash, fetch)`` returns the site ``fetch(key_hash)``
  returned at most ``seconds`` ago, else calls ``fetch`` again. Unknown keys are
  never remembered: a site added a moment ago is found at once, and wrong keys
  cannot fill the cache, which holds at most one entry per site.
- A site changed (thresholds, mode, language, a key rotated: from the command
  line, the admin API or another worker) reaches this server within
  ``seconds``. ``seconds = 0`` turns the cache off.
- Why: every submission authenticates its site; the lookup was an eighth of
  the event loop's time per comment, for data that changes a few times a year.
"""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from .domain import Site
from .ttlcache import TTLCache


class SiteCache:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._sites = TTLCache(seconds, clock=clock)

    async def by_key_hash(self, key_hash: str,
                          fetch: Callable[[str], Awaitable[Site | None]]) -> Site | None:
        site = self._sites.get(key_hash)
        if site is not None:
            return site
        site = await fetch(key_hash)
        if site is None:
            self._sites.discard(key_hash)
        else:
            self._sites.put(key_hash, site)
        return site
