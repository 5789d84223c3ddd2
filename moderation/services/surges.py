"""Surge mode's moving parts around the pure rules of :mod:`moderation.surge`:
each worker's cache of its sites' baselines, the intake's step (record a surge
starting or lasting), and the background task that records the end of the
surges whose time is over (run for the app's life by
:func:`moderation.app.surge_context`).

Cost on the intake: the thread's count, its surge and the author's history come
with the guard's own read (:meth:`Store.recent_activity`), one query per
comment; a write happens only when a surge starts or is pushed back (a few per
surge). The baseline is one grouped read per site and worker every
:data:`BASELINE_REFRESH_SECONDS`, made in the background once a value is known.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from ..store.base import Store
from ..surge import SurgeInput, SurgePolicy, SurgeStep, baseline_from_counts
from ..domain import ThreadSurge

log = logging.getLogger(__name__)

BASELINE_REFRESH_SECONDS = 300.0
"""How old a site's baseline may get in one worker before it is measured again."""
SWEEP_SECONDS = 1.0
"""How often each worker records the end of the surges whose time is over."""


@dataclass(frozen=True, slots=True)
class _Known:
    value: float | None
    measured_at: float


class SurgeBaselines:
    """Per worker: each site's baseline (:func:`~moderation.surge.baseline_from_counts`),
    measured on first use, then again in the background once it is
    :data:`BASELINE_REFRESH_SECONDS` old (the intake never waits for that)."""

    def __init__(self, policy: SurgePolicy, refresh_seconds: float = BASELINE_REFRESH_SECONDS) -> None:
        self.policy = policy
        self.refresh_seconds = refresh_seconds
        self._known: dict[int, _Known] = {}
        self._measuring: dict[int, asyncio.Task] = {}

    async def get(self, store: Store, site_id: int, now: float) -> float | None:
        known = self._known.get(site_id)
        if known is not None:
            if now - known.measured_at >= self.refresh_seconds and site_id not in self._measuring:
                self._start(store, site_id, now).add_done_callback(_log_failure)
            return known.value
        task = self._measuring.get(site_id) or self._start(store, site_id, now)
        return await asyncio.shield(task)

    def _start(self, store: Store, site_id: int, now: float) -> asyncio.Task:
        task = asyncio.ensure_future(self._measure(store, site_id, now))
        self._measuring[site_id] = task
        return task

    async def _measure(self, store: Store, site_id: int, now: float) -> float | None:
        try:
            since, until = self.policy.baseline_range(now)
            histogram = await store.surge_baseline(site_id, since=since, until=until,
                                                   window_seconds=self.policy.window_seconds)
            value = baseline_from_counts(histogram, min_windows=self.policy.baseline_min_windows)
            self._known[site_id] = _Known(value, now)
            return value
        finally:
            self._measuring.pop(site_id, None)


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("measuring a site's surge baseline failed (the previous one stays): %s",
                    task.exception())


@dataclass(frozen=True, slots=True)
class SurgeCheck:
    """Surge mode for one new comment of a site: the policy, the site's baseline
    and the threshold it makes (see :mod:`moderation.surge`)."""

    policy: SurgePolicy
    baseline: float | None
    threshold: int

    @classmethod
    async def for_site(cls, baselines: SurgeBaselines, store: Store, site_id: int,
                       now: float) -> "SurgeCheck | None":
        """None when surge mode is off."""
        if not baselines.policy.enabled:
            return None
        baseline = await baselines.get(store, site_id, now)
        return cls(baselines.policy, baseline, baselines.policy.threshold(baseline))

    def read(self, thread_id: str, now: float) -> dict:
        """What :meth:`Store.recent_activity` reads besides the guard's counts."""
        return {"thread_ext_id": thread_id, "thread_since": now - self.policy.window_seconds,
                "thread_cap": self.threshold}

    async def judge(self, store: Store, recent, *, site_id: int, thread_id: str,
                    now: float) -> SurgeInput:
        """Whether the thread surges for this comment (recording a surge that
        starts or lasts), and whether its author is trusted."""
        count = recent.thread_count + 1
        step = self.policy.assess(count=count, until=recent.surge_until, threshold=self.threshold,
                                  now=now)
        await record_step(store, self.policy, step, site_id=site_id, thread_id=thread_id,
                          count=count, threshold=self.threshold, baseline=self.baseline, now=now)
        return SurgeInput(active=step.active, trusted_author=recent.author_published)


async def record_step(store: Store, policy: SurgePolicy, step: SurgeStep, *, site_id: int,
                      thread_id: str, count: int, threshold: int, baseline: float | None,
                      now: float) -> None:
    """Write what *step* says (a surge starting or pushed back), if anything."""
    if step.action is None or step.until is None:
        return
    surge, started = await store.record_surge(
        site_id=site_id, thread_ext_id=thread_id, now=now, until=step.until, comments=count,
        threshold=threshold, baseline=baseline, window_seconds=policy.window_seconds)
    if started:
        log.info("surge mode on for thread %r of site %d: %d comments in %g s (threshold %d, "
                 "baseline %s) until %.0f", thread_id, site_id, count, policy.window_seconds,
                 threshold, "none" if baseline is None else f"{baseline:g}", surge.until)


async def end_due_surges(store: Store, now: float) -> list[ThreadSurge]:
    ended = await store.end_surges(now=now)
    for surge in ended:
        log.info("surge mode off for thread %r of site %d (on from %.0f to %.0f)",
                 surge.thread_id, surge.site_id, surge.started_at, surge.until)
    return ended


async def sweep_ended_surges(store: Store) -> None:
    """Forever: every :data:`SWEEP_SECONDS`, record the end of the surges whose time is over."""
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            await end_due_surges(store, time.time())
        except Exception as exc:   # the database busy or away: the next round tries again
            log.warning("recording the end of surges failed: %s", exc)
