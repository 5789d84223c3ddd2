"""API keys, moderator tokens and authors' tokens: made here, stored only as hashes.

A secret is 32 random bytes (URL-safe base64) behind a short prefix that says
what it is (``msk_`` site key, ``mod_`` moderator token, ``mat_`` the token
the author of a comment may edit or delete it with, sent in the
``Author-Token`` header). Being random, a plain
SHA-256 is the right stored form: there is nothing to brute-force, and lookup
by hash is what the database indexes. Comparisons of hashes use
``hmac.compare_digest``.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

SITE_KEY_PREFIX = "msk_"
MODERATOR_TOKEN_PREFIX = "mod_"
AUTHOR_TOKEN_PREFIX = "mat_"
AUTHOR_TOKEN_HEADER = "Author-Token"


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return None
    return token
