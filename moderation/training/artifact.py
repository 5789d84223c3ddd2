"""Writing a model artifact: portable model file, manifest, pointer.

Contract:

- ``new_version(models_dir, now)`` -> ``spam-svm-YYYYMMDDTHHMMSSZ`` (UTC), sortable;
  a ``-2``, ``-3``... suffix keeps it unique within ``models_dir``.
- ``write_model(pipeline, fields, models_dir, version, hmac_key)`` saves the
  pipeline to ``<version>.npz`` in the ``portable-1`` format (no pickle: see
  ``moderation.scoring.portable``) and writes ``<version>.json``: ``fields``
  plus ``format``, ``version``, ``model_file``, ``model_format``, ``sha256``,
  ``libraries``, ``feature_version`` and, with a key, ``hmac`` (see
  ``moderation.scoring.model``). Files are written to a temporary name and
  renamed, so a reader never sees a half-written file.
- ``convert_legacy_model(manifest_path, hmac_key)`` rewrites a model written
  before ``portable-1`` (a joblib file) in that format without retraining: it
  verifies the joblib file as ``load_bundle`` would (sha256, HMAC, versions),
  unpickles it (so only for a file you trust), writes ``<version>.npz``, checks
  that it reproduces the joblib pipeline's scores, updates the manifest's
  ``model_file``, ``model_format``, ``sha256`` (and ``hmac``) and the card's
  file line, keeps everything else, and deletes the joblib file.
- ``set_current(models_dir, version)`` atomically points ``CURRENT`` at a
  version. Training calls it last, after the artifact loaded back verified.
"""

from __future__ import annotations

import io
import json
import os
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy
import scipy
import sklearn

from moderation.scoring.features import FEATURE_VERSION, ScoringInput, feature_names
from moderation.scoring.model import (
    CURRENT_POINTER,
    MANIFEST_FORMAT,
    ManifestError,
    load_bundle,
    manifest_hmac,
    sha256_file,
    verified_model_bytes,
)
from moderation.scoring.portable import MODEL_SUFFIX, PORTABLE_FORMAT, load_pipeline, save_pipeline

VERSION_PREFIX = "spam-svm"


def new_version(models_dir: Path, now: datetime | None = None) -> str:
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    base = f"{VERSION_PREFIX}-{now:%Y%m%dT%H%M%SZ}"
    version, attempt = base, 1
    while any((Path(models_dir) / f"{version}{suffix}").exists() for suffix in (".json", MODEL_SUFFIX, ".joblib")):
        attempt += 1
        version = f"{base}-{attempt}"
    return version


def library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
    }


