"""Public reads: threads, counts, most-commented; never a private field."""
import json

from ..conftest import add_moderator, add_site, auth, comment_payload
from ..toy_model import HAM_TEXTS, SPAM_TEXT

EMAILS = ["secret.reader@example.fr", "autre.lecteur@exemple.org"]
IPS = ["198.51.100.77", "2001:db8:abcd:12::5"]
USER_AGENT = "Mozilla/5.0 (Privacy-Test-Agent)"


async def post(client, key, thread, body, n=0, **extra):
    payload = comment_payload(
        thread={"id": thread, "url": f"https://journal.example/{thread}", "title": f"Titre {thread}"},
        author={"name": f"Lecteur {n}", "email": EMAILS[n % 2]},
        body=body, client={"ip": IPS[n % 2], "user_agent": USER_AGENT, "referrer": "https://journal.example/"},
        **extra)
    response = await client.post("/v1/comments", json=payload, headers=auth(key))
    assert response.status in (201, 202), await response.text()
    return await response.json()


async def test_thread_lists_published_comments_oldest_first_with_paging(client):
    key = await add_site(client, mode="auto", lang="en")
    created = [await post(client, key, "a1", text, n) for n, text in enumerate(HAM_TEXTS[:5])]
    await post(client, key, "a1", SPAM_TEXT, 9)   # held: never listed
    assert all(c["status"] == "published" for c in created)
    first = await (await client.get("/v1/sites/journal/threads/a1/comments?limit=3")).json()
    assert [c["id"] for c in first["items"]] == [c["id"] for c in created[:3]]
    assert first["next"] == created[2]["id"]
    second = await (await client.get(f"/v1/sites/journal/threads/a1/comments?limit=3&after={first['next']}")).json()
    assert [c["id"] for c in second["items"]] == [c["id"] for c in created[3:]]
    assert second["next"] is None
    item = first["items"][0]
    assert set(item) == {"id", "parent_id", "author_name", "body", "created_at", "replies", "removed"}
    assert item["author_name"] == "Lecteur 0" and item["created_at"].endswith("Z")


async def test_thread_sorts_and_a_rejected_parent_stays_as_a_placeholder_without_its_text(client):
    key = await add_site(client, mode="auto", lang="en")
    admin = await add_moderator(client, name="root", role="admin")
    first = await post(client, key, "a1", HAM_TEXTS[0], 0)
    parent = await post(client, key, "a1", HAM_TEXTS[1], 1)
    replies = [await post(client, key, "a1", text, n, parent_id=parent["id"])
               for n, text in enumerate(HAM_TEXTS[2:4])]
    rejected = await client.post(f"/v1/review/comments/{parent['id']}/decision", headers=auth(admin),
                                 json={"action": "reject", "expected_status": "published"})
    assert rejected.status == 200, await rejected.text()
    page = await (await client.get("/v1/sites/journal/threads/a1/comments?sort=replies")).json()
    assert page["sort"] == "replies"
    assert [c["id"] for c in page["items"]] == [parent["id"], first["id"], *(r["id"] for r in replies)]
    placeholder = page["items"][0]
    assert placeholder == {"id": parent["id"], "parent_id": None, "author_name": None, "body": None,
                           "created_at": placeholder["created_at"], "replies": 2, "removed": True}
    assert HAM_TEXTS[1] not in json.dumps(page)
    newest = await (await client.get("/v1/sites/journal/threads/a1/comments?sort=newest&limit=2")).json()
    assert [c["id"] for c in newest["items"]] == [replies[1]["id"], replies[0]["id"]]
    assert newest["next"] == replies[0]["id"]
    by_replies = await (await client.get("/v1/sites/journal/threads/a1/comments?sort=replies&limit=3")).json()
    assert by_replies["next"] == 3
    bad = await client.get("/v1/sites/journal/threads/a1/comments?sort=best")
    assert bad.status == 400
    assert (await bad.json())["error"]["fields"][0]["field"] == "sort"
    assert (await client.get("/v1/sites/nope/threads/a1/comments?sort=best")).status == 404
    counts = await (await client.get("/v1/sites/journal/counts?thread=a1")).json()
    assert counts == {"counts": {"a1": 3}}   # a placeholder is not a comment shown


