"""Sessions and CSRF, the pure parts: ids, tokens, cookies, redirects, the
sign-in limiter."""
import pytest

from moderation.credentials import hash_secret
from moderation.web.session import (SECURE_SESSION_COOKIE, SESSION_COOKIE,
                                    cookie_options, csrf_token_for, is_https, new_session_id,
                                    safe_next, session_cookie_name, session_hash, tokens_match)


def test_session_ids_are_random_and_stored_as_their_hash():
    first, second = new_session_id(), new_session_id()
    assert first != second and len(first) >= 40
    assert session_hash(first) == hash_secret(first) != first


def test_the_csrf_token_belongs_to_its_session_and_does_not_reveal_it():
    session_id = new_session_id()
    token = csrf_token_for(session_id)
    assert token == csrf_token_for(session_id)               # stable for the session
    assert token != csrf_token_for(new_session_id())        # another session, another token
    assert session_id not in token and token != session_hash(session_id)
    assert len(token) == 64


@pytest.mark.parametrize("given,expected", [
    ("abc", True), ("abd", False), ("ab", False), ("", False), (None, False)])
def test_tokens_match_only_when_equal_and_present(given, expected):
    assert tokens_match("abc", given) is expected
    assert tokens_match("", "") is False and tokens_match(None, None) is False


def test_https_is_seen_directly_or_through_a_trusted_proxy_only():
    assert is_https("https", None, trust_forwarded=False)
    assert not is_https("http", "https", trust_forwarded=False)
    assert is_https("http", "https", trust_forwarded=True)
    assert is_https("http", "HTTPS, http", trust_forwarded=True)      # the client-facing hop
    assert not is_https("http", "http, https", trust_forwarded=True)
    assert not is_https("http", None, trust_forwarded=True)


def test_cookies_are_httponly_strict_and_secure_with_the_host_prefix_over_https():
    assert session_cookie_name(True) == SECURE_SESSION_COOKIE == "__Host-moderation_session"
    assert session_cookie_name(False) == SESSION_COOKIE
    options = cookie_options(secure=True, path="/", max_age=60)
    assert options == {"path": "/", "max_age": 60, "httponly": True, "samesite": "Strict",
                       "secure": True}
    assert cookie_options(secure=False, path="/x", max_age=0)["secure"] is False


@pytest.mark.parametrize("target,expected", [
    ("/moderate", "/moderate"),
    ("/moderate?status=spam&order=oldest", "/moderate?status=spam&order=oldest"),
    ("/moderate/comments/12", "/moderate/comments/12"),
    (None, "/moderate"), ("", "/moderate"),
    ("//evil.example", "/moderate"), ("https://evil.example/moderate", "/moderate"),
    ("/moderate//evil.example", "/moderate"), ("/moderate\\evil", "/moderate"),
    ("/moderatefoo", "/moderate"), ("/v1/review/queue", "/moderate"),
    ("/moderate\r\nSet-Cookie: x=1", "/moderate"),
])
def test_redirect_targets_stay_on_the_pages(target, expected):
    assert safe_next(target) == expected
