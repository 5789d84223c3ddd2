"""The drift alarm: every worker process measures each site's drift from the
database, every ``MODERATION_DRIFT_POLL_SECONDS``.

Each measure (:meth:`DriftMonitor.step`) reads, per site, one aggregate of its
comments (:meth:`Store.drift_counts`: counts by score bin and language) and
computes the PSI of its spam scores and of its languages over the last
``MODERATION_DRIFT_WINDOW_HOURS`` against a reference
(:mod:`moderation.scoring.drift`):

- ``traffic`` (the default): the site's own comments of the
  ``MODERATION_DRIFT_REFERENCE_DAYS`` before the window, drift episodes left out;
- ``model``: the held-out predictions the model's manifest holds, with
  ``MODERATION_DRIFT_REFERENCE=auto`` (else the traffic).

Scores count only the comments the model in service scored. Since every worker
(of every host) reads the same rows, they all find the same figures, which
``/metrics`` (``moderation_score_drift_psi{site,reference}``,
``moderation_language_drift_psi{site,reference}``, computed at scrape time
from the answering worker's last measure: no per-process series to add up or
go stale) and ``/readyz`` (``drift``: the sites in an episode) report.

A PSI above ``MODERATION_DRIFT_THRESHOLD`` starts an episode, and every PSI back
below :data:`~moderation.scoring.drift.CLEAR_RATIO` times it ends it. The
episode is a row of the database: of the workers that find it at once, one
opens it (one open episode per site, across hosts), and that same transaction
enqueues the ``model.drift`` webhook events, so each subscriber gets one per
episode. An episode cannot start again within one poll of the previous one's end.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from prometheus_client.core import GaugeMetricFamily

from ..domain import iso
from ..records.review import DriftState
from ..scoring.drift import (END, MODEL, SCORE_EDGES, START, TRAFFIC, Assessment, assess,
                             distributions, episode_step, excluded_intervals, model_reference,
                             traffic_reference)
from ..store.base import DriftEpisode, Store, StoreError

log = logging.getLogger(__name__)

REFERENCES = ("auto", TRAFFIC)
STOP_GRACE_SECONDS = 10


class DriftMonitor:
    """One worker's measures. ``sites``: the last assessment of each site (by
    name); ``open``: the open episode of each site that has one."""

    def __init__(self, store: Store, holder: Any, settings, *,
                 clock: Callable[[], float] = time.time) -> None:
        if settings.drift_reference not in REFERENCES:
            raise ValueError(f"MODERATION_DRIFT_REFERENCE={settings.drift_reference!r}: expected one of "
                             f"{', '.join(REFERENCES)}")
        self.store = store
        self.holder = holder
        self.clock = clock
        self.window = settings.drift_window_hours * 3600.0
        self.reference_seconds = settings.drift_reference_days * 86400.0
        self.min_comments = settings.drift_min_comments
        self.threshold = settings.drift_threshold
        self.poll = settings.drift_poll_seconds
        self.model_first = settings.drift_reference == "auto"
        self.sites: dict[str, Assessment] = {}
        self.open: dict[str, DriftEpisode] = {}
        self.measured_at: float | None = None
        self._stopping = asyncio.Event()

    async def step(self) -> None:
        """Measure every site once; start or end episodes as the figures say."""
        now = self.clock()
        bundle = self.holder.bundle
        version = bundle.version if bundle is not None else None
        reference = model_reference(bundle.manifest) if bundle is not None and self.model_first else None
        split = now - self.window
        since = split if reference is not None else split - self.reference_seconds
        by_site: dict[int, list[DriftEpisode]] = {}
        for episode in await self.store.drift_episodes(since=since):
            by_site.setdefault(episode.site_id, []).append(episode)
        assessments: dict[str, Assessment] = {}
        opened: dict[str, DriftEpisode] = {}
        for site in await self.store.list_sites():
            episodes = by_site.get(site.id, [])
            current = next((e for e in episodes if e.ended_at is None), None)
            if reference is not None:
                window, _, _ = distributions(await self.store.drift_counts(
                    site.id, since=split, split=split, until=now, score_edges=SCORE_EDGES,
                    model_version=version))
                assessment = assess(window, reference, kind=MODEL, min_comments=self.min_comments)
            else:
                window, kept, whole = distributions(await self.store.drift_counts(
                    site.id, since=since, split=split, until=now, score_edges=SCORE_EDGES,
                    model_version=version,
                    excluded=excluded_intervals(episodes, window_seconds=self.window, until=now)))
                assessment = assess(window, traffic_reference(kept, whole, self.min_comments),
                                    kind=TRAFFIC, min_comments=self.min_comments)
            action = episode_step(assessment, is_open=current is not None, threshold=self.threshold)
            if action == START:
                current = await self._start(site, assessment, version, now)
            elif action == END and current is not None:
                if await self.store.end_drift_episode(current.id, ended_at=now):
                    log.info("drift episode %d of site %s ended: score PSI %s, language PSI %s "
                             "(against %s)", current.id, site.name, _figure(assessment.score_psi),
                             _figure(assessment.language_psi), _reference_words(assessment.reference))
                current = None
            assessments[site.name] = assessment
            if current is not None:
                opened[site.name] = current
        self.sites, self.open, self.measured_at = assessments, opened, now

    async def _start(self, site, assessment: Assessment, version: str | None,
                     now: float) -> DriftEpisode | None:
        started = await self.store.start_drift_episode(
            site_id=site.id, started_at=now, quiet_since=now - self.poll,
            reference=assessment.reference, model_version=version, threshold=self.threshold,
            score_psi=assessment.score_psi, language_psi=assessment.language_psi,
            comments=assessment.comments, reference_comments=assessment.reference_comments)
        if started is None:   # another worker (or host) opened it first, or one just ended
            return next((e for e in await self.store.drift_episodes(since=now, site_id=site.id)
                         if e.ended_at is None), None)
        log.warning("drift on site %s: score PSI %s, language PSI %s against %s, above %g; "
                    "episode %d started, model.drift sent to the site's webhooks", site.name,
                    _figure(assessment.score_psi), _figure(assessment.language_psi),
                    _reference_words(assessment.reference), self.threshold, started.id)
        return started

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Measure every ``poll`` seconds until :meth:`stop`. A failing measure
        (database busy or out of reach...) is logged once per outage and tried
        again at the next poll; the last figures stay."""
        failing = False
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll)
            if self._stopping.is_set():
                return
            failing = await self.guarded_step(failing)

    async def guarded_step(self, failing: bool = False) -> bool:
        """:meth:`step`, logging a failure (once while *failing*); whether it failed."""
        try:
            await self.step()
        except Exception as exc:   # noqa: BLE001: the monitor outlives any fault
            if not failing:
                log.warning("measuring drift failed (retrying every %.1f s): %s", self.poll, exc,
                            exc_info=not isinstance(exc, StoreError))
            return True
        if failing:
            log.info("measuring drift works again")
        return False


