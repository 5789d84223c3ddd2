"""Commenters over the API: a moderator reads one author's history on their
sites, bans, shadow-bans, watches or trusts authors by e-mail, domain or
network, with expiries; the intake follows at once."""
import time
from datetime import datetime, timezone

from ..conftest import add_moderator, add_site, auth, comment_payload
from ..toy_model import HAM_TEXT, SPAM_TEXT

NO_LIMITS = {"site_cache_seconds": 0, "rate_limit_per_ip": 0, "rate_limit_per_email": 0,
             "duplicate_window_seconds": 0, "audit_share": 0}
UNSURE = "Well written. Subscribe now for free gift cards"   # the toy model: between its bands


async def post(client, key, email, body=HAM_TEXT, ip="203.0.113.7"):
    answer = await client.post("/v1/comments", headers=auth(key), json=comment_payload(
        body=body, author={"name": "Casey", "email": email}, client={"ip": ip}))
    return answer.status, await answer.json()


async def rule(client, headers, site="journal", **fields):
    answer = await client.post(f"/v1/review/sites/{site}/authors/rules", json=fields, headers=headers)
    return answer.status, await answer.json()


async def test_ban_shadow_ban_watch_and_trust_decide_new_comments(app_client):
    client = await app_client(**NO_LIMITS)
    key = await add_site(client, name="journal", lang="en", mode="auto")
    claire = auth(await add_moderator(client, name="claire"))

    status, banned = await rule(client, claire, kind="email", value="Troll@Example.org", action="ban",
                                note="insults")
    assert (status, banned["value"], banned["active"]) == (201, "troll@example.org", True)
    status, answer = await post(client, key, "troll@example.org", body=f"{HAM_TEXT} 1")
    assert (status, answer["status"], answer["reasons"]) == (202, "spam", ["model_ham", "author_banned"])

    await rule(client, claire, kind="domain", value="spam.example", action="shadow_ban")
    status, answer = await post(client, key, "anyone@SPAM.example", body=f"{HAM_TEXT} 2")
    assert (status, answer["status"], answer["reasons"]) == (201, "published", ["model_ham"])   # as if
    stored = await client.get(f"/v1/review/comments/{answer['id']}", headers=claire)
    assert (await stored.json())["status"] == "spam"
    assert (await stored.json())["reasons"] == ["model_ham", "author_shadow_banned"]

    await rule(client, claire, kind="ip", value="198.51.100.23", action="watch")
    status, answer = await post(client, key, "new@example.org", body=f"{HAM_TEXT} 3", ip="198.51.100.99")
    assert (status, answer["reasons"]) == (202, ["model_ham", "author_watched"])
    status, answer = await post(client, key, "new2@example.org", body=SPAM_TEXT, ip="198.51.100.99")
    assert answer["status"] == "spam" and answer["reasons"] == ["model_spam"]

    await rule(client, claire, kind="email", value="regular@example.org", action="trust")
    status, answer = await post(client, key, "regular@example.org", body=UNSURE)
    assert (status, answer["reasons"]) == (201, ["model_uncertain", "author_trusted"])
    status, answer = await post(client, key, "regular@example.org", body=f"{SPAM_TEXT} again")
    assert answer["status"] == "spam"   # trust never publishes what the model holds as spam

    listed = (await (await client.get("/v1/review/sites/journal/authors/rules", headers=claire)).json())["rules"]
    assert [(r["kind"], r["action"]) for r in listed] == [
        ("email", "ban"), ("domain", "shadow_ban"), ("ip", "watch"), ("email", "trust")]
    assert listed[2]["value"] == "198.51.100.0/24"
    removed = await client.delete(f"/v1/review/sites/journal/authors/rules/{banned['id']}", headers=claire)
    assert (await removed.json())["action"] == "ban"
    status, answer = await post(client, key, "troll@example.org", body=f"{HAM_TEXT} 4")
    assert answer["status"] == "published"


async def test_an_expired_rule_no_longer_applies_and_bad_rules_are_refused(app_client):
    client = await app_client(**NO_LIMITS)
    key = await add_site(client, name="journal", lang="en", mode="auto")
    claire = auth(await add_moderator(client, name="claire"))
    soon = datetime.fromtimestamp(time.time() + 1.0, timezone.utc).isoformat()
    await rule(client, claire, kind="email", value="brief@example.org", action="ban", expires_at=soon)
    assert (await post(client, key, "brief@example.org", body=f"{HAM_TEXT} a"))[1]["status"] == "spam"
    time.sleep(1.1)
    assert (await post(client, key, "brief@example.org", body=f"{HAM_TEXT} b"))[1]["status"] == "published"

    status, refused = await rule(client, claire, kind="phone", value="x", action="nuke", color="red",
                                 expires_at="2001-01-01T00:00:00Z")
    assert status == 422
    assert {(f["field"], f["code"]) for f in refused["error"]["fields"]} == {("color", "unknown_field")}
    status, refused = await rule(client, claire, kind="phone", value="x", action="nuke",
                                 expires_at="2001-01-01T00:00:00Z")
    assert {f["field"] for f in refused["error"]["fields"]} == {"kind", "action", "expires_at"}
    for kind, value in (("email", "no-at-sign"), ("domain", "a@b.example"), ("ip", "not.an.ip")):
        status, refused = await rule(client, claire, kind=kind, value=value, action="ban")
        assert (status, refused["error"]["fields"][0]["field"]) == (422, "value"), (kind, value)


