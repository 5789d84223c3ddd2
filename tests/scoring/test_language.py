"""detect_language: ISO codes, "unknown" for short or undecidable text, deterministic."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from moderation.scoring.language import (
    MIN_LETTERS_FOR_DETECTION,
    UNKNOWN_LANGUAGE,
    detect_language,
    detect_languages,
)

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
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


def _stock_detect(text: str) -> str:
    """What langdetect itself answers, with the same normalization and seed."""
    from langdetect.detector import Detector
    from moderation.scoring.features import normalize_text
    from moderation.scoring.language import _factory
    detector = Detector(_factory())
    detector.append(normalize_text(text))
    return detector.detect()


def test_block_detector_answers_as_langdetect_does():
    samples = [
        "Merci pour cet article très clair sur le marché de Noël, j'y serai samedi.",
        "Thank you for this well researched piece about the new bridge, the photos are great",
        "CLICK HERE to WIN a FREE iPhone!!! http://free-prizes.example/win subscribe",
        "Gracias por el artículo, muy interesante la entrevista con el alcalde",
        "Danke für den Artikel über die neue Brücke und die Fotos",
        "Grazie mille per questo articolo molto bello sulla città",
        "lol this song is so good 2015 anyone still listening?",
        "Je pense que le maire a raison sur ce point, mais le budget reste flou.",
        "Obrigado pelo artigo, muito interessante a entrevista",
        "Dziękuję za ten artykuł, bardzo ciekawy wywiad z burmistrzem",
        "Спасибо за статью, очень интересное интервью с мэром",
        "check out my channel for more music videos and subscribe please",
    ]
    texts = [f"{sample} {n}" for n in range(15) for sample in samples]
    data = SHARED_DATA / "youtube-spam-collection" / "Youtube01-Psy.csv"
    if data.exists():
        import csv
        with data.open(encoding="utf-8") as handle:
            texts += [row["CONTENT"] for row in csv.DictReader(handle)][:200]
    checked = 0
    for text in texts:
        if detect_language(text) == "unknown":
            continue
        assert detect_language(text) == _stock_detect(text), text
        checked += 1
    assert checked >= 150
