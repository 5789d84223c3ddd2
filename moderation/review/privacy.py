"""A commenter's data, exported by e-mail address (the right of access). Pure.

The export holds every comment written with the address (not erased), with
its site, thread, text, status, score, the truncated and (while retention
keeps it) the full IP, the user agent and referrer, and its audit trail.
Erasure (:meth:`~moderation.store.base.Store.erase_person`) blanks all of that
but keeps the comment's place in its thread and the audit trail of who
decided what, without the commenter.
"""
from __future__ import annotations

from typing import Any

from ..errors import FieldError
from ..validation import ValidationFailed
from ..domain import iso
from ..records import review as records
from ..records import to_json
from ..records.website import ThreadRef
from .views import event_record

MAX_EMAIL_CHARS = 254
EMAIL_FIELDS = ("email",)


def person_export(email: str, data, *, now: float) -> dict:
    """The JSON document for one address from the store's
    :class:`~moderation.store.base.PersonData`."""
    return to_json(records.PersonExport(email=email, exported_at=iso(now), comments=[
        records.ExportedComment(
            id=c.id, site=data.sites.get(c.site_id),
            thread=ThreadRef(id=c.thread_id, url=c.thread_url, title=c.thread_title), parent_id=c.parent_id,
            author=records.Author(name=c.author_name, email=c.author_email), body=c.body,
            language=c.language, status=c.status, spam_score=c.spam_score, model_version=c.model_version,
            reasons=list(c.reasons),
            client=records.ExportedClient(ip_prefix=c.ip_prefix, ip=data.full_ips.get(c.id),
                                          user_agent=c.user_agent, referrer=c.referrer),
            created_at=iso(c.created_at), published_at=iso(c.published_at),
            history=[event_record(e) for e in data.events.get(c.id, [])])
        for c in data.comments]))


def parse_person_request(payload: Any) -> str:
    """The address of a ``{"email": "..."}`` body, or :class:`ValidationFailed`.

    A non-blank string of at most :data:`MAX_EMAIL_CHARS` printable characters;
    unknown fields are refused by name. The address is not re-validated: every
    stored one was, and an old one must stay findable."""
    if not isinstance(payload, dict):
        raise ValidationFailed([FieldError("", "invalid_type", {"expected": "object"})])
    errors = [FieldError(key, "unknown_field") for key in payload if key not in EMAIL_FIELDS]
    value = payload.get("email")
    if value is None:
        errors.append(FieldError("email", "required"))
    elif not isinstance(value, str):
        errors.append(FieldError("email", "invalid_type", {"expected": "string"}))
    elif not value.strip():
        errors.append(FieldError("email", "blank"))
    elif len(value) > MAX_EMAIL_CHARS:
        errors.append(FieldError("email", "too_long", {"max": MAX_EMAIL_CHARS}))
    elif not value.isprintable():
        errors.append(FieldError("email", "control_characters"))
    if errors:
        raise ValidationFailed(errors)
    return value.strip()
