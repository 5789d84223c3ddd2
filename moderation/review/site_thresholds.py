"""A site's own thresholds, chosen on its moderators' labels. Pure: the CLI
(``moderation site thresholds NAME --from-labels``) reads the labels and the
model's manifest, and stores the result.

The labels are the store's :class:`~moderation.store.base.ScoredLabel` rows:
approve (ham) and spam decisions that still stand, with the score the current
model version gave (scores of other versions are not on the same scale), in
the languages the model decides by itself (in the others every comment goes
to review whatever its score, so thresholds do not apply). The thresholds come
from :func:`moderation.training.thresholds.choose_thresholds`, with the same
error budgets as training.

Mind what the labels are: mostly the comments the model sent to review
(borderline scores), plus the audit sample and pre-moderated sites' comments.
Clear ham and clear spam are under-represented unless the site pre-moderates
or audits enough, so the measured rates describe the labelled comments, not
all the site's traffic.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..policy import Bands
from ..training.thresholds import choose_thresholds
from .what_if import replay

MIN_HAM_LABELS = 200
"""Ham labels a site needs before its thresholds come from them: with fewer
than 200 ham, a 0.5 % budget of ham held as spam allows no error at all, so
the single highest-scored ham comment would set ``reject_above``."""

MIN_SPAM_LABELS = 50
"""Spam labels a site needs: 50 spam make a 2 % budget of spam published one
comment; with fewer it allows none, and one comment would set ``approve_below``."""


class NotEnoughLabels(ValueError):
    """Too few labels of a class to choose thresholds on them."""

    def __init__(self, ham: int, spam: int) -> None:
        super().__init__(f"{ham} ham and {spam} spam labels; at least {MIN_HAM_LABELS} ham and "
                         f"{MIN_SPAM_LABELS} spam are needed")
        self.ham, self.spam = ham, spam


@dataclass(frozen=True, slots=True)
class Rates:
    """Three-band outcome on labels: shares in [0, 1]."""

    ham_held: float          # share of ham at or above reject_above
    spam_published: float    # share of spam below approve_below
    review: float            # share of all labels between the thresholds


@dataclass(frozen=True, slots=True)
class Proposal:
    ham: int
    spam: int
    chosen: Bands
    chosen_rates: Rates
    current_rates: Rates


def measure(labels: Sequence, bands_for: Callable[[str], Bands]) -> Rates:
    """The rates of the thresholds ``bands_for(language)`` on *labels*, each
    label judged by the bands of its language (as the policy judges comments)."""
    outcome = replay(labels, bands_for)
    return Rates(ham_held=outcome.ham_held.rate, spam_published=outcome.spam_published.rate,
                 review=outcome.review.rate)


def propose(labels: Iterable, current_bands: Callable[[str], Bands], *,
            max_ham_to_spam: float, max_spam_published: float) -> Proposal:
    """Thresholds chosen on *labels*, with their rates and those of the
    thresholds in effect now (``current_bands(language)``); raises
    :class:`NotEnoughLabels` below :data:`MIN_HAM_LABELS` / :data:`MIN_SPAM_LABELS`,
    ``ValueError`` for a budget outside [0, 1)."""
    labels = list(labels)
    ham = sum(1 for row in labels if row.label == "ham")
    spam = len(labels) - ham
    if ham < MIN_HAM_LABELS or spam < MIN_SPAM_LABELS:
        raise NotEnoughLabels(ham, spam)
    chosen = choose_thresholds([row.score for row in labels],
                               [0 if row.label == "ham" else 1 for row in labels],
                               max_ham_to_spam, max_spam_published)
    return Proposal(ham=ham, spam=spam, chosen=chosen,
                    chosen_rates=measure(labels, lambda _: chosen),
                    current_rates=measure(labels, current_bands))
