"""The background task that POSTs webhook events from the outbox.

One :class:`Deliverer` runs in each worker process (started in the app's
``cleanup_ctx``). Every ``MODERATION_WEBHOOK_POLL_SECONDS`` it asks the store
for due rows; the store leases them to this process (``lease_until``,
``lease_token``) so that several processes sharing the database never send the
same row at once, and a row whose process died is due again when its lease
ends. Each row is POSTed with a time limit and without following redirects:

- a 2xx answer marks it delivered;
- anything else (another status, a refused connection, a timeout) schedules
  the next attempt after :meth:`RetryPolicy.delay` (exponential backoff with
  jitter; a ``Retry-After`` from the receiver lengthens it), or marks it dead
  after ``MODERATION_WEBHOOK_MAX_ATTEMPTS``.

Nothing here is on the path of a request: the intake only writes the outbox
row, in its own transaction, and answers.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from .. import keys
from ..store.base import Delivery, Store, StoreError
from .payload import delivery_body
from .signing import signature

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 10    # how long shutdown waits for a claim or a record in progress
BATCH = 20                 # rows claimed (and POSTed concurrently) per round
USER_AGENT = "moderation-webhooks/1"
MAX_ANSWER_BYTES = 65536   # of a receiver's answer body, read and ignored
MAX_ERROR_CHARS = 300

EVENT_HEADER = "X-Moderation-Event"
DELIVERY_HEADER = "X-Moderation-Delivery"
TIMESTAMP_HEADER = "X-Moderation-Timestamp"
SIGNATURE_HEADER = "X-Moderation-Signature"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 20
    backoff: float = 5.0
    backoff_max: float = 3600.0

    @classmethod
    def from_settings(cls, settings) -> "RetryPolicy":
        return cls(max_attempts=max(1, settings.webhook_max_attempts),
                   backoff=max(0.0, settings.webhook_backoff_seconds),
                   backoff_max=max(0.0, settings.webhook_backoff_max_seconds))

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after the *attempt*-th failure (1 for the first):
        ``backoff * 2 ** (attempt - 1)``, at most ``backoff_max``, then a random
        50-100 % of that, so receivers coming back up are not hit by every
        retry at once."""
        ceiling = min(self.backoff_max, self.backoff * 2.0 ** min(attempt - 1, 60))
        return ceiling * (0.5 + 0.5 * rng())

    def next_attempt_at(self, attempt: int, now: float, *, retry_after: float | None = None,
                        rng: Callable[[], float] = random.random) -> float | None:
        """When to try again after the *attempt*-th failure; None: give up (dead)."""
        if attempt >= self.max_attempts:
            return None
        wait = self.delay(attempt, rng)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.backoff_max))
        return now + wait


