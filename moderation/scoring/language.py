"""Language detection shared by the service and by training.

Contract:

- ``detect_language(text)`` returns an ISO 639-1 code (``"zh-cn"`` style for
  Chinese) among langdetect's 55 profiles, or ``"unknown"`` when the
  normalized text has fewer than ``MIN_LETTERS_FOR_DETECTION`` letters outside
  its links and e-mail addresses, or no n-gram any profile knows.
- The model is langdetect's: its profiles (n-gram frequencies per language),
  its text preparation (URLs and e-mail addresses removed, Vietnamese
  normalization, Latin dropped from mostly non-Latin text) and its n-grams
  (1 to 3 characters within a word, skipping all-capitals runs), checked
  equal to langdetect's own by the tests. The estimate differs: langdetect
  samples n-grams at random in seven trials until one language passes
  99.999 %; here every n-gram counts once, in one naive-Bayes sum of
  ``log(p(n-gram | language) + 0.5 / 10000)`` (langdetect's smoothing). It is
  the value langdetect's sampling converges to, computed exactly: no random
  numbers, the same answer in any thread or process, and an order of magnitude
  faster (``bench/RESULTS.md``, "Scoring"). Where the two differ the text is
  short and ambiguous and langdetect's own answer depends on its seed.
- A text's score is the sum of its words' scores (no n-gram spans two words),
  and recent words' scores are cached: most words of a comment have been seen
  before, so a text costs a few dictionary lookups and one small sum.
- Safe to call from worker threads: the one-time profile loading is guarded by
  a lock (the server pays it at start-up, before traffic).
- The text is normalized with ``normalize_text`` first, exactly as the model's
  features see it, so HTML remnants and BOMs never sway the answer.
"""

from __future__ import annotations

import functools
import json
import operator
import re
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
from langdetect.detector import Detector
from langdetect.utils.ngram import NGram

from moderation.scoring.features import UNKNOWN_LANGUAGE, normalize_text

MIN_LETTERS_FOR_DETECTION = 12
"""Below this many letters any detector guesses wildly (``"ok lol"`` -> ``"so"``)."""

SMOOTHING = Detector.ALPHA_DEFAULT / Detector.BASE_FREQ
"""Added to every n-gram probability, as langdetect does, so an n-gram unseen in a
language lowers its score instead of ruling it out."""
MIN_POSTERIOR = Detector.PROB_THRESHOLD
"""The best language must reach this posterior probability, else ``"unknown"``."""
MAX_TEXT_CHARS = 10_000
"""langdetect's default cut: the rest of a longer text is not read."""


@dataclass(frozen=True)
class Profiles:
    """langdetect's profiles as a matrix: ``log_probs[vocabulary[ngram], i]`` is the
    smoothed log-probability of ``ngram`` in ``languages[i]`` (sorted by code)."""

    languages: tuple[str, ...]
    vocabulary: dict[str, int]
    log_probs: np.ndarray


def _read_profiles() -> Profiles:
    """Loads the JSON profiles shipped inside langdetect, with langdetect's own
    frequency -> probability rule (count / number of n-grams of that length)."""
    directory = resources.files("langdetect") / "profiles"
    documents = sorted((json.loads(entry.read_text(encoding="utf-8"))
                        for entry in directory.iterdir() if not entry.name.startswith(".")),
                       key=lambda document: document["name"])
    vocabulary: dict[str, int] = {}
    cells: list[tuple[int, int, float]] = []
    for column, document in enumerate(documents):
        totals = document["n_words"]
        for ngram, count in document["freq"].items():
            if 1 <= len(ngram) <= NGram.N_GRAM:
                row = vocabulary.setdefault(ngram, len(vocabulary))
                cells.append((row, column, count / totals[len(ngram) - 1]))
    probs = np.zeros((len(vocabulary), len(documents)), dtype=np.float64)
    rows, columns, values = zip(*cells)
    probs[np.asarray(rows), np.asarray(columns)] = values
    return Profiles(languages=tuple(document["name"] for document in documents),
                    vocabulary=vocabulary,
                    log_probs=np.log(probs + SMOOTHING).astype(np.float32))


_profiles: Profiles | None = None
_profiles_lock = threading.Lock()


def profiles() -> Profiles:
    """The process-wide profiles, loaded once on first use."""
    global _profiles
    if _profiles is None:
        with _profiles_lock:
            if _profiles is None:
                _capital_runs()
                _profiles = _read_profiles()
    return _profiles


