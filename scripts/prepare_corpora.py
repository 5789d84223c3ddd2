"""Turn the public news-comment corpora into the JSON lines ``train.py`` reads.

The corpora are not in this repository (see the README's "Retraining"
section for their licences and citations). Clone them, then point this script
at the raw files; it writes ``OUT/train/*.jsonl`` (licences that allow a
shipped model) and ``OUT/eval/*.jsonl`` (evaluation only), one object per
line: ``{"body", "label": "ham", "language", "site", "thread"}``::

    git clone https://github.com/ipavlopoulos/toxic_spans
    git clone https://github.com/regardscitoyens/consultation_an
    git clone https://github.com/conversationai/unhealthy-conversations
    git clone https://github.com/OpenSourcePolitics/datathon-grand-debat
    python scripts/prepare_corpora.py --out corpora \\
        --civil-comments toxic_spans/data/comments.csv \\
        --an-consultation consultation_an/exploitation/text-analysis/contributions.csv \\
        --ucc unhealthy-conversations/corpus/test.csv unhealthy-conversations/corpus/val.csv \\
        --decidim "datathon-grand-debat/data brute"

Every row is labelled ham: these are real readers' and citizens' posts, rude
ones included (the Civil Comments sample holds posts raters found toxic;
rude is not spam). The output is deterministic: the same inputs give the same
files, whatever the machine.

- ``train/civil_comments.jsonl``: the first 5,000 distinct comments of the
  Toxic Spans sample of Civil Comments (CC0), English; each its own thread.
- ``train/fr_an_consultation.jsonl``: the contributions to the Assemblée
  nationale's 2016 consultation (Licence Ouverte, republished under ODbL) of
  at least 20 characters, French; the consultation's theme is the thread.
- ``eval/ucc_globe_and_mail.jsonl``: every comment of the Unhealthy Comment
  Corpus test and validation files (Globe and Mail readers; CC BY-NC-SA 4.0,
  so evaluation only), English, healthy or not.
- ``eval/fr_decidim_grand_debat.jsonl``: the comments and free proposals of
  the Lille and Nancy Grand Débat Decidim platforms (GPL-3.0, evaluation
  only), French; the debate or proposal commented on is the thread.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

CIVIL_COMMENTS_ROWS = 5000
MIN_CONTRIBUTION_CHARS = 20


def civil_comments(path: Path) -> list[dict]:
    rows, seen = [], set()
    with open(path, newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            body = record["comment_text"].strip()
            if body and body not in seen:
                seen.add(body)
                rows.append(ham(body, "en", "civil-comments", f"cc-{record['comment_id']}"))
            if len(rows) == CIVIL_COMMENTS_ROWS:
                break
    return rows


def an_consultation(path: Path) -> list[dict]:
    rows, seen = [], set()
    with open(path, newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            body = record["text"].strip()
            if len(body) >= MIN_CONTRIBUTION_CHARS and body not in seen:
                seen.add(body)
                rows.append(ham(body, "fr", "fr_an_consultation", record["theme"]))
    return rows


def ucc(paths: list[Path]) -> list[dict]:
    rows = []
    for path in paths:
        with open(path, newline="", encoding="utf-8") as handle:
            for record in csv.DictReader(handle):
                body = record["comment"].strip()
                if body:
                    rows.append(ham(body, "en", "globe-and-mail", f"ucc-{record['_unit_id']}"))
    return rows


def decidim(folder: Path) -> list[dict]:
    rows = []
    for name in ("commentaires_debats.csv", "commentaires_propositions_libres.csv"):
        with open(folder / name, newline="", encoding="utf-8") as handle:
            for record in csv.DictReader(handle, delimiter=";"):
                body = record["body"].strip()
                if body:
                    site = urlsplit(record.get("root_commentable_url") or "").hostname or "decidim"
                    rows.append(ham(body, "fr", site, f"{record['commentable_type']}-{record['commentable_id']}"))
    with open(folder / "propositions-libres.csv", newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle, delimiter=";"):
            body = record["body"].strip()
            if body:
                rows.append(ham(body, "fr", "decidim-propositions", f"proposal-{record['id']}"))
    return rows


def ham(body: str, language: str, site: str, thread: str) -> dict:
    return {"body": body, "label": "ham", "language": language, "site": site, "thread": thread}


def write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{path}: {len(rows)} rows")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("corpora"))
    parser.add_argument("--civil-comments", type=Path, help="toxic_spans/data/comments.csv")
    parser.add_argument("--an-consultation", type=Path,
                        help="consultation_an/exploitation/text-analysis/contributions.csv")
    parser.add_argument("--ucc", type=Path, nargs="+", help="unhealthy-conversations/corpus/{test,val}.csv")
    parser.add_argument("--decidim", type=Path, help='the "data brute" folder of datathon-grand-debat')
    args = parser.parse_args(argv)
    jobs = [(args.civil_comments, civil_comments, "train/civil_comments.jsonl"),
            (args.an_consultation, an_consultation, "train/fr_an_consultation.jsonl"),
            (args.ucc, ucc, "eval/ucc_globe_and_mail.jsonl"),
            (args.decidim, decidim, "eval/fr_decidim_grand_debat.jsonl")]
    if not any(source for source, _, _ in jobs):
        parser.error("give at least one corpus")
    for source, read, name in jobs:
        if source:
            write(args.out / name, read(source))
    return 0


if __name__ == "__main__":
    sys.exit(main())
