"""Changing the live model safely: shadow a candidate, compare, promote, roll back.

Every step is a row of the model changes log (:meth:`Store.record_model_change`)
and a new model generation (:meth:`Store.request_model_reload`), which every
worker of every instance sharing the database applies within half a second
(:class:`moderation.services.model_sync.ModelSync`): it reloads ``models/CURRENT`` and
shadows the candidate the log's latest row names. Each use case then waits for
the live workers (:func:`wait_for_workers`) and reports each one.

- :func:`shadow`: the candidate (a manifest in the models directory) is verified
  here first, then every worker scores each comment with it too; the live
  model still decides, the candidate's score and band are stored.
- :func:`promote`: the shadowed candidate becomes live: ``CURRENT`` is written
  atomically, every worker reloads. If a worker refuses it, ``CURRENT`` goes
  back and every worker reloads the previous model: a failed promote keeps the
  live model.
- :func:`rollback`: the model the last promote replaced becomes live again.
- :func:`compare`: what the candidate would have decided on the traffic since
  shadowing began (:mod:`moderation.review.shadow_compare`).

Multi-host: ``CURRENT`` and the model files live in each host's
``MODERATION_MODEL_DIR``; promote and rollback write the directory of the host
they run on, so give the hosts one shared (or synced) models directory.
"""
from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..records import to_json
from ..records.models import WorkerState
from ..review.shadow_compare import ShadowReport, compare_rows
from ..scoring.model import (CURRENT_POINTER, ModelError, current_manifest_path, load_bundle,
                             manifest_path_for)
from ..store.base import ModelChange, ModelWorker, Store

STALE_SECONDS = 15.0           # a worker row older than this is a worker gone: not waited for
WAIT_POLL_SECONDS = 0.1

LOADED, FAILED, NO_ANSWER = "loaded", "failed", "no_answer"


class ModelChangeRefused(Exception):
    """A change that was not made (nothing changed), with why."""


@dataclass(frozen=True, slots=True)
class ChangeReport:
    """A change made (or undone), and each live worker once it applied it."""

    change: ModelChange
    generation: int
    workers: list[dict[str, Any]] = field(default_factory=list)
    reverted: bool = False       # a promote that a worker refused, undone

    @property
    def complete(self) -> bool:
        return all(w["status"] == LOADED for w in self.workers)


def worker_status(row: ModelWorker, generation: int) -> str:
    if row.generation < generation:
        return NO_ANSWER
    return FAILED if row.error else LOADED


def worker_entry(row: ModelWorker, generation: int) -> dict[str, Any]:
    status = worker_status(row, generation)
    return to_json(WorkerState(
        worker=row.worker, status=status, model_version=row.model_version, loaded_at=row.loaded_at,
        error=row.error if status == FAILED else None, shadow_version=row.shadow_version,
        shadow_error=row.shadow_error))


async def wait_for_workers(store: Store, generation: int, wait: float) -> list[ModelWorker]:
    """The live workers' rows once all have applied *generation*, or when *wait* is over."""
    deadline = time.monotonic() + wait
    while True:
        rows = await store.model_workers(alive_since=time.time() - STALE_SECONDS)
        if all(r.generation >= generation for r in rows) or time.monotonic() >= deadline:
            return rows
        await asyncio.sleep(WAIT_POLL_SECONDS)


def live_version(models_dir: Path) -> str:
    """The version ``CURRENT`` names (ModelError when there is none)."""
    return current_manifest_path(models_dir).stem


def active_shadow(changes: list[ModelChange]) -> str | None:
    """The candidate shadowed now, given the log newest first."""
    return changes[0].version if changes and changes[0].action == "shadow" else None


