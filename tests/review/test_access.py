"""Who may use the moderators' endpoints: 401 without a moderator token (a
site key is not one), 403 outside the moderator's sites or role."""
import pytest

from ..conftest import auth
from .conftest import seed

ENDPOINTS = [
    ("GET", "/v1/review/queue", None),
    ("GET", "/v1/review/stats", None),
    ("GET", "/v1/review/comments/{id}", None),
    ("POST", "/v1/review/comments/{id}/decision", {"action": "approve", "expected_status": "pending"}),
    ("POST", "/v1/review/decisions", {"ids": [1], "action": "approve"}),
    ("POST", "/v1/admin/people/export", {"email": "reader@example.fr"}),
    ("POST", "/v1/admin/people/erase", {"email": "reader@example.fr"}),
]


@pytest.mark.parametrize("method,path,body", ENDPOINTS)
async def test_no_token_wrong_token_and_site_key_get_401(desk, method, path, body):
    comment_id = await seed(desk.store, desk.site_id)
    url = path.format(id=comment_id)
    for headers in ({}, auth("mod_not-a-real-token"), auth(desk.key), {"Authorization": "Basic eDp5"}):
        response = await desk.client.request(method, url, json=body, headers=headers)
        assert response.status == 401, (headers, await response.text())
        assert response.headers["WWW-Authenticate"] == "Bearer"
        error = (await response.json())["error"]
        assert error["code"] == "unauthorized"
    assert (await desk.store.get_comment(comment_id)).status.value == "pending"


async def test_a_moderator_cannot_touch_another_sites_comment(desk):
    theirs = await seed(desk.store, desk.other_site_id)
    client = desk.client
    assert (await client.get(f"/v1/review/comments/{theirs}", headers=auth(desk.claire))).status == 403
    response = await client.post(f"/v1/review/comments/{theirs}/decision", headers=auth(desk.claire),
                                 json={"action": "approve", "expected_status": "pending"})
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "forbidden"
    assert (await client.get("/v1/review/queue", params={"site": "blog"},
                             headers=auth(desk.claire))).status == 403
    assert (await client.get("/v1/review/stats", params={"site": "blog"},
                             headers=auth(desk.claire))).status == 403
    assert (await desk.store.get_comment(theirs)).status.value == "pending"
    # Their own moderator and the admin may.
    assert (await client.get(f"/v1/review/comments/{theirs}", headers=auth(desk.paul))).status == 200
    assert (await client.get(f"/v1/review/comments/{theirs}", headers=auth(desk.admin))).status == 200


async def test_privacy_operations_are_for_admins_only(desk):
    for path in ("/v1/admin/people/export", "/v1/admin/people/erase"):
        response = await desk.client.post(path, json={"email": "reader@example.fr"},
                                          headers=auth(desk.claire))
        assert response.status == 403, path


async def test_unknown_comment_is_404(desk):
    response = await desk.client.get("/v1/review/comments/999999", headers=auth(desk.admin))
    assert response.status == 404
    response = await desk.client.get("/v1/review/comments/abc", headers=auth(desk.admin))
    assert response.status == 404