# --- langdetect's text preparation and n-grams -------------------------------


class _CharacterClasses(dict):
    """``str.translate`` table applying langdetect's ``NGram.normalize`` to each
    character (punctuation and digits become spaces, CJK variants merge), filled
    lazily and shared by all threads: entries are only ever added, with the
    same value."""

    def __missing__(self, code: int) -> str:
        normalized = NGram.normalize(chr(code))
        self[code] = normalized
        return normalized


_NGRAM_CHARACTERS = _CharacterClasses()
_LATIN = re.compile("[A-z]")
"""langdetect counts ``'A' <= ch <= 'z'`` as Latin, ``[\\]^_``` included."""
_NON_LATIN = re.compile("[\u0300-\u1dff\u1f00-\U0010ffff]")
"""From U+0300 up, except Latin Extended Additional (U+1E00-U+1EFF)."""
_SPACE_RUNS = re.compile(" {2,}")


def prepare_text(text: str) -> str:
    """langdetect's ``Detector.append`` and ``cleaning_text``: URLs and e-mail
    addresses out, Vietnamese normalized, the first ``MAX_TEXT_CHARS`` kept with
    space runs collapsed, and Latin letters dropped from text that is mostly in
    another script."""
    text = Detector.URL_RE.sub(" ", text)
    text = Detector.MAIL_RE.sub(" ", text)
    text = NGram.normalize_vi(text)
    text = _SPACE_RUNS.sub(" ", text[:MAX_TEXT_CHARS])
    if not text.isascii():
        latin = len(_LATIN.findall(text))
        if latin * 2 < len(_NON_LATIN.findall(text)):
            text = _LATIN.sub("", text)
    return text


@functools.cache
def _capital_runs() -> re.Pattern:
    """Matches runs of two or more characters for which ``str.isupper()`` holds
    (langdetect's "capital word" rule), in C instead of a loop over the text."""
    capitals = [code for code in range(sys.maxunicode + 1) if chr(code).isupper()]
    ranges, start = [], capitals[0]
    for previous, code in zip(capitals, capitals[1:] + [-1]):
        if code != previous + 1:
            ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(previous))}")
            start = code
    return re.compile(f"[{''.join(ranges)}]{{2,}}")


def _padded_words(prepared: str) -> list[str]:
    """The words of a prepared text as langdetect's n-gram buffer sees them, after
    its character normalization: each with the space before it, and with the
    space after it unless it ends the text. No n-gram spans two of them."""
    words = prepared.translate(_NGRAM_CHARACTERS).split(" ")
    last = len(words) - 1
    return [f" {word} " if position < last else f" {word}"
            for position, word in enumerate(words) if word]


def _word_windows(padded: str) -> list[str]:
    """Every 1-, 2- and 3-character window of a padded word ending after its
    leading space, except where a capital follows a capital."""
    if padded.islower():
        skipped = ()
    else:
        skipped = [i for run in _capital_runs().finditer(padded) for i in range(run.start() + 1, run.end())]
    if not skipped:
        pairs = list(map(operator.add, padded, padded[1:]))
        return [*padded[1:], *pairs, *map(operator.add, pairs, padded[2:])]
    ends = sorted(set(range(1, len(padded))).difference(skipped))
    return [padded[i] for i in ends] + [padded[i - 1:i + 1] for i in ends] + [
        padded[i - 2:i + 1] for i in ends if i >= 2]


def text_ngrams(prepared: str) -> list[str]:
    """The n-grams langdetect's ``Detector._extract_ngrams`` finds in a prepared
    text, as a multiset (order differs): every 1-, 2- and 3-character window
    ending at a character, starting at most at the space before its word,
    except at a capital that follows a capital; only n-grams some profile knows."""
    known = profiles().vocabulary
    return [window for word in _padded_words(prepared) for window in _word_windows(word)
            if window in known]


WORD_CACHE_SIZE = 50_000
"""Padded words whose log-likelihood vector is kept (about 0.5 kB each, least
recently used first out). Words repeat across comments far more than texts do."""


