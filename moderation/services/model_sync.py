"""Model reloads that reach every worker process of every instance sharing
the database: each worker's :class:`ModelSync`, and :func:`reload_everywhere`,
the use case behind ``POST /v1/admin/model/reload`` (answered by
:mod:`moderation.api.admin`).

:func:`reload_everywhere` starts a new *model generation* in the database
(:meth:`~moderation.store.base.Store.request_model_reload`, a row of
``model_reloads`` naming the admin), reloads the model of the worker that took
the request, then waits at most *wait* seconds until every *live* worker has
applied that generation. Live: a row of ``model_workers`` whose heartbeat is
under :data:`~moderation.services.model_changes.STALE_SECONDS` old, so every
worker process of every ``moderation serve`` on this database (with
PostgreSQL, on every host); one that died without a word counts until then.
Its :class:`ReloadOutcome` lists each live worker: loaded, failed (it refused
the new model: bad checksum or HMAC, other scikit-learn or feature version,
missing file...; it keeps serving its previous model) or no answer (still
loading, stuck, or died meanwhile: it keeps polling and applies it when it can).

Each worker runs a :class:`ModelSync` while the app runs: it polls the
generation every :data:`POLL_SECONDS` (one indexed read), and when it grew
reloads ``models/CURRENT`` from its own ``MODERATION_MODEL_DIR`` in the scoring
executor (off the event loop), then records in its ``model_workers`` row the
generation, the version it serves and the reload's error; the row doubles as
a heartbeat, written at least every :data:`HEARTBEAT_SECONDS`. A worker reads
the generation *before* it loads the model at start, so a reload requested
while it starts is applied again, never lost. It deletes its row when it
stops; rows silent for :data:`FORGET_AFTER_SECONDS` are deleted when a worker
starts. Times are the workers' clocks: keep hosts in sync (NTP) to well
within the stale time.

``kill -HUP`` reloads only the process signalled (``moderation serve``
forwards it to its workers) through :meth:`ModelSync.reload_here`; the worker
records the outcome in its row, so the next API reload lists it truthfully,
but no generation is started.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from ..scoring.model import ModelError
from ..store.base import Store, StoreError
from .model_changes import FAILED, NO_ANSWER, wait_for_workers, worker_entry

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5            # how often each worker reads the generation
HEARTBEAT_SECONDS = 5.0       # each worker rewrites its row at least this often
FORGET_AFTER_SECONDS = 3600.0  # rows older than this are deleted when a worker starts
STOP_GRACE_SECONDS = 5.0


_APPS_IN_THIS_PROCESS = itertools.count(1)


def new_worker_id() -> str:
    """``host:pid``, unique among the workers sharing a database (``/2``,
    ``/3``... for further apps of one process, as tests make)."""
    base = f"{socket.gethostname()}:{os.getpid()}"
    n = next(_APPS_IN_THIS_PROCESS)
    return base if n == 1 else f"{base}/{n}"


class ModelSync:
    """This worker's side of model reloads: the generation it has applied, and
    its row in ``model_workers`` (see the module docstring)."""

    def __init__(self, store: Store, holder, executor, *, worker: str | None = None,
                 poll: float = POLL_SECONDS, heartbeat: float = HEARTBEAT_SECONDS) -> None:
        self.store, self.holder, self.executor = store, holder, executor
        self.worker = worker or new_worker_id()
        self.poll, self.heartbeat = poll, heartbeat
        self.applied = 0           # the latest generation this worker has applied
        self._lock = asyncio.Lock()   # one reload at a time: the poller, the API, SIGHUP
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._last_record = float("-inf")
        self._failing = False

    async def _reload(self):
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.holder.reload)

    async def _follow_shadow(self) -> None:
        """Shadow the candidate the model changes log names now (or none): a
        candidate that fails verification is logged and recorded, never fatal."""
        changes = await self.store.model_changes(limit=1)
        wanted = changes[0].version if changes and changes[0].action == "shadow" else None
        current = self.holder.shadow.version if self.holder.shadow is not None else None
        if wanted == current and (wanted is None or self.holder.shadow_error is None):
            return
        try:
            await asyncio.get_running_loop().run_in_executor(self.executor, self.holder.set_shadow, wanted)
            if wanted is not None:
                log.info("shadowing model %s beside the live one", wanted)
        except ModelError as exc:
            log.error("cannot shadow model %s: %s", wanted, exc)

    async def _record(self) -> None:
        """Write this worker's row (under ``_lock``: a heartbeat must not land
        after, and undo, the record of a reload)."""
        bundle = self.holder.bundle
        shadow = self.holder.shadow
        await self.store.record_model_worker(
            self.worker, generation=self.applied,
            model_version=bundle.version if bundle else None,
            loaded_at=bundle.loaded_at if bundle else None,
            error=self.holder.last_error, now=time.time(),
            shadow_version=shadow.version if shadow is not None else None,
            shadow_error=self.holder.shadow_error)
        self._last_record = time.monotonic()

    async def load_at_start(self) -> None:
        """Read the generation, then load the model: a reload requested after
        that read is applied again by the poller. A refused model is logged
        (every comment goes to review until one loads)."""
        self.applied = await self.store.model_generation()
        try:
            bundle = await self._reload()
            log.info("model %s loaded", bundle.version)
        except ModelError as exc:
            log.error("no usable model, every comment goes to review: %s", exc)
        await self._follow_shadow()

    async def apply(self, generation: int) -> None:
        """Reload once for *generation* (nothing when already applied) and
        record the outcome; a refused model keeps the previous one."""
        async with self._lock:
            if generation <= self.applied:
                return
            try:
                bundle = await self._reload()
                log.info("model generation %d: model %s loaded", generation, bundle.version)
            except ModelError as exc:
                log.error("model generation %d: reload failed, keeping the previous model: %s",
                          generation, exc)
            await self._follow_shadow()   # a shadow, promote or rollback starts a generation too
            self.applied = generation
            await self._record()

    async def reload_here(self):
        """Reload this worker only (SIGHUP), record the outcome, return the
        bundle; raise ModelError when refused (the previous model stays)."""
        async with self._lock:
            try:
                return await self._reload()
            finally:
                try:
                    await self._record()
                except Exception as exc:   # noqa: BLE001: the reload happened all the same
                    log.warning("could not record the model reload in the database: %s", exc)

    async def _step(self) -> None:
        generation = await self.store.model_generation()
        if generation > self.applied:
            await self.apply(generation)
        elif generation < self.applied:
            # The counter went back: the database was restored from a backup (or
            # replaced). Follow it, so that the next reload, numbered from it,
            # is applied rather than taken for one already done.
            async with self._lock:
                log.warning("model generation went back from %d to %d (database restored?): "
                            "following it", self.applied, generation)
                self.applied = generation
                await self._record()
        elif time.monotonic() - self._last_record >= self.heartbeat:
            async with self._lock:
                await self._record()

    async def _checked_step(self) -> None:
        """One :meth:`_step`; database trouble is logged once per outage."""
        try:
            await self._step()
            if self._failing:
                self._failing = False
                log.info("model reload polling works again")
        except Exception as exc:   # noqa: BLE001: the poller must outlive any fault
            if not self._failing:
                self._failing = True
                log.warning("model reload polling failed (retrying every %.1f s): %s",
                            self.poll, exc, exc_info=not isinstance(exc, StoreError))

    async def first_step(self) -> None:
        """At start: forget long-silent rows, apply a reload requested while the
        model was loading, and register this worker."""
        try:
            await self.store.forget_model_workers(before=time.time() - FORGET_AFTER_SECONDS)
        except Exception as exc:   # noqa: BLE001: housekeeping only
            log.warning("could not prune the model workers' rows: %s", exc)
        self._last_record = float("-inf")   # a heartbeat now at the latest: the row appears
        await self._checked_step()

    async def run(self) -> None:
        """Poll until :meth:`stop`."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll)
            if not self._stopping.is_set():
                await self._checked_step()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="model-sync")

    async def stop(self) -> None:
        """Stop polling and delete this worker's row."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, STOP_GRACE_SECONDS)
            except TimeoutError:
                pass
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():
                    raise   # this stop is being cancelled, not only the polling task
        try:
            await self.store.remove_model_worker(self.worker)
        except Exception as exc:   # noqa: BLE001: the row goes stale and is ignored
            log.warning("could not remove this worker's model row: %s", exc)


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """A reload asked of every worker: the generation, and each live worker
    (``{"worker", "status": "loaded" | "failed" | "no_answer", "model_version",
    "loaded_at", "error", ...}``)."""

    generation: int
    workers: list[dict[str, Any]]

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [w for w in self.workers if w["status"] == FAILED]

    @property
    def silent(self) -> list[dict[str, Any]]:
        return [w for w in self.workers if w["status"] == NO_ANSWER]


async def reload_everywhere(store: Store, sync: ModelSync, *, requested_by: str, wait: float) -> ReloadOutcome:
    """Start a generation, apply it in this worker, and wait (at most *wait*
    seconds) for every live worker to apply it (see the module docstring)."""
    generation = await store.request_model_reload(requested_by=requested_by, now=time.time())
    await sync.apply(generation)
    rows = await wait_for_workers(store, generation, wait)
    return ReloadOutcome(generation, [worker_entry(r, generation) for r in rows])
