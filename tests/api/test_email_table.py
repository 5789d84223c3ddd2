"""E-mail addresses through the API: checked offline, French and IDN welcome."""
import pytest

from ..conftest import add_site, auth, comment_payload

VALID = [
    "jean.dupont@example.fr",
    "élodie.müller@exemple.fr",
    "françois@société.fr",
    "user+newsletter@example.com",
    "user+tag+more@example.co.uk",
    "josé@bücher.de",
    "user@xn--bcher-kva.de",
    "x@x.fr",
    "a" * 64 + "@example.com",
    "USER@EXAMPLE.COM",
    "first_last@sub.domain.example.org",
    "o'connor@example.ie",
    "用户@例子.广告",
    "number123@example.net",
    "hyphen-ated@ex-ample.com",
]

INVALID = [
    '"quoted"@example.com',
    '"john doe"@example.com',
    "user@[192.168.0.1]",
    "user@[IPv6:2001:db8::1]",
    "user@localhost",
    "user@machine.local",
    "user@example.test",
    "user@example.invalid",
    "a..b@example.com",
    "user@example..com",
    ".user@example.com",
    "user.@example.com",
    "user@example",
    "a" * 65 + "@example.com",
    "user@@example.com",
    "userexample.com",
    "@example.com",
    "user@",
    "user name@example.com",
    "Jean <jean@example.fr>",
    "user@exa_mple.com",
    "user@-example.com",
    "user@123.123.123.123",
]


@pytest.fixture
async def key(client):
    return await add_site(client)


@pytest.mark.parametrize("email", VALID)
async def test_valid_addresses_are_accepted(client, key, email):
    payload = comment_payload(author={"name": "Lectrice", "email": email})
    response = await client.post("/v1/comments", json=payload, headers=auth(key))
    assert response.status in (201, 202), await response.text()


@pytest.mark.parametrize("email", INVALID)
async def test_invalid_addresses_are_refused_by_field(client, key, email):
    payload = comment_payload(author={"name": "Lectrice", "email": email})
    response = await client.post("/v1/comments", json=payload, headers=auth(key))
    assert response.status == 422
    fields = (await response.json())["error"]["fields"]
    assert [(f["field"], f["code"]) for f in fields] == [("author.email", "invalid_email")]


def test_the_table_is_large_enough():
    assert len(VALID) + len(INVALID) >= 30