@functools.lru_cache(maxsize=WORD_CACHE_SIZE)
def _word_log_likelihood(padded: str) -> np.ndarray | None:
    """Sum over the word's n-grams of their log-probabilities per language, or
    None when no profile knows any of them. Cached: texts are sums of words.
    The array is shared between callers: never modify it."""
    table = profiles()
    find = table.vocabulary.get
    rows = [row for row in map(find, _word_windows(padded)) if row is not None]
    return table.log_probs[rows].sum(axis=0, dtype=np.float64) if rows else None


# --- detection ---------------------------------------------------------------


SHORT_TEXT_LETTERS = 40
"""Below this many letters a text is short: "Great article!", "Merci pour l'info".
Its n-grams are too few to pick among 55 languages, but enough to pick among the
few a site can expect (its own and the model's), so that is what is done."""


def _letter_count(text: str, enough: int) -> int:
    """Letters in ``text``, counting no further than ``enough``."""
    letters = 0
    for character in text:
        if character.isalpha():
            letters += 1
            if letters >= enough:
                break
    return letters


def detect_normalized_languages(normalized_texts: Sequence[str], hints: Sequence[str] | None = None,
                                candidates: Iterable[str] = ()) -> list[str]:
    """:func:`detect_language` for texts already passed through ``normalize_text``.

    ``hints`` (one per text, ``""`` for none) is the language the text is expected
    in, typically its site's. With a hint, detection never guesses wildly (letters
    are counted outside links and e-mail addresses, which detection does not read:
    "I disagree, see <a long link>" is a short text):

    - fewer than ``MIN_LETTERS_FOR_DETECTION`` letters: the hint;
    - fewer than ``SHORT_TEXT_LETTERS``: the likeliest of the hint and ``candidates``
      (the languages the model knows);
    - longer: the usual detection over every profile, and the hint where that is
      unsure (``"unknown"``).

    Without a hint the answer is the plain detection, as before.
    """
    table = profiles()
    hints = list(hints) if hints is not None else [""] * len(normalized_texts)
    known = {language: column for column, language in enumerate(table.languages)}
    candidate_columns = sorted({known[c] for c in candidates if c in known})
    answers = [hint or UNKNOWN_LANGUAGE for hint in hints]
    vectors: list[np.ndarray] = []
    owners: list[int] = []
    offsets: list[int] = []
    restricted: list[list[int] | None] = []
    for position, text in enumerate(normalized_texts):
        prepared = prepare_text(text)
        letters = _letter_count(prepared, SHORT_TEXT_LETTERS)
        if letters < MIN_LETTERS_FOR_DETECTION:
            continue
        hint = hints[position]
        columns = None
        if hint and letters < SHORT_TEXT_LETTERS and hint in known:
            columns = sorted(set(candidate_columns) | {known[hint]})
        words = [vector for word in _padded_words(prepared)
                 if (vector := _word_log_likelihood(word)) is not None]
        if words:
            offsets.append(len(vectors))
            owners.append(position)
            restricted.append(columns)
            vectors += words
    if not owners:
        return answers
    sums = np.add.reduceat(np.stack(vectors), offsets, axis=0)
    for row, columns in enumerate(restricted):
        if columns is not None:
            mask = np.full(sums.shape[1], -np.inf)
            mask[columns] = 0.0
            sums[row] += mask
    sums -= sums.max(axis=1, keepdims=True)
    posteriors = np.exp(sums)
    posteriors /= posteriors.sum(axis=1, keepdims=True)
    best = posteriors.argmax(axis=1)
    for position, columns, column, posterior in zip(owners, restricted, best.tolist(),
                                                    posteriors[np.arange(len(best)), best].tolist()):
        if columns is not None or posterior > MIN_POSTERIOR:
            answers[position] = table.languages[column]
    return answers


def detect_normalized_language(normalized: str) -> str:
    """:func:`detect_language` for a text already passed through ``normalize_text``."""
    return detect_normalized_languages([normalized])[0]


def detect_language(text: str, hint: str = "", candidates: Iterable[str] = ()) -> str:
    """ISO 639-1 code of ``text`` (``"zh-cn"`` style for Chinese), or ``"unknown"``;
    with a ``hint``, see :func:`detect_normalized_languages`."""
    return detect_normalized_languages([normalize_text(text)], [hint], candidates)[0]


def detect_languages(texts: Iterable[str], hints: Sequence[str] | None = None,
                     candidates: Iterable[str] = ()) -> list[str]:
    """``detect_language`` for each text, in order, in one batch."""
    return detect_normalized_languages([normalize_text(text) for text in texts], hints, candidates)
