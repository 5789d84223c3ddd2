"""The Akismet-compatible API, driven by the real ``akismet`` client from PyPI
(unchanged: only its httpx client is pointed at the test server)."""
from __future__ import annotations

import json

import akismet
import pytest

from moderation.api.akismet import blog_matches, check_answer
from moderation.domain import Decision, Reason, Status
from moderation.keys import STORE
from moderation.training.readers import read_labelled

from ..conftest import add_site
from ..review.conftest import run_cli  # noqa: F401  (fixture)
from ..toy_model import HAM_TEXT, SPAM_TEXT
from .conftest import separate_toy_bands

SITE_URL = "https://journal.example"
READER = {"user_ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (reader)",
          "comment_type": "comment", "comment_author": "Jean Dupont",
          "comment_author_email": "jean.dupont@example.fr",
          "permalink": "https://journal.example/a/42", "referrer": "https://journal.example/"}


async def no_comments_stored(client) -> bool:
    return await client.app[STORE].get_comments(list(range(1, 100))) == {}


async def raw(client, endpoint: str, **form):
    response = await client.post(f"/1.1/{endpoint}", data=form)
    return response, await response.text()


async def test_verify_key_valid_and_wrong_key(client, akismet_pointed_at):
    key = await add_site(client, mode="auto", lang="en", url=SITE_URL)
    good = akismet_pointed_at(client, key)
    assert await good.verify_key() is True
    assert await good.verify_key(key, "http://www.journal.example/") is True     # loose blog
    assert await good.verify_key("msk_wrong", SITE_URL) is False
    assert await good.verify_key(key, "https://elsewhere.example") is False

    with pytest.raises(akismet.APIKeyError):
        await akismet.AsyncClient.validated_client(
            config=akismet.Config(key="msk_wrong", url=SITE_URL),
            http_client=akismet_pointed_at(client, "x")._http_client)

    response, text = await raw(client, "verify-key", key="msk_wrong", blog=SITE_URL)
    assert (response.status, text) == (200, "invalid")
    assert response.content_type == "text/plain"
    assert "api_key" in response.headers["X-akismet-debug-help"]
    response, text = await raw(client, "verify-key", key=key, blog="https://elsewhere.example",
                               blog_lang="fr_FR")
    assert text == "invalid"
    assert response.headers["X-akismet-debug-help"].startswith("Le champ blog ne correspond pas")


async def test_comment_check_ham_and_spam_store_nothing(client, akismet_pointed_at):
    key = await add_site(client, mode="auto", lang="en", url=SITE_URL)
    await separate_toy_bands(client, key)
    async with akismet_pointed_at(client, key) as checker:     # verifies the key on entry
        assert await checker.comment_check(comment_content=HAM_TEXT, **READER) \
            == akismet.CheckResponse.HAM
        assert await checker.comment_check(comment_content=SPAM_TEXT, is_test=True, **READER) \
            == akismet.CheckResponse.DISCARD
    assert await no_comments_stored(client)

    response, text = await raw(client, "comment-check", api_key=key, blog=SITE_URL,
                               comment_content=SPAM_TEXT, **READER)
    assert text == "true" and response.headers["X-akismet-pro-tip"] == "discard"
    assert response.headers["X-Moderation-Status"] == "spam"
    assert response.headers["X-Moderation-Reasons"] == "model_spam"
    assert float(response.headers["X-Moderation-Score"]) > 0.5


async def test_review_band_is_true_without_the_discard_tip(app_client, akismet_pointed_at):
    client = await app_client(site_cache_seconds=0)   # thresholds change below, mid-test
    key = await add_site(client, mode="auto", lang="en", url=SITE_URL)
    checker = akismet_pointed_at(client, key)
    # French on the English-only toy model: the model cannot judge it, so the site must hold it.
    french = "Merci beaucoup pour cet excellent article sur le marché de Noël."
    assert await checker.comment_check(comment_content=french, **READER) == akismet.CheckResponse.SPAM
    response, text = await raw(client, "comment-check", api_key=key, blog=SITE_URL,
                               comment_content=french, **READER)
    assert text == "true" and "X-akismet-pro-tip" not in response.headers
    assert (response.headers["X-Moderation-Status"], response.headers["X-Moderation-Reasons"]) == (
        "pending", "language_unsupported")
    # Thresholds of the site put the same ham in the review band.
    site = await client.app[STORE].site_by_name("journal")
    await client.app[STORE].set_site_thresholds(site.id, approve_below=0.0, reject_above=1.01)
    assert await checker.comment_check(comment_content=HAM_TEXT, **READER) == akismet.CheckResponse.SPAM


async def test_pre_moderated_site_still_gets_false_for_ham(client, akismet_pointed_at):
    key = await add_site(client, mode="pre", lang="fr", url=SITE_URL)
    await separate_toy_bands(client, key)
    checker = akismet_pointed_at(client, key)
    assert await checker.comment_check(comment_content=HAM_TEXT, **READER) == akismet.CheckResponse.HAM


async def test_honeypot_named_by_honeypot_field_name(client):
    key = await add_site(client, mode="auto", lang="en", url=SITE_URL)
    await separate_toy_bands(client, key)
    response, text = await raw(client, "comment-check", api_key=key, blog=SITE_URL,
                               comment_content=HAM_TEXT, honeypot_field_name="website_url",
                               website_url="http://bot.example", **READER)
    assert text == "true" and response.headers["X-akismet-pro-tip"] == "discard"
    assert response.headers["X-Moderation-Reasons"] == "honeypot"
    response, text = await raw(client, "comment-check", api_key=key, blog=SITE_URL,
                               comment_content=HAM_TEXT, honeypot_field_name="website_url",
                               website_url="", **READER)
    assert text == "false"


