"""Two service instances (two apps, two pools) on one PostgreSQL database, as
behind a load balancer: rate limits, idempotency and decisions hold across them."""
import asyncio

import pytest

from moderation.app import create_app
from moderation.keys import STORE
from moderation.store.postgres import PostgresStore

from ..conftest import add_moderator, add_site, auth, comment_payload
from ..toy_model import HAM_TEXT
from .conftest import add

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pair(aiohttp_client, settings_for, postgres_url):
    """``await pair(**settings)``: two test clients on the same database."""
    async def make(**overrides):
        settings = settings_for(database_url=postgres_url, **overrides)
        first = await aiohttp_client(create_app(settings))
        second = await aiohttp_client(create_app(settings))
        assert isinstance(first.app[STORE], PostgresStore) and first.app[STORE] is not second.app[STORE]
        return first, second
    return make


async def test_both_instances_are_ready(pair):
    for client in await pair():
        response = await client.get("/readyz")
        assert response.status == 200, await response.text()


async def test_the_rate_limit_counts_comments_taken_by_either_instance(pair):
    first, second = await pair(rate_limit_per_email=2)
    key = await add_site(first)
    for n, client in enumerate((first, second)):
        response = await client.post("/v1/comments", json=comment_payload(body=f"Comment number {n} here"),
                                     headers=auth(key))
        assert response.status in (201, 202)
    response = await first.post("/v1/comments", json=comment_payload(body="A third one"), headers=auth(key))
    assert response.status == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60


async def test_one_key_sent_to_both_instances_at_once_makes_one_comment(pair):
    first, second = await pair()
    key = await add_site(first, mode="auto", lang="en")
    headers = {**auth(key), "Idempotency-Key": "burst-1"}
    responses = await asyncio.gather(*(
        client.post("/v1/comments", json=comment_payload(body=HAM_TEXT), headers=headers)
        for client in (first, second) * 4))
    bodies = [await r.json() for r in responses]
    assert len({r.status for r in responses}) == 1 and len({b["id"] for b in bodies}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 7
    thread = await second.app[STORE].thread_context(bodies[0]["id"], limit=100)
    assert [c.id for c in thread] == [bodies[0]["id"]]       # one comment, whatever its status


async def test_moderators_on_different_instances_one_wins(pair):
    first, second = await pair()
    await add_site(first, name="journal", mode="auto", lang="en")
    site = await first.app[STORE].site_by_name("journal")
    claire = await add_moderator(first, name="claire", site_ids=[site.id])
    bruno = await add_moderator(second, name="bruno", site_ids=[site.id])
    for _ in range(5):
        comment_id = await add(first.app[STORE], site.id)
        responses = await asyncio.gather(
            first.post(f"/v1/review/comments/{comment_id}/decision", headers=auth(claire),
                       json={"action": "approve", "expected_status": "pending"}),
            second.post(f"/v1/review/comments/{comment_id}/decision", headers=auth(bruno),
                        json={"action": "spam", "expected_status": "pending"}))
        assert sorted(r.status for r in responses) == [200, 409]
        assert len(await second.app[STORE].audit_trail(comment_id)) == 2