async def test_counts_for_many_threads_in_one_call(client):
    key = await add_site(client, mode="auto", lang="en")
    for n, text in enumerate(HAM_TEXTS[:3]):
        await post(client, key, "a1", text, n)
    await post(client, key, "a2", HAM_TEXTS[3], 3)
    response = await client.get("/v1/sites/journal/counts?thread=a1&thread=a2&thread=none")
    assert await response.json() == {"counts": {"a1": 3, "a2": 1, "none": 0}}
    assert (await client.get("/v1/sites/journal/counts")).status == 400


async def test_most_commented_threads(client):
    key = await add_site(client, mode="auto", lang="en")
    for n, text in enumerate(HAM_TEXTS[:3]):
        await post(client, key, "a1", text, n)
    for n, text in enumerate(HAM_TEXTS[3:5]):
        await post(client, key, "a2", text, n)
    await post(client, key, "a3", HAM_TEXTS[5], 0)
    top = await (await client.get("/v1/sites/journal/threads/top?days=7&limit=2")).json()
    assert top["days"] == 7
    assert top["items"] == [
        {"thread": "a1", "url": "https://journal.example/a1", "title": "Titre a1", "count": 3},
        {"thread": "a2", "url": "https://journal.example/a2", "title": "Titre a2", "count": 2}]


async def test_unknown_site_is_404(client):
    assert (await client.get("/v1/sites/nope/threads/a1/comments")).status == 404
    assert (await client.get("/v1/sites/nope/counts?thread=a")).status == 404
    assert (await client.get("/v1/sites/nope/threads/top")).status == 404


async def test_unknown_site_is_404_before_a_bad_parameter(client):
    await add_site(client, mode="auto", lang="en")
    for path in ("threads/a1/comments?limit=0", "threads/a1/comments?after=x", "counts",
                 "threads/top?days=0", "threads/top?limit=1000"):
        assert (await client.get(f"/v1/sites/nope/{path}")).status == 404, path
        assert (await client.get(f"/v1/sites/journal/{path}")).status == 400, path


async def test_thread_ids_with_reserved_characters(client):
    key = await add_site(client, mode="auto", lang="en")
    await post(client, key, "2026/11/noël article", HAM_TEXTS[0])
    listing = await (await client.get("/v1/sites/journal/threads/2026%2F11%2Fno%C3%ABl%20article/comments")).json()
    assert len(listing["items"]) == 1
    counts = await (await client.get("/v1/sites/journal/counts?thread=2026%2F11%2Fno%C3%ABl%20article")).json()
    assert counts["counts"] == {"2026/11/noël article": 1}


async def test_no_public_answer_contains_email_ip_user_agent_or_score(client):
    key = await add_site(client, mode="auto", lang="en")
    created = [await post(client, key, "a1", text, n) for n, text in enumerate(HAM_TEXTS[:4])]
    first = created[0]
    await post(client, key, "a1", HAM_TEXTS[4], 1, parent_id=first["id"])
    answers = []
    for path in ["/v1/sites/journal/threads/a1/comments", "/v1/sites/journal/counts?thread=a1",
                 "/v1/sites/journal/threads/top", f"/v1/comments/{first['id']}"]:
        response = await client.get(path, headers=auth(key))
        assert response.status == 200
        answers.append(await response.text())
    text = "\n".join(answers)
    for secret in EMAILS + IPS + ["198.51.100", "2001:db8:abcd", USER_AGENT, "spam_score", "model_ham"]:
        assert secret not in text, secret
    for answer in answers:
        json.loads(answer)
