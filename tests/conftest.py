"""Fixtures shared by the suite: the real app from its factory, on a SQLite file
in a temporary directory, with a toy model trained in a fixture."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from moderation.app import create_app
from moderation.config import load_settings
from moderation.credentials import MODERATOR_TOKEN_PREFIX, SITE_KEY_PREFIX, hash_secret, new_secret
from moderation.keys import STORE

from .toy_model import build_toy_models

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def toy_models_dir(tmp_path_factory) -> Path:
    """A models/ directory holding a toy model (English ham vs link spam) and CURRENT."""
    return build_toy_models(tmp_path_factory.mktemp("toy-models"))


@pytest.fixture
def settings_for(tmp_path, toy_models_dir):
    def make(**overrides):
        # No audit draws unless a test asks for them: decisions stay deterministic.
        # No surge mode either (tests post dozens of comments to one thread in a second).
        values = {"database_url": f"sqlite:///{tmp_path / 'moderation.db'}",
                  "model_dir": str(toy_models_dir), "scoring_batch_wait_ms": 0.0,
                  "audit_share": 0.0, "surge_factor": 0.0}
        values.update(overrides)
        return load_settings({}, **values)
    return make


@pytest.fixture
async def app_client(aiohttp_client, settings_for):
    """``app_client(**settings)``: a test client on a fresh app."""
    async def make(**overrides):
        return await aiohttp_client(create_app(settings_for(**overrides)))
    return make


@pytest.fixture
async def client(app_client):
    return await app_client()


async def add_site(client, *, name="journal", mode="auto", lang="fr", url="https://journal.example"):
    """Create a site in the app's own database; returns its API key."""
    key = new_secret(SITE_KEY_PREFIX)
    await client.app[STORE].create_site(name=name, url=url, lang=lang, mode=mode,
                                        key_hash=hash_secret(key), now=time.time())
    return key


async def add_moderator(client, *, name="claire", role="moderator", site_ids=()):
    token = new_secret(MODERATOR_TOKEN_PREFIX)
    await client.app[STORE].create_moderator(name=name, role=role, site_ids=list(site_ids),
                                             token_hash=hash_secret(token), now=time.time())
    return token


def comment_payload(**overrides):
    payload = {
        "thread": {"id": "article-42", "url": "https://journal.example/a/42", "title": "Le marché"},
        "author": {"name": "Jean Dupont", "email": "jean.dupont@example.fr"},
        "body": "Thank you for this clear and well researched article about the market.",
        "client": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"},
    }
    payload.update(overrides)
    return payload


def auth(key):
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def server_env(tmp_path, toy_models_dir):
    env = dict(os.environ)
    env.update({
        "MODERATION_DATABASE_URL": f"sqlite:///{tmp_path / 'durable.db'}",
        "MODERATION_MODEL_DIR": str(toy_models_dir),
        "MODERATION_RATE_LIMIT_PER_IP": "0",
        "MODERATION_RATE_LIMIT_PER_EMAIL": "0",
        "MODERATION_DUPLICATE_WINDOW_SECONDS": "0",
        "MODERATION_AUDIT_SHARE": "0",
        "MODERATION_SURGE_FACTOR": "0",
        "MODERATION_LOG_LEVEL": "WARNING",
        "MODERATION_WORKERS": "1",
    })
    return env
