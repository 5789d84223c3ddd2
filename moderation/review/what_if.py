"""Threshold what-if: a site's labelled history replayed through its stored
scores. Pure: the CLI (``moderation thresholds what-if``) reads the labels and
the model's manifest and prints what this module computes.

The labels are the store's :class:`~moderation.store.base.ScoredLabel` rows
(approve and spam decisions that still stand, with the score the current model
version gave). Replaying them through a pair of thresholds counts, for each
band rule ``score < approve_below`` -> publish, ``score >= reject_above`` ->
spam, otherwise review (:mod:`moderation.policy`):

- ham held as spam: ham labels in the spam band, among ham labels;
- spam published: spam labels in the publish band, among spam labels;
- review: labels in the review band, among all labels;

each as a :class:`Share` with its 95 % Wilson score interval, which stays
inside [0, 1] and is honest at 0 of n, where the normal approximation says
"0 % plus or minus 0".

What the labels are decides what the figures mean. Labels from the review
queue are mostly comments the model was unsure of, so their rates describe
those, not the site's traffic. The audit sample (``ScoredLabel.audited``: a
uniform random share of the model's automatic decisions sent to a moderator,
``MODERATION_AUDIT_SHARE``) is the unbiased part: replayed alone, it estimates
the error rates of the automatic decisions on all traffic.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..policy import Bands

Z_95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95 % interval."""


def wilson_interval(count: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of the proportion *count* / *total*; (0, 1)
    when *total* is 0 (nothing is known)."""
    if total <= 0:
        return 0.0, 1.0
    if not 0 <= count <= total:
        raise ValueError(f"count {count} outside [0, {total}]")
    share = count / total
    z2 = z * z
    centre = (share + z2 / (2 * total)) / (1 + z2 / total)
    half = z * math.sqrt(share * (1 - share) / total + z2 / (4 * total * total)) / (1 + z2 / total)
    low = 0.0 if count == 0 else max(0.0, centre - half)
    high = 1.0 if count == total else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True, slots=True)
class Share:
    """*count* of *total*, with its 95 % Wilson interval."""

    count: int
    total: int

    @property
    def rate(self) -> float:
        return self.count / self.total if self.total else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.count, self.total)

    def as_dict(self) -> dict:
        low, high = self.interval
        return {"count": self.count, "total": self.total, "rate": round(self.rate, 6),
                "ci95": [round(low, 6), round(high, 6)]}

    def describe(self) -> str:
        """``"1.2% (3/250) [0.4%-3.5%]"``: the rate, the counts, the 95 % interval;
        ``"n/a (0/0)"`` when there is nothing to count."""
        if not self.total:
            return "n/a (0/0)"
        low, high = self.interval
        return f"{self.rate:.1%} ({self.count}/{self.total}) [{low:.1%}-{high:.1%}]"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a pair of thresholds does to a set of labels."""

    ham_held: Share
    spam_published: Share
    review: Share

    def as_dict(self) -> dict:
        return {"ham_held_as_spam": self.ham_held.as_dict(),
                "spam_published": self.spam_published.as_dict(),
                "review": self.review.as_dict()}


def replay(labels: Sequence, bands_for: Callable[[str], Bands]) -> Outcome:
    """The outcome of the thresholds ``bands_for(language)`` on *labels*, each
    label judged by the bands of its language (as the policy judges comments)."""
    ham = spam = ham_held = spam_published = review = 0
    for row in labels:
        bands = bands_for(row.language)
        in_spam_band = row.score >= bands.reject_above
        in_ham_band = row.score < bands.approve_below
        review += not in_spam_band and not in_ham_band
        if row.label == "ham":
            ham += 1
            ham_held += in_spam_band
        else:
            spam += 1
            spam_published += in_ham_band
    return Outcome(ham_held=Share(ham_held, ham), spam_published=Share(spam_published, spam),
                   review=Share(review, len(labels)))


def proposed_bands(current_for: Callable[[str], Bands], approve_below: float | None,
                   reject_above: float | None) -> Callable[[str], Bands]:
    """The thresholds in effect with the given ones replacing theirs (a site's
    thresholds apply to every language; one left out stays as it is)."""
    def bands_for(language: str) -> Bands:
        current = current_for(language)
        return Bands(current.approve_below if approve_below is None else approve_below,
                     current.reject_above if reject_above is None else reject_above)
    return bands_for


def check_thresholds(approve_below: float | None, reject_above: float | None,
                     current_for: Callable[[str], Bands], languages: Sequence[str]) -> str | None:
    """Why the proposed thresholds are not usable (None: they are): each in
    [0, 1], and approve_below <= reject_above once combined with those in
    effect for every language of the labels."""
    for name, value in (("--approve-below", approve_below), ("--reject-above", reject_above)):
        if value is not None and not 0.0 <= value <= 1.0:
            return f"{name} must lie in [0, 1], not {value}"
    if approve_below is not None and reject_above is not None and approve_below > reject_above:
        return f"--approve-below {approve_below:g} is above --reject-above {reject_above:g}"
    bands_for = proposed_bands(current_for, approve_below, reject_above)
    for language in languages:
        bands = bands_for(language)
        if bands.approve_below > bands.reject_above:
            return (f"approve-below {bands.approve_below:g} would be above reject-above "
                    f"{bands.reject_above:g} (language {language})")
    return None


@dataclass(frozen=True, slots=True)
class Sweep:
    """Each threshold moved over a grid of scores, the other staying at
    *anchor* (the thresholds in effect), every label judged by those two:

    - ``ham_held[i]``: share of ham at or above ``grid[i]`` (held as spam were
      it ``reject_above``);
    - ``spam_published[i]``: share of spam below ``grid[i]`` (published were it
      ``approve_below``);
    - ``review_moving_approve[i]``: share of all labels in review were
      ``approve_below`` = ``grid[i]`` (NaN above ``anchor.reject_above``);
    - ``review_moving_reject[i]``: the same were ``reject_above`` = ``grid[i]``
      (NaN below ``anchor.approve_below``).
    """

    grid: np.ndarray
    anchor: Bands
    ham_held: np.ndarray
    spam_published: np.ndarray
    review_moving_approve: np.ndarray
    review_moving_reject: np.ndarray


def sweep(labels: Sequence, anchor: Bands, points: int = 201) -> Sweep:
    """The curves of :class:`Sweep` on *labels* over ``points`` evenly spaced
    scores from 0 to 1."""
    grid = np.linspace(0.0, 1.0, points)
    ham = np.sort(np.array([r.score for r in labels if r.label == "ham"], dtype=np.float64))
    spam = np.sort(np.array([r.score for r in labels if r.label != "ham"], dtype=np.float64))
    every = np.sort(np.concatenate([ham, spam]))

    def share_below(x):
        return np.searchsorted(every, x, side="left") / max(len(every), 1)

    below = share_below(grid)
    return Sweep(
        grid=grid, anchor=anchor,
        ham_held=(len(ham) - np.searchsorted(ham, grid, side="left")) / max(len(ham), 1),
        spam_published=np.searchsorted(spam, grid, side="left") / max(len(spam), 1),
        review_moving_approve=np.where(grid <= anchor.reject_above,
                                       share_below(anchor.reject_above) - below, np.nan),
        review_moving_reject=np.where(grid >= anchor.approve_below,
                                      below - share_below(anchor.approve_below), np.nan))
