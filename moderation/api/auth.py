"""Moderator authentication: a token in ``Authorization: Bearer``.

401 without a valid moderator token (a site key is not one), 403 when the
moderator lacks the role or the site.
"""
from __future__ import annotations

from aiohttp import web

from ..credentials import bearer_token, hash_secret
from ..domain import Moderator, Role
from ..errors import forbidden, unauthorized
from ..keys import MODERATOR, STORE


async def require_moderator(request: web.Request, *, role: Role | None = None,
                            site_id: int | None = None) -> Moderator:
    moderator = request.get(MODERATOR)
    if moderator is None:
        token = bearer_token(request.headers.get("Authorization"))
        if token is None:
            raise unauthorized()
        moderator = await request.app[STORE].moderator_by_token_hash(hash_secret(token))
        if moderator is None:
            raise unauthorized()
        request[MODERATOR] = moderator
    if role is Role.ADMIN and moderator.role is not Role.ADMIN:
        raise forbidden()
    if site_id is not None and not moderator.may_moderate(site_id):
        raise forbidden()
    return moderator
