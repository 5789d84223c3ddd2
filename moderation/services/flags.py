"""Readers' flags: a reader of a site marks a published comment (spam,
abuse, off topic, other). Each reader counts once per comment: the site names
the reader (``reader``: its own user or session id) or the service falls back
on the reader's network, and only a hash of it, salted with the site, is
kept. The flag that brings the count to ``MODERATION_FLAGS_TO_REVIEW`` sends
the comment back to review with reason ``reader_flags`` (once: a comment a
moderator published again stays published, its later flags counted). Flags
keep counting while it waits there (readers' pages show it a while longer),
so the queue ordered by ``flags`` puts the most flagged first."""
from __future__ import annotations

import hashlib
import time

from ..domain import FLAG_REASONS, Comment, FlagOutcome, NotFound, Reason, Site, Status
from ..errors import FieldError
from ..guard import ip_prefix
from ..store.base import Store
from ..validation import ValidationFailed

MAX_READER_CHARS = 200
FIELDS = ("reason", "reader", "client")


def flaggable(comment: Comment) -> bool:
    """Published, or sent back to review by readers' flags and not decided since."""
    if comment.erased_at is not None:
        return False
    return comment.status is Status.PUBLISHED or (
        comment.status is Status.PENDING and Reason.READER_FLAGS.value in comment.reasons)


def reader_fingerprint(site: Site, reader: str) -> str:
    return hashlib.sha256(f"{site.id}\0{reader}".encode("utf-8")).hexdigest()


def parse_flag(payload: dict, remote: str | None) -> tuple[str, str]:
    """(reason, who flags) from a flag's JSON object; :class:`ValidationFailed`."""
    errors = [FieldError(name, "unknown_field") for name in payload if name not in FIELDS]
    reason = payload.get("reason")
    if reason not in FLAG_REASONS:
        errors.append(FieldError("reason", "invalid_choice", params={"choices": ", ".join(FLAG_REASONS)}))
    reader = payload.get("reader")
    if reader is not None and (not isinstance(reader, str) or not reader.strip()
                               or len(reader) > MAX_READER_CHARS or not reader.isprintable()):
        errors.append(FieldError("reader", "invalid_value"))
    client = payload.get("client", {})
    ip = client.get("ip") if isinstance(client, dict) else None
    if "client" in payload and (not isinstance(client, dict) or set(client) - {"ip"}
                                or (ip is not None and not isinstance(ip, str))):
        errors.append(FieldError("client", "invalid_value"))
    network = ""
    if not errors and reader is None:
        try:
            network = ip_prefix(ip or remote or "")
        except ValueError:
            errors.append(FieldError("client.ip", "invalid_ip"))
        if not network and not errors:
            errors.append(FieldError("reader", "required"))
    if errors:
        raise ValidationFailed(errors)
    return reason, f"reader:{reader}" if reader is not None else f"network:{network}"


async def flag(store: Store, settings, *, site: Site, comment_id: int, payload: dict,
               remote: str | None = None, now: float | None = None) -> FlagOutcome:
    """Take a reader's flag on one of *site*'s :func:`flaggable` comments;
    NotFound for any other."""
    reason, who = parse_flag(payload, remote)
    comment = await store.get_comment(comment_id)
    if comment is None or comment.site_id != site.id or not flaggable(comment):
        raise NotFound()
    outcome = await store.flag_comment(comment_id, reader=reader_fingerprint(site, who), reason=reason,
                                       now=time.time() if now is None else now,
                                       threshold=settings.flags_to_review)
    if outcome is None:
        raise NotFound()
    return outcome
