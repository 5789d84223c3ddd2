"""Loading a model: verification before reading it, no pickle ever, and the holder that
keeps the last good one."""

import hashlib
import json
import pickle
import shutil
from pathlib import Path

import joblib
import pytest
import sklearn

from moderation.scoring import model as model_module
from moderation.domain import Bands
from moderation.scoring.features import ScoringInput, build_pipeline
from moderation.scoring.model import (
    IntegrityError,
    ManifestError,
    ModelError,
    ModelHolder,
    ModelLoadError,
    UnsafeModelFormatError,
    VersionMismatchError,
    current_manifest_path,
    load_bundle,
    manifest_hmac,
)
from moderation.scoring.portable import PORTABLE_FORMAT, PortableFormatError
from moderation.training.artifact import set_current, write_model
from tests.scoring.toy import toy_inputs

KEY = b"test-signing-key"
SPAM = ScoringInput("WIN a FREE iPhone now, visit http://www.promo7.com/a1 !!!", "user42", "", "en")
HAM = ScoringInput("The dancing at 3:15 is hilarious, my kids love it", "Anna", "", "en")
FIELDS = {
    "created_at": "2026-01-01T00:00:00Z",
    "languages": ["en"],
    "thresholds": {"approve_below": 0.2, "reject_above": 0.8},
}


@pytest.fixture(scope="module")
def toy_pipeline():
    inputs, labels, _ = toy_inputs()
    return build_pipeline(seed=0).fit(inputs, labels)


@pytest.fixture
def models_dir(tmp_path, toy_pipeline) -> Path:
    """A models directory with two signed versions, CURRENT -> v1."""
    for version in ("toy-v1", "toy-v2"):
        write_model(toy_pipeline, FIELDS, tmp_path, version, hmac_key=KEY)
    set_current(tmp_path, "toy-v1")
    return tmp_path


def _edit_manifest(path: Path, **changes) -> None:
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


def test_manifest_round_trip(models_dir, toy_pipeline):
    path = current_manifest_path(models_dir)
    assert path == models_dir / "toy-v1.json"
    bundle = load_bundle(path, hmac_key=KEY)
    assert bundle.version == "toy-v1"
    assert bundle.thresholds == Bands.checked(approve_below=0.2, reject_above=0.8)
    assert bundle.languages == frozenset({"en"})
    assert bundle.manifest["libraries"]["scikit-learn"] == sklearn.__version__
    assert bundle.manifest["created_at"] == FIELDS["created_at"]
    assert len(bundle.manifest["sha256"]) == 64
    assert bundle.manifest["model_format"] == PORTABLE_FORMAT == "portable-1"
    assert bundle.manifest["model_file"] == "toy-v1.npz"
    assert not list(models_dir.glob("*.joblib"))
    assert bundle.loaded_at > 0
    inputs = [SPAM, HAM]
    assert bundle.predict_proba(inputs) == pytest.approx(toy_pipeline.predict_proba(inputs)[:, 1].tolist(), abs=1e-12)


def test_predict_proba_is_batched_and_ordered(models_dir):
    bundle = load_bundle(current_manifest_path(models_dir))
    spam, ham = bundle.predict_proba([SPAM, HAM])
    assert spam > 0.5 > ham
    assert bundle.predict_proba([HAM, SPAM]) == [ham, spam]
    assert bundle.predict_proba([]) == []


def test_explain_names_the_features_that_pushed_the_score(models_dir):
    bundle = load_bundle(current_manifest_path(models_dir))
    reasons = bundle.explain(SPAM, top=4)
    assert 1 <= len(reasons) <= 4
    assert all(set(reason) == {"feature", "weight"} for reason in reasons)
    weights = [abs(reason["weight"]) for reason in reasons]
    assert weights == sorted(weights, reverse=True)
    assert sum(reason["weight"] for reason in reasons) > 0  # towards spam
    assert all(reason["feature"].split(":")[0] in {"word", "char", "signal", "lang"} for reason in reasons)


def test_tampered_model_file_is_refused_before_reading_it(models_dir, monkeypatch):
    model_file = models_dir / "toy-v1.npz"
    model_file.write_bytes(model_file.read_bytes() + b"\x00")
    monkeypatch.setattr(model_module, "load_pipeline", lambda *a, **k: pytest.fail("read a tampered file"))
    with pytest.raises(IntegrityError, match="tampered"):
        load_bundle(models_dir / "toy-v1.json")


def test_tampered_manifest_fails_its_hmac(models_dir):
    _edit_manifest(models_dir / "toy-v1.json", thresholds={"approve_below": 0.0, "reject_above": 1.0})
    with pytest.raises(IntegrityError, match="HMAC"):
        load_bundle(models_dir / "toy-v1.json", hmac_key=KEY)
    with pytest.raises(IntegrityError, match="HMAC"):
        load_bundle(models_dir / "toy-v2.json", hmac_key=b"another key")


def test_a_configured_key_requires_a_signed_manifest(tmp_path, toy_pipeline):
    path, _ = write_model(toy_pipeline, FIELDS, tmp_path, "unsigned")
    assert load_bundle(path).version == "unsigned"
    with pytest.raises(IntegrityError, match="not signed"):
        load_bundle(path, hmac_key=KEY)


def test_another_scikit_learn_version_is_refused(models_dir):
    manifest = json.loads((models_dir / "toy-v1.json").read_text())
    _edit_manifest(models_dir / "toy-v1.json", libraries={**manifest["libraries"], "scikit-learn": "0.24.2"})
    with pytest.raises(VersionMismatchError, match=r"scikit-learn 0\.24\.2.*retrain with train\.py or install scikit-learn==0\.24\.2"):
        load_bundle(models_dir / "toy-v1.json")


