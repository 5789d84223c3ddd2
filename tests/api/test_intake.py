"""Submitting comments: decisions, answers, idempotency, replies, status reads."""
import asyncio

from moderation.keys import STORE

from ..conftest import add_site, auth, comment_payload
from ..toy_model import HAM_TEXT, SPAM_TEXT


async def post(http, key, **overrides):
    response = await http.post("/v1/comments", json=comment_payload(**overrides), headers=auth(key))
    return response.status, await response.json()


async def test_clear_ham_is_published_on_an_auto_site(client):
    key = await add_site(client, mode="auto", lang="en")
    status, body = await post(client, key, body=HAM_TEXT)
    assert status == 201
    assert body["status"] == "published"
    assert body["reasons"] == ["model_ham"]
    assert body["language"] == "en"
    assert 0 <= body["spam_score"] < 0.5
    assert body["model_version"]
    assert body["message"] == "Thank you for your comment. It is published."


async def test_clear_ham_waits_on_a_pre_moderated_site(client):
    key = await add_site(client, mode="pre", lang="fr")
    status, body = await post(client, key, body=HAM_TEXT)
    assert status == 202
    assert body["status"] == "pending"
    assert body["reasons"] == ["model_ham", "pre_moderation"]
    assert body["message"] == ("Merci pour votre commentaire. Il sera visible prochainement "
                               "sous réserve de validation.")


async def test_clear_spam_is_held(client):
    key = await add_site(client, mode="auto")
    status, body = await post(client, key, body=SPAM_TEXT)
    assert status == 202
    assert body["status"] == "spam"
    assert body["reasons"] == ["model_spam"]
    assert body["spam_score"] > 0.5
    # The reader is told the same thing as for review: nothing for a bot to learn.
    assert body["message"].startswith("Merci pour votre commentaire. Il sera visible")


async def test_borderline_goes_to_review(client):
    key = await add_site(client, mode="auto", lang="en")
    site = await client.app[STORE].site_by_name("journal")
    # A site whose bands make every score borderline.
    await client.app[STORE].set_site_thresholds(site.id, approve_below=0.0, reject_above=1.01)
    status, body = await post(client, key, body=HAM_TEXT)
    assert (status, body["status"], body["reasons"]) == (202, "pending", ["model_uncertain"])


async def test_unsupported_language_goes_to_review(client):
    key = await add_site(client, mode="auto")
    status, body = await post(client, key, body="Merci beaucoup pour cet excellent article sur le marché de Noël.")
    assert body["language"] == "fr"
    assert (status, body["status"], body["reasons"]) == (202, "pending", ["language_unsupported"])


async def test_text_empty_after_normalization_goes_to_review(client):
    key = await add_site(client, mode="auto")
    status, body = await post(client, key, body="<br /> <p></p> \ufeff")
    assert (status, body["status"], body["reasons"]) == (202, "pending", ["empty_text"])


async def test_no_model_gives_pending(app_client, tmp_path):
    client = await app_client(model_dir=str(tmp_path / "no-models-here"))
    key = await add_site(client, mode="auto")
    status, body = await post(client, key, body=HAM_TEXT)
    assert (status, body["status"], body["reasons"]) == (202, "pending", ["no_model"])
    assert body["spam_score"] is None and body["model_version"] is None
    ready = await client.get("/readyz")
    assert ready.status == 503
    fields = (await ready.json())["error"]["fields"]
    assert [f["field"] for f in fields] == ["model"]


async def test_honeypot_filled_is_spam(client):
    key = await add_site(client, mode="auto")
    status, body = await post(client, key, body=HAM_TEXT, honeypot="http://bot.example")
    assert body["status"] == "spam"
    assert "honeypot" in body["reasons"]


async def test_same_body_twice_is_not_auto_published(client):
    key = await add_site(client, mode="auto", lang="en")
    assert (await post(client, key, body=HAM_TEXT))[1]["status"] == "published"
    status, body = await post(client, key, body=HAM_TEXT)
    assert body["status"] == "pending"
    assert "duplicate" in body["reasons"]


