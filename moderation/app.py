"""The application factory: ``create_app(settings)`` builds the aiohttp app
synchronously, with no I/O. The database, the model and the scoring executor
are opened when the app starts and closed when it stops (``cleanup_ctx``), as
are the background tasks: the model reload poller (:mod:`moderation.services.model_sync`:
a reload through the API reaches every worker sharing the database), the
webhook deliverer and the drift monitor (:mod:`moderation.services.drift_monitor`)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from . import keys
from .ttlcache import TTLCache
from .api.routes import add_routes
from .edge import edge_middleware, install as install_edge
from . import telemetry
from .metrics import count_moderator_decisions, metrics_middleware
from .middlewares import (error_middleware, page_headers_middleware, request_id_middleware,
                          shedding_middleware)
from .shedding import IN_FLIGHT, SCORING_QUEUE, InFlightLimit
from .scoring.language import detect_language
from .scoring.model import ModelError, holder_for
from .scoring.scorer import Scorer
from .services.model_sync import ModelSync
from .services.authors import AuthorRules
from .services.threads import ThreadRules
from .services.drift_monitor import STOP_GRACE_SECONDS, DriftMonitor
from .services.review import ReviewDesk
from .services.surges import SurgeBaselines, sweep_ended_surges
from .sitecache import SiteCache
from .surge import SurgePolicy
from .store.base import open_store
from .webhooks.deliverer import webhook_context
from .web.render import build_templates

log = logging.getLogger(__name__)


async def _store_context(app: web.Application):
    store = open_store(app[keys.SETTINGS].database_url)
    await store.open()
    app[keys.STORE] = store
    try:
        yield
    finally:   # also when start-up is interrupted: an open store would keep the process alive
        await store.close()


async def surge_context(app: web.Application):
    """Surge mode's baselines cache, and the task recording surges' ends, for the app's life."""
    policy = SurgePolicy.from_settings(app[keys.SETTINGS])
    app[keys.SURGES] = SurgeBaselines(policy)
    task = asyncio.create_task(sweep_ended_surges(app[keys.STORE])) if policy.enabled else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def model_sync_context(app: web.Application):
    """``cleanup_ctx`` (after the scoring context, which loads the model through
    the :class:`ModelSync` it stores in ``app[MODEL_SYNC]``): poll while the app
    runs. The first poll runs before the worker takes requests, so it never
    serves a model older than a reload confirmed before it registered."""
    sync = app[keys.MODEL_SYNC]
    await sync.first_step()
    sync.start()
    try:
        yield
    finally:
        await sync.stop()


async def drift_context(app: web.Application):
    """``cleanup_ctx`` (after the scoring context): measure once before the
    worker takes requests, then every ``MODERATION_DRIFT_POLL_SECONDS`` (0: never
    in this process)."""
    settings = app[keys.SETTINGS]
    if settings.drift_poll_seconds <= 0:
        yield
        return
    monitor = DriftMonitor(app[keys.STORE], app[keys.MODELS], settings)
    app[keys.DRIFT] = monitor
    await monitor.guarded_step()
    task = asyncio.create_task(monitor.run(), name="drift-monitor")
    try:
        yield
    finally:
        monitor.stop()
        try:
            await asyncio.wait_for(task, STOP_GRACE_SECONDS)
        except TimeoutError:
            pass
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():
                raise   # the app's clean-up is being cancelled, not only the monitor


async def _scoring_context(app: web.Application):
    settings = app[keys.SETTINGS]
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring")
    holder = holder_for(settings, on_loaded=telemetry.model_loaded,
                        on_load_failed=telemetry.model_load_failed)
    loop = asyncio.get_running_loop()
    sync = ModelSync(app[keys.STORE], holder, executor)
    await sync.load_at_start()   # reads the model generation, then loads the model
    # Language profiles load on first use: pay that before traffic.
    await loop.run_in_executor(executor, detect_language, "warming up the language profiles")
    app[keys.EXECUTOR] = executor
    app[keys.MODELS] = holder
    app[keys.MODEL_SYNC] = sync
    app[keys.REVIEW] = ReviewDesk(app[keys.STORE], holder, executor)
    app[keys.SCORER] = Scorer(lambda: holder.bundle, executor, current_shadow=lambda: holder.shadow,
                              batch_max=settings.scoring_batch_max,
                              batch_wait=settings.scoring_batch_wait_ms / 1000,
                              queue_max=settings.scoring_queue_max,
                              on_waiting=telemetry.scoring_waiting, on_batch=telemetry.observe_batch)
    yield
    executor.shutdown(wait=True)


EARLY_SIGHUP = threading.Event()
"""Set by a SIGHUP that came before the app could handle it (see serve.run_worker)."""


async def _install_sighup(app: web.Application) -> None:
    loop = asyncio.get_running_loop()

    async def reload_logged() -> None:
        try:
            bundle = await app[keys.MODEL_SYNC].reload_here()
            log.info("SIGHUP: model %s loaded", bundle.version)
        except ModelError as exc:
            log.error("SIGHUP: model reload failed, keeping the previous one: %s", exc)

    loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(reload_logged()))
    if EARLY_SIGHUP.is_set():   # the model loaded at start may predate that SIGHUP
        EARLY_SIGHUP.clear()
        asyncio.ensure_future(reload_logged())


class BodyTimeout(web.HTTPRequestTimeout, TimeoutError):
    """Set on a request body that did not arrive in time: the handler reading it
    answers 408, and aiohttp's draining of the body after an early answer stops
    quietly (it gives up on a TimeoutError) and closes the connection."""


