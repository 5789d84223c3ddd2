"""A commenter's data: exported and erased by e-mail address (admins, API and
CLI), and expired by ``moderation purge``."""
import json
import sqlite3
import time

from moderation.domain import ERASED_AUTHOR, Status
from moderation.keys import SETTINGS

from ..conftest import auth, comment_payload
from ..toy_model import HAM_TEXT, SPAM_TEXT
from .conftest import decide, seed

JEAN = "jean.dupont@example.fr"


def full_ips(client) -> dict[int, str]:
    path = client.app[SETTINGS].database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT comment_id, ip FROM client_ips"))


async def post(client, key, **overrides):
    response = await client.post("/v1/comments", headers=auth(key), json=comment_payload(**overrides))
    return (await response.json())["id"]


async def test_export_then_erase_an_address(desk):
    client, store = desk.client, desk.store
    published = await post(client, desk.key, body=HAM_TEXT, thread={"id": "t1"})
    held = await post(client, desk.key, body=SPAM_TEXT, thread={"id": "t1"})
    reply = await post(client, desk.key, body="I agree with you, Jean.", thread={"id": "t1"},
                       parent_id=published, author={"name": "Marie", "email": "marie@example.fr"})
    await decide(client, desk.claire, held, "reject", expected="spam", note="Jean Dupont again")

    response = await client.post("/v1/admin/people/export", headers=auth(desk.admin),
                                 json={"email": "Jean.Dupont@EXAMPLE.fr"})
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    export = await response.json()
    assert [c["id"] for c in export["comments"]] == [published, held]
    first = export["comments"][0]
    assert first["author"] == {"name": "Jean Dupont", "email": JEAN}
    assert first["client"]["ip"] == "203.0.113.7" and first["client"]["ip_prefix"] == "203.0.113.0/24"
    assert first["client"]["user_agent"] == "Mozilla/5.0" and first["body"] == HAM_TEXT
    assert first["site"] == "journal" and first["status"] == "published"
    assert [e["action"] for e in export["comments"][1]["history"]] == ["submit", "reject"]

    response = await client.post("/v1/admin/people/erase", headers=auth(desk.admin), json={"email": JEAN})
    assert response.status == 200
    assert await response.json() == {"erased": 2, "comment_ids": [published, held]}

    for comment_id in (published, held):
        comment = await store.get_comment(comment_id)
        assert (comment.author_name, comment.author_email, comment.body) == (ERASED_AUTHOR, "", "")
        assert (comment.ip_prefix, comment.user_agent, comment.erased_at is not None) == ("", "", True)
        assert comment.status is Status.REJECTED
    assert set(full_ips(client)) == {reply}
    # The audit keeps that decisions happened and who made them, not who wrote.
    trail = await store.audit_trail(held)
    assert [(e.actor, e.action) for e in trail] == [("intake", "submit"), ("claire", "reject"),
                                                     ("ada", "erase")]
    assert all(e.note == "" for e in trail)
    assert "Dupont" not in str(trail) and JEAN not in str(trail)
    # Nothing public is left of Jean; Marie's reply stays, under a placeholder
    # where his comment was (an id and a time, no name, no text).
    public = await (await client.get("/v1/sites/journal/threads/t1/comments")).json()
    assert [(c["id"], c["removed"], c["author_name"], c["body"]) for c in public["items"]] == [
        (published, True, None, None), (reply, False, "Marie", public["items"][1]["body"])]
    assert "Dupont" not in json.dumps(public) and JEAN not in json.dumps(public)
    # Nothing more to export or erase; an erased comment cannot be decided on.
    again = await (await client.post("/v1/admin/people/export", headers=auth(desk.admin),
                                     json={"email": JEAN})).json()
    assert again["comments"] == []
    status, body = await decide(client, desk.claire, published, "approve", expected="rejected")
    assert status == 409 and body["error"]["current"]["erased"] is True


async def test_privacy_bodies_are_checked(desk):
    for payload, fields in (({"mail": JEAN}, [("mail", "unknown_field"), ("email", "required")]),
                            ({"email": "  "}, [("email", "blank")]),
                            ({"email": ["x"]}, [("email", "invalid_type")])):
        response = await desk.client.post("/v1/admin/people/erase", json=payload, headers=auth(desk.admin))
        assert response.status == 422
        assert [(f["field"], f["code"]) for f in (await response.json())["error"]["fields"]] == fields


async def test_people_commands(desk, run_cli, capsys):
    comment_id = await seed(desk.store, desk.site_id, email=JEAN, body="Bonjour à tous")
    assert await run_cli("people", "export", JEAN) == 0
    export = json.loads(capsys.readouterr().out)
    assert [c["body"] for c in export["comments"]] == ["Bonjour à tous"]
    assert await run_cli("people", "erase", JEAN) == 0
    assert "1 comments" in capsys.readouterr().out
    assert (await desk.store.get_comment(comment_id)).author_email == ""
    assert (await desk.store.audit_trail(comment_id))[-1].actor == "cli"


async def test_purge_drops_old_spam_and_old_full_ips(desk, run_cli, capsys):
    store, now, day = desk.store, time.time(), 86400
    old_spam = await seed(store, desk.site_id, status=Status.SPAM, created_at=now - 40 * day)
    new_spam = await seed(store, desk.site_id, status=Status.SPAM, created_at=now - 2 * day)
    old_pending = await seed(store, desk.site_id, created_at=now - 40 * day)
    week_old = await seed(store, desk.site_id, created_at=now - 10 * day)
    fresh = await seed(store, desk.site_id)
    child = await seed(store, desk.site_id, parent_id=old_spam)
    assert await run_cli("purge") == 0   # defaults: spam 30 days, full IPs 7 days
    assert "purged 1 spam comments" in capsys.readouterr().out
    assert await store.get_comment(old_spam) is None
    assert await store.audit_trail(old_spam) == []
    for kept in (new_spam, old_pending, week_old, fresh):
        assert await store.get_comment(kept) is not None
    assert (await store.get_comment(child)).parent_id is None
    assert set(full_ips(desk.client)) == {new_spam, fresh, child}
