"""A fitted scoring pipeline, evaluated as the linear model it is.

Contract:

- ``LinearScorer.from_pipeline(pipeline)`` takes a fitted pipeline laid out by
  ``features.build_pipeline`` (normalize -> word and character TF-IDF, signals,
  language one-hot -> ``CalibratedLinearClassifier``) and raises
  ``UnsupportedPipeline`` for any other layout.
- ``predict_proba(inputs)`` returns, per input, the same spam probability as
  ``pipeline.predict_proba(inputs)[:, 1]`` (equal to 1e-9; the tests check it on
  trained models), without building the sparse feature matrix.
- Why: the pipeline's answer is ``sigmoid(slope * (coef . x + b) + intercept)``,
  and for a binary, L2-normalized TF-IDF block ``coef . x`` is
  ``sum(idf * coef) / sqrt(sum(idf ** 2))`` over the n-grams present. Summing
  that directly skips scikit-learn's per-call input validation and sparse-matrix
  assembly, which cost several times the arithmetic for the few short texts of
  a scoring batch.
- The fitted pipeline is only read, never modified. A scorer keeps an LRU
  cache of recent words' character n-gram columns; it is safe to share
  between threads.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from moderation.scoring.classifier import CalibratedLinearClassifier
from moderation.scoring.features import (
    LanguageIndicator,
    ScoringInput,
    SignalFeatures,
    TextNormalizer,
    ngram_text,
    signal_matrix,
)


WORD_CACHE_SIZE = 50_000
"""Words whose character n-gram columns are kept, least recently used first out."""


class UnsupportedPipeline(ValueError):
    """The pipeline is not laid out as ``features.build_pipeline`` lays it out."""


def _columns_of(analyze, vocabulary: dict, text: str) -> set[int]:
    """The vocabulary columns of the n-grams *analyze* finds in *text*."""
    present = set(map(vocabulary.get, analyze(text)))
    present.discard(None)
    return present


class _NgramBlock:
    """One binary, L2-normalized TF-IDF block's share of the margin."""

    def __init__(self, vectorizer: TfidfVectorizer, coef: np.ndarray, weight: float):
        if not (vectorizer.binary and vectorizer.norm == "l2" and vectorizer.use_idf
                and not vectorizer.sublinear_tf):
            raise UnsupportedPipeline("n-gram blocks must be binary, L2-normalized TF-IDF")
        idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self._analyze = vectorizer.build_analyzer()
        self._vocabulary = vectorizer.vocabulary_
        # char_wb n-grams never span two words: a text's set is the union of its
        # words' sets, and words repeat across comments far more than texts do.
        self._by_word = vectorizer.analyzer == "char_wb"
        self._preprocess = vectorizer.build_preprocessor()
        # The cache closes over the analyzer and vocabulary, not over self: a
        # cycle through self would keep each replaced model alive until a full
        # garbage collection (measured: +200 MiB over 10 reloads in the soak).
        analyze, vocabulary = self._analyze, self._vocabulary
        self._word_columns = functools.lru_cache(maxsize=WORD_CACHE_SIZE)(
            lambda word: frozenset(_columns_of(analyze, vocabulary, word)))
        # The block weight scales x; the L2 norm is taken before it.
        self.idf_times_coef = idf * coef * weight
        self.idf_squared = idf * idf

    def _columns_of(self, text: str) -> set[int]:
        return _columns_of(self._analyze, self._vocabulary, text)

    def _columns(self, body: str) -> set[int]:
        if not self._by_word:
            return self._columns_of(body)
        return set().union(*map(self._word_columns, self._preprocess(body).split()))

    def margins(self, bodies: Sequence[str]) -> np.ndarray:
        columns: list[int] = []
        owners: list[int] = []
        for row, body in enumerate(bodies):
            present = self._columns(body)
            columns += present
            owners += [row] * len(present)
        count = len(bodies)
        dot = np.bincount(owners, weights=self.idf_times_coef[columns], minlength=count)
        norm = np.sqrt(np.bincount(owners, weights=self.idf_squared[columns], minlength=count))
        return np.divide(dot, norm, out=np.zeros(count), where=norm > 0)


class LinearScorer:
    """``pipeline.predict_proba(inputs)[:, 1]`` as sums over each text's n-grams."""

    def __init__(self, normalizer: TextNormalizer, word: _NgramBlock, char: _NgramBlock,
                 signal_coef: np.ndarray, language_index: dict[str, int],
                 language_coef: np.ndarray, bias: float, slope: float, intercept: float):
        self._normalizer = normalizer
        self._word, self._char = word, char
        self._signal_coef = signal_coef
        self._language_index = language_index
        self._language_coef = language_coef
        self._bias, self._slope, self._intercept = bias, slope, intercept

    @classmethod
    def from_pipeline(cls, pipeline: Pipeline) -> LinearScorer:
        try:
            normalizer, union, classifier = (step for _, step in pipeline.steps)
            blocks = dict(union.transformer_list)
            word_tfidf = blocks["word"].named_steps["tfidf"]
            char_tfidf = blocks["char"].named_steps["tfidf"]
            signals, languages = blocks["signal"], blocks["lang"]
        except (ValueError, KeyError, AttributeError, TypeError) as error:
            raise UnsupportedPipeline(f"unexpected pipeline layout: {error!r}") from None
        if (not isinstance(normalizer, TextNormalizer)
                or list(blocks) != ["word", "char", "signal", "lang"]
                or not isinstance(classifier, CalibratedLinearClassifier)
                or not isinstance(signals, SignalFeatures)
                or not isinstance(languages, LanguageIndicator)
                or not all(isinstance(v, TfidfVectorizer) for v in (word_tfidf, char_tfidf))):
            raise UnsupportedPipeline("unexpected pipeline layout")
        weights = {name: 1.0 for name in blocks} | dict(union.transformer_weights or {})
        coef = np.asarray(classifier.linear_.coef_[0], dtype=np.float64)
        widths = [len(word_tfidf.vocabulary_), len(char_tfidf.vocabulary_),
                  len(signals.get_feature_names_out()), len(languages.languages_) + 1]
        if sum(widths) != len(coef):
            raise UnsupportedPipeline(f"{len(coef)} weights for {sum(widths)} features")
        word_coef, char_coef, signal_coef, language_coef = np.split(coef, np.cumsum(widths)[:-1])
        return cls(
            normalizer,
            _NgramBlock(word_tfidf, word_coef, weights["word"]),
            _NgramBlock(char_tfidf, char_coef, weights["char"]),
            signal_coef * weights["signal"],
            {language: i for i, language in enumerate(languages.languages_)},
            language_coef * weights["lang"],
            bias=float(classifier.linear_.intercept_[0]),
            slope=classifier.slope_, intercept=classifier.intercept_,
        )

    def margins(self, inputs: Sequence[ScoringInput]) -> np.ndarray:
        """The linear SVM's margins, ``pipeline[-1].decision_function`` of the features."""
        normalized = self._normalizer.transform(inputs)
        bodies = [ngram_text(item.body) for item in normalized]
        other = len(self._language_coef) - 1
        languages = [self._language_index.get(item.language, other) for item in normalized]
        return (self._word.margins(bodies) + self._char.margins(bodies)
                + signal_matrix(normalized) @ self._signal_coef
                + self._language_coef[languages] + self._bias)

    def predict_proba(self, inputs: Sequence[ScoringInput]) -> np.ndarray:
        """Spam probability of each input."""
        if not inputs:
            return np.zeros(0)
        return expit(self._slope * self.margins(inputs) + self._intercept)
