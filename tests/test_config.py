"""Settings are declared once; the docs say all of them."""
from pathlib import Path

import pytest

from moderation.config import SETTINGS, SettingsError, load_settings, settings_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_docs_settings_file_is_the_generated_reference():
    committed = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert committed == settings_markdown(), "run: moderation settings --markdown > docs/settings.md"


def test_every_setting_is_documented_with_help():
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert setting.env_var.startswith("MODERATION_")
        assert setting.help.strip()
        assert f"`{setting.env_var}`" in text


def test_environment_is_read_with_types():
    settings = load_settings({"MODERATION_RATE_LIMIT_PER_IP": "0", "MODERATION_HONEYPOT_CHECK": "off",
                              "MODERATION_DATABASE_URL": "sqlite:///x.db"})
    assert settings.rate_limit_per_ip == 0
    assert settings.honeypot_check is False
    assert settings.database_url == "sqlite:///x.db"
    assert load_settings({}).database_url == "sqlite:///moderation.db"


def test_bad_values_are_refused_by_name():
    with pytest.raises(SettingsError, match="MODERATION_PORT"):
        load_settings({"MODERATION_PORT": "eighty"})
    with pytest.raises(TypeError):
        load_settings({}, no_such_setting=1)
