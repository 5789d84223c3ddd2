"""Every ``web.AppKey`` of the application, in one place."""
from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

from aiohttp import web

from .store.base import Store

SETTINGS = web.AppKey("settings", Any)
STORE = web.AppKey("store", Store)
MODELS = web.AppKey("models", Any)          # scoring.model.ModelHolder
SCORER = web.AppKey("scorer", Any)          # scoring.scorer.Scorer
EXECUTOR = web.AppKey("executor", Executor)  # CPU work: scoring, model loading