def _figure(value: float | None) -> str:
    return "not judged" if value is None else f"{value:.3f}"


def _reference_words(reference: str) -> str:
    return ("the model's held-out predictions" if reference == MODEL
            else "the site's earlier traffic")


# -- what /metrics and /readyz report
def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def drift_families(monitor: DriftMonitor | None) -> list[GaugeMetricFamily]:
    """``moderation_score_drift_psi`` and ``moderation_language_drift_psi`` by
    ``site`` and ``reference`` (``model`` or ``traffic``), from this worker's
    last measure (*monitor* None: not measuring in this process); a site not
    judged (too few comments) has no sample."""
    score = GaugeMetricFamily(
        "moderation_score_drift_psi",
        "Population stability index of the site's spam scores over the drift window against the "
        "reference (model: the model's held-out predictions; traffic: the site's earlier comments).",
        labels=["site", "reference"])
    language = GaugeMetricFamily(
        "moderation_language_drift_psi",
        "Population stability index of the site's detected languages over the drift window against "
        "the reference (model or traffic).", labels=["site", "reference"])
    for site, assessment in (monitor.sites.items() if monitor is not None else ()):
        if assessment.score_psi is not None:
            score.add_metric([site, assessment.reference], assessment.score_psi)
        if assessment.language_psi is not None:
            language.add_metric([site, assessment.reference], assessment.language_psi)
    return [score, language]


def drift_report(monitor: DriftMonitor | None) -> dict[str, DriftState] | None:
    """``/readyz``'s ``drift``: each site in an episode, with its last PSIs,
    the reference and since when; None when no site is (or *monitor* is None)."""
    if monitor is None or not monitor.open:
        return None
    report = {}
    for site, episode in sorted(monitor.open.items()):
        assessment = monitor.sites.get(site)
        report[site] = DriftState(
            score_psi=_rounded(assessment.score_psi if assessment else episode.score_psi),
            language_psi=_rounded(assessment.language_psi if assessment else episode.language_psi),
            reference=assessment.reference if assessment else episode.reference,
            threshold=monitor.threshold, since=iso(episode.started_at), episode=episode.id)
    return report
