"""An author edits (within the window) or deletes their own comment with the
token the POST answered once; each edit is scored again and audited."""
from ..conftest import add_moderator, add_site, auth, comment_payload
from ..toy_model import HAM_TEXT, HAM_TEXTS, SPAM_TEXT

SETTINGS = {"site_cache_seconds": 0, "rate_limit_per_ip": 0, "rate_limit_per_email": 0,
            "duplicate_window_seconds": 0, "audit_share": 0, "public_cache_seconds": 0}


async def _post(client, key, **fields):
    response = await client.post("/v1/comments", headers=auth(key), json=comment_payload(**fields))
    assert response.status in (201, 202), await response.text()
    return await response.json()


def _as_author(key, token):
    return {**auth(key), "Author-Token": token}


async def _public_bodies(client, thread="article-42"):
    page = await (await client.get(f"/v1/sites/journal/threads/{thread}/comments")).json()
    return [item["body"] for item in page["items"]]


async def test_an_author_edits_their_comment_and_each_edit_is_scored_again(app_client):
    client = await app_client(**SETTINGS)
    key = await add_site(client, name="journal", lang="en", mode="auto")
    admin = auth(await add_moderator(client, name="root", role="admin"))
    posted = await _post(client, key, body=HAM_TEXT)
    assert posted["status"] == "published"
    assert posted["author_token"].startswith("mat_") and posted["editable_until"].endswith("Z")
    path = f"/v1/comments/{posted['id']}"

    edited = await client.patch(path, headers=_as_author(key, posted["author_token"]), json={"body": HAM_TEXTS[1]})
    assert edited.status == 200, await edited.text()
    answer = await edited.json()
    assert (answer["id"], answer["status"]) == (posted["id"], "published")
    assert answer["message"] == "Your comment was edited."
    assert await _public_bodies(client) == [HAM_TEXTS[1]]

    spam = await (await client.patch(path, headers=_as_author(key, posted["author_token"]),
                                     json={"body": SPAM_TEXT})).json()
    assert spam["status"] == "spam" and "model_spam" in spam["reasons"]
    assert await _public_bodies(client) == []
    detail = await (await client.get(f"/v1/review/comments/{posted['id']}", headers=admin)).json()
    assert detail["body"] == SPAM_TEXT
    edits = [(e["actor"], e["action"], e["from_status"], e["to_status"]) for e in detail["history"]][1:]
    assert edits == [("author", "edit", "published", "published"), ("author", "edit", "published", "spam")]
    # held as spam now: no more edits, no deletion
    again = await client.patch(path, headers=_as_author(key, posted["author_token"]), json={"body": HAM_TEXT})
    assert (again.status, (await again.json())["error"]["code"]) == (409, "comment_not_editable")
    gone = await client.delete(path, headers=_as_author(key, posted["author_token"]))
    assert gone.status == 409


async def test_without_the_right_token_or_key_nothing_changes(app_client):
    client = await app_client(**SETTINGS)
    key = await add_site(client, name="journal", lang="en", mode="auto")
    other = await add_site(client, name="blog", lang="en", mode="auto", url="https://blog.example")
    mine = await _post(client, key, body=HAM_TEXT)
    theirs = await _post(client, key, body=HAM_TEXTS[1], author={"name": "Other", "email": "o@example.org"})
    path = f"/v1/comments/{mine['id']}"
    for headers in (auth(key), _as_author(key, theirs["author_token"]), _as_author(key, "mat_guess")):
        for response in (await client.patch(path, headers=headers, json={"body": "Changed."}),
                         await client.delete(path, headers=headers)):
            assert response.status == 403, await response.text()
            error = (await response.json())["error"]
            assert error["code"] == "invalid_author_token"
            assert error["fields"][0]["field"] == "Author-Token"
    wrong_site = await client.patch(path, headers=_as_author(other, mine["author_token"]), json={"body": "x"})
    assert wrong_site.status == 404
    assert (await client.delete("/v1/comments/999999", headers=_as_author(key, mine["author_token"]))).status == 404
    assert sorted(await _public_bodies(client)) == sorted([HAM_TEXT, HAM_TEXTS[1]])


async def test_an_edit_is_checked_like_a_new_comment(app_client):
    client = await app_client(**SETTINGS)
    key = await add_site(client, name="journal", lang="fr", mode="auto")
    posted = await _post(client, key, body=HAM_TEXT)
    headers = {**_as_author(key, posted["author_token"]), "Accept-Language": "fr"}
    for payload, field, code in (({"body": "   "}, "body", "blank"), ({"body": "x" * 5001}, "body", "too_long"),
                                 ({"body": "ok", "author": {}}, "author", "unknown_field"),
                                 ({}, "body", "required")):
        response = await client.patch(f"/v1/comments/{posted['id']}", headers=headers, json=payload)
        assert response.status == 422, await response.text()
        error = (await response.json())["error"]
        assert (error["fields"][0]["field"], error["fields"][0]["code"]) == (field, code)
        assert error["message"]   # in French: the site's language and the reader's
    assert await _public_bodies(client) == [HAM_TEXT]


