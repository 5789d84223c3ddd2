"""Privacy operations, for admins: export and erase what is held about an
e-mail address.

Both are POSTs with ``{"email": "..."}``, so the address never appears in a
URL, an access log or a proxy's cache. The same operations, in
:mod:`moderation.services.people`, serve the CLI (``moderation people export|erase``).
"""
from __future__ import annotations

from aiohttp import web

from ..jsonanswer import json_response
from ..domain import Role
from ..errors import validation_failed
from ..keys import STORE
from ..records import to_json
from ..records.review import PersonErased
from ..review.privacy import parse_person_request
from ..services import people
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
    return json_response(await people.export_person(request.app[STORE], email), headers=NO_STORE)


async def erase_person(request: web.Request) -> web.Response:
    """200 with the ids of the comments anonymised (none: nothing held)."""
    moderator = await require_moderator(request, role=Role.ADMIN)
    email = await _email(request)
    ids = await people.erase_person(request.app[STORE], email, actor=moderator.name)
    return json_response(to_json(PersonErased(erased=len(ids), comment_ids=ids)), headers=NO_STORE)
