"""The moderators' side of the JSON API: the review queue, one comment in
full, decisions, stats.

Every endpoint needs a moderator token (401 otherwise; a site key is not one)
and answers 403 for a site outside the moderator's. Handlers parse and answer;
the use cases are :class:`moderation.services.review.ReviewDesk`'s, whose
domain errors the error middleware turns into 400 / 403 / 404 / 409.
"""
from __future__ import annotations

import time
from collections import Counter

from aiohttp import web

from ..jsonanswer import json_response
from ..errors import ApiError, FieldError, validation_failed
from ..jsonbody import parse_json
from ..keys import REVIEW, SETTINGS
from ..review.decisions import DecisionIn, parse_decision
from ..review.queue import parse_queue_query
from ..review.stats import DEFAULT_DAYS, MAX_DAYS
from ..review.surge_views import surge_badge
from ..records import review as records
from ..records import to_json
from ..review.views import decided_view, queue_record
from ..validation import ValidationFailed
from .auth import require_moderator
from .comments import read_json_body
from ..edge import path_id
from .common import int_param

STATS_PARAMETERS = ("site", "days")


async def read_json_object(request: web.Request) -> dict:
    """The request body as a JSON object (415 / 413 / 400 otherwise)."""
    payload = parse_json(await read_json_body(request))
    if not isinstance(payload, dict):
        raise ApiError(400, "not_an_object")
    return payload


async def review_queue(request: web.Request) -> web.Response:
    """``{"items": [...], "counts": {"pending": n, "spam": m}, "next": cursor|null}``."""
    moderator = await require_moderator(request)
    now = time.time()
    repeats = Counter(name for name, _ in request.query.items())
    page = await request.app[REVIEW].queue(
        moderator, parse_queue_query(request.query, now, counts=repeats), now)
    return json_response(to_json(records.QueuePage(
        items=[queue_record(r.comment, page.sites[r.comment.site_id].name, now=now,
                            surge=surge_badge(page.surges.get((r.comment.site_id, r.comment.thread_id))))
               for r in page.rows],
        counts=records.QueueCounts(**page.counts), order=page.order, next=page.next)))


async def review_comment(request: web.Request) -> web.Response:
    moderator = await require_moderator(request)
    desk = request.app[REVIEW]
    comment = await desk.comment(moderator, path_id(request, "comment_id"))
    return json_response(await desk.detail(comment, time.time()))


async def _decision_body(request: web.Request, *, bulk: bool) -> DecisionIn:
    payload = await read_json_object(request)
    try:
        return parse_decision(payload, bulk=bulk)
    except ValidationFailed as failed:
        raise validation_failed(failed.errors) from None


async def decide(request: web.Request) -> web.Response:
    """200 with the new status and audit event; 409 when another decision came first."""
    moderator = await require_moderator(request)
    desk = request.app[REVIEW]
    comment = await desk.comment(moderator, path_id(request, "comment_id"))
    decision = await _decision_body(request, bulk=False)
    return json_response(decided_view(await desk.decide(moderator, comment, decision, time.time())))


async def decide_bulk(request: web.Request) -> web.Response:
    """200 with one result per id, in the order given: ``decided``, ``conflict``
    (with ``current``), ``not_found`` or ``forbidden``. Not all-or-nothing."""
    moderator = await require_moderator(request)
    decision = await _decision_body(request, bulk=True)
    return json_response(await request.app[REVIEW].decide_many(moderator, decision, time.time()))


async def review_stats(request: web.Request) -> web.Response:
    """Queue depth per site, age of the oldest pending comment, decisions per
    UTC day over ``days`` (default 30), how often moderators overrule the model,
    and the error rates measured on the audit sample per site and language."""
    moderator = await require_moderator(request)
    unknown = [FieldError(k, "unknown_field") for k in request.query if k not in STATS_PARAMETERS]
    if unknown:
        raise ApiError(400, "invalid_parameter", fields=unknown)
    days = int_param(request, "days", DEFAULT_DAYS, 1, MAX_DAYS)
    return json_response(await request.app[REVIEW].stats(
        moderator, request.query.get("site"), days, time.time(),
        audit_share=request.app[SETTINGS].audit_share))
