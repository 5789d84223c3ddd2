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
TEMPLATES = web.AppKey("templates", Any)    # jinja2.Environment of the /moderate pages
SITES = web.AppKey("sites", Any)            # sitecache.SiteCache: sites by key hash
PUBLIC_ANSWERS = web.AppKey("public_answers", Any)  # ttlcache.TTLCache of public answer bodies
MODEL_SYNC = web.AppKey("model_sync", Any)  # services.model_sync.ModelSync: reloads every worker and host
AUTHOR_RULES = web.AppKey("author_rules", Any)  # services.authors.AuthorRules: bans, watches, trust
THREAD_RULES = web.AppKey("thread_rules", Any)  # services.threads.ThreadRules: closed, pre-moderated threads
SURGES = web.AppKey("surges", Any)          # services.surges.SurgeBaselines: sites' surge baselines
DRIFT = web.AppKey("drift", Any)            # services.drift_monitor.DriftMonitor: sites' drift measures
REVIEW = web.AppKey("review", Any)          # services.review.ReviewDesk: the moderators' use cases

# per-request values
REQUEST_ID = web.RequestKey("request_id", str)
SITE = web.RequestKey("site", Site)               # the site whose key authenticated the request
SITE_KEY_HASH = web.RequestKey("site_key_hash", str)  # the hash of that key (it checks signed form times)
MODERATOR = web.RequestKey("moderator", Moderator)  # the moderator whose token did
WEB_SESSION = web.RequestKey("web_session", Any)   # web.session.WebSession or None, once looked up
HTML_ERRORS = web.RequestKey("html_errors", bool)  # errors answered as a page (/moderate)
