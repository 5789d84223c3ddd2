"""Cheap checks made before scoring, in order, each switchable by a setting.

1. honeypot: a filled honeypot field marks a bot (reason ``honeypot``);
2. rate per IP prefix (/24 IPv4, /48 IPv6) and per e-mail, over one minute:
   beyond the limit the submission is refused with 429 and Retry-After;
3. the same body from the same e-mail within the duplicate window (reason
   ``duplicate``: never auto-published).

The counts come from the store (so they hold across worker processes); this
module only judges them.
"""
from __future__ import annotations

import hashlib
import ipaddress
import math
import unicodedata
from dataclasses import dataclass

from .domain import CommentIn, Reason
from .errors import ApiError

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


@dataclass(frozen=True, slots=True)
class RecentActivity:
    """What the store saw recently from this submission's sources, on this site."""

    ip_count: int = 0
    ip_oldest_at: float | None = None
    email_count: int = 0
    email_oldest_at: float | None = None
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    honeypot_check: bool = True
    rate_limit_per_ip: int = 10
    rate_limit_per_email: int = 5
    duplicate_window_seconds: int = 600

    @classmethod
    def from_settings(cls, settings) -> "GuardPolicy":
        return cls(honeypot_check=settings.honeypot_check,
                   rate_limit_per_ip=settings.rate_limit_per_ip,
                   rate_limit_per_email=settings.rate_limit_per_email,
                   duplicate_window_seconds=settings.duplicate_window_seconds)

    @property
    def needs_history(self) -> bool:
        return bool(self.rate_limit_per_ip or self.rate_limit_per_email
                    or self.duplicate_window_seconds)


def _retry_after(oldest_at: float | None, now: float) -> int:
    if oldest_at is None:
        return int(RATE_WINDOW_SECONDS)
    return max(1, math.ceil(oldest_at + RATE_WINDOW_SECONDS - now))


def judge(comment: CommentIn, recent: RecentActivity, policy: GuardPolicy, now: float) -> tuple[Reason, ...]:
    """The guard's reasons for *comment*; raises a 429 :class:`ApiError` when a
    rate limit is exceeded."""
    reasons: list[Reason] = []
    if policy.honeypot_check and comment.honeypot.strip():
        reasons.append(Reason.HONEYPOT)
    waits = []
    if policy.rate_limit_per_ip and comment.client.ip and recent.ip_count >= policy.rate_limit_per_ip:
        waits.append(_retry_after(recent.ip_oldest_at, now))
    if policy.rate_limit_per_email and recent.email_count >= policy.rate_limit_per_email:
        waits.append(_retry_after(recent.email_oldest_at, now))
    if waits:
        retry_after = max(waits)
        raise ApiError(429, "rate_limited", headers={"Retry-After": str(retry_after)},
                       retry_after=retry_after)
    if policy.duplicate_window_seconds and recent.duplicate:
        reasons.append(Reason.DUPLICATE)
    return tuple(reasons)
