"""Raw model explanations put in words a moderator reads (pure, hand-built inputs)."""
import re

import pytest

from moderation.review.explanations import (LANGUAGE_MIN_WEIGHT, MAX_WORDS, SIGNALS, Measure,
                                            readable_explanation, signal_measures)
from moderation.scoring.features import SIGNAL_NAMES

INTERNAL = re.compile(r"\b(?:word|char|signal|lang):")


def raw(*pairs):
    return [{"feature": feature, "weight": weight} for feature, weight in pairs]


def by_reason(reasons, reason, direction=None):
    found = [r for r in reasons if r["reason"] == reason and direction in (None, r["direction"])]
    assert len(found) == 1, reasons
    return found[0]


def test_word_ngrams_become_one_words_reason_per_direction():
    text = "Gagnez de l'argent facile, merci pour l'article"
    reasons = readable_explanation(raw(("word:gagnez", 0.8), ("word:argent", 0.5),
                                       ("word:merci", -0.3), ("word:article", -0.2)),
                                   text, "fr", 8)
    spam = by_reason(reasons, "words", "spam")
    assert spam == {"reason": "words", "direction": "spam", "weight": 1.3,
                    "words": ["gagnez", "argent"],
                    "text": {"fr": "mots : gagnez, argent", "en": "words: gagnez, argent"}}
    ham = by_reason(reasons, "words", "ham")
    assert ham["weight"] == -0.5 and ham["words"] == ["merci", "article"]
    assert [r["direction"] for r in reasons] == ["spam", "ham"]


def test_character_ngrams_are_credited_to_the_words_that_contain_them():
    text = "FREE money for you, call me"
    reasons = readable_explanation(raw(('char:" fr"', 0.2), ('char:"ree "', 0.1),
                                       ('char:"oney"', 0.3), ("word:money", 0.1),
                                       ('char:" ca"', -0.05)),
                                   text, "en", 8)
    spam = by_reason(reasons, "words", "spam")
    # " fr" and "ree " (word edges as spaces) both come from "free"; "oney" merges with word:money
    assert spam["words"] == ["money", "free"]
    assert spam["weight"] == pytest.approx(0.7)
    assert spam["text"]["en"] == "words: money, free"
    assert by_reason(reasons, "words", "ham")["words"] == ["call"]


def test_a_character_ngram_inside_a_link_names_the_word_not_the_link():
    text = "Visit http://free-prizes.example/win now"
    [reason] = readable_explanation(raw(('char:"rize"', 0.4)), text, "en", 8)
    assert reason["words"] == ["prizes"]
    assert reason["text"] == {"fr": "le mot « prizes »", "en": 'the word "prizes"'}


def test_a_character_ngram_found_in_no_word_still_counts():
    [reason] = readable_explanation(raw(('char:"zzz"', 0.2)), "nothing like it", "en", 8)
    assert reason["reason"] == "words" and reason["words"] == [] and reason["weight"] == 0.2
    assert reason["text"] == {"fr": "des morceaux de mots", "en": "parts of words"}


def test_adjacent_words_read_as_one_phrase_and_each_word_once():
    text = "Click here to win"
    reasons = readable_explanation(raw(("word:click", 0.3), ("word:click here", 0.3),
                                       ("word:here", 0.3), ("word:to win", 0.2), ("word:win", 0.2)),
                                   text, "en", 8)
    words = by_reason(reasons, "words", "spam")
    assert words["words"] == ["click here", "to win"]
    assert words["weight"] == 1.3


def test_a_phrase_is_shown_only_as_the_comment_has_it():
    text = "Win a FREE iPhone"      # the model's pairs skip one-letter words: "win free"
    [reason] = readable_explanation(raw(("word:win free", 0.4), ("word:free iphone", 0.2)),
                                    text, "en", 8)
    assert reason["words"] == ["win", "free iphone"] and reason["weight"] == 0.6


