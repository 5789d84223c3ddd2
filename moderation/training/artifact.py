"""Writing a model artifact: joblib file, manifest, pointer.

Contract:

- ``new_version(models_dir, now)`` -> ``spam-svm-YYYYMMDDTHHMMSSZ`` (UTC), sortable;
  a ``-2``, ``-3``... suffix keeps it unique within ``models_dir``.
- ``write_model(pipeline, fields, models_dir, version, hmac_key)`` dumps the
  pipeline to ``<version>.joblib`` and writes ``<version>.json``: ``fields``
  plus ``format``, ``version``, ``model_file``, ``sha256``, ``libraries``,
  ``feature_version`` and, with a key, ``hmac`` (see ``moderation.scoring.model``).
  Files are written to a temporary name and renamed, so a reader never sees a
  half-written file.
- ``set_current(models_dir, version)`` atomically points ``CURRENT`` at a
  version. Training calls it last, after the artifact loaded back verified.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import joblib
import numpy
import scipy
import sklearn

from moderation.scoring.features import FEATURE_VERSION
from moderation.scoring.model import (
    CURRENT_POINTER,
    MANIFEST_FORMAT,
    manifest_hmac,
    sha256_file,
)

VERSION_PREFIX = "spam-svm"
JOBLIB_COMPRESSION = 3


def new_version(models_dir: Path, now: datetime | None = None) -> str:
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    base = f"{VERSION_PREFIX}-{now:%Y%m%dT%H%M%SZ}"
    version, attempt = base, 1
    while (Path(models_dir) / f"{version}.json").exists() or (Path(models_dir) / f"{version}.joblib").exists():
        attempt += 1
        version = f"{base}-{attempt}"
    return version


def library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
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
    """Write ``<version>.joblib`` and its manifest; return ``(manifest_path, manifest)``."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    model_path = models_dir / f"{version}.joblib"
    _write_atomically(model_path, lambda temporary: joblib.dump(pipeline, temporary, compress=JOBLIB_COMPRESSION))
    manifest: dict[str, Any] = {
        **fields,
        "format": MANIFEST_FORMAT,
        "version": version,
        "model_file": model_path.name,
        "sha256": sha256_file(model_path),
        "libraries": library_versions(),
        "feature_version": FEATURE_VERSION,
    }
    if hmac_key is not None:
        manifest["hmac"] = manifest_hmac(manifest, hmac_key)
    manifest_path = models_dir / f"{version}.json"
    write_text_atomically(
        manifest_path, json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    )
    return manifest_path, manifest


def set_current(models_dir: Path, version: str) -> None:
    write_text_atomically(Path(models_dir) / CURRENT_POINTER, version + "\n")
