"""Held-out evaluation: out-of-group scores, calibration, metrics.

Contract:

- ``holdout_margins`` gives every *evaluation* row a margin from a model that
  never saw its group (one YouTube video, one site...); with ``final=True`` it
  also fits the pipeline on every row. With ``jobs`` > 1 those fits run side by
  side in as many worker processes (joblib); the results are the same as with
  one, because each fit is deterministic given ``seed``. Auxiliary groups (by
  default the SMS collection: another medium) are always in training, with
  their weight, and never evaluated. With fewer than two evaluation groups the
  rows are cut into ``FALLBACK_BLOCKS`` contiguous blocks in file order (time
  order for the service's exports), never shuffled rows, and the method says so.
- ``classification_metrics(scores, labels, thresholds)``: ROC AUC, PR AUC
  (average precision), F1 and MCC of the decision ``P(spam) >= 0.5``, spam
  recall at 1 % ham false positives, and the three-band rates at ``thresholds``.
  Undefined figures (one class only) are ``None``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    matthews_corrcoef,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import Pipeline

from moderation.scoring.features import build_pipeline
from moderation.domain import Bands
from moderation.training.dataset import Dataset
from moderation.training.thresholds import band_rates

FALLBACK_BLOCKS = 5
RECALL_AT_FPR = 0.01
DECISION_THRESHOLD = 0.5

FoldCallback = Callable[[int, int, str], None]
"""Called as ``on_fold(index, total, fold_name)`` before each fold is fitted."""


@dataclass(slots=True)
class Holdout:
    """Out-of-group margins; ``fold`` names the held-out fold of each row (``""`` = never held out)."""

    margins: np.ndarray
    fold: np.ndarray
    method: str
    final: Pipeline | None = None
    """The pipeline fitted on every row (uncalibrated), when asked for."""

    @property
    def evaluated(self) -> np.ndarray:
        return self.fold != ""

    @property
    def fold_names(self) -> list[str]:
        return sorted(set(self.fold[self.evaluated].tolist()))


def sample_weights(groups: np.ndarray, auxiliary: Mapping[str, float]) -> np.ndarray:
    """Weight 1 for every row, ``auxiliary[group]`` for rows of an auxiliary group."""
    return np.array([auxiliary.get(group, 1.0) for group in groups], dtype=np.float64)


def _stable_bucket(text: str, buckets: int) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") % buckets


def assign_folds(groups: np.ndarray, auxiliary: Mapping[str, float], labels: np.ndarray | None = None,
                 keys: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """The held-out fold of each row and a description of the method.

    Groups with both classes (YouTube videos, sites; every group when ``labels``
    is not given) are the folds: each is held
    out whole. Rows of one-class groups (a corpus of reader comments, all ham)
    are spread over those folds by ``keys`` (thread, else the row they were
    made from), so a thread and its translations and copies stay together and
    every fold is tested on some of them. Auxiliary groups are never held out.
    """
    evaluation = np.array([group not in auxiliary for group in groups], dtype=bool)
    keys = np.arange(len(groups)).astype(str).astype(object) if keys is None else keys
    names = sorted(set(groups[evaluation].tolist()))
    if labels is None:
        primary = names
    else:
        labels = np.asarray(labels)
        primary = [name for name in names if len(set(labels[groups == name].tolist())) == 2]
    folds = np.full(len(groups), "", dtype=object)
    if len(primary) >= 2:
        secondary = [name for name in names if name not in primary]
        for position in np.flatnonzero(evaluation):
            group = groups[position]
            folds[position] = group if group in primary else primary[
                _stable_bucket(f"{group}\x00{keys[position]}", len(primary))]
        spread = f"; rows of {', '.join(secondary)} spread over those folds by thread" if secondary else ""
        return folds, f"leave one group out over {len(primary)} groups: {', '.join(primary)}{spread}"
    positions = np.flatnonzero(evaluation)
    if len(positions) < FALLBACK_BLOCKS:
        raise ValueError(
            f"only {len(positions)} rows outside the auxiliary groups ({', '.join(sorted(auxiliary))}): "
            "nothing to hold out for evaluation"
        )
    for block, members in enumerate(np.array_split(positions, FALLBACK_BLOCKS), start=1):
        folds[members] = f"block{block}"
    return folds, (
        f"only one evaluation group ({names[0]}): {FALLBACK_BLOCKS} contiguous blocks in file "
        "order, each held out in turn (weaker than a whole unseen source)"
    )


def _fit(inputs, labels, weights: np.ndarray, seed: int, test_inputs=None):
    """One fitted pipeline, or only its margins on ``test_inputs`` when given
    (a worker process then sends back an array, not a vocabulary)."""
    pipeline = build_pipeline(seed)
    pipeline.fit(inputs, labels, classifier__sample_weight=weights)
    return pipeline if test_inputs is None else pipeline.decision_function(test_inputs)


def holdout_margins(
    dataset: Dataset,
    auxiliary: Mapping[str, float],
    seed: int = 0,
    on_fold: FoldCallback | None = None,
    weights: Mapping[str, float] | None = None,
    jobs: int = 1,
    final: bool = False,
) -> Holdout:
    """Fit one pipeline per fold on everything else; margins for the held-out
    rows; and with ``final``, the pipeline fitted on every row."""
    keys = np.array([thread or f"row{origin}" for thread, origin in zip(dataset.threads, dataset.origins)],
                    dtype=object)
    folds, method = assign_folds(dataset.groups, auxiliary, dataset.labels, keys)
    weights = sample_weights(dataset.groups, auxiliary if weights is None else weights)
    names = sorted(set(folds[folds != ""].tolist()))
    tasks = []
    if final:
        tasks.append(delayed(_fit)(dataset.inputs, dataset.labels, weights, seed))
    for index, name in enumerate(names, start=1):
        if on_fold:
            on_fold(index, len(names), name)
        test = folds == name
        train_inputs, train_labels = dataset.subset(~test)
        test_inputs, _ = dataset.subset(test)
        tasks.append(delayed(_fit)(train_inputs, train_labels, weights[~test], seed, test_inputs))
    results = Parallel(n_jobs=max(1, min(jobs, len(tasks))))(tasks)
    fitted = results.pop(0) if final else None
    margins = np.full(len(dataset), np.nan)
    for name, fold_margins in zip(names, results):
        margins[folds == name] = fold_margins
    return Holdout(margins=margins, fold=folds, method=method, final=fitted)


def recall_at_fpr(scores, labels, max_fpr: float = RECALL_AT_FPR) -> float | None:
    """Largest spam recall reachable with at most ``max_fpr`` of ham flagged."""
    labels = np.asarray(labels)
    if len(set(labels.tolist())) < 2:
        return None
    fpr, tpr, _ = roc_curve(labels, scores)
    return float(tpr[fpr <= max_fpr].max())


def classification_metrics(scores, labels, thresholds: Bands) -> dict[str, float | int | None]:
    """Metrics of P(spam) ``scores`` against 0/1 ``labels`` (see module doc)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    both_classes = len(set(labels.tolist())) == 2
    decisions = (scores >= DECISION_THRESHOLD).astype(int)
    metrics: dict[str, float | int | None] = {
        "n": int(len(labels)),
        "n_spam": int((labels == 1).sum()),
        "n_ham": int((labels == 0).sum()),
        "roc_auc": float(roc_auc_score(labels, scores)) if both_classes else None,
        "pr_auc": float(average_precision_score(labels, scores)) if both_classes else None,
        "f1": float(f1_score(labels, decisions, zero_division=0.0)) if len(labels) else None,
        "mcc": float(matthews_corrcoef(labels, decisions)) if both_classes else None,
        "recall_at_1pct_fpr": recall_at_fpr(scores, labels),
    }
    metrics.update(band_rates(scores, labels, thresholds).as_dict())
    return metrics
