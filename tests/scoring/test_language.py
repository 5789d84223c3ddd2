"""detect_language: ISO codes, "unknown" for short or undecidable text, deterministic."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from moderation.scoring.language import (
    MIN_LETTERS_FOR_DETECTION,
    UNKNOWN_LANGUAGE,
    detect_language,
    detect_languages,
    prepare_text,
    text_ngrams,
)

from tests.data import MISSING_DATA, SHARED_DATA
ENGLISH = "Thank you for this article, I found the analysis of the budget very interesting."
FRENCH = "Merci pour cet article, je ne suis pas du tout d'accord avec la conclusion du journaliste."


def test_detects_english_and_french():
    assert detect_language(ENGLISH) == "en"
    assert detect_language(FRENCH) == "fr"


def test_short_or_letterless_text_is_unknown():
    assert detect_language("ok lol") == UNKNOWN_LANGUAGE
    assert detect_language("a" * (MIN_LETTERS_FOR_DETECTION - 1)) == UNKNOWN_LANGUAGE
    assert detect_language("12345 67890 !!! ??? 12345 67890") == UNKNOWN_LANGUAGE
    assert detect_language("") == UNKNOWN_LANGUAGE


def test_html_and_bom_do_not_change_the_answer():
    assert detect_language(f"<b>{FRENCH}</b><br />\ufeff") == "fr"


def test_same_text_same_answer_across_calls_and_threads():
    # Short, ambiguous texts are where an unseeded langdetect flips between answers.
    texts = ["hello my friend how are you", "ciao bella come stai oggi", "ja das ist gut so", ENGLISH] * 8
    sequential = detect_languages(texts)
    assert detect_languages(texts) == sequential
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(detect_language, texts))
    assert threaded == sequential


SAMPLES = [
    "Merci pour cet article très clair sur le marché de Noël, j'y serai samedi.",
    "Thank you for this well researched piece about the new bridge, the photos are great",
    "CLICK HERE to WIN a FREE iPhone!!! http://free-prizes.example/win subscribe",
    "Gracias por el artículo, muy interesante la entrevista con el alcalde",
    "Danke für den Artikel über die neue Brücke und die Fotos",
    "Grazie mille per questo articolo molto bello sulla città",
    "Je pense que le maire a raison sur ce point, mais le budget reste flou.",
    "Obrigado pelo artigo, muito interessante a entrevista",
    "Dziękuję za ten artykuł, bardzo ciekawy wywiad z burmistrzem",
    "Спасибо за статью, очень интересное интервью с мэром",
    "check out my channel for more music videos and subscribe please",
    "ÉCRIT EN CAPITALES avec des MOTS mêlés, écrivez à moi@example.fr ou www.example.fr",
    "日本語のテキストです、ありがとうございました",
    "Tiếng Việt có dấu, cảm ơn bạn rất nhiều",
    "spaces   and,,,punctuation!!!between words  ",
]


def _stock_detector(text: str):
    """langdetect's own Detector on the same normalized text, seeded."""
    from langdetect import DetectorFactory
    from langdetect import detector_factory
    from langdetect.detector import Detector

    from moderation.scoring.features import normalize_text
    DetectorFactory.seed = 0
    detector_factory.init_factory()
    detector = Detector(detector_factory._factory)
    detector.append(normalize_text(text))
    return detector


def _shared_comments(limit: int) -> list[str]:
    data = SHARED_DATA / "youtube-spam-collection" / "Youtube01-Psy.csv"
    if not data.exists():
        return []
    import csv
    with data.open(encoding="utf-8") as handle:
        return [row["CONTENT"] for row in csv.DictReader(handle)][:limit]


def test_ngrams_are_langdetects_own():
    from moderation.scoring.features import normalize_text
    texts = SAMPLES + _shared_comments(300)
    for text in texts:
        stock = _stock_detector(text)
        stock.cleaning_text()
        expected = sorted(stock._extract_ngrams())
        assert sorted(text_ngrams(prepare_text(normalize_text(text)))) == expected, text


def test_agrees_with_langdetect_on_clear_text():
    for text in SAMPLES[:12]:
        assert detect_language(text) == _stock_detector(text).detect(), text


def test_agrees_with_langdetect_on_most_short_comments():
    """Short comments are where langdetect's random sampling is noisy; the exact
    sum agrees with it on the large majority."""
    texts = [text for text in _shared_comments(350) if detect_language(text) != UNKNOWN_LANGUAGE]
    if not texts:
        pytest.skip(MISSING_DATA)
    agree = sum(detect_language(text) == _stock_detector(text).detect() for text in texts)
    assert agree >= 0.95 * len(texts)


def test_a_batch_answers_as_single_calls():
    texts = SAMPLES + ["ok", "", "12345 67890 !!! ??? 12345 67890"] + [f"{s} {n}" for n in range(40) for s in SAMPLES[:3]]
    assert detect_languages(texts) == [detect_language(text) for text in texts]


def test_cached_words_give_the_same_answers_as_fresh_ones():
    from moderation.scoring.language import _word_log_likelihood
    texts = SAMPLES + [f"{s} {n}" for n in range(10) for s in SAMPLES[:4]]
    expected = detect_languages(texts)          # every word now cached
    _word_log_likelihood.cache_clear()
    assert [detect_language(text) for text in texts] == expected
    assert detect_languages(texts) == expected


def test_a_site_language_hint_settles_texts_too_short_to_tell():
    from moderation.scoring.language import detect_language
    assert detect_language("Merci !") == "unknown"
    assert detect_language("Merci !", hint="fr") == "fr"
    assert detect_language("Bravo", hint="en") == "en"          # no letters to tell: the site's language
    # Short but telling: chosen among the site's and the model's languages, not among 55.
    assert detect_language("Great article!", hint="fr", candidates=("en", "fr")) == "en"
    assert detect_language("Merci pour l'article", hint="en", candidates=("en", "fr")) == "fr"
    # A link's letters are not the text's: detection drops links, so this is short.
    link = "http://myblog.wordpress.com/2012/05/why-the-council-is-wrong"
    assert detect_language(f"I disagree, see {link}", hint="fr", candidates=("en", "fr")) == "en"
    assert detect_language(f"Voir {link}", hint="fr", candidates=("en", "fr")) == "fr"
    # Long text: ordinary detection, whatever the hint.
    german = "Vielen Dank für diesen ausgezeichneten Artikel über den neuen Markt in unserer Stadt."
    assert detect_language(german, hint="fr", candidates=("en", "fr")) == "de"
