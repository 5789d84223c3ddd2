"""The training run: data -> held-out evaluation -> thresholds -> final model -> artifact.

Contract of ``train(options, progress)``:

1. read and fingerprint every file, drop exact duplicates, detect languages;
   then, optionally, machine-translate the English rows into ``translate_to``
   (``translate``; each copy stays in its source's group and thread) and add
   copies of a share of the ham with an ordinary link (``augment``);
2. out-of-group margins for every evaluation row (``holdout_margins``), and
   the final pipeline fitted on all rows, side by side in ``jobs`` processes;
3. a Platt sigmoid fitted on those margins; per detected language, thresholds
   chosen on that language's held-out scores and the decision whether the
   model supports it (``languages.evaluate_languages``); metrics per held-out
   group and pooled, plus how thresholds chosen without a group fare on it
   ("transfer"); the ``reference`` of the drift alarm: shares of the held-out
   scores per bin and of their languages, on the original rows (no machine
   translation nor link copy: ``moderation.scoring.drift.reference_entry``);
4. the final pipeline given that calibration;
5. plots, ``<version>.npz`` (``portable-1``, no pickle) + ``<version>.json`` +
   ``<version>.md``; the artifact is loaded back through ``load_bundle``
   (sha256/HMAC/versions) and must reproduce the in-memory scores; only then is
   ``CURRENT`` updated.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit

from moderation.scoring.classifier import fit_platt
from moderation.scoring.drift import reference_entry
from moderation.scoring.features import UNKNOWN_LANGUAGE, ScoringInput, describe_pipeline, has_link, has_words
from moderation.domain import Bands
from moderation.scoring.model import ModelBundle, load_bundle
from moderation.training.artifact import new_version, set_current, write_model, write_text_atomically
from moderation.training.card import render_model_card
from moderation.scoring.language import detect_languages
from moderation.training.augment import with_links
from moderation.training.dataset import CANDIDATE_LANGUAGES, ORIGINAL, TRANSLATED, WITH_LINK, Dataset, load_dataset
from moderation.training.evaluation import classification_metrics, holdout_margins
from moderation.training.formal import FORMAL_SHARE, LANGUAGE as FORMAL_LANGUAGE, addressed_formally, to_vous
from moderation.training.independent import service_outcome
from moderation.training.languages import DEFAULT_MAX_REVIEW, evaluate_languages
from moderation.training.readers import data_files, read_labelled
from moderation.training.terminology import term_count
from moderation.training.translate import DEFAULT_CACHE_DIR, data_version, translate
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
    translate_to: list[str] = field(default_factory=list)
    translation_cache: Path | None = DEFAULT_CACHE_DIR
    link_share: float = 0.0
    weights: dict[str, float] = field(default_factory=dict)
    max_review: float = DEFAULT_MAX_REVIEW
    support: list[str] = field(default_factory=list)
    no_support: list[str] = field(default_factory=list)
    evaluate_on: list[Path] = field(default_factory=list)
    jobs: int = 1
    """Worker processes for the held-out and final fits (the CLI gives one per CPU)."""


@dataclass(slots=True)
class TrainingResult:
    version: str
    manifest_path: Path
    manifest: dict[str, Any]
    card_path: Path
    plot_paths: list[Path]
    dataset: Dataset


def group_weights(options: TrainingOptions) -> dict[str, float]:
    """Sample weight per group: auxiliary groups' and ``--weight``'s (a site's labels
    count more than public data); every other group weighs 1."""
    return {**options.weights, **options.auxiliary}


def _translations(dataset: Dataset, target: str, cache: Path | None,
                  progress: Progress) -> tuple[list, list[int], list[int]]:
    """Translations into ``target`` of the dataset's English original rows:
    ``(inputs, labels, index of each one's source row)``; a translation that came
    out without a word from a source with some is left out."""
    rows = [i for i, (item, kind) in enumerate(zip(dataset.inputs, dataset.kinds))
            if kind == ORIGINAL and item.language == "en"]

    def counted(done: int, total: int) -> None:
        if done == 0:
            known = (f" ({len(rows) - total} of the {len(rows)} are in the cache or read the same)"
                     if total < len(rows) else "")
            progress.note(f"Apertium: translating {total} English texts into {target}{known}; "
                          "the cache keeps them for later runs")
        progress.count(done, total)

    sources = [dataset.inputs[i].body for i in rows]
    texts = translate(sources, target, cache, on_progress=counted)
    if target == FORMAL_LANGUAGE:
        texts = [to_vous(text) if addressed_formally(source) else text for source, text in zip(sources, texts)]
    kept = [position for position, (source, text) in enumerate(zip(sources, texts))
            if has_words(text) or not has_words(source)]
    if len(kept) < len(texts):   # Apertium failed on them (a stage crashed): an empty row teaches nothing true
        progress.note(f"{len(texts) - len(kept)} of the translations came out empty and are left out")
        rows, texts = [rows[p] for p in kept], [texts[p] for p in kept]
    languages = detect_languages(texts, [target] * len(texts), CANDIDATE_LANGUAGES)
    inputs = [ScoringInput(body=text, author_name=dataset.inputs[i].author_name,
                           author_email=dataset.inputs[i].author_email, language=language)
              for i, text, language in zip(rows, texts, languages)]
    return inputs, [int(dataset.labels[i]) for i in rows], rows


def _translations_fingerprint(dataset: Dataset) -> str | None:
    """sha256 of the machine-translated texts trained on, in order (``None``: none).
    Apertium's output depends a little on which texts it translates together, so
    two runs on the same data give the same model only where this matches."""
    texts = [item.body for item, kind in zip(dataset.inputs, dataset.kinds) if kind == TRANSLATED]
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest() if texts else None


def source_names(dataset: Dataset) -> np.ndarray:
    """Per row, the source its metrics are reported under: ``youtube``, ``sms`` or
    its group (a corpus, a site), with `` (mt)`` for a machine translation and
    `` +link`` for a ham copy given a link."""
    names = []
    for group, kind in zip(dataset.groups, dataset.kinds):
        family = dataset.group_formats.get(group, "")
        name = family if family in ("youtube", "sms") else str(group)
        names.append(name + {ORIGINAL: "", TRANSLATED: " (mt)", WITH_LINK: " +link"}[kind])
    return np.array(names, dtype=object)


def training_languages(languages: list[str]) -> list[str]:
    counts = Counter(language for language in languages if language != UNKNOWN_LANGUAGE)
    needed = max(TRAINING_LANGUAGE_MIN_ROWS, TRAINING_LANGUAGE_MIN_SHARE * len(languages))
    return sorted(language for language, count in counts.items() if count >= needed)


def _rounded(metrics: dict[str, Any]) -> dict[str, Any]:
    return {key: round(value, 6) if isinstance(value, float) else value for key, value in metrics.items()}


def _data_summary(dataset: Dataset, weights: dict[str, float], options: TrainingOptions,
                  sources: np.ndarray) -> dict[str, Any]:
    auxiliary = options.auxiliary
    groups = {}
    for name in sorted(set(dataset.groups.tolist())):
        mask = dataset.groups == name
        groups[name] = {
            "rows": int(mask.sum()),
            "spam": int(dataset.labels[mask].sum()),
            "ham": int((dataset.labels[mask] == 0).sum()),
            "format": dataset.group_formats.get(name, ""),
            "auxiliary": name in auxiliary,
            "weight": weights.get(name, 1.0),
        }
    languages = np.array([item.language for item in dataset.inputs], dtype=object)
    by_source: dict[str, Any] = {}
    for source in sorted(set(sources.tolist())):
        mask = sources == source
        by_source[source] = {
            "rows": int(mask.sum()),
            "spam": int(dataset.labels[mask].sum()),
            "ham": int((dataset.labels[mask] == 0).sum()),
            "languages": dict(Counter(languages[mask].tolist()).most_common(4)),
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
        "rows_original": int((dataset.kinds == ORIGINAL).sum()),
        "rows_translated": int((dataset.kinds == TRANSLATED).sum()),
        "rows_with_link_added": int((dataset.kinds == WITH_LINK).sum()),
        "groups": groups,
        "sources": by_source,
    }


def _evaluate_holdout(scores, labels, folds, thresholds: Bands, options: TrainingOptions) -> dict[str, Any]:
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


def _prepare(options: TrainingOptions, progress: Progress) -> tuple[Dataset, np.ndarray]:
    """Step 1: the dataset with translations and link copies, and each row's source name."""
    dataset = load_dataset(options.data, options.fmt, progress=progress.count)
    for source in dataset.sources:
        progress.note(f"{source.path}: {source.format}, {source.rows} rows, {source.bad_rows} bad rows")
        for line, message in source.errors[:10]:
            progress.note(f"  {source.path}:{line}: {message}")
    progress.note(
        f"{dataset.rows_read} rows read, {dataset.duplicates_removed} duplicates and "
        f"{dataset.conflicting_removed} conflicting rows removed, {len(dataset)} used"
    )
    for target in options.translate_to:
        inputs, labels, parents = _translations(dataset, target, options.translation_cache, progress)
        dataset = dataset.extended(inputs, labels, parents, TRANSLATED)
        progress.note(f"{len(inputs)} English rows machine-translated into {target} (Apertium)")
    names = source_names(dataset)
    if options.link_share > 0:
        eligible = np.array([group not in options.auxiliary for group in dataset.groups])
        positions = np.flatnonzero(eligible)
        inputs, parents = with_links([dataset.inputs[i] for i in positions], dataset.labels[positions],
                                     options.link_share, options.seed)
        parents = positions[np.asarray(parents, dtype=np.int64)] if parents else np.zeros(0, dtype=np.int64)
        dataset = dataset.extended(inputs, [0] * len(inputs), parents, WITH_LINK)
        names = np.concatenate([names, np.array([f"{names[i]} +link" for i in parents], dtype=object)])
        progress.note(f"{len(inputs)} ham rows copied with an ordinary link added")
    return dataset, names


def _independent(pipeline, fields: dict[str, Any], options: TrainingOptions) -> dict[str, Any]:
    """``service_outcome`` of the just-fitted model on each ``evaluate_on`` file."""
    bundle = ModelBundle({**fields, "version": "candidate"}, pipeline)
    answers = {}
    for path, detected in data_files(options.evaluate_on):
        rows = read_labelled(path, detected).rows
        if rows:
            outcome = service_outcome(bundle, rows)
            answers[path.name] = {key: value for key, value in outcome.items() if key not in ("scores", "bands")}
    return answers


def _check_named_groups(options: TrainingOptions, dataset: Dataset) -> None:
    """Raise ValueError when ``--weight`` or ``--auxiliary`` names a group no row
    belongs to: a misspelt site would otherwise be trained on silently unweighted.
    The default auxiliary group (``sms``) may be absent."""
    named = set(options.weights) | (set(options.auxiliary) - set(DEFAULT_AUXILIARY))
    present = set(dataset.groups.tolist())
    missing = sorted(named - present)
    if missing:
        raise ValueError(f"no rows of group {', '.join(missing)} in the data (a group is a site's "
                         f"name in exported labels, a file's stem or a YouTube video); groups "
                         f"present: {', '.join(sorted(present))}")


def train(options: TrainingOptions, progress: Progress | None = None) -> TrainingResult:
    progress = progress or Progress(TRAINING_STEPS)
    created = datetime.now(timezone.utc)
    weights = group_weights(options)

    progress.step("reading data, removing duplicates, detecting languages, translating")
    dataset, sources = _prepare(options, progress)
    _check_named_groups(options, dataset)
    progress.done()

    progress.step("held-out evaluation (one model per held-out group) and the final model on all rows")
    holdout = holdout_margins(
        dataset, options.auxiliary, options.seed, weights=weights, jobs=options.jobs, final=True,
        on_fold=lambda i, n, name: progress.note(f"fold {i}/{n}: holding out {name}"),
    )
    progress.note(holdout.method)
    processes = min(options.jobs, len(holdout.fold_names) + 1)
    if processes > 1:
        progress.note(f"{len(holdout.fold_names) + 1} models fitted side by side in {processes} processes")
    progress.done()

    progress.step("calibrating and choosing thresholds per language on held-out scores")
    evaluated = holdout.evaluated
    labels = dataset.labels[evaluated]
    folds = holdout.fold[evaluated]
    slope, intercept = fit_platt(holdout.margins[evaluated], labels)
    scores = expit(slope * holdout.margins[evaluated] + intercept)
    row_languages = np.array([item.language for item in dataset.inputs], dtype=object)[evaluated]
    per_language = evaluate_languages(
        scores, labels, row_languages, sources[evaluated], has_link(dataset.inputs)[evaluated],
        max_ham_to_spam=options.max_ham_to_spam, max_spam_published=options.max_spam_published,
        max_review=options.max_review, force=options.support, forbid=options.no_support)
    supported = sorted(language for language, entry in per_language.items() if entry["supported"])
    for language, entry in per_language.items():
        progress.note(f"language {language}: {'supported' if entry['supported'] else 'not supported'} ({entry['why']})")
    default_language = max(supported or [l for l in per_language if "thresholds" in per_language[l]] or [""],
                           key=lambda l: int((row_languages == l).sum()))
    if default_language:
        thresholds = Bands.checked(**per_language[default_language]["thresholds"])
    else:
        thresholds = choose_thresholds(scores, labels, options.max_ham_to_spam, options.max_spam_published)
    evaluation = _evaluate_holdout(scores, labels, folds, thresholds, options)
    evaluation["method"] = holdout.method
    evaluation["calibration"] = {"slope": round(slope, 6), "intercept": round(intercept, 6)}
    original = dataset.kinds[evaluated] == ORIGINAL
    reference = reference_entry(scores[original], row_languages[original])
    progress.done()

    progress.step("calibrating the final model")
    pipeline = holdout.final
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
        "languages": supported,
        "per_language": per_language,
        "budgets": {
            "max_ham_to_spam": options.max_ham_to_spam,
            "max_spam_published": options.max_spam_published,
            "max_review": options.max_review,
        },
        "thresholds": thresholds.as_dict(),
        "pipeline": describe_pipeline(pipeline),
        "metrics": evaluation["pooled"],
        "evaluation": evaluation,
        "reference": reference,
        "data": _data_summary(dataset, weights, options, sources),
        "training": {
            "command": options.command,
            "auxiliary_groups": options.auxiliary,
            "group_weights": options.weights,
            "translated_into": {target: data_version(target) for target in options.translate_to},
            "translations_sha256": _translations_fingerprint(dataset),
            "translation_terms": {target: term_count(target) for target in options.translate_to},
            "translation_formal_share": {target: FORMAL_SHARE for target in options.translate_to
                                         if target == FORMAL_LANGUAGE},
            "link_share": options.link_share,
            "seconds": round(progress.elapsed, 1),
            "cpus": os.cpu_count(),
        },
        "card": f"{version}.md",
        "plots": [path.relative_to(options.out).as_posix() for path in plot_paths],
    }
    if options.evaluate_on:
        fields["independent_evaluation"] = _independent(pipeline, fields, options)
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
