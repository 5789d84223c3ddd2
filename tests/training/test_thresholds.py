"""Threshold selection on synthetic scores with known answers."""

import itertools

import numpy as np
import pytest

from moderation.domain import Bands
from moderation.training.thresholds import band_rates, choose_thresholds


def test_known_answer():
    ham = np.arange(100) / 100  # 0.00 ... 0.99
    spam = 0.5 + np.arange(100) / 200  # 0.500 ... 0.995
    scores = np.concatenate([ham, spam])
    labels = np.array([0] * 100 + [1] * 100)
    chosen = choose_thresholds(scores, labels, max_ham_to_spam=0.01, max_spam_published=0.02)
    # One ham (0.99) may be held as spam: the threshold sits between 0.98 and the next score, 0.985.
    assert chosen.reject_above == pytest.approx(0.9825)
    # Two spams (0.500, 0.505) may be published: between 0.505 and the next score, 0.51.
    assert chosen.approve_below == pytest.approx(0.5075)
    rates = band_rates(scores, labels, chosen)
    assert rates.ham_to_spam_rate == pytest.approx(0.01)
    assert rates.spam_to_published_rate == pytest.approx(0.02)
    # Review: ham 0.51..0.98 (48) and spam 0.51..0.98 (95) out of 200.
    assert rates.review_rate == pytest.approx((48 + 95) / 200)


def test_separable_scores_need_no_review_band():
    scores = [0.1, 0.2, 0.3, 0.7, 0.8, 0.9]
    labels = [0, 0, 0, 1, 1, 1]
    chosen = choose_thresholds(scores, labels, 0.0, 0.0)
    assert chosen.approve_below == chosen.reject_above
    assert 0.3 < chosen.reject_above <= 0.7
    assert band_rates(scores, labels, chosen).review_rate == 0.0


def test_zero_budgets_put_every_overlap_in_review():
    scores = [0.1, 0.6, 0.4, 0.9]
    labels = [0, 0, 1, 1]
    chosen = choose_thresholds(scores, labels, 0.0, 0.0)
    assert chosen == Bands.checked(approve_below=(0.1 + 0.4) / 2, reject_above=(0.6 + 0.9) / 2)
    rates = band_rates(scores, labels, chosen)
    assert rates.ham_to_spam_rate == rates.spam_to_published_rate == 0.0
    assert rates.review_rate == 0.5


def test_ties_are_kept_together():
    scores = [0.5, 0.5, 0.5, 0.2, 0.5, 0.9]
    labels = [0, 0, 0, 0, 1, 1]
    chosen = choose_thresholds(scores, labels, max_ham_to_spam=0.3, max_spam_published=0.0)
    # One ham of four may be held, but the top hams tie at 0.5 with a spam: none can be separated.
    assert chosen.reject_above > 0.5
    assert chosen.approve_below <= 0.5


def _brute_force_review(scores, labels, max_h, max_s):
    values = np.unique(scores)
    cuts = [values[0] - 1, *((values[:-1] + values[1:]) / 2), values[-1] + 1]
    best = None
    for low, high in itertools.combinations_with_replacement(cuts, 2):
        rates = band_rates(scores, labels, Bands.checked(low, high))
        if rates.ham_to_spam_rate <= max_h + 1e-12 and rates.spam_to_published_rate <= max_s + 1e-12:
            best = rates.review_rate if best is None else min(best, rates.review_rate)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_review_band_is_the_smallest_that_meets_both_budgets(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=60)
    scores = np.round(np.clip(rng.normal(0.35 + 0.3 * labels, 0.2), 0, 1), 2)  # rounding makes ties
    max_h, max_s = 0.05, 0.1
    chosen = choose_thresholds(scores, labels, max_h, max_s)
    rates = band_rates(scores, labels, chosen)
    assert rates.ham_to_spam_rate <= max_h and rates.spam_to_published_rate <= max_s
    assert rates.review_rate == pytest.approx(_brute_force_review(scores, labels, max_h, max_s))


def test_refuses_one_class_and_bad_budgets():
    with pytest.raises(ValueError, match="both"):
        choose_thresholds([0.1, 0.2], [0, 0])
    with pytest.raises(ValueError, match="max_ham_to_spam"):
        choose_thresholds([0.1, 0.9], [0, 1], max_ham_to_spam=1.5)
