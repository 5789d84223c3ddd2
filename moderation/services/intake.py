"""The intake's use cases: what happens to a comment, whoever asks.

- :func:`submit`: a comment posted to ``POST /v1/comments``: the stored answer
  to its Idempotency-Key, its parent, the recent activity of its sources (one
  read, with surge mode's), then validate → guard → score → decide, then the
  one store write (comment, idempotency record, audit event and webhook outbox
  in one transaction, rate limits counted in it). Its answer gives the
  author's token (:mod:`moderation.services.author_edits`), once.
- :func:`check`: Akismet's comment-check: the same rules, nothing stored.
- :func:`rescore`: every pending comment scored again with the current model
  (``moderation rescore``).

They take the store, the scorer, the settings, a clock and the request's facts
as plain values, never an HTTP request, and raise domain errors
(:class:`~moderation.validation.ValidationFailed`,
:class:`~moderation.domain.RateLimitExceeded`,
:class:`~moderation.domain.IdempotencyKeyReused`); the edge
(:func:`moderation.middlewares.domain_error`) turns them into HTTP answers.
The body's JSON decoding (:func:`moderation.jsonbody.parse_json_object`) raises
its own 400 errors, as everywhere else in the service. Decisions are reported
to an optional *observe* callback (``telemetry.count_intake_decision`` on the
server), so this module imports no metrics.
"""
from __future__ import annotations

import dataclasses
import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..domain import (ClientInfo, CommentIn, Decision, IdempotencyKeyReused, Mode, NewComment,
                      Reason, Site, Status, ThreadIn)
from ..errors import FieldError
from ..form_stamp import time_to_submit_reasons
from ..guard import RATE_WINDOW_SECONDS, GuardPolicy, body_fingerprint, ip_prefix, judge
from ..domain import RecentActivity, RuleAction, ThreadClosed, iso
from ..i18n import message, negotiate
from ..jsonbody import parse_json_object
from ..records import to_json
from ..records.website import CommentAccepted
from ..policy import Scored, decide, kept_guard_reasons, trust_would_publish
from ..scoring.model import holder_for
from ..scoring.features import ScoringInput
from ..scoring.scorer import score_batch
from ..store.base import IdempotencyRecord, StoredAnswer, Store
from ..validation import Limits, ValidationFailed, validate_comment
from .author_edits import new_author_token
from .surges import SurgeBaselines, SurgeCheck
from .authors import AuthorRules, earned_trust
from .threads import ThreadRules

Clock = Callable[[], float]
Observe = Callable[[Decision, str], None]
"""Told each new decision and its source (``intake``, ``akismet``)."""

#: The parents a reply may have: shown, or waiting for a moderator.
REPLYABLE = (Status.PUBLISHED, Status.PENDING)


def _unobserved(decision: Decision, source: str) -> None:
    pass


@dataclass(frozen=True, slots=True)
class Submitted:
    """What :func:`submit` did: *answer* is the JSON answer (with ``id``), as
    stored for the Idempotency-Key; *replayed* when it is that stored answer."""

    comment_id: int
    status_code: int          # 201 published, 202 held: kept with the idempotency record
    answer: dict[str, Any]
    replayed: bool = False
    decision: Decision | None = None   # None for a replay


@dataclass(frozen=True, slots=True)
class Checked:
    """What :func:`check` decided, and the score behind it."""

    decision: Decision
    scored: Scored


def hold_for_parent(decision: Decision, parent_status: Status | None) -> Decision:
    """A reply is never shown before its parent: one the policy would publish
    under a pending parent waits, with reason ``parent_pending``, and is
    published with its parent (``Store.release_replies``)."""
    if parent_status is Status.PENDING and decision.status is Status.PUBLISHED:
        return Decision(Status.PENDING, decision.reasons + (Reason.PARENT_PENDING,))
    return decision


def shadow_fields(scored: Scored) -> dict:
    """What the store keeps of a shadowed candidate's opinion (nothing without one)."""
    if scored.shadow is None:
        return {}
    return {"shadow_version": scored.shadow.version, "shadow_score": scored.shadow.score,
            "shadow_band": scored.shadow.band}


def _replay(previous: StoredAnswer, request_hash: str) -> Submitted:
    if previous.request_hash != request_hash:
        raise IdempotencyKeyReused()
    return Submitted(previous.answer["id"], previous.status_code, previous.answer, replayed=True)


def _sources(client_ip: str) -> tuple[str, str]:
    """(the address kept, its prefix); nothing for a peer with no IP address."""
    try:
        return client_ip, ip_prefix(client_ip)
    except ValueError:       # a unix-socket peer or similar: no address to keep
        return "", ""


