"""Ops' use cases: sites (added, changed, their key rotated), moderators (added,
changed, revoked), the admin log of those changes, webhooks, label export and
retention (a commenter's data: :mod:`moderation.services.people`).

Each takes the store and plain values, returns what it made or found, and
raises :class:`AdminError` (or the store's ``SiteExists`` / ``ModeratorExists``)
with a sentence for a person; the CLI (``moderation site|moderator|webhook|
export-labels|purge``) prints, and the admin API answers, from them.
Secrets (a site's key, a moderator's token, a webhook's signing secret) are
returned once here and only their hash is stored (a webhook's secret is kept,
since the service signs with it).
"""
from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from ..credentials import MODERATOR_TOKEN_PREFIX, SITE_KEY_PREFIX, hash_secret, new_secret
from ..domain import (MAX_AUTO_TRUST_AFTER, MAX_KEY_OVERLAP_HOURS, SITE_LANGUAGES, WEBHOOK_EVENTS, AdminEvent,
                      Mode, Moderator, Role, Site)
from ..review.labels import label_rows, site_label_rows
from ..store.base import Store, Webhook
from ..webhooks.signing import new_signing_secret

LABEL_BATCH = 500


class AdminError(Exception):
    """A request ops must change: *message* says what and why; *usage* when the
    arguments themselves are wrong (the CLI's exit code 2), else a lookup that
    found nothing (exit code 1)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


async def site_named(store: Store, name: str) -> Site:
    site = await store.site_by_name(name)
    if site is None:
        raise AdminError(f"no site named {name!r}")
    return site


# -- sites
async def add_site(store: Store, *, name: str, url: str, lang: str, mode: str,
                   now: float | None = None) -> tuple[Site, str]:
    """A new site and its API key (returned once; only its hash is stored).
    Raises ``SiteExists`` when the name is taken."""
    if lang not in SITE_LANGUAGES:
        raise AdminError("--lang must be fr or en", usage=True)
    key = new_secret(SITE_KEY_PREFIX)
    site = await store.create_site(name=name, url=url, lang=lang, mode=mode, key_hash=hash_secret(key),
                                   now=time.time() if now is None else now)
    return site, key


def checked_thresholds(approve_below: float | None, reject_above: float | None) -> tuple:
    """The pair, if each lies in [0, 1.01] and approve-below is not above
    reject-above (None: the model's own); else :class:`AdminError` (usage)."""
    low, high = approve_below, reject_above
    if any(v is not None and not 0 <= v <= 1.01 for v in (low, high)) or (
            low is not None and high is not None and low > high):
        raise AdminError("thresholds lie in [0, 1] with approve-below <= reject-above", usage=True)
    return low, high


async def set_thresholds(store: Store, name: str, *, approve_below: float | None,
                         reject_above: float | None, actor: str = "cli", now: float | None = None) -> Site:
    """Override a site's thresholds (None: the model's own), recorded in the
    admin log."""
    site = await site_named(store, name)
    low, high = checked_thresholds(approve_below, reject_above)
    return await store.update_site(replace(site, approve_below=low, reject_above=high), actor=actor,
                                   now=time.time() if now is None else now)


KEEP: Any = object()
"""For :func:`change_site`'s thresholds: leave it as it is (None means the model's own)."""


async def change_site(store: Store, name: str, *, mode: str | None = None, lang: str | None = None,
                      approve_below: float | None = KEEP, reject_above: float | None = KEEP,
                      auto_trust_after: int | None = None, actor: str, now: float | None = None) -> Site:
    """Change a site's mode (``pre``: every comment waits for a moderator;
    ``auto``), language, thresholds (None: the model's own) or automatic trust
    (``auto_trust_after`` approved comments and no rejection; 0: off), in one
    record of the admin log; what is not given stays. Running servers see the
    change within ``MODERATION_SITE_CACHE_SECONDS``."""
    site = await site_named(store, name)
    if mode is not None and mode not in {m.value for m in Mode}:
        raise AdminError("--mode must be pre or auto", usage=True)
    if lang is not None and lang not in SITE_LANGUAGES:
        raise AdminError("--lang must be fr or en", usage=True)
    if auto_trust_after is not None and not 0 <= auto_trust_after <= MAX_AUTO_TRUST_AFTER:
        raise AdminError(f"--auto-trust-after lies between 0 and {MAX_AUTO_TRUST_AFTER}", usage=True)
    if mode is None and lang is None and auto_trust_after is None and approve_below is KEEP \
            and reject_above is KEEP:
        raise AdminError("nothing to change: give --mode, --lang or --auto-trust-after", usage=True)
    low, high = checked_thresholds(site.approve_below if approve_below is KEEP else approve_below,
                                   site.reject_above if reject_above is KEEP else reject_above)
    changed = replace(site, mode=Mode(mode) if mode else site.mode, lang=lang or site.lang,
                      approve_below=low, reject_above=high,
                      auto_trust_after=site.auto_trust_after if auto_trust_after is None else auto_trust_after)
    return await store.update_site(changed, actor=actor, now=time.time() if now is None else now)


async def rotate_site_key(store: Store, name: str, *, overlap_hours: float, actor: str,
                          now: float | None = None) -> tuple[Site, str, float]:
    """A new API key for the site (returned once), and until when its current
    key keeps working (*overlap_hours* from now: the time to deploy the new
    one; 0 ends it at once)."""
    site = await site_named(store, name)
    if not 0 <= overlap_hours <= MAX_KEY_OVERLAP_HOURS:
        raise AdminError(f"the overlap lies between 0 and {MAX_KEY_OVERLAP_HOURS} hours", usage=True)
    now = time.time() if now is None else now
    key = new_secret(SITE_KEY_PREFIX)
    until = now + overlap_hours * 3600
    await store.rotate_site_key(site.id, key_hash=hash_secret(key), previous_until=until, actor=actor, now=now)
    return site, key, until


# -- moderators
async def add_moderator(store: Store, *, name: str, role: str, site_names: Iterable[str],
                        now: float | None = None) -> tuple[Moderator, str]:
    """A new moderator limited to *site_names* (none: every site) and their
    token (returned once; only its hash is stored). Raises ``ModeratorExists``."""
    site_ids = [(await site_named(store, site)).id for site in site_names]
    token = new_secret(MODERATOR_TOKEN_PREFIX)
    moderator = await store.create_moderator(name=name, role=role, site_ids=site_ids,
                                             token_hash=hash_secret(token),
                                             now=time.time() if now is None else now)
    return moderator, token


async def moderator_named(store: Store, name: str) -> Moderator:
    moderator = await store.moderator_by_name(name)
    if moderator is None:
        raise AdminError(f"no moderator named {name!r}")
    return moderator


async def change_moderator(store: Store, name: str, *, role: str | None = None,
                           site_names: Iterable[str] | None = None, actor: str,
                           now: float | None = None) -> Moderator:
    """Change a moderator's role or sites (an empty list: every site),
    recorded in the admin log; effective on their next request."""
    moderator = await moderator_named(store, name)
    if role is not None and role not in {r.value for r in Role}:
        raise AdminError("--role must be moderator or admin", usage=True)
    if role is None and site_names is None:
        raise AdminError("nothing to change: give --role or --sites", usage=True)
    site_ids = (list(moderator.site_ids) if site_names is None
                else [(await site_named(store, site)).id for site in dict.fromkeys(site_names)])
    return await store.update_moderator(moderator.id, role=role or moderator.role.value, site_ids=site_ids,
                                        actor=actor, now=time.time() if now is None else now)


async def revoke_moderator(store: Store, name: str, *, actor: str, now: float | None = None) -> int:
    """Revoke a moderator: their token stops working and their browser
    sessions end, at once; how many sessions ended."""
    moderator = await moderator_named(store, name)
    return await store.revoke_moderator(moderator.id, actor=actor, now=time.time() if now is None else now)


async def admin_log(store: Store, *, limit: int = 50, site: str | None = None) -> list[AdminEvent]:
    """The latest changes to sites, moderators and threads, newest first."""
    site_id = None if site is None else (await site_named(store, site)).id
    return await store.admin_events(limit=limit, site_id=site_id)


# -- webhooks
async def add_webhook(store: Store, *, site: str, url: str, events: Iterable[str],
                      now: float | None = None) -> tuple[Webhook, str]:
    """A webhook of *site* for *events* (none: every event) and its signing secret."""
    found = await site_named(store, site)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AdminError(f"{url!r} is not an http(s) URL", usage=True)
    secret = new_signing_secret()
    webhook = await store.add_webhook(site_id=found.id, url=url, secret=secret,
                                      events=list(dict.fromkeys(events)) or list(WEBHOOK_EVENTS),
                                      now=time.time() if now is None else now)
    return webhook, secret


async def list_webhooks(store: Store, site: str | None = None) -> list:
    """Every webhook (of *site*), with its delivery counts."""
    return await store.list_webhooks(None if site is None else (await site_named(store, site)).id)


async def remove_webhook(store: Store, webhook_id: int) -> None:
    """Remove a webhook and its queued deliveries."""
    if not await store.remove_webhook(webhook_id):
        raise AdminError(f"no webhook {webhook_id}")


# -- training labels
@dataclass
class LabelCounts:
    spam: int = 0
    ham: int = 0
    from_sites: int = 0   # sent through Akismet's submit-spam / submit-ham


async def label_export(store: Store, counts: LabelCounts, *, since: float | None = None,
                       site: str | None = None) -> AsyncIterator[dict]:
    """Every training row: the moderators' decisions, then the labels sites
    sent; *counts* is updated as rows go out."""
    site_id = None if site is None else (await site_named(store, site)).id
    after = 0
    while batch := await store.decided_comments(since=since, site_id=site_id, after_id=after,
                                                limit=LABEL_BATCH):
        for row in label_rows(batch):
            setattr(counts, row["label"], getattr(counts, row["label"]) + 1)
            yield row
        after = batch[-1].comment_id
    after = 0
    while sent := await store.training_labels(since=since, site_id=site_id, after_id=after,
                                              limit=LABEL_BATCH):
        for row in site_label_rows(sent):
            setattr(counts, row["label"], getattr(counts, row["label"]) + 1)
            counts.from_sites += 1
            yield row
        after = sent[-1].id


# -- retention
@dataclass(frozen=True, slots=True)
class Purged:
    spam_comments: int
    full_ips: int
    idempotency_keys: int
    webhook_deliveries: int


async def purge(store: Store, settings, now: float | None = None) -> Purged:
    """Delete what the retention settings say is kept no longer."""
    now = time.time() if now is None else now
    result = await store.purge(spam_before=now - settings.spam_retention_days * 86400,
                               ips_before=now - settings.ip_retention_days * 86400,
                               idempotency_before=now - settings.idempotency_hours * 3600)
    deliveries = await store.purge_outbox(before=now - settings.webhook_retention_days * 86400)
    return Purged(result.spam_comments, result.full_ips, result.idempotency_keys, deliveries)
