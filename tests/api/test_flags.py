"""Readers flag a published comment through the site: each reader once, and
the flag that reaches MODERATION_FLAGS_TO_REVIEW sends it back to review,
where moderators see the flags; unpublished or other sites' comments are 404."""
from ..conftest import add_moderator, add_site, auth, comment_payload
from ..toy_model import HAM_TEXT

SETTINGS = {"site_cache_seconds": 0, "rate_limit_per_ip": 0, "rate_limit_per_email": 0,
            "duplicate_window_seconds": 0, "audit_share": 0, "flags_to_review": 2}


async def test_enough_readers_flags_send_a_comment_back_to_review(app_client):
    client = await app_client(**SETTINGS)
    key = await add_site(client, name="journal", lang="en", mode="auto")
    other = await add_site(client, name="blog", lang="en", mode="auto", url="https://blog.example")
    claire = auth(await add_moderator(client, name="claire"))
    posted = await (await client.post("/v1/comments", headers=auth(key), json=comment_payload(body=HAM_TEXT))).json()
    assert posted["status"] == "published"
    flags = f"/v1/comments/{posted['id']}/flags"

    first = await client.post(flags, headers=auth(key), json={"reason": "abuse", "reader": "user-1"})
    assert (first.status, await first.json()) == (202, {"id": posted["id"], "flags": 1, "counted": True,
                                                        "sent_to_review": False})
    again = await (await client.post(flags, headers=auth(key), json={"reason": "spam", "reader": "user-1"})).json()
    assert (again["flags"], again["counted"]) == (1, False)
    assert (await client.post(flags, headers=auth(other), json={"reason": "spam", "reader": "x"})).status == 404
    second = await (await client.post(flags, headers=auth(key),
                                      json={"reason": "spam", "client": {"ip": "198.51.100.4"}})).json()
    assert (second["flags"], second["sent_to_review"]) == (2, True)

    detail = await (await client.get(f"/v1/review/comments/{posted['id']}", headers=claire)).json()
    assert (detail["status"], detail["reasons"][-1], detail["flags"]) == (
        "pending", "reader_flags", {"abuse": 1, "spam": 1})
    assert (detail["history"][-1]["actor"], detail["history"][-1]["action"]) == ("readers", "flag")
    # waiting for a moderator because of flags: later flags still count, none moves it again
    third = await (await client.post(flags, headers=auth(key), json={"reason": "spam", "reader": "u3"})).json()
    assert (third["flags"], third["sent_to_review"]) == (3, False)
    await client.post(f"/v1/review/comments/{posted['id']}/decision", headers=claire,
                      json={"action": "reject", "expected_status": "pending"})
    # rejected: readers no longer see it, and cannot flag it
    assert (await client.post(flags, headers=auth(key), json={"reason": "spam", "reader": "u4"})).status == 404


async def test_a_flag_names_its_reason_and_reader(app_client):
    client = await app_client(**SETTINGS)
    key = await add_site(client, name="journal", lang="en", mode="auto")
    posted = await (await client.post("/v1/comments", headers=auth(key), json=comment_payload(body=HAM_TEXT))).json()
    flags = f"/v1/comments/{posted['id']}/flags"
    bad = await client.post(flags, headers=auth(key), json={"reason": "boring", "reader": "", "color": 1})
    assert bad.status == 422
    assert {(f["field"], f["code"]) for f in (await bad.json())["error"]["fields"]} == {
        ("reason", "invalid_choice"), ("reader", "invalid_value"), ("color", "unknown_field")}
    bad = await client.post(flags, headers=auth(key), json={"reason": "spam", "client": {"ip": "nope"}})
    assert (await bad.json())["error"]["fields"][0]["field"] == "client.ip"
    assert (await client.post(flags, json={"reason": "spam"})).status == 401
    assert (await client.post("/v1/comments/999999/flags", headers=auth(key),
                              json={"reason": "spam", "reader": "u"})).status == 404


async def test_flags_keep_counting_in_review_and_the_queue_orders_by_them(app_client):
    client = await app_client(**{**SETTINGS, "flags_to_review": 1})
    key = await add_site(client, name="journal", lang="en", mode="auto")
    claire = auth(await add_moderator(client, name="claire"))
    posted = [(await (await client.post("/v1/comments", headers=auth(key), json=comment_payload(
        body=f"{HAM_TEXT} ({n})", author={"name": f"R{n}", "email": f"r{n}@example.org"}))).json())["id"]
        for n in range(3)]
    for comment_id, readers in zip(posted, (1, 3, 2)):
        for reader in range(readers):   # the first flag sends it to review; the others still count
            flagged = await client.post(f"/v1/comments/{comment_id}/flags", headers=auth(key),
                                        json={"reason": "abuse", "reader": f"reader-{reader}"})
            assert flagged.status == 202 and (await flagged.json())["flags"] == reader + 1
    queue = await (await client.get("/v1/review/queue?order=flags", headers=claire)).json()
    assert [item["id"] for item in queue["items"]] == [posted[1], posted[2], posted[0]]
    oldest = await (await client.get("/v1/review/queue?order=oldest", headers=claire)).json()
    assert [item["id"] for item in oldest["items"]] == posted
