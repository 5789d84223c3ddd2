"""The portable-1 model file: a faithful round trip, and nothing in a file ever runs."""

import io
import json
import pickle
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from moderation.scoring import portable
from moderation.scoring.features import (
    ScoringInput,
    build_pipeline,
    describe_pipeline,
    feature_baseline,
    feature_names,
)
from moderation.scoring.linear import LinearScorer
from moderation.scoring.model import ModelBundle
from moderation.scoring.portable import PortableFormatError, load_pipeline, pipeline_arrays, save_pipeline
from tests.scoring.test_linear import ODD_INPUTS
from tests.scoring.toy import toy_inputs


@pytest.fixture(scope="module")
def fitted():
    inputs, labels, _ = toy_inputs()
    pipeline = build_pipeline(seed=0).fit(inputs, labels)
    pipeline.named_steps["classifier"].calibrate(1.7, -0.3)
    return pipeline, inputs + ODD_INPUTS


@pytest.fixture(scope="module")
def saved(fitted) -> bytes:
    buffer = io.BytesIO()
    save_pipeline(fitted[0], buffer)
    return buffer.getvalue()


def _same_fitted_state(a, b, path="pipeline"):
    """Every attribute of every object, recursively: same types, same values."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, path
        assert np.array_equal(a, b), path
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same_fitted_state(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), path
        for key in a:
            _same_fitted_state(a[key], b[key], f"{path}.{key}")
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        assert type(a) is type(b), path
        # _stop_words_id: scikit-learn's cache of a check it redoes on first use
        ours = {k: v for k, v in vars(a).items() if k != "_stop_words_id"}
        theirs = {k: v for k, v in vars(b).items() if k != "_stop_words_id"}
        _same_fitted_state(ours, theirs, path)
    else:
        assert type(a) is type(b) and a == b, (path, a, b)


def test_round_trip_reproduces_the_pipeline(fitted, saved, tmp_path):
    pipeline, batch = fitted
    path = tmp_path / "model.npz"
    save_pipeline(pipeline, path)
    assert path.read_bytes() == saved   # deterministic: same pipeline, same bytes
    loaded = load_pipeline(path)
    _same_fitted_state(pipeline, loaded)
    np.testing.assert_allclose(loaded.predict_proba(batch), pipeline.predict_proba(batch), rtol=0, atol=1e-12)
    np.testing.assert_allclose(LinearScorer.from_pipeline(loaded).predict_proba(batch),
                               pipeline.predict_proba(batch)[:, 1], rtol=0, atol=1e-12)
    assert list(feature_names(loaded)) == list(feature_names(pipeline))
    np.testing.assert_array_equal(feature_baseline(loaded), feature_baseline(pipeline))
    assert describe_pipeline(loaded) == describe_pipeline(pipeline)
    assert repr(loaded.get_params()) == repr(pipeline.get_params())


def test_explain_works_on_a_loaded_pipeline(fitted, saved):
    pipeline, batch = fitted
    manifest = {"version": "v", "thresholds": {"approve_below": 0.2, "reject_above": 0.8}, "languages": ["en"]}
    original, loaded = ModelBundle(manifest, pipeline), ModelBundle(manifest, load_pipeline(io.BytesIO(saved)))
    for item in batch[:5] + ODD_INPUTS:
        assert loaded.explain(item, top=8) == original.explain(item, top=8)


def test_the_file_is_a_plain_npz_of_numeric_arrays(saved):
    with np.load(io.BytesIO(saved), allow_pickle=False) as archive:
        assert set(archive.files) == set(portable._MEMBERS)
        assert all(archive[name].dtype.kind in "fiu" for name in archive.files)
        document = json.loads(archive["document"].tobytes())
    assert document["format"] == portable.PORTABLE_FORMAT
    assert document["word"]["params"]["analyzer"] == "word" and document["char"]["params"]["analyzer"] == "char_wb"


# --- nothing in a file runs ------------------------------------------------------

class _Exploit:
    """Unpickling this creates ``marker``: proof that code from the file ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_the_exploit_used_below_does_run_when_unpickled(tmp_path):
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_Exploit(marker)))
    assert marker.exists()   # so its absence below means "not executed"


