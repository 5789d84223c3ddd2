"""The linear classifier at the end of the scoring pipeline, with Platt calibration.

Contract:

- ``CalibratedLinearClassifier`` is a scikit-learn classifier over labels
  ``{0 = ham, 1 = spam}``: a linear support vector machine (hinge loss, L2,
  balanced class weights, liblinear, seeded) whose margin ``m`` is mapped to
  ``P(spam) = sigmoid(slope * m + intercept)``, the use Platt designed his
  sigmoid for.
- After ``fit`` the calibration is the identity (``sigmoid(m)``, a placeholder
  that ranks correctly). Training then calls ``calibrate(*fit_platt(scores, labels))``
  with margins of rows the model never saw (out-of-group), so the probabilities
  describe new sources, not the training rows.
- Because the calibration is monotone and affine in the margin, the whole model
  stays linear: ``feature_weights`` are ``slope * coef`` and the calibrated logit
  is ``feature_weights @ x + calibrated_intercept``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import LinearSVC

DEFAULT_C = 0.1
"""Inverse L2 strength. On held-out YouTube videos a linear SVM at C 0.1-0.2 ranked
better than logistic regression at any C tried (1-100): pooled ROC AUC 0.981 ->
0.982, and the hardest video 0.976 -> 0.982; smaller or larger C did worse."""


CLASS_WEIGHT = "balanced"
"""Each class weighs as much as the other in the hinge loss. News-comment corpora
bring thousands of ham rows against a few hundred spam; unweighted, the margin
was set by the ham, and held-out real French comments were published 73 % of the
time instead of 77 % (with the same spam budget). The Platt calibration, fitted
afterwards on held-out margins, restores the real class balance in P(spam)."""


class CalibratedLinearClassifier(ClassifierMixin, BaseEstimator):
    """Linear SVM + a sigmoid calibration set from out-of-sample margins."""

    def __init__(self, C: float = DEFAULT_C, seed: int = 0):
        self.C = C
        self.seed = seed

    def fit(self, X, y, sample_weight=None) -> CalibratedLinearClassifier:
        labels = np.asarray(y)
        if set(np.unique(labels).tolist()) != {0, 1}:
            raise ValueError("training needs both classes, labelled 0 (ham) and 1 (spam)")
        self.linear_ = LinearSVC(C=self.C, dual=True, random_state=self.seed, max_iter=5000,
                                 class_weight=CLASS_WEIGHT)
        self.linear_.fit(X, labels, sample_weight=sample_weight)
        self.classes_ = self.linear_.classes_
        self.slope_, self.intercept_ = 1.0, 0.0
        return self

    def calibrate(self, slope: float, intercept: float) -> CalibratedLinearClassifier:
        """Set the sigmoid applied to the margin (see ``fit_platt``)."""
        if not slope > 0:
            raise ValueError(f"calibration slope must be positive, got {slope}")
        self.slope_, self.intercept_ = float(slope), float(intercept)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Uncalibrated margin of the linear model (larger = more spam)."""
        return self.linear_.decision_function(X)

    def predict_proba(self, X) -> np.ndarray:
        spam = expit(self.slope_ * self.decision_function(X) + self.intercept_)
        return np.column_stack([1.0 - spam, spam])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    @property
    def feature_weights(self) -> np.ndarray:
        """Weight of each feature in the calibrated logit (positive = towards spam)."""
        return self.slope_ * self.linear_.coef_[0]

    @property
    def calibrated_intercept(self) -> float:
        return float(self.slope_ * self.linear_.intercept_[0] + self.intercept_)


def fit_platt(margins, labels) -> tuple[float, float]:
    """Platt's sigmoid ``(slope, intercept)`` fitted on margins and 0/1 labels.

    Uses Platt's smoothed targets, ``(n_spam + 1) / (n_spam + 2)`` and
    ``1 / (n_ham + 2)``, so perfectly separated margins still give a finite,
    slightly modest slope instead of an infinitely confident one.
    """
    scores = np.asarray(margins, dtype=np.float64)
    y = np.asarray(labels)
    n_spam = int((y == 1).sum())
    n_ham = int((y == 0).sum())
    if n_spam == 0 or n_ham == 0:
        raise ValueError("calibration needs both spam and ham rows")
    targets = np.where(y == 1, (n_spam + 1.0) / (n_spam + 2.0), 1.0 / (n_ham + 2.0))

    def loss_and_gradient(params: np.ndarray) -> tuple[float, np.ndarray]:
        slope, intercept = params
        z = slope * scores + intercept
        loss = np.sum(targets * np.logaddexp(0.0, -z) + (1.0 - targets) * np.logaddexp(0.0, z))
        residual = expit(z) - targets
        return float(loss), np.array([np.dot(residual, scores), residual.sum()])

    start = np.array([1.0, float(np.log((n_ham + 1.0) / (n_spam + 1.0)) * -1.0)])
    result = minimize(loss_and_gradient, start, jac=True, method="L-BFGS-B")
    slope, intercept = result.x
    if not slope > 0:
        raise ValueError("the margins do not separate spam from ham (calibration slope <= 0)")
    return float(slope), float(intercept)
