"""Privacy operations, for admins: export and erase what is held about an
e-mail address.

Both are POSTs with ``{"email": "..."}``, so the address never appears in a
URL, an access log or a proxy's cache. The same operations exist in the CLI
(``moderation people export|erase``).
"""
from __future__ import annotations

import time

from aiohttp import web

from ..jsonanswer import json_response
from ..domain import Role
from ..errors import validation_failed
from ..keys import STORE
from ..review.privacy import parse_person_request, person_export
from ..validation import ValidationFailed
from .auth import require_moderator
from .review import read_json_object

NO_STORE = {"Cache-Control": "no-store"}


async def _email(request: web.Request) -> str:
    payload = await read_json_object(request)
    try:
        return parse_person_request(payload)
    except ValidationFailed as failed:
        raise validation_failed(failed.errors) from None


async def export_person(request: web.Request) -> web.Response:
    """200 with every comment written with the address, its IPs and history."""
    await require_moderator(request, role=Role.ADMIN)
    email = await _email(request)
    data = await request.app[STORE].person_data(email)
    return json_response(person_export(email, data, now=time.time()), headers=NO_STORE)


async def erase_person(request: web.Request) -> web.Response:
    """200 with the ids of the comments anonymised (none: nothing held)."""
    admin = await require_moderator(request, role=Role.ADMIN)
    email = await _email(request)
    ids = await request.app[STORE].erase_person(email, actor=admin.name, now=time.time())
    return json_response({"erased": len(ids), "comment_ids": ids}, headers=NO_STORE)
