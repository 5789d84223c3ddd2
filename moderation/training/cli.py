"""``python train.py train|evaluate|convert``: the command line of training.

Contract:

- ``train --data PATH [--data PATH ...] [--out models/] [--max-ham-to-spam 0.005]
  [--max-spam-published 0.02] [--seed 0] [--hmac-key-env VAR] [--format FMT]
  [--auxiliary GROUP=WEIGHT ...]``: see ``moderation.training.trainer``. A
  directory means every readable labelled file under it. Progress goes to
  stderr, the summary table to stdout.
- ``evaluate --data FILE [--model MANIFEST] [--models-dir models/] [--format FMT]
  [--hmac-key-env VAR]`` scores the file with a shipped model (default: the one
  ``CURRENT`` names) and its own thresholds; the last line of output is one JSON
  object with ``EVALUATE_KEYS``.
- ``convert [--model MANIFEST] [--models-dir models/] [--hmac-key-env VAR]``
  rewrites a model written before the ``portable-1`` format (a joblib file, which
  the service refuses to load) in that format, without retraining: see
  ``artifact.convert_legacy_model``. It unpickles the joblib file once, after
  checking its sha256 (and HMAC): run it only on a model you trust.
- An HMAC key is the UTF-8 bytes of the named environment variable's value.
- Exit status: 0 success, 1 the model could not be loaded or verified,
  2 bad arguments or unreadable data.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from moderation.scoring.model import ModelError, current_manifest_path, load_bundle
from moderation.training.evaluation import classification_metrics
from moderation.training.readers import FORMATS, DataFormatError, data_files, read_labelled
from moderation.training.report import Progress, metrics_table, table
from moderation.training.card import language_table, link_table, outcome_table
from moderation.training.independent import service_outcome
from moderation.training.augment import DEFAULT_LINK_SHARE
from moderation.training.languages import DEFAULT_MAX_REVIEW
from moderation.training.trainer import DEFAULT_AUXILIARY, TRAINING_STEPS, TrainingOptions, train
from moderation.training.artifact import convert_legacy_model
from moderation.training.translate import DEFAULT_CACHE_DIR, PIVOTS, ApertiumMissing

EVALUATE_KEYS = (
    "n",
    "roc_auc",
    "pr_auc",
    "f1",
    "mcc",
    "ham_to_spam_rate",
    "spam_to_published_rate",
    "review_rate",
    "ham_published_rate",
)
EXIT_MODEL_ERROR = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad arguments or unreadable input; the message is shown as is."""


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a share in [0, 1), e.g. 0.005 for 0.5 %, got {text}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _group_weight(highest: float):
    """An argparse type for ``GROUP=WEIGHT`` with ``0 < WEIGHT <= highest``."""
    def parse(text: str) -> tuple[str, float]:
        name, equals, weight = text.partition("=")
        try:
            value = float(weight)
        except ValueError:
            value = -1.0
        if not equals or not name or not 0.0 < value <= highest:
            raise argparse.ArgumentTypeError(f"expected GROUP=WEIGHT with 0 < WEIGHT <= {highest:g}, got {text!r}")
        return name, value
    return parse