def test_another_feature_version_is_refused(models_dir):
    _edit_manifest(models_dir / "toy-v1.json", feature_version="0-old")
    with pytest.raises(VersionMismatchError, match="feature version"):
        load_bundle(models_dir / "toy-v1.json")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{not json", "not readable JSON"),
        ("[]", "JSON object"),
        ('{"format": 1}', "invalid"),
    ],
)
def test_missing_or_invalid_manifest(tmp_path, content, message):
    path = tmp_path / "m.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ManifestError, match=message):
        load_bundle(path)


def test_manifest_must_not_point_outside_its_directory(models_dir):
    _edit_manifest(models_dir / "toy-v1.json", model_file="../elsewhere.npz")
    with pytest.raises(ManifestError, match="model_file"):
        load_bundle(models_dir / "toy-v1.json")


def test_only_a_scoring_pipeline_can_be_written(tmp_path):
    with pytest.raises(PortableFormatError, match="Pipeline"):
        write_model({"not": "a pipeline"}, FIELDS, tmp_path, "odd")


def _replace_model_file(manifest_path: Path, content: bytes, key: bytes | None = None) -> None:
    """What someone who can write the models directory can do: a new file and a
    self-consistent manifest (signed too, if they hold the key)."""
    manifest = json.loads(manifest_path.read_text())
    (manifest_path.parent / manifest["model_file"]).write_bytes(content)
    manifest["sha256"] = hashlib.sha256(content).hexdigest()
    manifest.pop("hmac", None)
    if key is not None:
        manifest["hmac"] = manifest_hmac(manifest, key)
    manifest_path.write_text(json.dumps(manifest))


def test_a_verified_file_that_is_not_a_model_is_refused(models_dir):
    _replace_model_file(models_dir / "toy-v1.json", b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelLoadError, match="toy-v1.npz is not a valid portable-1 model file"):
        load_bundle(models_dir / "toy-v1.json")


class _Exploit:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("signed", [False, True])
def test_a_self_consistent_pickle_never_runs(models_dir, tmp_path, signed):
    """The attack this format closes: a malicious pickle with a matching sha256 (and,
    for someone holding the key, HMAC) is refused, never unpickled."""
    marker = tmp_path / "ran"
    _replace_model_file(models_dir / "toy-v1.json", pickle.dumps(_Exploit(marker)), KEY if signed else None)
    with pytest.raises(ModelLoadError, match="not a valid portable-1 model file.*a pickle or joblib file is never"):
        load_bundle(models_dir / "toy-v1.json", hmac_key=KEY if signed else None)
    assert not marker.exists()


def test_a_joblib_model_is_refused_with_how_to_convert_it(models_dir, tmp_path):
    """A manifest as written before portable-1: no model_format, a joblib file."""
    marker = tmp_path / "ran"
    manifest_path = models_dir / "toy-v1.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["model_format"]
    manifest["model_file"] = "toy-v1.joblib"
    joblib.dump(_Exploit(marker), models_dir / "toy-v1.joblib")
    manifest["sha256"] = hashlib.sha256((models_dir / "toy-v1.joblib").read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(UnsafeModelFormatError, match=r"toy-v1\.joblib is a joblib \(pickle\) file.*"
                                                     r"never a pickle.*python train\.py convert"):
        load_bundle(manifest_path)
    _edit_manifest(manifest_path, model_format="joblib")
    with pytest.raises(UnsafeModelFormatError, match="model_format is 'joblib'"):
        load_bundle(manifest_path)
    assert not marker.exists()


def test_current_pointer_missing_or_invalid(tmp_path):
    with pytest.raises(ManifestError, match="CURRENT"):
        current_manifest_path(tmp_path)
    (tmp_path / "CURRENT").write_text("../../etc/passwd\n")
    with pytest.raises(ManifestError, match="one model version"):
        current_manifest_path(tmp_path)


def test_thresholds_must_be_ordered():
    with pytest.raises(ValueError):
        Bands.checked(approve_below=0.9, reject_above=0.1)


def test_holder_loads_and_keeps_the_last_good_model_on_a_failed_reload(models_dir):
    holder = ModelHolder(models_dir, hmac_key=KEY)
    assert holder.bundle is None
    first = holder.reload()
    assert holder.bundle is first and first.version == "toy-v1" and holder.last_error is None

    set_current(models_dir, "toy-v2")
    model_file = models_dir / "toy-v2.npz"
    original = model_file.read_bytes()
    model_file.write_bytes(original[:-10])
    with pytest.raises(ModelError):
        holder.reload()
    assert holder.bundle is first
    assert "toy-v2" in holder.last_error and "tampered" in holder.last_error

    set_current(models_dir, "missing-version")
    with pytest.raises(ManifestError):
        holder.reload()
    assert holder.bundle is first

    model_file.write_bytes(original)
    set_current(models_dir, "toy-v2")
    second = holder.reload()
    assert holder.bundle is second and second.version == "toy-v2" and holder.last_error is None


def test_holder_without_any_model(tmp_path):
    holder = ModelHolder(tmp_path)
    with pytest.raises(ManifestError):
        holder.reload()
    assert holder.bundle is None and "CURRENT" in holder.last_error


def test_copied_models_directory_still_verifies(models_dir, tmp_path_factory):
    copy = tmp_path_factory.mktemp("copy") / "models"
    shutil.copytree(models_dir, copy)
    assert load_bundle(current_manifest_path(copy), hmac_key=KEY).version == "toy-v1"
