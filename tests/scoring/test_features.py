"""Normalization, the feature blocks and the pipeline built from them."""

import dataclasses

import numpy as np
import pytest

from moderation.scoring import features
from moderation.scoring.features import (
    ENGAGEMENT_BAIT_VALUE,
    SIGNAL_NAMES,
    LanguageIndicator,
    ScoringInput,
    SignalFeatures,
    TextNormalizer,
    build_pipeline,
    describe_pipeline,
    feature_baseline,
    feature_names,
    normalize_text,
    signal_matrix,
)
from tests.scoring.toy import toy_inputs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Great song<br />Love it\ufeff", "Great song Love it"),
        ('<a href="http://x.example/watch">2:19</a> best part', "2:19 best part"),
        ("Tom &amp; Jerry &#39;rock&#39;", "Tom & Jerry 'rock'"),
        ("ＦＲＥＥ　ｍｏｎｅｙ", "FREE money"),  # full-width letters and space (NFKC)
        ("fr\u200bee m\u00adoney", "free money"),  # zero-width space, soft hyphen
        ("  many\n\n\tspaces   here ", "many spaces here"),
        ("a < b and c > d, <3", "a < b and c > d, <3"),  # not tags
        ("", ""),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_normalize_text_keeps_case_and_punctuation():
    assert normalize_text("WIN!!! Now...") == "WIN!!! Now..."


def test_text_normalizer_normalizes_body_and_name_and_keeps_language():
    [item] = TextNormalizer().transform([ScoringInput("Hi<br/>there", " Bob\u200b ", " A@B.COM ", "fr")])
    assert item == ScoringInput("Hi there", "Bob", "a@b.com", "fr")


def _signals(**fields) -> dict[str, float]:
    [row] = signal_matrix([ScoringInput(**fields)])
    return dict(zip(SIGNAL_NAMES, row))


def test_links_emails_and_phones_are_counted():
    values = _signals(body="see http://a.example/x and www.b.org or bit.ly/abc, mail me@spam.com, call +44 20 7946 0958")
    assert values["has_link"] == 1.0
    assert values["link_count"] == pytest.approx(np.log1p(3) / np.log1p(5))  # the e-mail's domain is no link
    assert values["email_count"] == pytest.approx(np.log1p(1) / np.log1p(3))
    assert values["phone_count"] == pytest.approx(np.log1p(1) / np.log1p(3))


def test_plain_text_has_no_links_emails_or_phones():
    values = _signals(body="I watched it in 2015 and again in 2016. Great stuff.")
    assert values["has_link"] == values["email_count"] == values["phone_count"] == 0.0


def test_character_ratios_and_runs():
    values = _signals(body="AAAb 12!!")  # 9 characters: 4 letters (3 upper), 2 digits, 2 symbols, 1 space
    assert values["uppercase_ratio"] == pytest.approx(3 / 4)
    assert values["digit_ratio"] == pytest.approx(2 / 9)
    assert values["symbol_ratio"] == pytest.approx(2 / 9)
    assert values["repeated_char_runs"] == pytest.approx(np.log1p(1) / np.log1p(10))  # "AAA"; "!!" is too short
    assert _signals(body="soooo goooood!!!!")["repeated_char_runs"] == pytest.approx(np.log1p(3) / np.log1p(10))


def test_non_ascii_letters_and_emoji():
    values = _signals(body="Été 😀")
    assert values["uppercase_ratio"] == pytest.approx(1 / 3)
    assert values["symbol_ratio"] == pytest.approx(1 / 5)


def test_runs_do_not_cross_texts_in_a_batch():
    matrix = signal_matrix([ScoringInput("xaa"), ScoringInput("abb"), ScoringInput("")])
    assert matrix[:, SIGNAL_NAMES.index("repeated_char_runs")].tolist() == [0.0, 0.0, 0.0]


def test_author_signals():
    assert _signals(body="hi", author_name="www.cheap-pills.ru")["author_name_has_url"] == 1.0
    assert "author_name_has_digits" not in _signals(body="hi", author_name="john1987")  # readers' pseudonyms
    assert _signals(body="hi", author_email="x@mailinator.com")["author_email_disposable"] == 1.0
    plain = _signals(body="hi", author_name="Marie", author_email="marie@example.org")
    assert plain["author_name_has_url"] == plain["author_email_disposable"] == 0.0


def test_engagement_bait_is_an_order_or_a_condition_not_an_opinion():
    bait = ENGAGEMENT_BAIT_VALUE
    assert _signals(body="Like this comment if you agree")["engagement_bait"] == bait
    [tagged] = TextNormalizer().transform([ScoringInput("Wow. <b>like this comment</b> for no reason")])
    assert _signals(body=tagged.body)["engagement_bait"] == bait  # the signals see text without its tags
    assert _signals(body="Likez ce commentaire si vous êtes d'accord")["engagement_bait"] == bait
    assert _signals(body="Abonnez-vous à ma chaîne !")["engagement_bait"] == bait
    assert _signals(body="sub 4 sub anyone?")["engagement_bait"] == bait
    for opinion in ("I like this comment, well said.", "I like the post office", "I subscribe to that view.",
                    "Je like ce commentaire", "Thanks for this."):
        assert _signals(body=opinion)["engagement_bait"] == 0.0, opinion


