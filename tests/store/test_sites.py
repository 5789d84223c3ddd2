"""Sites, moderators and their browser sessions, on every backend."""
import pytest

from moderation.domain import Mode, Role
from moderation.store.base import ModeratorExists, SiteExists, StoreError

from .conftest import T0


async def test_a_site_is_found_by_key_hash_and_by_name(store, site):
    assert site.id > 0 and site.mode is Mode.AUTO and site.created_at == T0
    assert await store.site_by_key_hash("key-journal") == site
    assert await store.site_by_name("journal") == site
    assert await store.site_by_key_hash("nope") is None
    assert await store.site_by_name("Journal") is None     # names are exact


async def test_a_taken_name_or_key_is_refused_and_nothing_is_written(store, site):
    with pytest.raises(SiteExists):
        await store.create_site(name="journal", url="u", lang="fr", mode="pre", key_hash="k2", now=T0)
    with pytest.raises(SiteExists):
        await store.create_site(name="other", url="u", lang="fr", mode="pre",
                                key_hash="key-journal", now=T0)
    assert [s.name for s in await store.list_sites()] == ["journal"]


async def test_sites_are_listed_by_name_in_code_point_order(store):
    for name in ("zeta", "Beta", "alpha", "été"):
        await store.create_site(name=name, url="u", lang="fr", mode="pre", key_hash=f"k-{name}", now=T0)
    assert [s.name for s in await store.list_sites()] == ["Beta", "alpha", "zeta", "été"]


async def test_site_thresholds_are_set_and_cleared(store, site):
    await store.set_site_thresholds(site.id, approve_below=0.2, reject_above=0.9)
    found = await store.site_by_name("journal")
    assert (found.approve_below, found.reject_above) == (0.2, 0.9)
    await store.set_site_thresholds(site.id, approve_below=None, reject_above=0.8)
    found = await store.site_by_name("journal")
    assert (found.approve_below, found.reject_above) == (None, 0.8)


async def test_moderators_are_found_by_token_hash_with_their_sites(store, site):
    claire = await store.create_moderator(name="claire", role="moderator", site_ids=[site.id],
                                          token_hash="tok-claire", now=T0)
    ada = await store.create_moderator(name="ada", role="admin", site_ids=[], token_hash="tok-ada",
                                       now=T0 + 1)
    assert claire.site_ids == (site.id,) and ada.role is Role.ADMIN
    assert await store.moderator_by_token_hash("tok-claire") == claire
    assert await store.moderator_by_token_hash("tok-ada") == ada
    assert await store.moderator_by_token_hash("tok-nobody") is None
    with pytest.raises(ModeratorExists):
        await store.create_moderator(name="claire", role="admin", site_ids=[], token_hash="t3", now=T0)


async def test_sessions_live_until_they_expire_or_are_deleted(store, site):
    claire = await store.create_moderator(name="claire", role="moderator", site_ids=[site.id],
                                          token_hash="tok-claire", now=T0)
    await store.create_session(id_hash="s1", moderator_id=claire.id, now=T0, expires_at=T0 + 100)
    record = await store.session_by_hash("s1", now=T0 + 99.5)
    assert record.moderator == claire and (record.created_at, record.expires_at) == (T0, T0 + 100)
    assert await store.session_by_hash("s1", now=T0 + 100) is None     # expires_at > now
    assert await store.session_by_hash("unknown", now=T0) is None
    assert await store.delete_session("s1") is True
    assert await store.delete_session("s1") is False
    assert await store.session_by_hash("s1", now=T0) is None


async def test_creating_a_session_deletes_the_expired_ones(store, site):
    claire = await store.create_moderator(name="claire", role="moderator", site_ids=[],
                                          token_hash="tok-claire", now=T0)
    await store.create_session(id_hash="old", moderator_id=claire.id, now=T0, expires_at=T0 + 10)
    await store.create_session(id_hash="new", moderator_id=claire.id, now=T0 + 10, expires_at=T0 + 50)
    assert await store.delete_session("old") is False     # gone with the second sign-in
    assert (await store.session_by_hash("new", now=T0 + 20)).moderator.name == "claire"


async def test_a_store_that_is_open_is_writable_and_a_closed_one_is_not(store, open_stores):
    await store.check_writable()
    other = await open_stores()
    await other.close()
    with pytest.raises(StoreError):
        await other.check_writable()
