"""Helpers for the moderators' pages: sign in through the real form, read the
CSRF token a page carries."""
from __future__ import annotations

import re

from moderation.web.session import SIGNIN_COOKIE

from ..review.conftest import desk, seed  # noqa: F401  (fixtures and helpers shared with the review tests)

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf_in(html: str) -> str:
    found = CSRF_META.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


async def sign_in(client, token, *, headers=None, next_path=None):
    """Post the sign-in form as a browser would; returns the answer (not followed)."""
    page = await client.get("/moderate/signin", headers=headers)
    assert page.status == 200, await page.text()
    form = {"csrf_token": page.cookies[SIGNIN_COOKIE].value, "token": token}
    if next_path is not None:
        form["next"] = next_path
    return await client.post("/moderate/signin", data=form, headers=headers, allow_redirects=False)


async def signed_in_page(client, token, path="/moderate", **kwargs):
    """Sign in, then fetch *path*; returns (html, csrf token)."""
    answer = await sign_in(client, token)
    assert answer.status == 303, await answer.text()
    page = await client.get(path, **kwargs)
    html = await page.text()
    assert page.status == 200, html
    return html, csrf_in(html)