@pytest.mark.parametrize("kind", ["pickle", "joblib"])
def test_a_pickle_is_refused_without_running_it(tmp_path, kind):
    marker, path = tmp_path / "ran", tmp_path / "model.npz"
    if kind == "pickle":
        path.write_bytes(pickle.dumps(_Exploit(marker)))
    else:
        joblib.dump(_Exploit(marker), path, compress=3)
    with pytest.raises(PortableFormatError, match="not a portable-1 model file"):
        load_pipeline(path)
    assert not marker.exists()


@pytest.mark.parametrize("member", ["coef", "document", "classes"])
def test_an_object_array_inside_the_archive_is_refused_without_running_it(fitted, tmp_path, member):
    marker, path = tmp_path / "ran", tmp_path / "model.npz"
    arrays = pipeline_arrays(fitted[0])
    arrays[member] = np.array([_Exploit(marker)], dtype=object)
    np.savez(path, **arrays)   # numpy pickles object arrays inside .npy members
    with pytest.raises(PortableFormatError, match="not a plain numeric array"):
        load_pipeline(path)
    assert not marker.exists()


def test_a_pickle_named_as_a_member_is_refused(fitted, tmp_path):
    marker, path = tmp_path / "ran", tmp_path / "model.npz"
    arrays = pipeline_arrays(fitted[0])
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            if name == "coef":
                archive.writestr("coef.npy", pickle.dumps(_Exploit(marker)))
            else:
                buffer = io.BytesIO()
                np.save(buffer, array)
                archive.writestr(f"{name}.npy", buffer.getvalue())
    with pytest.raises(PortableFormatError):
        load_pipeline(path)
    assert not marker.exists()


# --- truncated, corrupt, malformed ---------------------------------------------

@pytest.mark.parametrize("keep", [0, 3, 100, 0.5, 0.99])
def test_a_truncated_file_is_refused(saved, keep):
    cut = saved[: keep if isinstance(keep, int) else int(len(saved) * keep)]
    with pytest.raises(PortableFormatError):
        load_pipeline(io.BytesIO(cut))


@pytest.mark.parametrize("where", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_a_corrupt_byte_is_refused(saved, where):
    data = bytearray(saved)
    data[int(len(data) * where)] ^= 0xFF
    with pytest.raises(PortableFormatError):
        load_pipeline(io.BytesIO(bytes(data)))


def _altered(pipeline, **changes) -> io.BytesIO:
    """The pipeline's file with some members replaced (``None`` removes one)."""
    arrays = pipeline_arrays(pipeline)
    for name, value in changes.items():
        if value is None:
            del arrays[name]
        else:
            arrays[name] = value(arrays[name]) if callable(value) else value
    buffer = io.BytesIO()
    portable.write_arrays(arrays, buffer)
    buffer.seek(0)
    return buffer


def _document(pipeline, change) -> np.ndarray:
    arrays = pipeline_arrays(pipeline)
    document = json.loads(arrays["document"].tobytes())
    change(document)
    return np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"coef": lambda a: a[:, :-1]}, r"coef has shape \(1, \d+\), expected"),
        ({"coef": lambda a: a[0]}, "coef has shape"),
        ({"coef": lambda a: a.astype(np.float32)}, "coef.npy must be <f8"),
        ({"coef": lambda a: np.where(np.arange(a.size) == 3, np.nan, a)}, "NaN or infinite"),
        ({"word_idf": lambda a: a[:-1]}, "word_idf has shape"),
        ({"char_idf": lambda a: a.reshape(1, -1)}, "char_idf must be 1-D"),
        ({"signal_means": lambda a: a[:-1]}, "signal_means has shape"),
        ({"lang_means": lambda a: np.append(a, 0.0)}, "lang_means has shape"),
        ({"intercept": lambda a: np.array([np.inf])}, "NaN or infinite"),
        ({"classes": lambda a: a[::-1].copy()}, r"classes must be \[0, 1\]"),
        ({"calibration": lambda a: np.array([-1.0, 0.0])}, "slope must be positive"),
        ({"document": lambda a: a[:-5]}, "not UTF-8 JSON"),
        ({"coef": None}, "must hold exactly the members"),
        ({"extra": np.zeros(1)}, "must hold exactly the members"),
    ],
)
def test_wrong_members_are_refused_with_the_reason(fitted, changes, message):
    with pytest.raises(PortableFormatError, match=message):
        load_pipeline(_altered(fitted[0], **changes))


