"""LinearScorer gives the fitted pipeline's probabilities without scikit-learn's machinery."""

import copy

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from moderation.scoring.features import ScoringInput, build_pipeline
from moderation.scoring.linear import LinearScorer, UnsupportedPipeline
from moderation.scoring.model import ModelBundle
from tests.scoring.toy import toy_inputs

ODD_INPUTS = [
    ScoringInput("", "", "", "unknown"),
    ScoringInput("!!! ??? ...", "", "", "unknown"),
    ScoringInput("WIN a FREE iPhone now, visit http://www.promo7.com/a1 !!!", "user42", "", "en"),
    ScoringInput("<b>Bonjour</b> &amp; merci pour l'article, très clair", "Élodie", "e@mailinator.com", "fr"),
    ScoringInput("The dancing at 3:15 is hilarious, my kids love it", "Anna", "anna@example.org", "en"),
    ScoringInput("Call 0800 123 4567 or write to deals@example.com www.cheap.biz", "www.spam.ru", "", "xx"),
    ScoringInput("ＦＵＬＬ　ＷＩＤＴＨ\u200b text\ufeff and ooooooh noooo", "", "", "en"),
    ScoringInput("word " * 400, "", "", "en"),
]


@pytest.fixture(scope="module")
def fitted():
    inputs, labels, _ = toy_inputs()
    pipeline = build_pipeline(seed=0).fit(inputs, labels)
    pipeline.named_steps["classifier"].calibrate(1.7, -0.3)   # not the identity, to test both
    return pipeline, inputs


def test_probabilities_equal_the_pipelines(fitted):
    pipeline, inputs = fitted
    batch = inputs + ODD_INPUTS
    scorer = LinearScorer.from_pipeline(pipeline)
    expected = pipeline.predict_proba(batch)[:, 1]
    np.testing.assert_allclose(scorer.predict_proba(batch), expected, rtol=0, atol=1e-9)
    # one at a time too: no state leaks between texts of a batch
    single = [scorer.predict_proba([item])[0] for item in ODD_INPUTS]
    np.testing.assert_allclose(single, pipeline.predict_proba(ODD_INPUTS)[:, 1], rtol=0, atol=1e-9)


def test_margins_equal_the_svms(fitted):
    pipeline, inputs = fitted
    features = pipeline[:-1].transform(inputs[:20])
    np.testing.assert_allclose(LinearScorer.from_pipeline(pipeline).margins(inputs[:20]),
                               pipeline[-1].decision_function(features), rtol=0, atol=1e-9)


def test_an_empty_batch_scores_nothing(fitted):
    assert LinearScorer.from_pipeline(fitted[0]).predict_proba([]).shape == (0,)


def test_the_pipeline_is_left_untouched(fitted):
    pipeline, inputs = fitted
    before = copy.deepcopy(pipeline)
    LinearScorer.from_pipeline(pipeline).predict_proba(inputs[:5])
    np.testing.assert_array_equal(pipeline.predict_proba(inputs), before.predict_proba(inputs))


def test_another_layout_is_refused_and_the_bundle_falls_back(fitted):
    _, inputs = fitted
    labels = [0, 1] * 30
    other = build_pipeline(seed=0).set_params(classifier=LogisticRegression()).fit(inputs[:60], labels)
    with pytest.raises(UnsupportedPipeline):
        LinearScorer.from_pipeline(other)
    manifest = {"version": "other", "thresholds": {"approve_below": 0.2, "reject_above": 0.8},
                "languages": ["en"]}
    bundle = ModelBundle(manifest, other)
    assert bundle.predict_proba(ODD_INPUTS) == pytest.approx(
        other.predict_proba(ODD_INPUTS)[:, 1].tolist(), abs=1e-12)


def test_cached_words_give_the_same_answers_as_fresh_ones(fitted):
    pipeline, inputs = fitted
    batch = inputs + ODD_INPUTS
    expected = pipeline.predict_proba(batch)[:, 1]
    scorer = LinearScorer.from_pipeline(pipeline)
    for _ in range(2):   # cold, then every word cached
        np.testing.assert_allclose(scorer.predict_proba(batch), expected, rtol=0, atol=1e-9)


def test_a_replaced_scorer_is_freed_without_waiting_for_the_garbage_collector(fitted):
    # A model reload drops the old scorer: it must go with its last reference
    # (no reference cycle), or each reload would keep a model's memory until a
    # full collection.
    import gc
    import weakref
    pipeline, inputs = fitted
    scorer = LinearScorer.from_pipeline(pipeline)
    scorer.predict_proba(inputs[:5])   # fills the per-word caches
    blocks = [weakref.ref(scorer._word), weakref.ref(scorer._char)]   # the n-gram blocks
    gc.disable()
    try:
        del scorer
        assert all(block() is None for block in blocks)
    finally:
        gc.enable()
