"""Plain-text tables and progress lines for the training command.

Contract: ``metrics_table(rows)`` renders evaluation metrics as an aligned text
table (Markdown-compatible, so the model card reuses it); ``Progress`` prints
step lines and, on a terminal, an updating counter for long steps. Output goes
to the stream given (stderr for progress, stdout for results).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

METRIC_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (metrics key, column title, format)
    ("n", "n", "d"),
    ("roc_auc", "ROC AUC", ".4f"),
    ("pr_auc", "PR AUC", ".4f"),
    ("f1", "F1", ".3f"),
    ("mcc", "MCC", ".3f"),
    ("recall_at_1pct_fpr", "recall@1%FPR", ".3f"),
    ("ham_to_spam_rate", "ham->spam", ".2%"),
    ("spam_to_published_rate", "spam->published", ".2%"),
    ("review_rate", "review", ".1%"),
)


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "n/a"
    return format(value, fmt)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown pipe table with columns padded to equal width."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(cell).ljust(width) for cell, width in zip(cells, widths)) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(headers), separator, *(line(row) for row in rows)])


def metrics_table(rows: Mapping[str, Mapping[str, Any]], first_column: str = "held out") -> str:
    """One row per named metrics dict, columns ``METRIC_COLUMNS``."""
    headers = [first_column, *(title for _, title, _ in METRIC_COLUMNS)]
    body = [
        [name, *(_cell(metrics.get(key), fmt) for key, _, fmt in METRIC_COLUMNS)]
        for name, metrics in rows.items()
    ]
    return table(headers, body)


class Progress:
    """Step-by-step progress: ``step(title)``, ``count(done, total)``, ``done()``."""

    def __init__(self, total_steps: int, stream: TextIO | None = None):
        self.total_steps = total_steps
        self.stream = stream or sys.stderr
        self.current = 0
        self.started = time.perf_counter()
        self._step_started = self.started
        self._interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_reported_share = -1.0

    def step(self, title: str) -> None:
        self.current += 1
        self._step_started = time.perf_counter()
        self._last_reported_share = -1.0
        print(f"[{self.current}/{self.total_steps}] {title}", file=self.stream, flush=True)

    def note(self, text: str) -> None:
        print(f"      {text}", file=self.stream, flush=True)

    def count(self, done: int, total: int) -> None:
        """Counter for a long step: live on a terminal, every 25 % otherwise. A count
        from 0 starts a new counter within the step."""
        if done == 0:
            self._last_reported_share = -1.0
        share = done / total if total else 1.0
        if self._interactive:
            end = "\n" if done >= total else ""
            print(f"\r      {done}/{total}", end=end, file=self.stream, flush=True)
        elif share >= self._last_reported_share + 0.25 or done >= total:
            self._last_reported_share = share
            print(f"      {done}/{total}", file=self.stream, flush=True)

    def done(self) -> float:
        """Print and return the seconds spent in the current step."""
        seconds = time.perf_counter() - self._step_started
        print(f"      done in {seconds:.1f} s", file=self.stream, flush=True)
        return seconds

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started