def _write_atomically(path: Path, write) -> None:
    """Write via ``write(temporary_path)`` then rename over ``path``."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(descriptor)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomically(path: Path, text: str) -> None:
    _write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def write_model(
    pipeline,
    fields: dict[str, Any],
    models_dir: Path,
    version: str,
    hmac_key: bytes | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Write ``<version>.npz`` and its manifest; return ``(manifest_path, manifest)``."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    model_path = models_dir / f"{version}{MODEL_SUFFIX}"
    _write_atomically(model_path, lambda temporary: save_pipeline(pipeline, temporary))
    manifest: dict[str, Any] = {
        **fields,
        "format": MANIFEST_FORMAT,
        "version": version,
        "model_file": model_path.name,
        "model_format": PORTABLE_FORMAT,
        "sha256": sha256_file(model_path),
        "libraries": library_versions(),
        "feature_version": FEATURE_VERSION,
    }
    manifest_path = models_dir / f"{version}.json"
    _write_manifest(manifest_path, manifest, hmac_key)
    return manifest_path, manifest


def _write_manifest(path: Path, manifest: dict[str, Any], hmac_key: bytes | None) -> None:
    manifest.pop("hmac", None)
    if hmac_key is not None:
        manifest["hmac"] = manifest_hmac(manifest, hmac_key)
    write_text_atomically(
        path, json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    )


CONVERSION_TOLERANCE = 1e-12


def _probe_inputs(pipeline) -> list[ScoringInput]:
    """Comments that exercise every block: plain and spammy texts and texts made of
    ~600 of the model's own word n-grams, in each language it knows, ``other`` and
    ``unknown``, with and without a suspicious author."""
    words = [str(name)[len("word:"):] for name in feature_names(pipeline) if str(name).startswith("word:")]
    sample = words[::max(1, len(words) // 600)]
    texts = [
        "Thank you for this clear article about the council budget.",
        "Merci pour cet article très clair sur le budget de la ville.",
        "CLICK HERE to WIN a FREE iPhone!!! http://bit.ly/win call 0800 123 4567 deals@example.com",
        "", "ok", "1234567890 !!!! $$$ ???",
        *(" ".join(sample[start:start + 30]) for start in range(0, len(sample), 30)),
    ]
    languages = [*dict(pipeline.named_steps["features"].transformer_list)["lang"].languages_, "xx", "unknown"]
    return [ScoringInput(body=text, author_name=name, author_email=email, language=language)
            for text in texts for language in languages
            for name, email in (("", ""), ("www.win.example", "a@mailinator.com"))]


def convert_legacy_model(manifest_path: Path, hmac_key: bytes | None = None) -> tuple[Path, dict[str, Any]]:
    """Rewrite a joblib model in the ``portable-1`` format (see the module doc);
    return ``(manifest_path, new manifest)``."""
    import joblib   # the one place a pickle is still read: an operator's explicit, one-off conversion

    manifest_path = Path(manifest_path)
    manifest, old_path, content = verified_model_bytes(manifest_path, hmac_key, legacy=True)
    version = manifest["version"]
    if "hmac" in manifest and hmac_key is None:
        raise ManifestError(f"model {version}: the manifest is signed; give its HMAC key so that the "
                            f"converted manifest can be signed again")
    pipeline = joblib.load(io.BytesIO(content))   # the bytes verified above
    new_path = manifest_path.parent / f"{version}{MODEL_SUFFIX}"
    if new_path == old_path:
        raise ManifestError(f"model {version}: its model file is already named {new_path.name}")
    _write_atomically(new_path, lambda temporary: save_pipeline(pipeline, temporary))
    probes = _probe_inputs(pipeline)
    expected = pipeline.predict_proba(probes)[:, 1]
    actual = load_pipeline(new_path).predict_proba(probes)[:, 1]
    if not numpy.allclose(actual, expected, rtol=0, atol=CONVERSION_TOLERANCE):
        new_path.unlink()
        raise RuntimeError(f"model {version}: the converted file does not reproduce the joblib model's scores")
    old_name, old_sha256 = manifest["model_file"], manifest["sha256"]
    converted = {**manifest, "model_file": new_path.name, "model_format": PORTABLE_FORMAT,
                 "sha256": sha256_file(new_path)}
    _write_manifest(manifest_path, converted, hmac_key)
    card = manifest.get("card")
    card_path = manifest_path.parent / str(card)
    if isinstance(card, str) and card and Path(card).name == card and card_path.is_file():
        card = card_path.read_text(encoding="utf-8")
        write_text_atomically(card_path, card.replace(f"`{old_name}`", f"`{new_path.name}`")
                              .replace(f"`{old_sha256}`", f"`{converted['sha256']}`"))
    bundle = load_bundle(manifest_path, hmac_key)
    if not numpy.allclose(bundle.predict_proba(probes), expected, rtol=0, atol=CONVERSION_TOLERANCE):
        raise RuntimeError(f"model {version}: the converted model does not reproduce its scores")
    old_path.unlink()
    return manifest_path, converted


def set_current(models_dir: Path, version: str) -> None:
    write_text_atomically(Path(models_dir) / CURRENT_POINTER, version + "\n")
