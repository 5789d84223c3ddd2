"""The nouns of the service: statuses, site modes, reason codes, and the records
that flow between validation, guard, scoring, policy and the store.

Everything here is plain data: no I/O, no framework types.
"""
from __future__ import annotations

import enum
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
class CommentIn:
    """A validated submission: every string NFC-normalized and within limits."""

    thread: ThreadIn
    author_name: str
    author_email: str
    body: str
    parent_id: int | None = None
    client: ClientInfo = field(default_factory=ClientInfo)
    honeypot: str = ""


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


class PublicComment(NamedTuple):
    """What a public answer may say about a comment, and all the store reads for
    one: e-mail, IP and score are not even loaded on the public path."""

    id: int
    parent_id: int | None
    author_name: str
    body: str
    created_at: float


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