async def test_retry_with_idempotency_key_returns_the_first_answer(client):
    key = await add_site(client, mode="auto", lang="en")
    headers = {**auth(key), "Idempotency-Key": "retry-7f3a"}
    first = await client.post("/v1/comments", json=comment_payload(body=HAM_TEXT), headers=headers)
    again = await client.post("/v1/comments", json=comment_payload(body=HAM_TEXT), headers=headers)
    assert first.status == again.status == 201
    answer, replayed = await first.json(), await again.json()
    token = answer.pop("author_token")
    answer.pop("editable_until")
    assert replayed == answer   # the author's token is in the first answer only
    assert token not in await again.text()
    assert again.headers["Idempotent-Replayed"] == "true"
    listing = await (await client.get("/v1/sites/journal/threads/article-42/comments")).json()
    assert len(listing["items"]) == 1


async def test_concurrent_retries_create_one_comment(client):
    key = await add_site(client, mode="auto", lang="en")
    headers = {**auth(key), "Idempotency-Key": "burst"}
    responses = await asyncio.gather(*[
        client.post("/v1/comments", json=comment_payload(body=HAM_TEXT), headers=headers)
        for _ in range(8)])
    ids = {(await r.json())["id"] for r in responses}
    assert len(ids) == 1
    assert {r.status for r in responses} == {201}


async def test_reply_to_a_published_comment(client):
    key = await add_site(client, mode="auto", lang="en")
    _, parent = await post(client, key, body=HAM_TEXT)
    status, reply = await post(client, key, parent_id=parent["id"],
                               body="I agree with you, the reporting on the market was excellent.",
                               author={"name": "Marie", "email": "marie@example.org"})
    assert status == 201
    listing = await (await client.get("/v1/sites/journal/threads/article-42/comments")).json()
    assert [(c["id"], c["parent_id"]) for c in listing["items"]] == [
        (parent["id"], None), (reply["id"], parent["id"])]


async def test_reply_to_another_threads_comment_is_refused(client):
    key = await add_site(client, mode="auto", lang="en")
    _, parent = await post(client, key, body=HAM_TEXT)
    status, body = await post(client, key, parent_id=parent["id"],
                              thread={"id": "another-article", "url": "https://journal.example/b"})
    assert status == 422
    assert body["error"]["fields"][0]["code"] == "invalid_parent"


async def test_site_reads_its_comment_status(client):
    key = await add_site(client, mode="pre")
    other_key = await add_site(client, name="other", mode="pre")
    _, created = await post(client, key, body=HAM_TEXT)
    response = await client.get(f"/v1/comments/{created['id']}", headers=auth(key))
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "pending"
    assert body["thread"] == "article-42"
    assert "author_email" not in body and "jean.dupont" not in str(body)
    assert (await client.get(f"/v1/comments/{created['id']}", headers=auth(other_key))).status == 404
    assert (await client.get(f"/v1/comments/{created['id']}")).status == 401


async def test_stored_ip_is_truncated_and_the_full_one_kept_apart(client):
    key = await add_site(client)
    _, created = await post(client, key, client={"ip": "198.51.100.23"})
    comment = await client.app[STORE].get_comment(created["id"])
    assert comment.ip_prefix == "198.51.100.0/24"
    async with client.app[STORE]._reader.execute(
            "SELECT ip FROM client_ips WHERE comment_id = ?", (created["id"],)) as cursor:
        assert await cursor.fetchone() == ("198.51.100.23",)


async def test_peer_address_used_when_the_site_forwards_none(client):
    key = await add_site(client)
    payload = comment_payload()
    del payload["client"]
    response = await client.post("/v1/comments", json=payload, headers=auth(key))
    comment = await client.app[STORE].get_comment((await response.json())["id"])
    assert comment.ip_prefix == "127.0.0.0/24"


async def test_answers_are_utf8_json_with_accents_as_written(client):
    key = await add_site(client, mode="pre", lang="fr")
    response = await client.post("/v1/comments", json=comment_payload(body=HAM_TEXT), headers=auth(key))
    raw = await response.read()
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "réserve de validation".encode("utf-8") in raw and b"\\u00e9" not in raw
