"""The application factory: ``create_app(settings)`` builds the aiohttp app
synchronously, with no I/O. The database, the model and the scoring executor
are opened when the app starts and closed when it stops (``cleanup_ctx``), as
are the background tasks: the model reload poller (:mod:`moderation.api.admin`:
a reload through the API reaches every worker sharing the database) and the
webhook deliverer."""
from __future__ import annotations

import asyncio
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from . import keys
from .api.admin import ModelSync, model_sync_context, reload_current_model
from .ttlcache import TTLCache
from .api.routes import add_routes
from .metrics import count_moderator_decisions, metrics_middleware
from .middlewares import error_middleware, page_headers_middleware, request_id_middleware
from .scoring.language import detect_language
from .scoring.model import ModelError, holder_for
from .scoring.scorer import Scorer
from .sitecache import SiteCache
from .store.base import open_store
from .webhooks.deliverer import webhook_context
from .web.render import build_templates
from .web.session import SigninLimiter

log = logging.getLogger(__name__)


async def _store_context(app: web.Application):
    store = open_store(app[keys.SETTINGS].database_url)
    await store.open()
    app[keys.STORE] = store
    try:
        yield
    finally:   # also when start-up is interrupted: an open store would keep the process alive
        await store.close()


async def _scoring_context(app: web.Application):
    settings = app[keys.SETTINGS]
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring")
    holder = holder_for(settings)
    loop = asyncio.get_running_loop()
    sync = ModelSync(app[keys.STORE], holder, executor)
    await sync.load_at_start()   # reads the model generation, then loads the model
    # Language profiles load on first use (~0.4 s): pay that before traffic.
    await loop.run_in_executor(executor, detect_language, "warming up the language profiles")
    app[keys.EXECUTOR] = executor
    app[keys.MODELS] = holder
    app[keys.MODEL_SYNC] = sync
    app[keys.SCORER] = Scorer(lambda: holder.bundle, executor, batch_max=settings.scoring_batch_max,
                              batch_wait=settings.scoring_batch_wait_ms / 1000)
    yield
    executor.shutdown(wait=True)


EARLY_SIGHUP = threading.Event()
"""Set by a SIGHUP that came before the app could handle it (see serve.run_worker)."""


async def _install_sighup(app: web.Application) -> None:
    loop = asyncio.get_running_loop()

    async def reload_logged() -> None:
        try:
            bundle = await reload_current_model(app)
            log.info("SIGHUP: model %s loaded", bundle.version)
        except ModelError as exc:
            log.error("SIGHUP: model reload failed, keeping the previous one: %s", exc)

    loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(reload_logged()))
    if EARLY_SIGHUP.is_set():   # the model loaded at start may predate that SIGHUP
        EARLY_SIGHUP.clear()
        asyncio.ensure_future(reload_logged())


def create_app(settings, *, reload_on_sighup: bool = False) -> web.Application:
    app = web.Application(
        middlewares=[request_id_middleware, metrics_middleware, page_headers_middleware,
                     error_middleware],
        client_max_size=settings.max_request_bytes,
    )
    app[keys.SETTINGS] = settings
    app[keys.TEMPLATES] = build_templates()
    app[keys.SIGNIN_LIMITER] = SigninLimiter(settings.signin_failures_per_minute)
    app[keys.SITES] = SiteCache(settings.site_cache_seconds)
    app[keys.PUBLIC_ANSWERS] = TTLCache(settings.public_cache_seconds)
    app.cleanup_ctx.append(_store_context)
    app.cleanup_ctx.append(_scoring_context)
    app.cleanup_ctx.append(model_sync_context)   # applies reloads asked through any worker
    app.cleanup_ctx.append(webhook_context)   # delivers the outbox; never on a request's path
    app.cleanup_ctx.append(count_moderator_decisions)
    if reload_on_sighup:
        app.on_startup.append(_install_sighup)
    add_routes(app)
    return app
