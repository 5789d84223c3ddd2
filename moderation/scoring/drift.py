"""Drift of a site's traffic away from what the model was measured on. Pure:
no aiohttp, no store (the periodic measure is :mod:`moderation.services.drift_monitor`).

Two distributions of a site's recent comments (the *window*) are compared
with a *reference* by the population stability index::

    PSI = sum over bins of (a - e) * ln(a / e)

``a`` the window's share of a bin, ``e`` the reference's, each at least
:data:`EPSILON` (an empty bin). Rule of thumb: below 0.1 nothing moved, 0.1 to
0.25 some shift, above 0.25 a different population.

- **Spam scores**: 10 fixed bins (:data:`SCORE_EDGES`), equally wide on the
  logit scale from -6 to 6, since calibrated scores crowd near 0 and 1
  (edges 0.0025, 0.011, 0.047, 0.18, 0.5, 0.82, 0.953, 0.989, 0.9975). Only
  comments scored by the model in service count.
- **Detected languages**: one bin per language holding at least
  :data:`LANGUAGE_MIN_SHARE` of either side, the rarer ones pooled in
  ``other`` (short texts make rare detections come and go by chance).

The reference is ``model`` when the model's manifest has a ``reference``
entry (its held-out predictions: :func:`reference_entry`, written by
``train.py``), else ``traffic``: the site's own comments in the days before
the window, leaving out drift episodes (:func:`traffic_reference`).

An *episode* (:func:`episode_step`) starts when a PSI goes above the threshold
and ends when every PSI judged is below :data:`CLEAR_RATIO` times it.
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

EPSILON = 1e-4
"""The least share a bin counts for: an empty bin gives a large, finite term."""
SCORE_EDGES: tuple[float, ...] = (0.0, *(round(1 / (1 + math.exp(-x / 2)), 6)
                                         for x in range(-12, 13, 3)), 1.0)
"""Bin ``i`` holds scores ``SCORE_EDGES[i] <= s < SCORE_EDGES[i + 1]`` (the last also 1.0)."""
SCORE_BINS = len(SCORE_EDGES) - 1
LANGUAGE_MIN_SHARE = 0.02
OTHER_LANGUAGES = "other"
CLEAR_RATIO = 0.8
"""An episode ends when every PSI judged is below this share of the threshold."""

MODEL, TRAFFIC = "model", "traffic"
START, END, STAY, QUIET = "start", "end", "stay", "quiet"


def score_bin(score: float) -> int:
    """The bin of a spam score (see :data:`SCORE_EDGES`)."""
    return bisect.bisect_right(SCORE_EDGES, score, 1, SCORE_BINS) - 1


def _shares(weights: Sequence[float]) -> list[float]:
    total = float(sum(weights))
    if total <= 0:
        return [0.0] * len(weights)
    return [w / total for w in weights]


def psi(actual: Sequence[float], expected: Sequence[float], epsilon: float = EPSILON) -> float:
    """The PSI of *actual* against *expected*: counts or shares per bin, in
    the same order (each side is normalised to shares first)."""
    if len(actual) != len(expected):
        raise ValueError(f"{len(actual)} bins against {len(expected)}")
    total = 0.0
    for a, e in zip(_shares(actual), _shares(expected)):
        a, e = max(a, epsilon), max(e, epsilon)
        total += (a - e) * math.log(a / e)
    return total


def language_bins(actual: Mapping[str, float], expected: Mapping[str, float],
                  min_share: float = LANGUAGE_MIN_SHARE) -> tuple[list[str], list[float], list[float]]:
    """The language bins of two distributions (counts or shares by language):
    languages with at least *min_share* on either side, then ``other``
    pooling the rest; the names and each side's weights in that order."""
    def shares(weights: Mapping[str, float]) -> dict[str, float]:
        total = float(sum(weights.values()))
        return {k: v / total for k, v in weights.items()} if total > 0 else {}
    a, e = shares(actual), shares(expected)
    kept = sorted(k for k in set(a) | set(e)
                  if k != OTHER_LANGUAGES and max(a.get(k, 0.0), e.get(k, 0.0)) >= min_share)
    names = [*kept, OTHER_LANGUAGES]
    rest = lambda side: sum(v for k, v in side.items() if k not in kept)  # noqa: E731
    return (names, [a.get(k, 0.0) for k in kept] + [rest(a)],
            [e.get(k, 0.0) for k in kept] + [rest(e)])


def language_psi(actual: Mapping[str, float], expected: Mapping[str, float]) -> float:
    _, a, e = language_bins(actual, expected)
    return psi(a, e)


@dataclass(frozen=True, slots=True)
class Distribution:
    """What a window (or a reference) holds: counts, or shares for a model
    reference. ``scores`` per bin of :data:`SCORE_EDGES`; ``languages`` by
    detected language; ``comments`` how many comments (rows) it counts and
    ``scored`` how many of them are in ``scores``."""

    scores: tuple[float, ...] = (0,) * SCORE_BINS
    languages: Mapping[str, float] = field(default_factory=dict)
    comments: int = 0
    scored: int = 0


