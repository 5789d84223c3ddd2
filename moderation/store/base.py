"""The store contract: what the service needs from a database, nothing more.

Every backend (SQLite now, PostgreSQL for scale-out) implements :class:`Store`
and passes the same contract suite (``tests/store``). Times are Unix seconds
(float, UTC). Methods that write commit before they return: once a write
method's coroutine completes, the change is durable.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

from ..domain import AuditEvent, Comment, Moderator, NewComment, Site, ThreadCount
from ..guard import RecentActivity
from ..policy import Bands
from ..review.queue import Cursor, Order, QueueFilter


class StoreError(Exception):
    """A database problem the caller may report (not a bug in the request)."""


class SiteExists(StoreError):
    pass


class ModeratorExists(StoreError):
    pass


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The first answer to a keyed submission, minus the comment id."""

    key: str
    request_hash: str
    status_code: int
    answer: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """An answer given before to the same Idempotency-Key."""

    request_hash: str
    status_code: int
    answer: dict[str, Any]   # includes "id"


@dataclass(frozen=True, slots=True)
class InsertResult:
    comment_id: int
    replay: StoredAnswer | None = None   # set when the key had been used: nothing inserted


@dataclass(frozen=True, slots=True)
class QueueRow:
    """A comment of a queue page with its sort key (the next page's cursor)."""

    comment: Comment
    sort_key: float


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """Move a comment from *expected_status* to *new_status*, as *actor*."""

    comment_id: int
    expected_status: str
    new_status: str
    actor: str
    action: str
    reason: str = ""
    note: str = ""


DECIDED, CONFLICT, NOT_FOUND = "decided", "conflict", "not_found"


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    """What became of one :class:`DecisionRequest`.

    ``outcome`` is :data:`DECIDED` (``event`` is the new audit event),
    :data:`CONFLICT` (the comment was not in the expected status, or was
    erased: ``status`` is its status now, ``event`` its latest audit event) or
    :data:`NOT_FOUND` (``status`` and ``event`` None)."""

    comment_id: int
    outcome: str
    status: str | None
    event: AuditEvent | None = None
    updated_at: float | None = None
    erased: bool = False


@dataclass(frozen=True, slots=True)
class DecidedComment:
    """A comment whose latest moderator decision still stands: a label source.

    ``status`` is the status that decision set, ``decided_at`` its time and
    ``model_score`` the comment's spam score then."""

    comment_id: int
    body: str
    language: str
    site: str
    status: str
    decided_at: float
    model_score: float | None


@dataclass(frozen=True, slots=True)
class QueueDepth:
    site_id: int
    site: str
    pending: int
    spam: int
    oldest_pending_at: float | None


@dataclass(frozen=True, slots=True)
class DecisionDay:
    """Moderator decisions of one *action* on one UTC day (``day``: days since
    1970-01-01). ``judged``: those made on a scored comment, for approve and
    spam; ``overruled``: those against the model's leaning."""

    day: int
    action: str
    count: int
    judged: int
    overruled: int


