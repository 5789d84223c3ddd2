"""``moderation serve``: one process, or N worker processes sharing the port.

With N > 1 workers the parent migrates the database once, then starts N
processes that each bind the same address with SO_REUSEPORT (the kernel spreads
connections across them) and run the full app. The parent forwards SIGTERM,
SIGINT and SIGHUP to the workers, restarts a worker that dies unexpectedly,
and exits when the workers have stopped. A stop is bounded: each process exits
at most ``MODERATION_SHUTDOWN_TIMEOUT_SECONDS`` + :data:`STOP_CLEANUP_SECONDS`
after the signal (:func:`stop_deadline`), and the parent kills a worker still
running a few seconds past that. Everything shared between workers
(rate limits, idempotency keys, decisions, and the model generation that
``POST /v1/admin/model/reload`` starts: see :mod:`moderation.services.model_sync`)
lives in the database; a SIGHUP reloads each worker without it.

Metrics: before starting the workers the parent points ``PROMETHEUS_MULTIPROC_DIR``
at a fresh directory of its own, where every worker's prometheus-client keeps
its values; a scrape reaching any worker reads them all (see
:mod:`moderation.metrics`). The parent marks each worker that exits dead (its
live gauges go; its counters stay counted) and removes the directory at the end.

Logs: each process configures logging once, at its start
(:func:`moderation.logs.configure_logging`, ``MODERATION_LOG_FORMAT``).
"""
from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import gc
import inspect
import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time

from aiohttp import web
from aiohttp.web_runner import GracefulExit

from .logs import AccessLogger, configure_logging

log = logging.getLogger(__name__)

RESTART_BACKOFF_SECONDS = 1.0
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
STRAY_THREAD_GRACE_SECONDS = 2.0
STOP_CLEANUP_SECONDS = 10.0
"""After the requests' grace period (``MODERATION_SHUTDOWN_TIMEOUT_SECONDS``), how
long a stopping process's own clean-up (background tasks, closing the database)
may take before the process exits regardless."""
SUPERVISOR_MARGIN_SECONDS = 5.0
"""How much longer than a worker's own stop deadline the supervisor waits
before it kills the worker (SIGKILL)."""


def default_workers() -> int:
    """One worker per CPU this process may run on: scoring and language
    detection are CPU-bound and hold the GIL."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def run_worker(settings, host: str, port: int, reuse_port: bool) -> None:
    """Run the app in this process until SIGTERM/SIGINT."""
    # A SIGHUP (model reload) that comes while the app is still starting must not
    # kill the process: note it, and the app reloads once its own handler is in.
    from .app import EARLY_SIGHUP, create_app
    signal.signal(signal.SIGHUP, lambda _signum, _frame: EARLY_SIGHUP.set())
    if reuse_port:   # a worker of `serve --workers N`: never outlive the parent
        exit_with_parent()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings, reload_on_sighup=True)
    app.on_startup.insert(0, stop_deadline(settings.shutdown_timeout_seconds + STOP_CLEANUP_SECONDS))
    # keepalive_timeout bounds the wait for a request's headers too: aiohttp closes a
    # connection still waiting for its next (first) request when it runs out.
    try:
        web.run_app(app, host=host, port=port, print=None,
                    reuse_port=reuse_port or None, access_log_class=AccessLogger,
                    keepalive_timeout=settings.header_timeout_seconds,
                    shutdown_timeout=settings.shutdown_timeout_seconds)
    except GracefulExit:   # escapes run_app when the stop signal cuts its start-up short
        exit_despite_stray_threads()
        raise
    exit_despite_stray_threads()


def stop_deadline(seconds: float):
    """An ``on_startup`` hook, the first (before the database is opened and the
    model loaded), that takes over aiohttp's SIGTERM and SIGINT handlers so that
    a stop is bounded from start-up on: the first signal stops the app as
    aiohttp's would (:class:`GracefulExit`) and starts a timer; the process
    exits at most *seconds* later, status 1 and the stack of every task and
    thread in its log if it was still stopping then (a database statement
    waiting on a lock, say). Nothing acknowledged is lost by cutting it short:
    a comment is committed before it is answered.

    A second signal during the stop (``kill`` of a whole process group also
    reaches the workers the supervisor forwards it to) is noted and otherwise
    ignored: raised again, it would cut aiohttp's clean-up short."""
    async def take_over_stop_signals(_app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        stopping = threading.Event()

        def watch() -> None:  # a daemon thread: it never holds the process
            time.sleep(seconds)
            log.error("still stopping %.0f s after the stop signal: exiting now; waiting were: %s; "
                      "the threads' stacks follow", seconds, "; ".join(_awaiting(loop)) or "no task")
            faulthandler.dump_traceback(all_threads=True)
            logging.shutdown()
            os._exit(1)

        def stop(signum: int) -> None:
            if stopping.is_set():
                log.info("already stopping: signal %d ignored", signum)
                return
            stopping.set()
            threading.Thread(target=watch, name="stop-deadline", daemon=True).start()
            raise GracefulExit()

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop, signum)
    return take_over_stop_signals


