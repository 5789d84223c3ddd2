"""The moderators' side: the review queue, one comment in full, decisions, stats.

Every endpoint needs a moderator token (401 otherwise; a site key is not one)
and answers 403 for a site outside the moderator's. The work is done by the
pure modules of ``moderation.review`` and the store; handlers only glue.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace

from aiohttp import web

from ..jsonanswer import json_response
from ..domain import Comment, Moderator, Role, Site
from ..errors import ApiError, FieldError, not_found, validation_failed
from ..jsonbody import parse_json
from ..keys import EXECUTOR, MODELS, SETTINGS, STORE
from ..policy import Bands, site_bands
from ..review.decisions import DecisionIn, parse_decision
from ..review.explanations import (FEATURES_TOP, RAW_TOP, READABLE_TOP, readable_explanation,
                                   signal_measures)
from ..review.queue import NO_MODEL_BANDS, Order, QueueQuery, encode_cursor, parse_queue_query
from ..review.stats import DEFAULT_DAYS, MAX_DAYS, SPAM_LEANING_AT, stats_answer
from ..review.views import comment_detail, current_view, decided_view, queue_item
from ..review.surge_views import active_by_thread, comment_surge_explanation, surge_badge, surge_view
from ..scoring.features import ScoringInput
from ..store.base import CONFLICT, DECIDED, NOT_FOUND, DecisionOutcome, DecisionRequest, QueueRow
from ..validation import ValidationFailed
from .auth import require_moderator
from .comments import read_json_body
from .common import int_param, path_id

log = logging.getLogger(__name__)

EXPLAIN_TOP = FEATURES_TOP
STATS_PARAMETERS = ("site", "days")


# -- helpers shared with the privacy endpoints
async def read_json_object(request: web.Request) -> dict:
    """The request body as a JSON object (415 / 413 / 400 otherwise)."""
    payload = parse_json(await read_json_body(request))
    if not isinstance(payload, dict):
        raise ApiError(400, "not_an_object")
    return payload


def visible_site_ids(moderator: Moderator) -> tuple[int, ...] | None:
    """The sites a moderator sees; None: every site."""
    if moderator.role is Role.ADMIN or not moderator.site_ids:
        return None
    return moderator.site_ids


async def _sites(request: web.Request) -> dict[int, Site]:
    return {s.id: s for s in await request.app[STORE].list_sites()}


async def _site_filter(request: web.Request, moderator: Moderator, name: str | None,
                       sites: dict[int, Site]) -> tuple[int, ...] | None:
    """The site ids a request looks at: the named site (400 unknown, 403 not
    the moderator's), else every site the moderator sees."""
    if name is None:
        return visible_site_ids(moderator)
    site = next((s for s in sites.values() if s.name == name), None)
    if site is None:
        raise ApiError(400, "invalid_parameter", fields=[FieldError("site", "invalid_value")])
    await require_moderator(request, site_id=site.id)
    return (site.id,)


def model_bands(request: web.Request, language: str | None = None) -> Bands | None:
    """The current model's thresholds for ``language`` (its default ones for None)."""
    bundle = request.app[MODELS].bundle
    if bundle is None:
        return None
    thresholds = bundle.thresholds if language is None else bundle.thresholds_for(language)
    return Bands(thresholds.approve_below, thresholds.reject_above)


# -- queue
@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the queue as the store gave it, with what shapes it."""

    rows: list[QueueRow]
    sites: dict[int, Site]
    counts: dict[str, int]
    order: Order
    next: str | None
    surges: dict = field(default_factory=dict)   # (site id, thread id) -> its surge, when on now


async def load_queue(request: web.Request, moderator: Moderator, query: QueueQuery,
                     now: float) -> QueuePage:
    """The page of the queue *query* asks for, within the moderator's sites
    (400 for an unknown site name, 403 for one not theirs)."""
    sites = await _sites(request)
    query_filter = replace(query.filter,
                           site_ids=await _site_filter(request, moderator, query.site, sites))
    store = request.app[STORE]
    rows = await store.review_queue(query_filter, order=query.order, after=query.after,
                                    limit=query.limit + 1,
                                    model_bands=model_bands(request) or NO_MODEL_BANDS)
    page = rows[:query.limit]
    last = page[-1] if page else None
    surges = {} if not page else active_by_thread(await store.active_surges(
        now=now, site_ids=sorted({r.comment.site_id for r in page}),
        thread_ids=[r.comment.thread_id for r in page]))
    return QueuePage(
        rows=page, sites=sites, counts=await store.queue_counts(query_filter), order=query.order,
        next=(encode_cursor(query.order, last.sort_key, last.comment.id)
              if last is not None and len(rows) > query.limit else None), surges=surges)


async def review_queue(request: web.Request) -> web.Response:
    """``{"items": [...], "counts": {"pending": n, "spam": m}, "next": cursor|null}``."""
    moderator = await require_moderator(request)
    now = time.time()
    repeats = Counter(name for name, _ in request.query.items())
    page = await load_queue(request, moderator, parse_queue_query(request.query, now, counts=repeats),
                            now)
    return json_response({
        "items": [{**queue_item(r.comment, page.sites[r.comment.site_id].name, now=now),
                   "surge": surge_badge(page.surges.get((r.comment.site_id, r.comment.thread_id)))}
                  for r in page.rows],
        "counts": page.counts,
        "order": page.order.value,
        "next": page.next,
    })


# -- one comment
def thresholds_in_effect(site: Site, model: Bands | None) -> tuple[Bands | None, str]:
    """The thresholds a site's comments are judged by, and where they come
    from: ``site`` when it overrides either, else ``model`` (None: no model)."""
    if site.approve_below is not None or site.reject_above is not None:
        return site_bands(site, model or NO_MODEL_BANDS), "site"
    return model, "model"


def _explain_each(bundle, items: list[ScoringInput], top: int,
                  readable_top: int) -> list[tuple[list[dict], list[dict]] | None]:
    """In the executor: each item's ``(features, readable)``, None where
    explaining failed. The model is asked for ``RAW_TOP`` features: several
    n-grams of one word make one reason in words."""
    answers: list[tuple[list[dict], list[dict]] | None] = []
    for item in items:
        try:
            raw = bundle.explain(item, max(top, RAW_TOP))
        except Exception:   # an explanation is a help, never a reason to fail the page
            log.exception("explaining a comment with model %s failed", bundle.version)
            answers.append(None)
            continue
        try:
            readable = readable_explanation(raw, item.body, item.language, readable_top,
                                            signals=signal_measures(bundle.pipeline, item))
        except Exception:
            log.exception("putting the explanation of model %s in words failed", bundle.version)
            readable = []
        answers.append((raw[:top], readable))
    return answers


async def explain_comments(request: web.Request, comments: list[Comment], top: int = EXPLAIN_TOP,
                           readable_top: int = READABLE_TOP) -> dict[int, dict]:
    """Per comment id, what pushed its score most, from the model in service
    now (which may not be the one that scored it: ``same_model`` says), in one
    trip to the executor: ``readable``, at most ``readable_top`` reasons in
    French and English (``review.explanations``), and ``features``, the
    model's own ``top`` features with their weights, for experts."""
    bundle = request.app[MODELS].bundle
    answers = {c.id: {"model_version": None if bundle is None else bundle.version,
                      "comment_model_version": c.model_version,
                      "same_model": bundle is not None and bundle.version == c.model_version,
                      "readable": [], "features": []} for c in comments}
    wanted = [c for c in comments if c.erased_at is None] if bundle is not None else []
    if not wanted:
        return answers
    items = [ScoringInput(body=c.body, author_name=c.author_name, author_email=c.author_email,
                          language=c.language) for c in wanted]
    explained = await asyncio.get_running_loop().run_in_executor(
        request.app[EXECUTOR], _explain_each, bundle, items, top, readable_top)
    for comment, found in zip(wanted, explained):
        if found is not None:
            answers[comment.id]["features"], answers[comment.id]["readable"] = found
    return answers


async def comment_in_scope(request: web.Request) -> Comment:
    """The comment named in the path: 404 unknown, 403 outside the moderator's sites."""
    comment = await request.app[STORE].get_comment(path_id(request, "comment_id"))
    if comment is None:
        raise not_found()
    await require_moderator(request, site_id=comment.site_id)
    return comment


async def load_comment_detail(request: web.Request, comment: Comment) -> dict:
    """Everything a moderator needs to decide on one comment (the body of
    ``GET /v1/review/comments/{id}``)."""
    store = request.app[STORE]
    site = (await _sites(request))[comment.site_id]
    parent = await store.get_comment(comment.parent_id) if comment.parent_id else None
    in_effect, source = thresholds_in_effect(site, model_bands(request, site.lang))
    explanation = (await explain_comments(request, [comment]))[comment.id]
    now = time.time()
    # Surge mode: the thread's surges (its history: when each began and ended), the
    # one on now (the badge), and why the comment waits when it was held for one.
    surges = await store.thread_surges(comment.site_id, comment.thread_id)
    explanation["surge"] = comment_surge_explanation(comment, surges, now=now)
    detail = comment_detail(
        comment, site=site.name, parent=parent, bands=in_effect, bands_source=source,
        explanation=explanation, history=await store.audit_trail(comment.id), now=now)
    detail["surge"] = surge_badge(next((s for s in surges if s.active(now)), None))
    detail["surges"] = [surge_view(s, now=now) for s in surges]
    return detail


async def review_comment(request: web.Request) -> web.Response:
    comment = await comment_in_scope(request)
    return json_response(await load_comment_detail(request, comment))


# -- decisions
async def _decision_body(request: web.Request, *, bulk: bool) -> DecisionIn:
    payload = await read_json_object(request)
    try:
        return parse_decision(payload, bulk=bulk)
    except ValidationFailed as failed:
        raise validation_failed(failed.errors) from None


def _request(moderator: Moderator, decision: DecisionIn, comment_id: int) -> DecisionRequest:
    return DecisionRequest(comment_id=comment_id, expected_status=decision.expected_status.value,
                           new_status=decision.new_status.value, actor=moderator.name,
                           action=decision.action.value, reason=decision.reason, note=decision.note)


def conflict(outcome: DecisionOutcome) -> ApiError:
    """409 ``conflict``: the comment was no longer in the expected status; the
    error object carries ``current``, its state now."""
    return ApiError(409, "conflict", current_status=outcome.status,
                    fields=[FieldError("expected_status", "status_changed")],
                    extra={"current": current_view(outcome)})


async def decide_one(request: web.Request, moderator: Moderator, comment: Comment,
                     decision: DecisionIn) -> DecisionOutcome:
    """Apply one decision on a comment in the moderator's scope."""
    [outcome] = await request.app[STORE].apply_decisions(
        [_request(moderator, decision, comment.id)], now=time.time())
    return outcome


async def decide(request: web.Request) -> web.Response:
    """200 with the new status and audit event; 409 when another decision came first."""
    moderator = await require_moderator(request)
    comment = await comment_in_scope(request)
    outcome = await decide_one(request, moderator, comment, await _decision_body(request, bulk=False))
    if outcome.outcome == NOT_FOUND:
        raise not_found()
    if outcome.outcome == CONFLICT:
        raise conflict(outcome)
    return json_response(decided_view(outcome))


async def decide_many(request: web.Request, moderator: Moderator, decision: DecisionIn) -> dict:
    """The bulk answer: one result per id, in the order given, and a summary."""
    store = request.app[STORE]
    comments = await store.get_comments(list(decision.ids))
    results: dict[int, dict] = {}
    allowed = []
    for comment_id in decision.ids:
        comment = comments.get(comment_id)
        if comment is None:
            results[comment_id] = {"id": comment_id, "outcome": NOT_FOUND}
        elif not moderator.may_moderate(comment.site_id):
            results[comment_id] = {"id": comment_id, "outcome": "forbidden"}
        else:
            allowed.append(_request(moderator, decision, comment_id))
    for outcome in await store.apply_decisions(allowed, now=time.time()) if allowed else []:
        if outcome.outcome == DECIDED:
            results[outcome.comment_id] = decided_view(outcome)
        elif outcome.outcome == CONFLICT:
            results[outcome.comment_id] = {"id": outcome.comment_id, "outcome": CONFLICT,
                                           "current": current_view(outcome)}
        else:
            results[outcome.comment_id] = {"id": outcome.comment_id, "outcome": NOT_FOUND}
    ordered = [results[i] for i in decision.ids]
    summary = dict.fromkeys((DECIDED, CONFLICT, NOT_FOUND, "forbidden"), 0)
    summary.update(Counter(r["outcome"] for r in ordered))
    return {"action": decision.action.value, "results": ordered, "summary": summary}


async def decide_bulk(request: web.Request) -> web.Response:
    """200 with one result per id, in the order given: ``decided``, ``conflict``
    (with ``current``), ``not_found`` or ``forbidden``. Not all-or-nothing."""
    moderator = await require_moderator(request)
    decision = await _decision_body(request, bulk=True)
    return json_response(await decide_many(request, moderator, decision))


# -- stats
async def review_stats(request: web.Request) -> web.Response:
    """Queue depth per site, age of the oldest pending comment, decisions per
    UTC day over ``days`` (default 30), how often moderators overrule the model,
    and the error rates measured on the audit sample per site and language."""
    moderator = await require_moderator(request)
    unknown = [FieldError(k, "unknown_field") for k in request.query if k not in STATS_PARAMETERS]
    if unknown:
        raise ApiError(400, "invalid_parameter", fields=unknown)
    days = int_param(request, "days", DEFAULT_DAYS, 1, MAX_DAYS)
    site_ids = await _site_filter(request, moderator, request.query.get("site"), await _sites(request))
    now = time.time()
    first_day_start = (int(now // 86400) - (days - 1)) * 86400
    store = request.app[STORE]
    depth = await store.queue_depth(None if site_ids is None else list(site_ids))
    per_day = await store.decision_days(None if site_ids is None else list(site_ids),
                                        since=first_day_start, spam_leaning_at=SPAM_LEANING_AT)
    audits = await store.audit_counts(None if site_ids is None else list(site_ids),
                                      since=first_day_start)
    return json_response(stats_answer(depth, per_day, audits, now=now, window_days=days,
                                          audit_share=request.app[SETTINGS].audit_share))