async def submit(store: Store, scorer, settings, *, site: Site, raw: bytes,
                 idempotency_key: str | None = None, remote: str | None = None,
                 accept_language: str | None = None, surges: SurgeBaselines | None = None,
                 thread_rules: ThreadRules | None = None, author_rules: AuthorRules | None = None,
                 key_hash: str | None = None,
                 clock: Clock = time.time, draw: Callable[[], float] = random.random,
                 observe: Observe = _unobserved) -> Submitted:
    """Take in the JSON body *raw* posted by *site*: decide the comment and store
    it (or replay the answer stored for *idempotency_key*). *remote* is the
    connection's address, used when the site forwards no reader's IP;
    *accept_language* picks the answer's message; *draw* the audit draw.
    A thread a moderator closed refuses it (:class:`ThreadClosed`); one they
    pre-moderated holds it for review (*thread_rules*). A rule on its author
    (*author_rules*) bans, watches or trusts it; a shadow-banned author is
    answered with the decision made without the rule. Without a rule, an
    author who earned the site's automatic trust is trusted. *key_hash*: the hash of
    the API key the request came with, which checks a signed form time."""
    now = clock()
    request_hash = hashlib.sha256(raw).hexdigest()
    if idempotency_key is not None:
        previous = await store.stored_answer(site.id, idempotency_key,
                                             now - settings.idempotency_hours * 3600)
        if previous is not None:
            return _replay(previous, request_hash)
    comment = validate_comment(parse_json_object(raw), Limits.from_settings(settings))
    rule = None if thread_rules is None else await thread_rules.rule(store, site.id, comment.thread.id)
    if rule is not None and rule.closed:
        raise ThreadClosed(comment.thread.id)
    deciding_site = dataclasses.replace(site, mode=Mode.PRE) if rule is not None and rule.premoderated else site
    parent_status = None
    if comment.parent_id is not None:
        parent_status = await store.parent_status(site.id, comment.thread.id, comment.parent_id)
        if parent_status not in REPLYABLE:   # none in this thread, or held as spam / rejected
            raise ValidationFailed([FieldError("parent_id", "invalid_parent")])

    client_ip, prefix = _sources(comment.client.ip or (remote or ""))
    body_hash = body_fingerprint(comment.body)
    policy = GuardPolicy.from_settings(settings)
    # Surge mode (moderation.surge): the thread's count, surge and the author's
    # history come with the guard's read; None when switched off.
    surge_check = None if surges is None else await SurgeCheck.for_site(surges, store, site.id, now)
    recent = RecentActivity()
    if policy.needs_history or surge_check is not None:
        recent = await store.recent_activity(
            site_id=site.id, ip_prefix=prefix, email=comment.author_email, body_hash=body_hash,
            rate_since=now - RATE_WINDOW_SECONDS, duplicate_since=now - policy.duplicate_window_seconds,
            guard=policy.needs_history,
            **(surge_check.read(comment.thread.id, now) if surge_check is not None else {}))
    guard_reasons = judge(comment, recent, policy, now)   # RateLimitExceeded when one is reached
    guard_reasons += time_to_submit_reasons(comment.form, key_hash, now=now,
                                            min_seconds=settings.min_submit_seconds)

    scored = await scorer.score(ScoringInput(
        body=comment.body, author_name=comment.author_name, author_email=comment.author_email,
        site_language=site.lang))
    surge = None if surge_check is None else await surge_check.judge(
        store, recent, site_id=site.id, thread_id=comment.thread.id, now=now)
    author_rule = None if author_rules is None else await author_rules.rule_for(
        store, site.id, comment.author_email, prefix, now)
    action = None if author_rule is None else author_rule.action
    # A draw per comment: a share of the model's own decisions goes to review (reason audit).
    audit_draw = draw()

    def deciding(rule: RuleAction | None) -> Decision:
        return hold_for_parent(decide(deciding_site, scored, guard_reasons, audit_draw=audit_draw,
                                      audit_share=settings.audit_share, surge=surge, author_rule=rule),
                               parent_status)
    decision = deciding(action)
    if action is None and site.auto_trust_after > 0 and trust_would_publish(decision) \
            and await earned_trust(store, site, comment.author_email):
        decision = deciding(RuleAction.TRUST)
    shown = deciding(None) if action is RuleAction.SHADOW_BAN else decision
    status_code = 201 if shown.status is Status.PUBLISHED else 202
    thanks = ("thanks_published" if status_code == 201 else
              "thanks_parent_pending" if Reason.PARENT_PENDING in shown.reasons else "thanks_pending")
    answer = {
        "status": shown.status.value,
        "spam_score": None if scored.score is None else round(scored.score, 4),
        "language": scored.language,
        "reasons": [r.value for r in shown.reasons],
        "model_version": scored.model_version,
        "message": message(thanks, negotiate(accept_language, site.lang)),
    }
    token, token_hash = new_author_token()
    # RateLimitExceeded here too: another submission took the last place meanwhile.
    result = await store.insert_comment(NewComment(
        site_id=site.id, thread=comment.thread, parent_id=comment.parent_id,
        author_name=comment.author_name, author_email=comment.author_email, body=comment.body,
        body_hash=body_hash, language=scored.language, spam_score=scored.score,
        model_version=scored.model_version, status=decision.status, reasons=decision.reasons,
        ip_prefix=prefix, ip_full=client_ip, user_agent=comment.client.user_agent,
        referrer=comment.client.referrer, created_at=now, author_token_hash=token_hash,
        **shadow_fields(scored)),
        IdempotencyRecord(idempotency_key, request_hash, status_code, answer)
        if idempotency_key is not None else None,
        limits=policy.limits(comment))
    if result.replay is not None:
        return _replay(result.replay, request_hash)
    if Reason.PARENT_PENDING in decision.reasons:
        # The parent may have been published since we looked: then this reply
        # goes with it now (else a moderator publishing it later takes it along).
        await store.release_replies(comment.parent_id, now=clock())
    observe(decision, "intake")
    # The author's token is in this answer only, never in the one kept for a replay.
    mine = {"author_token": token, "editable_until": iso(now + settings.edit_window_seconds)
            if settings.edit_window_seconds > 0 else None}
    return Submitted(result.comment_id, status_code,
                     to_json(CommentAccepted(id=result.comment_id, **answer, **mine)), decision=decision)


