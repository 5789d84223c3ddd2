"""Moderator authentication: a token in ``Authorization: Bearer``, or the
session cookie of the /moderate pages.

A request that sends an ``Authorization`` header is judged by it alone. One
without is looked up by its session cookie (:mod:`moderation.web.session`);
then every request that may change something (not GET, HEAD, OPTIONS) must
also carry the session's CSRF token in ``X-CSRF-Token`` (403 ``csrf_failed``).

401 without a valid moderator token or session (a site key is not one), 403
when the moderator lacks the role or the site.
"""
from __future__ import annotations

from aiohttp import web

from ..credentials import bearer_token, hash_secret
from ..domain import Moderator, Role
from ..errors import csrf_failed, forbidden, unauthorized
from ..keys import MODERATOR, STORE
from ..web.session import SAFE_METHODS, csrf_given, load_session, tokens_match


async def _authenticate(request: web.Request) -> Moderator:
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        token = bearer_token(authorization)
        if token is None:
            raise unauthorized()
        moderator = await request.app[STORE].moderator_by_token_hash(hash_secret(token))
        if moderator is None:
            raise unauthorized()
        return moderator
    session = await load_session(request)
    if session is None:
        raise unauthorized()
    if request.method not in SAFE_METHODS and not tokens_match(session.csrf_token, csrf_given(request)):
        raise csrf_failed()
    return session.moderator


async def require_moderator(request: web.Request, *, role: Role | None = None,
                            site_id: int | None = None) -> Moderator:
    moderator = request.get(MODERATOR)
    if moderator is None:
        moderator = await _authenticate(request)
        request[MODERATOR] = moderator
    if role is Role.ADMIN and moderator.role is not Role.ADMIN:
        raise forbidden()
    if site_id is not None and not moderator.may_moderate(site_id):
        raise forbidden()
    return moderator
