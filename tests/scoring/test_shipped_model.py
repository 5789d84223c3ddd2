"""The model committed in models/: it verifies, it is documented, it behaves.

Behaviour only (which of two texts is spammier, which band a blatant case
lands in), never exact probabilities.
"""

import json
from pathlib import Path

import pytest

from moderation.scoring.features import ScoringInput
from moderation.scoring.language import detect_language
from moderation.scoring.model import current_manifest_path, load_bundle, sha256_file
from tests.data import MISSING_DATA, SHARED_DATA

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"

pytestmark = pytest.mark.skipif(not (MODELS / "CURRENT").is_file(), reason="no model shipped in models/ yet")


@pytest.fixture(scope="module")
def bundle():
    return load_bundle(current_manifest_path(MODELS))


def _input(text: str, site_language: str = "en") -> ScoringInput:
    return ScoringInput(body=text, language=detect_language(text, site_language, ("en", "fr")))


def _band(bundle, text: str, site_language: str = "en") -> str:
    item = _input(text, site_language)
    score = bundle.predict_proba([item])[0]
    thresholds = bundle.thresholds_for(item.language)
    if score >= thresholds.reject_above:
        return "spam"
    return "published" if score < thresholds.approve_below else "review"


def test_shipped_model_supports_english_and_french_each_within_its_budgets(bundle):
    manifest = bundle.manifest
    budgets = manifest["budgets"]
    assert bundle.languages == frozenset({"en", "fr"})
    assert "leave one group out" in manifest["evaluation"]["method"]
    for language in ("en", "fr"):
        entry = manifest["per_language"][language]
        assert entry["supported"], entry["why"]
        assert entry["metrics"]["ham_to_spam_rate"] <= budgets["max_ham_to_spam"]
        assert entry["metrics"]["spam_to_published_rate"] <= budgets["max_spam_published"]
        assert entry["metrics"]["review_rate"] <= budgets["max_review"]
        thresholds = bundle.thresholds_for(language)
        assert 0 < thresholds.approve_below <= thresholds.reject_above < 1


def test_plain_news_remarks_are_published_and_blatant_spam_held_in_both_languages(bundle):
    assert _band(bundle, "I disagree with the mayor on this, but the article explains both sides fairly.") \
        == "published"
    assert _band(bundle, "Le maire aurait dû consulter les habitants avant de fermer la bibliothèque. "
                         "Les chiffres du budget ne tiennent pas debout.", "fr") == "published"
    assert _band(bundle, "Gagnez un iPhone gratuit !!! Cliquez ici http://bit.ly/cadeau-gratuit et "
                         "appelez le 08 99 12 34 56", "fr") == "spam"


def test_a_plain_reader_remark_is_published_with_or_without_its_source(bundle):
    remark = "I think the council made the right call on the new tram line."
    assert _band(bundle, remark) == "published"
    for source in ("Source: https://www.bbc.co.uk/news/uk-england-12345678",
                   "https://www.theguardian.com/uk-news/2026/jan/01/tram", "See https://en.wikipedia.org/wiki/Tram"):
        assert _band(bundle, f"{remark} {source}") == "published", source


def test_asking_for_likes_is_held_and_said_in_words_saying_one_likes_a_comment_is_not(bundle):
    for text, language in (("Like this comment if you agree the mayor should resign.", "en"),
                           ("Likez ce commentaire si vous êtes d'accord avec le maire.", "fr")):
        assert _band(bundle, text, language) == "spam", text
        assert any(reason["feature"] == "signal:engagement_bait" and reason["weight"] > 0
                   for reason in bundle.explain(_input(text, language)))
    assert _band(bundle, "I like this comment, well said.") != "spam"


def test_card_and_plots_are_shipped_with_it(bundle):
    card = (MODELS / bundle.manifest["card"]).read_text(encoding="utf-8")
    assert bundle.version in card and "TubeSpam" in card and "Almeida" in card
    assert "Civil Comments (CC0" in card and "machine translations" in card
    for plot in bundle.manifest["plots"]:
        assert (MODELS / plot).read_bytes()[:4] == b"\x89PNG"


def test_blatant_youtube_spam_is_held_and_explained_by_what_pushed_it(bundle):
    text = "Check out my channel http://bit.ly/free-iphone and SUBSCRIBE!!! win a free iPhone now"
    assert _band(bundle, text) == "spam"
    assert bundle.explain(_input(text))[0]["weight"] > 0


def test_links_and_phone_numbers_raise_the_score(bundle):
    base = "Great video, thanks for sharing it with everyone"
    plain, with_link, with_phone = bundle.predict_proba(
        [_input(base), _input(base + " visit www.cheap-deals.xyz"), _input(base + " call 0800 123 4567")]
    )
    assert with_link > plain and with_phone > plain


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=MISSING_DATA)
def test_manifest_fingerprints_match_the_shared_data(bundle):
    files = [entry for entry in bundle.manifest["data"]["files"] if "shared/data/" in entry["path"]]
    assert len(files) == 4
    for entry in files:
        path = SHARED_DATA / entry["path"].split("shared/data/", 1)[1]
        assert sha256_file(path) == entry["sha256"], entry["path"]


def test_shipped_model_is_a_portable_file_not_a_pickle(bundle):
    manifest = bundle.manifest
    assert manifest["model_format"] == "portable-1"
    assert manifest["model_file"] == f"{bundle.version}.npz"
    assert (MODELS / manifest["model_file"]).read_bytes()[:4] == b"PK\x03\x04"
    assert not list(MODELS.glob("*.joblib")) and not list(MODELS.glob("*.pkl"))
    card = (MODELS / manifest["card"]).read_text(encoding="utf-8")
    assert f"file `{manifest['model_file']}` (sha256 `{manifest['sha256']}`)" in card


def test_manifest_is_stable_json(bundle):
    text = (MODELS / f"{bundle.version}.json").read_text(encoding="utf-8")
    assert json.loads(text) == bundle.manifest


def test_the_project_pins_the_scikit_learn_the_shipped_model_was_trained_with(bundle):
    import tomllib
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    pinned = [d for d in dependencies if d.replace(" ", "").startswith("scikit-learn==")]
    assert pinned == [f"scikit-learn=={bundle.manifest['libraries']['scikit-learn']}"]
