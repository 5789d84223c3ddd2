"""Surge mode: when one thread suddenly gets comments far faster than its
site's threads usually do, that thread's decisions get stricter for a while.
Pure: no I/O, no framework; the intake (:mod:`moderation.api.comments`) reads
the counts from the store and hands them here, and :func:`moderation.policy.decide`
applies :func:`stricter` to a comment of a surging thread.

**The rate.** Comments are counted per thread over a sliding window of
``window_seconds`` (``MODERATION_SURGE_WINDOW_SECONDS``, 10 min): the count a
new comment sees is the thread's comments created in the window before it,
plus itself. Every status counts: a spam wave is a surge too.

**The baseline: how busy a busy thread of this site usually gets.** The
site's comments of the last ``baseline_days`` (7), up to one window before now,
are cut into windows aligned on the epoch, per thread; each (thread, window)
holding at least one comment is one sample, its comment count the value. The
baseline is the 90th percentile (:data:`BASELINE_QUANTILE`) of those samples.

Why this and not a mean: a site's traffic is made of a few lively threads and
many quiet ones, by day and hardly any by night. A mean rate over all threads
and hours would be diluted by quiet threads and empty nights, and every
popular article would look like a surge. Counting only windows that had
comments, and taking a high percentile, measures "a busy thread on an
ordinary day". A percentile rather than the maximum: one past surge, a spam
wave or a famous scoop does not raise the bar for ever (up to 10 % of the
samples can be exceptional without moving it much). Days rather than hours:
the baseline then covers day and night, weekdays and the weekend alike.

**The threshold.** A thread surges when its count reaches
``max(min_comments, ceil(factor * baseline))``: ``factor`` (5) times what a
busy thread usually gets in one window, and never below ``min_comments`` (30),
so that a small site whose busy threads get 2 comments in 10 minutes does not
surge at 10. With fewer than ``baseline_min_windows`` (20) samples the site
has no baseline yet (new, or quiet for a week): ``min_comments`` alone is the
threshold.

**The state.** A surge lasts ``duration_seconds`` (30 min) from the comment
that started it; every comment that still finds the thread at or above the
threshold pushes the end to ``duration_seconds`` after itself (written only
when that moves it by :attr:`SurgePolicy.extend_step` or more: a few writes
per surge, not one per comment). Once the end passes, decisions are normal
again by themselves. The store keeps each surge (``thread_surges``), shared by
every worker and host.

**The decision** (:func:`stricter`): clear spam is still held as spam; clear
ham from a trusted author (one with an earlier published comment on the site,
same canonical e-mail) is still published; everything else of the thread waits
for a moderator, with reason ``surge``: comments the model is unsure of (or
cannot judge), and comments from new authors.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from .domain import Decision, Reason, Status

BASELINE_QUANTILE = 0.9
"""The percentile of the site's busy (thread, window) counts taken as its baseline."""

START, EXTEND = "start", "extend"


@dataclass(frozen=True, slots=True)
class SurgeStep:
    """What one new comment finds: whether the thread surges for it (``active``),
    what to record (``action``: :data:`START`, :data:`EXTEND` or None) and the
    end it sets or finds (``until``; None when not surging)."""

    active: bool
    action: str | None = None
    until: float | None = None


@dataclass(frozen=True, slots=True)
class SurgeInput:
    """What :func:`moderation.policy.decide` needs to know of a surge."""

    active: bool
    trusted_author: bool = False


@dataclass(frozen=True, slots=True)
class SurgePolicy:
    factor: float = 5.0
    window_seconds: float = 600.0
    min_comments: int = 30
    baseline_days: float = 7.0
    baseline_min_windows: int = 20
    duration_seconds: float = 1800.0

    @classmethod
    def from_settings(cls, settings) -> "SurgePolicy":
        return cls(factor=settings.surge_factor, window_seconds=settings.surge_window_seconds,
                   min_comments=settings.surge_min_comments,
                   baseline_days=settings.surge_baseline_days,
                   baseline_min_windows=settings.surge_baseline_min_windows,
                   duration_seconds=settings.surge_seconds)

    @property
    def enabled(self) -> bool:
        """``MODERATION_SURGE_FACTOR=0`` (or no duration) switches surge mode off."""
        return self.factor > 0 and self.duration_seconds > 0 and self.window_seconds > 0

    @property
    def extend_step(self) -> float:
        """A surge's end is pushed back only when it moves by this much or more."""
        return self.duration_seconds / 10

    def baseline_range(self, now: float) -> tuple[float, float]:
        """``(since, until)``: the comments the baseline is measured on (the
        current window left out: a surge under way must not raise its own bar)."""
        return now - self.baseline_days * 86400, now - self.window_seconds

    def threshold(self, baseline: float | None) -> int:
        """Comments in one window of one thread that make it surge (at least 1)."""
        floor = max(1, self.min_comments)
        if baseline is None:
            return floor
        return max(floor, math.ceil(self.factor * baseline - 1e-9))

    def assess(self, *, count: int, until: float | None, threshold: int, now: float) -> SurgeStep:
        """*count*: the thread's comments in the window, the new one included;
        *until*: the end of the surge the store holds for the thread (None: none)."""
        active = until is not None and until > now
        if not self.enabled or count < threshold:
            return SurgeStep(active=active, until=until if active else None)
        new_until = now + self.duration_seconds
        if not active:
            return SurgeStep(active=True, action=START, until=new_until)
        if new_until - until >= self.extend_step:
            return SurgeStep(active=True, action=EXTEND, until=new_until)
        return SurgeStep(active=True, until=until)


def baseline_from_counts(histogram: Mapping[int, int], *, min_windows: int,
                         quantile: float = BASELINE_QUANTILE) -> float | None:
    """The baseline from the site's (thread, window) samples, given as
    ``{comments in the window: how many such windows}``: the *quantile*
    (nearest rank) of the samples, None with fewer than *min_windows*."""
    samples = sorted((n, k) for n, k in histogram.items() if n > 0 and k > 0)
    total = sum(k for _, k in samples)
    if total == 0 or total < min_windows:
        return None
    rank = max(1, math.ceil(quantile * total))
    seen = 0
    for value, windows in samples:
        seen += windows
        if seen >= rank:
            return float(value)
    return float(samples[-1][0])


def stricter(decision: Decision, trusted_author: bool) -> Decision:
    """A decision made in a surging thread: clear spam stays spam, clear ham
    from a trusted author stays as it was, anything else waits for a
    moderator with reason ``surge``."""
    if decision.status is Status.SPAM:
        return decision
    if trusted_author and Reason.MODEL_HAM in decision.reasons:
        return decision
    return Decision(Status.PENDING, decision.reasons + (Reason.SURGE,))
