"""The scoring pipeline as plain data: a model file that cannot run code when loaded.

Contract:

- ``save_pipeline(pipeline, file)`` writes a fitted pipeline laid out by
  ``features.build_pipeline`` to ONE file (a path or a binary file object) in
  the ``portable-1`` format; any other layout, a callable or unexpected
  setting raises ``PortableFormatError`` instead of being written partially.
- ``load_pipeline(file)`` rebuilds real fitted objects (``Pipeline``,
  ``SequentialFeatureUnion``, ``TfidfVectorizer``, ``SignalFeatures``,
  ``LanguageIndicator``, ``CalibratedLinearClassifier`` around a ``LinearSVC``)
  by constructing them with the recorded settings and setting their fitted
  attributes. ``predict_proba``, ``LinearScorer.from_pipeline``,
  ``feature_names`` and ``feature_baseline`` give what the saved pipeline gave.
- Nothing in a file is ever unpickled, imported or called: only numeric arrays
  (``numpy.lib.format.read_array(..., allow_pickle=False)``, which refuses object
  arrays) and one JSON document are read, and every value is checked (names,
  types, dtypes, shapes, finiteness, vocabulary size and uniqueness) before it is
  used. Anything else, a truncated or corrupt file included, raises
  ``PortableFormatError`` with the reason.

The file (``portable-1``) is a ZIP archive of ``.npy`` members, the ``.npz``
layout ``numpy.load`` reads, written deterministically (fixed member order and
timestamps: the same pipeline gives the same bytes):

- ``document.npy``: uint8, the UTF-8 JSON document: ``format``
  (``"portable-1"``), the settings of every step (vectorizers' constructor
  parameters, ``LanguageIndicator.min_rows`` and ``languages_``, signal names,
  block weights, the classifier's and its ``LinearSVC``'s parameters and
  ``n_iter_``) and each vectorizer's vocabulary as the list of its terms in
  column order;
- float64 arrays ``word_idf`` and ``char_idf`` (one per term), ``signal_means``,
  ``lang_means`` (one per language and ``other``), ``coef`` (1 x every
  column), ``intercept`` (1), ``calibration`` (slope, intercept); int64
  ``classes`` (``[0, 1]``).
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy_format
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from moderation.scoring.classifier import CalibratedLinearClassifier
from moderation.scoring.features import (
    SIGNAL_NAMES,
    BodyText,
    LanguageIndicator,
    SequentialFeatureUnion,
    SignalFeatures,
    TextNormalizer,
)

PORTABLE_FORMAT = "portable-1"
MODEL_SUFFIX = ".npz"
BLOCKS = ("word", "char", "signal", "lang")
MAX_MEMBER_BYTES = 1 << 30
"""No member may declare more than 1 GiB uncompressed (the shipped model's largest
is ~5 MB): a corrupt or hostile file is refused before it is inflated."""
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FLOAT = np.dtype("<f8")
_INT = np.dtype("<i8")
_BYTES = np.dtype("u1")
_MEMBERS: dict[str, np.dtype] = {
    "document": _BYTES,
    "word_idf": _FLOAT,
    "char_idf": _FLOAT,
    "signal_means": _FLOAT,
    "lang_means": _FLOAT,
    "coef": _FLOAT,
    "intercept": _FLOAT,
    "calibration": _FLOAT,
    "classes": _INT,
}
_VECTORIZER_DTYPES = {"float64": np.float64, "float32": np.float32}


class PortableFormatError(ValueError):
    """The pipeline cannot be written, or the file is not a valid ``portable-1`` model."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PortableFormatError(message)


# --- settings: what each step's parameters may be ------------------------------

def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _string_in(*allowed):
    return lambda value: isinstance(value, str) and value in allowed


def _none_or(check):
    return lambda value: value is None or check(value)


def _ngram_range(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2 and all(_is_int(n) for n in value)
            and 1 <= value[0] <= value[1])


def _stop_words(value: Any) -> bool:
    return value is None or value == "english" or (
        isinstance(value, list) and all(isinstance(word, str) for word in value))


