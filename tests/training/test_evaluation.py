"""Group hold-out folds and the evaluation metrics."""

import numpy as np
import pytest

from moderation.domain import Bands
from moderation.training.dataset import Dataset
from moderation.training.evaluation import (
    FALLBACK_BLOCKS,
    assign_folds,
    classification_metrics,
    holdout_margins,
    recall_at_fpr,
    sample_weights,
)
from tests.scoring.toy import toy_inputs


def test_leave_one_group_out_never_holds_out_auxiliary_groups():
    groups = np.array(["sms", "v1", "v2", "sms", "v1", "v3"], dtype=object)
    folds, method = assign_folds(groups, {"sms": 0.1})
    assert folds.tolist() == ["", "v1", "v2", "", "v1", "v3"]
    assert "leave one group out" in method
    assert sample_weights(groups, {"sms": 0.1}).tolist() == [0.1, 1, 1, 0.1, 1, 1]


def test_a_single_group_falls_back_to_contiguous_blocks():
    groups = np.array(["site"] * 12 + ["sms"] * 3, dtype=object)
    folds, method = assign_folds(groups, {"sms": 0.1})
    assert folds[:12].tolist() == ["block1"] * 3 + ["block2"] * 3 + ["block3"] * 2 + ["block4"] * 2 + ["block5"] * 2
    assert set(folds[12:]) == {""}
    assert "contiguous" in method and str(FALLBACK_BLOCKS) in method


def test_nothing_to_hold_out_is_an_error():
    with pytest.raises(ValueError, match="auxiliary"):
        assign_folds(np.array(["sms"] * 10, dtype=object), {"sms": 0.1})


def test_holdout_margins_come_from_models_that_never_saw_the_group():
    inputs, labels, groups = toy_inputs(per_site=30)
    dataset = Dataset(inputs, np.array(labels), np.array(groups, dtype=object), sources=[])
    folds_seen = []
    holdout = holdout_margins(dataset, {}, seed=0, on_fold=lambda i, n, name: folds_seen.append(name))
    assert folds_seen == ["site-a", "site-b", "site-c"]
    assert holdout.evaluated.all() and np.isfinite(holdout.margins).all()
    # Spam gets higher margins than ham on every unseen site.
    for site in folds_seen:
        mask = holdout.fold == site
        spam, ham = holdout.margins[mask & (dataset.labels == 1)], holdout.margins[mask & (dataset.labels == 0)]
        assert np.median(spam) > np.median(ham)
    again = holdout_margins(dataset, {}, seed=0)
    assert np.array_equal(holdout.margins, again.margins)



def test_fits_in_worker_processes_give_the_same_margins_and_final_model():
    inputs, labels, groups = toy_inputs(per_site=30)
    dataset = Dataset(inputs, np.array(labels), np.array(groups, dtype=object), sources=[])
    alone = holdout_margins(dataset, {}, seed=0, final=True)
    side_by_side = holdout_margins(dataset, {}, seed=0, final=True, jobs=2)
    assert np.array_equal(alone.margins, side_by_side.margins)
    assert np.array_equal(alone.final.decision_function(inputs), side_by_side.final.decision_function(inputs))
    # The final model saw every row: it separates them better than any held-out model did.
    assert (side_by_side.final.predict(inputs) == dataset.labels).mean() >= (
        (alone.margins > 0) == dataset.labels).mean()
    assert holdout_margins(dataset, {}, seed=0).final is None

def test_metrics_on_known_scores():
    scores = np.array([0.05, 0.1, 0.2, 0.6, 0.4, 0.7, 0.9, 0.95])
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    metrics = classification_metrics(scores, labels, Bands.checked(approve_below=0.3, reject_above=0.8))
    assert metrics["n"] == 8 and metrics["n_spam"] == 4 and metrics["n_ham"] == 4
    assert metrics["roc_auc"] == pytest.approx(15 / 16)  # one inverted pair: (0.6 ham, 0.4 spam)
    # Decision at 0.5: spam caught 0.7, 0.9, 0.95; ham 0.6 flagged -> precision 3/4, recall 3/4.
    assert metrics["f1"] == pytest.approx(0.75)
    assert metrics["mcc"] == pytest.approx(0.5)
    assert metrics["recall_at_1pct_fpr"] == pytest.approx(0.75)  # above every ham: 0.7, 0.9, 0.95
    assert metrics["ham_to_spam_rate"] == 0.0
    assert metrics["spam_to_published_rate"] == 0.0
    assert metrics["review_rate"] == pytest.approx(3 / 8)  # 0.6, 0.4, 0.7


def test_metrics_with_a_single_class_are_undefined_not_wrong():
    metrics = classification_metrics([0.1, 0.9], [0, 0], Bands.checked(0.3, 0.8))
    assert metrics["roc_auc"] is None and metrics["pr_auc"] is None and metrics["mcc"] is None
    assert metrics["ham_to_spam_rate"] == 0.5
    assert recall_at_fpr([0.1, 0.9], [1, 1]) is None
