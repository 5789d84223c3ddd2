"""The nouns of the service: statuses, site modes, reason codes, and the records
that flow between validation, guard, scoring, policy and the store.

Everything here is plain data: no I/O, no framework types.
"""
from __future__ import annotations

import datetime as dt
import enum
import functools
import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import idna


class Status(str, enum.Enum):
    """Where a comment stands. Only ``published`` comments are ever shown publicly."""

    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    SPAM = "spam"


class Mode(str, enum.Enum):
    """A site's moderation mode.

    ``pre``: nothing is published without a moderator. ``auto``: clear ham is
    published at once.
    """

    PRE = "pre"
    AUTO = "auto"


class Reason(str, enum.Enum):
    """Why a comment got its status: returned to the site and shown to moderators."""

    HONEYPOT = "honeypot"
    DUPLICATE = "duplicate"
    NO_MODEL = "no_model"
    EMPTY_TEXT = "empty_text"
    LANGUAGE_UNSUPPORTED = "language_unsupported"
    MODEL_SPAM = "model_spam"
    MODEL_UNCERTAIN = "model_uncertain"
    MODEL_HAM = "model_ham"
    PRE_MODERATION = "pre_moderation"
    #: Drawn for the audit sample: the model's bands would have decided it alone
    #: (published with ``model_ham``, or held as spam with ``model_spam``, which
    #: the comment keeps), but it waits for a moderator so that their verdicts
    #: measure the model's error rates (``MODERATION_AUDIT_SHARE``).
    AUDIT = "audit"
    #: A reply the policy would have published (``model_ham``) whose parent is
    #: still pending: it waits for its parent, and a moderator publishing the
    #: parent publishes it too (a reply is never shown before its parent).
    PARENT_PENDING = "parent_pending"
    #: Its thread was in surge mode (``moderation.surge``): comments far faster
    #: than the site's threads usually get them. It waits for a moderator
    #: because the model was unsure of it or its author had no published
    #: comment on the site yet (clear spam stays ``spam``; clear ham from a
    #: known author is published as usual).
    SURGE = "surge"
    #: The same text (case and spacing aside), long enough not to be a stock
    #: reply, posted on the site by another e-mail within the duplicate window:
    #: one sender under several names. Never published without a moderator.
    DUPLICATE_TEXT = "duplicate_text"
    #: Submitted sooner after its form was rendered than a person types
    #: (``MODERATION_MIN_SUBMIT_SECONDS``, the site's signed form time).
    TOO_FAST = "too_fast"
    #: The e-mail's domain is a throw-away mailbox, or imitates a well-known
    #: provider (``gmial.com``): review at worst, never spam on its own.
    DISPOSABLE_EMAIL = "disposable_email"
    CONFUSABLE_EMAIL = "confusable_email"
    #: Rules moderators set on an author (their e-mail, its domain, or their
    #: network): banned (held as spam), shadow-banned (held as spam, answered
    #: to the site as if decided as usual), watched (always reviewed), trusted
    #: (published where the model alone would have sent it to review).
    AUTHOR_BANNED = "author_banned"
    AUTHOR_SHADOW_BANNED = "author_shadow_banned"
    AUTHOR_WATCHED = "author_watched"
    AUTHOR_TRUSTED = "author_trusted"
    #: A published comment enough readers flagged (``MODERATION_FLAGS_TO_REVIEW``):
    #: back to review until a moderator decides.
    READER_FLAGS = "reader_flags"
    #: Its author edited it (``PATCH /v1/comments/{id}``) while it waited for a
    #: moderator, or after one had decided it: a moderator reads the new text.
    EDITED = "edited"
    #: Its author deleted it (``DELETE /v1/comments/{id}``): hidden, text gone.
    AUTHOR_DELETED = "author_deleted"


#: Why a reader may flag a comment.
FLAG_REASONS = ("spam", "abuse", "off_topic", "other")

#: What the admin desk may set (``moderation.services.admin``, ``moderation.services.authors``):
#: the languages a site may declare, the bounds of its automatic trust and of a key
#: rotation's overlap, a moderator's sites, an author rule's value and note.
SITE_LANGUAGES = ("fr", "en")
MAX_AUTO_TRUST_AFTER = 1000
MAX_KEY_OVERLAP_HOURS = 24 * 30
DEFAULT_KEY_OVERLAP_HOURS = 24.0
MAX_SITES_PER_MODERATOR = 1000
MAX_RULE_VALUE_CHARS = 320
MAX_RULE_NOTE_CHARS = 500


