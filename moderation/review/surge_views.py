"""What moderators see of surge mode (:mod:`moderation.surge`): the badge of a
surging thread's comments, a thread's surge history, and why a comment held
for a surge waits. Pure; the JSON shapes of ``GET /v1/review/queue`` items
(``surge``) and ``GET /v1/review/comments/{id}`` (``surge``, ``surges``,
``explanation.surge``)."""
from __future__ import annotations

from collections.abc import Iterable

from ..domain import Comment, Reason, ThreadSurge, iso
from ..records.review import LocalizedText, Surge, SurgeBadge
from .explanations import surge_explanation


def surge_badge(surge: ThreadSurge | None) -> SurgeBadge | None:
    """The thread surges now: since when, until when (None: it does not)."""
    if surge is None:
        return None
    return SurgeBadge(started_at=iso(surge.started_at), until=iso(surge.until))


def surge_view(surge: ThreadSurge, *, now: float) -> Surge:
    """One surge of a thread: its figures, start and end (``ended_at`` null
    while it is on), and the sentence that explains it."""
    return Surge(
        started_at=iso(surge.started_at), until=iso(surge.until), ended_at=iso(surge.ended(now)),
        active=surge.active(now), comments=surge.comments, threshold=surge.threshold,
        baseline=surge.baseline, window_seconds=surge.window_seconds, extensions=surge.extensions,
        text=LocalizedText(**surge_explanation(surge, now=now)["text"]))


def active_by_thread(surges: Iterable[ThreadSurge]) -> dict[tuple[int, str], ThreadSurge]:
    """Surges by (site id, thread id)."""
    return {(s.site_id, s.thread_id): s for s in surges}


def comment_surge_explanation(comment: Comment, history: list[ThreadSurge], *,
                              now: float) -> dict | None:
    """Why *comment* waits for a surge (None when it was not held for one):
    the surge of its thread it came during (the latest that started before it
    when none covers it: the record may be gone)."""
    if Reason.SURGE.value not in comment.reasons:
        return None
    during = next((s for s in history if s.covers(comment.created_at)), None)
    return surge_explanation(during, now=now)