class ShuttingDown(web.HTTPServiceUnavailable, TimeoutError):
    """Set on a request body still arriving when the process stops: 503 at once."""


class _BodyDeadlines:
    """Bound how long a request's body may take to arrive, without a middleware.

    The app's request factory is wrapped: a request whose body is not in yet
    when its handler starts gets a timer; if the body is still incomplete
    *timeout* seconds later, reading it raises :class:`BodyTimeout` (the client
    gets 408) and the connection is closed after the answer. At shutdown every
    body still arriving fails the same way with 503, so a slow client cannot
    hold the process past its grace period. (How long the headers may take is
    aiohttp's ``keepalive_timeout``: see serve.run_worker.)
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.pending: dict[object, tuple] = {}   # payload -> (protocol, timer)

    def install(self, app: web.Application) -> None:
        make_request = app._make_request

        def guarded(message, payload, protocol, writer, task, *args, **kwargs):
            request = make_request(message, payload, protocol, writer, task, *args, **kwargs)
            if self.timeout > 0 and not payload.is_eof():
                timer = asyncio.get_running_loop().call_later(self.timeout, self.expire, payload, False)
                self.pending[payload] = (protocol, timer)
                payload.on_eof(lambda: self._done(payload))
            return request

        object.__setattr__(app, "_make_request", guarded)   # the hook aiohttp's Server calls
        app.on_shutdown.append(self._on_shutdown)

    def _done(self, payload) -> None:
        entry = self.pending.pop(payload, None)
        if entry is not None:
            entry[1].cancel()

    def expire(self, payload, shutting_down: bool) -> None:
        entry = self.pending.pop(payload, None)
        if entry is None or payload.is_eof():
            return
        protocol, timer = entry
        timer.cancel()
        if protocol.transport is None:
            return
        log.warning("request body incomplete %s: answering %d and closing the connection",
                    "at shutdown" if shutting_down else f"after {self.timeout:g} s",
                    503 if shutting_down else 408)
        protocol.keep_alive(False)
        payload.set_exception(ShuttingDown() if shutting_down else BodyTimeout())

    async def _on_shutdown(self, _app: web.Application) -> None:
        for payload in list(self.pending):
            self.expire(payload, True)


class _ConnectionLimit:
    """At most *limit* open connections from one client address: beyond, the
    new connection is answered 503 and closed before anything is read. Counted
    in each worker process, through the hooks of aiohttp's connection manager."""

    MESSAGE = "too many connections from one client address: refusing one"   # logs.ThrottleFilter

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: dict[str, int] = {}
        self.peers: dict[object, str] = {}

    def install(self, app: web.Application) -> None:
        make_handler = app._make_handler

        def limited(*args, **kwargs):
            server = make_handler(*args, **kwargs)
            made, lost = server.connection_made, server.connection_lost

            def connection_made(handler, transport) -> None:
                made(handler, transport)
                peer = transport.get_extra_info("peername")
                if not peer:
                    return
                address = peer[0]
                self.peers[handler] = address
                self.open[address] = count = self.open.get(address, 0) + 1
                if count > self.limit:
                    log.warning(self.MESSAGE)   # the address stays out of the log
                    transport.write(b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                                    b"Content-Length: 0\r\n\r\n")
                    transport.close()

            def connection_lost(handler, exc=None) -> None:
                address = self.peers.pop(handler, None)
                if address is not None:
                    left = self.open.get(address, 1) - 1
                    if left > 0:
                        self.open[address] = left
                    else:
                        self.open.pop(address, None)
                lost(handler, exc)

            server.connection_made, server.connection_lost = connection_made, connection_lost
            return server

        if self.limit > 0:
            object.__setattr__(app, "_make_handler", limited)   # what AppRunner calls


def create_app(settings, *, reload_on_sighup: bool = False) -> web.Application:
    in_flight = InFlightLimit(settings.max_requests_in_flight)
    app = web.Application(
        middlewares=[request_id_middleware, metrics_middleware, page_headers_middleware,
                     error_middleware, shedding_middleware(in_flight), edge_middleware],
        client_max_size=settings.max_request_bytes,
        # Bodies reach the app as sent: the edge refuses compressed ones (moderation.edge).
        handler_args={"auto_decompress": False},
    )
    app[keys.SETTINGS] = settings
    telemetry.load_limits({IN_FLIGHT: settings.max_requests_in_flight, SCORING_QUEUE: settings.scoring_queue_max})
    app[keys.TEMPLATES] = build_templates()
    app[keys.SITES] = SiteCache(settings.site_cache_seconds)
    app[keys.THREAD_RULES] = ThreadRules(settings.site_cache_seconds)
    app[keys.AUTHOR_RULES] = AuthorRules(settings.site_cache_seconds)
    app[keys.PUBLIC_ANSWERS] = TTLCache(settings.public_cache_seconds)
    app.cleanup_ctx.append(_store_context)
    app.cleanup_ctx.append(surge_context)   # sites' baselines; records the end of surges
    app.cleanup_ctx.append(_scoring_context)
    app.cleanup_ctx.append(model_sync_context)   # applies reloads asked through any worker
    app.cleanup_ctx.append(webhook_context)   # delivers the outbox; never on a request's path
    app.cleanup_ctx.append(drift_context)   # measures each site's drift from the database
    app.cleanup_ctx.append(count_moderator_decisions)
    if reload_on_sighup:
        app.on_startup.append(_install_sighup)
    _BodyDeadlines(settings.body_timeout_seconds).install(app)
    install_edge(app)
    _ConnectionLimit(settings.max_connections_per_client).install(app)
    add_routes(app)
    return app