def test_signals_lie_in_unit_interval_and_batch_equals_rows():
    inputs, _, _ = toy_inputs(per_site=10)
    inputs.append(ScoringInput("Like this comment if you read the whole article"))
    normalized = TextNormalizer().transform(inputs)
    batch = signal_matrix(normalized)
    assert batch.shape == (len(inputs), len(SIGNAL_NAMES))
    bait = SIGNAL_NAMES.index("engagement_bait")
    assert set(batch[:, bait].tolist()) == {0.0, ENGAGEMENT_BAIT_VALUE}
    others = np.delete(batch, bait, axis=1)
    assert others.min() >= 0.0 and others.max() <= 1.0
    one_by_one = np.vstack([signal_matrix([item]) for item in normalized])
    assert np.array_equal(batch, one_by_one)
    assert signal_matrix([]).shape == (0, len(SIGNAL_NAMES))


def test_signal_features_record_training_means():
    inputs, _, _ = toy_inputs(per_site=10)
    normalized = TextNormalizer().transform(inputs)
    transformer = SignalFeatures().fit(normalized)
    assert np.allclose(transformer.means_, signal_matrix(normalized).mean(axis=0))


def test_language_indicator_keeps_frequent_languages_and_pools_the_rest():
    training = [ScoringInput("x", language="en")] * 3 + [ScoringInput("x", language="fr")] * 2 + [
        ScoringInput("x", language="de")
    ]
    indicator = LanguageIndicator(min_rows=2).fit(training)
    assert indicator.get_feature_names_out().tolist() == ["en", "fr", "other"]
    matrix = indicator.transform([ScoringInput("x", language="fr"), ScoringInput("x", language="es")]).toarray()
    assert matrix.tolist() == [[0, 1, 0], [0, 0, 1]]
    assert indicator.means_.tolist() == pytest.approx([3 / 6, 2 / 6, 1 / 6])


@pytest.fixture(scope="module")
def fitted():
    inputs, labels, _ = toy_inputs()
    return build_pipeline(seed=0).fit(inputs, labels), inputs, labels


def test_pipeline_steps_and_names(fitted):
    pipeline, inputs, _ = fitted
    assert [name for name, _ in pipeline.steps] == ["normalize", "features", "classifier"]
    normalized = pipeline.named_steps["normalize"].transform(inputs)
    matrix = pipeline.named_steps["features"].transform(normalized)
    names = feature_names(pipeline)
    assert matrix.shape == (len(inputs), len(names))
    assert len(feature_baseline(pipeline)) == len(names)
    assert "word:subscribe" in set(names)
    assert {f"signal:{name}" for name in SIGNAL_NAMES} <= set(names)
    assert any(name.startswith('char:"') for name in names)
    assert describe_pipeline(pipeline)["vocabulary"]["word"] > 0


def test_pipeline_separates_the_toy_classes(fitted):
    pipeline, _, _ = fitted
    spam = ScoringInput("Check out my channel http://www.promo5.com and subscribe!!!", "user12", "", "en")
    ham = ScoringInput("I love this song, it reminds me of the summer of 2004", "Anna", "", "en")
    p_spam, p_ham = pipeline.predict_proba([spam, ham])[:, 1]
    assert p_spam > 0.5 > p_ham


def test_ngrams_do_not_see_a_links_scheme(fitted):
    # The scheme dates a link (http before about 2016, https after), it does not
    # tell who wrote it: old spam and a reader citing an old article look alike.
    assert features.ngram_text("see http://example.org/a and HTTPS://www.b.fr/x") == "see example.org/a and www.b.fr/x"
    assert features.ngram_text("no link, just a colon: here") == "no link, just a colon: here"
    pipeline, _, _ = fitted
    texts = [f"The council report is at {scheme}://www.example.org/minutes/2019 read it" for scheme in ("http", "https", "HTTP")]
    normalized = pipeline.named_steps["normalize"].transform([ScoringInput(t, "", "", "en") for t in texts])
    blocks = dict(pipeline.named_steps["features"].transformer_list)
    for name in ("word", "char"):
        rows = blocks[name].transform(normalized).toarray()
        assert rows[0].any() and (rows == rows[0]).all(), name
    signals = blocks["signal"].transform(normalized).toarray()
    assert (signals[:, SIGNAL_NAMES.index("link_count")] > 0).all()   # the link still counts


def test_same_data_and_seed_give_the_same_model(fitted):
    pipeline, inputs, labels = fitted
    again = build_pipeline(seed=0).fit(inputs, labels)
    assert np.array_equal(pipeline[-1].linear_.coef_, again[-1].linear_.coef_)
    assert np.array_equal(pipeline.predict_proba(inputs), again.predict_proba(inputs))


def test_pipeline_never_detects_languages(monkeypatch, fitted):
    from moderation.scoring import language

    def forbidden(*args, **kwargs):
        raise AssertionError("the pipeline must use ScoringInput.language, not detect it")

    # Every detection starts by reading the profiles: the guard is live.
    monkeypatch.setattr(language, "profiles", forbidden)
    with pytest.raises(AssertionError, match="not detect it"):
        language.detect_language("a sentence long enough to be detected for sure")
    pipeline, inputs, labels = fitted
    build_pipeline(seed=0).fit(inputs, labels).predict_proba(inputs)


def test_feature_version_is_declared_and_input_is_frozen():
    assert isinstance(features.FEATURE_VERSION, str) and features.FEATURE_VERSION
    with pytest.raises(dataclasses.FrozenInstanceError):
        ScoringInput("x").body = "y"


@pytest.mark.parametrize(
    "raw",
    ["Great song<br />Love it\ufeff", "&lt;b&gt;bold&lt;/b&gt; &amp; more", "ＦＲＥＥ　ｍｏｎｅｙ", "plain text"],
)
def test_normalize_text_is_idempotent(raw):
    once = normalize_text(raw)
    assert normalize_text(once) == once
