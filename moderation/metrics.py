"""Prometheus metrics of the service, served at ``GET /metrics``.

==================================================  ==========================================
``moderation_http_requests_total``                  requests answered, by ``route`` (the
                                                    route's name, never the raw path),
                                                    ``method`` and ``status``
``moderation_http_request_duration_seconds``        latency histogram, by ``route``, ``method``
``moderation_decisions_total``                      comments moved, by ``source`` (``intake``,
                                                    ``akismet`` or ``moderator``), new ``status`` and
                                                    ``band`` (``ham``, ``review``, ``spam``,
                                                    ``none``: see :func:`intake_band`)
``moderation_queue_depth``                          comments waiting, by ``site`` and
                                                    ``status`` (``pending``, ``spam``),
                                                    counted from the store at scrape time
``moderation_queue_oldest_pending_age_seconds``     age of the oldest pending comment, by site
``moderation_model_info``                           1 for the model version in service
                                                    (label ``version``), 0 for earlier ones
``moderation_model_load_duration_seconds``          how long the last model load took
``moderation_model_loaded_timestamp_seconds``       when the model in service was loaded
``moderation_model_load_failures_total``            model loads refused (old model kept)
``moderation_scoring_batch_size``                   histogram of texts per model call
``moderation_scoring_batch_duration_seconds``       histogram of one batch's scoring time
``moderation_requests_in_flight``                   requests being handled (health and
                                                    metrics endpoints aside), all workers
``moderation_scoring_queue_waiting``                texts waiting for the scoring thread
``moderation_load_limit``                           the bound of each ``queue``
                                                    (``requests_in_flight``,
                                                    ``scoring_queue``) per worker; 0: none
``moderation_requests_shed_total``                  requests answered 503 ``overloaded``,
                                                    by the ``queue`` that was full
``moderation_score_drift_psi``                      PSI of each ``site``'s spam scores over the
                                                    drift window against the ``reference``
                                                    (``model`` or ``traffic``); computed at
                                                    scrape time from the answering worker's
                                                    last measure (every worker measures the
                                                    same rows): no per-process series
``moderation_language_drift_psi``                   the same for detected languages
==================================================  ==========================================

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
import os
import time

from aiohttp import web
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from .credentials import bearer_token
from .domain import Reason
from .errors import unauthorized
from .keys import MODELS, SETTINGS, STORE
from .services.drift_monitor import drift_families

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)

REQUESTS = Counter("moderation_http_requests", "HTTP requests answered, by route name, method and status.",
                   ["route", "method", "status"])
LATENCY = Histogram("moderation_http_request_duration_seconds",
                    "Time from a request's arrival in the app to its answer, by route name and method.",
                    ["route", "method"], buckets=LATENCY_BUCKETS)
DECISIONS = Counter("moderation_decisions",
                    "Comments given a status, by source (intake, akismet, moderator), new status and score band.",
                    ["source", "status", "band"])
MODEL_INFO = Gauge("moderation_model_info", "1 for the model version in service, 0 for earlier ones.",
                   ["version"], multiprocess_mode="liveall")
MODEL_LOAD_SECONDS = Gauge("moderation_model_load_duration_seconds",
                           "How long loading and verifying the model in service took.",
                           multiprocess_mode="liveall")
MODEL_LOADED_AT = Gauge("moderation_model_loaded_timestamp_seconds",
                        "When the model in service was loaded (Unix time).", multiprocess_mode="liveall")
MODEL_LOAD_FAILURES = Counter("moderation_model_load_failures",
                              "Model loads refused; the previous model stayed in service.")
BATCH_SIZE = Histogram("moderation_scoring_batch_size", "Texts scored in one model call.",
                       buckets=BATCH_SIZE_BUCKETS)
BATCH_SECONDS = Histogram("moderation_scoring_batch_duration_seconds",
                          "Time to detect the languages and score one batch.", buckets=LATENCY_BUCKETS)

IN_FLIGHT = Gauge("moderation_requests_in_flight",
                  "Requests being handled, health and metrics endpoints aside.", multiprocess_mode="livesum")
SCORING_WAITING = Gauge("moderation_scoring_queue_waiting", "Texts waiting for the scoring thread.",
                        multiprocess_mode="livesum")
LOAD_LIMIT = Gauge("moderation_load_limit",
                   "Bound of each queue in each worker process (0: unbounded); past it, 503 overloaded.",
                   ["queue"], multiprocess_mode="max")
SHED = Counter("moderation_requests_shed", "Requests answered 503 overloaded, by the queue that was full.",
               ["queue"])

_BAND_OF_REASON = {Reason.MODEL_HAM: "ham", Reason.MODEL_UNCERTAIN: "review", Reason.MODEL_SPAM: "spam"}
_served_version: str | None = None


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


def intake_band(reasons) -> str:
    """The band of the model's score that decided a new comment: ``ham``,
    ``review`` or ``spam``; ``none`` when the model did not judge it (no model,
    empty text, unsupported language, honeypot)."""
    for reason in reasons:
        band = _BAND_OF_REASON.get(reason)
        if band is not None:
            return band
    return "none"


def score_band(score: float | None, bands) -> str:
    """The band *score* falls in under *bands* (a :class:`~moderation.policy.Bands`)."""
    if score is None or bands is None:
        return "none"
    if score >= bands.reject_above:
        return "spam"
    return "review" if score >= bands.approve_below else "ham"


def count_intake_decision(decision, source: str = "intake") -> None:
    """A new comment got its first status (:class:`~moderation.domain.Decision`);
    *source* ``akismet`` for a comment-check, which decides without storing."""
    DECISIONS.labels(source, decision.status.value, intake_band(decision.reasons)).inc()


def model_loaded(version: str, seconds: float, loaded_at: float) -> None:
    global _served_version
    if _served_version is not None and _served_version != version:
        MODEL_INFO.labels(_served_version).set(0)
    _served_version = version
    MODEL_INFO.labels(version).set(1)
    MODEL_LOAD_SECONDS.set(seconds)
    MODEL_LOADED_AT.set(loaded_at)


def model_load_failed() -> None:
    MODEL_LOAD_FAILURES.inc()


def load_limits(limits: dict[str, int]) -> None:
    """The bound of each queue (``shedding.IN_FLIGHT``...) in this process; 0: none.
    Every queue is also named in the shed counter, at 0 until a request is shed."""
    for queue, limit in limits.items():
        LOAD_LIMIT.labels(queue).set(limit)
        SHED.labels(queue)


def observe_batch(size: int, seconds: float) -> None:
    BATCH_SIZE.observe(size)
    BATCH_SECONDS.observe(seconds)


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
def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


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
                                                         + drift_families(request.app))))
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return web.Response(body=encoder(registry), headers={"Content-Type": content_type, "Cache-Control": "no-store"})
