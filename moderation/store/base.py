"""The store contract: what the service needs from a database, nothing more.

Every backend (SQLite now, PostgreSQL for scale-out) implements :class:`Store`
and passes the same contract suite (``tests/store``). Times are Unix seconds
(float, UTC). Methods that write commit before they return: once a write
method's coroutine completes, the change is durable.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

from ..domain import (AdminEvent, AuditEvent, AuthorRule, FlagOutcome, Bands, Comment, Cursor, Moderator, NewComment, Order,
                      PublicComment, QueueFilter, RateLimits, Reason,
                      RecentActivity, Site, Status, ThreadCount, ThreadRule, ThreadSurge)


class StoreError(Exception):
    """A database problem the caller may report (not a bug in the request)."""


class DatabaseMissing(StoreError):
    """A SQLite file that does not exist, opened with ``create=False``."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no database at {path}")
        self.path = path


class DatabaseUnavailable(StoreError):
    """The database server cannot be reached right now: down, restarting,
    refusing connections, a connection lost mid-query, or no pooled connection
    within the time allowed. Nothing is wrong with the request: it may be
    tried again (the service answers 503 ``database_unavailable`` with
    Retry-After). The server's own exception is the ``__cause__``."""


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

#: The audit event of a reply published because its parent was: ``actor``,
#: ``action`` and ``reason`` (the note names the parent). Not a moderator's
#: decision, so never a training label.
RELEASE_ACTOR, RELEASE_ACTION, RELEASE_REASON = "system", "release", "parent_published"

#: The reasons of a reply the policy would have published (the model's ham
#: band) that waits only for its pending parent: replies held for anything
#: else (pre-moderation, audit, duplicate...) wait for a moderator.
HELD_FOR_PARENT = frozenset({Reason.MODEL_HAM.value, Reason.PARENT_PENDING.value})


def held_only_for_parent(reasons) -> bool:
    """Whether a pending reply with *reasons* is published with its parent."""
    return {getattr(r, "value", r) for r in reasons} == HELD_FOR_PARENT


def parent_release_note(parent_id: int) -> str:
    return f"published with its parent #{parent_id}"


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
class AuditCount:
    """Audited comments (reason ``audit``) of one site and detected language
    whose latest moderator decision, made in the window, was *action*.
    ``band`` is where the model put them: ``ham`` (reason ``model_ham``: it
    would have published them) or ``spam`` (``model_spam``: it would have held
    them)."""

    site_id: int
    site: str
    language: str
    band: str
    action: str
    count: int


@dataclass(frozen=True, slots=True)
class ScoredLabel:
    """A moderator's standing verdict on a scored comment: ``label`` ``ham``
    (approved) or ``spam``, with the score (and the comment's language) that
    the model version asked for gave it. ``audited``: the comment came to the
    moderator through the audit sample (reason ``audit``), a uniform draw among
    the model's automatic decisions, not because the model was unsure."""

    comment_id: int
    score: float
    label: str
    language: str
    audited: bool = False


@dataclass(frozen=True, slots=True)
class PersonData:
    """Everything held about one e-mail address."""

    comments: list[Comment]
    sites: dict[int, str]                  # site id -> name, for those comments
    full_ips: dict[int, str]               # comment id -> full address still held
    events: dict[int, list[AuditEvent]]    # comment id -> its audit trail


@dataclass(frozen=True, slots=True)
class SigninAttempt:
    """:meth:`Store.begin_signin_attempt`'s answer: an attempt id to go on
    with, or (``attempt_id`` None) the seconds to wait."""

    attempt_id: int | None
    retry_after: int = 0


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


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where a site's comment events are POSTed. ``secret`` is the HMAC key the
    deliveries are signed with (kept as given: it signs, it authenticates nothing
    here)."""

    id: int
    site_id: int
    site: str                     # the site's name
    url: str
    events: tuple[str, ...]       # among domain.WEBHOOK_EVENTS
    created_at: float
    secret: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class WebhookInfo:
    """A webhook (without its secret) and the state of its outbox."""

    webhook: Webhook
    queued: int                   # not delivered yet, not dead
    delivered: int
    dead: int                     # gave up after the last attempt
    last_delivered_at: float | None
    last_error: str               # of the newest undelivered row that has one, else ""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One claimed outbox row: an event to POST to one webhook, with the comment
    as it is now (None only if it vanished meanwhile)."""

    id: int
    webhook_id: int
    url: str
    secret: str = field(repr=False)
    event: str
    status: str                   # the status the change set
    occurred_at: float
    attempts: int                 # attempts made before this one
    site: str
    comment: Comment | None
    drift: DriftEpisode | None = None   # the episode of a model.drift event (comment None)


