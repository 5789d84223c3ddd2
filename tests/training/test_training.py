"""End to end: `train.py train` on small files written here, then `train.py evaluate`."""

import io
import json
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from moderation.scoring.model import current_manifest_path, load_bundle, sha256_file
from moderation.training.cli import EVALUATE_KEYS, main
from tests.scoring.toy import toy_rows, write_jsonl

REPO = Path(__file__).resolve().parents[2]
KEY_VARIABLE = "MODERATION_TEST_MODEL_KEY"
SMS_LINES = [
    "spam\tWINNER!! Call 09061701461 to claim your cash prize now",
    "spam\tFree entry to win a holiday, text WIN to 80086 now",
    "ham\tOk, see you at the station at six",
    "ham\tCan you pick up some bread on the way home?",
] * 3  # exact duplicates on purpose: removed before any split


def _write_data(root: Path) -> Path:
    data = root / "data"
    (data / "sms").mkdir(parents=True)
    rows = toy_rows(per_site=40)
    write_jsonl(data / "sites.jsonl", rows)
    (data / "sms" / "SMSSpamCollection").write_text("\n".join(SMS_LINES) + "\n", encoding="utf-8")
    (data / "README.md").write_text("# not data\n", encoding="utf-8")
    return data


def _train(data: Path, out: Path, capsys, *extra: str) -> tuple[int, str, str]:
    code = main(["train", "--data", str(data), "--out", str(out), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One signed training run shared by the tests below: (data dir, models dir, stdout, stderr)."""
    root = tmp_path_factory.mktemp("training")
    data = _write_data(root)
    models = root / "models"
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(out), redirect_stderr(err):
        patch.setenv(KEY_VARIABLE, "s3cret")
        code = main(["train", "--data", str(data), "--out", str(models), "--hmac-key-env", KEY_VARIABLE,
                     "--support", "en"])
    assert code == 0, err.getvalue()
    return data, models, out.getvalue(), err.getvalue()


def test_train_writes_a_verified_artifact_and_points_current_at_it(trained):
    data, models, _, _ = trained
    manifest_path = current_manifest_path(models)
    version = manifest_path.stem
    assert version.startswith("spam-svm-")
    for name in (f"{version}.npz", f"{version}.json", f"{version}.md"):
        assert (models / name).is_file()
    assert not list(models.glob("*.joblib"))
    for plot in ("roc", "pr", "scores", "calibration"):
        assert (models / version / f"{plot}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bundle = load_bundle(manifest_path, hmac_key=b"s3cret")
    assert bundle.version == version and bundle.languages == frozenset({"en"})
    # 40 rows per site cannot measure a 0.5 % budget: English is supported only because the
    # run forces it, and the manifest says so beside its own thresholds.
    english = bundle.manifest["per_language"]["en"]
    assert english["supported"] and english["why"] == "forced by --support"
    assert bundle.thresholds_for("en").as_dict() == english["thresholds"]


def test_manifest_records_what_the_issue_asks_for(trained):
    data, models, _, _ = trained
    manifest = json.loads(current_manifest_path(models).read_text())
    assert manifest["sha256"] == sha256_file(models / manifest["model_file"])
    assert set(manifest["libraries"]) >= {"python", "scikit-learn", "numpy", "scipy"}
    assert manifest["model_format"] == "portable-1" and manifest["model_file"].endswith(".npz")
    files = {Path(f["path"]).name: f for f in manifest["data"]["files"]}
    assert set(files) == {"sites.jsonl", "SMSSpamCollection"}
    assert files["sites.jsonl"]["sha256"] == sha256_file(data / "sites.jsonl")
    assert files["SMSSpamCollection"]["rows"] == len(SMS_LINES)
    assert manifest["data"]["groups"]["sms"]["rows"] == 4  # the SMS copies went before any split
    assert manifest["data"]["duplicates_removed"] >= len(SMS_LINES) - 4
    assert manifest["languages"] == ["en"]
    assert manifest["feature_version"] and manifest["created_at"].endswith("Z") and "hmac" in manifest
    evaluation = manifest["evaluation"]
    assert set(evaluation["per_group"]) == {"site-a", "site-b", "site-c"}  # sms is auxiliary
    assert all("transfer" in group for group in evaluation["per_group"].values())
    for key in ("roc_auc", "pr_auc", "f1", "mcc", "recall_at_1pct_fpr", "ham_to_spam_rate",
                "spam_to_published_rate", "review_rate"):
        assert key in manifest["metrics"]
    assert manifest["metrics"]["ham_to_spam_rate"] <= 0.005
    assert manifest["metrics"]["spam_to_published_rate"] <= 0.02
    thresholds = manifest["thresholds"]
    assert 0.0 <= thresholds["approve_below"] <= thresholds["reject_above"]


def test_model_card_is_generated_from_the_manifest(trained):
    _, models, _, _ = trained
    version = current_manifest_path(models).stem
    card = (models / f"{version}.md").read_text()
    manifest = json.loads((models / f"{version}.json").read_text())
    for heading in ("## Intended use", "## Data", "## Evaluation", "## Languages", "## Links",
                    "## Default thresholds", "## Limits"):
        assert heading in card
    english = manifest["per_language"]["en"]["thresholds"]
    assert f"{english['approve_below']:.3f} / {english['reject_above']:.3f}" in card  # the per-language table
    assert "Almeida" in card  # the SMS collection's citation
    assert "French" in card
    assert f"{manifest['thresholds']['reject_above']:.4f}" in card
    assert f"{version}/roc.png" in card


def test_progress_and_summary_are_printed(trained):
    _, _, out, err = trained
    assert "[1/6]" in err and "[6/6]" in err and "holding out site-b" in err
    assert "all held-out" in out and "approve below" in out and "CURRENT ->" in out


def test_same_data_and_seed_give_the_same_model_in_one_process_or_several(trained, tmp_path, capsys):
    data, models, _, _ = trained  # fitted with --jobs defaulting to one process per CPU
    code, _, err = _train(data, tmp_path / "again", capsys, "--jobs", "1", "--support", "en")
    assert code == 0, err
    first = json.loads(current_manifest_path(models).read_text())
    second = json.loads(current_manifest_path(tmp_path / "again").read_text())
    assert second["evaluation"] == first["evaluation"]
    assert second["thresholds"] == first["thresholds"]
    with np.load(current_manifest_path(models).with_suffix(".npz")) as a, \
            np.load(current_manifest_path(tmp_path / "again").with_suffix(".npz")) as b:
        assert sorted(a.files) == sorted(b.files)
        assert all(np.array_equal(a[name], b[name]) for name in a.files)


def test_evaluate_prints_one_json_object_last(trained, capsys):
    data, models, _, _ = trained
    code = main(["evaluate", "--data", str(data / "sites.jsonl"), "--models-dir", str(models)])
    out = capsys.readouterr().out
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert tuple(result) == EVALUATE_KEYS
    assert result["n"] == 120
    assert 0.9 <= result["roc_auc"] <= 1.0
    assert 0.0 <= result["review_rate"] <= 1.0


def test_evaluate_refuses_a_tampered_model(trained, tmp_path, capsys):
    _, models, _, _ = trained
    copy = tmp_path / "models"
    shutil.copytree(models, copy)
    model_file = copy / f"{current_manifest_path(copy).stem}.npz"
    model_file.write_bytes(model_file.read_bytes()[::-1])
    data = tmp_path / "one.jsonl"
    write_jsonl(data, toy_rows(per_site=2))
    code = main(["evaluate", "--data", str(data), "--model", str(current_manifest_path(copy))])
    assert code == 1
    assert "tampered" in capsys.readouterr().err


def test_stricter_budgets_widen_the_review_band(trained, tmp_path, capsys):
    data, models, _, _ = trained
    code, _, err = _train(data, tmp_path / "strict", capsys, "--max-ham-to-spam", "0", "--max-spam-published", "0")
    assert code == 0, err
    default = json.loads(current_manifest_path(models).read_text())["metrics"]
    strict = json.loads(current_manifest_path(tmp_path / "strict").read_text())["metrics"]
    assert strict["ham_to_spam_rate"] == strict["spam_to_published_rate"] == 0.0
    assert strict["review_rate"] >= default["review_rate"]


def test_usage_errors_exit_with_status_2(tmp_path, capsys, monkeypatch):
    assert main(["train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path)]) == 2
    assert "no such file" in capsys.readouterr().err
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    data = write_jsonl(tmp_path / "d.jsonl", toy_rows(per_site=2))
    assert main(["train", "--data", str(data), "--out", str(tmp_path), "--hmac-key-env", KEY_VARIABLE]) == 2
    assert KEY_VARIABLE in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--data", str(data), "--max-ham-to-spam", "5"])
    with pytest.raises(SystemExit):
        main(["train", "--data", str(data), "--jobs", "0"])
    assert "at least 1" in capsys.readouterr().err


def test_train_py_entry_point_runs_evaluate(trained):
    data, models, _, _ = trained
    completed = subprocess.run(
        [sys.executable, "train.py", "evaluate", "--data", str(data / "sites.jsonl"), "--models-dir", str(models)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert set(json.loads(completed.stdout.strip().splitlines()[-1])) == set(EVALUATE_KEYS)


def test_a_site_s_labels_weigh_more_and_stay_held_out(tmp_path, capsys):
    data = _write_data(tmp_path)
    code, out, err = _train(data, tmp_path / "models", capsys, "--weight", "site-a=3", "--link-share", "0.2")
    assert code == 0, err
    manifest = json.loads(current_manifest_path(tmp_path / "models").read_text())
    assert manifest["data"]["groups"]["site-a"]["weight"] == 3.0
    assert manifest["data"]["groups"]["site-b"]["weight"] == 1.0
    assert manifest["training"]["group_weights"] == {"site-a": 3.0}
    assert "site-a" in manifest["evaluation"]["per_group"]          # still held out as a source
    assert manifest["data"]["rows_with_link_added"] > 0
    with pytest.raises(SystemExit) as exited:
        _train(data, tmp_path / "other", capsys, "--weight", "site-a=0")
    assert exited.value.code == 2 and "GROUP=WEIGHT" in capsys.readouterr().err


def test_a_weight_or_auxiliary_group_absent_from_the_data_is_refused(tmp_path, capsys):
    """A misspelt site name would otherwise train without its weight, silently."""
    data = _write_data(tmp_path)
    for option, weight in (("--weight", "site-z=3"), ("--auxiliary", "site-z=0.5")):
        code, _, err = _train(data, tmp_path / "models", capsys, option, weight)
        assert code == 2
        assert "no rows of group site-z in the data" in err and "site-a, site-b" in err
    assert not (tmp_path / "models" / "CURRENT").exists()


@pytest.mark.skipif(shutil.which("apertium") is None,
                    reason="Apertium is not installed (apt-get install apertium apertium-eng-cat apertium-fra-cat)")
def test_a_translated_run_records_which_translations_it_trained_on(tmp_path, capsys):
    """Apertium's output depends a little on the texts translated together, so the
    manifest fingerprints the translations: same fingerprint, same model."""
    data = _write_data(tmp_path)
    runs = []
    notes = []
    for name in ("first", "second"):
        code, _, err = _train(data, tmp_path / name, capsys, "--translate", "fr", "--support", "en",
                              "--translation-cache", str(tmp_path / "cache"), "--link-share", "0")
        assert code == 0, err
        runs.append(json.loads(current_manifest_path(tmp_path / name).read_text()))
        notes.append(err)
    assert "Apertium: translating" in notes[0] and "the cache keeps them" in notes[0]
    assert "Apertium: translating" not in notes[1]                # everything came from the cache
    first, second = runs
    fingerprint = first["training"]["translations_sha256"]
    assert len(fingerprint) == 64 and second["training"]["translations_sha256"] == fingerprint
    assert first["data"]["rows_translated"] > 0
    assert second["evaluation"] == first["evaluation"]
    card = (tmp_path / "first" / first["card"]).read_text(encoding="utf-8")
    assert fingerprint[:16] in card and "empty cache" in card
    assert first["training"]["translation_terms"]["fr"] > 0 and "terminology.py" in card
    assert first["training"]["translation_formal_share"] == {"fr": 0.5} and "formal.py" in card
    code, _, err = _train(data, tmp_path / "plain", capsys, "--support", "en")
    assert code == 0, err
    untranslated = json.loads(current_manifest_path(tmp_path / "plain").read_text())
    assert untranslated["training"]["translations_sha256"] is None
    assert untranslated["training"]["translation_terms"] == {}
    assert untranslated["training"]["translation_formal_share"] == {}
    plain_card = (tmp_path / "plain" / untranslated["card"]).read_text(encoding="utf-8")
    assert "terminology.py" not in plain_card


def test_files_never_trained_on_are_decided_as_the_service_would_with_their_links_apart(tmp_path, capsys):
    """``--evaluate-on``: per label, and per label for the rows with a real link."""
    data = _write_data(tmp_path)
    unseen = tmp_path / "unseen.jsonl"
    write_jsonl(unseen, [
        {"body": "I disagree with the minutes, the 2019 figures say otherwise", "label": "ham"},
        {"body": "The full report: http://www.example.org/council/2019-budget", "label": "ham"},
        {"body": "Thanks for the analysis, it matches https://www.cbc.ca/news/budget", "label": "ham"},
        {"body": "WIN a FREE iPhone now, visit http://www.promo77.com/a1 today", "label": "spam"},
    ])
    code, out, err = _train(data, tmp_path / "models", capsys, "--support", "en", "--evaluate-on", str(unseen))
    assert code == 0, err
    manifest = json.loads(current_manifest_path(tmp_path / "models").read_text())
    outcome = manifest["independent_evaluation"]["unseen.jsonl"]
    assert (outcome["ham"]["n"], outcome["ham_with_link"]["n"]) == (3, 2)
    assert (outcome["spam"]["n"], outcome["spam_with_link"]["n"]) == (1, 1)
    for part in ("ham", "ham_with_link", "spam", "spam_with_link"):
        assert sum(outcome[part][band] for band in ("published", "review", "spam")) == pytest.approx(1.0)
    assert outcome["spam"]["published"] == 0.0
    card = (tmp_path / "models" / manifest["card"]).read_text(encoding="utf-8")
    for text in (card, out):
        assert "| unseen.jsonl | ham, with a link | 2 |" in " ".join(text.split())   # padding collapsed


@pytest.mark.skipif(shutil.which("apertium") is None,
                    reason="Apertium is not installed (apt-get install apertium apertium-eng-cat apertium-fra-cat)")
def test_a_translation_apertium_failed_on_is_left_out_not_trained_on_empty(tmp_path, capsys):
    from tests.training.test_apertium import CRASHES_APERTIUM
    data = _write_data(tmp_path)
    write_jsonl(data / "news.jsonl", [{"body": CRASHES_APERTIUM, "label": "ham", "language": "en"},
                                      {"body": ":-) :-)", "label": "ham", "language": "en"}])
    code, _, err = _train(data, tmp_path / "models", capsys, "--translate", "fr", "--support", "en",
                          "--translation-cache", str(tmp_path / "cache"), "--link-share", "0")
    assert code == 0, err
    assert "1 of the translations came out empty and are left out" in err
    manifest = json.loads(current_manifest_path(tmp_path / "models").read_text())
    english = manifest["data"]["rows_used"] - manifest["data"]["rows_translated"]
    assert manifest["data"]["rows_translated"] == english - 1     # the emoticons, wordless, stay