class Role(str, enum.Enum):
    MODERATOR = "moderator"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Moderator:
    """A person with a token. ``site_ids`` empty: every site."""

    id: int
    name: str
    role: Role
    site_ids: tuple[int, ...] = ()
    created_at: float = 0.0
    revoked: bool = False   # a revoked token and its sessions no longer sign in

    def may_moderate(self, site_id: int) -> bool:
        return self.role is Role.ADMIN or not self.site_ids or site_id in self.site_ids


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    name: str
    url: str
    lang: str
    mode: Mode
    approve_below: float | None = None
    reject_above: float | None = None
    created_at: float = 0.0
    #: Trust an author once moderators approved this many of their comments on
    #: the site and rejected none (``moderation.services.authors``); 0: never.
    auto_trust_after: int = 0


@dataclass(frozen=True, slots=True)
class ThreadIn:
    """The article a comment belongs to, as the website names it."""

    id: str
    url: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """The reader's connection, as forwarded by the website (or seen by us)."""

    ip: str = ""
    user_agent: str = ""
    referrer: str = ""


@dataclass(frozen=True, slots=True)
class FormStamp:
    """When the site rendered its comment form (Unix seconds), signed by the
    site: ``signature`` = HMAC-SHA256, keyed with the hex SHA-256 of the
    site's API key, of ``str(rendered_at)``, in hex."""

    rendered_at: int
    signature: str


@dataclass(frozen=True, slots=True)
class CommentIn:
    """A validated submission: every string NFC-normalized and within limits."""

    thread: ThreadIn
    author_name: str
    author_email: str
    body: str
    parent_id: int | None = None
    client: ClientInfo = field(default_factory=ClientInfo)
    honeypot: str = ""
    form: FormStamp | None = None


def canonical_email(address: str) -> str:
    """The one identity of an e-mail address, used by rate limits, duplicate
    checks, people export/erase and author history alike.

    Policy: the local part is NFKC-normalized and case-folded (RFC 5321 lets a
    mail server treat ``Casey`` and ``casey`` as two mailboxes, but no provider
    our readers use does, and an attacker would use it to dodge the limits);
    the domain is lower-cased and written as its IDNA A-label
    (``élodie@exämple.fr`` is ``élodie@xn--exmple-cua.fr``). Nothing else is
    folded: dots and ``+tags`` stay, as they do at most providers. A domain
    IDNA refuses is case-folded as it stands. ``""`` stays ``""``."""
    address = unicodedata.normalize("NFKC", address.strip())
    local, at, domain = address.rpartition("@")
    if not at:
        return address.casefold()
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        ascii_domain = domain.casefold()
    return f"{local.casefold()}@{ascii_domain.lower()}"


@dataclass(frozen=True, slots=True)
class RateLimits:
    """At most *per_ip* comments from one IP prefix and *per_email* from one
    address (:func:`canonical_email`) on a site within *window_seconds*, the
    new one included; 0 turns a limit off. The store enforces them in the same
    atomic step as the insert, across workers and hosts."""

    per_ip: int = 0
    per_email: int = 0
    window_seconds: float = 60.0

    def __bool__(self) -> bool:
        return bool(self.per_ip or self.per_email)

    def retry_after(self, oldest_at: float | None, now: float) -> int:
        """Seconds until the oldest comment counted leaves the window (at least 1)."""
        if oldest_at is None:
            return int(self.window_seconds)
        return max(1, math.ceil(oldest_at + self.window_seconds - now))


