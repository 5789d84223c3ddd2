"""`train.py convert`: a joblib model written before portable-1, rewritten without retraining."""

import json
from pathlib import Path

import joblib
import numpy as np
import pytest

from moderation.scoring.features import FEATURE_VERSION, build_pipeline
from moderation.scoring.model import (
    UnsafeModelFormatError,
    current_manifest_path,
    load_bundle,
    manifest_hmac,
    sha256_file,
)
from moderation.training.artifact import library_versions, set_current
from moderation.training.cli import main
from tests.scoring.test_linear import ODD_INPUTS
from tests.scoring.toy import toy_inputs

KEY = b"convert-key"
VERSION = "spam-svm-20260101T000000Z"
KEY_VARIABLE = "MODERATION_TEST_CONVERT_KEY"


@pytest.fixture(scope="module")
def pipeline():
    inputs, labels, _ = toy_inputs()
    fitted = build_pipeline(seed=0).fit(inputs, labels)
    fitted.named_steps["classifier"].calibrate(1.3, 0.2)
    return fitted


def _write_legacy(pipeline, directory: Path, key: bytes | None = None) -> Path:
    """A model as ``write_model`` wrote it before portable-1: joblib file, manifest, card."""
    model = directory / f"{VERSION}.joblib"
    joblib.dump(pipeline, model, compress=3)
    manifest = {
        "created_at": "2026-01-01T00:00:00Z",
        "languages": ["en"],
        "thresholds": {"approve_below": 0.2, "reject_above": 0.8},
        "metrics": {"roc_auc": 0.99},
        "card": f"{VERSION}.md",
        "format": 1,
        "version": VERSION,
        "model_file": model.name,
        "sha256": sha256_file(model),
        "libraries": {**library_versions(), "joblib": joblib.__version__},
        "feature_version": FEATURE_VERSION,
    }
    if key is not None:
        manifest["hmac"] = manifest_hmac(manifest, key)
    path = directory / f"{VERSION}.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    (directory / f"{VERSION}.md").write_text(
        f"# Model card\n\nfile `{model.name}` (sha256 `{manifest['sha256']}`).\n\nThe rest stays.\n")
    set_current(directory, VERSION)
    return path


def test_convert_rewrites_a_joblib_model_without_retraining(pipeline, tmp_path, capsys):
    manifest_path = _write_legacy(pipeline, tmp_path)
    before = json.loads(manifest_path.read_text())
    with pytest.raises(UnsafeModelFormatError):
        load_bundle(manifest_path)

    assert main(["convert", "--models-dir", str(tmp_path)]) == 0
    assert "joblib file removed" in capsys.readouterr().out

    after = json.loads(manifest_path.read_text())
    assert after["model_file"] == f"{VERSION}.npz" and after["model_format"] == "portable-1"
    assert after["sha256"] == sha256_file(tmp_path / after["model_file"])
    changed = {key for key in after if after.get(key) != before.get(key)}
    assert changed == {"model_file", "model_format", "sha256"}   # version, metrics... kept
    assert not (tmp_path / f"{VERSION}.joblib").exists()
    card = (tmp_path / f"{VERSION}.md").read_text()
    assert f"file `{VERSION}.npz` (sha256 `{after['sha256']}`)" in card and "The rest stays." in card

    bundle = load_bundle(current_manifest_path(tmp_path))
    np.testing.assert_allclose(bundle.predict_proba(ODD_INPUTS), pipeline.predict_proba(ODD_INPUTS)[:, 1],
                               rtol=0, atol=1e-12)
    # a second run has nothing to convert
    assert main(["convert", "--models-dir", str(tmp_path)]) == 1
    assert "already in the portable-1 format" in capsys.readouterr().err


def test_a_signed_model_is_verified_and_signed_again(pipeline, tmp_path, capsys, monkeypatch):
    manifest_path = _write_legacy(pipeline, tmp_path, KEY)
    assert main(["convert", "--model", str(manifest_path)]) == 1
    assert "signed" in capsys.readouterr().err and (tmp_path / f"{VERSION}.joblib").exists()
    monkeypatch.setenv(KEY_VARIABLE, "another key")
    assert main(["convert", "--model", str(manifest_path), "--hmac-key-env", KEY_VARIABLE]) == 1
    assert "HMAC does not match" in capsys.readouterr().err
    monkeypatch.setenv(KEY_VARIABLE, KEY.decode())
    assert main(["convert", "--model", str(manifest_path), "--hmac-key-env", KEY_VARIABLE]) == 0
    assert load_bundle(manifest_path, hmac_key=KEY).manifest["model_format"] == "portable-1"


def test_a_tampered_joblib_file_is_not_converted(pipeline, tmp_path, capsys):
    manifest_path = _write_legacy(pipeline, tmp_path)
    model = tmp_path / f"{VERSION}.joblib"
    model.write_bytes(model.read_bytes() + b"\0")
    assert main(["convert", "--model", str(manifest_path)]) == 1
    assert "tampered" in capsys.readouterr().err
    assert not (tmp_path / f"{VERSION}.npz").exists()
