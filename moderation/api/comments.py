"""The websites' side: submit a comment, then follow its status."""
from __future__ import annotations

import hashlib
import random
import time

from aiohttp import web

from ..jsonanswer import json_response
from .. import metrics
from ..domain import Decision, NewComment, RateLimitExceeded, Reason, Status
from ..errors import ApiError, FieldError, not_found, validation_failed
from ..guard import RATE_WINDOW_SECONDS, GuardPolicy, body_fingerprint, ip_prefix, judge, RecentActivity
from ..i18n import message, negotiate
from ..jsonbody import parse_json
from ..keys import SCORER, SETTINGS, STORE, SURGES
from ..policy import decide
from ..scoring.scorer import ScoreRequest
from ..services.surges import SurgeCheck
from ..store.base import IdempotencyRecord
from ..validation import Limits, ValidationFailed, validate_comment
from .common import authenticate_site, iso, path_id, public_comment

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_CHARS = 255

#: The parents a reply may have: shown, or waiting for a moderator.
REPLYABLE = (Status.PUBLISHED, Status.PENDING)


def hold_for_parent(decision: Decision, parent_status: Status | None) -> Decision:
    """A reply is never shown before its parent: one the policy would publish
    under a pending parent waits, with reason ``parent_pending``, and is
    published with its parent (``Store.release_replies``)."""
    if parent_status is Status.PENDING and decision.status is Status.PUBLISHED:
        return Decision(Status.PENDING, decision.reasons + (Reason.PARENT_PENDING,))
    return decision


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not key.isprintable():
        raise ApiError(400, "invalid_parameter",
                       fields=[FieldError(IDEMPOTENCY_HEADER, "invalid_value")])
    return key


def _answer(status_code: int, answer: dict, *, replayed: bool = False) -> web.Response:
    response = json_response(answer, status=status_code)
    response.headers["Location"] = f"/v1/comments/{answer['id']}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


