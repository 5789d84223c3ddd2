"""Running Debian's Apertium over batches of lines, offline.

Contract:

- ``run_chain(lines, modes)`` is one translation per line of ``lines``, as
  ``apertium -u MODE`` gives it, the output of each mode of ``modes`` being the
  input of the next. Apertium's pipeline occasionally dies on a batch (one of
  its stages crashes on one line) or merges lines; the batch is then split in
  two and each half translated again, down to a single line, which comes out as
  the few words Apertium gave for it, possibly none, or as it was if Apertium
  gave an error.
- ``translate_batches(batches, modes, workers)`` is ``[run_chain(batch, modes)
  for batch in batches]``, the same lines, computed with fewer processes:
  starting Apertium's French generator costs about a CPU-second (it loads the
  whole French dictionary) against a few for a batch of 500 lines. Each mode is
  run in two parts: analysis to transfer (its tagger and pronoun resolution
  read across lines, so that part runs once per batch, as ``apertium`` would),
  then generation, which reads word by word, once for many batches in a row
  (NUL-separated, ``lt-proc -z``). A batch on which the first part fails, or
  whose line count comes out wrong, is translated by ``run_chain`` instead, so
  the answer is that of ``run_chain`` in every case. Where the installed mode
  cannot be split so (its generation is not a chain of ``lt-proc``), every
  batch is translated by ``run_chain``. ``on_progress(done, total)``, when
  given, is called as each batch's first part finishes, ``done`` counting the
  lines' share of the work done (``total``: the number of lines).
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import cache
from pathlib import Path

MODES_DIR = Path(os.environ.get("APERTIUM_DATADIR", "/usr/share/apertium")) / "modes"
_DETACH = " | apertium-wblank-detach | "
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
    out = text.split("\n") if text is not None else []
    if out and out[-1] == "":
        out.pop()
    if text is not None and len(out) == len(lines):
        return out
    if len(lines) == 1:
        return [" ".join(out)] if text is not None else list(lines)
    half = len(lines) // 2
    return run_chain(lines[:half], modes) + run_chain(lines[half:], modes)


@cache
def split_mode(mode: str) -> tuple[str, str] | None:
    """``mode``'s pipeline as ``apertium -u`` runs it on text, as two shell
    pipelines: deformatting to transfer, and generation (``lt-proc -z`` stages)
    to reformatting without the final ``apertium-retxt``; ``None`` when the
    installed mode does not have that shape."""
    try:
        script = subprocess.run(["apertium-wblank-mode", str(MODES_DIR / f"{mode}.mode")],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    head, detach, tail = script.partition(_DETACH)
    stages = [stage.strip() for stage in tail.split(" | ")]
    if not detach or "\n" in script or not all(stage.startswith("lt-proc ") for stage in stages):
        return None
    # `apertium -u` passes "-n" (no unknown-word marks) as $1 and no tagger option as $2.
    head = head.replace("$1", "-n").replace("$2", "")
    tail = " | ".join(stage.replace("lt-proc ", "lt-proc -z ", 1).replace("$1", "-n") for stage in stages)
    return f"apertium-destxt | {head} | apertium-wblank-detach", tail


def _shell(pipeline: str, text: str) -> str | None:
    """``pipeline``'s output on ``text``; ``None`` if any of its stages failed."""
    done = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], input=text.encode("utf-8"),
                          capture_output=True, env=_ENV, check=False)
    return done.stdout.decode("utf-8") if done.returncode == 0 else None


def _generate(streams: Sequence[str], tail: str) -> list[str | None]:
    """Each analysed stream generated and reformatted into text by one run of ``tail``."""
    generated = _shell(tail, "".join(stream + "\0" for stream in streams))
    parts = generated.split("\0") if generated is not None else []
    if len(parts) < len(streams) or any(parts[len(streams):]):
        return [None] * len(streams)
    return [_shell("apertium-retxt", part) for part in parts[:len(streams)]]


def _lines(text: str | None, expected: int) -> list[str] | None:
    out = text.split("\n") if text is not None else []
    if out and out[-1] == "":
        out.pop()
    return out if len(out) == expected else None


def translate_batches(batches: Sequence[Sequence[str]], modes: Sequence[str], workers: int = 1,
                      on_progress: Callable[[int, int], None] | None = None) -> list[list[str]]:
    """``[run_chain(batch, modes) for batch in batches]`` (see module doc)."""
    splits = [split_mode(mode) for mode in modes]
    total = sum(len(batch) for batch in batches)
    workers = max(1, workers)
    reported = [-1]

    def report(done: int, total: int) -> None:
        if on_progress is not None and done != reported[0]:
            reported[0] = done
            on_progress(done, total)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        if not batches or None in splits:
            answers = list(pool.map(lambda batch: run_chain(batch, modes), batches))
            report(total, total)
            return answers
        texts: list[str | None] = ["\n".join(batch) + "\n" for batch in batches]
        work = 0
        for head, tail in splits:
            streams: list[str | None] = [None] * len(batches)
            futures = {pool.submit(_shell, head, text): i for i, text in enumerate(texts) if text is not None}
            for future in as_completed(futures):
                streams[futures[future]] = future.result()
                work += len(batches[futures[future]])
                report(work // len(modes), total)
            live = [i for i, stream in enumerate(streams) if stream is not None]
            groups = [live[i::workers] for i in range(workers) if live[i::workers]]
            texts = [None] * len(batches)
            for group, generated in zip(groups, pool.map(
                    lambda group: _generate([streams[i] for i in group], tail), groups)):
                for i, text in zip(group, generated):
                    texts[i] = text
        answers = [_lines(text, len(batch)) for text, batch in zip(texts, batches)]
        redo = [i for i, answer in enumerate(answers) if answer is None]
        for i, answer in zip(redo, pool.map(lambda i: run_chain(batches[i], modes), redo)):
            answers[i] = answer
    report(total, total)
    return answers
