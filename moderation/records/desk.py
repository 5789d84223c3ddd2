"""What a news desk's admins and moderators read back when they change sites,
keys, moderators, threads and author rules (``/v1/admin``, ``/v1/review``), as
typed records (see :mod:`moderation.records.schema`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from ..domain import Mode, Role, RuleAction, RuleKind
from .review import QueueItem
from .schema import Count, Time, doc, limits

Threshold = Annotated[float | None, limits(minimum=0, maximum=1)]
#: The actions of the admin log (``GET /v1/admin/events``).
AdminAction = Literal["site.update", "site.key_rotated", "moderator.update", "moderator.revoked",
                      "thread.update", "author.rule_set", "author.rule_removed"]


@dataclass(slots=True)
class SiteView:
    name: str
    url: str
    lang: str
    mode: Mode
    approve_below: Threshold
    reject_above: Threshold
    auto_trust_after: Annotated[int, limits(minimum=0), doc("See `SiteChange`; 0: never.")]
    created_at: Time


@dataclass(slots=True)
class Sites:
    sites: list[SiteView]


@dataclass(slots=True)
class KeyRotated:
    site: str
    key: Annotated[str, doc("Shown once.")]
    previous_key_until: Time


@dataclass(slots=True)
class ModeratorView:
    name: str
    role: Role
    sites: Annotated[list[str], doc("Site names; empty: every site.")]
    created_at: Time
    revoked: bool


@dataclass(slots=True)
class Moderators:
    moderators: list[ModeratorView]


@dataclass(slots=True)
class ModeratorRevoked:
    name: str
    revoked: Literal[True]
    sessions_ended: Count


@dataclass(slots=True)
class AdminEvent:
    at: Time
    actor: str
    action: AdminAction
    target: str
    detail: Annotated[dict[str, Any], doc("The values before and after.")]


@dataclass(slots=True)
class AdminEvents:
    events: list[AdminEvent]


@dataclass(slots=True)
class ThreadRule:
    site: str
    thread: str
    closed: bool
    closed_at: Time | None
    premoderated: bool


@dataclass(slots=True)
class AuthorRule:
    id: int
    site: str
    kind: RuleKind
    value: str
    action: RuleAction
    note: str
    expires_at: Time | None
    active: bool
    created_by: str
    created_at: Time


@dataclass(slots=True)
class AuthorRules:
    rules: list[AuthorRule]


@dataclass(slots=True)
class AuthorHistory:
    counts: Annotated[dict[str, Count], doc("Comments per status.")]
    comments: Annotated[list[QueueItem], doc("Newest first.")]


#: The records of this module, for ``components.schemas``.
RECORDS = (SiteView, Sites, KeyRotated, ModeratorView, Moderators, ModeratorRevoked, AdminEvent,
           AdminEvents, ThreadRule, AuthorRule, AuthorRules, AuthorHistory)