class RateLimitExceeded(Exception):
    """A comment the store refused to write because a :class:`RateLimits`
    bound was reached; *retry_after* in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit reached; retry after {retry_after} s")
        self.retry_after = retry_after


class IdempotencyKeyReused(Exception):
    """An Idempotency-Key sent again with another request than the one it was
    first used for."""

    def __init__(self) -> None:
        super().__init__("idempotency key reused for another request")


@dataclass(frozen=True, slots=True)
class ThreadRule:
    """What a moderator set on one thread: closed (new comments refused, 409
    ``thread_closed``) since *closed_at*, or pre-moderated (every new comment
    waits for a moderator, reason ``pre_moderation``)."""

    thread: str
    closed_at: float | None = None
    premoderated: bool = False

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


@dataclass(frozen=True, slots=True)
class AdminEvent:
    """A change ops or an admin made, recorded with who made it: *action* is
    ``site.update``, ``site.key_rotated``, ``moderator.update``,
    ``moderator.revoked``, ``thread.update``; *detail* holds the values before
    and after."""

    id: int
    at: float
    actor: str
    action: str
    site_id: int | None
    target: str
    detail: dict


@dataclass(frozen=True, slots=True)
class FlagOutcome:
    """A reader's flag taken: the comment's flags now, whether this one was
    new (a reader flags once), and whether it sent the comment back to review."""

    flags: int
    new: bool
    sent_to_review: bool
    status: str


class RuleAction(str, enum.Enum):
    """What an author rule does, strongest first."""

    BAN = "ban"
    SHADOW_BAN = "shadow_ban"
    WATCH = "watch"
    TRUST = "trust"


class RuleKind(str, enum.Enum):
    """What an author rule matches: the canonical e-mail, its domain, or the
    network (the IP prefix the intake keeps)."""

    EMAIL = "email"
    DOMAIN = "domain"
    IP = "ip"


@dataclass(frozen=True, slots=True)
class AuthorRule:
    """A moderator's rule on one site's authors, until *expires_at* (None: for good)."""

    id: int
    site_id: int
    kind: RuleKind
    value: str
    action: RuleAction
    note: str = ""
    expires_at: float | None = None
    created_by: str = ""
    created_at: float = 0.0

    def active(self, now: float) -> bool:
        return self.expires_at is None or self.expires_at > now


def author_keys(email: str, ip_prefix: str) -> dict[RuleKind, str]:
    """What a comment's author is matched on: its canonical e-mail, the
    e-mail's domain, its network."""
    canonical = canonical_email(email)
    keys = {RuleKind.EMAIL: canonical, RuleKind.DOMAIN: canonical.rpartition("@")[2]}
    if ip_prefix:
        keys[RuleKind.IP] = ip_prefix
    return {kind: value for kind, value in keys.items() if value}


def strongest_rule(rules, email: str, ip_prefix: str, now: float) -> AuthorRule | None:
    """Of *rules* (one site's), the strongest active one matching the author."""
    keys = author_keys(email, ip_prefix)
    order = list(RuleAction)
    matching = [r for r in rules if r.active(now) and keys.get(r.kind) == r.value]
    return min(matching, key=lambda r: order.index(r.action), default=None)


class ThreadClosed(Exception):
    """A comment posted to a thread a moderator closed."""

    def __init__(self, thread: str) -> None:
        super().__init__(f"thread {thread!r} is closed")
        self.thread = thread


class AuthorTokenInvalid(Exception):
    """An author's edit or deletion without the token their comment was given."""