@dataclass(frozen=True, slots=True)
class Assessment:
    """One site's drift, as last measured. A PSI is None when there were too
    few comments (in the window or the reference) to judge it."""

    reference: str                  # MODEL or TRAFFIC
    score_psi: float | None
    language_psi: float | None
    comments: int                   # in the window
    scored: int                     # of which scored by the model in service
    reference_comments: int         # comments of a traffic reference, held-out rows of a model's

    @property
    def judged(self) -> list[float]:
        return [v for v in (self.score_psi, self.language_psi) if v is not None]

    @property
    def highest(self) -> float | None:
        return max(self.judged, default=None)


def assess(window: Distribution, reference: Distribution, *, kind: str,
           min_comments: int) -> Assessment:
    """Both PSIs of *window* against *reference*. Scores are judged when both
    sides have at least *min_comments* scored, languages when both have that
    many comments (rows, for a model reference)."""
    score = language = None
    if window.scored >= min_comments and reference.scored >= min_comments:
        score = psi(window.scores, reference.scores)
    if window.comments >= min_comments and reference.comments >= min_comments:
        language = language_psi(window.languages, reference.languages)
    return Assessment(reference=kind, score_psi=score, language_psi=language,
                      comments=window.comments, scored=window.scored,
                      reference_comments=reference.comments)


def episode_step(assessment: Assessment | None, *, is_open: bool, threshold: float,
                 clear_ratio: float = CLEAR_RATIO) -> str:
    """What an assessment does to a site's episode: :data:`START` (none open,
    a PSI above *threshold*), :data:`END` (one open, every PSI judged below
    ``clear_ratio * threshold``), else :data:`STAY` (one open) or
    :data:`QUIET` (none). Nothing judged changes nothing."""
    highest = assessment.highest if assessment is not None else None
    if highest is None:
        return STAY if is_open else QUIET
    if is_open:
        return END if highest < clear_ratio * threshold else STAY
    return START if highest > threshold else QUIET


# -- counting: rows of Store.drift_counts -> distributions
def _distribution(scores: list[int], languages: dict[str, int]) -> Distribution:
    return Distribution(scores=tuple(scores), languages=dict(languages),
                        comments=sum(languages.values()), scored=sum(scores))


def distributions(rows: Iterable[Any]) -> tuple[Distribution, Distribution, Distribution]:
    """The window, the reference without the comments left out, and the whole
    reference, from rows with ``current``, ``excluded``, ``score_bin`` (-1:
    not scored by the model in service), ``language`` and ``count``."""
    parts = {name: ([0] * SCORE_BINS, {}) for name in ("window", "kept", "all")}
    for row in rows:
        names = ("window",) if row.current else ("all",) if row.excluded else ("kept", "all")
        for name in names:
            scores, languages = parts[name]
            if 0 <= row.score_bin < SCORE_BINS:
                scores[row.score_bin] += row.count
            languages[row.language] = languages.get(row.language, 0) + row.count
    return (_distribution(*parts["window"]), _distribution(*parts["kept"]),
            _distribution(*parts["all"]))


def traffic_reference(kept: Distribution, whole: Distribution, min_comments: int) -> Distribution:
    """The site's earlier traffic without its drift episodes (*kept*), unless
    that leaves fewer than *min_comments*: then all of it (*whole*), so that a
    lasting change becomes the new normal once it fills the reference period."""
    return kept if kept.comments >= min_comments else whole


def excluded_intervals(episodes: Iterable[Any], *, window_seconds: float,
                       until: float) -> list[tuple[float, float]]:
    """The times whose comments a traffic reference leaves out: from one
    window before each episode started (the traffic that raised it) to its
    end (*until* while it is open)."""
    return [(e.started_at - window_seconds, e.ended_at if e.ended_at is not None else until)
            for e in episodes]


# -- the model's own reference, in its manifest
def reference_entry(scores: Sequence[float], languages: Sequence[str]) -> dict[str, Any]:
    """The manifest's ``reference``: shares of held-out scores per bin of
    :data:`SCORE_EDGES` and of their languages (``train.py`` writes it)."""
    if len(scores) != len(languages):
        raise ValueError("one language per score")
    counts = [0] * SCORE_BINS
    for score in scores:
        counts[score_bin(float(score))] += 1
    language_counts: dict[str, int] = {}
    for language in languages:
        language_counts[str(language)] = language_counts.get(str(language), 0) + 1
    rows = len(scores)
    return {
        "what": "held-out predictions: shares of scores per bin and of detected languages",
        "rows": rows,
        "score_edges": list(SCORE_EDGES),
        "score_shares": [round(c / rows, 6) if rows else 0.0 for c in counts],
        "language_shares": {k: round(v / rows, 6) for k, v in sorted(language_counts.items())},
    }


def model_reference(manifest: Mapping[str, Any] | None) -> Distribution | None:
    """The reference a model's manifest holds, or None: none, malformed, or
    measured on other bins than :data:`SCORE_EDGES`."""
    entry = (manifest or {}).get("reference")
    try:
        edges = [float(x) for x in entry["score_edges"]]
        shares = tuple(float(x) for x in entry["score_shares"])
        languages = {str(k): float(v) for k, v in entry["language_shares"].items()}
        rows = int(entry["rows"])
    except (TypeError, KeyError, ValueError, AttributeError):
        return None
    if (len(edges) != len(SCORE_EDGES) or any(abs(a - b) > 1e-9 for a, b in zip(edges, SCORE_EDGES))
            or len(shares) != SCORE_BINS or rows <= 0):
        return None
    return Distribution(scores=shares, languages=languages, comments=rows, scored=rows)
