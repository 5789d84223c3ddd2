"""Helpers for the moderators' side: a site or two, moderators, and comments
seeded with chosen scores (the toy model's probabilities are never asserted)."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from moderation import cli
from moderation.domain import NewComment, Reason, Status, ThreadIn
from moderation.guard import body_fingerprint
from moderation.keys import STORE
from moderation.store.base import DecisionRequest

from ..conftest import add_moderator, add_site, auth
from ..toy_model import TOY_VERSION


@dataclass
class Desk:
    """A running app with two sites, a moderator of each, an admin."""

    client: object
    key: str             # site "journal" (auto, en)
    other_key: str       # site "blog" (pre, fr)
    site_id: int
    other_site_id: int
    claire: str          # moderator of journal
    paul: str            # moderator of blog
    admin: str

    @property
    def store(self):
        return self.client.app[STORE]


@pytest.fixture
async def desk(client):
    key = await add_site(client, name="journal", mode="auto", lang="en")
    other_key = await add_site(client, name="blog", mode="pre", lang="fr", url="https://blog.example")
    store = client.app[STORE]
    site, other = await store.site_by_name("journal"), await store.site_by_name("blog")
    return Desk(client=client, key=key, other_key=other_key, site_id=site.id, other_site_id=other.id,
                claire=await add_moderator(client, name="claire", site_ids=[site.id]),
                paul=await add_moderator(client, name="paul", site_ids=[other.id]),
                admin=await add_moderator(client, name="ada", role="admin"))


@pytest.fixture
def run_cli(monkeypatch, settings_for):
    """``await run_cli(*args)``: the real CLI on the test app's database."""
    settings = settings_for()
    monkeypatch.setenv("MODERATION_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MODERATION_MODEL_DIR", settings.model_dir)
    monkeypatch.setenv("MODERATION_LOG_LEVEL", "WARNING")

    async def run(*args):
        return await asyncio.to_thread(cli.main, list(args))
    return run


async def seed(store, site_id, *, score=0.5, status=Status.PENDING, created_at=None, language="en",
               reasons=(Reason.MODEL_UNCERTAIN,), thread="article-1", body=None,
               email="reader@example.fr", name="Reader", model_version="toy-20260101T000000Z",
               ip="203.0.113.7", parent_id=None) -> int:
    """Write one comment straight to the store, as the intake would have."""
    now = time.time() if created_at is None else created_at
    body = body or f"Seeded comment scored {score} at {now}"
    result = await store.insert_comment(NewComment(
        site_id=site_id, thread=ThreadIn(id=thread, url=f"https://journal.example/{thread}",
                                         title=thread.title()),
        parent_id=parent_id, author_name=name, author_email=email, body=body,
        body_hash=body_fingerprint(body), language=language, spam_score=score,
        model_version=model_version if score is not None else None, status=status,
        reasons=tuple(reasons), ip_prefix="203.0.113.0/24" if ip else "", ip_full=ip,
        user_agent="Mozilla/5.0 (test)", referrer="", created_at=now))
    return result.comment_id


async def get_json(client, path, token, **params):
    response = await client.get(path, params=params, headers=auth(token))
    return response.status, await response.json()


async def decide(client, token, comment_id, action, expected="pending", **extra):
    response = await client.post(f"/v1/review/comments/{comment_id}/decision", headers=auth(token),
                                 json={"action": action, "expected_status": expected, **extra})
    return response.status, await response.json()


async def decided(store, site_id, scores, action, *, audited=False, language="en",
                  version=TOY_VERSION):
    """Comments with those scores, decided *action* by a moderator; *audited*:
    they came through the audit sample (a published-band decision audited)."""
    reasons = (Reason.MODEL_HAM, Reason.AUDIT) if audited else (Reason.MODEL_UNCERTAIN,)
    ids = [await seed(store, site_id, score=score, language=language, model_version=version,
                      reasons=reasons, body=f"what-if {action} {audited} {n} {score}")
           for n, score in enumerate(scores)]
    new = Status.PUBLISHED.value if action == "approve" else Status.SPAM.value
    outcomes = await store.apply_decisions(
        [DecisionRequest(comment_id=i, expected_status="pending", new_status=new, actor="claire",
                         action=action) for i in ids], now=time.time())
    assert {o.outcome for o in outcomes} == {"decided"}
