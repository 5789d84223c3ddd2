"""Which languages a model supports, with what thresholds: decided from held-out scores.

Contract of ``evaluate_languages(scores, labels, languages, sources, has_link, ...)``:

- For every detected language with held-out rows, thresholds are chosen on that
  language's rows alone, meeting the budgets on the pooled rows and on each
  source large enough to be measured (``choose_thresholds_by_source``).
- A language is *supported* (the service decides on it by itself) only when its
  held-out rows hold at least ``MIN_HAM`` ham and ``MIN_SPAM`` spam, its
  thresholds meet both budgets there, and its review band holds at most
  ``max_review`` of its rows. ``force`` adds a language whatever its figures
  (it still needs both classes to set thresholds); ``forbid`` removes one.
  Never a row count alone: the reason is recorded either way.
- Each language's entry holds its thresholds, pooled metrics, the same metrics
  per source, and the link measurement: ham with a link against ham without,
  each with its share held as spam and published.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from moderation.scoring.features import UNKNOWN_LANGUAGE
from moderation.training.evaluation import classification_metrics
from moderation.training.thresholds import band_rates, choose_thresholds_by_source

MIN_HAM = 200
MIN_SPAM = 50
"""Fewest held-out rows of each class for a language to be measured: below 200 ham
a 0.5 % budget cannot be told from zero, and 50 spam make 2 % one comment."""
DEFAULT_MAX_REVIEW = 0.35
"""Above this share in review, automatic decisions save a site little work."""


def _rounded(values: dict[str, Any]) -> dict[str, Any]:
    return {key: round(value, 6) if isinstance(value, float) else value for key, value in values.items()}


def link_measurement(scores, labels, has_link, thresholds) -> dict[str, Any]:
    """Band rates of held-out ham with a link and without one."""
    scores, labels, has_link = np.asarray(scores), np.asarray(labels), np.asarray(has_link, dtype=bool)
    answer = {}
    for name, mask in (("ham_with_link", (labels == 0) & has_link), ("ham_without_link", (labels == 0) & ~has_link),
                       ("spam_with_link", (labels == 1) & has_link)):
        if not mask.any():
            answer[name] = {"n": 0}
            continue
        rates = band_rates(scores[mask], labels[mask], thresholds)
        published = float((scores[mask] < thresholds.approve_below).mean())
        held = float((scores[mask] >= thresholds.reject_above).mean())
        answer[name] = _rounded({"n": int(mask.sum()), "published_rate": published, "spam_rate": held,
                                 "review_rate": rates.review_rate})
    return answer


def evaluate_languages(scores, labels, languages, sources, has_link, *, max_ham_to_spam: float,
                       max_spam_published: float, max_review: float = DEFAULT_MAX_REVIEW,
                       force: Iterable[str] = (), forbid: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    languages, sources = np.asarray(languages, dtype=object), np.asarray(sources, dtype=object)
    has_link = np.asarray(has_link, dtype=bool)
    force, forbid = set(force), set(forbid)
    result: dict[str, dict[str, Any]] = {}
    for language in sorted(set(languages.tolist()) | force):
        if language == UNKNOWN_LANGUAGE:
            continue
        mask = languages == language
        n_ham, n_spam = int((labels[mask] == 0).sum()), int((labels[mask] == 1).sum())
        if not n_ham or not n_spam:
            if language in force:
                result[language] = {"supported": False, "n_ham": n_ham, "n_spam": n_spam,
                                    "why": "forced, but its held-out rows lack ham or spam: no thresholds"}
            continue
        thresholds = choose_thresholds_by_source(scores[mask], labels[mask], sources[mask],
                                                 max_ham_to_spam, max_spam_published)
        metrics = _rounded(classification_metrics(scores[mask], labels[mask], thresholds))
        per_source = {}
        for source in sorted(set(sources[mask].tolist())):
            part = mask & (sources == source)
            per_source[source] = _rounded(classification_metrics(scores[part], labels[part], thresholds))
        meets = (metrics["ham_to_spam_rate"] <= max_ham_to_spam + 1e-12
                 and metrics["spam_to_published_rate"] <= max_spam_published + 1e-12)
        if language in forbid:
            supported, why = False, "forbidden by --no-support"
        elif language in force:
            supported, why = True, "forced by --support"
        elif n_ham < MIN_HAM or n_spam < MIN_SPAM:
            supported, why = False, f"too few held-out rows to measure ({n_ham} ham, {n_spam} spam; " \
                                    f"needs {MIN_HAM} and {MIN_SPAM})"
        elif not meets:
            supported, why = False, "its held-out rows miss an error budget"
        elif metrics["review_rate"] > max_review:
            supported, why = False, f"review band {metrics['review_rate']:.1%} above {max_review:.0%}"
        else:
            supported, why = True, "held-out rows meet both budgets"
        result[language] = {
            "supported": supported,
            "why": why,
            "thresholds": thresholds.as_dict(),
            "metrics": metrics,
            "per_source": per_source,
            "links": link_measurement(scores[mask], labels[mask], has_link[mask], thresholds),
        }
    return result
