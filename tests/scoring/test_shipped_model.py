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

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
SHARED_DATA = REPO / ".." / "shared" / "data"

pytestmark = pytest.mark.skipif(not (MODELS / "CURRENT").is_file(), reason="no model shipped in models/ yet")


@pytest.fixture(scope="module")
def bundle():
    return load_bundle(current_manifest_path(MODELS))


def _input(text: str) -> ScoringInput:
    return ScoringInput(body=text, language=detect_language(text))


def test_shipped_model_verifies_and_meets_its_budgets_on_held_out_data(bundle):
    manifest = bundle.manifest
    assert bundle.languages == frozenset({"en"})
    assert manifest["metrics"]["ham_to_spam_rate"] <= manifest["budgets"]["max_ham_to_spam"]
    assert manifest["metrics"]["spam_to_published_rate"] <= manifest["budgets"]["max_spam_published"]
    assert "leave one group out" in manifest["evaluation"]["method"]
    assert 0 < bundle.thresholds.approve_below <= bundle.thresholds.reject_above < 1


def test_card_and_plots_are_shipped_with_it(bundle):
    card = (MODELS / bundle.manifest["card"]).read_text(encoding="utf-8")
    assert bundle.version in card and "TubeSpam" in card and "Almeida" in card
    for plot in bundle.manifest["plots"]:
        assert (MODELS / plot).read_bytes()[:4] == b"\x89PNG"


def test_blatant_spam_is_held_and_a_plain_remark_is_published(bundle):
    spam = _input("Check out my channel http://bit.ly/free-iphone and SUBSCRIBE!!! win a free iPhone now")
    ham = _input("I have listened to this song every morning since 2013, it still makes me smile")
    spam_score, ham_score = bundle.predict_proba([spam, ham])
    assert spam_score >= bundle.thresholds.reject_above
    assert ham_score < bundle.thresholds.approve_below
    assert bundle.explain(spam)[0]["weight"] > 0


def test_links_and_phone_numbers_raise_the_score(bundle):
    base = "Great video, thanks for sharing it with everyone"
    plain, with_link, with_phone = bundle.predict_proba(
        [_input(base), _input(base + " visit www.cheap-deals.xyz"), _input(base + " call 0800 123 4567")]
    )
    assert with_link > plain and with_phone > plain


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="the shared labelled data (../shared/data) is not here")
def test_manifest_fingerprints_match_the_shared_data(bundle):
    files = bundle.manifest["data"]["files"]
    assert len(files) == 4
    for entry in files:
        path = REPO / entry["path"]
        assert sha256_file(path) == entry["sha256"], entry["path"]


def test_manifest_is_stable_json(bundle):
    text = (MODELS / f"{bundle.version}.json").read_text(encoding="utf-8")
    assert json.loads(text) == bundle.manifest
