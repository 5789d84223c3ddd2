"""The only place exceptions become HTTP answers; request ids; security headers.

Every error the service answers with goes through :func:`error_response`, so
every error has the one body of :func:`moderation.errors.error_body`, in the
language negotiated for the request (Accept-Language, else the site's). On the
moderators' pages (``/moderate``) the same error is a page, with the same status.

Every ``/moderate`` answer, errors and redirects included, carries
:data:`PAGE_HEADERS`: a strict Content-Security-Policy (scripts, styles and
connections from this origin only, no inline script or style, no framing),
``X-Frame-Options: DENY``, ``Referrer-Policy: same-origin`` and ``Cache-Control: no-store``.

Inside the error middleware, in this order: :func:`shedding_middleware` (load
shedding, :mod:`moderation.shedding`), then :func:`moderation.edge.edge_middleware`
(bytes the service cannot decode), so that both answer through :func:`error_response`.
"""
from __future__ import annotations

import logging
import sqlite3
import uuid

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from . import telemetry
from .credentials import AUTHOR_TOKEN_HEADER
from .edge import request_id as given_request_id
from .jsonanswer import json_response
from .domain import (AuthorTokenInvalid, DecisionConflict, EditRefused, IdempotencyKeyReused,
                     InvalidParameter, NotFound, OutOfScope, RateLimitExceeded, ThreadClosed)
from .errors import ApiError, FieldError, error_body, forbidden, not_found, validation_failed
from .i18n import negotiate
from .keys import HTML_ERRORS, REQUEST_ID, SETTINGS, SITE
from .logs import REQUEST_ID as LOG_REQUEST_ID
from .shedding import IN_FLIGHT, RETRY_AFTER_SECONDS as SHED_RETRY_AFTER, InFlightLimit, Overloaded
from .store.sqlite_intake import is_unwritable
from .review.views import current_view
from .validation import ValidationFailed
from .web.render import error_page

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"


PAGES_PREFIX = "/moderate"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def is_page_path(path: str) -> bool:
    return path == PAGES_PREFIX or path.startswith(PAGES_PREFIX + "/")


def request_language(request: web.Request) -> str:
    site = request.get(SITE)
    return negotiate(request.headers.get("Accept-Language"), site.lang if site else None)


def error_response(request: web.Request, error: ApiError) -> web.Response:
    if request.get(HTML_ERRORS):
        try:
            return error_page(request, error)
        except Exception:   # a broken template must not hide the error: say it in JSON
            log.exception("rendering the error page for %s failed", error.code)
    response = json_response(error_body(error, request_language(request)), status=error.status)
    response.headers.update(error.headers)
    return response


def _from_http_exception(request: web.Request, exc: web.HTTPException) -> ApiError:
    if exc.status == 404:
        return ApiError(404, "not_found")
    if exc.status == 405:
        allowed = getattr(exc, "allowed_methods", ())
        return ApiError(405, "method_not_allowed", method=request.method,
                        headers={"Allow": ",".join(sorted(allowed))})
    if exc.status == 413:
        return ApiError(413, "payload_too_large", max=request.app[SETTINGS].max_request_bytes)
    if exc.status == 408:    # the body did not arrive within body_timeout_seconds
        return ApiError(408, "request_timeout", seconds=request.app[SETTINGS].body_timeout_seconds)
    if exc.status == 503:    # the process is stopping while the body still arrives
        return ApiError(503, "shutting_down", headers={"Retry-After": "1"})
    return ApiError(exc.status, "bad_request" if exc.status < 500 else "internal_error")


RETRY_AFTER_SECONDS = "5"
_BUSY = ("database is locked", "database is busy", "database table is locked")


def database_unavailable(exc: BaseException) -> ApiError | None:
    """A database failure that is the database's state, not the request's fault:
    503 with Retry-After (SQLite's ``database_busy`` or ``database_unwritable``;
    ``database_unavailable`` for a server out of reach, as the store tells:
    :class:`~.store.base.DatabaseUnavailable`, :func:`~.store.postgres.is_unavailable`),
    else None."""
    if not isinstance(exc, sqlite3.Error):
        from .store.base import DatabaseUnavailable
        try:   # asyncpg is the optional extra "postgres": without it, no PostgreSQL store
            from .store.postgres_sql import is_unavailable
        except ImportError:
            is_unavailable = None
        if isinstance(exc, DatabaseUnavailable) or (is_unavailable and is_unavailable(exc)):
            return ApiError(503, "database_unavailable", headers={"Retry-After": RETRY_AFTER_SECONDS})
        return None
    text = str(exc).lower()
    if any(marker in text for marker in _BUSY):
        return ApiError(503, "database_busy", headers={"Retry-After": RETRY_AFTER_SECONDS})
    if is_unwritable(exc):
        return ApiError(503, "database_unwritable", headers={"Retry-After": RETRY_AFTER_SECONDS})
    return None