@dataclass(frozen=True, slots=True)
class Attempt:
    delivered: bool
    error: str = ""
    retry_after: float | None = None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header in its delta-seconds form (an HTTP
    date is ignored: our own backoff applies)."""
    if not value or not value.strip().isdigit():
        return None
    return float(value.strip())


class Deliverer:
    def __init__(self, store: Store, session: aiohttp.ClientSession, *, policy: RetryPolicy,
                 timeout: float, poll: float, batch: int = BATCH,
                 clock: Callable[[], float] = time.time,
                 rng: Callable[[], float] = random.random) -> None:
        self.store = store
        self.session = session
        self.policy = policy
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.poll = poll
        self.batch = batch
        self.clock = clock
        self.rng = rng
        # A lease outlives the slowest attempt, so a row is never sent twice at once.
        self.lease_seconds = 2 * timeout + 5
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ask :meth:`run` to return after the claim or wait it is in, so that
        shutdown never cancels a store transaction half-way."""
        self._stopping.set()

    async def run(self) -> None:
        """Deliver until :meth:`stop` (or cancelled). At most ``batch`` deliveries are in flight,
        each in its own task: a receiver that hangs holds one slot until its
        time limit, never the others. A failing claim (database busy or out of
        reach...) is tried again after the poll interval, and logged once per
        outage (then once when claims work again)."""
        in_flight: set[asyncio.Task] = set()
        failing = False
        try:
            while not self._stopping.is_set():
                free = self.batch - len(in_flight)
                claimed = 0
                if free > 0:
                    try:
                        items, token = await self._claim(free)
                    except Exception as exc:   # noqa: BLE001: the deliverer outlives any fault
                        if not failing:
                            log.warning("claiming webhook deliveries failed (retrying every %.1f s): %s",
                                        self.poll, exc, exc_info=not isinstance(exc, StoreError))
                        failing = True
                        items, token = [], ""
                    else:
                        if failing:
                            log.info("claiming webhook deliveries works again")
                        failing = False
                    for item in items:
                        task = asyncio.create_task(self._deliver(item, token))
                        in_flight.add(task)
                        task.add_done_callback(in_flight.discard)
                    claimed = len(items)
                if free <= 0 or claimed < free:     # else more may be due at once
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), self.poll)
        finally:   # unfinished attempts are tried again when their lease runs out
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def deliver_due(self) -> int:
        """One round, awaited: claim the due rows, POST them concurrently,
        record each outcome. Returns how many rows were claimed."""
        items, token = await self._claim(self.batch)
        if items:
            await asyncio.gather(*(self._deliver(item, token) for item in items))
        return len(items)

    async def _claim(self, limit: int) -> tuple[list[Delivery], str]:
        now = self.clock()
        token = uuid.uuid4().hex
        items = await self.store.claim_deliveries(now=now, lease_until=now + self.lease_seconds,
                                                  lease_token=token, limit=limit)
        return items, token

    async def _deliver(self, item: Delivery, token: str) -> None:
        attempt = await self.post(item)
        now = self.clock()
        number = item.attempts + 1
        next_at = None
        if not attempt.delivered:
            next_at = self.policy.next_attempt_at(number, now, retry_after=attempt.retry_after,
                                                  rng=self.rng)
            if next_at is None:
                log.warning("webhook %d: delivery %d (%s) dead after %d attempts: %s",
                            item.webhook_id, item.id, item.event, number, attempt.error)
            else:
                log.info("webhook %d: delivery %d attempt %d failed (%s); next in %.1f s",
                         item.webhook_id, item.id, number, attempt.error, next_at - now)
        try:
            await self.store.finish_delivery(item.id, lease_token=token, now=now,
                                             delivered=attempt.delivered, next_attempt_at=next_at,
                                             error=attempt.error)
        except Exception as exc:   # the lease runs out and the row is tried again: at least once
            log.warning("recording webhook delivery %d failed (it is tried again when its lease "
                        "ends): %s", item.id, exc, exc_info=not isinstance(exc, StoreError))

    async def post(self, item: Delivery) -> Attempt:
        body = delivery_body(item)
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: item.event,
            DELIVERY_HEADER: str(item.id),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(item.secret, timestamp, body),
        }
        try:
            async with self.session.post(item.url, data=body, headers=headers,
                                         allow_redirects=False, timeout=self.timeout) as response:
                await response.content.read(MAX_ANSWER_BYTES)
                if 200 <= response.status < 300:
                    return Attempt(delivered=True)
                return Attempt(delivered=False, error=f"HTTP {response.status}",
                               retry_after=_retry_after(response.headers.get("Retry-After")))
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            return Attempt(delivered=False, error="timeout")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return Attempt(delivered=False, error=f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS])


async def webhook_context(app: web.Application):
    """``cleanup_ctx``: run a :class:`Deliverer` while the app runs (unless
    ``MODERATION_WEBHOOK_POLL_SECONDS`` is 0)."""
    settings = app[keys.SETTINGS]
    if settings.webhook_poll_seconds <= 0:
        yield
        return
    session = aiohttp.ClientSession(headers={"User-Agent": USER_AGENT},
                                    connector=aiohttp.TCPConnector(limit=BATCH))
    deliverer = Deliverer(app[keys.STORE], session, policy=RetryPolicy.from_settings(settings),
                          timeout=settings.webhook_timeout_seconds,
                          poll=settings.webhook_poll_seconds)
    task = asyncio.create_task(deliverer.run(), name="webhook-deliverer")
    try:
        yield
    finally:
        deliverer.stop()
        try:
            await asyncio.wait_for(task, STOP_GRACE_SECONDS)
        except (TimeoutError, asyncio.CancelledError):
            pass
        await session.close()
