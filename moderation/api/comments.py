"""The websites' side: submit a comment, then follow its status."""
from __future__ import annotations

from aiohttp import web

from ..jsonanswer import json_response
from .. import telemetry
from ..errors import ApiError, FieldError, not_found
from ..keys import AUTHOR_RULES, SCORER, SETTINGS, SITE_KEY_HASH, STORE, SURGES, THREAD_RULES
from ..credentials import AUTHOR_TOKEN_HEADER
from ..i18n import message, negotiate
from ..services import author_edits, flags, intake
from ..edge import path_id
from ..jsonbody import parse_json
from ..domain import Status, iso
from ..records import to_json
from ..records.website import CommentDeleted, CommentEdited, FlagCounted, SiteComment
from .common import authenticate_site

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_CHARS = 255


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not key.isprintable():
        raise ApiError(400, "invalid_parameter",
                       fields=[FieldError(IDEMPOTENCY_HEADER, "invalid_value")])
    return key


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
    """Take in a comment (see :func:`moderation.services.intake.submit`): 201
    published, 202 held; the service's domain errors become 422 / 429 in
    :func:`moderation.middlewares.domain_error`."""
    site = await authenticate_site(request)
    app = request.app
    submitted = await intake.submit(
        app[STORE], app[SCORER], app[SETTINGS], site=site, raw=await read_json_body(request),
        idempotency_key=_idempotency_key(request), remote=request.remote,
        accept_language=request.headers.get("Accept-Language"), surges=app[SURGES],
        thread_rules=app[THREAD_RULES], author_rules=app[AUTHOR_RULES], key_hash=request[SITE_KEY_HASH],
        observe=telemetry.count_intake_decision)
    response = json_response(submitted.answer, status=submitted.status_code)
    response.headers["Location"] = f"/v1/comments/{submitted.comment_id}"
    if submitted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


async def get_comment(request: web.Request) -> web.Response:
    """A site's own comment: its status and public fields (never e-mail or IP)."""
    site = await authenticate_site(request)
    comment = await request.app[STORE].get_comment(path_id(request, "comment_id"))
    if comment is None or comment.site_id != site.id:
        raise not_found()
    return json_response(to_json(SiteComment(
        id=comment.id, parent_id=comment.parent_id, author_name=comment.author_name, body=comment.body,
        created_at=iso(comment.created_at), thread=comment.thread_id, status=comment.status,
        published_at=iso(comment.published_at))))


async def flag_comment(request: web.Request) -> web.Response:
    """A reader's flag on a published comment (:mod:`moderation.services.flags`):
    202 with the comment's flags now; 404 for a comment readers do not see."""
    site = await authenticate_site(request)
    payload = parse_json(await read_json_body(request))
    if not isinstance(payload, dict):
        raise ApiError(400, "not_an_object")
    outcome = await flags.flag(request.app[STORE], request.app[SETTINGS], site=site,
                               comment_id=path_id(request, "comment_id"), payload=payload,
                               remote=request.remote)
    return json_response(to_json(FlagCounted(
        id=int(request.match_info["comment_id"]), flags=outcome.flags, counted=outcome.new,
        sent_to_review=outcome.sent_to_review)), status=202)


async def edit_comment(request: web.Request) -> web.Response:
    """An author's new text for their comment (:func:`moderation.services.author_edits.edit`),
    with their token in the ``Author-Token`` header: 200 with where it stands now."""
    site = await authenticate_site(request)
    app = request.app
    payload = parse_json(await read_json_body(request))
    edited = await author_edits.edit(
        app[STORE], app[SCORER], app[SETTINGS], site=site, comment_id=path_id(request, "comment_id"),
        token=request.headers.get(AUTHOR_TOKEN_HEADER), payload=payload,
        thread_rules=app[THREAD_RULES], author_rules=app[AUTHOR_RULES])
    text = "thanks_edited" if edited.status is Status.PUBLISHED else "thanks_edited_pending"
    return json_response(to_json(CommentEdited(
        id=edited.comment.id, status=edited.status.value,
        spam_score=None if edited.scored.score is None else round(edited.scored.score, 4),
        language=edited.scored.language, reasons=list(edited.reasons),
        model_version=edited.scored.model_version,
        message=message(text, negotiate(request.headers.get("Accept-Language"), site.lang)))))


async def delete_comment(request: web.Request) -> web.Response:
    """An author deletes their comment (:func:`moderation.services.author_edits.delete`),
    with their token in the ``Author-Token`` header: 200."""
    site = await authenticate_site(request)
    comment_id = path_id(request, "comment_id")
    await author_edits.delete(request.app[STORE], site=site, comment_id=comment_id,
                              token=request.headers.get(AUTHOR_TOKEN_HEADER))
    return json_response(to_json(CommentDeleted(id=comment_id, deleted=True, message=message(
        "comment_deleted", negotiate(request.headers.get("Accept-Language"), site.lang)))))
