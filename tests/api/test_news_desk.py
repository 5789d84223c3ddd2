"""A news desk runs its sites, moderators and threads over the API: a site
switched to pre-moderation mid-story and back, its key rotated with an
overlap, a moderator's scope changed and then revoked (their session ends at
once), a thread closed (409 thread_closed, in French or English) and
pre-moderated, and every change in the admin log."""
from ..conftest import add_moderator, add_site, auth, comment_payload
from ..toy_model import HAM_TEXT

NO_CACHES = {"site_cache_seconds": 0, "rate_limit_per_ip": 0, "rate_limit_per_email": 0,
             "duplicate_window_seconds": 0, "audit_share": 0}


async def post_comment(client, key, *, thread="article-42", body=HAM_TEXT, language="en"):
    response = await client.post("/v1/comments", headers={**auth(key), "Accept-Language": language},
                                 json=comment_payload(body=body, thread={"id": thread}))
    return response.status, await response.json()


async def test_a_site_goes_to_pre_moderation_mid_story_and_back(app_client):
    client = await app_client(**NO_CACHES)
    key = await add_site(client, name="journal", mode="auto", lang="en")
    admin = auth(await add_moderator(client, name="ada", role="admin"))
    assert (await post_comment(client, key))[1]["status"] == "published"

    answer = await client.patch("/v1/admin/sites/journal", json={"mode": "pre"}, headers=admin)
    assert answer.status == 200
    assert (await answer.json())["mode"] == "pre"
    status, held = await post_comment(client, key, body=f"{HAM_TEXT} (later)")
    assert (status, held["status"], held["reasons"]) == (202, "pending", ["model_ham", "pre_moderation"])

    answer = await client.patch("/v1/admin/sites/journal", headers=admin,
                                json={"mode": "auto", "approve_below": 0.2, "reject_above": 0.8})
    assert (await answer.json())["approve_below"] == 0.2
    listed = await (await client.get("/v1/admin/sites", headers=admin)).json()
    assert [(s["name"], s["mode"], s["reject_above"]) for s in listed["sites"]] == [("journal", "auto", 0.8)]
    events = (await (await client.get("/v1/admin/events?site=journal", headers=admin)).json())["events"]
    assert [(e["action"], e["actor"]) for e in events] == [("site.update", "ada")] * 2   # one per change
    assert events[-1]["detail"]["before"]["mode"] == "auto" and events[-1]["detail"]["after"]["mode"] == "pre"
    assert events[0]["detail"]["after"] == {"mode": "auto", "lang": "en", "approve_below": 0.2,
                                            "reject_above": 0.8}


async def test_site_changes_are_checked_and_for_admins_only(app_client):
    client = await app_client(**NO_CACHES)
    await add_site(client, name="journal")
    admin = auth(await add_moderator(client, name="ada", role="admin"))
    moderator = auth(await add_moderator(client, name="bob", role="moderator"))
    assert (await client.patch("/v1/admin/sites/journal", json={"mode": "pre"}, headers=moderator)).status == 403
    assert (await client.patch("/v1/admin/sites/nowhere", json={"mode": "pre"}, headers=admin)).status == 404
    refused = await client.patch("/v1/admin/sites/journal", headers=admin,
                                 json={"mode": "later", "lang": "de", "approve_below": 2, "color": "red"})
    assert refused.status == 422
    assert {(f["field"], f["code"]) for f in (await refused.json())["error"]["fields"]} == {
        ("mode", "invalid_choice"), ("lang", "invalid_choice"), ("approve_below", "out_of_range"),
        ("color", "unknown_field")}
    empty = await client.patch("/v1/admin/sites/journal", json={}, headers=admin)
    assert (empty.status, (await empty.json())["error"]["fields"][0]["code"]) == (422, "nothing_to_change")


async def test_a_rotated_key_overlaps_then_only_the_new_one_works(app_client):
    client = await app_client(**NO_CACHES)
    old = await add_site(client, name="journal", lang="en")
    admin = auth(await add_moderator(client, name="ada", role="admin"))
    answer = await client.post("/v1/admin/sites/journal/key", json={"overlap_hours": 1}, headers=admin)
    assert answer.status == 200 and answer.headers["Cache-Control"] == "no-store"
    new = (await answer.json())["key"]
    assert new != old and (await answer.json())["previous_key_until"]
    assert (await post_comment(client, new))[0] == 201
    assert (await post_comment(client, old, body=f"{HAM_TEXT} (old key)"))[0] == 201   # within the overlap

    answer = await client.post("/v1/admin/sites/journal/key", json={"overlap_hours": 0}, headers=admin)
    newest = (await answer.json())["key"]
    assert (await post_comment(client, new, body=f"{HAM_TEXT} (gone)"))[0] == 401
    assert (await post_comment(client, old, body=f"{HAM_TEXT} (gone)"))[0] == 401
    assert (await post_comment(client, newest, body=f"{HAM_TEXT} (newest)"))[0] == 201


