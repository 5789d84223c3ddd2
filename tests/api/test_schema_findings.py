"""What schemathesis found answering 500, pinned one case at a time."""
import pytest

from ..conftest import add_moderator, add_site, auth


@pytest.mark.parametrize("path, who", [
    ("/v1/comments/{id}", "site"),
    ("/v1/review/comments/{id}", "admin"),
])
@pytest.mark.parametrize("comment_id", ["93223931943386497024", "9223372036854775808", "0", "+1", "٣", "1_0"])
async def test_ids_beyond_what_the_database_holds_are_not_found(client, path, who, comment_id):
    """Once: an id over 2**63-1 overflowed the SQLite driver (500)."""
    key = await add_site(client)
    token = key if who == "site" else await add_moderator(client, name="ada", role="admin")
    response = await client.get(path.replace("{id}", comment_id), headers=auth(token))
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_a_decision_on_a_huge_id_is_not_found(client):
    admin = await add_moderator(client, name="ada", role="admin")
    response = await client.post("/v1/review/comments/438085832421966020608/decision", headers=auth(admin),
                                 json={"action": "spam", "expected_status": "pending"})
    assert response.status == 404


async def test_a_malformed_multipart_form_is_a_bad_request(client):
    """Once: a part header aiohttp's parser refuses (InvalidHeader) escaped as 500."""
    body = (b'--XX\r\nContent-Disposition: form-data; name="a\x05\xc3\xa4"\r\n\r\nx\r\n'
            b'--XX\r\nContent-Disposition: form-data; name="key"\r\n\r\nabc\r\n--XX--\r\n')
    response = await client.post("/1.1/verify-key", data=body,
                                 headers={"Content-Type": "multipart/form-data; boundary=XX"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "bad_request"