async def check(store: Store, scorer, settings, *, site: Site, body: str, author_name: str = "",
                author_email: str = "", client_ip: str = "", honeypot: str = "",
                clock: Clock = time.time, observe: Observe = _unobserved) -> Checked:
    """Akismet's comment-check: decide a comment the site keeps itself.

    Shared with :func:`submit`: the guard (honeypot, rate limits and duplicate
    check as the settings say, counted over the comments this service stored
    for the site: a check adds none), scoring and the policy's decision.
    Unlike it, on purpose: nothing is stored or recorded (no comment, no
    surge), the text is not validated (Akismet's fields are taken as sent),
    there is no parent, no audit draw, and the site's pre-moderation mode does
    not apply (a site using Akismet runs its own moderation: ``auto``).
    Raises :class:`~moderation.domain.RateLimitExceeded` when a limit is reached."""
    now = clock()
    client_ip, prefix = _sources(client_ip)
    comment = CommentIn(thread=ThreadIn(id=""), author_name=author_name,
                        author_email=author_email, body=body,
                        client=ClientInfo(ip=client_ip), honeypot=honeypot)
    policy = GuardPolicy.from_settings(settings)
    recent = RecentActivity()
    if policy.needs_history:
        recent = await store.recent_activity(
            site_id=site.id, ip_prefix=prefix, email=comment.author_email,
            body_hash=body_fingerprint(body), rate_since=now - RATE_WINDOW_SECONDS,
            duplicate_since=now - policy.duplicate_window_seconds, guard=True)
    guard_reasons = judge(comment, recent, policy, now)
    scored = await scorer.score(ScoringInput(body=body, author_name=author_name,
                                             author_email=author_email, site_language=site.lang))
    decision = decide(dataclasses.replace(site, mode=Mode.AUTO), scored, guard_reasons)
    observe(decision, "akismet")
    return Checked(decision, scored)


RESCORE_BATCH = 256


async def rescore(store: Store, settings, *, apply: bool, clock: Clock = time.time) -> tuple[int, int]:
    """Re-score every pending comment with the current model; with *apply*, move
    those the policy now decides otherwise (an audit event each). Returns
    (moved, total)."""
    bundle = holder_for(settings).reload()
    sites: dict[int, Site] = {s.id: s for s in await store.list_sites()}
    moved = total = 0
    after = 0
    while True:
        comments = await store.pending_comments(after_id=after, limit=RESCORE_BATCH)
        if not comments:
            return moved, total
        scored = score_batch(bundle, [ScoringInput(c.body, c.author_name, c.author_email,
                                                   site_language=sites[c.site_id].lang) for c in comments])
        for comment, result in zip(comments, scored):
            guard = kept_guard_reasons(comment.reasons, text_changed=False)
            decision = decide(sites[comment.site_id], result, guard)   # no audit draw here
            # An audited comment waits for its moderator whatever the new score:
            # the audit measures the model only if every comment drawn is judged.
            # So does one held for a surge (moderation.surge): a new score does
            # not make its author known, nor the surge any calmer.
            audited = (Reason.AUDIT.value in comment.reasons
                       or Reason.SURGE.value in comment.reasons)
            new_status = (decision.status.value
                          if apply and not audited and decision.status is not Status.PENDING else None)
            if await store.rescore(comment.id, spam_score=result.score,
                                   model_version=result.model_version, new_status=new_status,
                                   reasons=[r.value for r in decision.reasons], now=clock()):
                moved += 1
        total += len(comments)
        after = comments[-1].id
