"""The intake's one read per comment on SQLite (``Store.recent_activity``: the
rate limits, the duplicate check and surge mode), several per trip to the
thread that runs them.

Contract:

- ``BatchedReader.fetchone(sql, params)`` returns the statement's first row (or
  None), read on a ``query_only`` connection of its own: in WAL mode, each
  statement sees what was committed when it started, as any read of the store.
- Concurrent reads form batches, as the group commit of inserts does
  (``sqlite_intake``): the first starts one at the next turn of the event
  loop; those arriving while it runs form the next. A batch is one hop to the
  reader's thread and one wake-up of the event loop instead of one of each
  per read: with the scoring thread busy, each hand-over of the interpreter
  between threads costs more than the read itself.
- One failing statement fails alone.
"""
from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_Pending = tuple[str, Any, asyncio.Future]


class BatchedReader:
    def __init__(self, path: str, pragmas: list[str]) -> None:
        self._path = path
        self._pragmas = pragmas
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-intake-reads")
        self._connection: sqlite3.Connection | None = None
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task | None = None

    async def open(self) -> None:
        self._connection = await asyncio.get_running_loop().run_in_executor(self._thread, self._connect)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        for pragma in self._pragmas:
            connection.execute(pragma)
        connection.execute("PRAGMA query_only = ON")
        return connection

    async def close(self) -> None:
        if self._flusher is not None:
            await self._flusher
        if self._connection is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._connection.close)
            self._connection = None
        self._thread.shutdown(wait=True)

    async def fetchone(self, sql: str, params: Any = ()) -> Any:
        assert self._connection is not None, "store is not open"
        future = asyncio.get_running_loop().create_future()
        self._pending.append((sql, params, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    outcomes = await asyncio.shield(loop.run_in_executor(
                        self._thread, self._read_batch, [(sql, params) for sql, params, _ in batch]))
                except Exception as exc:   # the batch itself broke: every waiter hears it
                    outcomes = [exc] * len(batch)
                for (_, _, future), outcome in zip(batch, outcomes):
                    if future.cancelled():
                        continue
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            self._flusher = None

    def _read_batch(self, batch: list[tuple[str, Any]]) -> list[Any]:
        """Blocking, in the reader's thread: each statement's first row, or its error."""
        outcomes: list[Any] = []
        for sql, params in batch:
            try:
                cursor = self._connection.execute(sql, params)
                try:
                    outcomes.append(cursor.fetchone())
                finally:
                    cursor.close()
            except Exception as exc:   # this read only
                outcomes.append(exc)
        return outcomes
