"""What sites get: labelled comments posted through ``POST /v1/comments`` to a real server.

    .venv/bin/python bench/sites.py --post FILE:LANG [--post FILE:LANG ...]
                                    [--models DIR] [--workers N] [--concurrency 32]

Starts ``moderation serve`` on a free port with a fresh SQLite database and the
model in ``--models`` (default: the shipped one), creates one ``--mode auto``
site per language named in ``--post``, and posts every row of each labelled
file (``train.py``'s formats: csv, jsonl, YouTube, SMS) to the site of its
language, each from its own author and address. Rate limits, the duplicate
check and the audit sample are off: this measures the model's decisions as a
site sees them. Prints, per file and label, the share published, sent to review
and held as spam, and the languages the service detected.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.run import cli, free_port, wait_for_port  # noqa: E402
from moderation.training.readers import data_files, read_labelled  # noqa: E402


FIRST_NAMES = ("Anne", "Bernard", "Claire", "David", "Emma", "Fatima", "Gilles", "Hélène", "Ian", "Julie",
               "Karim", "Laura", "Marc", "Nadia", "Olivier", "Paul", "Rachel", "Sophie", "Thomas", "Yann")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Smith", "Leroy", "Moreau", "Brown", "Garcia", "Lefebvre",
              "Wilson", "Roux", "Fournier", "Taylor", "Girard", "Morel", "Evans", "Mercier", "Blanc")
"""Readers get plain names, or with --numbered-names pseudonyms such as ``Lecteur17``."""


def reader_name(index: int, numbered: bool = False) -> str:
    if numbered:
        return f"Lecteur{index}"
    return f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[index // len(FIRST_NAMES) % len(LAST_NAMES)]}"


def _target(text: str) -> tuple[Path, str]:
    path, _, language = text.rpartition(":")
    if not path or not language:
        raise argparse.ArgumentTypeError(f"expected FILE:LANG, got {text!r}")
    return Path(path), language


async def post_all(base: str, key: str, rows, concurrency: int, tag: str, numbered: bool) -> list[dict]:
    answers: list[dict] = [{}] * len(rows)
    queue = list(enumerate(rows))

    async def worker(session: aiohttp.ClientSession) -> None:
        while queue:
            index, row = queue.pop()
            payload = {"thread": {"id": f"{tag}-{index % 50}", "url": f"https://site.example/{tag}/{index % 50}",
                                  "title": "Article"},
                       "author": {"name": row.author_name or reader_name(index, numbered),
                                  "email": f"reader{index}@{tag}.example.org"},
                       "body": row.body[:5000],
                       "client": {"ip": f"198.{18 + index // 65536 % 2}.{index // 256 % 256}.{index % 256}"}}
            async with session.post(f"{base}/v1/comments", json=payload) as response:
                answer = await response.json()
                if response.status >= 400:
                    answer = {"status": f"error {response.status}", "language": "", "reasons": []}
                answers[index] = answer

    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return answers


def report(name: str, rows, answers) -> list[str]:
    lines = []
    for label_name, label in (("ham", 0), ("spam", 1)):
        mine = [a for a, row in zip(answers, rows) if row.label == label]
        if not mine:
            continue
        statuses = Counter(a["status"] for a in mine)
        share = {status: statuses.get(status, 0) / len(mine) for status in ("published", "pending", "spam")}
        errors = sum(count for status, count in statuses.items() if status.startswith("error"))
        languages = ", ".join(f"{lang} {n}" for lang, n in Counter(a["language"] for a in mine).most_common(3))
        lines.append(f"| {name} | {label_name} | {len(mine)} | {share['published']:.1%} | {share['pending']:.1%} | "
                     f"{share['spam']:.2%} | {errors} | {languages} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--post", type=_target, action="append", required=True, metavar="FILE:LANG")
    parser.add_argument("--models", type=Path, default=HERE.parent / "models")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--numbered-names", action="store_true", help="sign comments Lecteur1, Lecteur2...")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="moderation-sites-"))
    env = dict(os.environ, MODERATION_DATABASE_URL=f"sqlite:///{workdir / 'sites.db'}",
               MODERATION_MODEL_DIR=str(args.models.resolve()),
               MODERATION_RATE_LIMIT_PER_IP="0", MODERATION_RATE_LIMIT_PER_EMAIL="0",
               MODERATION_DUPLICATE_WINDOW_SECONDS="0", MODERATION_AUDIT_SHARE="0",
               # a corpus replayed in minutes would make every thread surge: the model alone is measured
               MODERATION_SURGE_FACTOR="0",
               MODERATION_LOG_LEVEL="WARNING")
    cli(env, "init")   # the CLI creates a database only on init (or serve)
    keys = {}
    for _, language in args.post:
        if language not in keys:
            keys[language] = cli(env, "site", "add", "--name", f"site-{language}", "--url",
                                 f"https://{language}.site.example", "--lang", language, "--mode", "auto")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moderation", "serve", "--port", str(port),
                               "--workers", str(args.workers)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines = []
    try:
        wait_for_port(port, server)
        base = f"http://127.0.0.1:{port}"
        for number, (path, language) in enumerate(args.post):
            rows = [row for file, fmt in data_files([path]) for row in read_labelled(file, fmt).rows]
            started = time.monotonic()
            answers = asyncio.run(post_all(base, keys[language], rows, args.concurrency, f"f{number}",
                                           args.numbered_names))
            elapsed = time.monotonic() - started
            print(f"{path.name} -> site-{language}: {len(rows)} comments in {elapsed:.1f} s", file=sys.stderr)
            lines += report(f"{path.name} (site {language})", rows, answers)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    model = (args.models / "CURRENT").read_text().strip()
    print(f"model {model}; sites in mode auto; audit sample, rate limits and duplicate check off")
    print("| data | label | n | published | review | held as spam | errors | languages detected |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
