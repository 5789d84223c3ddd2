"""From a score and what else we know, the status a new comment gets. Pure.

Three bands cut the model's P(spam): below ``approve_below`` clear ham, at or
above ``reject_above`` clear spam, between: review. Input the model cannot
judge (no model, nothing left after normalization, a language it was not
trained on) goes to review. A ``pre`` site never auto-publishes.
"""
from __future__ import annotations

from dataclasses import dataclass

from .domain import Decision, Mode, Reason, Site, Status


@dataclass(frozen=True, slots=True)
class Bands:
    approve_below: float
    reject_above: float


@dataclass(frozen=True, slots=True)
class Scored:
    """The scorer's view of one text."""

    language: str
    score: float | None          # None: no usable model
    model_version: str | None
    text_empty: bool = False
    language_supported: bool = True
    bands: Bands | None = None   # the model's own thresholds


def site_bands(site: Site, model_bands: Bands) -> Bands:
    """The model's thresholds, overridden by the site's where it sets them."""
    return Bands(
        approve_below=model_bands.approve_below if site.approve_below is None else site.approve_below,
        reject_above=model_bands.reject_above if site.reject_above is None else site.reject_above,
    )


def decide(site: Site, scored: Scored, guard_reasons: tuple[Reason, ...] = ()) -> Decision:
    reasons = list(guard_reasons)
    if Reason.HONEYPOT in reasons:
        return Decision(Status.SPAM, tuple(reasons))
    if scored.score is None or scored.bands is None:
        return Decision(Status.PENDING, tuple(reasons + [Reason.NO_MODEL]))
    if scored.text_empty:
        return Decision(Status.PENDING, tuple(reasons + [Reason.EMPTY_TEXT]))
    if not scored.language_supported:
        return Decision(Status.PENDING, tuple(reasons + [Reason.LANGUAGE_UNSUPPORTED]))
    bands = site_bands(site, scored.bands)
    if scored.score >= bands.reject_above:
        return Decision(Status.SPAM, tuple(reasons + [Reason.MODEL_SPAM]))
    if scored.score >= bands.approve_below:
        return Decision(Status.PENDING, tuple(reasons + [Reason.MODEL_UNCERTAIN]))
    reasons.append(Reason.MODEL_HAM)
    if Reason.DUPLICATE in reasons:
        return Decision(Status.PENDING, tuple(reasons))
    if site.mode is Mode.PRE:
        return Decision(Status.PENDING, tuple(reasons + [Reason.PRE_MODERATION]))
    return Decision(Status.PUBLISHED, tuple(reasons))
