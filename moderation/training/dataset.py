"""From labelled files to one deduplicated training set.

Contract:

- ``load_dataset(paths, fmt=None)`` reads every file (directories recursively),
  fingerprints each one (sha256, rows read, bad rows), removes exact duplicates
  *before* any split, and fills each row's language exactly as the service does
  (``detect_language`` on the body, with the language the file states as the
  hint a site's language is).
- Duplicates are rows whose ``normalize_text(body)`` is identical. The first
  occurrence (file order, then row order) is kept. When copies disagree on the
  label, every copy is dropped: the text itself cannot tell the classes apart.
- The result is independent of how many processes detect languages.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from moderation.scoring.features import ScoringInput, normalize_text
from moderation.scoring.language import detect_languages
from moderation.training.readers import LabelledRow, data_files, read_labelled

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` during long steps."""

PARALLEL_DETECTION_MIN_ROWS = 400
DETECTION_CHUNK_ROWS = 250


@dataclass(frozen=True, slots=True)
class SourceFile:
    """Fingerprint of one input file, as recorded in the model manifest."""

    path: str
    format: str
    sha256: str
    rows: int
    bad_rows: int
    errors: tuple[tuple[int, str], ...] = ()


ORIGINAL, TRANSLATED, WITH_LINK = "original", "translated", "with_link"
"""Row kinds: read from a file, machine-translated from one, or a ham row with a link added."""


@dataclass(slots=True)
class Dataset:
    """Rows with their labels and, per row: ``groups`` (source file or site: held out
    as a whole where a group is a fold of its own), ``threads`` (rows held out
    together inside a group that is spread over folds), ``kinds`` and ``origins``
    (the row an augmented row was made from, its own index otherwise)."""

    inputs: list[ScoringInput]
    labels: np.ndarray
    groups: np.ndarray
    sources: list[SourceFile]
    duplicates_removed: int = 0
    conflicting_removed: int = 0
    rows_read: int = 0
    group_formats: dict[str, str] = field(default_factory=dict)
    threads: np.ndarray | None = None
    kinds: np.ndarray | None = None
    origins: np.ndarray | None = None

    def __post_init__(self) -> None:
        count = len(self.inputs)
        if self.threads is None:
            self.threads = np.array([""] * count, dtype=object)
        if self.kinds is None:
            self.kinds = np.array([ORIGINAL] * count, dtype=object)
        if self.origins is None:
            self.origins = np.arange(count)

    def __len__(self) -> int:
        return len(self.inputs)

    def subset(self, mask: np.ndarray) -> tuple[list[ScoringInput], np.ndarray]:
        """Inputs and labels of the rows selected by a boolean mask."""
        return [item for item, keep in zip(self.inputs, mask) if keep], self.labels[mask]

    def extended(self, inputs: list[ScoringInput], labels, origins, kind: str) -> Dataset:
        """This dataset plus rows made from its rows ``origins`` (same group and thread)."""
        origins = np.asarray(origins, dtype=np.int64)
        return Dataset(
            inputs=self.inputs + inputs,
            labels=np.concatenate([self.labels, np.asarray(labels, dtype=np.int64)]),
            groups=np.concatenate([self.groups, self.groups[origins]]),
            sources=self.sources, duplicates_removed=self.duplicates_removed,
            conflicting_removed=self.conflicting_removed, rows_read=self.rows_read,
            group_formats=self.group_formats,
            threads=np.concatenate([self.threads, self.threads[origins]]),
            kinds=np.concatenate([self.kinds, np.array([kind] * len(inputs), dtype=object)]),
            origins=np.concatenate([self.origins, self.origins[origins]]),
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def deduplicate(rows: Sequence[LabelledRow]) -> tuple[list[LabelledRow], int, int]:
    """``(kept rows, duplicates removed, conflicting rows removed)``; see module doc."""
    copies: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        copies[normalize_text(row.body)].append(index)
    kept: list[LabelledRow] = []
    duplicates = conflicting = 0
    for indexes in sorted(copies.values()):
        labels = {rows[i].label for i in indexes}
        if len(labels) > 1:
            conflicting += len(indexes)
            continue
        kept.append(rows[indexes[0]])
        duplicates += len(indexes) - 1
    return kept, duplicates, conflicting


CANDIDATE_LANGUAGES = ("en", "fr")
"""The languages short texts are told apart among at training time, as the service
does with the languages of its model (``detect_normalized_languages``)."""


def _detect_chunk(chunk: tuple[list[str], list[str]]) -> list[str]:
    texts, hints = chunk
    return detect_languages(texts, hints, CANDIDATE_LANGUAGES)


def detect_languages_in_parallel(texts: list[str], progress: ProgressCallback | None = None,
                                 hints: Sequence[str] | None = None) -> list[str]:
    """``detect_languages`` over worker processes (n-gram extraction is pure Python:
    threads would not help); the answers do not depend on the number of workers.
    ``hints``: the language each text is expected in, as a site's language is."""
    hints = list(hints) if hints is not None else [""] * len(texts)
    chunks = [(texts[i : i + DETECTION_CHUNK_ROWS], hints[i : i + DETECTION_CHUNK_ROWS])
              for i in range(0, len(texts), DETECTION_CHUNK_ROWS)]
    workers = min(os.cpu_count() or 1, len(chunks))
    if workers <= 1 or len(texts) < PARALLEL_DETECTION_MIN_ROWS:
        languages: list[str] = []
        for chunk in chunks:
            languages.extend(_detect_chunk(chunk))
            if progress:
                progress(len(languages), len(texts))
        return languages
    languages = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for detected in pool.map(_detect_chunk, chunks):
            languages.extend(detected)
            if progress:
                progress(len(languages), len(texts))
    return languages


def load_dataset(
    paths: Sequence[Path],
    fmt: str | None = None,
    progress: ProgressCallback | None = None,
) -> Dataset:
    """Read, fingerprint, deduplicate and language-tag all labelled rows under ``paths``."""
    rows: list[LabelledRow] = []
    sources: list[SourceFile] = []
    group_formats: dict[str, str] = {}
    for path, detected in data_files(Path(p) for p in paths):
        result = read_labelled(path, fmt or detected)
        rows.extend(result.rows)
        for row in result.rows:
            group_formats.setdefault(row.group, result.format)
        sources.append(
            SourceFile(
                path=str(path),
                format=result.format,
                sha256=file_sha256(path),
                rows=len(result.rows),
                bad_rows=len(result.errors),
                errors=tuple(result.errors),
            )
        )
    if not rows:
        raise ValueError(f"no labelled rows found in {', '.join(map(str, paths))}")
    kept, duplicates, conflicting = deduplicate(rows)
    languages = detect_languages_in_parallel([row.body for row in kept], progress,
                                             [row.language for row in kept])
    inputs = [
        ScoringInput(
            body=row.body,
            author_name=row.author_name,
            author_email=row.author_email,
            language=language,
        )
        for row, language in zip(kept, languages)
    ]
    return Dataset(
        inputs=inputs,
        labels=np.array([row.label for row in kept], dtype=np.int64),
        groups=np.array([row.group for row in kept], dtype=object),
        sources=sources,
        duplicates_removed=duplicates,
        conflicting_removed=conflicting,
        rows_read=len(rows),
        group_formats=group_formats,
        threads=np.array([row.thread for row in kept], dtype=object),
    )