def _awaiting(loop: asyncio.AbstractEventLoop) -> list[str]:
    """Each unfinished task of *loop* and the chain of coroutines it waits in,
    innermost last (read from another thread, as the process gives up)."""
    chains = []
    for task in asyncio.all_tasks(loop):
        links, awaited = [], task.get_coro()
        while awaited is not None and len(links) < 30:
            frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "ag_frame", None)
            if frame is None:   # an async generator's step (``anext``): its generator's
                inner = [o for o in gc.get_referents(awaited) if inspect.isasyncgen(o)]
                if not inner:
                    break
                awaited = inner[0]
                continue
            links.append(f"{frame.f_code.co_name} ({os.path.basename(frame.f_code.co_filename)}:"
                         f"{frame.f_lineno})")
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "ag_await", None)
        chains.append(f"{task.get_name()}: {' > '.join(links)}")
    return chains


def exit_despite_stray_threads(grace: float = STRAY_THREAD_GRACE_SECONDS) -> None:
    """Once the app has stopped, give its remaining non-daemon threads *grace*
    seconds to end (a closed database connection's thread and the executors'
    end by themselves just after), then end the process (status 0) if some are
    still running. When a stop signal cuts aiohttp's start-up short (a worker
    whose supervisor is killed while it starts gets SIGTERM then), the app's
    cleanup is skipped and a database connection's thread outlives it; Python
    would wait for that thread forever, and the process would neither serve nor
    exit. Nothing is lost by not waiting: a comment is committed before it is
    acknowledged."""
    deadline = time.monotonic() + grace
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    stray = [thread.name for thread in threading.enumerate()
             if thread is not threading.main_thread() and not thread.daemon and thread.is_alive()]
    if stray:
        log.warning("stopped with %d thread(s) still running after %.0f s (%s): exiting without them",
                    len(stray), grace, ", ".join(stray))
        logging.shutdown()
        os._exit(0)


PR_SET_PDEATHSIG = 1


def exit_with_parent() -> None:
    """Have the kernel send this process SIGTERM when its parent dies (Linux
    ``prctl(PR_SET_PDEATHSIG)``); elsewhere, a thread watches ``os.getppid()``."""
    parent_process = multiprocessing.parent_process()
    parent = parent_process.pid if parent_process is not None else os.getppid()
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):
        def watch() -> None:  # a daemon thread: it never holds the process
            while os.getppid() == parent:
                time.sleep(1.0)
            os.kill(os.getpid(), signal.SIGTERM)
        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
        return
    if os.getppid() != parent:   # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


async def _migrate(settings) -> None:
    from .store.base import open_store
    async with open_store(settings.database_url):
        pass


def serve(settings, host: str, port: int, workers: int) -> int:
    if workers <= 1:
        run_worker(settings, host, port, reuse_port=False)
        return 0
    asyncio.run(_migrate(settings))
    metrics_dir = tempfile.mkdtemp(prefix="moderation-metrics-")
    previous_dir = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = metrics_dir   # inherited by the workers, read at their start
    try:
        return _supervise(settings, host, port, workers, metrics_dir)
    finally:
        if previous_dir is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous_dir
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _supervise(settings, host: str, port: int, workers: int, metrics_dir: str) -> int:
    from prometheus_client.multiprocess import mark_process_dead
    context = multiprocessing.get_context("spawn")
    stopping: int = 0          # the stop signal received, once one is
    processes: list[multiprocessing.Process] = []

    def start() -> multiprocessing.Process:
        process = context.Process(target=run_worker, args=(settings, host, port, True), daemon=False)
        process.start()
        return process

    stopped: set[int] = set()   # workers already sent the stop signal
    killed: set[int] = set()    # workers killed for outliving their stop deadline

    stop_started = 0.0
    kill_after = settings.shutdown_timeout_seconds + STOP_CLEANUP_SECONDS + SUPERVISOR_MARGIN_SECONDS

    def forward(signum, _frame) -> None:
        nonlocal stopping, stop_started
        if signum != signal.SIGHUP:
            stopping = signum
            stop_started = stop_started or time.monotonic()
        for process in list(processes):
            if process.pid is not None and process.exitcode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signum)
                if signum == stopping:
                    stopped.add(process.pid)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    dead: set[int] = set()
    processes.extend(start() for _ in range(workers))
    log.info("serving with %d workers: %s", workers, ", ".join(str(p.pid) for p in processes))
    while True:
        for index, process in enumerate(processes):
            process.join(timeout=0.2)
            if process.exitcode is not None and process.pid not in dead:
                dead.add(process.pid)
                mark_process_dead(process.pid, metrics_dir)
                if not stopping:
                    log.error("worker %d exited with %s; restarting it", process.pid, process.exitcode)
                    time.sleep(RESTART_BACKOFF_SECONDS)
                    processes[index] = start()
        if stopping:
            # A worker started while the stop signal was being forwarded gets it now.
            for process in processes:
                if process.exitcode is None and process.pid not in stopped:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(process.pid, stopping)
                    stopped.add(process.pid)
            if all(p.exitcode is not None for p in processes):
                return 1 if killed else 0
            if time.monotonic() - stop_started > kill_after:   # a worker past its own deadline
                for process in processes:
                    if process.exitcode is None and process.pid not in killed:
                        killed.add(process.pid)
                        log.error("worker %d still running %.0f s after the stop signal: killing it",
                                  process.pid, kill_after)
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(process.pid, signal.SIGKILL)
