"""CalibratedLinearClassifier and Platt's sigmoid."""

import numpy as np
import pytest
from scipy import sparse

from moderation.scoring.classifier import CalibratedLinearClassifier, fit_platt


def _separable(seed=0, n=200):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    features = rng.normal(size=(n, 5)) + labels[:, None] * np.array([2.0, -1.0, 0, 0, 0])
    return sparse.csr_matrix(features), labels


def test_fit_platt_recovers_a_known_sigmoid():
    rng = np.random.default_rng(1)
    margins = rng.normal(scale=3.0, size=20000)
    labels = (rng.random(20000) < 1 / (1 + np.exp(-(0.5 * margins - 1.0)))).astype(int)
    slope, intercept = fit_platt(margins, labels)
    assert slope == pytest.approx(0.5, abs=0.03)
    assert intercept == pytest.approx(-1.0, abs=0.06)


def test_fit_platt_stays_finite_on_perfectly_separated_margins():
    slope, intercept = fit_platt([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0], [0, 0, 0, 1, 1, 1])
    assert 0 < slope < 50 and np.isfinite(intercept)


def test_fit_platt_refuses_one_class_and_reversed_margins():
    with pytest.raises(ValueError, match="both"):
        fit_platt([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="separate"):
        fit_platt([3.0, 2.0, 1.0, -1.0, -2.0, -3.0], [0, 0, 0, 1, 1, 1])


def test_uncalibrated_probabilities_are_the_sigmoid_of_the_margin():
    features, labels = _separable()
    model = CalibratedLinearClassifier(seed=0).fit(features, labels)
    spam = 1 / (1 + np.exp(-model.decision_function(features)))
    assert np.allclose(model.predict_proba(features), np.column_stack([1 - spam, spam]))
    assert model.predict(features).mean() > 0.3  # both classes predicted


def test_calibration_is_monotone_and_keeps_the_model_linear():
    features, labels = _separable()
    model = CalibratedLinearClassifier(seed=0).fit(features, labels)
    margins = model.decision_function(features)
    model.calibrate(0.5, -0.2)
    spam = model.predict_proba(features)[:, 1]
    order = np.argsort(margins)
    assert np.all(np.diff(spam[order]) >= 0)
    logits = features @ model.feature_weights + model.calibrated_intercept
    assert np.allclose(spam, 1 / (1 + np.exp(-logits)))
    with pytest.raises(ValueError):
        model.calibrate(-1.0, 0.0)


def test_refuses_a_single_class():
    features, _ = _separable()
    with pytest.raises(ValueError, match="both classes"):
        CalibratedLinearClassifier().fit(features, np.zeros(features.shape[0], dtype=int))
