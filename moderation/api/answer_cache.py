"""Public answers kept for a moment, per process ("micro-caching").

Contract:

- ``AnswerCache.get(key)`` returns the body ``put`` under *key* less than
  ``seconds`` ago, else None. ``seconds = 0`` keeps nothing.
- At most ``max_entries`` bodies are kept; when full, the expired ones go, and
  if none has expired, all of them (the next requests fill it again).
- Nothing invalidates an entry early: a comment published (or removed) reaches
  the public pages within ``seconds``, in every worker alike.
- Why: a popular article's comments are read by every reader who opens it, a
  thousand times for each new comment; within a second they are the same bytes.
"""
from __future__ import annotations

import time
from collections.abc import Callable


class AnswerCache:
    def __init__(self, seconds: float, max_entries: int = 4096,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._max_entries = max_entries
        self._clock = clock
        self._answers: dict[str, tuple[float, bytes]] = {}

    def get(self, key: str) -> bytes | None:
        kept = self._answers.get(key)
        if kept is None:
            return None
        if self._clock() - kept[0] >= self.seconds:
            del self._answers[key]
            return None
        return kept[1]

    def put(self, key: str, body: bytes) -> None:
        if self.seconds <= 0:
            return
        now = self._clock()
        if len(self._answers) >= self._max_entries:
            self._answers = {k: v for k, v in self._answers.items() if now - v[0] < self.seconds}
            if len(self._answers) >= self._max_entries:
                self._answers = {}
        self._answers[key] = (now, body)