class EditRefused(Exception):
    """An author's edit or deletion the comment does not allow now: *code*
    ``edit_window_closed`` or ``comment_not_editable`` (held as spam, rejected
    by a moderator, erased)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class NotFound(Exception):
    """What was asked for does not exist (or is not this caller's to know of)."""


class OutOfScope(Exception):
    """A moderator acting on a site that is not theirs, or lacking the role."""


class InvalidParameter(Exception):
    """A query parameter with a value that names nothing (*field*: its name)."""

    def __init__(self, field: str) -> None:
        super().__init__(f"invalid value for {field}")
        self.field = field


class DecisionConflict(Exception):
    """A moderator's decision on a comment that was no longer in the expected
    status; *outcome* (a ``store.base.DecisionOutcome``) says its state now."""

    def __init__(self, outcome: Any) -> None:
        super().__init__(f"comment {outcome.comment_id} is {outcome.status} now")
        self.outcome = outcome


@dataclass(frozen=True, slots=True)
class Decision:
    status: Status
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class NewComment:
    """Everything the store writes for one accepted comment."""

    site_id: int
    thread: ThreadIn
    parent_id: int | None
    author_name: str
    author_email: str
    body: str
    body_hash: str
    language: str
    spam_score: float | None
    model_version: str | None
    status: Status
    reasons: tuple[Reason, ...]
    ip_prefix: str
    ip_full: str
    user_agent: str
    referrer: str
    created_at: float
    #: The shadowed candidate model's opinion, when one is shadowed: its version,
    #: score and band (``publish``, ``review`` or ``spam`` at its own thresholds).
    shadow_version: str | None = None
    shadow_score: float | None = None
    shadow_band: str | None = None
    #: The SHA-256 of the token its author may edit or delete it with.
    author_token_hash: str | None = None


class PublicComment(NamedTuple):
    """What a public answer may say about a comment, and all the store reads for
    one: e-mail, IP and score are not even loaded on the public path."""

    id: int
    parent_id: int | None
    author_name: str | None   # None, like body, for a placeholder
    body: str | None
    created_at: float
    replies: int = 0          # its published replies
    removed: bool = False     # no longer shown, kept as a placeholder for its replies


@dataclass(frozen=True, slots=True)
class Comment:
    """A stored comment. Holds private fields: never serialize it whole."""

    id: int
    site_id: int
    thread_id: str
    parent_id: int | None
    author_name: str
    author_email: str
    body: str
    language: str
    spam_score: float | None
    model_version: str | None
    status: Status
    reasons: tuple[str, ...]
    ip_prefix: str
    user_agent: str
    referrer: str
    created_at: float
    published_at: float | None = None
    thread_url: str = ""
    thread_title: str = ""
    updated_at: float | None = None
    erased_at: float | None = None   # set when the author's data was erased
    flag_count: int = 0              # readers' flags (moderation.services.flags)


#: Webhook events: ``comment.<status>``, sent when a comment gets that status
#: (on intake, by a decision, a rescore or an erasure); ``model.drift``, sent once
#: when a drift episode of the site starts (moderation.services.drift_monitor).
WEBHOOK_EVENTS: tuple[str, ...] = (*(f"comment.{s.value}" for s in Status), "model.drift")


#: What an erased comment's author name becomes (its e-mail, body, IP and
#: user agent become empty).
ERASED_AUTHOR = "[erased]"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One step in a comment's history: who moved it from which status to which.

    ``actor`` is ``intake``, ``rescore``, or a moderator's name; ``action`` is
    ``submit``, ``rescore``, a moderator's ``approve`` / ``reject`` / ``spam``,
    or ``erase``. ``model_version`` and ``spam_score`` are the comment's at the
    time of the event.
    """

    id: int
    comment_id: int
    at: float
    actor: str
    action: str
    from_status: str | None
    to_status: str
    reason: str = ""
    note: str = ""
    model_version: str | None = None
    spam_score: float | None = None


@dataclass(frozen=True, slots=True)
class ThreadCount:
    thread_id: str
    url: str
    title: str
    count: int


# -- thresholds, moderators' actions and the review queue's order: shared by the
# policy, the review rules and the store (which sorts the queue in SQL).
@dataclass(frozen=True, slots=True)
class Bands:
    """A pair of thresholds on P(spam): ``score < approve_below`` is ham,
    ``score >= reject_above`` spam, between them review. Built freely (a site's
    override may cross the model's); :meth:`checked` is for values read from a
    model or chosen by training, which must be finite and in order."""

    approve_below: float
    reject_above: float

    @classmethod
    def checked(cls, approve_below: float, reject_above: float) -> "Bands":
        """The thresholds, or ValueError unless finite with approve_below <= reject_above."""
        if not (math.isfinite(approve_below) and math.isfinite(reject_above)):
            raise ValueError("thresholds must be finite numbers")
        if approve_below > reject_above:
            raise ValueError(
                f"approve_below ({approve_below}) must not exceed reject_above ({reject_above})")
        return cls(float(approve_below), float(reject_above))

    def as_dict(self) -> dict[str, float]:
        return {"approve_below": self.approve_below, "reject_above": self.reject_above}


class Action(str, enum.Enum):
    APPROVE = "approve"
    REJECT = "reject"
    SPAM = "spam"


DECISION_ACTIONS = tuple(a.value for a in Action)
"""The ``action`` of the audit events moderators write."""

QUEUE_STATUSES = (Status.PENDING.value, Status.SPAM.value)
"""The statuses a comment waits in for a moderator: the queue and the spam folder."""
UNSCORED_KEY = -1.0
"""The ``uncertain`` order's key of a comment the model did not score: first."""
MIN_BAND_WIDTH = 1e-6


class Order(str, enum.Enum):
    UNCERTAIN = "uncertain"
    OLDEST = "oldest"
    SCORE = "score"
    SAFEST = "safest"
    FLAGS = "flags"      # most flagged by readers first

    @property
    def descending(self) -> bool:
        """Whether larger keys come first (ties always by ascending id)."""
        return self in (Order.SCORE, Order.FLAGS)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which comments a queue page or count looks at. ``site_ids`` None: every site."""

    status: str = Status.PENDING.value
    site_ids: tuple[int, ...] | None = None
    thread: str | None = None
    language: str | None = None
    reason: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    created_before: float | None = None   # from min_age
    created_after: float | None = None    # from max_age


@dataclass(frozen=True, slots=True)
class Cursor:
    order: Order
    key: float
    id: int


def uncertainty(score: float | None, bands: Bands) -> float:
    """The ``uncertain`` order's key (smaller: more uncertain); see the module doc."""
    if score is None:
        return UNSCORED_KEY
    middle = (bands.approve_below + bands.reject_above) / 2.0
    width = abs(bands.reject_above - bands.approve_below)
    return abs(score - middle) / (width if width > MIN_BAND_WIDTH else MIN_BAND_WIDTH)


def sort_key(order: Order, score: float | None, created_at: float, bands: Bands, flags: int = 0) -> float:
    """The sort key of one comment in *order* (what the store computes in SQL)."""
    if order is Order.UNCERTAIN:
        return uncertainty(score, bands)
    if order is Order.OLDEST:
        return created_at
    if order is Order.FLAGS:
        return float(flags)
    if order is Order.SCORE:
        return -1.0 if score is None else score
    return 2.0 if score is None else score


# -- what the store reads for the intake's rules (guard.py, surge.py)
@dataclass(frozen=True, slots=True)
class RecentActivity:
    """What the store saw recently from this submission's sources, on this site."""

    ip_count: int = 0
    ip_oldest_at: float | None = None
    email_count: int = 0
    email_oldest_at: float | None = None
    duplicate: bool = False
    duplicate_text: bool = False   # the same text from another e-mail, in the duplicate window
    # Surge mode (moderation.surge), when the read named a thread: its comments
    # since the window's start (counted up to the cap asked for), the end of its
    # surge on record (None: none), and whether the e-mail has a published comment.
    thread_count: int = 0
    surge_until: float | None = None
    author_published: bool = False


@dataclass(frozen=True, slots=True)
class ThreadSurge:
    """One surge of one thread, as the store keeps it.

    ``until``: decisions are stricter until then (pushed back while the surge
    lasts). ``ended_at``: when its end was recorded (``until`` then), None
    while it is on (or over but not yet recorded: :meth:`ended` says).
    ``comments``, ``threshold``, ``baseline`` and ``window_seconds``: the figures
    that started it (``baseline`` None: the site had no baseline)."""

    id: int
    site_id: int
    thread_id: str          # the site's own id of the thread
    started_at: float
    until: float
    ended_at: float | None
    comments: int
    threshold: int
    baseline: float | None
    window_seconds: float
    extensions: int = 0

    def active(self, now: float) -> bool:
        return self.ended_at is None and self.until > now

    def ended(self, now: float) -> float | None:
        """When it ended (its ``until``), None while it is on."""
        if self.ended_at is not None:
            return self.ended_at
        return None if self.until > now else self.until

    def covers(self, at: float) -> bool:
        """Whether a comment created at *at* came during this surge."""
        return self.started_at <= at <= self.until


@functools.lru_cache(maxsize=16_384)
def iso(timestamp: float | None) -> str | None:
    """UTC ISO 8601 to the millisecond (``2026-11-28T21:33:36.123Z``), the one
    time format of every answer, page, export and webhook; None stays None.
    Remembers recent answers: a public page formats one per comment, and the
    same pages are read again and again."""
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")
