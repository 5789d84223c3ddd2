"""From a score and what else we know, the status a new comment gets. Pure.

Three bands cut the model's P(spam): below ``approve_below`` clear ham, at or
above ``reject_above`` clear spam, between: review. Input the model cannot
judge (no model, nothing left after normalization, a language it was not
trained on) goes to review. A ``pre`` site never auto-publishes.

A small share of the decisions the bands make alone (clear ham published,
clear spam held) goes to review instead, with reason ``audit``: moderators'
verdicts on that random sample estimate how often the model publishes spam
and holds ham, which the review queue alone (borderline comments only) cannot
tell. The caller draws the random number, so this module stays pure.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .domain import Bands, Decision, Mode, Reason, RuleAction, Site, Status
from .surge import SurgeInput, stricter


@dataclass(frozen=True, slots=True)
class Scored:
    """The scorer's view of one text."""

    language: str
    score: float | None          # None: no usable model
    model_version: str | None
    text_empty: bool = False
    language_supported: bool = True
    bands: Bands | None = None   # the model's own thresholds
    #: The shadowed candidate's opinion (None without one): it never decides.
    shadow: "ShadowScore | None" = None


@dataclass(frozen=True, slots=True)
class ShadowScore:
    """A candidate model's score of a text and the band its own thresholds put
    it in: ``publish``, ``review`` (also a language it does not decide, or an
    empty text) or ``spam``."""

    version: str
    score: float | None
    band: str


def band_of(score: float | None, bands: Bands | None, *, decides: bool = True) -> str:
    """``publish`` below approve_below, ``spam`` from reject_above, else ``review``."""
    if score is None or bands is None or not decides:
        return "review"
    if score >= bands.reject_above:
        return "spam"
    return "publish" if score < bands.approve_below else "review"


def site_bands(site: Site, model_bands: Bands) -> Bands:
    """The model's thresholds, overridden by the site's where it sets them."""
    return Bands(
        approve_below=model_bands.approve_below if site.approve_below is None else site.approve_below,
        reject_above=model_bands.reject_above if site.reject_above is None else site.reject_above,
    )


#: The automatic decisions an audit may send to review: status and the band's reason.
AUDITABLE = {Status.PUBLISHED: Reason.MODEL_HAM, Status.SPAM: Reason.MODEL_SPAM}


def auditable(decision: Decision) -> bool:
    """Whether the model's bands alone made *decision*: clear ham published or
    clear spam held (not a honeypot, not pending for any reason)."""
    band = AUDITABLE.get(decision.status)
    return band is not None and band in decision.reasons and Reason.HONEYPOT not in decision.reasons


def decide(site: Site, scored: Scored, guard_reasons: tuple[Reason, ...] = (),
           audit_draw: float | None = None, audit_share: float = 0.0,
           surge: SurgeInput | None = None, author_rule: RuleAction | None = None) -> Decision:
    """The status and reasons of a new comment.

    *audit_draw* is a uniform random number in [0, 1) drawn by the caller for
    this comment (None: no audit, as for a rescore or an Akismet check); when it
    falls below *audit_share* and the decision is :func:`auditable`, the comment
    goes to review with ``audit`` added after the model's reason.

    *surge*: whether the comment's thread is in surge mode, and whether its
    author is trusted; then :func:`moderation.surge.stricter` applies (before
    the audit draw: a comment held for the surge is no longer auditable).

    *author_rule*: the action of the strongest rule a moderator set on the
    author (:func:`with_author_rule`), applied before the surge and the audit.
    A shadow ban is decided here like a ban; the intake answers the site with
    the decision made without it."""
    decision = _decide(site, scored, guard_reasons)
    if author_rule is not None:
        decision = with_author_rule(decision, author_rule)
        if author_rule in (RuleAction.BAN, RuleAction.SHADOW_BAN):
            return decision
    if surge is not None and surge.active:
        decision = stricter(decision, surge.trusted_author)
    if audit_draw is not None and audit_draw < audit_share and auditable(decision):
        return Decision(Status.PENDING, decision.reasons + (Reason.AUDIT,))
    return decision


def with_author_rule(decision: Decision, action: RuleAction) -> Decision:
    """A ban or shadow ban holds as spam; watch sends what would be published
    to review (spam stays spam); trust publishes what waits only because the
    model was unsure or the site (or thread) is pre-moderated, never what the
    model holds as spam, a duplicate or a honeypot."""
    if action is RuleAction.BAN:
        return Decision(Status.SPAM, decision.reasons + (Reason.AUTHOR_BANNED,))
    if action is RuleAction.SHADOW_BAN:
        return Decision(Status.SPAM, decision.reasons + (Reason.AUTHOR_SHADOW_BANNED,))
    if action is RuleAction.WATCH:
        if decision.status is Status.SPAM:
            return decision
        return Decision(Status.PENDING, decision.reasons + (Reason.AUTHOR_WATCHED,))
    if trust_would_publish(decision):
        return Decision(Status.PUBLISHED, decision.reasons + (Reason.AUTHOR_TRUSTED,))
    return decision


def trust_would_publish(decision: Decision) -> bool:
    """Whether trusting the author would publish this decision (see :func:`with_author_rule`)."""
    return decision.status is Status.PENDING and decision.reasons in TRUSTED_PUBLISHES


#: The guard's reasons that keep clear ham from being published without a moderator.
HELD_FOR_REVIEW = frozenset({Reason.DUPLICATE, Reason.DUPLICATE_TEXT, Reason.DISPOSABLE_EMAIL,
                             Reason.CONFUSABLE_EMAIL, Reason.TOO_FAST})

#: Every reason the intake's guard gives (:mod:`moderation.guard`, :mod:`moderation.form_stamp`).
GUARD_REASONS = HELD_FOR_REVIEW | {Reason.HONEYPOT}


def kept_guard_reasons(reasons: Iterable[str], *, text_changed: bool) -> tuple[Reason, ...]:
    """The guard's reasons among a stored comment's *reasons* that it keeps when scored
    again: all of them through a rescore (its rate limits were counted once, its sender
    and text are the same); after its author edited the text, all but ``duplicate``
    (the same text twice from one e-mail), which was about the old text."""
    kept = {r.value for r in GUARD_REASONS if not (text_changed and r is Reason.DUPLICATE)}
    return tuple(Reason(r) for r in reasons if r in kept)


#: What a trusted author's comment may be held for, and is published despite.
TRUSTED_PUBLISHES = ((Reason.MODEL_UNCERTAIN,), (Reason.MODEL_HAM, Reason.PRE_MODERATION))


def _decide(site: Site, scored: Scored, guard_reasons: tuple[Reason, ...]) -> Decision:
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
    if any(reason in HELD_FOR_REVIEW for reason in reasons):
        return Decision(Status.PENDING, tuple(reasons))
    if site.mode is Mode.PRE:
        return Decision(Status.PENDING, tuple(reasons + [Reason.PRE_MODERATION]))
    return Decision(Status.PUBLISHED, tuple(reasons))
