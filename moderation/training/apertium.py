"""Running Debian's Apertium over batches of lines, offline.

Contract:

- ``run_chain(lines, modes)`` is one translation per line of ``lines``, as
  ``apertium -u MODE`` gives it, the output of each mode of ``modes`` being the
  input of the next. Apertium's pipeline occasionally dies on a batch (one of
  its stages crashes on one line, and what it wrote before goes on) or merges
  lines; the batch is then split in two and each half translated again, down to
  a single line, which comes out as the words Apertium gave for it, possibly
  none, or as it was if ``apertium`` exited with an error.
- ``translate_batches(batches, modes, workers)`` is ``[run_chain(batch, modes)
  for batch in batches]``, the same lines, computed with fewer processes:
  starting Apertium's French generator costs about a CPU-second (it loads the
  whole French dictionary) against a few for a batch of 500 lines, and
  ``run_chain`` starts it again for every half it retries (36 CPU-s for a batch
  with one line that crashes Apertium, 5.5 for one without). Each mode is run
  as ``apertium -u`` runs it, in two parts: deformatting to transfer (its
  tagger and pronoun resolution read across lines), once per batch; then
  generation, which reads word by word, once for the batches of a round
  (NUL-separated, ``lt-proc -z``), except after a stage crashed, when the
  truncated stream is generated alone as ``apertium`` would. The halves of the
  batches that come out wrong are the next round. Where the installed mode
  cannot be split so (its generation is not a chain of ``lt-proc``), every
  batch is translated by ``run_chain``. ``on_progress(done, total)``, when
  given, is called as batches of the first round are analysed, ``done``
  counting the lines' share of that work (``total``: the number of lines).
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MODES_DIR = Path(os.environ.get("APERTIUM_DATADIR", "/usr/share/apertium")) / "modes"
_DETACH = " | apertium-wblank-detach | "
SHARED_MIN = 4
"""Batches per generator started: the generator takes a CPU-second to start and
generates a batch in a fraction of that, so a few batches share one."""
_ENV = {**os.environ, "LC_CTYPE": "C.UTF-8"}      # `apertium` runs its modes in a UTF-8 locale


def run_chain(lines: Sequence[str], modes: Sequence[str]) -> list[str]:
    """One translation per line (see module doc)."""
    text = "\n".join(lines) + "\n"
    try:
        for mode in modes:
            text = subprocess.run(["apertium", "-u", mode], input=text, capture_output=True,
                                  text=True, check=True).stdout
    except subprocess.CalledProcessError:
        text = None
    out = _lines(text)
    if text is not None and len(out) == len(lines):
        return out
    if len(lines) == 1:
        return [" ".join(out)] if text is not None else list(lines)
    half = len(lines) // 2
    return run_chain(lines[:half], modes) + run_chain(lines[half:], modes)


@dataclass(frozen=True)
class Split:
    """A mode as ``apertium -u`` runs it on text, as shell pipelines."""
    head: str      # apertium-destxt, then the mode up to its apertium-wblank-detach
    tail: str      # the mode's generation stages, then apertium-retxt
    shared: str    # the generation stages with lt-proc -z, for NUL-separated streams


@cache
def split_mode(mode: str) -> Split | None:
    """``mode`` split before its generation; ``None`` when the installed mode
    does not have that shape."""
    try:
        script = subprocess.run(["apertium-wblank-mode", str(MODES_DIR / f"{mode}.mode")],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    head, detach, tail = script.partition(_DETACH)
    stages = [stage.strip().replace("$1", "-n") for stage in tail.split(" | ")]
    if not detach or "\n" in script or not all(stage.startswith("lt-proc ") for stage in stages):
        return None
    # `apertium -u` passes "-n" (no unknown-word marks) as $1 and no tagger option as $2.
    head = head.replace("$1", "-n").replace("$2", "")
    return Split(head=f"apertium-destxt | {head} | apertium-wblank-detach",
                 tail=" | ".join([*stages, "apertium-retxt"]),
                 shared=" | ".join(stage.replace("lt-proc ", "lt-proc -z ", 1) for stage in stages))


def _shell(pipeline: str, text: str) -> tuple[str, list[int]]:
    """``pipeline``'s output on ``text`` and the exit status of each of its stages."""
    done = subprocess.run(["bash", "-c", pipeline + '\necho "${PIPESTATUS[*]}" >&2'],
                          input=text.encode("utf-8"), capture_output=True, env=_ENV, check=False)
    tail = done.stderr.decode("utf-8", "replace").rstrip("\n").rsplit("\n", 1)[-1].split()
    statuses = [int(status) for status in tail] if all(s.isdigit() for s in tail) and tail else [1]
    return done.stdout.decode("utf-8"), statuses


