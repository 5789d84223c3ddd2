"""Loading a shipped model safely, and keeping the last good one.

Contract:

- A model is ``models/<version>.npz`` (the ``portable-1`` format of
  ``moderation.scoring.portable``: numeric arrays and one JSON document, no
  pickle) beside its manifest ``models/<version>.json``; ``models/CURRENT``
  holds one line, the current version.
- Pickles are never loaded. A manifest without ``"model_format": "portable-1"``
  (a model written before the format existed: a joblib file) is refused with
  ``UnsafeModelFormatError`` before its file is even read; convert it once, on a
  machine that trusts it, with ``python train.py convert``, or retrain.
- ``load_bundle(manifest_path, hmac_key=None)`` checks, in this order:
  1. the manifest is readable JSON with the required fields (``ManifestError``)
     and names the ``portable-1`` model format (``UnsafeModelFormatError``);
  2. with ``hmac_key``: the manifest carries an HMAC-SHA256 over its canonical
     JSON without the ``hmac`` field, and it matches (``IntegrityError``);
     the manifest holds the file's sha256, so this authenticates both;
  3. the model file's sha256 equals the manifest's (``IntegrityError``);
  4. the running scikit-learn version and ``FEATURE_VERSION`` equal the ones
     that trained the model (``VersionMismatchError``);
  and only then rebuilds the pipeline from the very bytes it hashed
  (``portable.load_pipeline``; ``ModelLoadError`` if the file is malformed).
  Reading a model file never runs code from it: the HMAC guards against a
  swapped model, not against code execution.
- ``ModelHolder.reload()`` swaps in the new bundle only when it loaded fully;
  otherwise it records ``last_error``, keeps serving the previous bundle and
  re-raises. Thread-safe; synchronous (run it in an executor).
- ``languages`` lists the languages the model decides by itself; ``per_language``
  (optional) holds, per language code, the thresholds and held-out metrics
  measured on that language. ``ModelBundle.thresholds_for(language)`` falls back
  to the top-level ``thresholds``.
- ``ModelBundle.predict_proba`` scores a whole batch in one call;
  ``explain`` lists the features that moved one score most.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sklearn

from moderation.config import model_dir
from moderation.domain import Bands
from moderation.scoring.classifier import CalibratedLinearClassifier
from moderation.scoring.features import FEATURE_VERSION, ScoringInput, feature_baseline, feature_names
from moderation.scoring.linear import LinearScorer, UnsupportedPipeline
from moderation.scoring.portable import PORTABLE_FORMAT, PortableFormatError, load_pipeline

MANIFEST_FORMAT = 1
CURRENT_POINTER = "CURRENT"
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class ModelError(Exception):
    """A model could not be loaded; the message says which one and why."""


class ManifestError(ModelError):
    """The manifest (or the ``CURRENT`` pointer) is missing or invalid."""


class IntegrityError(ModelError):
    """The model file or its manifest does not match its checksum/HMAC: tampered."""


class VersionMismatchError(ModelError):
    """The model was trained with another scikit-learn or feature version."""


class ModelLoadError(ModelError):
    """The verified file could not be read as a scoring pipeline."""


class UnsafeModelFormatError(ModelLoadError):
    """The manifest does not name the ``portable-1`` format: its model file is a
    pickle (joblib), which can run code when loaded, so it is never loaded."""


def canonical_manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The bytes the HMAC covers: sorted, compact UTF-8 JSON without the ``hmac`` field."""
    unsigned = {key: value for key, value in manifest.items() if key != "hmac"}
    return json.dumps(
        unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def manifest_hmac(manifest: dict[str, Any], key: bytes) -> str:
    """Hex HMAC-SHA256 of ``canonical_manifest_bytes(manifest)`` under ``key``."""
    return hmac.new(key, canonical_manifest_bytes(manifest), hashlib.sha256).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current_manifest_path(models_dir: Path) -> Path:
    """``models_dir/<version>.json`` for the version named in ``models_dir/CURRENT``."""
    pointer = Path(models_dir) / CURRENT_POINTER
    try:
        version = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ManifestError(f"no current model: {pointer} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"cannot read {pointer}: {error}") from None
    if not VERSION_PATTERN.match(version):
        raise ManifestError(f"{pointer} must hold one model version, got {version[:80]!r}")
    return Path(models_dir) / f"{version}.json"


def manifest_path_for(models_dir: Path, version: str) -> Path:
    """``models_dir/<version>.json``; ManifestError for a string that is no version."""
    if not VERSION_PATTERN.match(version):
        raise ManifestError(f"not a model version: {version[:80]!r}")
    return Path(models_dir) / f"{version}.json"


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"model manifest {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(f"model manifest {path} is not readable JSON: {error}") from None
    if not isinstance(manifest, dict):
        raise ManifestError(f"model manifest {path} must be a JSON object")
    problems = []
    if manifest.get("format") != MANIFEST_FORMAT:
        problems.append(f"format must be {MANIFEST_FORMAT}")
    if not VERSION_PATTERN.match(str(manifest.get("version", ""))):
        problems.append("version is missing or not a plain name")
    model_file = manifest.get("model_file")
    if not isinstance(model_file, str) or Path(model_file).name != model_file or not model_file:
        problems.append("model_file must be a file name in the manifest's directory")
    if not _SHA256_PATTERN.match(str(manifest.get("sha256", ""))):
        problems.append("sha256 must be 64 lowercase hex digits")
    if not isinstance(manifest.get("libraries"), dict) or "scikit-learn" not in manifest["libraries"]:
        problems.append("libraries.scikit-learn is missing")
    if not isinstance(manifest.get("feature_version"), str):
        problems.append("feature_version is missing")
    languages = manifest.get("languages")
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        problems.append("languages must be a list of language codes")
    try:
        Bands.checked(**manifest["thresholds"])
    except (KeyError, TypeError, ValueError) as error:
        problems.append(f"thresholds are invalid ({error})")
    per_language = manifest.get("per_language", {})
    if not isinstance(per_language, dict):
        problems.append("per_language must be an object keyed by language code")
    else:
        for language, entry in per_language.items():
            try:
                Bands.checked(**entry["thresholds"])
            except (KeyError, TypeError, ValueError) as error:
                problems.append(f"per_language.{language}.thresholds are invalid ({error})")
    if problems:
        raise ManifestError(f"model manifest {path} is invalid: {'; '.join(problems)}")
    return manifest


class ModelBundle:
    """A verified, loaded model with its manifest. Safe to share between threads."""

    def __init__(self, manifest: dict[str, Any], pipeline, loaded_at: float | None = None):
        self.manifest = manifest
        self.version: str = manifest["version"]
        self.thresholds = Bands.checked(**manifest["thresholds"])
        self.languages: frozenset[str] = frozenset(manifest["languages"])
        self._language_thresholds: dict[str, Bands] = {
            language: Bands.checked(**entry["thresholds"])
            for language, entry in manifest.get("per_language", {}).items()
        }
        self.loaded_at: float = time.time() if loaded_at is None else loaded_at
        self.pipeline = pipeline
        self._classifier: CalibratedLinearClassifier = pipeline.steps[-1][1]
        try:
            self._fast: LinearScorer | None = LinearScorer.from_pipeline(pipeline)
        except UnsupportedPipeline:
            self._fast = None
        self._feature_names: np.ndarray | None = None
        self._baseline: np.ndarray | None = None
        self._baseline_columns: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"ModelBundle(version={self.version!r})"

    def thresholds_for(self, language: str) -> Bands:
        """The thresholds measured for ``language``, else the model's default ones."""
        return self._language_thresholds.get(language, self.thresholds)

    def supports(self, language: str) -> bool:
        """Whether the model decides on ``language`` by itself (its evaluation met the budgets)."""
        return language in self.languages

    def predict_proba(self, inputs: Sequence[ScoringInput]) -> list[float]:
        """P(spam) for each input, in order, computed in one batch (by the
        ``LinearScorer`` when the pipeline has the standard layout)."""
        if not inputs:
            return []
        if self._fast is not None:
            return self._fast.predict_proba(list(inputs)).tolist()
        return self.pipeline.predict_proba(list(inputs))[:, 1].tolist()

    def explain(self, item: ScoringInput, top: int = 5) -> list[dict[str, Any]]:
        """The ``top`` features that moved ``item``'s calibrated logit most, largest first.

        ``weight`` = feature weight x (value - baseline); positive pushes towards
        spam. The baseline is "absent" for word and character n-grams and the
        training average for signals and the language, so a typical length or
        the usual language does not show up as a reason.
        """
        if self._feature_names is None:
            self._feature_names = feature_names(self.pipeline)
            baseline = feature_baseline(self.pipeline)
            self._baseline_columns = np.flatnonzero(baseline)
            self._baseline = baseline
        features: Any = [item]
        for _, step in self.pipeline.steps[:-1]:
            features = step.transform(features)
        row = features.tocsr()
        columns = np.union1d(row.indices, self._baseline_columns)
        values = np.asarray(row[:, columns].todense()).ravel()
        contributions = self._classifier.feature_weights[columns] * (values - self._baseline[columns])
        order = np.argsort(-np.abs(contributions), kind="stable")[:top]
        return [
            {"feature": str(self._feature_names[columns[i]]), "weight": round(float(contributions[i]), 4)}
            for i in order
            if abs(contributions[i]) >= 1e-4
        ]


def _check_model_format(manifest: dict[str, Any], manifest_path: Path) -> None:
    version, stated = manifest["version"], manifest.get("model_format")
    if stated == PORTABLE_FORMAT:
        return
    what = (f"its manifest names no model_format, so {manifest['model_file']} is a joblib (pickle) file"
            if stated is None else f"its model_format is {str(stated)[:40]!r}")
    raise UnsafeModelFormatError(
        f"model {version}: {what}; this service loads only {PORTABLE_FORMAT} model files, never a pickle "
        f"(loading one can run code). Convert it once, where the file is trusted, with "
        f"`python train.py convert --model {manifest_path}`, or retrain with train.py; refusing to load"
    )


def verified_model_bytes(
    manifest_path: Path, hmac_key: bytes | None = None, *, legacy: bool = False
) -> tuple[dict[str, Any], Path, bytes]:
    """Steps 1-4 of ``load_bundle``: ``(manifest, model path, the file's bytes)``, verified.

    ``legacy=True`` (for ``train.py convert`` only) expects a manifest written before
    ``model_format`` existed instead of a ``portable-1`` one; it does not load anything.
    """
    manifest_path = Path(manifest_path)
    manifest = _read_manifest(manifest_path)
    version = manifest["version"]
    if not legacy:
        _check_model_format(manifest, manifest_path)
    elif "model_format" in manifest:
        raise ManifestError(f"model {version}: already in the {manifest['model_format']} format")
    if hmac_key is not None:
        stated = manifest.get("hmac")
        if not isinstance(stated, str):
            raise IntegrityError(
                f"model {version}: an HMAC key is configured but the manifest is not signed; refusing to load"
            )
        if not hmac.compare_digest(stated, manifest_hmac(manifest, hmac_key)):
            raise IntegrityError(
                f"model {version}: manifest HMAC does not match (tampered manifest or wrong key); refusing to load"
            )
    model_path = manifest_path.parent / manifest["model_file"]
    try:
        content = model_path.read_bytes()   # hashed and then parsed: the same bytes
    except OSError as error:
        raise ManifestError(f"model {version}: cannot read {model_path}: {error}") from None
    actual = hashlib.sha256(content).hexdigest()
    if actual != manifest["sha256"]:
        raise IntegrityError(
            f"model {version}: {model_path.name} has sha256 {actual[:12]}..., the manifest says "
            f"{manifest['sha256'][:12]}...: the file was modified (tampered); refusing to load"
        )
    trained_with = manifest["libraries"]["scikit-learn"]
    if trained_with != sklearn.__version__:
        raise VersionMismatchError(
            f"model {version} was trained with scikit-learn {trained_with}, this process runs "
            f"{sklearn.__version__}; retrain with train.py or install scikit-learn=={trained_with}"
        )
    if manifest["feature_version"] != FEATURE_VERSION:
        raise VersionMismatchError(
            f"model {version} uses feature version {manifest['feature_version']}, this code computes "
            f"version {FEATURE_VERSION}; retrain with train.py"
        )
    return manifest, model_path, content


def load_bundle(manifest_path: Path, hmac_key: bytes | None = None) -> ModelBundle:
    """Verify then load the model described by ``manifest_path`` (see module doc)."""
    manifest, model_path, content = verified_model_bytes(manifest_path, hmac_key)
    try:
        pipeline = load_pipeline(io.BytesIO(content))
    except PortableFormatError as error:
        raise ModelLoadError(
            f"model {manifest['version']}: {model_path.name} is not a valid {PORTABLE_FORMAT} model file: {error}"
        ) from None
    return ModelBundle(manifest, pipeline)


class ModelHolder:
    """Holds the current good ``ModelBundle``; a failed ``reload`` keeps the old one.

    Also the shadowed candidate, when one is (``shadow``): verified and loaded
    like the live model, scored beside it, never deciding."""

    def __init__(self, models_dir: Path, hmac_key: bytes | None = None, *,
                 on_loaded: Callable[[str, float, float], None] = lambda version, seconds, at: None,
                 on_load_failed: Callable[[], None] = lambda: None):
        """*on_loaded* is told each live model loaded (its version, the seconds
        loading took, when); *on_load_failed* each one refused."""
        self._on_loaded = on_loaded
        self._on_load_failed = on_load_failed
        self.models_dir = Path(models_dir)
        self.hmac_key = hmac_key
        self.bundle: ModelBundle | None = None
        self.last_error: str | None = None
        self.shadow: ModelBundle | None = None
        self.shadow_error: str | None = None
        self._lock = threading.Lock()

    def set_shadow(self, version: str | None) -> ModelBundle | None:
        """Shadow the model *version* of the models directory (None: stop
        shadowing); the same one already loaded is kept. A candidate that fails
        verification is not shadowed (``shadow_error`` says why) and the error is
        raised; the live model is never touched."""
        with self._lock:
            if version is None:
                self.shadow, self.shadow_error = None, None
                return None
            if self.shadow is not None and self.shadow.version == version:
                return self.shadow
            try:
                self.shadow = load_bundle(manifest_path_for(self.models_dir, version), self.hmac_key)
            except ModelError as error:
                self.shadow, self.shadow_error = None, str(error)
                raise
            self.shadow_error = None
            return self.shadow

    def reload(self) -> ModelBundle:
        """Load the model ``models/CURRENT`` points to; raise ``ModelError`` on failure."""
        with self._lock:
            started = time.perf_counter()
            try:
                bundle = load_bundle(current_manifest_path(self.models_dir), self.hmac_key)
            except ModelError as error:
                self.last_error = str(error)
                self._on_load_failed()
                raise
            self.bundle = bundle
            self.last_error = None
            self._on_loaded(bundle.version, time.perf_counter() - started, bundle.loaded_at)
            return bundle


def holder_for(settings, **observers) -> ModelHolder:
    """A (not yet loaded) holder for the models directory and HMAC key that the
    service's settings name: what the server and ``moderation rescore`` load.
    *observers*: :class:`ModelHolder`'s ``on_loaded`` and ``on_load_failed``."""
    key = settings.model_hmac_key
    return ModelHolder(model_dir(settings), hmac_key=key.encode() if key else None, **observers)
