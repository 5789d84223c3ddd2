"""Moderators' decisions as training rows for ``train.py``. Pure.

One JSON object per line::

    {"body": "...", "label": "spam"|"ham", "language": "fr", "site": "journal",
     "decided_at": "2026-01-02T10:00:00.000Z", "model_score": 0.42, "source": "moderator"}

- a comment counts once, with its latest moderator decision, and only while
  its status is still the one that decision set (erased comments never);
- ``approve`` gives ``ham``, ``spam`` gives ``spam``; ``reject`` gives no row:
  a comment rejected for tone or topic says nothing about spam;
- ``model_score`` is the score the model gave when the moderator decided
  (None when the comment was unscored); ``decided_at`` is that decision's time;
- nothing identifies the commenter: no name, e-mail, IP or user agent;
- ``source`` says who labelled: ``moderator`` (a decision here) or ``akismet``
  (a site's submit-spam / submit-ham: ``decided_at`` is when it was sent, the
  latest per text and site, and ``model_score`` is None).

``moderation.training.readers.read_labelled`` reads the file (format
``jsonl``; it ignores ``decided_at``, ``model_score`` and ``source``).
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator

from .decisions import label_for_status
from ..domain import iso

ROW_FIELDS = ("body", "label", "language", "site", "decided_at", "model_score", "source")


def parse_since(text: str) -> float:
    """``2026-01-31`` (midnight UTC) or an ISO date-time (UTC unless it says
    otherwise) as Unix seconds; ``ValueError`` otherwise."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()


def label_row(*, body: str, status: str, language: str, site: str, decided_at: float,
              model_score: float | None) -> dict | None:
    """The training row of one decided comment, or None when it gives no label."""
    label = label_for_status(status)
    if label is None or not body.strip():
        return None
    return {"body": body, "label": label, "language": language, "site": site,
            "decided_at": iso(decided_at),
            "model_score": None if model_score is None else round(model_score, 4),
            "source": "moderator"}


def label_rows(decided: Iterable) -> Iterator[dict]:
    """Rows for the store's :class:`~moderation.store.base.DecidedComment` records."""
    for item in decided:
        row = label_row(body=item.body, status=item.status, language=item.language,
                        site=item.site, decided_at=item.decided_at, model_score=item.model_score)
        if row is not None:
            yield row


def site_label_rows(labels: Iterable) -> Iterator[dict]:
    """Rows for the store's :class:`~moderation.store.base.TrainingLabel` records
    (labels sites sent through the Akismet API)."""
    for item in labels:
        if item.label in ("spam", "ham") and item.body.strip():
            yield {"body": item.body, "label": item.label, "language": item.language,
                   "site": item.site, "decided_at": iso(item.created_at), "model_score": None,
                   "source": item.source}


def jsonl_line(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
