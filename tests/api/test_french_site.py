"""A French news site on a model that supports French: decisions through the HTTP API
and the Akismet endpoint, on a bilingual toy model trained in a fixture."""
from __future__ import annotations

import akismet
import pytest

from moderation.app import create_app
from moderation.config import load_settings

from ..conftest import add_site, auth, comment_payload
from ..integrations.conftest import akismet_pointed_at  # noqa: F401  (fixture)
from ..toy_model import FRENCH_HAM_TEXT, FRENCH_SPAM_TEXT, build_bilingual_toy_models

SITE_URL = "https://journal.example"


@pytest.fixture(scope="module")
def bilingual_models_dir(tmp_path_factory):
    return build_bilingual_toy_models(tmp_path_factory.mktemp("bilingual-models"))


@pytest.fixture
async def french_site(aiohttp_client, tmp_path, bilingual_models_dir):
    settings = load_settings({}, database_url=f"sqlite:///{tmp_path / 'moderation.db'}",
                             model_dir=str(bilingual_models_dir), scoring_batch_wait_ms=0.0,
                             audit_share=0.0)
    client = await aiohttp_client(create_app(settings))
    key = await add_site(client, mode="auto", lang="fr", url=SITE_URL)
    return client, key


async def post(client, key, body, **overrides):
    response = await client.post("/v1/comments", json=comment_payload(body=body, **overrides), headers=auth(key))
    return response.status, await response.json()


async def test_clean_french_is_published(french_site):
    client, key = french_site
    status, answer = await post(client, key, FRENCH_HAM_TEXT)
    assert (status, answer["status"], answer["language"], answer["reasons"]) == (
        201, "published", "fr", ["model_ham"])
    assert answer["message"] == "Merci pour votre commentaire. Il est publié."


async def test_french_spam_is_held(french_site):
    client, key = french_site
    status, answer = await post(client, key, FRENCH_SPAM_TEXT)
    assert (status, answer["status"], answer["language"], answer["reasons"]) == (
        202, "spam", "fr", ["model_spam"])


async def test_a_language_the_model_does_not_support_goes_to_review(french_site):
    client, key = french_site
    german = "Vielen Dank für diesen ausgezeichneten Artikel über den neuen Markt in unserer Stadt."
    status, answer = await post(client, key, german)
    assert (status, answer["status"], answer["language"], answer["reasons"]) == (
        202, "pending", "de", ["language_unsupported"])


async def test_short_texts_take_the_site_language_where_detection_cannot_tell(french_site):
    client, key = french_site
    # Five letters: no detector can tell; the site is French, so the model judges it as French.
    status, answer = await post(client, key, "Merci !")
    assert answer["language"] == "fr" and "language_unsupported" not in answer["reasons"]
    # Short, but clearly English: told apart among the site's and the model's languages.
    status, answer = await post(client, key, "Great article, thank you!",
                                author={"name": "Ann", "email": "ann@example.org"})
    assert answer["language"] == "en"


async def test_akismet_answers_false_for_french_ham_and_true_for_french_spam(french_site, akismet_pointed_at):
    client, key = french_site
    reader = {"user_ip": "203.0.113.7", "user_agent": "Mozilla/5.0", "comment_type": "comment",
              "comment_author": "Jeanne Martin", "comment_author_email": "jeanne.martin@example.fr"}
    checker = akismet_pointed_at(client, key)
    assert await checker.comment_check(comment_content=FRENCH_HAM_TEXT, **reader) == akismet.CheckResponse.HAM
    response = await client.post("/1.1/comment-check", data={
        "api_key": key, "blog": SITE_URL, "comment_content": FRENCH_HAM_TEXT, **reader})
    assert await response.text() == "false"
    assert response.headers["X-Moderation-Reasons"] == "model_ham"
    assert await checker.comment_check(comment_content=FRENCH_SPAM_TEXT, **reader) != akismet.CheckResponse.HAM
