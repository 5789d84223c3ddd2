"""Decisions: what each action does, 409 on a stale one, one winner among
concurrent deciders (in one process and across two), bulk, the audit trail,
strict bodies."""
import asyncio

from moderation.app import create_app
from moderation.domain import Reason, Status
from moderation.keys import STORE

from ..conftest import add_moderator, auth, comment_payload
from ..toy_model import SPAM_TEXT
from .conftest import decide, get_json, seed


async def test_approve_publishes_and_the_public_sees_it(desk):
    comment_id = await seed(desk.store, desk.site_id, thread="article-9")
    status, body = await decide(desk.client, desk.claire, comment_id, "approve", reason="on topic")
    assert status == 200, body
    assert body["status"] == "published" and body["previous_status"] == "pending"
    assert body["label"] == "ham"
    assert body["event"]["actor"] == "claire" and body["event"]["reason"] == "on topic"
    public = await desk.client.get("/v1/sites/journal/threads/article-9/comments")
    assert [c["id"] for c in (await public.json())["items"]] == [comment_id]


async def test_reject_hides_and_spam_hides(desk):
    first = await seed(desk.store, desk.site_id)
    second = await seed(desk.store, desk.site_id)
    assert (await decide(desk.client, desk.claire, first, "reject"))[1]["status"] == "rejected"
    status, body = await decide(desk.client, desk.claire, second, "spam")
    assert (status, body["status"], body["label"]) == (200, "spam", "spam")
    status, page = await get_json(desk.client, "/v1/review/queue", desk.claire)
    assert page["items"] == [] and page["counts"] == {"pending": 0, "spam": 1}


async def test_a_stale_decision_gets_409_with_the_current_state(desk):
    comment_id = await seed(desk.store, desk.site_id)
    assert (await decide(desk.client, desk.claire, comment_id, "spam", note="link farm"))[0] == 200
    status, body = await decide(desk.client, desk.admin, comment_id, "approve")
    assert status == 409
    error = body["error"]
    assert error["code"] == "conflict"
    assert "spam" in error["message"]
    assert [(f["field"], f["code"]) for f in error["fields"]] == [("expected_status", "status_changed")]
    current = error["current"]
    assert (current["id"], current["status"], current["erased"]) == (comment_id, "spam", False)
    assert current["last_event"]["actor"] == "claire" and current["last_event"]["action"] == "spam"
    assert (await desk.store.get_comment(comment_id)).status is Status.SPAM


async def test_approving_from_the_spam_folder_rescues_a_false_positive(desk):
    response = await desk.client.post("/v1/comments", headers=auth(desk.key),
                                      json=comment_payload(body=SPAM_TEXT))
    comment_id = (await response.json())["id"]
    status, body = await decide(desk.client, desk.claire, comment_id, "approve", expected="spam")
    assert (status, body["status"], body["previous_status"], body["label"]) == (
        200, "published", "spam", "ham")
    # The score and model at the time are on the audit event.
    assert body["event"]["spam_score"] > 0.5 and body["event"]["model_version"]


async def test_two_moderators_at_once_exactly_one_wins(desk):
    second = await add_moderator(desk.client, name="bruno", site_ids=[desk.site_id])
    for round_ in range(5):
        comment_id = await seed(desk.store, desk.site_id)
        results = await asyncio.gather(
            decide(desk.client, desk.claire, comment_id, "approve"),
            decide(desk.client, second, comment_id, "spam"))
        assert sorted(status for status, _ in results) == [200, 409], results
        winner = next(body for status, body in results if status == 200)
        loser = next(body for status, body in results if status == 409)
        assert loser["error"]["current"]["status"] == winner["status"]
        history = await desk.store.audit_trail(comment_id)
        assert [e.action for e in history].count(winner["action"]) == 1
        assert len(history) == 2    # submit + the one decision


async def test_two_app_instances_on_one_database_exactly_one_wins(desk, aiohttp_client, settings_for):
    other = await aiohttp_client(create_app(settings_for()))
    assert other.app[STORE] is not desk.store
    for _ in range(3):
        comment_id = await seed(desk.store, desk.site_id)
        results = await asyncio.gather(decide(desk.client, desk.claire, comment_id, "reject"),
                                       decide(other, desk.admin, comment_id, "approve"))
        assert sorted(status for status, _ in results) == [200, 409], results
        assert len(await desk.store.audit_trail(comment_id)) == 2