def _write_current(models_dir: Path, version: str) -> None:
    """Point ``CURRENT`` at *version* atomically (a reader sees the old or the new)."""
    handle, temporary = tempfile.mkstemp(dir=models_dir, prefix=".CURRENT.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(version + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, Path(models_dir) / CURRENT_POINTER)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


async def _verify(models_dir: Path, version: str, hmac_key: bytes | None) -> None:
    """Load the candidate as a worker would (checksum, HMAC, format, versions)."""
    try:
        await asyncio.to_thread(load_bundle, manifest_path_for(models_dir, version), hmac_key)
    except ModelError as error:
        raise ModelChangeRefused(f"model {version} does not load: {error}") from None


async def _apply(store: Store, change: ModelChange, wait: float, actor: str) -> ChangeReport:
    generation = await store.request_model_reload(requested_by=actor, now=time.time())
    rows = await wait_for_workers(store, generation, wait)
    return ChangeReport(change, generation, [worker_entry(r, generation) for r in rows])


def candidate_version(models_dir: Path, manifest: str) -> str:
    """The version of a candidate named by its manifest path or by its version;
    the manifest must lie in the models directory (where every worker looks)."""
    path = Path(manifest)
    if path.suffix == ".json":
        if path.resolve().parent != Path(models_dir).resolve():
            raise ModelChangeRefused(f"{manifest} is not in the models directory {models_dir}: "
                                     "copy the model's files there first")
        return path.stem
    return manifest


async def shadow(store: Store, models_dir: Path, manifest: str, *, actor: str, wait: float,
                 hmac_key: bytes | None = None) -> ChangeReport:
    version = candidate_version(models_dir, manifest)
    if version == live_version(models_dir):
        raise ModelChangeRefused(f"model {version} is the live model already")
    await _verify(models_dir, version, hmac_key)
    change = await store.record_model_change(action="shadow", version=version, previous_version=None,
                                             actor=actor, now=time.time())
    return await _apply(store, change, wait, actor)


async def unshadow(store: Store, *, actor: str, wait: float) -> ChangeReport:
    candidate = active_shadow(await store.model_changes(limit=1))
    if candidate is None:
        raise ModelChangeRefused("no model is shadowed")
    change = await store.record_model_change(action="unshadow", version=candidate,
                                             previous_version=None, actor=actor, now=time.time())
    return await _apply(store, change, wait, actor)


async def promote(store: Store, models_dir: Path, *, actor: str, wait: float,
                  hmac_key: bytes | None = None) -> ChangeReport:
    candidate = active_shadow(await store.model_changes(limit=1))
    if candidate is None:
        raise ModelChangeRefused("no model is shadowed: shadow a candidate, compare, then promote it")
    await _verify(models_dir, candidate, hmac_key)   # its files may have changed since
    previous = live_version(models_dir)
    _write_current(models_dir, candidate)
    change = await store.record_model_change(action="promote", version=candidate,
                                             previous_version=previous, actor=actor, now=time.time())
    report = await _apply(store, change, wait, actor)
    if any(w["status"] == FAILED for w in report.workers):
        # A worker refused the candidate (its files differ on that host...): every
        # worker goes back to the previous model, the candidate stays shadowed.
        _write_current(models_dir, previous)
        undo = await store.record_model_change(action="rollback", version=previous,
                                               previous_version=candidate,
                                               actor=f"{actor} (promote refused)", now=time.time())
        await _apply(store, undo, wait, actor)
        again = await store.record_model_change(action="shadow", version=candidate,
                                                previous_version=None, actor=actor, now=time.time())
        back = await _apply(store, again, wait, actor)
        return ChangeReport(change, back.generation, report.workers, reverted=True)
    return report


async def rollback(store: Store, models_dir: Path, *, actor: str, wait: float,
                   hmac_key: bytes | None = None) -> ChangeReport:
    live = live_version(models_dir)
    promoted = next((c for c in await store.model_changes(limit=100)
                     if c.action == "promote" and c.version == live and c.previous_version), None)
    if promoted is None:
        raise ModelChangeRefused(f"the live model {live} was not made live by a promote: "
                                 "nothing to roll back to")
    await _verify(models_dir, promoted.previous_version, hmac_key)
    _write_current(models_dir, promoted.previous_version)
    change = await store.record_model_change(action="rollback", version=promoted.previous_version,
                                             previous_version=live, actor=actor, now=time.time())
    return await _apply(store, change, wait, actor)


async def compare(store: Store, models_dir: Path, *, site_id: int | None = None,
                  since: float | None = None) -> ShadowReport:
    """The report on the candidate shadowed now, or the last one shadowed."""
    changes = await store.model_changes(limit=100)
    started = next((c for c in changes if c.action == "shadow"), None)
    if started is None:
        raise ModelChangeRefused("no model has been shadowed")
    begin = started.at if since is None else max(since, started.at)
    rows = await store.shadow_rows(shadow_version=started.version, since=begin, site_id=site_id)

    def manifest_for(version: str) -> dict:   # read, not loaded: thresholds and languages only
        return json.loads(manifest_path_for(models_dir, version).read_text(encoding="utf-8"))

    return await asyncio.to_thread(compare_rows, rows, manifest_for=manifest_for,
                                   candidate=started.version, since=begin,
                                   shadowing=active_shadow(changes) == started.version)
