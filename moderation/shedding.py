"""Load shedding: past a bound, a request is refused at once (503 ``overloaded``
with ``Retry-After``) instead of waiting in a queue that grows without end.

Bounds, each per worker process, each switched off by 0:

- requests in flight (``MODERATION_MAX_REQUESTS_IN_FLIGHT``): a request counts
  from the moment its handler starts (its headers are in; a body still
  arriving counts) until its answer is ready. ``/healthz``, ``/readyz`` and
  ``/metrics`` are neither counted nor refused: an overloaded worker must still
  say so to its load balancer and its scraper. See
  :func:`moderation.middlewares.shedding_middleware`.
- texts waiting for the scoring thread (``MODERATION_SCORING_QUEUE_MAX``):
  :meth:`moderation.scoring.scorer.Scorer.score` raises :class:`Overloaded`.
- the SQLite group-commit queue needs no bound of its own: every insert waiting
  in it belongs to a request in flight, so it holds at most as many.

Pure: no aiohttp; the middleware turns :class:`Overloaded` into the HTTP answer
and counts it (``moderation_requests_shed_total{queue}``).
"""
from __future__ import annotations

IN_FLIGHT = "requests_in_flight"
SCORING_QUEUE = "scoring_queue"
RETRY_AFTER_SECONDS = 1


class Overloaded(Exception):
    """A bound was reached: the request is refused now, not queued."""

    def __init__(self, queue: str) -> None:
        super().__init__(f"{queue} is full")
        self.queue = queue


class InFlightLimit:
    """Requests in flight in this process, at most *limit* (0: no bound).
    Single event loop: no lock needed."""

    def __init__(self, limit: int) -> None:
        self.limit = max(0, limit)
        self.current = 0

    def enter(self) -> bool:
        """Count one more request, or return False (and count nothing) when full."""
        if self.limit and self.current >= self.limit:
            return False
        self.current += 1
        return True

    def leave(self) -> None:
        self.current -= 1
