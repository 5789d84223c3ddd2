"""Every malformed request gets a 4xx with the one error shape. One test per case."""
import json

import pytest

from ..conftest import add_site, auth, comment_payload


def assert_error(body, code, *, fields=None):
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    for field in error["fields"]:
        assert {"field", "code", "message"} <= set(field)
    if fields is not None:
        assert [(f["field"], f["code"]) for f in error["fields"]] == fields


@pytest.fixture
async def key(client):
    return await add_site(client)


async def post_raw(client, key, data, content_type="application/json", **headers):
    return await client.post("/v1/comments", data=data,
                             headers={"Content-Type": content_type, **auth(key), **headers})


async def test_malformed_json(client, key):
    response = await post_raw(client, key, b'{"thread": ')
    assert response.status == 400
    assert_error(await response.json(), "malformed_json", fields=[])


async def test_invalid_utf8(client, key):
    response = await post_raw(client, key, b'{"body": "caf\xe9"}')
    assert response.status == 400
    assert_error(await response.json(), "invalid_utf8")


async def test_duplicate_keys(client, key):
    response = await post_raw(client, key, b'{"body": "a", "body": "b"}')
    assert response.status == 400
    body = await response.json()
    assert_error(body, "duplicate_key")
    assert "body" in body["error"]["message"]


async def test_nesting_too_deep(client, key):
    response = await post_raw(client, key, b'{"thread": ' + b"[" * 50 + b"]" * 50 + b"}")
    assert response.status == 400
    assert_error(await response.json(), "too_deep")


async def test_number_too_large(client, key):
    response = await post_raw(client, key, b'{"parent_id": 99999999999999999999999}')
    assert response.status == 400
    assert_error(await response.json(), "number_too_large")


async def test_body_not_an_object(client, key):
    response = await post_raw(client, key, b'["a comment"]')
    assert response.status == 400
    assert_error(await response.json(), "not_an_object")


async def test_missing_key(client, key):
    response = await client.post("/v1/comments", json=comment_payload())
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert_error(await response.json(), "unauthorized")


async def test_wrong_key(client, key):
    response = await client.post("/v1/comments", json=comment_payload(), headers=auth(key + "x"))
    assert response.status == 401
    assert_error(await response.json(), "unauthorized")


async def test_unknown_route(client):
    response = await client.get("/v1/nothing-here")
    assert response.status == 404
    assert_error(await response.json(), "not_found")


async def test_wrong_method(client):
    response = await client.delete("/v1/comments")
    assert response.status == 405
    assert "POST" in response.headers["Allow"]
    assert_error(await response.json(), "method_not_allowed")


async def test_body_too_large(client, key):
    response = await post_raw(client, key, b'{"body": "' + b"a" * 70_000 + b'"}')
    assert response.status == 413
    assert_error(await response.json(), "payload_too_large")


async def test_body_too_large_without_content_length(client, key):
    async def chunks():
        for _ in range(20):
            yield b"a" * 8192
    response = await client.post("/v1/comments", data=chunks(),
                                 headers={"Content-Type": "application/json", **auth(key)})
    assert response.status == 413
    assert_error(await response.json(), "payload_too_large")


async def test_not_json(client, key):
    response = await post_raw(client, key, b"body=hello", content_type="application/x-www-form-urlencoded")
    assert response.status == 415
    assert_error(await response.json(), "unsupported_media_type")


async def test_field_errors_named_one_by_one(client, key):
    payload = comment_payload(body="   ", surprise=True)
    payload["author"] = {"name": "", "email": "not-an-address"}
    response = await client.post("/v1/comments", json=payload, headers=auth(key))
    assert response.status == 422
    assert_error(await response.json(), "validation_failed", fields=[
        ("surprise", "unknown_field"), ("author.name", "blank"),
        ("author.email", "invalid_email"), ("body", "blank")])


async def test_missing_fields(client, key):
    response = await client.post("/v1/comments", json={"body": "Bonjour à tous"}, headers=auth(key))
    assert response.status == 422
    assert_error(await response.json(), "validation_failed",
                 fields=[("thread", "required"), ("author", "required")])


async def test_rate_limited(app_client):
    client = await app_client(rate_limit_per_email=2)
    key = await add_site(client)
    for _ in range(2):
        response = await client.post("/v1/comments", json=comment_payload(body=f"Comment {_} here"), headers=auth(key))
        assert response.status in (201, 202)
    response = await client.post("/v1/comments", json=comment_payload(body="A third one"), headers=auth(key))
    assert response.status == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert_error(await response.json(), "rate_limited")


async def test_messages_follow_accept_language_then_site_language(client):
    fr_key = await add_site(client, name="journal", lang="fr")
    en_key = await add_site(client, name="blog", lang="en")
    bad = {"body": "x"}
    french = await (await client.post("/v1/comments", json=bad, headers=auth(fr_key))).json()
    english = await (await client.post("/v1/comments", json=bad, headers=auth(en_key))).json()
    asked = await (await client.post("/v1/comments", json=bad,
                                     headers={**auth(fr_key), "Accept-Language": "en-US,en;q=0.9"})).json()
    assert french["error"]["message"] == "Tous les champs sont obligatoires et doivent être valides."
    assert french["error"]["fields"][0]["message"] == "Ce champ est obligatoire."
    assert english["error"]["message"] == "All fields are required and must be valid."
    assert asked["error"]["fields"][0]["message"] == "This field is required."


async def test_control_characters_and_lone_surrogates(client, key):
    raw = json.dumps(comment_payload(body="Bonjour\u0000", author={"name": "Jean\ud800", "email": "j@example.fr"}))
    response = await post_raw(client, key, raw.encode())
    assert response.status == 422
    assert_error(await response.json(), "validation_failed",
                 fields=[("author.name", "invalid_unicode"), ("body", "control_characters")])


async def test_too_long_fields(client, key):
    response = await client.post("/v1/comments", json=comment_payload(body="a" * 5001), headers=auth(key))
    assert response.status == 422
    body = await response.json()
    assert_error(body, "validation_failed", fields=[("body", "too_long")])
    assert "5000" in body["error"]["fields"][0]["message"]


async def test_idempotency_key_reused_for_another_request(client, key):
    headers = {**auth(key), "Idempotency-Key": "abc-1"}
    first = await client.post("/v1/comments", json=comment_payload(), headers=headers)
    assert first.status in (201, 202)
    other = await client.post("/v1/comments", json=comment_payload(body="Something else entirely"), headers=headers)
    assert other.status == 422
    assert_error(await other.json(), "idempotency_key_reused")


async def test_parent_must_be_published_in_the_same_thread(client, key):
    response = await client.post("/v1/comments", json=comment_payload(parent_id=999), headers=auth(key))
    assert response.status == 422
    assert_error(await response.json(), "validation_failed", fields=[("parent_id", "invalid_parent")])


async def test_bad_query_parameter(client, key):
    response = await client.get("/v1/sites/journal/threads/top?days=0")
    assert response.status == 400
    assert_error(await response.json(), "invalid_parameter", fields=[("days", "invalid_value")])
