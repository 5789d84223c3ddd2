"""A commenter's data: export it (GDPR access) and erase it (GDPR erasure),
for the CLI (``moderation people export|erase``) and the admin API
(``POST /v1/admin/people/export|erase``). An address is named in a request
body or an argument, never in a URL.
"""
from __future__ import annotations

import time

from ..review.privacy import parse_person_request, person_export
from ..store.base import Store
from ..validation import ValidationFailed
from .admin import AdminError


def person_email(raw: str) -> str:
    """The address a people request names, as the store keys it (its canonical
    form); :class:`AdminError` (usage) when *raw* cannot name one."""
    try:
        return parse_person_request({"email": raw})
    except ValidationFailed:
        raise AdminError(f"{raw!r} cannot name an e-mail address", usage=True) from None


async def export_person(store: Store, email: str, now: float | None = None) -> dict:
    """Every comment written with *email*, its IPs and history (GDPR access)."""
    return person_export(email, await store.person_data(email),
                         now=time.time() if now is None else now)


async def erase_person(store: Store, email: str, *, actor: str, now: float | None = None) -> list[int]:
    """Anonymise every comment written with *email* (the audit trail stays);
    the ids of the comments changed."""
    return await store.erase_person(email, actor=actor, now=time.time() if now is None else now)
