"""detect_language: ISO codes, "unknown" for short or undecidable text, deterministic."""

from concurrent.futures import ThreadPoolExecutor

from moderation.scoring.language import (
    MIN_LETTERS_FOR_DETECTION,
    UNKNOWN_LANGUAGE,
    detect_language,
    detect_languages,
)

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
