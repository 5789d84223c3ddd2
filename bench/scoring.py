"""Scoring micro-benchmark: language detection (stock langdetect against the
exact sum used here) and the model (scikit-learn's predict_proba against the
LinearScorer that serves), one text per call versus batches, with the model in
models/CURRENT (or --models DIR). Each figure is the best of --repeat runs, so
a busy machine disturbs it less.

    .venv/bin/python bench/scoring.py [--models DIR] [--texts 1000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from langdetect import DetectorFactory, detector_factory
from langdetect.detector import Detector

from moderation.config import REPO_MODELS_DIR
from moderation.scoring.features import ScoringInput, normalize_text
from moderation.scoring.language import detect_normalized_languages
from moderation.scoring.model import current_manifest_path, load_bundle

TEXTS = [
    "Merci pour cet article très clair sur le marché de Noël, j'y serai samedi avec mes enfants.",
    "Thank you for this well researched piece about the new bridge, the photos are great.",
    "CLICK HERE to WIN a FREE iPhone!!! http://free-prizes.example/win subscribe to my channel",
    "I disagree with the council's decision, but the article explains both sides fairly.",
    "Check out my channel for cheap followers www.subs4u.example, call 0800 123 456 now!!!",
    "Je ne suis pas d'accord avec la conclusion : le budget des écoles mérite plus d'attention.",
]
BATCH_SIZES = (1, 8, 64)


def best_ms_per_text(run: Callable[[], object], texts: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return 1000 * best / texts


def in_batches(function: Callable, items: list, size: int) -> Callable[[], None]:
    return lambda: [function(items[i:i + size]) for i in range(0, len(items), size)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=REPO_MODELS_DIR)
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bundle = load_bundle(current_manifest_path(args.models))
    texts = [normalize_text(f"{TEXTS[i % len(TEXTS)]} ({i})") for i in range(args.texts)]
    n, repeat = len(texts), args.repeat

    DetectorFactory.seed = 0
    detector_factory.init_factory()

    def stock(batch: list[str]) -> None:
        for text in batch:
            detector = Detector(detector_factory._factory)
            detector.append(text)
            detector.detect()

    languages = detect_normalized_languages(texts)   # also loads the profiles
    rows = [("language, stock langdetect (7 random trials), per text",
             best_ms_per_text(lambda: stock(texts), n, max(1, repeat // 2)), "")]
    for size in BATCH_SIZES:
        rows.append((f"language, detect_normalized_languages, batches of {size}",
                     best_ms_per_text(in_batches(detect_normalized_languages, texts, size), n, repeat), ""))
    inputs = [ScoringInput(body=t, author_name="Jean", author_email=f"reader{i}@example.fr", language=lang)
              for i, (t, lang) in enumerate(zip(texts, languages))]
    pipeline = bundle.pipeline
    single = {}
    for name, function in (("scikit-learn predict_proba", lambda b: pipeline.predict_proba(b)),
                           ("LinearScorer (ModelBundle.predict_proba)", bundle.predict_proba)):
        for size in BATCH_SIZES:
            ms = best_ms_per_text(in_batches(function, inputs, size), n, repeat)
            single.setdefault(name, ms)
            rows.append((f"model, {name}, batches of {size}", ms, f"{single[name] / ms:.1f}x"))
    print(f"model {bundle.version}, {n} texts, best of {repeat}")
    print("| step | ms per text | speed-up vs batch of 1 |")
    print("|---|---|---|")
    for name, ms, speedup in rows:
        print(f"| {name} | {ms:.3f} | {speedup} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
