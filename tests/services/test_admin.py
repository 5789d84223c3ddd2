"""Ops' use cases (moderation.services.admin) called directly on a SQLite file:
secrets returned once and stored hashed, refusals with a reason, a commenter's
data exported and erased, training labels exported."""
from __future__ import annotations

import time

import pytest

from moderation.credentials import hash_secret
from moderation.domain import Status
from moderation.services import admin, people
from moderation.store.base import DecisionRequest, SiteExists, open_store

from ..review.conftest import seed


@pytest.fixture
async def store(tmp_path):
    async with open_store(f"sqlite:///{tmp_path / 'admin.db'}") as opened:
        yield opened


async def test_a_site_s_key_is_given_once_and_stored_hashed(store):
    site, key = await admin.add_site(store, name="journal", url="https://journal.example",
                                     lang="fr", mode="auto")
    assert (await store.site_by_key_hash(hash_secret(key))).id == site.id
    assert await store.site_by_key_hash(key) is None   # the key itself is not what is kept
    with pytest.raises(SiteExists):
        await admin.add_site(store, name="journal", url="https://other.example", lang="en", mode="pre")
    with pytest.raises(admin.AdminError) as refused:
        await admin.add_site(store, name="blog", url="https://blog.example", lang="de", mode="auto")
    assert refused.value.usage


async def test_thresholds_are_checked_then_kept(store):
    await admin.add_site(store, name="journal", url="https://journal.example", lang="fr", mode="auto")
    with pytest.raises(admin.AdminError, match="approve-below <= reject-above"):
        await admin.set_thresholds(store, "journal", approve_below=0.9, reject_above=0.2)
    with pytest.raises(admin.AdminError, match="no site named 'nowhere'") as unknown:
        await admin.set_thresholds(store, "nowhere", approve_below=0.1, reject_above=0.9)
    assert not unknown.value.usage
    await admin.set_thresholds(store, "journal", approve_below=0.1, reject_above=0.9)
    site = await store.site_by_name("journal")
    assert (site.approve_below, site.reject_above) == (0.1, 0.9)


async def test_a_moderator_gets_a_token_for_named_sites_only(store):
    journal, _ = await admin.add_site(store, name="journal", url="https://journal.example",
                                      lang="fr", mode="auto")
    moderator, token = await admin.add_moderator(store, name="claire", role="moderator",
                                                 site_names=["journal"])
    found = await store.moderator_by_token_hash(hash_secret(token))
    assert found.name == "claire" and found.site_ids == (journal.id,)
    with pytest.raises(admin.AdminError, match="no site named 'blog'"):
        await admin.add_moderator(store, name="ada", role="admin", site_names=["blog"])


async def test_webhooks_refuse_other_schemes_and_can_be_removed(store):
    await admin.add_site(store, name="journal", url="https://journal.example", lang="fr", mode="auto")
    with pytest.raises(admin.AdminError, match="not an http"):
        await admin.add_webhook(store, site="journal", url="ftp://hooks.example/x", events=[])
    webhook, secret = await admin.add_webhook(store, site="journal", url="https://hooks.example/x",
                                              events=["comment.published", "comment.published"])
    assert webhook.events == ("comment.published",) and secret
    assert [w.webhook.id for w in await admin.list_webhooks(store, "journal")] == [webhook.id]
    await admin.remove_webhook(store, webhook.id)
    assert await admin.list_webhooks(store) == []
    with pytest.raises(admin.AdminError, match=f"no webhook {webhook.id}"):
        await admin.remove_webhook(store, webhook.id)


async def test_a_commenter_s_data_is_exported_then_erased(store):
    site, _ = await admin.add_site(store, name="journal", url="https://journal.example",
                                   lang="fr", mode="auto")
    written = await seed(store, site.id, email="Casey@Example.FR", body="Mon avis sur le tram")
    await seed(store, site.id, email="someone.else@example.fr")
    email = people.person_email("casey@example.fr")
    exported = await people.export_person(store, email)
    assert [c["id"] for c in exported["comments"]] == [written]
    assert exported["comments"][0]["body"] == "Mon avis sur le tram"

    assert await people.erase_person(store, email, actor="ops") == [written]
    erased = await store.get_comment(written)
    assert erased.erased_at is not None and "tram" not in erased.body
    assert (await people.export_person(store, email))["comments"] == []
    with pytest.raises(admin.AdminError) as bad:
        people.person_email("   ")
    assert bad.value.usage


async def test_labels_are_exported_from_decisions_and_counted(store):
    site, _ = await admin.add_site(store, name="journal", url="https://journal.example",
                                   lang="fr", mode="auto")
    spam, ham = await seed(store, site.id), await seed(store, site.id, body="Un avis honnête")
    now = time.time()
    for comment_id, action, status in ((spam, "spam", "spam"), (ham, "approve", "published")):
        await store.apply_decisions([DecisionRequest(
            comment_id=comment_id, expected_status="pending", new_status=status, actor="claire",
            action=action, reason="", note="")], now=now)
    counts = admin.LabelCounts()
    rows = [row async for row in admin.label_export(store, counts, site="journal")]
    assert sorted(row["label"] for row in rows) == ["ham", "spam"]
    assert (counts.spam, counts.ham, counts.from_sites) == (1, 1, 0)
    assert (await store.get_comment(ham)).status is Status.PUBLISHED