_VECTORIZER_PARAMS = {
    # "content" only: with "file" or "filename" transform would open what a comment says.
    "input": _string_in("content"),
    "encoding": lambda value: isinstance(value, str),
    "decode_error": _string_in("strict", "ignore", "replace"),
    "strip_accents": _none_or(_string_in("ascii", "unicode")),
    "lowercase": lambda value: isinstance(value, bool),
    "preprocessor": lambda value: value is None,
    "tokenizer": lambda value: value is None,
    "analyzer": _string_in("word", "char", "char_wb"),
    "stop_words": _stop_words,
    "token_pattern": _none_or(lambda value: isinstance(value, str)),
    "ngram_range": _ngram_range,
    "max_df": lambda value: _is_number(value) and value >= 0,
    "min_df": lambda value: _is_number(value) and value >= 0,
    "max_features": _none_or(lambda value: _is_int(value) and value > 0),
    "vocabulary": lambda value: value is None,
    "binary": lambda value: isinstance(value, bool),
    "dtype": _string_in(*_VECTORIZER_DTYPES),
    "norm": _none_or(_string_in("l1", "l2")),
    "use_idf": lambda value: value is True,
    "smooth_idf": lambda value: isinstance(value, bool),
    "sublinear_tf": lambda value: isinstance(value, bool),
}
_LINEAR_PARAMS = {
    "C": lambda value: _is_number(value) and value > 0,
    "class_weight": lambda value: value is None or value == "balanced" or (
        isinstance(value, dict) and all(k in ("0", "1") and _is_number(w) for k, w in value.items())),
    "dual": lambda value: isinstance(value, bool) or value == "auto",
    "fit_intercept": lambda value: isinstance(value, bool),
    "intercept_scaling": lambda value: _is_number(value) and value > 0,
    "loss": _string_in("hinge", "squared_hinge"),
    "max_iter": lambda value: _is_int(value) and value > 0,
    "multi_class": _string_in("ovr", "crammer_singer"),
    "penalty": _string_in("l1", "l2"),
    "random_state": _none_or(_is_int),
    "tol": lambda value: _is_number(value) and value > 0,
    "verbose": _is_int,
}
_CLASSIFIER_PARAMS = {
    "C": lambda value: _is_number(value) and value > 0,
    "seed": _none_or(_is_int),
}


def _checked(params: Any, rules: dict, what: str) -> dict[str, Any]:
    _require(isinstance(params, dict), f"{what} must be an object")
    _require(set(params) == set(rules),
             f"{what} must hold exactly {sorted(rules)}, got {sorted(params)}")
    bad = sorted(name for name, check in rules.items() if not check(params[name]))
    _require(not bad, f"{what}: invalid value for {', '.join(bad)}")
    return params


def _json_params(estimator, rules: dict, what: str) -> dict[str, Any]:
    """``estimator.get_params()`` as JSON values; anything not expressible is refused."""
    params = dict(estimator.get_params(deep=False))
    if "dtype" in params:
        dtype = params["dtype"]
        _require(dtype in _VECTORIZER_DTYPES.values(), f"{what}: dtype must be float64 or float32")
        params["dtype"] = np.dtype(dtype).name
    if isinstance(params.get("ngram_range"), tuple):
        params["ngram_range"] = list(params["ngram_range"])
    if isinstance(params.get("stop_words"), (tuple, frozenset, set)):
        params["stop_words"] = sorted(params["stop_words"])
    if isinstance(params.get("class_weight"), dict):
        params["class_weight"] = {str(k): float(w) for k, w in params["class_weight"].items()}
    return _checked(params, rules, f"{what} parameters")


def _vectorizer(params: dict[str, Any]) -> TfidfVectorizer:
    values = dict(params)
    values["dtype"] = _VECTORIZER_DTYPES[values["dtype"]]
    values["ngram_range"] = tuple(values["ngram_range"])
    return TfidfVectorizer(**values)


def _linear_svc(params: dict[str, Any]) -> LinearSVC:
    values = dict(params)
    if isinstance(values["class_weight"], dict):
        values["class_weight"] = {int(k): w for k, w in values["class_weight"].items()}
    return LinearSVC(**values)


def _validate_with_sklearn(estimator, what: str) -> None:
    """scikit-learn's own parameter constraints, as ``fit`` would check them."""
    validate = getattr(estimator, "_validate_params", None)
    if validate is not None:
        try:
            validate()
        except ValueError as error:
            raise PortableFormatError(f"{what}: {error}") from None


# --- writing -------------------------------------------------------------------

