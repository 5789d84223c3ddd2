"""How a model decides on labelled comments it never saw, the way the service would.

Contract of ``service_outcome(bundle, rows, site_language)``:

- each row's language is detected as the service detects it, with the site's
  language (else the row's stated one) as the hint for short or unsure texts;
- each row lands in the band the service would put it in: ``review`` for a
  language the model does not support, else that language's thresholds decide;
- the answer holds, per label, the share published, sent to review and held
  as spam, the same for the rows of that label carrying a link
  (``ham_with_link``, ``spam_with_link``: real links, unlike the copies with a
  link added that training measures), and the languages detected. Nothing here
  trains or stores anything.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from moderation.scoring.features import ScoringInput, has_link
from moderation.training.dataset import detect_languages_in_parallel
from moderation.training.readers import LabelledRow

BANDS = ("published", "review", "spam")


def service_bands(bundle, scores: Sequence[float], languages: Sequence[str]) -> list[str]:
    """The band the service puts each scored text in (see module doc)."""
    bands = []
    for score, language in zip(scores, languages):
        thresholds = bundle.thresholds_for(language)
        if not bundle.supports(language):
            bands.append("review")
        elif score >= thresholds.reject_above:
            bands.append("spam")
        elif score < thresholds.approve_below:
            bands.append("published")
        else:
            bands.append("review")
    return bands


def service_outcome(bundle, rows: Sequence[LabelledRow], site_language: str = "") -> dict[str, Any]:
    hints = [site_language or row.language for row in rows]
    languages = detect_languages_in_parallel([row.body for row in rows], hints=hints)
    inputs = [ScoringInput(row.body, row.author_name, row.author_email, language)
              for row, language in zip(rows, languages)]
    scores = bundle.predict_proba(inputs)
    bands = service_bands(bundle, scores, languages)
    outcome: dict[str, Any] = {"n": len(rows), "languages": dict(Counter(languages).most_common(5)),
                               "scores": scores, "bands": bands}
    linked = has_link(inputs).tolist()
    for name, label in (("ham", 0), ("spam", 1)):
        mine = [band for band, row in zip(bands, rows) if row.label == label]
        outcome[name] = _shares(mine)
        outcome[f"{name}_with_link"] = _shares([band for band, row, link in zip(bands, rows, linked)
                                                if row.label == label and link])
    outcome["review_rate"] = round(bands.count("review") / len(bands), 6) if bands else 0.0
    return outcome


def _shares(bands: Sequence[str]) -> dict[str, Any]:
    return {"n": len(bands), **{band: (round(bands.count(band) / len(bands), 6) if bands else None)
                                for band in BANDS}}
