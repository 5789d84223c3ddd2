"""``GET /metrics`` and the HTTP side of the service's Prometheus metrics: the
middleware that counts and times every answer, the count of moderators'
decisions, and the exposition of :mod:`moderation.telemetry`'s registry (the
metrics and their names are listed there) with the families read at scrape
time (queue depth, drift).

Several worker processes (``moderation serve --workers N``): the parent sets
``PROMETHEUS_MULTIPROC_DIR`` to a fresh directory before starting them, so
prometheus-client keeps every worker's values in memory-mapped files there;
whichever worker a scrape reaches adds them all up (``MultiProcessCollector``).
Counters and histograms of a worker that died stay counted; the model gauges
are per live worker (a ``pid`` label), and the parent drops a dead worker's
(``mark_process_dead``). With one process, the usual registry is served, with
the process and Python collectors.

Access: public by default, like ``/healthz``; set ``MODERATION_METRICS_TOKEN``
to require ``Authorization: Bearer <token>`` from the scraper.
"""
from __future__ import annotations

import asyncio
import hmac
import time

from aiohttp import web
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from .credentials import bearer_token
from .errors import unauthorized
from .keys import DRIFT, MODELS, SETTINGS, STORE
from .services.drift_monitor import drift_families
from .telemetry import DECISIONS, KNOWN_METHODS, LATENCY, REQUESTS, multiprocess_dir, score_band

UNMATCHED_ROUTE = "unmatched"


# -- recording
def route_name(request: web.Request) -> str:
    """The name of the route that took the request (bounded: one per route)."""
    match_info = request.match_info
    name = match_info.route.name if match_info is not None else None
    return name or UNMATCHED_ROUTE


@web.middleware
async def metrics_middleware(request: web.Request, handler):
    """Count every answer by route name and status, and time it. Sits outside
    the error middleware, so it sees the status the client gets."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:    # redirects, raised past the error middleware
        status = exc.status
        raise
    except (asyncio.CancelledError, ConnectionResetError):   # the client went away
        status = 499
        raise
    finally:
        route = route_name(request)
        method = request.method if request.method in KNOWN_METHODS else "other"
        REQUESTS.labels(route, method, str(status)).inc()
        LATENCY.labels(route, method).observe(time.perf_counter() - started)


async def count_moderator_decisions(app: web.Application):
    """``cleanup_ctx``: count the decisions moderators make.

    Every way a moderator decides (the JSON API one by one or in bulk, the
    pages' forms) ends in ``Store.apply_decisions``, so its outcomes are counted
    there, on this app's store: ``status`` is the new status and ``band`` the
    band the comment's score (at decision time) falls in under the model in
    service's thresholds."""
    store = app[STORE]
    apply_decisions = store.apply_decisions

    async def counted(requests, *, now):
        outcomes = await apply_decisions(requests, now=now)
        bundle = app[MODELS].bundle
        bands = bundle.thresholds if bundle is not None else None
        for outcome in outcomes:
            if outcome.outcome == "decided":
                score = outcome.event.spam_score if outcome.event is not None else None
                DECISIONS.labels("moderator", outcome.status, score_band(score, bands)).inc()
        return outcomes

    store.apply_decisions = counted
    yield
    del store.apply_decisions


# -- exposition
class _Collected:
    """One scrape's metrics: the process-wide ones plus those read at scrape time."""

    def __init__(self, *sources) -> None:
        self._sources = sources

    def collect(self):
        for source in self._sources:
            yield from source.collect()


class _Families:
    def __init__(self, families) -> None:
        self._families = families

    def collect(self):
        return iter(self._families)


async def _queue_families(app: web.Application) -> list:
    depth = GaugeMetricFamily("moderation_queue_depth", "Comments waiting for a moderator, by site and status.",
                              labels=["site", "status"])
    oldest = GaugeMetricFamily("moderation_queue_oldest_pending_age_seconds",
                               "Age of the oldest pending comment, by site (absent: none pending).",
                               labels=["site"])
    now = time.time()
    for row in await app[STORE].queue_depth(None):
        depth.add_metric([row.site, "pending"], row.pending)
        depth.add_metric([row.site, "spam"], row.spam)
        if row.oldest_pending_at is not None:
            oldest.add_metric([row.site], max(0.0, now - row.oldest_pending_at))
    return [depth, oldest]


def _authorized(request: web.Request, token: str) -> bool:
    given = bearer_token(request.headers.get("Authorization"))
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


async def metrics_endpoint(request: web.Request) -> web.Response:
    """The Prometheus text format (or OpenMetrics, when the scraper asks)."""
    token = request.app[SETTINGS].metrics_token
    if token and not _authorized(request, token):
        raise unauthorized()
    path = multiprocess_dir()
    if path is not None:
        process_wide = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(process_wide, path=path)
    else:
        process_wide = REGISTRY
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collected(process_wide, _Families(await _queue_families(request.app)
                                                         + drift_families(request.app.get(DRIFT)))))
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return web.Response(body=encoder(registry), headers={"Content-Type": content_type, "Cache-Control": "no-store"})
