"""Strict JSON decoding: each way a body can be refused."""
import pytest

from moderation.errors import ApiError
from moderation.jsonbody import MAX_DEPTH, parse_json


@pytest.mark.parametrize("raw, code", [
    (b'{"a": 1', "malformed_json"),
    (b"\xff\xfe{}", "invalid_utf8"),
    (b'{"a": 1, "a": 2}', "duplicate_key"),
    (b"[" * 5000 + b"]" * 5000, "too_deep"),
    (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "too_deep"),
    (b'{"n": 1234567890123456789}', "number_too_large"),
    (b'{"n": 1e400}', "number_too_large"),
    (b'{"n": NaN}', "malformed_json"),
])
def test_refused(raw, code):
    with pytest.raises(ApiError) as raised:
        parse_json(raw)
    assert (raised.value.status, raised.value.code) == (400, code)


def test_accepts_what_a_client_sends():
    assert parse_json('{"body": "Très bien", "n": 12, "x": 1.5}'.encode()) == {
        "body": "Très bien", "n": 12, "x": 1.5}
    assert parse_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
