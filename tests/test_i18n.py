from moderation.i18n import MESSAGES, message, negotiate


def test_every_message_exists_in_both_languages():
    for code, texts in MESSAGES.items():
        assert set(texts) == {"fr", "en"}, code
        assert all(t.strip() for t in texts.values()), code


def test_negotiation_follows_quality_then_site_then_french():
    assert negotiate("en-GB,en;q=0.9,fr;q=0.8") == "en"
    assert negotiate("de-DE, fr;q=0.5, en;q=0.7") == "en"
    assert negotiate("de-DE") == "fr"
    assert negotiate(None, "en") == "en"
    assert negotiate("", "de") == "fr"
    assert negotiate("en;q=0, fr") == "fr"


def test_placeholders_filled():
    assert "120" in message("rate_limited", "fr", retry_after=120)
    assert message("thanks_pending", "fr") == (
        "Merci pour votre commentaire. Il sera visible prochainement sous réserve de validation.")
