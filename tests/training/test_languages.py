"""Languages as a measured property: per-language thresholds, support decisions,
folds that keep copies with their source, link copies, offline translation."""
from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest

from moderation.scoring.engagement import asks_for_engagement
from moderation.scoring.features import ScoringInput, has_link
from moderation.scoring.links import link_host
from moderation.training.augment import ORDINARY_HOSTS, REFERENCE_HOSTS, with_links
from moderation.training.evaluation import assign_folds
from moderation.training.languages import MIN_HAM, MIN_SPAM, evaluate_languages
from moderation.training.thresholds import band_rates, choose_thresholds, choose_thresholds_by_source
from moderation.training.translate import ApertiumMissing, _key, protect, restore, translate

BUDGETS = {"max_ham_to_spam": 0.005, "max_spam_published": 0.02}


def _separable(rng, n_ham, n_spam, overlap=0.0):
    ham = rng.uniform(0.0, 0.4 + overlap, n_ham)
    spam = rng.uniform(0.6 - overlap, 1.0, n_spam)
    return np.concatenate([ham, spam]), np.array([0] * n_ham + [1] * n_spam)


def test_a_language_with_enough_held_out_rows_meeting_the_budgets_is_supported():
    rng = np.random.default_rng(0)
    en_scores, en_labels = _separable(rng, 400, 100)
    de_scores, de_labels = _separable(rng, 20, 10)
    scores = np.concatenate([en_scores, de_scores])
    labels = np.concatenate([en_labels, de_labels])
    languages = ["en"] * len(en_scores) + ["de"] * len(de_scores)
    result = evaluate_languages(scores, labels, languages, ["s"] * len(scores), [False] * len(scores), **BUDGETS)
    assert result["en"]["supported"] and result["en"]["why"] == "held-out rows meet both budgets"
    assert not result["de"]["supported"] and result["de"]["why"].startswith("too few held-out rows")
    assert f"needs {MIN_HAM} and {MIN_SPAM}" in result["de"]["why"]
    # Its own thresholds are measured even so, and the row count alone never decides.
    assert set(result["de"]["thresholds"]) == {"approve_below", "reject_above"}


def test_a_language_whose_review_band_is_too_wide_is_not_supported_unless_forced():
    rng = np.random.default_rng(1)
    scores, labels = _separable(rng, 400, 100, overlap=0.35)   # the classes overlap: a wide review band
    languages, sources, links = ["fr"] * len(scores), ["s"] * len(scores), [False] * len(scores)
    result = evaluate_languages(scores, labels, languages, sources, links, max_review=0.1, **BUDGETS)
    assert not result["fr"]["supported"] and result["fr"]["why"].startswith("review band")
    forced = evaluate_languages(scores, labels, languages, sources, links, max_review=0.1, force=["fr"], **BUDGETS)
    assert forced["fr"]["supported"] and forced["fr"]["why"] == "forced by --support"
    clean_scores, clean_labels = _separable(rng, 400, 100)
    forbidden = evaluate_languages(clean_scores, clean_labels, ["fr"] * 500, ["s"] * 500, [False] * 500,
                                   forbid=["fr"], **BUDGETS)
    assert not forbidden["fr"]["supported"] and forbidden["fr"]["why"] == "forbidden by --no-support"


def test_link_measurement_compares_ham_with_and_without_a_link():
    scores = np.array([0.1, 0.1, 0.9, 0.5, 0.95])
    labels = np.array([0, 0, 0, 0, 1])
    has_link = np.array([False, True, True, False, True])
    rng = np.random.default_rng(2)
    extra_scores, extra_labels = _separable(rng, 300, 60)
    result = evaluate_languages(np.concatenate([scores, extra_scores]), np.concatenate([labels, extra_labels]),
                                ["en"] * 365, ["s"] * 365, np.concatenate([has_link, [False] * 360]), **BUDGETS)
    links = result["en"]["links"]
    assert links["ham_with_link"]["n"] == 2 and links["spam_with_link"]["n"] == 1
    assert links["ham_without_link"]["n"] == 302


def test_a_plentiful_easy_source_does_not_loosen_another_source_s_threshold():
    rng = np.random.default_rng(3)
    hard_ham = rng.uniform(0.0, 0.8, 300)      # YouTube-like ham reaching high scores
    hard_spam = rng.uniform(0.5, 1.0, 300)
    easy_ham = rng.uniform(0.0, 0.1, 5000)     # news replies: all low
    scores = np.concatenate([hard_ham, hard_spam, easy_ham])
    labels = np.array([0] * 300 + [1] * 300 + [0] * 5000)
    sources = np.array(["youtube"] * 600 + ["news"] * 5000, dtype=object)
    pooled = choose_thresholds(scores, labels)
    by_source = choose_thresholds_by_source(scores, labels, sources)
    hard = sources == "youtube"
    assert band_rates(scores[hard], labels[hard], pooled).ham_to_spam_rate > 0.005
    assert band_rates(scores[hard], labels[hard], by_source).ham_to_spam_rate <= 0.005
    assert by_source.reject_above >= pooled.reject_above


