"""The training run: data -> held-out evaluation -> thresholds -> final model -> artifact.

Contract of ``train(options, progress)``:

1. read and fingerprint every file, drop exact duplicates, detect languages;
2. out-of-group margins for every evaluation row (``holdout_margins``);
3. a Platt sigmoid fitted on those margins; thresholds chosen on the calibrated
   held-out scores to meet the budgets with the smallest review band; metrics
   per held-out group and pooled, plus how thresholds chosen without a group
   fare on it ("transfer");
4. the final pipeline fitted on all rows, with that calibration;
5. plots, ``<version>.joblib`` + ``<version>.json`` + ``<version>.md``; the
   artifact is loaded back through ``load_bundle`` (sha256/HMAC/versions) and
   must reproduce the in-memory scores; only then is ``CURRENT`` updated.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit

from moderation.scoring.classifier import fit_platt
from moderation.scoring.features import UNKNOWN_LANGUAGE, build_pipeline, describe_pipeline
from moderation.scoring.model import Thresholds, load_bundle
from moderation.training.artifact import new_version, set_current, write_model, write_text_atomically
from moderation.training.card import render_model_card
from moderation.training.dataset import Dataset, load_dataset
from moderation.training.evaluation import classification_metrics, holdout_margins, sample_weights
from moderation.training.plots import write_plots
from moderation.training.report import Progress
from moderation.training.thresholds import band_rates, choose_thresholds

DEFAULT_AUXILIARY = {"sms": 0.1}
"""The SMS collection is another medium: it teaches spam vocabulary (prizes, phone
numbers) but at full weight it drowns the comments (5,159 rows against ~350 per
video) and lowered held-out ROC AUC on two of three videos. At 0.1 it helps."""
TRAINING_LANGUAGE_MIN_ROWS = 100
TRAINING_LANGUAGE_MIN_SHARE = 0.02
"""A detected language counts as a training language with at least this many rows
and this share of them; below that it is detection noise on short texts."""
VERIFY_ROWS = 200
TRAINING_STEPS = 6


@dataclass(slots=True)
class TrainingOptions:
    data: list[Path]
    out: Path = Path("models")
    max_ham_to_spam: float = 0.005
    max_spam_published: float = 0.02
    seed: int = 0
    hmac_key: bytes | None = None
    auxiliary: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_AUXILIARY))
    fmt: str | None = None
    command: str = "python train.py train"


@dataclass(slots=True)
class TrainingResult:
    version: str
    manifest_path: Path
    manifest: dict[str, Any]
    card_path: Path
    plot_paths: list[Path]
    dataset: Dataset


def training_languages(languages: list[str]) -> list[str]:
    counts = Counter(language for language in languages if language != UNKNOWN_LANGUAGE)
    needed = max(TRAINING_LANGUAGE_MIN_ROWS, TRAINING_LANGUAGE_MIN_SHARE * len(languages))
    return sorted(language for language, count in counts.items() if count >= needed)


def _rounded(metrics: dict[str, Any]) -> dict[str, Any]:
    return {key: round(value, 6) if isinstance(value, float) else value for key, value in metrics.items()}


def _data_summary(dataset: Dataset, auxiliary: dict[str, float]) -> dict[str, Any]:
    groups = {}
    for name in sorted(set(dataset.groups.tolist())):
        mask = dataset.groups == name
        groups[name] = {
            "rows": int(mask.sum()),
            "spam": int(dataset.labels[mask].sum()),
            "ham": int((dataset.labels[mask] == 0).sum()),
            "format": dataset.group_formats.get(name, ""),
            "auxiliary": name in auxiliary,
            "weight": auxiliary.get(name, 1.0),
        }
    return {
        "files": [
            {"path": s.path, "format": s.format, "sha256": s.sha256, "rows": s.rows, "bad_rows": s.bad_rows}
            for s in dataset.sources
        ],
        "rows_read": dataset.rows_read,
        "duplicates_removed": dataset.duplicates_removed,
        "conflicting_removed": dataset.conflicting_removed,
        "rows_used": len(dataset),
        "groups": groups,
    }


def _evaluate_holdout(scores, labels, folds, thresholds: Thresholds, options: TrainingOptions) -> dict[str, Any]:
    """Pooled and per-group metrics, and per-group transfer of thresholds."""
    per_group: dict[str, Any] = {}
    names = sorted(set(folds.tolist()))
    for name in names:
        mask = folds == name
        metrics = _rounded(classification_metrics(scores[mask], labels[mask], thresholds))
        others = ~mask
        if len(names) >= 2 and len(set(labels[others].tolist())) == 2:
            chosen = choose_thresholds(
                scores[others], labels[others], options.max_ham_to_spam, options.max_spam_published
            )
            metrics["transfer"] = _rounded(
                {**chosen.as_dict(), **band_rates(scores[mask], labels[mask], chosen).as_dict()}
            )
        per_group[name] = metrics
    return {
        "pooled": _rounded(classification_metrics(scores, labels, thresholds)),
        "per_group": per_group,
    }


def train(options: TrainingOptions, progress: Progress | None = None) -> TrainingResult:
    progress = progress or Progress(TRAINING_STEPS)
    created = datetime.now(timezone.utc)

    progress.step("reading data, removing duplicates, detecting languages")
    dataset = load_dataset(options.data, options.fmt, progress=progress.count)
    for source in dataset.sources:
        progress.note(f"{source.path}: {source.format}, {source.rows} rows, {source.bad_rows} bad rows")
        for line, message in source.errors[:10]:
            progress.note(f"  {source.path}:{line}: {message}")
    progress.note(
        f"{dataset.rows_read} rows read, {dataset.duplicates_removed} duplicates and "
        f"{dataset.conflicting_removed} conflicting rows removed, {len(dataset)} used"
    )
    progress.done()

    progress.step("held-out evaluation (one model per held-out group)")
    holdout = holdout_margins(
        dataset, options.auxiliary, options.seed,
        on_fold=lambda i, n, name: progress.note(f"fold {i}/{n}: holding out {name}"),
    )
    progress.note(holdout.method)
    progress.done()

    progress.step("calibrating and choosing thresholds on held-out scores")
    evaluated = holdout.evaluated
    labels = dataset.labels[evaluated]
    folds = holdout.fold[evaluated]
    slope, intercept = fit_platt(holdout.margins[evaluated], labels)
    scores = expit(slope * holdout.margins[evaluated] + intercept)
    thresholds = choose_thresholds(scores, labels, options.max_ham_to_spam, options.max_spam_published)
    evaluation = _evaluate_holdout(scores, labels, folds, thresholds, options)
    evaluation["method"] = holdout.method
    evaluation["calibration"] = {"slope": round(slope, 6), "intercept": round(intercept, 6)}
    progress.done()

    progress.step("fitting the final model on all rows")
    pipeline = build_pipeline(options.seed)
    pipeline.fit(
        dataset.inputs, dataset.labels,
        classifier__sample_weight=sample_weights(dataset.groups, options.auxiliary),
    )
    pipeline[-1].calibrate(slope, intercept)
    progress.done()

    progress.step("writing plots")
    options.out.mkdir(parents=True, exist_ok=True)
    version = new_version(options.out, created)
    plot_paths = write_plots(scores, labels, folds, thresholds, options.out / version)
    progress.done()

    progress.step("writing and verifying the artifact")
    fields = {
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seed": options.seed,
        "languages": training_languages([item.language for item in dataset.inputs]),
        "budgets": {
            "max_ham_to_spam": options.max_ham_to_spam,
            "max_spam_published": options.max_spam_published,
        },
        "thresholds": thresholds.as_dict(),
        "pipeline": describe_pipeline(pipeline),
        "metrics": evaluation["pooled"],
        "evaluation": evaluation,
        "data": _data_summary(dataset, options.auxiliary),
        "training": {
            "command": options.command,
            "auxiliary_groups": options.auxiliary,
            "seconds": round(progress.elapsed, 1),
            "cpus": os.cpu_count(),
        },
        "card": f"{version}.md",
        "plots": [path.relative_to(options.out).as_posix() for path in plot_paths],
    }
    manifest_path, manifest = write_model(pipeline, fields, options.out, version, options.hmac_key)
    card_path = options.out / f"{version}.md"
    write_text_atomically(card_path, render_model_card(manifest))
    bundle = load_bundle(manifest_path, options.hmac_key)
    sample = dataset.inputs[:VERIFY_ROWS]
    if not np.allclose(bundle.predict_proba(sample), pipeline.predict_proba(sample)[:, 1], rtol=0, atol=1e-12):
        raise RuntimeError(f"model {version} does not reproduce its scores after loading; CURRENT not updated")
    set_current(options.out, version)
    progress.done()
    return TrainingResult(version, manifest_path, manifest, card_path, plot_paths, dataset)
