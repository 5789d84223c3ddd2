"""Cheap checks made before scoring, in order, each switchable by a setting.

1. honeypot: a filled honeypot field marks a bot (reason ``honeypot``);
2. rate per IP prefix (/24 IPv4, /48 IPv6) and per e-mail (its canonical
   form), over one minute: beyond the limit the submission is refused
   (:class:`~moderation.domain.RateLimitExceeded`, answered 429 with Retry-After);
3. the same body from the same e-mail within the duplicate window (reason
   ``duplicate``: never auto-published).

The counts come from the store (so they hold across worker processes); this
module only judges them, before scoring, to spare the scorer a refused
comment. The store counts again, atomically with the insert
(:meth:`~moderation.store.base.Store.insert_comment` with :meth:`GuardPolicy.limits`):
concurrent submissions that all passed this early look cannot all be written.
Nothing here knows HTTP.
"""
from __future__ import annotations

import hashlib
import ipaddress
import unicodedata
from dataclasses import dataclass

from .domain import CommentIn, RateLimitExceeded, RateLimits, Reason, RecentActivity
from .email_domains import confusable_with, is_disposable

RATE_WINDOW_SECONDS = 60.0
IPV4_PREFIX = 24
IPV6_PREFIX = 48


def ip_prefix(ip: str) -> str:
    """The network an address belongs to (``203.0.113.0/24``, ``2001:db8:1::/48``);
    ``""`` for no address. This, not the address, is what comments keep."""
    if not ip:
        return ""
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    bits = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    host_bits = address.max_prefixlen - bits
    return f"{type(address)(int(address) >> host_bits << host_bits)}/{bits}"


def body_fingerprint(body: str) -> str:
    """Hash of the body with case and white space folded, for duplicate checks."""
    folded = " ".join(unicodedata.normalize("NFKC", body).casefold().split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


DUPLICATE_TEXT_MIN_CHARS = 40
"""Shorter texts ("Merci !", "Great article, thanks.") are written alike by
different readers: the same text from several e-mails counts only from here."""


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    honeypot_check: bool = True
    rate_limit_per_ip: int = 10
    rate_limit_per_email: int = 5
    duplicate_window_seconds: int = 600
    email_domain_check: bool = True

    @classmethod
    def from_settings(cls, settings) -> "GuardPolicy":
        return cls(honeypot_check=settings.honeypot_check,
                   rate_limit_per_ip=settings.rate_limit_per_ip,
                   rate_limit_per_email=settings.rate_limit_per_email,
                   duplicate_window_seconds=settings.duplicate_window_seconds,
                   email_domain_check=settings.email_domain_check)

    def limits(self, comment: CommentIn) -> RateLimits:
        """The rate limits of *comment*, for the store to enforce with the insert.
        The IP limit applies only to a reader's IP the website forwarded: the
        connection's own address is the website's server, shared by every reader."""
        return RateLimits(per_ip=self.rate_limit_per_ip if comment.client.ip else 0,
                          per_email=self.rate_limit_per_email, window_seconds=RATE_WINDOW_SECONDS)

    @property
    def needs_history(self) -> bool:
        return bool(self.rate_limit_per_ip or self.rate_limit_per_email
                    or self.duplicate_window_seconds)


def judge(comment: CommentIn, recent: RecentActivity, policy: GuardPolicy, now: float) -> tuple[Reason, ...]:
    """The guard's reasons for *comment*; raises RateLimitExceeded when a rate
    limit is already reached."""
    reasons: list[Reason] = []
    if policy.honeypot_check and comment.honeypot.strip():
        reasons.append(Reason.HONEYPOT)
    limits, waits = policy.limits(comment), []
    if limits.per_ip and recent.ip_count >= limits.per_ip:
        waits.append(limits.retry_after(recent.ip_oldest_at, now))
    if limits.per_email and recent.email_count >= limits.per_email:
        waits.append(limits.retry_after(recent.email_oldest_at, now))
    if waits:
        raise RateLimitExceeded(max(waits))
    if policy.duplicate_window_seconds and recent.duplicate:
        reasons.append(Reason.DUPLICATE)
    elif (policy.duplicate_window_seconds and recent.duplicate_text
          and len(" ".join(comment.body.split())) >= DUPLICATE_TEXT_MIN_CHARS):
        reasons.append(Reason.DUPLICATE_TEXT)
    if policy.email_domain_check:
        if is_disposable(comment.author_email):
            reasons.append(Reason.DISPOSABLE_EMAIL)
        elif confusable_with(comment.author_email):
            reasons.append(Reason.CONFUSABLE_EMAIL)
    return tuple(reasons)
