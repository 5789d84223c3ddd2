"""Time to submit: a site may send when it rendered its comment form
(``"form": {"rendered_at", "signature"}``), signed so that a bot cannot
forge it. Pure; the intake gives the clock and the hash of the key the
request was authenticated with.

The signature is HMAC-SHA256 keyed with the hex SHA-256 of the site's API
key (what the service stores), over the decimal ``rendered_at``; in Python::

    key_hash = hashlib.sha256(api_key.encode()).hexdigest()
    signature = hmac.new(key_hash.encode(), str(rendered_at).encode(), "sha256").hexdigest()

A comment sent sooner than ``MODERATION_MIN_SUBMIT_SECONDS`` after its form
was rendered gets the reason ``too_fast`` (review, never spam on its own).
"""
from __future__ import annotations

import hashlib
import hmac

from .domain import FormStamp, Reason
from .errors import FieldError
from .validation import ValidationFailed

MAX_CLOCK_SKEW_SECONDS = 300


def signature(key_hash: str, rendered_at: int) -> str:
    return hmac.new(key_hash.encode("ascii"), str(rendered_at).encode("ascii"), hashlib.sha256).hexdigest()


def time_to_submit_reasons(stamp: FormStamp | None, key_hash: str | None, *, now: float,
                           min_seconds: float) -> tuple[Reason, ...]:
    """``(too_fast,)`` or ``()``; :class:`ValidationFailed` for a stamp whose
    signature does not match or whose time is in the future."""
    if stamp is None or key_hash is None:
        return ()
    if not hmac.compare_digest(stamp.signature, signature(key_hash, stamp.rendered_at)):
        raise ValidationFailed([FieldError("form.signature", "invalid_value")])
    if stamp.rendered_at > now + MAX_CLOCK_SKEW_SECONDS:
        raise ValidationFailed([FieldError("form.rendered_at", "invalid_value")])
    return (Reason.TOO_FAST,) if min_seconds > 0 and now - stamp.rendered_at < min_seconds else ()
