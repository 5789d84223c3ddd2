"""Every ``web.AppKey`` of the application, in one place."""
from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

from aiohttp import web

from .domain import Moderator, Site
from .store.base import Store

SETTINGS = web.AppKey("settings", Any)
STORE = web.AppKey("store", Store)
MODELS = web.AppKey("models", Any)          # scoring.model.ModelHolder
SCORER = web.AppKey("scorer", Any)          # scoring.scorer.Scorer
EXECUTOR = web.AppKey("executor", Executor)  # CPU work: scoring, model loading

# per-request values
REQUEST_ID = web.RequestKey("request_id", str)
SITE = web.RequestKey("site", Site)               # the site whose key authenticated the request
MODERATOR = web.RequestKey("moderator", Moderator)  # the moderator whose token did
