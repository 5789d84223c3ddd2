"""Moderators' browser sessions and CSRF protection for the /moderate pages.

- Signing in posts a moderator token; the answer sets a cookie holding a new
  random session id (32 bytes). The store keeps only its SHA-256, with the
  moderator and an expiry (``MODERATION_SESSION_HOURS``); signing out deletes it.
- The cookie is ``HttpOnly; SameSite=Strict; Path=/``: the page's script calls
  the JSON API under ``/v1/review`` with it, so it must reach ``/v1`` too. Over
  HTTPS (seen directly, or through ``X-Forwarded-Proto`` when
  ``MODERATION_TRUST_FORWARDED_PROTO`` says to believe it) it is also
  ``Secure`` and named with the ``__Host-`` prefix, which pins it to this host.
- CSRF: every POST made with a session carries the session's CSRF token, in
  the form field ``csrf_token`` or the ``X-CSRF-Token`` header. The token is an
  HMAC of the session id (nothing more to store, and the page holding it does
  not reveal the id); it is compared in constant time. The sign-in form, made
  before any session exists, uses a double-submit token: a random value both
  in a short-lived cookie (``Path=/moderate/signin``) and in the form.
- Failed sign-ins are counted per IP prefix in the database
  (:meth:`~moderation.store.base.Store.begin_signin_attempt`), across workers and hosts.

The functions at the top are pure; the ones at the bottom read the request.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from aiohttp import web

from ..credentials import hash_secret
from ..domain import Moderator
from ..edge import request_cookie
from ..keys import SETTINGS, STORE, WEB_SESSION

SESSION_COOKIE = "moderation_session"
SECURE_SESSION_COOKIE = "__Host-moderation_session"
SIGNIN_COOKIE = "moderation_signin"
SIGNIN_PATH = "/moderate/signin"
SIGNIN_COOKIE_SECONDS = 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_COOKIE_CHARS = 100
PAGES_ROOT = "/moderate"

_CSRF_CONTEXT = b"moderation csrf v1"


# -- pure
def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def session_hash(session_id: str) -> str:
    """What the store keeps of a session id."""
    return hash_secret(session_id)


def csrf_token_for(session_id: str) -> str:
    """The CSRF token of a session: an HMAC keyed by its (secret) id."""
    return hmac.new(session_id.encode("utf-8"), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing or empty token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def is_https(scheme: str, forwarded_proto: str | None, *, trust_forwarded: bool) -> bool:
    """Whether the browser reached us over HTTPS. ``X-Forwarded-Proto`` counts
    only when the proxy in front is trusted to set it (its first value: the
    client-facing hop)."""
    if scheme == "https":
        return True
    if trust_forwarded and forwarded_proto:
        return forwarded_proto.split(",")[0].strip().lower() == "https"
    return False


def session_cookie_name(secure: bool) -> str:
    return SECURE_SESSION_COOKIE if secure else SESSION_COOKIE


def cookie_options(*, secure: bool, path: str, max_age: int) -> dict:
    """Keyword arguments for ``Response.set_cookie``."""
    return {"path": path, "max_age": max_age, "httponly": True, "samesite": "Strict",
            "secure": secure}


def safe_next(target: str | None) -> str:
    """Where to go after signing in or deciding: a path of the pages, never
    another site (``//evil.example``, ``/\\evil``, ``https://...``)."""
    if not target or not target.startswith(PAGES_ROOT) or "//" in target or "\\" in target:
        return PAGES_ROOT
    rest = target[len(PAGES_ROOT):]
    if rest and rest[0] not in "/?":
        return PAGES_ROOT
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return PAGES_ROOT
    return target


@dataclass(frozen=True, slots=True)
class WebSession:
    """The signed-in moderator of a request, with the session's CSRF token."""

    id: str
    moderator: Moderator
    csrf_token: str
    expires_at: float


# -- reading the request
def request_is_https(request: web.Request) -> bool:
    return is_https(request.scheme, request.headers.get("X-Forwarded-Proto"),
                    trust_forwarded=request.app[SETTINGS].trust_forwarded_proto)


async def load_session(request: web.Request) -> WebSession | None:
    """The live session whose id the request's cookie holds, if any (cached on
    the request)."""
    if WEB_SESSION in request:
        return request[WEB_SESSION]
    session_id = request_cookie(request, session_cookie_name(request_is_https(request))) or ""
    session = None
    if 0 < len(session_id) <= MAX_COOKIE_CHARS:
        record = await request.app[STORE].session_by_hash(session_hash(session_id), now=time.time())
        if record is not None:
            session = WebSession(id=session_id, moderator=record.moderator,
                                 csrf_token=csrf_token_for(session_id), expires_at=record.expires_at)
    request[WEB_SESSION] = session
    return session


def csrf_given(request: web.Request, form: dict | None = None) -> str | None:
    """The CSRF token a request carries: the header, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if form is not None:
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None
