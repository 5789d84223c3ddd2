"""Values kept for a few seconds, per process.

Contract:

- ``TTLCache.get(key)`` returns the value ``put`` under *key* less than
  ``seconds`` ago, else None. ``seconds <= 0`` keeps nothing.
- At most ``max_entries`` values are kept; when full, the expired ones go, and
  if none has expired, all of them (the next requests fill it again).
- Nothing invalidates an entry early: whoever reads through it accepts answers
  up to ``seconds`` old (see ``sitecache`` and the public reads).
- Not thread-safe beyond what the GIL gives single dict operations: use it from
  the event loop.
"""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class TTLCache:
    def __init__(self, seconds: float, max_entries: int = 4096,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._max_entries = max_entries
        self._clock = clock
        self._values: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable) -> Any:
        kept = self._values.get(key)
        if kept is None:
            return None
        if self._clock() - kept[0] >= self.seconds:
            del self._values[key]
            return None
        return kept[1]

    def put(self, key: Hashable, value: Any) -> None:
        if self.seconds <= 0:
            return
        now = self._clock()
        if key not in self._values and len(self._values) >= self._max_entries:
            self._values = {k: v for k, v in self._values.items() if now - v[0] < self.seconds}
            if len(self._values) >= self._max_entries:
                self._values = {}
        self._values[key] = (now, value)

    def discard(self, key: Hashable) -> None:
        self._values.pop(key, None)

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        """The value kept for *key*, else ``await load()``, kept from now on
        (a None value is not kept)."""
        value = self.get(key)
        if value is None:
            value = await load()
            if value is not None:
                self.put(key, value)
        return value
