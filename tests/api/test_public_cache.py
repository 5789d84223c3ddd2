"""Public answers are kept public_cache_seconds per process: the same bytes
within the window, the new comment after it; errors are never kept."""
import asyncio

from ..conftest import add_site
from ..toy_model import HAM_TEXTS
from .test_public import post

THREAD = "/v1/sites/journal/threads/a1/comments"
COUNTS = "/v1/sites/journal/counts?thread=a1"


async def test_a_new_comment_shows_once_the_window_has_passed(app_client):
    client = await app_client(public_cache_seconds=0.3)
    key = await add_site(client, mode="auto", lang="en")
    await post(client, key, "a1", HAM_TEXTS[0], 0)
    first = await client.get(THREAD)
    assert first.headers["Cache-Control"] == "public, max-age=1"
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert len((await first.json())["items"]) == 1
    assert (await (await client.get(COUNTS)).json())["counts"] == {"a1": 1}
    await post(client, key, "a1", HAM_TEXTS[1], 1)
    again = await client.get(THREAD)   # within the window: the same answer
    assert len((await again.json())["items"]) == 1
    assert again.headers["Cache-Control"] == "public, max-age=1"
    assert (await (await client.get(COUNTS)).json())["counts"] == {"a1": 1}
    await asyncio.sleep(0.35)
    assert len((await (await client.get(THREAD)).json())["items"]) == 2
    assert (await (await client.get(COUNTS)).json())["counts"] == {"a1": 2}
    # another query is another answer
    assert len((await (await client.get(f"{THREAD}?limit=1")).json())["items"]) == 1


async def test_errors_are_not_kept(app_client):
    client = await app_client(public_cache_seconds=60)
    assert (await client.get(THREAD)).status == 404
    await add_site(client, mode="auto", lang="en")
    response = await client.get(THREAD)
    assert response.status == 200 and (await response.json())["items"] == []


async def test_zero_keeps_nothing_and_sends_no_max_age(app_client):
    client = await app_client(public_cache_seconds=0)
    key = await add_site(client, mode="auto", lang="en")
    assert (await (await client.get(THREAD)).json())["items"] == []
    assert "Cache-Control" not in (await client.get(THREAD)).headers
    await post(client, key, "a1", HAM_TEXTS[0], 0)
    assert len((await (await client.get(THREAD)).json())["items"]) == 1
