"""The moderators' use cases: the queue, one comment in full, decisions, stats.

:class:`ReviewDesk` works over the store, the model holder (its thresholds, and
its explanations of a score, computed on the scoring executor) and an acting
:class:`~moderation.domain.Moderator`; the JSON API (``api/review.py``) and the
pages (``web/views.py``) parse, call it and answer. It raises domain errors,
translated once at the edge (:func:`moderation.middlewares.domain_error`):

- :class:`~moderation.domain.NotFound`: no such comment (404);
- :class:`~moderation.domain.OutOfScope`: a site that is not the moderator's (403);
- :class:`~moderation.domain.InvalidParameter`: a site name that names none (400);
- :class:`~moderation.domain.DecisionConflict`: the comment was no longer in the
  expected status (409, with its state now).
"""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace

from ..domain import (Comment, DecisionConflict, InvalidParameter, Moderator, NotFound, OutOfScope,
                      Role, Site)
from ..policy import Bands, site_bands
from ..review.decisions import DecisionIn
from ..records.review import FEATURES_TOP, READABLE_TOP
from ..review.explanations import RAW_TOP, readable_explanation, signal_measures
from ..review.queue import NO_MODEL_BANDS, Order, QueueQuery, encode_cursor
from ..review.stats import SPAM_LEANING_AT, stats_answer
from ..review.surge_views import active_by_thread, comment_surge_explanation, surge_badge, surge_view
from ..records import review as records
from ..records import to_json
from ..review.views import comment_detail, current_record, decided_record
from ..scoring.features import ScoringInput
from ..store.base import CONFLICT, DECIDED, NOT_FOUND, DecisionOutcome, DecisionRequest, QueueRow, Store

log = logging.getLogger(__name__)

FORBIDDEN = "forbidden"
"""A bulk result's outcome for a comment outside the moderator's sites."""


def visible_site_ids(moderator: Moderator) -> tuple[int, ...] | None:
    """The sites a moderator sees; None: every site."""
    if moderator.role is Role.ADMIN or not moderator.site_ids:
        return None
    return moderator.site_ids