def test_a_long_list_of_words_is_cut_but_counted_in_full():
    text = " ".join(f"mot{i}" for i in range(10))
    [reason] = readable_explanation(raw(*[(f"word:mot{i}", 0.1) for i in range(10)]), text, "fr", 8)
    assert len(reason["words"]) == MAX_WORDS and reason["text"]["fr"].endswith(", …")
    assert reason["weight"] == 1.0


def test_signals_read_as_sentences_in_french_and_english():
    reasons = readable_explanation(raw(("signal:link_shortener", 1.2), ("signal:has_link", 0.9),
                                       ("signal:uppercase_ratio", 0.5), ("signal:phone_count", -0.2)),
                                   "VISIT bit.ly/x NOW", "en", 8)
    assert [(r["reason"], r["direction"], r["text"]["fr"], r["text"]["en"]) for r in reasons] == [
        ("link_shortener", "spam", "contient un lien raccourci", "contains a shortened link"),
        ("has_link", "spam", "contient un lien", "contains a link"),
        ("uppercase_ratio", "spam", "beaucoup de majuscules", "many capital letters"),
        ("phone_count", "ham", "aucun numéro de téléphone", "no phone number"),
    ]
    assert all("words" not in r for r in reasons)


def test_measured_values_decide_present_or_absent_and_more_or_less():
    measures = {"uppercase_ratio": Measure(0.8, 0.1), "email_count": Measure(0.0, 0.05),
                "length": Measure(0.2, 0.5)}
    reasons = readable_explanation(raw(("signal:uppercase_ratio", -0.5), ("signal:email_count", 0.3),
                                       ("signal:length", 0.1)),
                                   "SHOUTING A LOT", "en", 8, signals=measures)
    # weights against the usual sign: the measure, not the direction, says what the comment has
    assert by_reason(reasons, "uppercase_ratio")["text"] == {
        "fr": "beaucoup de majuscules (80 % des lettres)", "en": "many capital letters (80% of letters)"}
    assert by_reason(reasons, "email_count")["text"]["en"] == "no e-mail address"
    assert by_reason(reasons, "length")["text"] == {"fr": "commentaire plus court que d'habitude (14 caractères)",
                                                    "en": "shorter than usual (14 characters)"}


def test_without_any_link_the_link_signals_are_said_once():
    measures = {name: Measure(0.0, 0.2) for name in ("has_link", "link_count", "link_other")}
    reasons = readable_explanation(raw(("signal:has_link", -0.5), ("signal:link_other", -0.4),
                                       ("signal:link_count", -0.1), ("signal:uppercase_ratio", -0.05)),
                                   "Merci pour cet article", "fr", 8, signals=measures)
    assert [(r["reason"], r["weight"], r["text"]["fr"]) for r in reasons] == [
        ("has_link", -1.0, "aucun lien"), ("uppercase_ratio", -0.05, "peu de majuscules")]


def test_repeated_characters_are_quoted_from_the_comment():
    [reason] = readable_explanation(raw(("signal:repeated_char_runs", 0.3)), "Wow!!!! soooo good",
                                    "en", 8, signals={"repeated_char_runs": Measure(0.4, 0.1)})
    assert reason["text"] == {"fr": "caractères répétés : « !!!! », « oooo »",
                              "en": 'repeated characters: "!!!!", "oooo"'}


def test_a_request_for_likes_is_said_in_both_languages_and_its_absence_too():
    [asked] = readable_explanation(raw(("signal:engagement_bait", 2.1)), "Like this comment if you agree",
                                   "en", 8, signals={"engagement_bait": Measure(3.0, 0.01)})
    assert asked["text"] == {"fr": "réclame des « j'aime » ou des abonnés", "en": "asks for likes or subscribers"}
    [absent] = readable_explanation(raw(("signal:engagement_bait", -0.02)), "I like this comment",
                                    "en", 8, signals={"engagement_bait": Measure(0.0, 0.01)})
    assert absent["text"]["en"] == "asks for no likes or subscribers"


