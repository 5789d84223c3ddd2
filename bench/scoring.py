"""Scoring micro-benchmark: one text per model call versus batches, and the cost
of language detection, with the model in models/CURRENT (or --models DIR).

    .venv/bin/python bench/scoring.py [--models DIR] [--texts 2000]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from langdetect.detector import Detector

from moderation.config import REPO_MODELS_DIR
from moderation.scoring.features import ScoringInput
from moderation.scoring.features import normalize_text
from moderation.scoring.language import _factory, detect_language
from moderation.scoring.model import current_manifest_path, load_bundle

TEXTS = [
    "Merci pour cet article très clair sur le marché de Noël, j'y serai samedi avec mes enfants.",
    "Thank you for this well researched piece about the new bridge, the photos are great.",
    "CLICK HERE to WIN a FREE iPhone!!! http://free-prizes.example/win subscribe to my channel",
    "I disagree with the council's decision, but the article explains both sides fairly.",
    "Check out my channel for cheap followers www.subs4u.example, call 0800 123 456 now!!!",
]


def per_text_ms(seconds: float, n: int) -> float:
    return 1000 * seconds / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=REPO_MODELS_DIR)
    parser.add_argument("--texts", type=int, default=2000)
    args = parser.parse_args()
    bundle = load_bundle(current_manifest_path(args.models))
    texts = [f"{TEXTS[i % len(TEXTS)]} ({i})" for i in range(args.texts)]
    detect_language("warm up the language profiles")
    start = time.perf_counter()
    for text in texts:
        stock = Detector(_factory())
        stock.append(normalize_text(text))
        stock.detect()
    detect_stock = time.perf_counter() - start
    start = time.perf_counter()
    languages = [detect_language(t) for t in texts]
    detect = time.perf_counter() - start
    inputs = [ScoringInput(body=t, language=lang) for t, lang in zip(texts, languages)]
    bundle.predict_proba(inputs[:64])
    rows = [("language detection, stock langdetect Detector, per text", per_text_ms(detect_stock, len(texts))),
            ("language detection, detect_language (BlockDetector), per text", per_text_ms(detect, len(texts)))]
    for size in (1, 8, 64, 256):
        start = time.perf_counter()
        for i in range(0, len(inputs), size):
            bundle.predict_proba(inputs[i:i + size])
        rows.append((f"predict_proba, batches of {size}, per text",
                     per_text_ms(time.perf_counter() - start, len(inputs))))
    single = rows[2][1]
    print(f"model {bundle.version}, {len(texts)} texts")
    print("| step | ms per text | speed-up vs batch of 1 |")
    print("|---|---|---|")
    for name, ms in rows:
        speedup = f"{single / ms:.1f}x" if name.startswith("predict") else ""
        print(f"| {name} | {ms:.3f} | {speedup} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
