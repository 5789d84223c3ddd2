"""Scoring off the event loop, with concurrent texts batched into one model call.

:meth:`Scorer.score` queues a text and awaits its result. One batch at a time
runs in the executor: language detection for each text, then a single
``predict_proba`` over the batch. When the scorer is idle, a new text waits at
most ``batch_wait`` seconds for company; while a batch runs, newcomers gather
for the next one (up to ``batch_max``). Under load, batches grow by themselves;
alone, a text pays ``batch_wait`` at most.

At most ``queue_max`` texts wait (0: no bound): one more raises
:class:`~moderation.shedding.Overloaded` at once, so that a burst the thread
cannot keep up with is refused (503) instead of piling up latency and memory.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from ..policy import Scored, ShadowScore, band_of
from ..shedding import SCORING_QUEUE, Overloaded
from .features import ScoringInput, has_words, normalize_text
from .language import detect_normalized_languages

log = logging.getLogger(__name__)


def score_batch(bundle, requests: Sequence[ScoringInput], shadow=None) -> list[Scored]:
    """Blocking: detect each text's language (the site's language where detection
    is unsure) and score the batch with *bundle* (a ModelBundle, or None when no
    model is usable). Each result carries the thresholds of its own language.
    With a *shadow* bundle (a candidate), each result also carries its score and
    band at its own thresholds, on the same inputs; a failing candidate is
    logged and leaves no shadow score, never failing the batch."""
    normalized = [normalize_text(request.body) for request in requests]
    empty = [not has_words(text) for text in normalized]
    candidates = bundle.languages if bundle is not None else ()
    languages = detect_normalized_languages(["" if e else text for text, e in zip(normalized, empty)],
                                            [r.site_language for r in requests], candidates)
    prepared = list(zip(requests, languages, empty))
    if bundle is None:
        return [Scored(language=lang, score=None, model_version=None, text_empty=empty)
                for _, lang, empty in prepared]
    inputs = [dataclasses.replace(r, language=lang) for r, lang, _ in prepared]
    scores = bundle.predict_proba(inputs)
    bands = {lang: bundle.thresholds_for(lang) for lang in set(languages)}
    shadows = shadow_scores(shadow, inputs, [e for _, _, e in prepared]) if shadow else None
    return [Scored(language=lang, score=float(score), model_version=bundle.version,
                   text_empty=empty, language_supported=bundle.supports(lang), bands=bands[lang],
                   shadow=shadows[i] if shadows else None)
            for i, ((_, lang, empty), score) in enumerate(zip(prepared, scores))]


def shadow_scores(shadow, inputs: Sequence[ScoringInput], empty: Sequence[bool]) -> list[ShadowScore] | None:
    """The candidate's score and band of each input, or None when it fails."""
    try:
        scores = shadow.predict_proba(inputs)
    except Exception:   # noqa: BLE001: a candidate must never cost a comment
        log.exception("the shadowed model %s failed to score a batch", shadow.version)
        return None
    results = []
    for item, is_empty, score in zip(inputs, empty, scores):
        band = band_of(float(score), shadow.thresholds_for(item.language),
                       decides=not is_empty and shadow.supports(item.language))
        results.append(ShadowScore(version=shadow.version, score=float(score), band=band))
    return results


class Scorer:
    def __init__(self, current_bundle: Callable[[], object], executor: Executor, *,
                 batch_max: int = 64, batch_wait: float = 0.002, queue_max: int = 0,
                 current_shadow: Callable[[], object] = lambda: None,
                 on_waiting: Callable[[int], None] = lambda change: None,
                 on_batch: Callable[[int, float], None] = lambda size, seconds: None) -> None:
        """*on_waiting* is told each change of the number of texts waiting
        (+1 on arrival, minus a batch's size at its start); *on_batch* each
        batch's size and seconds, once its results are back on the loop."""
        self._on_waiting = on_waiting
        self._on_batch = on_batch
        self._current_bundle = current_bundle
        self._current_shadow = current_shadow
        self._executor = executor
        self._batch_max = max(1, batch_max)
        self._batch_wait = max(0.0, batch_wait)
        self._queue_max = max(0, queue_max)
        self._queue: list[tuple[ScoringInput, asyncio.Future]] = []
        self._running = False
        self._timer: asyncio.TimerHandle | None = None
        self.batch_sizes: list[int] = []   # recent batch sizes, for metrics and benchmarks

    async def score(self, request: ScoringInput) -> Scored:
        if self._queue_max and len(self._queue) >= self._queue_max:
            raise Overloaded(SCORING_QUEUE)
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.append((request, future))
        self._on_waiting(1)
        if not self._running:
            if len(self._queue) >= self._batch_max or self._batch_wait == 0:
                self._launch()
            elif self._timer is None:
                self._timer = loop.call_later(self._batch_wait, self._launch)
        return await future

    def _launch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._running or not self._queue:
            return
        batch, self._queue = self._queue[:self._batch_max], self._queue[self._batch_max:]
        self._on_waiting(-len(batch))
        self._running = True
        self.batch_sizes = (self.batch_sizes + [len(batch)])[-1000:]
        loop = asyncio.get_running_loop()
        bundle = self._current_bundle()
        started = time.perf_counter()
        work = self._executor.submit(score_batch, bundle, [r for r, _ in batch], self._current_shadow())
        # Straight back to the loop from the worker thread: one wake-up per batch.
        work.add_done_callback(lambda done: loop.call_soon_threadsafe(self._finish, batch, done, started))

    def _finish(self, batch, done: concurrent.futures.Future, started: float) -> None:
        self._running = False
        self._on_batch(len(batch), time.perf_counter() - started)
        error = done.exception()
        if error is None:
            results = done.result()
        else:
            # A comment is never lost to a scoring fault: it goes to review as unscored.
            log.error("scoring batch of %d failed: %r", len(batch), error)
            results = [Scored(language="unknown", score=None, model_version=None)] * len(batch)
        for (_, future), result in zip(batch, results):
            if not future.cancelled():
                future.set_result(result)
        if self._queue:
            self._launch()