@dataclass(frozen=True, slots=True)
class TrainingLabel:
    """A label a site sent (Akismet submit-spam / submit-ham): text and label only."""

    id: int
    site: str
    body: str
    label: str                    # "spam" | "ham"
    language: str
    source: str                   # "akismet"
    created_at: float


@dataclass(frozen=True, slots=True)
class DriftCount:
    """Comments of one site counted by :meth:`Store.drift_counts`: in the
    window (``current``) or before it, in a left-out interval (``excluded``) or
    not, by score bin (-1: not scored by the model version asked for) and
    detected language."""

    current: bool
    excluded: bool
    score_bin: int
    language: str
    count: int


@dataclass(frozen=True, slots=True)
class DriftEpisode:
    """A site's drift episode (moderation.services.drift_monitor): from the
    measure that found a PSI above the threshold to the one that found every
    PSI back below the lower bound (``ended_at`` None while it lasts). The
    figures are those of the measure that started it."""

    id: int
    site_id: int
    site: str                     # the site's name
    started_at: float
    ended_at: float | None
    reference: str                # "model" (held-out predictions) or "traffic" (the site's earlier comments)
    model_version: str | None
    threshold: float
    score_psi: float | None
    language_psi: float | None
    comments: int                 # comments in the window
    reference_comments: int       # comments of the reference (held-out rows for "model")


#: The columns :func:`drift_episode_from` reads, of ``drift_episodes d`` (both backends).
DRIFT_EPISODE_COLUMNS = """d.id, d.site_id, d.started_at, d.ended_at, d.reference, d.model_version,
    d.threshold, d.score_psi, d.language_psi, d.comments, d.reference_comments"""
DRIFT_EPISODE_WIDTH = 11


def drift_episode_from(row: Any, site: str) -> DriftEpisode | None:
    """A row of :data:`DRIFT_EPISODE_COLUMNS` as an episode (None when ``d.id`` is NULL)."""
    if row[0] is None:
        return None
    return DriftEpisode(id=row[0], site_id=row[1], site=site, started_at=row[2], ended_at=row[3],
                        reference=row[4], model_version=row[5], threshold=row[6], score_psi=row[7],
                        language_psi=row[8], comments=row[9], reference_comments=row[10])


#: Model reload requests kept (``model_reloads`` rows); older ones are deleted.
KEPT_MODEL_RELOADS = 100


@dataclass(frozen=True, slots=True)
class ModelWorker:
    """One worker process's model, as it last recorded it (see
    :meth:`Store.record_model_worker`)."""

    worker: str                  # "host:pid", unique among running workers
    generation: int              # the latest model generation it has applied
    model_version: str | None    # the model it serves (None: none loaded)
    loaded_at: float | None      # when that model was loaded
    error: str | None            # why its last reload failed; None when it loaded
    heartbeat_at: float
    shadow_version: str | None = None   # the candidate it shadows (None: none)
    shadow_error: str | None = None     # why it could not load the candidate asked for


@dataclass(frozen=True, slots=True)
class ModelChange:
    """One row of the model changes log (see :meth:`Store.record_model_change`)."""

    id: int
    action: str                  # shadow, unshadow, promote or rollback
    version: str | None          # the candidate, or the version made live
    previous_version: str | None  # the live version it replaced (promote, rollback)
    actor: str
    at: float


@dataclass(frozen=True, slots=True)
class ShadowRow:
    """A comment scored by both the live model and a shadowed candidate, with
    the moderators' standing verdict on it when there is one."""

    comment_id: int
    site_id: int
    language: str
    live_version: str | None
    live_score: float | None
    shadow_version: str
    shadow_score: float | None
    shadow_band: str
    created_at: float
    label: str | None            # ham (approved), spam (marked spam), None (no verdict)


