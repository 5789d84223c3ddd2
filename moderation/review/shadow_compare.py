"""The live model against a shadowed candidate, on the same comments. Pure.

Each comment the candidate scored has two bands: the live model's (its stored
score at the live model's own thresholds for the comment's language: the
version that scored it, read from its manifest) and the candidate's (stored
with the comment at intake). Both are judged at each model's own thresholds,
not the site's overrides, which were fitted to the live model's scale.

On the comments moderators have since decided (approved: ham, marked spam:
spam; rejections say nothing about spam), each model's error rates: ham it
would have held as spam, spam it would have published, and the share of all
comments it would have sent to review. Mind the sample: moderators mostly
decide what the live model sent to review, plus the audit sample.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..policy import Bands, band_of
from ..records import models as answers
from ..records import to_json

BANDS = ("publish", "review", "spam")


def manifest_bands(manifest: dict[str, Any], language: str) -> tuple[Bands, bool]:
    """The thresholds a manifest gives *language*, and whether it decides it."""
    thresholds = manifest.get("per_language", {}).get(language, manifest)["thresholds"]
    decides = language in manifest.get("languages", ())
    return Bands(thresholds["approve_below"], thresholds["reject_above"]), decides


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    total: int

    @property
    def share(self) -> float | None:
        return self.count / self.total if self.total else None

    def record(self) -> answers.RateCount:
        return answers.RateCount(count=self.count, total=self.total,
                                 share=None if self.share is None else round(self.share, 4))


@dataclass(frozen=True, slots=True)
class ModelRates:
    version: str
    ham_held: Rate          # labelled ham in its spam band
    spam_published: Rate    # labelled spam in its publish band
    review: Rate            # all compared comments in its review band

    def record(self) -> answers.ModelRates:
        return answers.ModelRates(version=self.version, ham_held_as_spam=self.ham_held.record(),
                                  spam_published=self.spam_published.record(), review=self.review.record())


@dataclass(frozen=True, slots=True)
class ShadowReport:
    candidate: str
    since: float
    shadowing: bool                      # False: the candidate is no longer shadowed
    comments: int
    agreement: Rate                      # same band for both models
    bands: dict[tuple[str, str], int] = field(default_factory=dict)   # (live, candidate) -> count
    labelled_ham: int = 0
    labelled_spam: int = 0
    live: ModelRates | None = None
    candidate_rates: ModelRates | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``GET /v1/admin/model/compare`` and ``moderation model compare --json``."""
        return to_json(answers.ModelComparison(
            candidate=self.candidate, since=self.since, shadowing=self.shadowing, comments=self.comments,
            agreement=self.agreement.record(),
            bands=[answers.BandPair(live=live, candidate=cand, count=n)
                   for (live, cand), n in sorted(self.bands.items())],
            labelled=answers.Labelled(ham=self.labelled_ham, spam=self.labelled_spam),
            live=self.live.record() if self.live else None,
            candidate_rates=self.candidate_rates.record() if self.candidate_rates else None))


def compare_rows(rows: Iterable, *, manifest_for: Callable[[str], dict[str, Any]], candidate: str,
                 since: float, shadowing: bool) -> ShadowReport:
    """The report on :class:`~moderation.store.base.ShadowRow` rows scored by
    *candidate*; ``manifest_for(version)`` reads a model's manifest."""
    pairs: Counter = Counter()
    live_versions: Counter = Counter()
    labelled = {"ham": [], "spam": []}
    manifests: dict[str, dict[str, Any] | None] = {}
    total = 0
    for row in rows:
        if row.live_version not in manifests:
            try:
                manifests[row.live_version] = manifest_for(row.live_version) if row.live_version else None
            except Exception:   # noqa: BLE001: a deleted old model leaves its rows out
                manifests[row.live_version] = None
        manifest = manifests[row.live_version]
        if manifest is None:
            continue
        bands, decides = manifest_bands(manifest, row.language)
        live_band = band_of(row.live_score, bands, decides=decides)
        pair = (live_band, row.shadow_band)
        pairs[pair] += 1
        live_versions[row.live_version] += 1
        total += 1
        if row.label in labelled:
            labelled[row.label].append(pair)
    agree = sum(n for (live, cand), n in pairs.items() if live == cand)
    live_name = ", ".join(v for v, _ in live_versions.most_common()) or "-"

    def rates(version: str, side: int) -> ModelRates:
        return ModelRates(
            version=version,
            ham_held=Rate(sum(1 for p in labelled["ham"] if p[side] == "spam"), len(labelled["ham"])),
            spam_published=Rate(sum(1 for p in labelled["spam"] if p[side] == "publish"),
                                len(labelled["spam"])),
            review=Rate(sum(n for p, n in pairs.items() if p[side] == "review"), total))

    return ShadowReport(candidate=candidate, since=since, shadowing=shadowing, comments=total,
                        agreement=Rate(agree, total), bands=dict(pairs),
                        labelled_ham=len(labelled["ham"]), labelled_spam=len(labelled["spam"]),
                        live=rates(live_name, 0), candidate_rates=rates(candidate, 1))


def _share(rate: Rate) -> str:
    return "-" if rate.share is None else f"{100 * rate.share:.1f} % ({rate.count}/{rate.total})"


def format_report(report: ShadowReport, *, site: str | None = None) -> str:
    """The report as the CLI prints it."""
    lines = [f"candidate {report.candidate} ({'shadowed now' if report.shadowing else 'no longer shadowed'}),"
             f" compared on {report.comments} comments{f' of site {site}' if site else ''}",
             f"same band: {_share(report.agreement)}",
             "", "bands (rows: live model, columns: candidate)",
             f"{'':>10}" + "".join(f"{b:>10}" for b in BANDS)]
    for live in BANDS:
        lines.append(f"{live:>10}" + "".join(f"{report.bands.get((live, cand), 0):>10}" for cand in BANDS))
    lines += ["", f"decided by moderators since: {report.labelled_ham} ham (approved), "
                  f"{report.labelled_spam} spam", f"{'':<46}{'ham held as spam':>20}{'spam published':>20}"
                  f"{'sent to review':>20}"]
    for label, rates in (("live", report.live), ("candidate", report.candidate_rates)):
        lines.append(f"{label + ' ' + rates.version:<46}{_share(rates.ham_held):>20}"
                     f"{_share(rates.spam_published):>20}{_share(rates.review):>20}")
    return "\n".join(lines)
