"""Evaluation plots (PNG) of held-out scores.

Contract: ``write_plots(scores, labels, folds, thresholds, out_dir)`` writes
``roc.png``, ``pr.png``, ``scores.png`` (score histogram per class with both
thresholds) and ``calibration.png`` into ``out_dir`` and returns their paths.
Uses matplotlib's object API with the Agg canvas: no pyplot, no global state,
no display needed. matplotlib is imported here only (the ``train`` extra).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

from moderation.domain import Bands

FIGURE_SIZE = (5.0, 4.0)
DPI = 90


def _figure():
    from matplotlib.figure import Figure

    figure = Figure(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
    return figure, figure.add_subplot()


def _save(figure, path: Path) -> Path:
    figure.savefig(path, format="png", metadata={"Software": None})
    return path


def _curves_by_fold(scores, labels, folds):
    """``(name, scores, labels)`` for each fold with both classes, then the pooled set."""
    for name in sorted(set(folds.tolist())):
        mask = folds == name
        if len(set(labels[mask].tolist())) == 2:
            yield name, scores[mask], labels[mask]
    yield "all held-out", scores, labels


def _roc(scores, labels, folds, path: Path) -> Path:
    figure, axes = _figure()
    for name, fold_scores, fold_labels in _curves_by_fold(scores, labels, folds):
        fpr, tpr, _ = roc_curve(fold_labels, fold_scores)
        axes.plot(fpr, tpr, label=f"{name} (AUC {auc(fpr, tpr):.3f})", linewidth=2 if name == "all held-out" else 1)
    axes.axvline(0.01, color="grey", linestyle=":", linewidth=1, label="1 % ham false positives")
    axes.set(xlabel="ham flagged (false positive rate)", ylabel="spam caught (recall)", title="ROC, held-out groups")
    axes.set_xscale("symlog", linthresh=0.01, linscale=0.5)
    axes.set_xlim(0.0, 1.0)
    axes.legend(fontsize=7, loc="lower right")
    return _save(figure, path)


def _precision_recall(scores, labels, folds, path: Path) -> Path:
    figure, axes = _figure()
    for name, fold_scores, fold_labels in _curves_by_fold(scores, labels, folds):
        precision, recall, _ = precision_recall_curve(fold_labels, fold_scores)
        axes.plot(recall, precision, label=f"{name} (AP {average_precision_score(fold_labels, fold_scores):.3f})",
                  linewidth=2 if name == "all held-out" else 1)
    axes.set(xlabel="recall", ylabel="precision", title="Precision-recall, held-out groups", ylim=(0.5, 1.01))
    axes.legend(fontsize=7, loc="lower left")
    return _save(figure, path)


def _histogram(scores, labels, thresholds: Bands, path: Path) -> Path:
    figure, axes = _figure()
    bins = np.linspace(0.0, 1.0, 41)
    axes.hist(scores[labels == 0], bins=bins, alpha=0.6, label="ham", color="tab:blue")
    axes.hist(scores[labels == 1], bins=bins, alpha=0.6, label="spam", color="tab:red")
    axes.axvline(thresholds.approve_below, color="black", linestyle="--", linewidth=1,
                 label=f"approve below {thresholds.approve_below:.3f}")
    axes.axvline(thresholds.reject_above, color="black", linestyle="-", linewidth=1,
                 label=f"spam at or above {thresholds.reject_above:.3f}")
    axes.set(xlabel="P(spam), held-out", ylabel="comments (log scale)", yscale="log",
             title="Held-out scores and the three bands")
    axes.legend(fontsize=7, loc="upper center")
    return _save(figure, path)


def _calibration(scores, labels, path: Path) -> Path:
    figure, axes = _figure()
    observed, predicted = calibration_curve(labels, scores, n_bins=10, strategy="uniform")
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    axes.plot(predicted, observed, marker="o", label="held-out groups (10 bins)")
    axes.set(xlabel="predicted P(spam)", ylabel="observed share of spam", title="Calibration",
             xlim=(0, 1), ylim=(0, 1))
    axes.legend(fontsize=7, loc="upper left")
    return _save(figure, path)


def write_plots(scores, labels, folds, thresholds: Bands, out_dir: Path) -> list[Path]:
    """The four evaluation plots of held-out ``scores`` (see module doc)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    folds = np.asarray(folds, dtype=object)
    return [
        _roc(scores, labels, folds, out_dir / "roc.png"),
        _precision_recall(scores, labels, folds, out_dir / "pr.png"),
        _histogram(scores, labels, thresholds, out_dir / "scores.png"),
        _calibration(scores, labels, out_dir / "calibration.png"),
    ]