def test_one_class_groups_are_spread_over_the_two_class_folds_keeping_copies_together():
    groups = np.array(["v1"] * 4 + ["v2"] * 4 + ["news"] * 6 + ["sms"] * 2, dtype=object)
    labels = np.array([0, 1, 0, 1] * 2 + [0] * 6 + [1, 0])
    keys = np.array(["a", "b", "c", "d", "e", "f", "g", "h", "t1", "t2", "t3", "t1", "t2", "t3", "x", "y"],
                    dtype=object)
    folds, method = assign_folds(groups, {"sms": 0.1}, labels, keys)
    assert set(folds[:4]) == {"v1"} and set(folds[4:8]) == {"v2"}
    assert set(folds[8:14]) <= {"v1", "v2"}
    assert folds[8] == folds[11] and folds[9] == folds[12] and folds[10] == folds[13]   # same thread, same fold
    assert set(folds[14:]) == {""}
    assert "spread over those folds" in method


def test_link_copies_are_ham_made_only_from_ham_and_reproducible():
    inputs = [ScoringInput(f"Reply number {i} about the council budget and the tram", language="en")
              for i in range(200)]
    inputs += [ScoringInput("Le conseil a raison sur le tramway, enfin une bonne nouvelle", language="fr")] * 50
    labels = [0] * 200 + [1] * 20 + [0] * 30
    made, origins = with_links(inputs, labels, share=0.3, seed=7)
    again, again_origins = with_links(inputs, labels, share=0.3, seed=7)
    assert made == again and origins == again_origins
    assert 40 <= len(made) <= 100
    assert all(labels[i] == 0 for i in origins)
    for item, origin in zip(made, origins):
        lead = " ".join(inputs[origin].body.split()[:3])       # the whole text, or its first words
        assert lead in item.body and item.body != inputs[origin].body
        assert item.language == inputs[origin].language
        assert has_link([item])[0]
    hosts = {link_host(word) for item in made for word in item.body.split() if "/" in word}
    assert len(hosts) >= 15                                     # many hosts, not a handful
    listed = " ".join(ORDINARY_HOSTS["en"] + REFERENCE_HOSTS["en"])
    assert any(host.endswith(".com") and host not in listed for host in hosts)   # made-up news-like sites


def test_protected_spans_survive_as_they_were():
    text = "Phone 0800 123 4567 or write to win@prizes.example, see http://bit.ly/abc and www.free.example/x"
    held, kept = protect(text)
    assert "0800" not in held and "bit.ly" not in held and "@" not in held
    assert kept == ["0800 123 4567", "win@prizes.example", "http://bit.ly/abc", "www.free.example/x"]
    assert restore(held, kept) == text


def test_spam_terms_come_out_in_the_french_spam_uses_and_links_keep_their_words():
    held, kept = protect("You have won a FREE gift card! Call 0906 170 1461 or visit www.win-free.example "
                         "to claim your prize, and check out my channel")
    assert restore(held, kept) == ("vous avez gagné a gratuit carte cadeau! appelez le 0906 170 1461 or visit "
                                   "www.win-free.example pour réclamer your prize, and allez voir my chaîne")
    held, kept = protect("Text WIN to 81234 now, reply STOP to end. Subscribe! Hi guys")
    assert restore(held, kept) == "envoyez gagner au 81234 now, répondez STOP to end. abonnez-vous! salut les gars"


@pytest.mark.parametrize("text", [
    "I don't subscribe to that theory.",
    "Free speech and the free market matter; feel the tax-free account.",
    "It won't happen from 2010 to 2015.",
    "I think the council made the right call on the new tram line.",
])
def test_ordinary_senses_are_left_to_apertium(text):
    assert protect(text) == (text, [])


def test_a_glossed_text_is_cached_under_what_apertium_reads():
    plain = "I think the council made the right call."
    assert _key(plain, "fr") == hashlib.sha256(plain.encode()).hexdigest()     # unchanged keys
    assert _key("Check out my channel", "fr") != hashlib.sha256(b"Check out my channel").hexdigest()


def test_a_request_for_likes_is_translated_by_the_glossary_and_an_opinion_is_left_to_apertium():
    held, kept = protect("Like this comment if you agree, and subscribe to my channel http://x.example/a")
    assert kept == ["likez ce commentaire", "abonnez-vous à ma chaîne", "http://x.example/a"]
    assert asks_for_engagement(restore(held, kept))
    assert protect("I like this comment, well said.") == ("I like this comment, well said.", [])


@pytest.mark.skipif(shutil.which("apertium") is None,
                    reason="Apertium is not installed (apt-get install apertium apertium-eng-cat apertium-fra-cat)")
def test_apertium_translates_into_french_keeping_links_and_numbers(tmp_path):
    texts = ["I think the council made the right call.", "Call 0800 123 456 now to win, http://win.example/x"]
    try:
        french = translate(texts, "fr", cache_dir=tmp_path)
    except ApertiumMissing as missing:
        pytest.skip(str(missing))
    assert french[0].lower().startswith("je pense que le conseil")    # case depends on the line before
    assert french[1].startswith("appelez le 0800 123 456") and "gagner" in french[1]
    counts = []
    translate([*texts, "A third text.", "A fourth one."], "fr", cache_dir=tmp_path,
              on_progress=lambda done, total: counts.append((done, total)))
    assert counts[0] == (0, 2) and counts[-1] == (2, 2)     # only the two texts not cached
    reported = len(counts)
    assert translate(texts, "fr", cache_dir=tmp_path, on_progress=counts.append) == french
    assert len(counts) == reported                           # all cached: no Apertium, no count
    assert "0800 123 456" in french[1] and "http://win.example/x" in french[1]
    assert list(tmp_path.iterdir())                          # cached
    assert translate(texts, "fr", cache_dir=tmp_path) == french
    [bait] = translate(["Like this comment for no reason"], "fr", cache_dir=tmp_path)
    assert bait.startswith("likez ce commentaire") and asks_for_engagement(bait)
