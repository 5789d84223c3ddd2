"""How the pages show things: ages, score bars, threads, links. Pure."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from ..domain import Comment
from ..policy import Bands
from .texts import text


def ago(seconds: float, language: str) -> str:
    """``il y a 5 min`` / ``5 min ago``: coarse, for a glance."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return text("ago.now", language)
    if seconds < 3600:
        return text("ago.minutes", language, n=seconds // 60)
    if seconds < 86400:
        return text("ago.hours", language, n=seconds // 3600)
    return text("ago.days", language, n=seconds // 86400)


def score_text(score: float | None) -> str:
    return "–" if score is None else f"{score:.2f}"


@dataclass(frozen=True, slots=True)
class ScoreBar:
    """A score drawn on a 0-100 scale against the two thresholds (an SVG with
    attributes only: nothing the Content-Security-Policy would block)."""

    score: float | None         # 0-100, None: unscored
    low: float | None           # approve_below, 0-100
    high: float | None          # reject_above, 0-100
    band: str                   # "ham", "review", "spam" or "none"

    @property
    def marker_x(self) -> float:
        return 0.0 if self.score is None else round(min(max(self.score - 0.8, 0.0), 98.4), 2)


def _percent(value: float) -> float:
    return round(min(max(value, 0.0), 1.0) * 100, 2)


def score_bar(score: float | None, bands: Bands | None) -> ScoreBar:
    if bands is None:
        return ScoreBar(None if score is None else _percent(score), None, None, "none")
    low, high = sorted((bands.approve_below, bands.reject_above))
    if score is None:
        band = "none"
    elif score >= high:
        band = "spam"
    elif score >= low:
        band = "review"
    else:
        band = "ham"
    return ScoreBar(None if score is None else _percent(score), _percent(low), _percent(high), band)


@dataclass(frozen=True, slots=True)
class ThreadRow:
    comment: Comment
    depth: int


MAX_DEPTH = 6


def thread_rows(comments: Iterable[Comment]) -> list[ThreadRow]:
    """The comments as a tree in reading order: each reply after its parent
    (when the parent is among them), replies by id; depth capped for display."""
    comments = sorted(comments, key=lambda c: c.id)
    present = {c.id for c in comments}
    children: dict[int | None, list[Comment]] = {}
    for comment in comments:
        parent = comment.parent_id if comment.parent_id in present else None
        children.setdefault(parent, []).append(comment)
    rows: list[ThreadRow] = []
    stack = [(c, 0) for c in reversed(children.get(None, []))]
    while stack:
        comment, depth = stack.pop()
        rows.append(ThreadRow(comment, min(depth, MAX_DEPTH)))
        stack.extend((c, depth + 1) for c in reversed(children.get(comment.id, [])))
    return rows


def web_link(url: str | None) -> str | None:
    """*url* when it is an http(s) address a page may link to, else None."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def query_url(path: str, params: Mapping[str, str], **changes: str | None) -> str:
    """*path* with *params* changed (None removes one); empty values dropped."""
    merged = {k: v for k, v in params.items() if v}
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return f"{path}?{urlencode(merged)}" if merged else path
