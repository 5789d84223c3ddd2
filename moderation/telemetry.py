"""The service's Prometheus metrics: the registry and the functions that record
them, free of HTTP (the scoring, the services and the edge all report here);
``GET /metrics`` serves them (:mod:`moderation.metrics`).

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

With several worker processes, prometheus-client keeps each worker's values in
files under ``PROMETHEUS_MULTIPROC_DIR`` (set by ``moderation serve``), and a
scrape adds them up (:mod:`moderation.metrics`).
"""
from __future__ import annotations

import os

from prometheus_client import Counter, Gauge, Histogram

from .domain import Reason

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
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


def scoring_waiting(change: int) -> None:
    """Texts joined (positive) or left (negative) the scoring queue."""
    SCORING_WAITING.inc(change)


def multiprocess_dir() -> str | None:
    """Where the workers' values are kept, when the service runs several."""
    return os.environ.get(MULTIPROC_ENV) or None