async def test_bulk_reports_each_comment(desk):
    store = desk.store
    fresh = [await seed(store, desk.site_id) for _ in range(3)]
    taken = await seed(store, desk.site_id)
    await decide(desk.client, desk.claire, taken, "reject")
    theirs = await seed(store, desk.other_site_id)
    ids = [*fresh, taken, 424242, theirs]
    response = await desk.client.post("/v1/review/decisions", headers=auth(desk.claire),
                                      json={"ids": ids, "action": "spam", "reason": "campaign"})
    assert response.status == 200
    body = await response.json()
    assert [(r["id"], r["outcome"]) for r in body["results"]] == [
        *[(i, "decided") for i in fresh], (taken, "conflict"), (424242, "not_found"),
        (theirs, "forbidden")]
    assert body["results"][3]["current"]["status"] == "rejected"
    assert body["summary"] == {"decided": 3, "conflict": 1, "not_found": 1, "forbidden": 1}
    for comment_id in fresh:
        assert (await store.get_comment(comment_id)).status is Status.SPAM
    assert (await store.get_comment(theirs)).status is Status.PENDING
    # Rescue two of them from the spam folder in bulk.
    response = await desk.client.post("/v1/review/decisions", headers=auth(desk.claire), json={
        "ids": fresh[:2], "action": "approve", "expected_status": "spam"})
    assert (await response.json())["summary"]["decided"] == 2


async def test_the_audit_trail_records_every_move(desk):
    comment_id = await seed(desk.store, desk.site_id, score=0.42, reasons=(Reason.MODEL_UNCERTAIN,))
    await decide(desk.client, desk.claire, comment_id, "approve", reason="fine", note="checked the link")
    await decide(desk.client, desk.admin, comment_id, "reject", expected="published", reason="off topic")
    status, body = await get_json(desk.client, f"/v1/review/comments/{comment_id}", desk.claire)
    history = body["history"]
    assert [(e["actor"], e["action"], e["from_status"], e["to_status"]) for e in history] == [
        ("intake", "submit", None, "pending"),
        ("claire", "approve", "pending", "published"),
        ("ada", "reject", "published", "rejected")]
    assert history[1]["note"] == "checked the link" and history[2]["reason"] == "off topic"
    assert all(e["spam_score"] == 0.42 and e["model_version"] for e in history)
    assert history[0]["at"] <= history[1]["at"] <= history[2]["at"]
    assert body["status"] == "rejected" and body["published_at"] is not None


async def test_decision_bodies_are_checked_strictly(desk):
    comment_id = await seed(desk.store, desk.site_id)
    url = f"/v1/review/comments/{comment_id}/decision"
    cases = [
        ({"action": "approve", "expected_status": "pending", "force": True}, [("force", "unknown_field")]),
        ({"expected_status": "pending"}, [("action", "required")]),
        ({"action": "delete", "expected_status": "pending"}, [("action", "invalid_choice")]),
        ({"action": "approve"}, [("expected_status", "required")]),
        ({"action": "approve", "expected_status": "published"}, [("expected_status", "no_change")]),
        ({"action": "reject", "expected_status": "pending", "note": 3}, [("note", "invalid_type")]),
        ({"action": "reject", "expected_status": "pending", "reason": "x" * 101}, [("reason", "too_long")]),
    ]
    for payload, fields in cases:
        response = await desk.client.post(url, json=payload, headers=auth(desk.claire))
        assert response.status == 422, payload
        error = (await response.json())["error"]
        assert error["code"] == "validation_failed"
        assert [(f["field"], f["code"]) for f in error["fields"]] == fields, payload
    response = await desk.client.post(url, data=b"[1]", headers={**auth(desk.claire),
                                                                 "Content-Type": "application/json"})
    assert response.status == 400
    response = await desk.client.post(url, data=b"action=approve", headers={
        **auth(desk.claire), "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 415
    bulk = [({"ids": [], "action": "spam"}, [("ids", "blank")]),
            ({"ids": [1, 1, "2"], "action": "spam"}, [("ids[1]", "duplicate_value"), ("ids[2]", "invalid_value")]),
            ({"ids": list(range(1, 202)), "action": "spam"}, [("ids", "too_many")])]
    for payload, fields in bulk:
        response = await desk.client.post("/v1/review/decisions", json=payload, headers=auth(desk.claire))
        assert response.status == 422, payload
        assert [(f["field"], f["code"]) for f in (await response.json())["error"]["fields"]] == fields
    assert (await desk.store.get_comment(comment_id)).status is Status.PENDING