async def read_json_body(request: web.Request) -> object:
    """The request's JSON body: 415 unless JSON, 413 beyond the size limit,
    400 when it does not decode strictly."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type")
    settings = request.app[SETTINGS]
    if request.content_length is not None and request.content_length > settings.max_request_bytes:
        raise ApiError(413, "payload_too_large", max=settings.max_request_bytes)
    return await request.read()


async def post_comment(request: web.Request) -> web.Response:
    site = await authenticate_site(request)
    settings, store = request.app[SETTINGS], request.app[STORE]
    raw = await read_json_body(request)
    now = time.time()
    key = _idempotency_key(request)
    request_hash = hashlib.sha256(raw).hexdigest()
    if key is not None:
        previous = await store.stored_answer(site.id, key, now - settings.idempotency_hours * 3600)
        if previous is not None:
            return _replay(previous, request_hash)
    payload = parse_json(raw)
    if not isinstance(payload, dict):
        raise ApiError(400, "not_an_object")
    try:
        comment = validate_comment(payload, Limits.from_settings(settings))
    except ValidationFailed as failed:
        raise validation_failed(failed.errors) from None
    parent_status = None
    if comment.parent_id is not None:
        parent_status = await store.parent_status(site.id, comment.thread.id, comment.parent_id)
        if parent_status not in REPLYABLE:   # none in this thread, or held as spam / rejected
            raise validation_failed([FieldError("parent_id", "invalid_parent")])

    client_ip = comment.client.ip or (request.remote or "")
    try:
        prefix = ip_prefix(client_ip)
    except ValueError:       # a unix-socket peer or similar: no address to keep
        client_ip, prefix = "", ""
    body_hash = body_fingerprint(comment.body)
    policy = GuardPolicy.from_settings(settings)
    # Surge mode (moderation.surge): the thread's count, surge and the author's
    # history come with the guard's read; None when switched off.
    surge_check = await SurgeCheck.for_site(request.app[SURGES], store, site.id, now)
    recent = RecentActivity()
    if policy.needs_history or surge_check is not None:
        recent = await store.recent_activity(
            site_id=site.id, ip_prefix=prefix, email=comment.author_email, body_hash=body_hash,
            rate_since=now - RATE_WINDOW_SECONDS, duplicate_since=now - policy.duplicate_window_seconds,
            guard=policy.needs_history,
            **(surge_check.read(comment.thread.id, now) if surge_check is not None else {}))
    try:
        guard_reasons = judge(comment, recent, policy, now)
    except RateLimitExceeded as exceeded:
        raise rate_limited(exceeded) from None

    scored = await request.app[SCORER].score(ScoreRequest(
        body=comment.body, author_name=comment.author_name, author_email=comment.author_email,
        site_language=site.lang))
    surge = None if surge_check is None else await surge_check.judge(
        store, recent, site_id=site.id, thread_id=comment.thread.id, now=now)
    # A draw per comment: a share of the model's own decisions goes to review (reason audit).
    decision = hold_for_parent(decide(site, scored, guard_reasons, audit_draw=random.random(),
                                      audit_share=settings.audit_share, surge=surge), parent_status)
    status_code = 201 if decision.status is Status.PUBLISHED else 202
    language = negotiate(request.headers.get("Accept-Language"), site.lang)
    thanks = ("thanks_published" if status_code == 201 else
              "thanks_parent_pending" if Reason.PARENT_PENDING in decision.reasons else "thanks_pending")
    answer = {
        "status": decision.status.value,
        "spam_score": None if scored.score is None else round(scored.score, 4),
        "language": scored.language,
        "reasons": [r.value for r in decision.reasons],
        "model_version": scored.model_version,
        "message": message(thanks, language),
    }
    try:
        result = await store.insert_comment(NewComment(
            site_id=site.id, thread=comment.thread, parent_id=comment.parent_id,
            author_name=comment.author_name, author_email=comment.author_email, body=comment.body,
            body_hash=body_hash, language=scored.language, spam_score=scored.score,
            model_version=scored.model_version, status=decision.status, reasons=decision.reasons,
            ip_prefix=prefix, ip_full=client_ip, user_agent=comment.client.user_agent, referrer=comment.client.referrer,
            created_at=now, **shadow_fields(scored)),
            IdempotencyRecord(key, request_hash, status_code, answer) if key is not None else None,
            limits=policy.limits(comment))
    except RateLimitExceeded as exceeded:   # another submission took the last place meanwhile
        raise rate_limited(exceeded) from None
    if result.replay is not None:
        return _replay(result.replay, request_hash)
    if Reason.PARENT_PENDING in decision.reasons:
        # The parent may have been published since we looked: then this reply
        # goes with it now (else a moderator publishing it later takes it along).
        await store.release_replies(comment.parent_id, now=time.time())
    metrics.count_intake_decision(decision)
    return _answer(status_code, {"id": result.comment_id, **answer})


def shadow_fields(scored) -> dict:
    """What the store keeps of a shadowed candidate's opinion (nothing without one)."""
    if scored.shadow is None:
        return {}
    return {"shadow_version": scored.shadow.version, "shadow_score": scored.shadow.score,
            "shadow_band": scored.shadow.band}


def rate_limited(exceeded: RateLimitExceeded) -> ApiError:
    return ApiError(429, "rate_limited", headers={"Retry-After": str(exceeded.retry_after)},
                    retry_after=exceeded.retry_after)


def _replay(previous, request_hash: str) -> web.Response:
    if previous.request_hash != request_hash:
        raise ApiError(422, "idempotency_key_reused",
                       fields=[FieldError(IDEMPOTENCY_HEADER, "invalid_value")])
    return _answer(previous.status_code, previous.answer, replayed=True)


async def get_comment(request: web.Request) -> web.Response:
    """A site's own comment: its status and public fields (never e-mail or IP)."""
    site = await authenticate_site(request)
    comment = await request.app[STORE].get_comment(path_id(request, "comment_id"))
    if comment is None or comment.site_id != site.id:
        raise not_found()
    return json_response({
        **public_comment(comment),
        "thread": comment.thread_id,
        "status": comment.status.value,
        "published_at": iso(comment.published_at),
    })
