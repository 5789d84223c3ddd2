"""Small helpers shared by the handlers: authentication and query parameters."""
from __future__ import annotations

from aiohttp import web

from ..credentials import bearer_token, hash_secret
from ..domain import Site
from ..errors import ApiError, FieldError, not_found, unauthorized
from ..keys import SITE, SITE_KEY_HASH, SITES, STORE

async def authenticate_site(request: web.Request) -> Site:
    """The site whose key is in ``Authorization: Bearer``; 401 otherwise."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        raise unauthorized()
    site = await site_by_key(request, token)
    if site is None:
        raise unauthorized()
    request[SITE] = site
    request[SITE_KEY_HASH] = hash_secret(token)
    return site


async def site_by_key(request: web.Request, key: str) -> Site | None:
    """The site whose API key is *key* (through the app's ``SiteCache``), or None."""
    return await request.app[SITES].by_key_hash(hash_secret(key), request.app[STORE].site_by_key_hash)


async def site_by_name(request: web.Request) -> Site:
    site = await request.app[STORE].site_by_name(request.match_info["site"])
    if site is None:
        raise not_found()
    return site


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ApiError(400, "invalid_parameter",
                       fields=[FieldError(name, "invalid_value", {"min": low, "max": high})])
    return value
