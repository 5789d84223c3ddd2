"""Threads a moderator closed or pre-moderated.

- :func:`set_rule`: a moderator (of that site) or an admin closes or reopens a
  thread, pre-moderates it or stops; a thread with no comment yet can be set
  ahead of its story. Recorded in the admin log (``thread.update``).
- :class:`ThreadRules`: each worker's view of the rules, read from the store
  at most every ``MODERATION_SITE_CACHE_SECONDS`` per site (the intake asks it
  for every comment: a dictionary lookup), and at once in the worker that made
  a change. Other workers and hosts follow within those seconds.

The intake (:func:`moderation.services.intake.submit`) refuses a comment on a
closed thread (:class:`~moderation.domain.ThreadClosed`, 409 ``thread_closed``)
and holds every comment of a pre-moderated one for review, reason
``pre_moderation``, as on a pre-moderated site.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from ..domain import Moderator, NotFound, OutOfScope, Site, ThreadRule
from ..errors import FieldError
from ..store.base import Store
from ..ttlcache import TTLCache
from ..validation import ValidationFailed


class ThreadRules:
    """The closed and pre-moderated threads of each site, per worker."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._sites = TTLCache(seconds, clock=clock)

    async def rule(self, store: Store, site_id: int, thread: str) -> ThreadRule | None:
        async def load() -> dict[str, ThreadRule]:
            return {rule.thread: rule for rule in await store.thread_rules(site_id)}
        return (await self._sites.get_or_load(site_id, load)).get(thread)

    def forget(self, site_id: int) -> None:
        self._sites.discard(site_id)


async def set_rule(store: Store, moderator: Moderator, *, site: str, thread: str,
                   closed: bool | None = None, premoderated: bool | None = None,
                   rules: ThreadRules | None = None, max_thread_chars: int = 200,
                   now: float | None = None) -> ThreadRule:
    """Close or reopen *thread* of *site* (by name), pre-moderate it or not;
    None leaves that part as it is. :class:`NotFound` for an unknown site,
    :class:`OutOfScope` for a site that is not the moderator's,
    :class:`ValidationFailed` for a bad thread id or nothing to change."""
    found = await site_in_scope(store, moderator, site)
    errors = []
    if not thread.strip() or len(thread) > max_thread_chars or not thread.isprintable():
        errors.append(FieldError("thread", "invalid_value"))
    if closed is None and premoderated is None:
        errors.append(FieldError("closed", "nothing_to_change"))
    if errors:
        raise ValidationFailed(errors)
    rule = await store.set_thread_rule(found.id, thread, closed=closed, premoderated=premoderated,
                                       actor=moderator.name, now=time.time() if now is None else now)
    if rules is not None:
        rules.forget(found.id)
    return rule


async def site_in_scope(store: Store, moderator: Moderator, name: str) -> Site:
    """The site called *name*: NotFound, or OutOfScope when not the moderator's."""
    found = await store.site_by_name(name)
    if found is None:
        raise NotFound()
    if not moderator.may_moderate(found.id):
        raise OutOfScope()
    return found