MAX_GROUP_WEIGHT = 20.0
"""A site's labels may count up to 20 times a public row: a few hundred labels
against ~25,000 public rows."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="train.py", description="Train and evaluate the spam model.")
    commands = parser.add_subparsers(dest="command", required=True)

    training = commands.add_parser("train", help="train, evaluate on held-out groups, ship a model")
    training.add_argument("--data", type=Path, action="append", required=True,
                          help="labelled file or directory (repeatable)")
    training.add_argument("--out", type=Path, default=Path("models"), help="models directory (default: models/)")
    training.add_argument("--max-ham-to-spam", type=_share, default=0.005,
                          help="budget: share of ham held as spam (default 0.005)")
    training.add_argument("--max-spam-published", type=_share, default=0.02,
                          help="budget: share of spam published (default 0.02)")
    training.add_argument("--seed", type=int, default=0)
    training.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1, metavar="N",
                          help="processes fitting the held-out and final models side by side; the model "
                               "is the same for any N (default: one per CPU)")
    training.add_argument("--hmac-key-env", metavar="VAR",
                          help="sign the manifest with HMAC-SHA256 under the key in this environment variable")
    training.add_argument("--format", choices=FORMATS, help="format of every --data file (default: detected)")
    training.add_argument(
        "--auxiliary", type=_group_weight(1.0), action="append", metavar="GROUP=WEIGHT",
        help="a group always trained on with this weight and never held out "
        f"(default: {', '.join(f'{k}={v}' for k, v in DEFAULT_AUXILIARY.items())})",
    )

    training.add_argument("--translate", action="append", default=[], metavar="LANG", choices=sorted(PIVOTS),
                          help="also train on machine translations of the English rows into LANG "
                               "(Apertium, offline; repeatable); each copy is held out with its source")
    training.add_argument("--translation-cache", type=Path, default=DEFAULT_CACHE_DIR,
                          help=f"where translations are kept between runs (default: {DEFAULT_CACHE_DIR})")
    training.add_argument("--link-share", type=_share, default=DEFAULT_LINK_SHARE, metavar="SHARE",
                          help="copy this share of the ham with an ordinary link added, as news readers cite "
                               f"sources (default {DEFAULT_LINK_SHARE}; 0: none)")
    training.add_argument("--weight", type=_group_weight(MAX_GROUP_WEIGHT), action="append",
                          metavar="GROUP=WEIGHT",
                          help="train on GROUP (a site's exported labels, a file stem) with this weight "
                               "(0 < WEIGHT <= 20); it is still held out for evaluation")
    training.add_argument("--max-review", type=_share, default=DEFAULT_MAX_REVIEW,
                          help=f"a language is supported only if at most this share of its held-out rows "
                               f"goes to review (default {DEFAULT_MAX_REVIEW})")
    training.add_argument("--evaluate-on", type=Path, action="append", default=[], metavar="PATH",
                          help="after training, score this labelled file or directory (never trained on) "
                               "as the service would decide, and record the outcome in the manifest and card")
    training.add_argument("--support", action="append", default=[], metavar="LANG",
                          help="support LANG whatever its held-out figures (repeatable)")
    training.add_argument("--no-support", action="append", default=[], metavar="LANG",
                          help="never support LANG: its comments go to review (repeatable)")

    evaluating = commands.add_parser("evaluate", help="score a labelled file with a shipped model")
    evaluating.add_argument("--data", type=Path, action="append", required=True, help="labelled file")
    evaluating.add_argument("--model", type=Path, help="manifest (.json) of the model (default: the current one)")
    evaluating.add_argument("--models-dir", type=Path, default=Path("models"),
                            help="where CURRENT is looked up (default: models/)")
    evaluating.add_argument("--format", choices=FORMATS, help="format of the file (default: detected)")
    evaluating.add_argument("--hmac-key-env", metavar="VAR", help="require a manifest HMAC under this key")
    evaluating.add_argument("--site-language", metavar="LANG",
                            help="the language of the site the comments are posted to, used where detection "
                                 "is unsure (default: each row's language column, else none)")

    converting = commands.add_parser(
        "convert", help="rewrite a trusted joblib model in the portable format (no retraining)")
    converting.add_argument("--model", type=Path, help="manifest (.json) of the model (default: the current one)")
    converting.add_argument("--models-dir", type=Path, default=Path("models"),
                            help="where CURRENT is looked up (default: models/)")
    converting.add_argument("--hmac-key-env", metavar="VAR",
                            help="verify the manifest's HMAC under this key and sign the converted one with it")
    return parser


def _hmac_key(variable: str | None) -> bytes | None:
    if variable is None:
        return None
    value = os.environ.get(variable, "")
    if not value:
        raise UsageError(f"--hmac-key-env {variable}: the environment variable is unset or empty")
    return value.encode("utf-8")


def _check_paths(paths: Sequence[Path]) -> None:
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")


def _run_train(args: argparse.Namespace, argv: Sequence[str]) -> int:
    _check_paths(args.data + args.evaluate_on)
    options = TrainingOptions(
        data=args.data,
        out=args.out,
        max_ham_to_spam=args.max_ham_to_spam,
        max_spam_published=args.max_spam_published,
        seed=args.seed,
        hmac_key=_hmac_key(args.hmac_key_env),
        auxiliary=dict(args.auxiliary) if args.auxiliary else dict(DEFAULT_AUXILIARY),
        fmt=args.format,
        command=shlex.join(["python", "train.py", *argv]),
        translate_to=list(dict.fromkeys(args.translate)),
        translation_cache=args.translation_cache,
        link_share=args.link_share,
        weights=dict(args.weight or []),
        max_review=args.max_review,
        support=args.support,
        no_support=args.no_support,
        evaluate_on=args.evaluate_on,
        jobs=args.jobs,
    )
    progress = Progress(TRAINING_STEPS)
    result = train(options, progress)
    manifest = result.manifest
    evaluation = manifest["evaluation"]
    rows = dict(evaluation["per_group"])
    rows["all held-out"] = evaluation["pooled"]
    thresholds = manifest["thresholds"]
    pooled = evaluation["pooled"]
    print()
    print(f"Model {result.version}: held-out evaluation ({evaluation['method']})")
    print(metrics_table(rows))
    print()
    print(table(
        ["threshold", "value", "measured on held-out rows", "budget"],
        [
            ["approve below", f"{thresholds['approve_below']:.4f}",
             f"spam published {pooled['spam_to_published_rate']:.2%}", f"<= {options.max_spam_published:.2%}"],
            ["spam at or above", f"{thresholds['reject_above']:.4f}",
             f"ham held as spam {pooled['ham_to_spam_rate']:.2%}", f"<= {options.max_ham_to_spam:.2%}"],
            ["review band", "between", f"{pooled['review_rate']:.1%} of all rows", "smallest"],
        ],
    ))
    transfer = {name: m["transfer"] for name, m in evaluation["per_group"].items() if "transfer" in m}
    if transfer:
        print()
        print("Thresholds chosen without the group, applied to it:")
        print(table(
            ["held out", "approve below", "spam at or above", "ham->spam", "spam->published", "review"],
            [[name, f"{t['approve_below']:.4f}", f"{t['reject_above']:.4f}", f"{t['ham_to_spam_rate']:.2%}",
              f"{t['spam_to_published_rate']:.2%}", f"{t['review_rate']:.1%}"] for name, t in transfer.items()],
        ))
    print()
    print("Per language and source, at each language's thresholds (held-out rows):")
    print(language_table(manifest["per_language"]))
    print()
    print("Links (held-out rows):")
    print(link_table(manifest["per_language"]))
    print()
    if manifest.get("independent_evaluation"):
        print("Files never trained on, decided as the service would:")
        print(outcome_table(manifest["independent_evaluation"]))
        print()
    print(f"supported languages: {', '.join(manifest['languages']) or 'none'}; "
          f"{manifest['data']['rows_used']} rows; wall time {progress.elapsed:.1f} s")
    print(f"wrote {result.manifest_path}, {manifest['model_file']}, {result.card_path.name}, "
          f"{len(result.plot_paths)} plots in {result.plot_paths[0].parent}; CURRENT -> {result.version}")
    return 0


def _run_evaluate(args: argparse.Namespace) -> int:
    _check_paths(args.data)
    manifest_path = args.model or current_manifest_path(args.models_dir)
    bundle = load_bundle(manifest_path, _hmac_key(args.hmac_key_env))
    rows = []
    for path, detected in data_files(args.data):
        result = read_labelled(path, args.format or detected)
        print(f"{path}: {result.format}, {len(result.rows)} rows, {len(result.errors)} bad rows", file=sys.stderr)
        for line, message in result.errors[:10]:
            print(f"  {path}:{line}: {message}", file=sys.stderr)
        rows.extend(result.rows)
    if not rows:
        raise UsageError("no labelled rows to evaluate")
    outcome = service_outcome(bundle, rows, args.site_language or "")
    labels = [row.label for row in rows]
    metrics = classification_metrics(outcome["scores"], labels, bundle.thresholds)
    metrics["ham_to_spam_rate"] = outcome["ham"]["spam"] or 0.0
    metrics["spam_to_published_rate"] = outcome["spam"]["published"] or 0.0
    metrics["review_rate"] = outcome["review_rate"]
    metrics["ham_published_rate"] = outcome["ham"]["published"]
    counted = ", ".join(f"{language} {count}" for language, count in outcome["languages"].items())
    print(f"model {bundle.version}; languages detected: {counted}; the service's bands per language "
          f"(unsupported languages go to review)")
    print(metrics_table({", ".join(str(p) for p in args.data): metrics}, first_column="data"))
    print(outcome_table({"this data": outcome}))
    summary = {key: (round(metrics[key], 6) if isinstance(metrics[key], float) else metrics[key])
               for key in EVALUATE_KEYS}
    print(json.dumps(summary))
    return 0


def _run_convert(args: argparse.Namespace) -> int:
    manifest_path = args.model or current_manifest_path(args.models_dir)
    _, manifest = convert_legacy_model(manifest_path, _hmac_key(args.hmac_key_env))
    print(f"model {manifest['version']}: wrote {manifest['model_file']} ({manifest['model_format']}, "
          f"sha256 {manifest['sha256'][:12]}...), updated {Path(manifest_path).name}; joblib file removed")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            return _run_train(args, argv)
        if args.command == "convert":
            return _run_convert(args)
        return _run_evaluate(args)
    except ModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_MODEL_ERROR
    except (UsageError, DataFormatError, ValueError, ApertiumMissing) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