def test_an_unknown_signal_or_feature_kind_degrades_to_a_generic_label():
    reasons = readable_explanation(raw(("signal:brand_new_signal", 0.6), ("emoji:party", -0.2)),
                                   "texte", "fr", 8, signals={"brand_new_signal": Measure(1.0)})
    assert reasons[0] == {"reason": "brand_new_signal", "direction": "spam", "weight": 0.6,
                          "text": {"fr": "indice « brand new signal »", "en": 'cue "brand new signal"'}}
    assert reasons[1]["reason"] == "other" and reasons[1]["direction"] == "ham"
    assert reasons[1]["text"]["en"] == "other cue: emoji:party"


def test_the_language_is_named_and_dropped_when_weak():
    reasons = readable_explanation(raw(("lang:fr", 0.4)), "Bonjour à tous", "fr", 8)
    assert reasons == [{"reason": "language", "direction": "spam", "weight": 0.4,
                        "text": {"fr": "langue : français", "en": "language: French"}}]
    # The columns add up: "not English" and "French" pulling apart for a French comment is one reason.
    [net] = readable_explanation(raw(("lang:en", 0.87), ("lang:fr", -0.81)), "Bonjour à tous", "fr", 8)
    assert net["text"] == {"fr": "langue : français", "en": "language: French"}
    assert (net["direction"], net["weight"]) == ("spam", 0.06)
    assert readable_explanation(raw(("lang:en", 0.3), ("lang:fr", -0.3)), "Bonjour", "fr", 8) == []
    [rare] = readable_explanation(raw(("lang:other", 0.3)), "Salamu", "sw", 8)
    assert rare["text"]["en"] == "uncommon language: Swahili"
    assert readable_explanation(raw(("lang:fr", LANGUAGE_MIN_WEIGHT / 2)), "Bonjour", "fr", 8) == []


def test_at_most_top_reasons_strongest_first_and_no_internal_token():
    items = raw(*[(f"signal:{name}", 0.01 * (i + 1)) for i, name in enumerate(SIGNALS)],
                ("word:win", 0.05), ('char:"oney"', 0.05), ("lang:en", -2.0))
    reasons = readable_explanation(items, "win money", "en", 4)
    assert len(reasons) == 4
    weights = [abs(r["weight"]) for r in reasons]
    assert weights == sorted(weights, reverse=True)
    assert reasons[0]["reason"] == "language"
    for reason in readable_explanation(items, "win money", "en", 40):
        assert set(reason["text"]) == {"fr", "en"}
        for sentence in reason["text"].values():
            assert sentence and not INTERNAL.search(sentence), sentence


def test_malformed_or_empty_input_never_fails():
    assert readable_explanation([], "", "fr", 5) == []
    assert readable_explanation(raw(("word:x", 0.5)), "x", "fr", 0) == []
    junk = [{"feature": 3, "weight": 1}, {"feature": "word:a"}, {"weight": 2}, "nope",
            {"feature": "signal:has_link", "weight": float("nan")}, {"feature": "word:ok", "weight": True},
            {"feature": "char:unquoted", "weight": 0.3}, {"feature": "signal:", "weight": 0.2}]
    reasons = readable_explanation(junk, None, "", 5)
    assert [r["reason"] for r in reasons] == ["words", "other"]


def test_comment_text_is_kept_as_text():
    text = '<a href="https://x.example">Scripts</a> &amp; <b>bold</b>'
    [reason] = readable_explanation(raw(('char:"scri"', 0.3), ('char:"ref"', 0.2)), text, "en", 5)
    # normalized as the model saw it (tags stripped keeping their text, entities decoded,
    # lower case): the markup is not a word of the comment, its text is
    assert reason["words"] == ["scripts"] and reason["weight"] == 0.5


def test_every_signal_of_the_model_has_a_sentence_in_both_languages():
    for name in SIGNAL_NAMES:
        assert name in SIGNALS, name
    for name, signal in SIGNALS.items():
        for fr, en in (signal.yes, signal.no):
            assert fr and en and fr != en, name


def test_signal_measures_read_the_fitted_pipeline_or_give_nothing():
    assert signal_measures(object(), None) == {}
