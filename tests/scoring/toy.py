"""A small, deterministic, synthetic labelled corpus for tests (never the shipped model).

Spam is self-promotion with links, phone numbers and e-mail addresses; ham is
ordinary talk about a video or an article. Three "sites" give group hold-out.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from moderation.scoring.features import ScoringInput

SITES = ("site-a", "site-b", "site-c")

_SPAM = (
    "Check out my channel {url} and subscribe!!! {filler}",
    "WIN a FREE iPhone now, visit {url} {filler}",
    "Call {phone} today to claim your cash prize {filler}",
    "Make money fast from home, write to {email} {filler}",
    "Subscribe to my channel please, new videos every day {url} {filler}",
    "Cheap followers and likes at {url}, best price guaranteed {filler}",
)
_HAM = (
    "I love this song, it reminds me of the summer of {year} {filler}",
    "The dancing at {minute}:{second} is hilarious {filler}",
    "Thanks for the clear analysis, the part about the council budget was new to me {filler}",
    "I disagree with the conclusion, the numbers from {year} tell another story {filler}",
    "My kids watch this every morning before school {filler}",
    "Beautiful photos of the old harbour, I walked there in {year} {filler}",
)
_FILLERS = (
    "honestly", "really", "today", "again", "for sure", "anyway", "by the way",
    "as always", "no doubt", "in my opinion", "to be fair", "so far",
)


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        url=f"http://www.promo{rng.randint(1, 999)}.com/{rng.choice('abcdef')}{rng.randint(1, 99)}",
        phone=f"0800 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        email=f"deals{rng.randint(1, 999)}@example.com",
        year=rng.randint(1990, 2020),
        minute=rng.randint(0, 4),
        second=f"{rng.randint(0, 59):02d}",
        filler=" ".join(rng.sample(_FILLERS, 2)),
    )


def toy_rows(per_site: int = 40, seed: int = 7) -> list[dict]:
    """``per_site`` rows per site, half spam, as dicts in the generic JSONL shape."""
    rng = random.Random(seed)
    rows = []
    for site in SITES:
        for index in range(per_site):
            spam = index % 2 == 0
            template = rng.choice(_SPAM if spam else _HAM)
            rows.append(
                {
                    "body": _fill(template, rng),
                    "label": "spam" if spam else "ham",
                    "author_name": f"user{rng.randint(1, 99)}" if spam else rng.choice(["Anna", "Marc", "Lea"]),
                    "language": "en",
                    "site": site,
                }
            )
    return rows


def toy_inputs(per_site: int = 40, seed: int = 7) -> tuple[list[ScoringInput], list[int], list[str]]:
    """``(inputs, labels, groups)`` of ``toy_rows`` ready for the pipeline."""
    rows = toy_rows(per_site, seed)
    inputs = [ScoringInput(r["body"], r["author_name"], "", r["language"]) for r in rows]
    return inputs, [int(r["label"] == "spam") for r in rows], [r["site"] for r in rows]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path
