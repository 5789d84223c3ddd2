"""What moderators read of comments (``/v1/review``): queue items, audit
events, surges and decision outcomes, as typed records (see
:mod:`moderation.records.schema`). They hold private fields (e-mail, truncated
IP): moderator endpoints only."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from ..domain import Action, Order, Status
from .schema import OMITTED, Count, Score, Time, doc, limits
from .website import ThreadRef

READABLE_TOP = 6
"""Reasons in words in a comment's explanation (``readable``: what a moderator reads first)."""
FEATURES_TOP = 8
"""The model's own features kept beside them (``features``, for experts)."""


@dataclass(slots=True)
class LocalizedText:
    fr: str
    en: str


@dataclass(slots=True)
class AuditEvent:
    at: Time
    actor: str
    action: Annotated[str, doc("submit, rescore, approve, reject, spam, erase, or release (by "
                               "`system`: a reply published with its parent).")]
    from_status: Status | None
    to_status: Status
    reason: str
    note: str
    model_version: str | None
    spam_score: Score


@dataclass(slots=True)
class SurgeBadge:
    DESCRIPTION = ("The thread is in surge mode now: its new authors' comments and those the model "
                   "is unsure of wait for a moderator until `until` (pushed back while the surge lasts).")
    started_at: Time
    until: Time


@dataclass(slots=True)
class Surge:
    started_at: Time
    until: Time
    ended_at: Time | None
    active: bool
    comments: Annotated[int, limits(minimum=1), doc("Comments in the window when it started.")]
    threshold: Annotated[int, limits(minimum=1)]
    baseline: Annotated[float | None, doc("The site's baseline then; null: too little history.")]
    window_seconds: float
    extensions: Count
    text: LocalizedText


@dataclass(slots=True)
class QueueItem:
    DESCRIPTION = "One line of the queue: enough to decide on most comments at a glance."
    id: int
    site: str
    status: Status
    thread: ThreadRef
    parent_id: int | None
    author_name: str
    body: str
    language: str
    spam_score: Score
    reasons: list[str]
    model_version: str | None
    created_at: Time
    age_seconds: Count
    surge: SurgeBadge | None


@dataclass(slots=True)
class ExplanationReason:
    DESCRIPTION = "One reason a moderator understands, made of one or more model features."
    reason: Annotated[str, doc("A stable code: `words`, `language`, a signal's name (`has_link`, "
                               "`link_shortener`, `uppercase_ratio`...) or `other`. A code may appear "
                               "twice, once per direction.")]
    direction: Annotated[Literal["spam", "ham"], doc("Where it pushed the score.")]
    weight: Annotated[float, doc("How much it moved the score, summed over the model's features it "
                                 "stands for (positive: spam).")]
    text: Annotated[LocalizedText, doc("The reason in a sentence; words quoted from the comment are "
                                       "plain text, never markup.")]
    words: Annotated[list[str], doc("For `words` only: the comment's words (or phrases) it lists.")] = OMITTED


@dataclass(slots=True)
class FeatureWeight:
    feature: str
    weight: float


@dataclass(slots=True)
class SurgeExplanation:
    DESCRIPTION = ("For a comment with reason `surge`: why it waits (the thread's surge it came during, "
                   "its figures), in a sentence.")
    reason: Literal["surge"]
    text: LocalizedText


@dataclass(slots=True)
class Explanation:
    model_version: str | None
    comment_model_version: str | None
    same_model: bool
    readable: Annotated[list[ExplanationReason], limits(maxItems=READABLE_TOP), doc(
        "What a moderator reads first: what moved the score most, in words, strongest first.")]
    features: Annotated[list[FeatureWeight], limits(maxItems=FEATURES_TOP), doc(
        "For experts: the model's own features (`word:free`, `char:\" fr\"`, `signal:has_link`, "
        "`lang:en`) and how much each moved the score (positive: towards spam).")]
    surge: SurgeExplanation | None


@dataclass(slots=True)
class Author:
    name: str
    email: str


@dataclass(slots=True)
class ParentComment:
    id: int
    author_name: str
    body: str
    status: Status
    created_at: Time


@dataclass(slots=True)
class ThresholdsInEffect:
    approve_below: float
    reject_above: float
    source: Literal["site", "model"]


@dataclass(slots=True)
class ClientSeen:
    ip_prefix: str
    user_agent: str
    referrer: str


@dataclass(slots=True)
class CommentDetail(QueueItem):
    DESCRIPTION = "Everything a moderator needs to decide on one comment."
    author: Author
    client: ClientSeen
    parent: ParentComment | None
    published_at: Time | None
    erased_at: Time | None
    thresholds: ThresholdsInEffect | None
    explanation: Explanation
    history: list[AuditEvent]
    surges: Annotated[list[Surge], doc("The thread's surges, newest first (at most 20): when surge mode "
                                       "began and ended, and on what figures.")]
    flags: Annotated[dict[str, Annotated[int, limits(minimum=1)]], doc("Readers' flags, counted per reason.")]


@dataclass(slots=True)
class CurrentState:
    DESCRIPTION = "A comment's state now: who decided first."
    id: int
    status: Status
    erased: bool
    updated_at: Time | None
    last_event: AuditEvent | None


@dataclass(slots=True)
class Decided:
    id: int
    outcome: Literal["decided"]
    status: Status
    previous_status: Status | None
    action: Action
    label: Annotated[Literal["ham", "spam"] | None, doc("What the decision teaches the next model.")]
    event: AuditEvent