def _layout(pipeline) -> tuple:
    """The steps of a ``build_pipeline`` pipeline; ``PortableFormatError`` otherwise."""
    _require(type(pipeline) is Pipeline, f"expected a scikit-learn Pipeline, got {type(pipeline).__name__}")
    _require(pipeline.memory is None and not pipeline.verbose
             and getattr(pipeline, "transform_input", None) is None,
             "the pipeline must use the default memory, verbose and transform_input")
    _require([name for name, _ in pipeline.steps] == ["normalize", "features", "classifier"],
             "the pipeline's steps must be normalize, features, classifier")
    normalizer, union, classifier = (step for _, step in pipeline.steps)
    _require(type(normalizer) is TextNormalizer, "the normalize step must be a TextNormalizer")
    _require(type(union) is SequentialFeatureUnion, "the features step must be a SequentialFeatureUnion")
    _require(union.n_jobs is None and not union.verbose and union.verbose_feature_names_out is True,
             "the feature union must use the default n_jobs and verbosity")
    _require([name for name, _ in union.transformer_list] == list(BLOCKS),
             f"the feature blocks must be {', '.join(BLOCKS)}")
    blocks = dict(union.transformer_list)
    vectorizers = {}
    for name in ("word", "char"):
        block = blocks[name]
        _require(type(block) is Pipeline and block.memory is None and not block.verbose
                 and getattr(block, "transform_input", None) is None
                 and [step for step, _ in block.steps] == ["body", "tfidf"]
                 and type(block.steps[0][1]) is BodyText
                 and type(block.steps[1][1]) is TfidfVectorizer,
                 f"the {name} block must be Pipeline(body=BodyText, tfidf=TfidfVectorizer)")
        vectorizers[name] = block.steps[1][1]
    _require(type(blocks["signal"]) is SignalFeatures, "the signal block must be SignalFeatures")
    _require(type(blocks["lang"]) is LanguageIndicator, "the lang block must be a LanguageIndicator")
    _require(type(classifier) is CalibratedLinearClassifier,
             "the classifier step must be a CalibratedLinearClassifier")
    _require(type(getattr(classifier, "linear_", None)) is LinearSVC, "the classifier must be fitted (LinearSVC)")
    return union, vectorizers, blocks["signal"], blocks["lang"], classifier


def _float_array(value, what: str) -> np.ndarray:
    array = np.ascontiguousarray(value, dtype=np.float64)
    _require(bool(np.isfinite(array).all()), f"{what} holds NaN or infinite values")
    return array


def pipeline_arrays(pipeline) -> dict[str, np.ndarray]:
    """The members of a ``portable-1`` file for a fitted pipeline (see the module doc)."""
    union, vectorizers, signals, languages, classifier = _layout(pipeline)
    document: dict[str, Any] = {"format": PORTABLE_FORMAT}
    arrays: dict[str, np.ndarray] = {}
    _require(hasattr(signals, "means_") and hasattr(languages, "languages_") and hasattr(languages, "means_"),
             "the signal and lang blocks must be fitted")
    for name, vectorizer in vectorizers.items():
        _require(getattr(vectorizer, "fixed_vocabulary_", None) is False and hasattr(vectorizer, "vocabulary_")
                 and hasattr(vectorizer, "_tfidf"),
                 f"the {name} vectorizer must be fitted, with the vocabulary it learnt")
        vocabulary = vectorizer.vocabulary_
        terms = [""] * len(vocabulary)
        for term, column in vocabulary.items():
            terms[column] = term
        _require(sorted(vocabulary.values()) == list(range(len(vocabulary))),
                 f"the {name} vocabulary's columns are not 0..n-1")
        document[name] = {
            "params": _json_params(vectorizer, _VECTORIZER_PARAMS, f"{name} vectorizer"),
            "vocabulary": terms,
        }
        arrays[f"{name}_idf"] = _float_array(vectorizer.idf_, f"{name} idf_")
    document["signal"] = {"names": list(signals.get_feature_names_out())}
    arrays["signal_means"] = _float_array(signals.means_, "signal means_")
    document["lang"] = {"min_rows": languages.min_rows, "languages": list(languages.languages_)}
    arrays["lang_means"] = _float_array(languages.means_, "language means_")
    document["transformer_weights"] = {name: float(weight) for name, weight
                                       in (union.transformer_weights or {}).items()}
    linear = classifier.linear_
    document["classifier"] = {
        "params": _json_params(classifier, _CLASSIFIER_PARAMS, "classifier"),
        "linear_params": _json_params(linear, _LINEAR_PARAMS, "LinearSVC"),
        "n_iter": int(linear.n_iter_),
    }
    arrays["coef"] = _float_array(linear.coef_, "coef_")
    arrays["intercept"] = _float_array(linear.intercept_, "intercept_")
    arrays["calibration"] = _float_array([classifier.slope_, classifier.intercept_], "calibration")
    arrays["classes"] = np.asarray(classifier.classes_).astype(np.int64)
    arrays["document"] = encode_document(document)
    _check_document(document)   # what is written must read back
    return {name: arrays[name] for name in _MEMBERS}