@dataclass(frozen=True, slots=True)
class PersonData:
    """Everything held about one e-mail address."""

    comments: list[Comment]
    sites: dict[int, str]                  # site id -> name, for those comments
    full_ips: dict[int, str]               # comment id -> full address still held
    events: dict[int, list[AuditEvent]]    # comment id -> its audit trail


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A live browser session: whose it is and until when it lasts."""

    moderator: Moderator
    created_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class PurgeResult:
    spam_comments: int
    full_ips: int
    idempotency_keys: int


class Store(abc.ABC):
    """A database holding sites, threads, comments and their audit trail."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and bring the schema up to date."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> "Store":
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- health
    @abc.abstractmethod
    async def check_writable(self) -> None:
        """Raise :class:`StoreError` unless a write would succeed now."""

    # -- sites
    @abc.abstractmethod
    async def create_site(self, *, name: str, url: str, lang: str, mode: str,
                          key_hash: str, now: float) -> Site:
        """Raise :class:`SiteExists` when the name is taken."""

    @abc.abstractmethod
    async def list_sites(self) -> list[Site]: ...

    @abc.abstractmethod
    async def set_site_thresholds(self, site_id: int, *, approve_below: float | None,
                                  reject_above: float | None) -> None:
        """Override the model's thresholds for one site (None: use the model's)."""

    @abc.abstractmethod
    async def site_by_key_hash(self, key_hash: str) -> Site | None: ...

    @abc.abstractmethod
    async def site_by_name(self, name: str) -> Site | None: ...

    # -- moderators
    @abc.abstractmethod
    async def create_moderator(self, *, name: str, role: str, site_ids: list[int],
                               token_hash: str, now: float) -> Moderator:
        """Raise :class:`ModeratorExists` when the name is taken."""

    @abc.abstractmethod
    async def moderator_by_token_hash(self, token_hash: str) -> Moderator | None:
        """The enabled moderator holding that token, if any."""

    # -- moderators' browser sessions
    @abc.abstractmethod
    async def create_session(self, *, id_hash: str, moderator_id: int, now: float,
                             expires_at: float) -> None:
        """Record a session under *id_hash*, the hash of the random id its cookie
        holds (the id itself is never stored), lasting until *expires_at*.
        Sessions expired by *now* are deleted in the same transaction."""

    @abc.abstractmethod
    async def session_by_hash(self, id_hash: str, *, now: float) -> SessionRecord | None:
        """The session recorded under *id_hash*, with its moderator, if it has not
        expired by *now* (``expires_at > now``) and the moderator is enabled."""

    @abc.abstractmethod
    async def delete_session(self, id_hash: str) -> bool:
        """Forget the session (signing out); whether there was one."""

    # -- intake
    @abc.abstractmethod
    async def recent_activity(self, *, site_id: int, ip_prefix: str, email: str,
                              body_hash: str, rate_since: float,
                              duplicate_since: float) -> RecentActivity:
        """Comments on the site since *rate_since* from the IP prefix and from the
        e-mail (count and oldest time), and whether the same e-mail posted the
        same body since *duplicate_since*."""

    @abc.abstractmethod
    async def stored_answer(self, site_id: int, key: str, not_before: float) -> StoredAnswer | None:
        """The answer recorded for an Idempotency-Key no older than *not_before*."""

    @abc.abstractmethod
    async def insert_comment(self, comment: NewComment,
                             idempotency: IdempotencyRecord | None = None) -> InsertResult:
        """Write the comment, its thread (created or refreshed), its first audit
        event, its full IP and the idempotency record in one transaction.

        When *idempotency* names a key already recorded for the site, nothing
        is written and the stored answer is returned in ``replay``."""

    @abc.abstractmethod
    async def is_published_in_thread(self, site_id: int, thread_ext_id: str, comment_id: int) -> bool:
        """Whether *comment_id* is a published comment of that thread (a valid parent)."""

    # -- reads
    @abc.abstractmethod
    async def get_comment(self, comment_id: int) -> Comment | None: ...

    @abc.abstractmethod
    async def thread_comments(self, site_id: int, thread_ext_id: str, *, after_id: int,
                              limit: int) -> list[Comment]:
        """Published comments of a thread with id > *after_id*, oldest first."""

    @abc.abstractmethod
    async def published_counts(self, site_id: int, thread_ext_ids: list[str]) -> dict[str, int]:
        """Published comments per thread; threads without any count 0."""

    @abc.abstractmethod
    async def top_threads(self, site_id: int, *, since: float, limit: int) -> list[ThreadCount]:
        """Threads with the most comments published since *since*, most first."""

    # -- model upkeep
    @abc.abstractmethod
    async def pending_comments(self, *, after_id: int, limit: int) -> list[Comment]:
        """Pending comments with id > *after_id*, by id."""

    @abc.abstractmethod
    async def rescore(self, comment_id: int, *, spam_score: float | None, model_version: str | None,
                      new_status: str | None, reasons: list[str], now: float) -> bool:
        """Record a new score; when *new_status* is given and the comment is still
        pending, move it there with an audit event by ``rescore``. Returns whether
        the status moved."""

    # -- review
    @abc.abstractmethod
    async def review_queue(self, query_filter: QueueFilter, *, order: Order, after: Cursor | None,
                           limit: int, model_bands: Bands) -> list[QueueRow]:
        """One page of the review queue: at most *limit* comments matching the filter,
        never erased ones, sorted by *order*'s key then by id, each with its key.

        Filter: ``status`` equal; ``site_ids`` (None: any site; empty: none);
        ``thread`` the thread's external id; ``language`` equal; ``reason`` among
        the comment's reason codes; ``min_score <= spam_score <= max_score``
        (either bound excludes unscored comments); ``created_after <= created_at
        <= created_before``.

        Keys (see :mod:`moderation.review.queue`, whose :func:`sort_key` is the
        reference): ``uncertain`` ascending, computed with the site's thresholds
        where set, else *model_bands*' (each threshold on its own); ``oldest``
        ascending ``created_at``; ``score`` descending, unscored as -1;
        ``safest`` ascending, unscored as 2. With *after*, only comments strictly
        after (key, id) in that order."""

    @abc.abstractmethod
    async def queue_counts(self, query_filter: QueueFilter) -> dict[str, int]:
        """``{"pending": n, "spam": m}``: comments of each queue status matching the
        filter except its ``status`` (never erased ones)."""

    @abc.abstractmethod
    async def get_comments(self, comment_ids: list[int]) -> dict[int, Comment]:
        """The comments among *comment_ids* that exist, by id."""

    @abc.abstractmethod
    async def thread_context(self, comment_id: int, *, limit: int) -> list[Comment]:
        """The comments of *comment_id*'s thread, every status (erased ones
        too), by id: at most *limit*, around that comment (up to half of them
        before it, the rest from it on, the earlier ones filling in when few
        follow). Empty when the comment does not exist."""

    @abc.abstractmethod
    async def audit_trail(self, comment_id: int) -> list[AuditEvent]:
        """Every audit event of the comment, oldest first."""

    @abc.abstractmethod
    async def apply_decisions(self, requests: list[DecisionRequest], *,
                              now: float) -> list[DecisionOutcome]:
        """Apply moderator decisions, one outcome per request, in order, in one
        write transaction (each request on its own: one conflict does not undo
        the others).

        Each is a guarded update: the comment moves only if its status is still
        ``expected_status`` and it is not erased, and the same transaction
        writes an audit event (actor, action, from and to status, reason, note,
        and the comment's model version and spam score at that moment). Of
        concurrent decisions on one comment with the same expected status,
        across processes too, exactly one is ``decided``. Moving to
        ``published`` sets ``published_at`` unless it was set before."""

    @abc.abstractmethod
    async def decided_comments(self, *, since: float | None, site_id: int | None,
                               after_id: int, limit: int) -> list[DecidedComment]:
        """Comments with id > *after_id*, by id, whose latest moderator decision
        (audit action approve, reject or spam) was at or after *since* and set the
        status they still have; erased comments never. At most *limit*."""

    @abc.abstractmethod
    async def queue_depth(self, site_ids: list[int] | None) -> list[QueueDepth]:
        """Per site (all when None), by name: pending and spam counts (not erased)
        and the oldest pending comment's ``created_at``."""

    @abc.abstractmethod
    async def decision_days(self, site_ids: list[int] | None, *, since: float,
                            spam_leaning_at: float) -> list[DecisionDay]:
        """Moderator decisions since *since* on comments of those sites (all when
        None), per UTC day and action, oldest day first. A decision is judged
        when it is approve or spam with a score recorded on its event; it
        overrules the model when it approves a score >= *spam_leaning_at* or
        marks spam a score below it."""

    # -- privacy
    @abc.abstractmethod
    async def person_data(self, email: str) -> PersonData:
        """The comments (not erased) whose author e-mail equals *email* ignoring
        the case of ASCII letters, their full IPs and audit trails."""

    @abc.abstractmethod
    async def erase_person(self, email: str, *, actor: str, now: float) -> list[int]:
        """Erase what identifies the author of every comment :meth:`person_data`
        finds, in one transaction, and return their ids.

        Each comment keeps its id, site, thread, replies, language, score and
        audit trail; its author name becomes :data:`~moderation.domain.ERASED_AUTHOR`,
        e-mail, body, body hash, IP prefix, user agent and referrer become empty,
        ``erased_at`` is set, and a pending or published comment becomes
        ``rejected`` (hidden). Its full IP and idempotency records are deleted,
        the notes of its audit events cleared (moderators' names stay), and an
        audit event ``erase`` by *actor* is added."""

    # -- retention
    @abc.abstractmethod
    async def purge(self, *, spam_before: float, ips_before: float,
                    idempotency_before: float) -> PurgeResult:
        """In one transaction: delete comments in ``spam`` whose last change
        (``updated_at``) is before *spam_before*, with their audit trail, full IP
        and idempotency records (replies to them lose their ``parent_id``);
        delete full IPs recorded before *ips_before* and idempotency records
        made before *idempotency_before*. Returns what was deleted."""


def open_store(database_url: str) -> Store:
    """The store for a ``MODERATION_DATABASE_URL`` (not yet opened)."""
    if database_url.startswith("sqlite:"):
        from .sqlite import SQLiteStore
        return SQLiteStore.from_url(database_url)
    if database_url.startswith(("postgresql:", "postgres:")):
        try:
            from .postgres import PostgresStore
        except ImportError as exc:   # asyncpg is the optional extra "postgres"
            raise StoreError(f"PostgreSQL needs asyncpg: pip install 'moderation[postgres]' ({exc})") from exc
        return PostgresStore.from_url(database_url)
    raise StoreError(f"unsupported database URL {database_url!r}: "
                     "use sqlite:///PATH or postgresql://USER@HOST:PORT/DBNAME")
