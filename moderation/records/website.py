"""What websites post and read back (``/v1/comments``, the public thread pages,
counts and top threads), as typed records (see :mod:`moderation.records.schema`).
Public records have no field for e-mail, IP, user agent or score."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from ..domain import Reason, Status
from .schema import OMITTED, Count, Score, Time, doc, limits

ShownStatus = Literal[Status.PUBLISHED, Status.PENDING, Status.SPAM]


@dataclass(slots=True)
class CommentAccepted:
    DESCRIPTION = "A comment taken in: how it was decided, and the reader's thank-you."
    id: int
    status: ShownStatus
    spam_score: Score
    language: Annotated[str, doc("Detected language, or `unknown`.")]
    reasons: list[Reason]
    model_version: str | None
    message: Annotated[str, doc("A thank-you for the reader, localized.")]
    author_token: Annotated[str, limits(pattern="^mat_"), doc(
        "Lets the author edit or delete the comment (`Author-Token` header). In this answer "
        "only: a replay of an Idempotency-Key answers without it. Only its hash is kept.")] = OMITTED
    editable_until: Annotated[Time | None, doc(
        "Until when it may be edited; null: edits are off "
        "(`MODERATION_EDIT_WINDOW_SECONDS=0`).")] = OMITTED


@dataclass(slots=True)
class CommentEdited:
    DESCRIPTION = "An edited comment, decided again."
    id: int
    status: ShownStatus
    spam_score: Score
    language: str
    reasons: list[Reason]
    model_version: str | None
    message: str


@dataclass(slots=True)
class CommentDeleted:
    id: int
    deleted: Literal[True]
    message: str


@dataclass(slots=True)
class FlagCounted:
    id: int
    flags: Annotated[int, limits(minimum=1)]
    counted: Annotated[bool, doc("false: this reader had flagged it already.")]
    sent_to_review: Annotated[bool, doc("This flag sent it back to review (`MODERATION_FLAGS_TO_REVIEW`).")]


@dataclass(slots=True)
class SiteComment:
    DESCRIPTION = "One of the site's own comments: its status and public fields (never e-mail or IP)."
    id: int
    parent_id: int | None
    author_name: str
    body: Annotated[str, doc("As the reader typed it: escape it when rendering.")]
    created_at: Time
    thread: str
    status: Status
    published_at: Time | None


@dataclass(slots=True)
class PublicComment:
    DESCRIPTION = "A comment of a public thread page: what anyone may read of it."
    id: int
    parent_id: int | None
    author_name: Annotated[str | None, doc("null for a placeholder.")]
    body: Annotated[str | None, doc("As the reader typed it: escape it when rendering. null for a placeholder.")]
    created_at: Time
    replies: Annotated[Count, doc("Its published replies.")]
    removed: Annotated[bool, doc("A comment no longer shown, kept in its place because it has "
                                 "published replies: show a placeholder, then the replies.")]


@dataclass(slots=True)
class ThreadPage:
    thread: str
    sort: Literal["oldest", "newest", "replies"]
    items: list[PublicComment]
    next: Annotated[int | None, doc("`after` of the next page; null: last page.")]


@dataclass(slots=True)
class Counts:
    counts: Annotated[dict[str, Count], doc("Published comments per thread asked for.")]


@dataclass(slots=True)
class TopThread:
    thread: str
    url: str
    title: str
    count: Annotated[int, limits(minimum=1)]


@dataclass(slots=True)
class TopThreads:
    days: int
    items: list[TopThread]


@dataclass(slots=True)
class ThreadRef:
    id: str
    url: str
    title: str


#: The records of this module, for ``components.schemas``.
RECORDS = (CommentAccepted, CommentEdited, CommentDeleted, FlagCounted, SiteComment, PublicComment,
           ThreadPage, Counts, TopThread, TopThreads, ThreadRef)