def thresholds_in_effect(site: Site, model: Bands | None) -> tuple[Bands | None, str]:
    """The thresholds a site's comments are judged by, and where they come
    from: ``site`` when it overrides either, else ``model`` (None: no model)."""
    if site.approve_below is not None or site.reject_above is not None:
        return site_bands(site, model or NO_MODEL_BANDS), "site"
    return model, "model"


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the queue as the store gave it, with what shapes it."""

    rows: list[QueueRow]
    sites: dict[int, Site]
    counts: dict[str, int]
    order: Order
    next: str | None
    surges: dict = field(default_factory=dict)   # (site id, thread id) -> its surge, when on now


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


def _request(moderator: Moderator, decision: DecisionIn, comment_id: int) -> DecisionRequest:
    return DecisionRequest(comment_id=comment_id, expected_status=decision.expected_status.value,
                           new_status=decision.new_status.value, actor=moderator.name,
                           action=decision.action.value, reason=decision.reason, note=decision.note)


@dataclass(frozen=True, slots=True)
class ReviewDesk:
    """The review use cases over one store, the model holder (``.bundle``: the
    model in service, or None) and the executor explanations run on."""

    store: Store
    models: object
    executor: Executor

    # -- what shapes every answer
    def model_bands(self, language: str | None = None) -> Bands | None:
        """The model in service's thresholds for *language* (its default ones for None)."""
        bundle = self.models.bundle
        if bundle is None:
            return None
        return bundle.thresholds if language is None else bundle.thresholds_for(language)

    async def sites(self) -> dict[int, Site]:
        return {s.id: s for s in await self.store.list_sites()}

    @staticmethod
    def site_scope(moderator: Moderator, name: str | None,
                   sites: dict[int, Site]) -> tuple[int, ...] | None:
        """The site ids a request looks at: the site *name* (InvalidParameter
        unknown, OutOfScope not the moderator's), else every site they see."""
        if name is None:
            return visible_site_ids(moderator)
        site = next((s for s in sites.values() if s.name == name), None)
        if site is None:
            raise InvalidParameter("site")
        if not moderator.may_moderate(site.id):
            raise OutOfScope()
        return (site.id,)

    # -- the queue
    async def queue(self, moderator: Moderator, query: QueueQuery, now: float) -> QueuePage:
        """The page of the queue *query* asks for, within the moderator's sites."""
        sites = await self.sites()
        query_filter = replace(query.filter, site_ids=self.site_scope(moderator, query.site, sites))
        rows = await self.store.review_queue(query_filter, order=query.order, after=query.after,
                                             limit=query.limit + 1,
                                             model_bands=self.model_bands() or NO_MODEL_BANDS)
        page = rows[:query.limit]
        last = page[-1] if page else None
        surges = {} if not page else active_by_thread(await self.store.active_surges(
            now=now, site_ids=sorted({r.comment.site_id for r in page}),
            thread_ids=[r.comment.thread_id for r in page]))
        return QueuePage(
            rows=page, sites=sites, counts=await self.store.queue_counts(query_filter),
            order=query.order, surges=surges,
            next=(encode_cursor(query.order, last.sort_key, last.comment.id)
                  if last is not None and len(rows) > query.limit else None))

    # -- one comment
    async def comment(self, moderator: Moderator, comment_id: int) -> Comment:
        """The comment *comment_id*: NotFound, or OutOfScope outside the moderator's sites."""
        comment = await self.store.get_comment(comment_id)
        if comment is None:
            raise NotFound()
        if not moderator.may_moderate(comment.site_id):
            raise OutOfScope()
        return comment

    async def explain(self, comments: list[Comment], top: int = FEATURES_TOP,
                      readable_top: int = READABLE_TOP) -> dict[int, dict]:
        """Per comment id, what pushed its score most, from the model in service
        now (which may not be the one that scored it: ``same_model`` says), in one
        trip to the executor: ``readable``, at most *readable_top* reasons in
        French and English, and ``features``, the model's own *top* features with
        their weights, for experts."""
        bundle = self.models.bundle
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
            self.executor, _explain_each, bundle, items, top, readable_top)
        for comment, found in zip(wanted, explained):
            if found is not None:
                answers[comment.id]["features"], answers[comment.id]["readable"] = found
        return answers

    async def detail(self, comment: Comment, now: float) -> dict:
        """Everything a moderator needs to decide on one comment (the body of
        ``GET /v1/review/comments/{id}``)."""
        site = (await self.sites())[comment.site_id]
        parent = await self.store.get_comment(comment.parent_id) if comment.parent_id else None
        in_effect, source = thresholds_in_effect(site, self.model_bands(site.lang))
        explanation = (await self.explain([comment]))[comment.id]
        # Surge mode: the thread's surges (when each began and ended), the one
        # on now (the badge), and why the comment waits when held for one.
        surges = await self.store.thread_surges(comment.site_id, comment.thread_id)
        explanation["surge"] = comment_surge_explanation(comment, surges, now=now)
        return comment_detail(
            comment, site=site.name, parent=parent, bands=in_effect, bands_source=source,
            explanation=explanation, history=await self.store.audit_trail(comment.id),
            surge=surge_badge(next((s for s in surges if s.active(now)), None)),
            surges=[surge_view(s, now=now) for s in surges],
            flags=await self.store.comment_flags(comment.id), now=now)

    # -- decisions
    async def decide(self, moderator: Moderator, comment: Comment, decision: DecisionIn,
                     now: float) -> DecisionOutcome:
        """Apply one decision on a comment in the moderator's scope (see
        :meth:`comment`): its outcome, else NotFound (gone meanwhile) or
        DecisionConflict (another decision came first)."""
        [outcome] = await self.store.apply_decisions([_request(moderator, decision, comment.id)],
                                                     now=now)
        if outcome.outcome == NOT_FOUND:
            raise NotFound()
        if outcome.outcome == CONFLICT:
            raise DecisionConflict(outcome)
        return outcome

    async def decide_many(self, moderator: Moderator, decision: DecisionIn, now: float) -> dict:
        """One decision on many comments, not all-or-nothing: one result per id,
        in the order given (``decided``, ``conflict`` with ``current``,
        ``not_found`` or ``forbidden``), and a summary of the outcomes."""
        comments = await self.store.get_comments(list(decision.ids))
        results: dict[int, records.Decided | records.Conflicted | records.NotDecided] = {}
        allowed = []
        for comment_id in decision.ids:
            comment = comments.get(comment_id)
            if comment is None:
                results[comment_id] = records.NotDecided(comment_id, NOT_FOUND)
            elif not moderator.may_moderate(comment.site_id):
                results[comment_id] = records.NotDecided(comment_id, FORBIDDEN)
            else:
                allowed.append(_request(moderator, decision, comment_id))
        for outcome in await self.store.apply_decisions(allowed, now=now) if allowed else []:
            if outcome.outcome == DECIDED:
                results[outcome.comment_id] = decided_record(outcome)
            elif outcome.outcome == CONFLICT:
                results[outcome.comment_id] = records.Conflicted(outcome.comment_id, CONFLICT,
                                                                 current_record(outcome))
            else:
                results[outcome.comment_id] = records.NotDecided(outcome.comment_id, NOT_FOUND)
        ordered = [results[i] for i in decision.ids]
        counted = Counter(r.outcome for r in ordered)
        return to_json(records.BulkResult(
            action=decision.action, results=ordered,
            summary=records.BulkSummary(**{o: counted[o] for o in (DECIDED, CONFLICT, NOT_FOUND, FORBIDDEN)})))

    # -- stats
    async def stats(self, moderator: Moderator, site: str | None, days: int, now: float,
                    audit_share: float) -> dict:
        """Queue depth per site, age of the oldest pending comment, decisions per
        UTC day over *days*, how often moderators overrule the model, and the
        error rates measured on the audit sample per site and language."""
        site_ids = self.site_scope(moderator, site, await self.sites())
        scope = None if site_ids is None else list(site_ids)
        first_day_start = (int(now // 86400) - (days - 1)) * 86400
        depth = await self.store.queue_depth(scope)
        per_day = await self.store.decision_days(scope, since=first_day_start,
                                                 spam_leaning_at=SPAM_LEANING_AT)
        audits = await self.store.audit_counts(scope, since=first_day_start)
        return stats_answer(depth, per_day, audits, now=now, window_days=days,
                            audit_share=audit_share)