def _set(path, value):
    def change(document):
        *parents, last = path
        for key in parents:
            document = document[key]
        document[last] = value
    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set(("format",), "portable-0"), "format must be 'portable-1'"),
        (_set(("word", "params", "input"), "filename"), "invalid value for input"),
        (_set(("word", "params", "preprocessor"), "os.system"), "invalid value for preprocessor"),
        (_set(("char", "params", "analyzer"), "builtins.eval"), "invalid value for analyzer"),
        (_set(("char", "params", "dtype"), "object"), "invalid value for dtype"),
        (_set(("char", "params", "ngram_range"), [5, 3]), "invalid value for ngram_range"),
        (_set(("word", "params", "surprise"), 1), "must hold exactly"),
        (lambda d: d["word"]["vocabulary"].append(d["word"]["vocabulary"][0]), "repeats terms"),
        (lambda d: d["char"]["vocabulary"].pop(), "char_idf has shape"),
        (_set(("word", "vocabulary"), {"a": 0}), "list of terms"),
        (_set(("signal", "names"), ["has_link"]), "SIGNAL_NAMES"),
        (_set(("lang", "languages"), ["en", "en"]), "distinct language codes"),
        (_set(("transformer_weights", "word"), "2"), "finite numbers"),
        (_set(("classifier", "linear_params", "loss"), "exec"), "invalid value for loss"),
        (_set(("classifier", "params", "C"), -1), "invalid value for C"),
        (_set(("classifier", "n_iter"), "7"), "n_iter"),
        (lambda d: d.pop("lang"), "unexpected document fields"),
    ],
)
def test_a_malformed_document_is_refused_with_the_reason(fitted, change, message):
    with pytest.raises(PortableFormatError, match=message):
        load_pipeline(_altered(fitted[0], document=_document(fitted[0], change)))


def test_a_document_that_is_not_an_object_is_refused(fitted):
    document = np.frombuffer(b"[1, 2, 3]", dtype=np.uint8)
    with pytest.raises(PortableFormatError, match="JSON object"):
        load_pipeline(_altered(fitted[0], document=document))


# --- what cannot be written ------------------------------------------------------

def test_only_the_scoring_pipeline_layout_can_be_saved(fitted):
    with pytest.raises(PortableFormatError, match="Pipeline"):
        save_pipeline({"not": "a pipeline"}, io.BytesIO())
    with pytest.raises(PortableFormatError, match="fitted"):
        save_pipeline(build_pipeline(seed=0), io.BytesIO())
    import copy
    odd = copy.deepcopy(fitted[0])
    word = dict(odd.named_steps["features"].transformer_list)["word"].named_steps["tfidf"]
    word.set_params(preprocessor=str.lower)
    with pytest.raises(PortableFormatError, match="preprocessor"):
        save_pipeline(odd, io.BytesIO())
    odd = copy.deepcopy(fitted[0])
    union = odd.named_steps["features"]
    union.transformer_list[0] = ("words", union.transformer_list[0][1])
    with pytest.raises(PortableFormatError, match="feature blocks"):
        save_pipeline(odd, io.BytesIO())
    odd = copy.deepcopy(fitted[0])
    dict(odd.named_steps["features"].transformer_list)["char"].steps[1] = ("tfidf", TfidfVectorizer())
    with pytest.raises(PortableFormatError):
        save_pipeline(odd, io.BytesIO())


def test_a_scoring_input_is_only_data(fitted, saved):
    # the rebuilt pipeline transforms text, it never opens files named in it
    loaded = load_pipeline(io.BytesIO(saved))
    word = dict(loaded.named_steps["features"].transformer_list)["word"].named_steps["tfidf"]
    assert word.input == "content"
    assert loaded.predict_proba([ScoringInput("/etc/passwd", "", "", "en")]).shape == (1, 2)
