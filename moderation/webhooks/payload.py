"""The JSON body of a webhook delivery. Pure.

::

    {"event": "comment.published", "occurred_at": "2026-01-02T10:00:00.000Z",
     "site": "journal",
     "comment": {"id": 17, "thread": "article-1", "thread_url": "https://...",
                 "parent_id": null, "status": "published", "reasons": ["model_ham"],
                 "spam_score": 0.03, "language": "en", "author_name": "Jean",
                 "body": "...", "created_at": "...", "erased": false}}

``status`` is the status the event is about (the comment may have moved on
since: later events follow). The author's name and the text are included, so
a site can show a published comment, or take a rejected one down, without
another request; after an erasure they are ``[erased]`` and empty. The spam
score and reasons are the service's judgement, which the site already gets
when it submits. Never included: e-mail, IP address or prefix, user agent,
referrer, moderators' names and notes.

A ``model.drift`` event (a site's drift episode started: see
:mod:`moderation.services.drift_monitor`) carries ``drift`` instead of
``comment``: aggregates only, never a comment or an address::

    {"event": "model.drift", "occurred_at": "...", "site": "journal",
     "drift": {"episode": 3, "started_at": "...", "ended_at": null,
               "reference": "traffic", "model_version": "spam-svm-...",
               "threshold": 0.25, "score_psi": 0.61, "language_psi": 0.02,
               "comments": 240, "reference_comments": 1510}}
"""
from __future__ import annotations

import json
from typing import Any

from ..domain import iso
from ..store.base import Delivery, DriftEpisode

COMMENT_FIELDS = ("id", "thread", "thread_url", "parent_id", "status", "reasons", "spam_score",
                  "language", "author_name", "body", "created_at", "erased")


def _psi(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def drift_view(episode: DriftEpisode) -> dict[str, Any]:
    return {"episode": episode.id, "started_at": iso(episode.started_at),
            "ended_at": iso(episode.ended_at), "reference": episode.reference,
            "model_version": episode.model_version, "threshold": episode.threshold,
            "score_psi": _psi(episode.score_psi), "language_psi": _psi(episode.language_psi),
            "comments": episode.comments, "reference_comments": episode.reference_comments}


def delivery_payload(delivery: Delivery) -> dict[str, Any]:
    if delivery.drift is not None:
        return {"event": delivery.event, "occurred_at": iso(delivery.occurred_at),
                "site": delivery.site, "drift": drift_view(delivery.drift)}
    comment = delivery.comment
    view: dict[str, Any] | None = None
    if comment is not None:
        view = {
            "id": comment.id, "thread": comment.thread_id, "thread_url": comment.thread_url,
            "parent_id": comment.parent_id, "status": delivery.status,
            "reasons": list(comment.reasons),
            "spam_score": None if comment.spam_score is None else round(comment.spam_score, 4),
            "language": comment.language, "author_name": comment.author_name,
            "body": comment.body, "created_at": iso(comment.created_at),
            "erased": comment.erased_at is not None,
        }
        view = {name: view[name] for name in COMMENT_FIELDS}
    return {"event": delivery.event, "occurred_at": iso(delivery.occurred_at),
            "site": delivery.site, "comment": view}


def delivery_body(delivery: Delivery) -> bytes:
    return json.dumps(delivery_payload(delivery), ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")