async def test_an_authors_history_stays_within_the_moderators_sites(app_client):
    client = await app_client(**NO_LIMITS)
    journal = await add_site(client, name="journal", lang="en", mode="auto")
    blog = await add_site(client, name="blog", lang="en", mode="auto", url="https://blog.example")
    claire = auth(await add_moderator(client, name="claire", site_ids=[1]))
    ada = auth(await add_moderator(client, name="ada", role="admin"))
    for n in range(3):
        await post(client, journal, "Casey@example.org", body=f"{HAM_TEXT} j{n}")
    await post(client, journal, "casey@example.org", body=SPAM_TEXT)
    await post(client, blog, "casey@example.org", body=f"{HAM_TEXT} b")

    mine = await (await client.get("/v1/review/authors?email=CASEY@example.org", headers=claire)).json()
    assert mine["counts"] == {"published": 3, "spam": 1}
    assert {c["site"] for c in mine["comments"]} == {"journal"} and len(mine["comments"]) == 4
    every = await (await client.get("/v1/review/authors?email=casey@example.org&limit=2", headers=ada)).json()
    assert sum(every["counts"].values()) == 5 and len(every["comments"]) == 2
    assert every["comments"][0]["site"] == "blog" and "author_email" not in every["comments"][0]
    by_network = await (await client.get("/v1/review/authors?ip=203.0.113.0/24", headers=ada)).json()
    assert sum(by_network["counts"].values()) == 5
    by_name = await (await client.get("/v1/review/authors?name=Casey", headers=claire)).json()
    assert sum(by_name["counts"].values()) == 4
    assert (await client.get("/v1/review/authors", headers=claire)).status == 422
    assert (await client.get("/v1/review/authors?email=a@b.c&name=x", headers=claire)).status == 422
    assert (await client.get("/v1/review/authors?ip=nope", headers=claire)).status == 422
    assert (await client.get("/v1/review/sites/blog/authors/rules", headers=claire)).status == 403


async def test_a_site_trusts_an_author_once_moderators_approved_enough_and_rejected_none(app_client):
    client = await app_client(**NO_LIMITS)
    key = await add_site(client, name="journal", lang="en", mode="pre")
    admin = auth(await add_moderator(client, name="ada", role="admin"))
    for bad in ({"auto_trust_after": -1}, {"auto_trust_after": 2.5}, {"auto_trust_after": "2"}):
        refused = await client.patch("/v1/admin/sites/journal", json=bad, headers=admin)
        assert refused.status == 422, bad
        assert (await refused.json())["error"]["fields"][0]["field"] == "auto_trust_after"
    changed = await client.patch("/v1/admin/sites/journal", json={"auto_trust_after": 2}, headers=admin)
    assert (await changed.json())["auto_trust_after"] == 2

    async def decided(email, n, action):
        status, answer = await post(client, key, email, body=f"{HAM_TEXT} ({email} {n})")
        assert (status, answer["reasons"]) == (202, ["model_ham", "pre_moderation"])
        done = await client.post(f"/v1/review/comments/{answer['id']}/decision", headers=admin,
                                 json={"action": action, "expected_status": "pending"})
        assert done.status == 200

    await decided("regular@example.org", 1, "approve")
    await decided("regular@example.org", 2, "approve")
    await decided("mixed@example.org", 1, "approve")
    await decided("mixed@example.org", 2, "reject")
    await decided("mixed@example.org", 3, "approve")

    status, trusted = await post(client, key, "Regular@Example.org", body=f"{HAM_TEXT} (third)")
    assert (status, trusted["reasons"]) == (201, ["model_ham", "pre_moderation", "author_trusted"])
    status, spam = await post(client, key, "regular@example.org", body=SPAM_TEXT)
    assert spam["status"] == "spam"   # trust never publishes what the model holds as spam
    status, mixed = await post(client, key, "mixed@example.org", body=f"{HAM_TEXT} (fourth)")
    assert (status, mixed["status"]) == (202, "pending")   # one rejection: no automatic trust

    await client.patch("/v1/admin/sites/journal", json={"auto_trust_after": 0}, headers=admin)
    status, off = await post(client, key, "regular@example.org", body=f"{HAM_TEXT} (off)")
    assert (status, off["status"]) == (202, "pending")
    events = (await (await client.get("/v1/admin/events?site=journal", headers=admin)).json())["events"]
    assert [e["detail"]["after"]["auto_trust_after"] for e in events[:2]] == [0, 2]
