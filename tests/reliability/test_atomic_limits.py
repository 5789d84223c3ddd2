"""Limits that hold under concurrency, through the real server with two worker
processes: the per-e-mail rate limit (with the address in any case) and the
sign-in throttle, on SQLite and on PostgreSQL."""
import asyncio
import re

import aiohttp
import pytest

from moderation.web.session import SIGNIN_COOKIE

from ..conftest import comment_payload
from ..server import cli, free_port, start_server
from ..store.conftest import postgres_server, postgres_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

BURST = 20
PER_EMAIL = 5
SIGNIN_LIMIT = 3


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def limited_server(request, server_env):
    """``moderation serve --workers 2`` with a per-e-mail limit of 5 and 3
    sign-in failures a minute; yields (port, site key)."""
    if request.param == "postgres":
        server_env["MODERATION_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    server_env.update(MODERATION_WORKERS="2", MODERATION_RATE_LIMIT_PER_EMAIL=str(PER_EMAIL),
                      MODERATION_SIGNIN_FAILURES_PER_MINUTE=str(SIGNIN_LIMIT))
    cli(server_env, "init")
    key = cli(server_env, "site", "add", "--name", "blog", "--url", "https://blog.example",
              "--lang", "en", "--mode", "auto")
    port = free_port()
    server = start_server(server_env, port)
    try:
        yield port, key
    finally:
        server.terminate()
        server.wait(timeout=30)


async def burst_of_comments(port, key):
    """20 comments at once from one address written five ways; each on its own
    connection, so both workers take some."""
    spellings = ["casey@example.org", "Casey@Example.org", "CASEY@EXAMPLE.ORG", "casey@EXAMPLE.org"]

    async def one(i):
        payload = comment_payload(body=f"Burst comment number {i} about the tram line.",
                                  author={"name": "Casey", "email": spellings[i % 4]})
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
            async with session.post(f"http://127.0.0.1:{port}/v1/comments", json=payload) as answer:
                return answer.status, answer.headers.get("Retry-After"), await answer.json()

    return await asyncio.gather(*(one(i) for i in range(BURST)))


def test_a_burst_from_one_address_gets_exactly_the_limit(limited_server):
    port, key = limited_server
    answers = asyncio.run(burst_of_comments(port, key))
    accepted = [a for a in answers if a[0] in (201, 202)]
    refused = [a for a in answers if a[0] == 429]
    assert len(accepted) == PER_EMAIL, answers
    assert len(refused) == BURST - PER_EMAIL, answers
    for _, retry_after, body in refused:
        assert int(retry_after) > 0 and body["error"]["code"] == "rate_limited"
    ids = {body["id"] for _, _, body in accepted}
    assert len(ids) == PER_EMAIL


async def burst_of_signins(port, n):
    """*n* sign-ins with a wrong token at once, each with its own form."""
    forms = []
    for _ in range(n):
        jar = aiohttp.CookieJar(unsafe=True)
        session = aiohttp.ClientSession(cookie_jar=jar)
        async with session.get(f"http://127.0.0.1:{port}/moderate/signin") as page:
            assert page.status == 200
            forms.append((session, page.cookies[SIGNIN_COOKIE].value))

    async def post(session, csrf):
        async with session:
            async with session.post(f"http://127.0.0.1:{port}/moderate/signin", allow_redirects=False,
                                    data={"csrf_token": csrf, "token": "mod_wrong"}) as answer:
                return answer.status, answer.headers.get("Retry-After"), await answer.text()

    return await asyncio.gather(*(post(s, c) for s, c in forms))


def test_parallel_wrong_signins_across_workers_get_the_limit_not_more(limited_server):
    port, _ = limited_server
    answers = asyncio.run(burst_of_signins(port, 12))
    statuses = sorted(a[0] for a in answers)
    assert statuses == [401] * SIGNIN_LIMIT + [429] * (12 - SIGNIN_LIMIT), statuses
    for status, retry_after, html in answers:
        if status == 429:
            assert int(retry_after) > 0
            assert re.search(r"\d+ s", html)