async def test_akismet_test_values_force_the_answer(client, akismet_pointed_at):
    key = await add_site(client, mode="auto", lang="en", url=SITE_URL)
    checker = akismet_pointed_at(client, key)
    reader = {**READER, "comment_author": "akismet-guaranteed-spam"}
    assert await checker.comment_check(comment_content=HAM_TEXT, is_test=True, **reader) \
        == akismet.CheckResponse.SPAM
    assert await checker.comment_check(comment_content=SPAM_TEXT, user_role="administrator",
                                       is_test=True, **READER) == akismet.CheckResponse.HAM


async def test_submit_spam_and_ham_store_labels_for_training(client, akismet_pointed_at, run_cli,
                                                              tmp_path, capsys):
    key = await add_site(client, mode="auto", lang="en", url=SITE_URL)
    store = client.app[STORE]
    checker = akismet_pointed_at(client, key)
    missed = "Best casino bonus of the year, join today and double your deposit"
    rescued = "I think the council should publish the whole budget, not a summary."
    assert await checker.submit_spam(comment_content=missed, **READER) is True
    assert await checker.submit_ham(comment_content=rescued, **READER) is True
    assert await checker.submit_ham(comment_content="only a test", is_test=True, **READER) is True
    assert await checker.submit_spam(**READER) is True           # no text: nothing to learn
    assert await no_comments_stored(client)

    labels = await store.training_labels(since=None, site_id=None, after_id=0, limit=10)
    assert [(lb.body, lb.label, lb.language, lb.source, lb.site) for lb in labels] == [
        (missed, "spam", "en", "akismet", "journal"), (rescued, "ham", "en", "akismet", "journal")]
    # The site changes its mind: one row per text, the latest label wins.
    assert await checker.submit_ham(comment_content=missed, **READER) is True
    labels = await store.training_labels(since=None, site_id=None, after_id=0, limit=10)
    assert [(lb.body, lb.label) for lb in labels] == [(missed, "ham"), (rescued, "ham")]

    out = tmp_path / "labels.jsonl"
    assert await run_cli("export-labels", str(out)) == 0
    out_text = capsys.readouterr().out
    assert "exported 2 labels (0 spam, 2 ham)" in out_text and "2 of them sent by sites" in out_text
    text = out.read_text(encoding="utf-8")
    assert "example.fr" not in text and "203.0.113" not in text and "Jean" not in text
    rows = [json.loads(line) for line in text.splitlines()]
    assert {row["source"] for row in rows} == {"akismet"}
    assert {(row.body, row.label) for row in read_labelled(out).rows} == {(missed, 0), (rescued, 0)}


async def test_wrong_key_and_missing_fields(client, akismet_pointed_at):
    key = await add_site(client, mode="auto", lang="en", url=SITE_URL)
    wrong = akismet_pointed_at(client, "msk_not_a_key")
    with pytest.raises(akismet.APIKeyError):
        await wrong.comment_check(comment_content=HAM_TEXT, **READER)
    with pytest.raises(akismet.APIKeyError):
        await wrong.submit_spam(comment_content=SPAM_TEXT, **READER)
    with pytest.raises(akismet.APIKeyError):
        await wrong.submit_ham(comment_content=HAM_TEXT, **READER)
    assert await client.app[STORE].training_labels(since=None, site_id=None, after_id=0,
                                                   limit=10) == []

    response, text = await raw(client, "comment-check", api_key=key, blog=SITE_URL,
                               comment_content=HAM_TEXT)
    assert text == "Missing required field: user_ip."
    assert response.headers["X-akismet-debug-help"] == "Missing required field: user_ip."
    response, text = await raw(client, "comment-check", api_key=key, blog=SITE_URL,
                               comment_content=HAM_TEXT, blog_lang="fr_FR")
    assert text == "Missing required field: user_ip."          # Akismet's protocol text
    assert response.headers["X-akismet-debug-help"] == "Champ obligatoire absent : user_ip."
    response, text = await raw(client, "submit-spam", api_key=key, user_ip="203.0.113.7")
    assert text == "invalid" and "blog" in response.headers["X-akismet-debug-help"]
    # Outside Akismet's protocol (wrong method), the service's one JSON error shape.
    response = await client.get("/1.1/comment-check")
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method_not_allowed"


def test_blog_matching_is_loose_on_form_strict_on_site():
    site = "https://journal.example"
    for blog in ("https://journal.example", "http://journal.example/", "https://www.journal.example",
                 "https://JOURNAL.example:443/", "journal.example", "https://journal.example/fr/"):
        assert blog_matches(blog, site), blog
    for blog in ("https://journal.example.evil", "https://evil.example/journal.example",
                 "https://journal.example:8443", "", "https://"):
        assert not blog_matches(blog, site), blog
    assert blog_matches("https://example.org/blog/", "https://example.org/blog")
    assert not blog_matches("https://example.org/blogger", "https://example.org/blog")
    assert not blog_matches("https://example.org/", "https://example.org/blog")


def test_check_answer_per_band():
    assert check_answer(Decision(Status.PUBLISHED, (Reason.MODEL_HAM,))) == ("false", False)
    assert check_answer(Decision(Status.PENDING, (Reason.MODEL_UNCERTAIN,))) == ("true", False)
    assert check_answer(Decision(Status.PENDING, (Reason.NO_MODEL,))) == ("true", False)
    assert check_answer(Decision(Status.SPAM, (Reason.MODEL_SPAM,))) == ("true", True)