def shadow_row(row: Any) -> ShadowRow:
    """A row of :meth:`Store.shadow_rows`' query (both backends) as a ShadowRow."""
    status, decision = row[9], row[10]
    label = ("ham" if decision == "approve" and status == "published" else
             "spam" if decision == "spam" and status == "spam" else None)
    return ShadowRow(comment_id=row[0], site_id=row[1], language=row[2], live_version=row[3],
                     live_score=row[4], shadow_version=row[5], shadow_score=row[6],
                     shadow_band=row[7], created_at=row[8], label=label)


class Store(abc.ABC):
    """A database holding sites, threads, comments and their audit trail.

    **Webhook outbox.** Whenever a comment is inserted, or its ``status``
    column changes (intake, decisions, rescore, erasure, or any future path),
    the same transaction inserts one ``outbox`` row per webhook of the
    comment's site subscribed to ``comment.<new status>``: webhook id, comment
    id, event, status, ``occurred_at`` (the comment's ``created_at`` on insert,
    its new ``updated_at`` on a change, which every status change sets) and
    ``next_attempt_at = occurred_at``. Nothing is enqueued when the status
    stays the same or the site has no such webhook. SQLite does it with two
    triggers (``migrations/sqlite/0005_webhooks_labels.sql``: ``AFTER INSERT ON
    comments`` and ``AFTER UPDATE OF status ... WHEN NEW.status IS NOT
    OLD.status``); a backend may use triggers or explicit inserts, as long as
    the row commits or rolls back with the change. Outbox rows go when their
    webhook or comment is deleted (``ON DELETE CASCADE``). A ``model.drift``
    row has no comment: it names a drift episode instead (``drift_episode_id``,
    migration 0011; see :meth:`start_drift_episode`).
    """

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
    async def site_by_key_hash(self, key_hash: str, *, now: float | None = None) -> Site | None:
        """The site whose key hashes to *key_hash*: its current key, or the
        previous one until the overlap its rotation gave ends (after *now*,
        the time by default)."""

    @abc.abstractmethod
    async def update_site(self, site: Site, *, actor: str, now: float) -> Site:
        """Give the site ``site.id`` the mode, language and thresholds of *site*,
        and record an admin event ``site.update`` with the values before and
        after, in one transaction; the site as stored. :class:`KeyError` when
        no such site."""

    @abc.abstractmethod
    async def rotate_site_key(self, site_id: int, *, key_hash: str, previous_until: float,
                              actor: str, now: float) -> None:
        """Make *key_hash* the site's key; its current key keeps working until
        *previous_until* (then is forgotten: only one previous key is kept).
        Records ``site.key_rotated``."""

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

    @abc.abstractmethod
    async def list_moderators(self) -> list[Moderator]:
        """Every moderator, revoked ones included (``revoked``), by name."""

    @abc.abstractmethod
    async def moderator_by_name(self, name: str) -> Moderator | None:
        """The moderator called *name*, revoked or not."""

    @abc.abstractmethod
    async def update_moderator(self, moderator_id: int, *, role: str, site_ids: list[int],
                               actor: str, now: float) -> Moderator:
        """Set a moderator's role and sites (empty: every site), recorded as
        ``moderator.update`` with the values before and after."""

    @abc.abstractmethod
    async def revoke_moderator(self, moderator_id: int, *, actor: str, now: float) -> int:
        """Revoke a moderator: their token stops working and their sessions
        are deleted, at once, in one transaction (``moderator.revoked``);
        returns how many sessions ended."""

    # -- threads and the admin log
    @abc.abstractmethod
    async def set_thread_rule(self, site_id: int, thread_ext_id: str, *, closed: bool | None,
                              premoderated: bool | None, actor: str, now: float) -> ThreadRule:
        """Close or reopen a thread (*closed*), pre-moderate it or not
        (*premoderated*); None leaves that part as it is. A thread with no
        comment yet is created. Recorded as ``thread.update``; the rule now."""

    @abc.abstractmethod
    async def thread_rules(self, site_id: int) -> list[ThreadRule]:
        """The site's threads that are closed or pre-moderated."""

    @abc.abstractmethod
    async def admin_events(self, *, limit: int, site_id: int | None = None) -> list[AdminEvent]:
        """The latest changes ops and admins made, newest first."""

    # -- readers' flags
    @abc.abstractmethod
    async def flag_comment(self, comment_id: int, *, reader: str, reason: str, now: float,
                           threshold: int) -> FlagOutcome | None:
        """Record *reader*'s flag on a comment (once per reader: a second is
        not counted). The flag that brings a published comment's count to
        *threshold* (0: never) sends it back to review, reason
        ``reader_flags``, with an audit event by ``readers``, in the same
        transaction. None when there is no such comment."""

    @abc.abstractmethod
    async def comment_flags(self, comment_id: int) -> dict[str, int]:
        """A comment's flags, counted per reason."""

    # -- authors
    @abc.abstractmethod
    async def author_history(self, *, by: str, value: str, site_ids: list[int] | None,
                             limit: int) -> tuple[dict[str, int], list[Comment]]:
        """One author's comments on *site_ids* (None: every site), erased ones
        left out, found *by* ``email`` (the canonical address), ``ip`` (the
        prefix) or ``name``: the count per status, and the latest *limit*
        comments, newest first."""

    @abc.abstractmethod
    async def set_author_rule(self, site_id: int, *, kind: str, value: str, action: str, note: str,
                              expires_at: float | None, actor: str, now: float) -> AuthorRule:
        """Set the one rule of the site on (*kind*, *value*), replacing one
        there; recorded as ``author.rule_set``."""

    @abc.abstractmethod
    async def remove_author_rule(self, rule_id: int, *, actor: str, now: float) -> AuthorRule | None:
        """Delete a rule (``author.rule_removed``); None when there was none."""

    @abc.abstractmethod
    async def author_rules(self, site_id: int) -> list[AuthorRule]:
        """The site's author rules, expired ones included, oldest first."""

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
                              duplicate_since: float, thread_ext_id: str | None = None,
                              thread_since: float = 0.0, thread_cap: int = 0,
                              guard: bool = True) -> RecentActivity:
        """Comments on the site since *rate_since* from the IP prefix and from the
        e-mail (count and oldest time), and whether the same e-mail posted the
        same body since *duplicate_since*. E-mails are compared by
        :func:`~moderation.domain.canonical_email`.

        With *thread_ext_id* (surge mode), in the same read: ``thread_count``,
        the thread's comments (any status) created at or after *thread_since*,
        counted up to *thread_cap* at most (an index range of at most that many
        entries); ``surge_until``, the ``until`` of the thread's open surge
        (:meth:`record_surge`; None: none, passed or not); ``author_published``,
        whether the site has a published comment from the e-mail. With *guard*
        False (no rate limit nor duplicate check to judge), the guard's counts
        are not read: zero, None and False."""

    # -- surge mode (moderation.surge): one row per surge of a thread, shared by every worker and host
    @abc.abstractmethod
    async def surge_baseline(self, site_id: int, *, since: float, until: float,
                             window_seconds: float) -> dict[int, int]:
        """The site's comments created in [*since*, *until*), cut per thread into
        windows ``floor(created_at / window_seconds)``: ``{n: how many (thread,
        window) pairs held n comments}`` (pairs without comments left out)."""

    @abc.abstractmethod
    async def record_surge(self, *, site_id: int, thread_ext_id: str, now: float, until: float,
                           comments: int, threshold: int, baseline: float | None,
                           window_seconds: float) -> tuple[ThreadSurge, bool]:
        """In one transaction: record the end (``ended_at = until``) of the
        thread's open surge if its ``until`` is not after *now*; then, when the
        thread has an open surge, push its ``until`` back to *until* if that is
        later (``extensions`` + 1), else start one (``started_at = now``, the
        figures given). Returns the surge and whether it started. At most one
        open surge (``ended_at`` NULL) per thread, across processes and hosts."""

    @abc.abstractmethod
    async def end_surges(self, *, now: float) -> list[ThreadSurge]:
        """Record the end (``ended_at = until``) of every open surge whose
        ``until`` is not after *now*, and return them; each is ended once, across
        processes and hosts. When none is due it costs one indexed read."""

    @abc.abstractmethod
    async def thread_surges(self, site_id: int, thread_ext_id: str, *,
                            limit: int = 20) -> list[ThreadSurge]:
        """The thread's surges, newest first, at most *limit*."""

    @abc.abstractmethod
    async def active_surges(self, *, now: float, site_ids: list[int] | None = None,
                            thread_ids: list[str] | None = None) -> list[ThreadSurge]:
        """The open surges whose ``until`` is after *now*, of those sites and
        threads (the sites' own thread ids; all when None), by id."""

    @abc.abstractmethod
    async def stored_answer(self, site_id: int, key: str, not_before: float) -> StoredAnswer | None:
        """The answer recorded for an Idempotency-Key no older than *not_before*."""

    @abc.abstractmethod
    async def insert_comment(self, comment: NewComment,
                             idempotency: IdempotencyRecord | None = None, *,
                             limits: RateLimits | None = None) -> InsertResult:
        """Write the comment, its thread (created or refreshed), its first audit
        event, its full IP, the idempotency record and its webhook outbox rows
        (see the class docstring) in one transaction.

        When *idempotency* names a key already recorded for the site, nothing
        is written and the stored answer is returned in ``replay``.

        With *limits*, the comments of the site within the window from the
        comment's IP prefix and from its e-mail (canonical) are counted in the
        same atomic step as the insert, serialized with every other insert
        across processes and hosts: past a limit nothing is written and
        :class:`~moderation.domain.RateLimitExceeded` is raised."""

    @abc.abstractmethod
    async def parent_status(self, site_id: int, thread_ext_id: str, comment_id: int) -> Status | None:
        """The status of *comment_id* when it is a comment of that site's thread
        (erased ones included: they are ``rejected`` or ``spam``), else None.
        A reply is accepted under a ``published`` or ``pending`` parent."""

    async def is_published_in_thread(self, site_id: int, thread_ext_id: str, comment_id: int) -> bool:
        """Whether *comment_id* is a published comment of that thread."""
        return await self.parent_status(site_id, thread_ext_id, comment_id) is Status.PUBLISHED

    @abc.abstractmethod
    async def release_replies(self, parent_id: int, *, now: float) -> list[int]:
        """If *parent_id* is published, publish in one transaction its replies
        held only for it (pending, not erased, reasons exactly ``model_ham`` and
        ``parent_pending``: :func:`held_only_for_parent`), then theirs in turn,
        each with an audit event ``release`` by ``system`` (reason
        ``parent_published``, the note naming the parent) and ``published_at``
        set; return their ids (none when the parent is not published).

        :meth:`apply_decisions` and :meth:`rescore` do this themselves, in their
        own transaction, for every comment they publish; the intake calls it
        after storing a reply held for its parent, in case the parent was
        published between its check and the insert."""

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

    # -- public reads by site name (the websites' pages): None when no site has that name
    @abc.abstractmethod
    async def author_record(self, site_id: int, email: str) -> tuple[int, int]:
        """Of the site's comments by *email* (canonical form), how many a
        moderator approved, and how many one rejected or marked spam."""

    # -- an author's own comment (moderation.services.author_edits)
    @abc.abstractmethod
    async def author_token(self, comment_id: int) -> tuple[str | None, bool] | None:
        """The hash of the token the comment's author was given (None: none was)
        and whether a moderator has decided the comment; None when no such comment."""

    @abc.abstractmethod
    async def edit_comment(self, comment_id: int, *, expected_status: str, body: str, body_hash: str,
                           language: str, spam_score: float | None, model_version: str | None,
                           status: str, reasons: list[str], now: float) -> bool:
        """Replace the comment's text, its score and status, with an audit event
        ``edit`` by ``author``, if it is still in *expected_status* and not erased;
        whether it was."""

    @abc.abstractmethod
    async def delete_by_author(self, comment_id: int, *, now: float) -> str | None:
        """Hide a pending or published comment for good at its author's request:
        status ``rejected``, reason ``author_deleted``, text emptied, an audit
        event ``delete`` by ``author``. Returns the status it had (another than
        pending or published: nothing was done), None when there is no such
        comment or it was erased."""

    @abc.abstractmethod
    async def public_thread_page(self, site_name: str, thread_ext_id: str, *, after_id: int,
                                 limit: int, sort: str = "oldest") -> list[PublicComment] | None:
        """A page of the public thread *thread_ext_id* of the site named
        *site_name*, or None when no site has that name (an unknown thread is
        an empty page). The thread's published comments, each with its count of
        published replies, and, in their place, the comments no longer shown
        that have a published reply, as placeholders (``removed``; no name, no
        text), so that replies stay threaded. *sort*: ``oldest`` (by id, those
        after the id *after_id*), ``newest`` (by id descending, those before
        *after_id*; 0 for the first page) or ``replies`` (most replies first,
        then by id, skipping *after_id* rows)."""

    async def site_published_counts(self, site_name: str,
                                    thread_ext_ids: list[str]) -> dict[str, int] | None:
        """:meth:`published_counts` of the site named *site_name*, or None."""
        site = await self.site_by_name(site_name)
        if site is None:
            return None
        return await self.published_counts(site.id, thread_ext_ids)

    async def site_top_threads(self, site_name: str, *, since: float,
                               limit: int) -> list[ThreadCount] | None:
        """:meth:`top_threads` of the site named *site_name*, or None."""
        site = await self.site_by_name(site_name)
        if site is None:
            return None
        return await self.top_threads(site.id, since=since, limit=limit)

    # -- model upkeep
    @abc.abstractmethod
    async def pending_comments(self, *, after_id: int, limit: int) -> list[Comment]:
        """Pending comments with id > *after_id*, by id."""

    @abc.abstractmethod
    async def rescore(self, comment_id: int, *, spam_score: float | None, model_version: str | None,
                      new_status: str | None, reasons: list[str], now: float) -> bool:
        """Record a new score; when *new_status* is given and the comment is still
        pending, move it there with an audit event by ``rescore``. Returns whether
        the status moved.

        A reply is never published before its parent: when *new_status* is
        ``published`` and the comment's parent is not, the comment stays
        pending and its reasons become *reasons* plus ``parent_pending`` (so
        that approving the parent publishes it: :meth:`release_replies`).
        Publishing a comment publishes the replies held for it, in the same
        transaction."""

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
        ``published`` sets ``published_at`` unless it was set before.

        A comment moved to ``published`` has its replies held for it published
        in the same transaction, as :meth:`release_replies` does (they are not
        among the outcomes: their audit events say what happened)."""

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

    @abc.abstractmethod
    async def audit_counts(self, site_ids: list[int] | None, *, since: float) -> list[AuditCount]:
        """Audited comments of those sites (all when None; none when empty) that a
        moderator decided: comments whose reasons hold ``audit`` and ``model_ham``
        or ``model_spam`` (the band), counted by their latest moderator decision
        (approve, reject or spam) when it was made at or after *since*, per site,
        language, band and action; ordered by site name, language, band, action.
        Erased comments count too (their verdict and reasons remain)."""

    @abc.abstractmethod
    async def scored_labels(self, site_id: int, *, model_version: str) -> list[ScoredLabel]:
        """The site's labelled history as one model version scored it, by comment
        id: comments (not erased) whose latest moderator decision was approve
        (``ham``) or spam (``spam``) and whose status is still the one it set,
        with the spam score and model version recorded on that decision (the
        comment's score when decided: from the intake, or from a rescore while
        it waited) when that version is *model_version*."""

    # -- privacy
    @abc.abstractmethod
    async def person_data(self, email: str) -> PersonData:
        """The comments (not erased) whose author e-mail is *email*, compared by
        :func:`~moderation.domain.canonical_email`, their full IPs and audit trails."""

    # -- sign-in throttling
    @abc.abstractmethod
    async def begin_signin_attempt(self, network: str, *, now: float, window_seconds: float,
                                   max_failures: int) -> "SigninAttempt":
        """One atomic step, across processes and hosts: when *network* has fewer
        than *max_failures* attempts within the window, record one more (it
        counts as a failure until :meth:`forget_signin_attempt`) and return its
        id; else return the seconds until the oldest leaves the window.
        Attempts older than the window are deleted on the way."""

    @abc.abstractmethod
    async def forget_signin_attempt(self, attempt_id: int) -> None:
        """The attempt succeeded: it no longer counts as a failure."""

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

    # -- webhooks (see the class docstring for how events are enqueued)
    @abc.abstractmethod
    async def add_webhook(self, *, site_id: int, url: str, secret: str, events: list[str],
                          now: float) -> Webhook:
        """Record a webhook of the site for *events* (names from
        ``domain.WEBHOOK_EVENTS``); changes committed from then on enqueue."""

    @abc.abstractmethod
    async def list_webhooks(self, site_id: int | None = None) -> list[WebhookInfo]:
        """Webhooks of the site (all when None) by id, with their outbox counts:
        ``queued`` (neither delivered nor dead), ``delivered``, ``dead``, the
        latest ``delivered_at``, and ``last_error``: that of the newest row not
        delivered that has one ('' when none). Secrets are left empty."""

    @abc.abstractmethod
    async def remove_webhook(self, webhook_id: int) -> bool:
        """Delete the webhook and its outbox rows; whether it existed."""

    @abc.abstractmethod
    async def requeue_dead(self, webhook_id: int, *, now: float) -> int:
        """Make the webhook's dead rows due again (``dead_at`` and ``attempts``
        reset, ``next_attempt_at = now``); how many."""

    @abc.abstractmethod
    async def claim_deliveries(self, *, now: float, lease_until: float, lease_token: str,
                               limit: int) -> list[Delivery]:
        """Lease at most *limit* due rows, oldest ``next_attempt_at`` first, and
        return them with their webhook and comment.

        Due: not delivered, not dead, ``next_attempt_at <= now``, and not leased
        (``lease_until`` NULL or ``< now``: an expired lease is free again).
        Claiming sets ``lease_until`` and ``lease_token`` in one statement, so
        two processes never claim the same row while a lease holds (SQLite:
        ``UPDATE outbox SET ... WHERE id IN (SELECT id ... LIMIT n) AND
        (lease_until IS NULL OR lease_until < now) RETURNING id`` under its one
        writer; PostgreSQL: the inner SELECT ``FOR UPDATE SKIP LOCKED``). When
        nothing is due it should cost one indexed read, no write transaction."""

    @abc.abstractmethod
    async def finish_delivery(self, delivery_id: int, *, lease_token: str, now: float,
                              delivered: bool, next_attempt_at: float | None,
                              error: str = "") -> bool:
        """Record one attempt on a row still leased with *lease_token* (else
        nothing changes and False is returned: the lease expired and another
        process may own the row). ``attempts`` grows by one and the lease is
        cleared; then *delivered*: ``delivered_at = now``; else ``last_error =
        error`` and ``next_attempt_at`` (or, when it is None, ``dead_at = now``)."""

    @abc.abstractmethod
    async def purge_outbox(self, *, before: float) -> int:
        """Delete outbox rows delivered or dead before *before*; how many."""

    # -- training labels from sites (Akismet submit-spam / submit-ham)
    @abc.abstractmethod
    async def save_training_label(self, *, site_id: int, body: str, body_hash: str, label: str,
                                  language: str, source: str, now: float) -> None:
        """Record a label (``spam`` or ``ham``) for a text of the site: one row per
        (site, body_hash), the latest label and time replacing an earlier one."""

    @abc.abstractmethod
    async def training_labels(self, *, since: float | None, site_id: int | None, after_id: int,
                              limit: int) -> list[TrainingLabel]:
        """Labels with id > *after_id*, by id, recorded at or after *since*, of
        that site (all when None); at most *limit*."""


    # -- model reloads shared by every worker (moderation.services.model_sync)
    @abc.abstractmethod
    async def request_model_reload(self, *, requested_by: str, now: float) -> int:
        """Start a new model generation and return it: greater than every
        generation returned before on this database (the first is 1). Keeps the
        latest requests only (at least the last one)."""

    @abc.abstractmethod
    async def model_generation(self) -> int:
        """The latest generation :meth:`request_model_reload` returned, 0 before
        any. Every worker polls it: one indexed read, no write transaction."""

    @abc.abstractmethod
    async def record_model_worker(self, worker: str, *, generation: int, model_version: str | None,
                                  loaded_at: float | None, error: str | None, now: float,
                                  shadow_version: str | None = None,
                                  shadow_error: str | None = None) -> None:
        """Insert or replace *worker*'s row, its heartbeat set to *now*; also
        the worker's heartbeat when nothing else changed."""

    @abc.abstractmethod
    async def model_workers(self, *, alive_since: float) -> list[ModelWorker]:
        """The rows whose heartbeat is at or after *alive_since*, by worker."""

    @abc.abstractmethod
    async def remove_model_worker(self, worker: str) -> None:
        """Delete *worker*'s row (a worker stopping); nothing when there is none."""

    @abc.abstractmethod
    async def forget_model_workers(self, *, before: float) -> int:
        """Delete the rows whose heartbeat is before *before* (workers gone
        without a word); how many."""

    # -- model changes: shadow, promote, rollback (moderation.services.model_changes)
    @abc.abstractmethod
    async def record_model_change(self, *, action: str, version: str | None,
                                  previous_version: str | None, actor: str, now: float) -> ModelChange:
        """Append a change to the log and return it (ids grow with time)."""

    @abc.abstractmethod
    async def model_changes(self, *, limit: int = 20) -> list[ModelChange]:
        """The latest changes, newest first."""

    @abc.abstractmethod
    async def shadow_rows(self, *, shadow_version: str, since: float,
                          site_id: int | None = None) -> list[ShadowRow]:
        """Comments (not erased) created at or after *since* that *shadow_version*
        scored, oldest first, with their standing verdict: ``ham`` when the
        latest moderator decision approved it and it is still published, ``spam``
        when it marked it spam and it still is, else None."""

    # -- drift alarm (moderation.services.drift_monitor), shared by every worker and host
    @abc.abstractmethod
    async def drift_counts(self, site_id: int, *, since: float, split: float, until: float,
                           score_edges: tuple[float, ...], model_version: str | None,
                           excluded: list[tuple[float, float]] = ()) -> list[DriftCount]:
        """The site's comments (every status, erased ones too) created in
        [*since*, *until*), counted by: ``current`` (created at or after
        *split*), ``excluded`` (before *split* and in one of the [start, end)
        intervals of *excluded*), score bin and language. The bin of a comment
        whose ``model_version`` is *model_version* is ``i`` for
        ``score_edges[i] <= spam_score < score_edges[i + 1]`` (the last bin also
        holds the last edge), -1 for every other comment. One aggregate query,
        along an index on (site, ..., created_at)."""

    @abc.abstractmethod
    async def start_drift_episode(self, *, site_id: int, started_at: float, quiet_since: float,
                                  reference: str, model_version: str | None, threshold: float,
                                  score_psi: float | None, language_psi: float | None,
                                  comments: int, reference_comments: int) -> DriftEpisode | None:
        """Open a drift episode of the site and, in the same transaction, enqueue
        one ``model.drift`` outbox row (``comment_id`` NULL, ``drift_episode_id``
        the episode, status ``started``, ``occurred_at = next_attempt_at =
        started_at``) per webhook of the site subscribed to ``model.drift``.
        Nothing is written, and None returned, when the site has an open episode
        or one that ended after *quiet_since*: at most one open per site, across
        processes and hosts."""

    @abc.abstractmethod
    async def end_drift_episode(self, episode_id: int, *, ended_at: float) -> bool:
        """Set ``ended_at`` of the episode if it is open; whether this call did."""

    @abc.abstractmethod
    async def drift_episodes(self, *, since: float, site_id: int | None = None) -> list[DriftEpisode]:
        """Episodes (of the site; all when None) open, or ended at or after
        *since*, by id."""


def open_store(database_url: str, *, create: bool = True) -> Store:
    """The store for a ``MODERATION_DATABASE_URL`` (not yet opened). Opening it
    brings the schema up to date. With *create* False, opening a SQLite file
    that does not exist raises :class:`DatabaseMissing` instead of creating it
    (a PostgreSQL database is never created: it exists or fails to connect)."""
    if database_url.startswith("sqlite:"):
        from .sqlite import SQLiteStore
        return SQLiteStore.from_url(database_url, create=create)
    if database_url.startswith(("postgresql:", "postgres:")):
        try:
            from .postgres import PostgresStore
        except ImportError as exc:   # asyncpg is the optional extra "postgres"
            raise StoreError(f"PostgreSQL needs asyncpg: pip install 'moderation[postgres]' ({exc})") from exc
        return PostgresStore.from_url(database_url)
    raise StoreError(f"unsupported database URL {database_url!r}: "
                     "use sqlite:///PATH or postgresql://USER@HOST:PORT/DBNAME")