@dataclass(slots=True)
class QueueCounts:
    pending: int
    spam: int


@dataclass(slots=True)
class QueuePage:
    items: list[QueueItem]
    counts: QueueCounts
    order: Order
    next: Annotated[str | None, doc("Pass back as `cursor`; null: last page.")]


@dataclass(slots=True)
class Conflicted:
    id: int
    outcome: Literal["conflict"]
    current: CurrentState


@dataclass(slots=True)
class NotDecided:
    id: int
    outcome: Literal["not_found", "forbidden"]


@dataclass(slots=True)
class BulkSummary:
    decided: int
    conflict: int
    not_found: int
    forbidden: int


@dataclass(slots=True)
class BulkResult:
    action: Action
    results: Annotated[list[Decided | Conflicted | NotDecided], doc("One per id, in the order given.")]
    summary: BulkSummary


Rate = Annotated[float | None, limits(minimum=0, maximum=1)]
Judged = Annotated[int, limits(minimum=0), doc("Approved + marked spam: the sample the rate is measured "
                                               "on (a rejection is about tone, not spam).")]
Decisions = Annotated[int, limits(minimum=0), doc("Moderator decisions, every action.")]


@dataclass(slots=True)
class SiteDepth:
    site: str
    pending: int
    spam: int
    oldest_pending_at: Time | None
    oldest_pending_age_seconds: Annotated[int | None, limits(minimum=0)]


@dataclass(slots=True)
class DecisionsOnDay:
    day: Annotated[str, limits(format="date")]
    total: int
    approve: int
    reject: int
    spam: int


@dataclass(slots=True)
class Overrule:
    judged: int
    overruled: int
    rate: Rate
    spam_leaning_at: float


@dataclass(slots=True)
class AuditBand:
    DESCRIPTION = "Moderators' decisions on the audited comments of one band."
    decided: Decisions
    approve: Count
    reject: Count
    spam: Count
    judged: Judged


@dataclass(slots=True)
class AuditHamBand(AuditBand):
    DESCRIPTION = "Audited comments the model would have published (`model_ham`)."
    spam_published_rate: Annotated[Rate, doc("Marked spam / judged: an estimate of the share of spam "
                                             "among the comments the model publishes.")]


@dataclass(slots=True)
class AuditSpamBand(AuditBand):
    DESCRIPTION = "Audited comments the model would have held as spam (`model_spam`)."
    ham_held_rate: Annotated[Rate, doc("Approved / judged: an estimate of the share of ham among the "
                                       "comments the model holds as spam.")]


@dataclass(slots=True)
class AuditGroup:
    site: str
    language: Annotated[str, doc("The comments' detected language.")]
    ham_band: AuditHamBand
    spam_band: AuditSpamBand


@dataclass(slots=True)
class AuditStats:
    DESCRIPTION = ("Audited comments whose latest moderator decision falls in the window, per site and "
                   "language; null rates when none was judged.")
    share: Annotated[float, limits(minimum=0, maximum=1), doc(
        "MODERATION_AUDIT_SHARE on this server now: the share of the model's own decisions sent to "
        "review (reason `audit`).")]
    by_site_language: list[AuditGroup]


@dataclass(slots=True)
class Stats:
    days: int
    sites: list[SiteDepth]
    decisions_per_day: list[DecisionsOnDay]
    overrule: Overrule
    audit: AuditStats


@dataclass(slots=True)
class Health:
    status: Literal["ok"]


@dataclass(slots=True)
class DriftState:
    DESCRIPTION = ("A site in a drift episode (README, *Drift alarm*): its latest PSIs (null: not "
                   "judged), the reference (`model` or `traffic`), the threshold and since when.")
    score_psi: float | None
    language_psi: float | None
    reference: Literal["model", "traffic"]
    threshold: float
    since: Time
    episode: int


@dataclass(slots=True)
class Ready:
    status: Literal["ready"]
    model_version: str
    drift: Annotated[dict[str, DriftState], doc("Only while some site drifts: by site name.")] = OMITTED


@dataclass(slots=True)
class ExportedClient:
    ip_prefix: str
    ip: str | None
    user_agent: str
    referrer: str


@dataclass(slots=True)
class ExportedComment:
    id: int
    site: str | None
    thread: ThreadRef
    parent_id: int | None
    author: Author
    body: str
    language: str
    status: Status
    spam_score: float | None
    model_version: str | None
    reasons: list[str]
    client: ExportedClient
    created_at: Time
    published_at: Time | None
    history: list[AuditEvent]


@dataclass(slots=True)
class PersonExport:
    email: str
    exported_at: Time
    comments: list[ExportedComment]


@dataclass(slots=True)
class PersonErased:
    erased: Count
    comment_ids: list[int]


#: The records of this module, for ``components.schemas``.
RECORDS = (LocalizedText, AuditEvent, SurgeBadge, Surge, QueueItem, ExplanationReason, FeatureWeight,
           SurgeExplanation, Explanation, ParentComment, ThresholdsInEffect, ClientSeen, CommentDetail,
           CurrentState, Decided, QueueCounts, QueuePage, Conflicted, NotDecided, BulkSummary, BulkResult,
           SiteDepth, DecisionsOnDay, Overrule, AuditBand, AuditHamBand, AuditSpamBand, AuditGroup,
           AuditStats, Stats, Health, DriftState, Ready, Author, ExportedClient, ExportedComment,
           PersonExport, PersonErased)
