"""Signing webhook deliveries, and checking a signature (for receivers and tests).

Each delivery carries ``X-Moderation-Timestamp: <Unix seconds>`` and
``X-Moderation-Signature: sha256=<hex>``, the HMAC-SHA256, keyed with the
webhook's secret, of the bytes ``<timestamp>.<body>``. Signing the timestamp
with the body lets a receiver refuse old deliveries replayed by someone who
captured one.

The secret is a signing key, not a credential of this service: it is stored as
given (the service must read it to sign) and shown once when the webhook is
created.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SIGNATURE_SCHEME = "sha256="
DEFAULT_TOLERANCE_SECONDS = 300


def new_signing_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Moderation-Signature`` value for *body* sent at *timestamp*."""
    mac = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body,
                   hashlib.sha256)
    return SIGNATURE_SCHEME + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, given: str, *, now: float,
           tolerance: float = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """Whether *given* signs *body* at *timestamp* with *secret*, and the
    timestamp is within *tolerance* seconds of *now*."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - sent_at) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, sent_at, body).encode("ascii"),
                               (given or "").encode("ascii", "replace"))
