"""Commenters: an author's history, and the rules moderators set on authors.

- :func:`history`: one author's comments on the moderator's sites, by e-mail
  (any case: the canonical address), network (an IP address or its prefix)
  or display name, with the count per status.
- :func:`set_rule` / :func:`remove_rule`: per site, **ban** (held as spam,
  reason ``author_banned``), **shadow_ban** (held as spam, reason
  ``author_shadow_banned``, while the site is answered as if it had been
  decided as usual, so a spammer does not learn of it), **watch** (always
  reviewed, ``author_watched``) or **trust** (published where it would wait
  only because the model was unsure or the site or thread is pre-moderated,
  ``author_trusted``; spam stays spam). Keyed on the canonical e-mail, the
  e-mail's domain, or the network, with an optional expiry and note; recorded
  in the admin log. When several rules match, the strongest wins (ban, shadow
  ban, watch, trust).
- :func:`earned_trust`: a site's automatic trust (its ``auto_trust_after``):
  an author with that many comments approved by moderators and none rejected
  or marked spam is trusted as if a moderator had set the rule.
- :class:`AuthorRules`: each worker's copy of a site's rules, read at most
  every ``MODERATION_SITE_CACHE_SECONDS`` (the intake asks it for every comment)
  and at once in the worker that made a change.
"""
from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

from ..domain import (MAX_RULE_NOTE_CHARS, MAX_RULE_VALUE_CHARS, AuthorRule, Comment, Moderator, NotFound, Role,
                      RuleAction, RuleKind, Site, canonical_email, strongest_rule)
from ..errors import FieldError
from ..guard import ip_prefix
from ..store.base import Store
from ..ttlcache import TTLCache
from ..validation import ValidationFailed
from .threads import site_in_scope

HISTORY_LIMIT = 100


class AuthorRules:
    """The author rules of each site, per worker."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._sites = TTLCache(seconds, clock=clock)

    async def rule_for(self, store: Store, site_id: int, email: str, network: str,
                       now: float) -> AuthorRule | None:
        rules = await self._sites.get_or_load(site_id, lambda: store.author_rules(site_id))
        return strongest_rule(rules, email, network, now) if rules else None

    def forget(self, site_id: int) -> None:
        self._sites.discard(site_id)


async def earned_trust(store: Store, site: Site, email: str) -> bool:
    """Whether *email* has earned the site's automatic trust: moderators
    approved at least ``site.auto_trust_after`` (> 0) of their comments there
    and rejected none. One indexed read: ask only when trust would change the
    decision."""
    if site.auto_trust_after <= 0:
        return False
    approved, rejected = await store.author_record(site.id, email)
    return rejected == 0 and approved >= site.auto_trust_after


def rule_value(kind: str, raw: str) -> str:
    """The key a rule of *kind* stores for *raw*; :class:`ValueError` when it
    cannot be one (an e-mail without ``@``, a domain with one, not an IP)."""
    raw = raw.strip()
    if not raw or len(raw) > MAX_RULE_VALUE_CHARS or not raw.isprintable():
        raise ValueError(raw)
    if kind == RuleKind.EMAIL.value:
        value = canonical_email(raw)
        if "@" not in value.strip("@"):
            raise ValueError(raw)
        return value
    if kind == RuleKind.DOMAIN.value:
        value = canonical_email(f"x@{raw.lstrip('@')}").rpartition("@")[2]
        if not value or "@" in raw.lstrip("@") or "." not in value:
            raise ValueError(raw)
        return value
    if "/" in raw:    # a prefix: the network the intake keeps for its addresses
        network = ipaddress.ip_network(raw, strict=False)
        return ip_prefix(str(network.network_address))
    return ip_prefix(raw)


async def set_rule(store: Store, moderator: Moderator, *, site: str, kind: str, value: str, action: str,
                   note: str = "", expires_at: float | None = None, rules: AuthorRules | None = None,
                   now: float | None = None) -> AuthorRule:
    """Set the site's rule on an author (see the module docstring)."""
    found = await site_in_scope(store, moderator, site)
    now = time.time() if now is None else now
    errors = []
    if kind not in {k.value for k in RuleKind}:
        errors.append(FieldError("kind", "invalid_choice", params={"choices": "email, domain, ip"}))
    else:
        try:
            value = rule_value(kind, value)
        except ValueError:
            errors.append(FieldError("value", "invalid_value"))
    if action not in {a.value for a in RuleAction}:
        errors.append(FieldError("action", "invalid_choice", params={"choices": "ban, shadow_ban, watch, trust"}))
    if len(note) > MAX_RULE_NOTE_CHARS:
        errors.append(FieldError("note", "too_long", params={"max": MAX_RULE_NOTE_CHARS}))
    if expires_at is not None and expires_at <= now:
        errors.append(FieldError("expires_at", "invalid_value"))
    if errors:
        raise ValidationFailed(errors)
    rule = await store.set_author_rule(found.id, kind=kind, value=value, action=action, note=note,
                                       expires_at=expires_at, actor=moderator.name, now=now)
    if rules is not None:
        rules.forget(found.id)
    return rule


async def site_rules(store: Store, moderator: Moderator, *, site: str) -> list[AuthorRule]:
    return await store.author_rules((await site_in_scope(store, moderator, site)).id)


async def remove_rule(store: Store, moderator: Moderator, *, site: str, rule_id: int,
                      rules: AuthorRules | None = None, now: float | None = None) -> AuthorRule:
    """Delete one of the site's rules; :class:`NotFound` when it has no such rule."""
    found = await site_in_scope(store, moderator, site)
    if rule_id not in {r.id for r in await store.author_rules(found.id)}:
        raise NotFound()
    removed = await store.remove_author_rule(rule_id, actor=moderator.name,
                                             now=time.time() if now is None else now)
    if removed is None:
        raise NotFound()
    if rules is not None:
        rules.forget(found.id)
    return removed


async def history(store: Store, moderator: Moderator, *, by: str, value: str,
                  limit: int = HISTORY_LIMIT) -> tuple[dict[str, int], list[Comment]]:
    """The author's comments on the moderator's sites (every site for an admin
    or a moderator of all sites), by ``email``, ``ip`` or ``name``."""
    if by == "email":
        value = canonical_email(value)
    elif by == "ip":
        try:
            value = rule_value(RuleKind.IP.value, value)
        except ValueError:
            raise ValidationFailed([FieldError("ip", "invalid_value")]) from None
    elif by != "name":
        raise ValidationFailed([FieldError("by", "invalid_value")])
    if not value:
        raise ValidationFailed([FieldError(by, "blank")])
    sites = None if moderator.role is Role.ADMIN or not moderator.site_ids else list(moderator.site_ids)
    return await store.author_history(by=by, value=value, site_ids=sites, limit=limit)
