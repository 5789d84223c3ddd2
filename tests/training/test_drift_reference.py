"""`train.py train` writes the drift alarm's reference into the manifest: the
shares of its held-out predictions per score bin and per language, on the
original rows (not the link copies nor the auxiliary SMS rows, which are never
held out), in the bins the service uses."""
import json

import pytest

from moderation.scoring.drift import SCORE_BINS, SCORE_EDGES, model_reference
from moderation.scoring.model import current_manifest_path, load_bundle
from moderation.training.cli import main
from tests.scoring.toy import toy_rows, write_jsonl

SMS_LINES = ["spam\tWINNER!! Call 09061701461 to claim your cash prize now",
             "ham\tOk, see you at the station at six",
             "spam\tFree entry to win a holiday, text WIN to 80086 now",
             "ham\tCan you pick up some bread on the way home?"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("drift-reference")
    data = root / "data"
    (data / "sms").mkdir(parents=True)
    write_jsonl(data / "sites.jsonl", toy_rows(per_site=40))
    (data / "sms" / "SMSSpamCollection").write_text("\n".join(SMS_LINES) + "\n", encoding="utf-8")
    models = root / "models"
    assert main(["train", "--data", str(data), "--out", str(models), "--support", "en",
                 "--link-share", "0.5"]) == 0
    return json.loads(current_manifest_path(models).read_text()), models


def test_the_manifest_holds_the_held_out_reference(trained, capsys):
    manifest, _ = trained
    capsys.readouterr()
    reference = manifest["reference"]
    assert reference["score_edges"] == list(SCORE_EDGES)
    assert len(reference["score_shares"]) == SCORE_BINS
    assert sum(reference["score_shares"]) == pytest.approx(1.0, abs=1e-5)
    assert sum(reference["language_shares"].values()) == pytest.approx(1.0, abs=1e-5)
    # Every original row of the sites, held out once; not the SMS rows, not the link copies.
    data = manifest["data"]
    assert data["rows_with_link_added"] > 0
    originals = sum(entry["rows"] for name, entry in data["sources"].items()
                    if name != "sms" and not name.endswith((" +link", " (mt)")))
    assert reference["rows"] == originals == manifest["evaluation"]["pooled"]["n"] - data["rows_with_link_added"]
    # Half of the toy rows are spam, and the held-out model finds most of them.
    assert sum(reference["score_shares"][5:]) == pytest.approx(0.5, abs=0.15)
    assert max(reference["language_shares"], key=reference["language_shares"].get) == "en"


def test_the_service_reads_it_as_its_reference(trained):
    manifest, models = trained
    bundle = load_bundle(current_manifest_path(models))
    reference = model_reference(bundle.manifest)
    assert reference is not None
    assert reference.comments == reference.scored == manifest["reference"]["rows"]
    assert list(reference.scores) == manifest["reference"]["score_shares"]


def test_the_shipped_model_has_one_which_the_service_uses_only_when_asked(trained):
    from moderation.config import REPO_MODELS_DIR, SETTINGS
    shipped = json.loads(current_manifest_path(REPO_MODELS_DIR).read_text())
    assert model_reference(shipped) is not None
    # mostly English with some French: a French site would drift from its first day
    shares = shipped["reference"]["language_shares"]
    assert shares["en"] > 0.5 and shares["fr"] > 0.05
    assert {s.name: s.default for s in SETTINGS}["drift_reference"] == "traffic"