def encode_document(document: dict[str, Any]) -> np.ndarray:
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()


def write_arrays(arrays: dict[str, np.ndarray], file: str | Path | IO[bytes]) -> None:
    """Write ``arrays`` as a ZIP of ``.npy`` members, deterministically (no pickle)."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as member:
                npy_format.write_array(member, np.asanyarray(array), allow_pickle=False)


def save_pipeline(pipeline, file: str | Path | IO[bytes]) -> None:
    """Write ``pipeline`` to ``file`` in the ``portable-1`` format."""
    write_arrays(pipeline_arrays(pipeline), file)


# --- reading -------------------------------------------------------------------

def read_arrays(file: str | Path | IO[bytes]) -> dict[str, np.ndarray]:
    """The members of a ``portable-1`` file, each checked against its expected dtype."""
    if isinstance(file, (str, Path)):
        with open(file, "rb") as handle:
            return read_arrays(io.BytesIO(handle.read()))
    head = file.read(4)
    file.seek(0)
    _require(head == b"PK\x03\x04", "not a portable-1 model file (not a ZIP archive of .npy arrays; "
             "a pickle or joblib file is never loaded)")
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(file) as archive:
        members = archive.infolist()
        names = [member.filename for member in members]
        expected = [f"{name}.npy" for name in _MEMBERS]
        _require(sorted(names) == sorted(expected) and len(set(names)) == len(names),
                 f"the file must hold exactly the members {', '.join(expected)}; it holds {', '.join(names)}")
        for member in members:
            _require(member.file_size <= MAX_MEMBER_BYTES, f"{member.filename} is too large")
            name = member.filename[:-len(".npy")]
            with archive.open(member) as handle:
                try:
                    array = npy_format.read_array(handle, allow_pickle=False)
                except ValueError as error:   # object arrays included: "allow_pickle=False"
                    raise PortableFormatError(f"{member.filename} is not a plain numeric array: {error}") from None
            _require(array.dtype == _MEMBERS[name],
                     f"{member.filename} must be {_MEMBERS[name].str}, got {array.dtype.str}")
            arrays[name] = array
    return arrays


def _vocabulary(entry: Any, idf: np.ndarray, name: str) -> dict[str, int]:
    _require(isinstance(entry, list) and all(isinstance(term, str) for term in entry),
             f"the {name} vocabulary must be a list of terms")
    vocabulary = {term: column for column, term in enumerate(entry)}
    _require(len(vocabulary) == len(entry), f"the {name} vocabulary repeats terms")
    _require(len(entry) > 0, f"the {name} vocabulary is empty")
    _require(idf.shape == (len(entry),),
             f"{name}_idf has shape {idf.shape}, the {name} vocabulary has {len(entry)} terms")
    return vocabulary


def _check_document(document: Any) -> None:
    _require(isinstance(document, dict), "the document must be a JSON object")
    _require(document.get("format") == PORTABLE_FORMAT,
             f"the document's format must be {PORTABLE_FORMAT!r}, got {str(document.get('format'))[:40]!r}")
    _require(set(document) == {"format", *BLOCKS, "transformer_weights", "classifier"},
             f"unexpected document fields: {sorted(document)}")
    for name in ("word", "char"):
        entry = document[name]
        _require(isinstance(entry, dict) and set(entry) == {"params", "vocabulary"},
                 f"{name} must hold params and vocabulary")
        _checked(entry["params"], _VECTORIZER_PARAMS, f"{name} vectorizer parameters")
    _require(document["signal"] == {"names": list(SIGNAL_NAMES)},
             "the file's signal names differ from this code's SIGNAL_NAMES")
    lang = document["lang"]
    _require(isinstance(lang, dict) and set(lang) == {"min_rows", "languages"}
             and _is_int(lang["min_rows"]) and isinstance(lang["languages"], list)
             and all(isinstance(code, str) for code in lang["languages"])
             and len(set(lang["languages"])) == len(lang["languages"]),
             "lang must hold min_rows and a list of distinct language codes")
    weights = document["transformer_weights"]
    _require(isinstance(weights, dict) and set(weights) <= set(BLOCKS)
             and all(_is_number(weight) for weight in weights.values()),
             "transformer_weights must map feature blocks to finite numbers")
    classifier = document["classifier"]
    _require(isinstance(classifier, dict) and set(classifier) == {"params", "linear_params", "n_iter"}
             and _is_int(classifier["n_iter"]), "classifier must hold params, linear_params and n_iter")
    _checked(classifier["params"], _CLASSIFIER_PARAMS, "classifier parameters")
    _checked(classifier["linear_params"], _LINEAR_PARAMS, "LinearSVC parameters")


def _finite(array: np.ndarray, shape: tuple, what: str) -> np.ndarray:
    _require(array.shape == shape, f"{what} has shape {array.shape}, expected {shape}")
    _require(bool(np.isfinite(array).all()), f"{what} holds NaN or infinite values")
    return array


def pipeline_from_arrays(arrays: dict[str, np.ndarray]) -> Pipeline:
    """The fitted pipeline ``arrays`` (as ``read_arrays`` returns them) describe."""
    raw = arrays["document"]
    _require(raw.ndim == 1, "document must be a 1-D byte array")
    try:
        document = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise PortableFormatError(f"the document is not UTF-8 JSON: {error}") from None
    _check_document(document)

    tfidf = {}
    for name in ("word", "char"):
        idf = arrays[f"{name}_idf"]
        _require(idf.ndim == 1, f"{name}_idf must be 1-D")
        vocabulary = _vocabulary(document[name]["vocabulary"], idf, name)
        _finite(idf, (len(vocabulary),), f"{name}_idf")
        vectorizer = _vectorizer(document[name]["params"])
        _validate_with_sklearn(vectorizer, f"{name} vectorizer")
        vectorizer.vocabulary_ = vocabulary
        vectorizer.fixed_vocabulary_ = False
        vectorizer.idf_ = idf   # builds the inner TfidfTransformer with the vectorizer's settings
        vectorizer._tfidf.n_features_in_ = len(vocabulary)
        tfidf[name] = vectorizer

    signals = SignalFeatures()
    signals.means_ = _finite(arrays["signal_means"], (len(SIGNAL_NAMES),), "signal_means")

    codes = document["lang"]["languages"]
    languages = LanguageIndicator(min_rows=document["lang"]["min_rows"])
    languages.languages_ = list(codes)
    languages._index = {code: i for i, code in enumerate(codes)}
    languages.means_ = _finite(arrays["lang_means"], (len(codes) + 1,), "lang_means")

    widths = len(tfidf["word"].vocabulary_) + len(tfidf["char"].vocabulary_) + len(SIGNAL_NAMES) + len(codes) + 1
    spec = document["classifier"]
    linear = _linear_svc(spec["linear_params"])
    _validate_with_sklearn(linear, "LinearSVC")
    linear.coef_ = _finite(arrays["coef"], (1, widths), "coef")
    linear.intercept_ = _finite(arrays["intercept"], (1,), "intercept")
    classes = arrays["classes"]
    _require(classes.shape == (2,) and classes.tolist() == [0, 1], "classes must be [0, 1]")
    linear.classes_ = classes
    linear.n_features_in_ = widths
    linear.n_iter_ = spec["n_iter"]
    classifier = CalibratedLinearClassifier(**spec["params"])
    classifier.linear_ = linear
    classifier.classes_ = classes
    slope, intercept = _finite(arrays["calibration"], (2,), "calibration").tolist()
    _require(slope > 0, "the calibration slope must be positive")
    classifier.slope_, classifier.intercept_ = slope, intercept

    union = SequentialFeatureUnion(
        [
            ("word", Pipeline([("body", BodyText()), ("tfidf", tfidf["word"])])),
            ("char", Pipeline([("body", BodyText()), ("tfidf", tfidf["char"])])),
            ("signal", signals),
            ("lang", languages),
        ],
        transformer_weights=dict(document["transformer_weights"]),
    )
    return Pipeline([("normalize", TextNormalizer()), ("features", union), ("classifier", classifier)])


def load_pipeline(file: str | Path | IO[bytes]) -> Pipeline:
    """Read a ``portable-1`` file (a path or a seekable binary file object)."""
    try:
        return pipeline_from_arrays(read_arrays(file))
    except PortableFormatError:
        raise
    except Exception as error:  # noqa: BLE001 - nothing here runs code: every failure means "unusable"
        # a truncated or corrupt archive (bad CRC, short member, zlib error), a malformed .npy header...
        raise PortableFormatError(f"not a readable portable-1 model file: {error!r}") from None
