"""Language detection shared by the service and by training.

Contract:

- ``detect_language(text)`` returns an ISO 639-1 code from langdetect, or
  ``"unknown"`` when the normalized text has fewer than
  ``MIN_LETTERS_FOR_DETECTION`` letters or langdetect cannot decide.
- Results are deterministic: langdetect's random walk is seeded once
  (``DetectorFactory.seed = 0``) and every call re-seeds its own detector, so
  the same text gives the same answer in any thread or process.
- Safe to call from worker threads: the one-time profile loading (~250 ms,
  ~60 MB) is guarded by a lock; each call uses its own ``Detector``.
- The text is normalized with ``normalize_text`` first, exactly as the model's
  features see it, so HTML remnants and BOMs never sway the answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from langdetect import DetectorFactory
from langdetect import detector_factory as _langdetect_factory
from langdetect.lang_detect_exception import LangDetectException

from moderation.scoring.features import UNKNOWN_LANGUAGE, normalize_text

MIN_LETTERS_FOR_DETECTION = 12
"""Below this many letters langdetect guesses wildly (``"ok lol"`` -> ``"so"``)."""

DetectorFactory.seed = 0

_factory_lock = threading.Lock()


def _factory() -> DetectorFactory:
    """The process-wide langdetect factory, loading its profiles exactly once."""
    if _langdetect_factory._factory is None:
        with _factory_lock:
            _langdetect_factory.init_factory()
    return _langdetect_factory._factory


def _has_enough_letters(text: str) -> bool:
    letters = 0
    for character in text:
        if character.isalpha():
            letters += 1
            if letters >= MIN_LETTERS_FOR_DETECTION:
                return True
    return False


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text`` (``"zh-cn"`` style for Chinese), or ``"unknown"``."""
    normalized = normalize_text(text)
    if not _has_enough_letters(normalized):
        return UNKNOWN_LANGUAGE
    detector = _factory().create()
    detector.append(normalized)
    try:
        return detector.detect()
    except LangDetectException:
        return UNKNOWN_LANGUAGE


def detect_languages(texts: Iterable[str]) -> list[str]:
    """``detect_language`` for each text, in order."""
    return [detect_language(text) for text in texts]