def _lines(text: str | None) -> list[str]:
    out = text.split("\n") if text is not None else []
    if out and out[-1] == "":
        out.pop()
    return out


def _alone(split: Split, stream: str) -> str | None:
    """``stream`` generated as ``apertium`` would: ``None`` where it would exit
    with an error (its last generation stage or ``apertium-retxt`` failed)."""
    text, statuses = _shell(split.tail, stream)
    return text if len(statuses) >= 2 and statuses[-2] == statuses[-1] == 0 else None


def _together(split: Split, streams: Sequence[str]) -> list[str | None]:
    """Each stream generated by one shared run; ``_alone`` for all if it fails."""
    generated, statuses = _shell(split.shared, "".join(stream + "\0" for stream in streams))
    parts = generated.split("\0")
    if any(statuses) or len(parts) < len(streams) or any(parts[len(streams):]):
        return [_alone(split, stream) for stream in streams]
    answers = []
    for part, stream in zip(parts, streams):
        text, statuses = _shell("apertium-retxt", part)
        answers.append(text if statuses == [0] else _alone(split, stream))
    return answers


def _mode_pass(split: Split, texts: Sequence[str | None], pool: Executor, workers: int,
               analysed: Callable[[int], None]) -> list[str | None]:
    """Each text through one mode as ``apertium -u`` would: its output, or ``None``
    where it would exit with an error (and for ``None``)."""
    heads: list[tuple[str, list[int]] | None] = [None] * len(texts)
    futures = {pool.submit(_shell, split.head, text): i for i, text in enumerate(texts) if text is not None}
    for future in as_completed(futures):
        heads[futures[future]] = future.result()
        analysed(futures[future])
    out: list[str | None] = [None] * len(texts)
    clean = [i for i, head in enumerate(heads) if head is not None and not any(head[1])]
    crashed = [i for i, head in enumerate(heads) if head is not None and any(head[1]) and head[1][0] == 0]
    parts = min(workers, max(1, len(clean) // SHARED_MIN))
    groups = [clean[k::parts] for k in range(parts) if clean[k::parts]]
    for group, generated in zip(groups, pool.map(
            lambda group: _together(split, [heads[i][0] for i in group]), groups)):
        for i, text in zip(group, generated):
            out[i] = text
    for i, text in zip(crashed, pool.map(lambda i: _alone(split, heads[i][0]), crashed)):
        out[i] = text
    return out


def translate_batches(batches: Sequence[Sequence[str]], modes: Sequence[str], workers: int = 1,
                      on_progress: Callable[[int, int], None] | None = None) -> list[list[str]]:
    """``[run_chain(batch, modes) for batch in batches]`` (see module doc)."""
    splits = [split_mode(mode) for mode in modes]
    workers = max(1, workers)
    total = sum(len(batch) for batch in batches)
    reported, work = -1, 0

    def report(done: int, total: int) -> None:
        nonlocal reported
        if on_progress is not None and done != reported:
            reported = done
            on_progress(done, total)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        if None in splits:
            answers = list(pool.map(lambda batch: run_chain(batch, modes), batches))
            report(total, total)
            return answers
        done: dict[tuple[int, int], list[str]] = {}
        pending = [(b, 0, len(batch)) for b, batch in enumerate(batches) if batch]

        def analysed(k: int) -> None:
            nonlocal work
            if first_round:
                work += pending[k][2] - pending[k][1]
                report(work // len(modes), total)

        first_round = True
        while pending:
            texts: list[str | None] = ["\n".join(batches[b][start:end]) + "\n" for b, start, end in pending]
            for split in splits:
                texts = _mode_pass(split, texts, pool, workers, analysed)
            first_round, retry = False, []
            for (b, start, end), text in zip(pending, texts):
                out = _lines(text)
                if text is not None and len(out) == end - start:
                    done[(b, start)] = out
                elif end - start == 1:
                    done[(b, start)] = [" ".join(out)] if text is not None else list(batches[b][start:end])
                else:
                    half = start + (end - start) // 2
                    retry += [(b, start, half), (b, half, end)]
            pending = retry
    report(total, total)
    answers = [[] for _ in batches]
    for (b, _), lines in sorted(done.items()):
        answers[b].extend(lines)
    return answers
