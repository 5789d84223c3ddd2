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

from ..domain import Comment, Moderator, NewComment, Site, ThreadCount
from ..guard import RecentActivity


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


def open_store(database_url: str) -> Store:
    """The store for a ``MODERATION_DATABASE_URL`` (not yet opened)."""
    if database_url.startswith("sqlite:"):
        from .sqlite import SQLiteStore
        return SQLiteStore.from_url(database_url)
    if database_url.startswith(("postgresql:", "postgres:")):
        raise StoreError("PostgreSQL support is not built yet; use sqlite:///PATH")
    raise StoreError(f"unsupported database URL {database_url!r}: use sqlite:///PATH")