@web.middleware
async def request_id_middleware(request: web.Request, handler):
    request[REQUEST_ID] = given_request_id(request.headers.get(REQUEST_ID_HEADER)) or uuid.uuid4().hex
    log_context = LOG_REQUEST_ID.set(request[REQUEST_ID])   # every log record names the request
    try:
        response = await handler(request)
    finally:
        LOG_REQUEST_ID.reset(log_context)
    response.headers[REQUEST_ID_HEADER] = request[REQUEST_ID]
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@web.middleware
async def page_headers_middleware(request: web.Request, handler):
    """Security headers on every /moderate answer; errors there become pages."""
    if not is_page_path(request.path):
        return await handler(request)
    request[HTML_ERRORS] = True
    try:
        response = await handler(request)
    except web.HTTPException as exc:    # redirects (errors became responses further in)
        response = web.Response(status=exc.status, headers=exc.headers)
    response.headers.update(PAGE_HEADERS)
    return response


DOMAIN_ERRORS = (ValidationFailed, RateLimitExceeded, IdempotencyKeyReused, NotFound, OutOfScope,
                 InvalidParameter, DecisionConflict, ThreadClosed, AuthorTokenInvalid, EditRefused)
"""What the services raise that an answer must explain (see :func:`domain_error`)."""


def domain_error(exc: Exception) -> ApiError:
    """The one HTTP translation of the services' domain errors: invalid fields
    422, a rate limit 429 with Retry-After, an Idempotency-Key reused 422, not
    found 404, out of the moderator's scope 403, a query parameter naming
    nothing 400, a decision that came second 409 with the comment's state now,
    a comment on a closed thread 409, an author's edit without their token
    403 or one the comment no longer allows 409."""
    if isinstance(exc, ValidationFailed):
        return validation_failed(exc.errors)
    if isinstance(exc, RateLimitExceeded):
        return ApiError(429, "rate_limited", headers={"Retry-After": str(exc.retry_after)},
                        retry_after=exc.retry_after)
    if isinstance(exc, IdempotencyKeyReused):
        return ApiError(422, "idempotency_key_reused",
                        fields=[FieldError("Idempotency-Key", "invalid_value")])
    if isinstance(exc, NotFound):
        return not_found()
    if isinstance(exc, OutOfScope):
        return forbidden()
    if isinstance(exc, InvalidParameter):
        return ApiError(400, "invalid_parameter", fields=[FieldError(exc.field, "invalid_value")])
    if isinstance(exc, DecisionConflict):
        return ApiError(409, "conflict", current_status=exc.outcome.status,
                        fields=[FieldError("expected_status", "status_changed")],
                        extra={"current": current_view(exc.outcome)})
    if isinstance(exc, ThreadClosed):
        return ApiError(409, "thread_closed", fields=[FieldError("thread.id", "thread_closed")])
    if isinstance(exc, AuthorTokenInvalid):
        return ApiError(403, "invalid_author_token", fields=[FieldError(AUTHOR_TOKEN_HEADER, "invalid_value")])
    if isinstance(exc, EditRefused):
        return ApiError(409, exc.code)
    raise TypeError(f"not a domain error: {exc!r}")


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(request, error)
    except DOMAIN_ERRORS as exc:
        return error_response(request, domain_error(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(request, _from_http_exception(request, exc))
    except ConnectionResetError:
        # The client went away mid-request (it has nobody left to answer): not our error.
        log.info("client disconnected during %s %s (request %s)", request.method, request.path,
                 request.get(REQUEST_ID))
        raise
    except Exception as exc:
        unavailable = database_unavailable(exc)
        if unavailable is not None:
            log.warning("database unavailable on %s %s (request %s): %s", request.method,
                        request.path, request.get(REQUEST_ID), exc)
            return error_response(request, unavailable)
        if isinstance(exc, HttpProcessingError) and 400 <= exc.code < 500:
            # a body aiohttp cannot parse (a malformed multipart form): the client's fault
            return error_response(request, ApiError(400, "bad_request"))
        log.exception("unhandled error on %s %s (request %s)", request.method, request.path,
                      request.get(REQUEST_ID))
        return error_response(request, ApiError(500, "internal_error"))


NEVER_SHED = frozenset({"/healthz", "/readyz", "/metrics"})


def overloaded(queue: str) -> ApiError:
    """503 ``overloaded`` for a request refused because *queue* was full; counted."""
    telemetry.SHED.labels(queue).inc()
    return ApiError(503, "overloaded", retry_after=SHED_RETRY_AFTER,
                    headers={"Retry-After": str(SHED_RETRY_AFTER)})


def shedding_middleware(limit: InFlightLimit):
    """Load shedding (see :mod:`moderation.shedding`): at most ``limit.limit``
    requests in flight, health and metrics endpoints aside; a bound reached
    further in (:class:`Overloaded`) is answered the same way."""
    @web.middleware
    async def shedding(request: web.Request, handler):
        if request.path in NEVER_SHED:
            return await handler(request)
        if not limit.enter():
            raise overloaded(IN_FLIGHT)
        telemetry.IN_FLIGHT.inc()
        try:
            return await handler(request)
        except Overloaded as full:
            raise overloaded(full.queue) from None
        finally:
            limit.leave()
            telemetry.IN_FLIGHT.dec()
    return shedding