async def test_an_edit_after_a_moderators_decision_goes_back_to_them(app_client):
    client = await app_client(**SETTINGS)
    key = await add_site(client, name="journal", lang="en", mode="pre")
    claire = auth(await add_moderator(client, name="claire"))
    posted = await _post(client, key, body=HAM_TEXT)
    assert posted["status"] == "pending"
    token = posted["author_token"]
    path = f"/v1/comments/{posted['id']}"
    waiting = await (await client.patch(path, headers=_as_author(key, token), json={"body": HAM_TEXTS[2]})).json()
    assert (waiting["status"], waiting["reasons"][-1]) == ("pending", "edited")
    approved = await client.post(f"{path.replace('/v1/comments', '/v1/review/comments')}/decision",
                                 headers=claire, json={"action": "approve", "expected_status": "pending"})
    assert approved.status == 200, await approved.text()
    assert await _public_bodies(client) == [HAM_TEXTS[2]]
    back = await (await client.patch(path, headers=_as_author(key, token), json={"body": HAM_TEXTS[3]})).json()
    assert (back["status"], back["reasons"][-1]) == ("pending", "edited")
    assert back["message"].startswith("Your comment was edited. It will be visible")
    assert await _public_bodies(client) == []   # the moderator approved another text
    queue = await (await client.get("/v1/review/queue", headers=claire)).json()
    assert [item["id"] for item in queue["items"]] == [posted["id"]]


async def test_edits_can_be_switched_off_and_deletion_is_always_possible(app_client):
    client = await app_client(**SETTINGS, edit_window_seconds=0)
    key = await add_site(client, name="journal", lang="en", mode="auto")
    admin = auth(await add_moderator(client, name="root", role="admin"))
    parent = await _post(client, key, body=HAM_TEXT)
    assert parent["editable_until"] is None
    reply = await _post(client, key, body=HAM_TEXTS[1], parent_id=parent["id"])
    path = f"/v1/comments/{parent['id']}"
    closed = await client.patch(path, headers=_as_author(key, parent["author_token"]), json={"body": "New."})
    assert (closed.status, (await closed.json())["error"]["code"]) == (409, "edit_window_closed")

    for _ in range(2):   # deleting again answers the same
        deleted = await client.delete(path, headers={**_as_author(key, parent["author_token"]),
                                                     "Accept-Language": "fr"})
        assert deleted.status == 200, await deleted.text()
        assert await deleted.json() == {"id": parent["id"], "deleted": True,
                                        "message": "Votre commentaire a été supprimé."}
    page = await (await client.get("/v1/sites/journal/threads/article-42/comments")).json()
    assert [(i["id"], i["removed"], i["body"]) for i in page["items"]] == [
        (parent["id"], True, None), (reply["id"], False, HAM_TEXTS[1])]   # the reply stays threaded
    detail = await (await client.get(f"/v1/review/comments/{parent['id']}", headers=admin)).json()
    assert (detail["status"], detail["body"], detail["reasons"][-1]) == ("rejected", "", "author_deleted")
    assert (detail["history"][-1]["actor"], detail["history"][-1]["action"]) == ("author", "delete")
    counts = await (await client.get("/v1/sites/journal/counts?thread=article-42")).json()
    assert counts["counts"]["article-42"] == 1


async def test_a_reply_waiting_for_its_parent_still_goes_out_with_it_after_an_edit(app_client):
    client = await app_client(**SETTINGS)
    key = await add_site(client, name="journal", lang="en", mode="auto")
    claire = auth(await add_moderator(client, name="claire"))
    parent = await _post(client, key, body="Well written. Subscribe now for free gift cards")
    assert parent["reasons"] == ["model_uncertain"]   # the toy model: between its bands
    reply = await _post(client, key, body=HAM_TEXT, parent_id=parent["id"],
                        author={"name": "Other", "email": "other@example.org"})
    assert reply["reasons"] == ["model_ham", "parent_pending"]
    edited = await (await client.patch(f"/v1/comments/{reply['id']}", headers=_as_author(key, reply["author_token"]),
                                       json={"body": HAM_TEXTS[4]})).json()
    assert (edited["status"], edited["reasons"]) == ("pending", ["model_ham", "parent_pending"])
    approved = await client.post(f"/v1/review/comments/{parent['id']}/decision", headers=claire,
                                 json={"action": "approve", "expected_status": "pending"})
    assert approved.status == 200
    assert HAM_TEXTS[4] in await _public_bodies(client)   # published with its parent