async def test_moderators_are_listed_rescoped_and_revoked_at_once(app_client):
    client = await app_client(**NO_CACHES)
    await add_site(client, name="journal")
    await add_site(client, name="blog", url="https://blog.example")
    admin = auth(await add_moderator(client, name="ada", role="admin"))
    bob = auth(await add_moderator(client, name="bob", role="moderator"))
    assert (await client.get("/v1/review/queue", headers=bob)).status == 200

    answer = await client.patch("/v1/admin/moderators/bob", json={"sites": ["blog"]}, headers=admin)
    assert (await answer.json())["sites"] == ["blog"]
    unknown = await client.patch("/v1/admin/moderators/bob", json={"sites": ["nowhere"]}, headers=admin)
    assert (unknown.status, (await unknown.json())["error"]["fields"][0]["field"]) == (422, "sites")
    listed = (await (await client.get("/v1/admin/moderators", headers=admin)).json())["moderators"]
    assert [(m["name"], m["role"], m["sites"], m["revoked"]) for m in listed] == [
        ("ada", "admin", [], False), ("bob", "moderator", ["blog"], False)]

    revoked = await client.post("/v1/admin/moderators/bob/revoke", headers=admin)
    assert (await revoked.json()) == {"name": "bob", "revoked": True, "sessions_ended": 0}
    assert (await client.get("/v1/review/queue", headers=bob)).status == 401
    assert (await client.post("/v1/admin/moderators/nobody/revoke", headers=admin)).status == 404
    actions = [e["action"] for e in (await (await client.get("/v1/admin/events", headers=admin)).json())["events"]]
    assert actions == ["moderator.revoked", "moderator.update"]


async def test_a_closed_thread_refuses_comments_in_the_readers_language(app_client):
    client = await app_client(**NO_CACHES)
    key = await add_site(client, name="journal", lang="fr")
    await add_site(client, name="blog", url="https://blog.example")
    blog_only = auth(await add_moderator(client, name="bob", role="moderator", site_ids=[2]))
    claire = auth(await add_moderator(client, name="claire", role="moderator"))
    assert (await post_comment(client, key, thread="story"))[0] in (201, 202)

    assert (await client.post("/v1/review/sites/journal/threads/story", json={"closed": True},
                              headers=blog_only)).status == 403
    answer = await client.post("/v1/review/sites/journal/threads/story", json={"closed": True}, headers=claire)
    assert (await answer.json())["closed"] is True
    for language, text in (("fr", "Les commentaires sont fermés pour cet article."),
                           ("en", "Comments are closed on this article.")):
        status, refused = await post_comment(client, key, thread="story", body=f"{HAM_TEXT} {language}",
                                             language=language)
        assert (status, refused["error"]["code"], refused["error"]["message"]) == (409, "thread_closed", text)
    assert (await post_comment(client, key, thread="other-story"))[0] in (201, 202)

    await client.post("/v1/review/sites/journal/threads/story", json={"closed": False}, headers=claire)
    assert (await post_comment(client, key, thread="story", body=f"{HAM_TEXT} reopened"))[0] in (201, 202)


async def test_a_premoderated_thread_holds_every_comment(app_client):
    client = await app_client(**NO_CACHES)
    key = await add_site(client, name="journal", lang="en", mode="auto")
    claire = auth(await add_moderator(client, name="claire", role="moderator"))
    answer = await client.post("/v1/review/sites/journal/threads/tomorrow", json={"premoderated": True},
                               headers=claire)
    assert (await answer.json()) == {"site": "journal", "thread": "tomorrow", "closed": False,
                                     "closed_at": None, "premoderated": True}
    status, held = await post_comment(client, key, thread="tomorrow")
    assert (status, held["reasons"]) == (202, ["model_ham", "pre_moderation"])
    assert (await post_comment(client, key, thread="today", body=f"{HAM_TEXT} today"))[0] == 201
    refused = await client.post("/v1/review/sites/journal/threads/tomorrow", json={"closed": "yes"},
                                headers=claire)
    assert (refused.status, (await refused.json())["error"]["fields"][0]["field"]) == (422, "closed")
    nothing = await client.post("/v1/review/sites/journal/threads/tomorrow", json={}, headers=claire)
    assert nothing.status == 422
