"""Choosing the two thresholds that cut P(spam) into three bands.

Contract:

- Bands: ``score < approve_below`` -> publish; ``score >= reject_above`` -> spam;
  otherwise review. ``approve_below <= reject_above`` always.
- ``choose_thresholds(scores, labels, max_ham_to_spam, max_spam_published)``
  returns the thresholds with the smallest review band such that, on the given
  (held-out) scores, at most ``max_ham_to_spam`` of ham lands in the spam band
  and at most ``max_spam_published`` of spam lands in the publish band.
  The two budgets constrain different thresholds, so each is pushed as far as
  its budget allows: ``reject_above`` as low and ``approve_below`` as high as
  possible. Each threshold is placed midway between the two neighbouring
  distinct scores, which gives the same measured rates with the widest margin.
  When the bands would cross, both thresholds meet at the middle of the range
  that satisfies both budgets (no review band).
- ``band_rates`` measures the three-band outcome of any thresholds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from moderation.domain import Bands


@dataclass(frozen=True, slots=True)
class BandRates:
    """The three-band outcome on labelled scores (shares in [0, 1])."""

    ham_to_spam_rate: float  # share of ham in the spam band
    spam_to_published_rate: float  # share of spam in the publish band
    review_rate: float  # share of all rows in the review band
    ham_to_review_rate: float
    spam_to_review_rate: float

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__slots__}


def band_rates(scores, labels, thresholds: Bands) -> BandRates:
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    spam_band = scores >= thresholds.reject_above
    publish_band = scores < thresholds.approve_below
    review_band = ~spam_band & ~publish_band
    ham, spam = labels == 0, labels == 1

    def share(band: np.ndarray, among: np.ndarray) -> float:
        return float(band[among].mean()) if among.any() else 0.0

    return BandRates(
        ham_to_spam_rate=share(spam_band, ham),
        spam_to_published_rate=share(publish_band, spam),
        review_rate=float(review_band.mean()) if len(scores) else 0.0,
        ham_to_review_rate=share(review_band, ham),
        spam_to_review_rate=share(review_band, spam),
    )


def _lowest_reject_threshold(ham: np.ndarray, all_scores: np.ndarray, allowed: int) -> float:
    """Smallest threshold with at most ``allowed`` ham scores at or above it."""
    descending = np.sort(ham)[::-1]
    if allowed >= len(descending):
        return float(all_scores.min())
    blocking = descending[allowed]  # must fall below the threshold, with all ties
    above = all_scores[all_scores > blocking]
    upper = float(above.min()) if len(above) else math.nextafter(max(1.0, blocking), math.inf)
    return (float(blocking) + upper) / 2.0


def _highest_approve_threshold(spam: np.ndarray, all_scores: np.ndarray, allowed: int) -> float:
    """Largest threshold with at most ``allowed`` spam scores strictly below it."""
    ascending = np.sort(spam)
    if allowed >= len(ascending):
        return math.nextafter(float(all_scores.max()), math.inf)
    blocking = ascending[allowed]  # must stay at or above the threshold, with all ties
    below = all_scores[all_scores < blocking]
    if not len(below):
        return float(blocking)
    return (float(below.max()) + float(blocking)) / 2.0


def choose_thresholds(
    scores,
    labels,
    max_ham_to_spam: float = 0.005,
    max_spam_published: float = 0.02,
) -> Bands:
    """Thresholds with the smallest review band meeting both budgets (see module doc)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    ham, spam = scores[labels == 0], scores[labels == 1]
    if not len(ham) or not len(spam):
        raise ValueError("choosing thresholds needs held-out scores of both spam and ham")
    for name, budget in (("max_ham_to_spam", max_ham_to_spam), ("max_spam_published", max_spam_published)):
        if not 0.0 <= budget < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {budget}")
    # A tiny tolerance so that a budget of exactly k/n allows k rows despite float error.
    allowed_ham = math.floor(max_ham_to_spam * len(ham) + 1e-9)
    allowed_spam = math.floor(max_spam_published * len(spam) + 1e-9)
    reject_above = _lowest_reject_threshold(ham, scores, allowed_ham)
    approve_below = _highest_approve_threshold(spam, scores, allowed_spam)
    if approve_below > reject_above:
        meeting = (approve_below + reject_above) / 2.0
        return Bands.checked(approve_below=meeting, reject_above=meeting)
    return Bands.checked(approve_below=approve_below, reject_above=reject_above)


SOURCE_MIN_HAM = 200
SOURCE_MIN_SPAM = 50
"""A source sets its own constraint only with this many held-out rows of the class:
below 200 ham a 0.5 % budget allows no error at all, and one comment would set
the threshold; 50 spam make 2 % one comment."""


def choose_thresholds_by_source(
    scores,
    labels,
    sources,
    max_ham_to_spam: float = 0.005,
    max_spam_published: float = 0.02,
) -> Bands:
    """Thresholds meeting both budgets on the pooled rows *and* on each source
    large enough to be measured on its own (``SOURCE_MIN_HAM`` ham for the spam
    threshold, ``SOURCE_MIN_SPAM`` spam for the publish threshold), with the
    smallest review band: the strictest of the thresholds each would choose.
    A plentiful easy source (news comments, all ham) must not loosen the
    threshold that another source (YouTube) needs."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    sources = np.asarray(sources, dtype=object)
    pooled = choose_thresholds(scores, labels, max_ham_to_spam, max_spam_published)
    reject_above, approve_below = pooled.reject_above, pooled.approve_below
    for source in sorted(set(sources.tolist())):
        mask = sources == source
        ham, spam = scores[mask & (labels == 0)], scores[mask & (labels == 1)]
        if len(ham) >= SOURCE_MIN_HAM:
            allowed = math.floor(max_ham_to_spam * len(ham) + 1e-9)
            reject_above = max(reject_above, _lowest_reject_threshold(ham, scores, allowed))
        if len(spam) >= SOURCE_MIN_SPAM:
            allowed = math.floor(max_spam_published * len(spam) + 1e-9)
            approve_below = min(approve_below, _highest_approve_threshold(spam, scores, allowed))
    if approve_below > reject_above:
        meeting = (approve_below + reject_above) / 2.0
        return Bands.checked(approve_below=meeting, reject_above=meeting)
    return Bands.checked(approve_below=approve_below, reject_above=reject_above)
