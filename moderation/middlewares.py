"""The only place exceptions become HTTP answers; request ids; security headers.

Every error the service answers with goes through :func:`error_response`, so
every error has the one body of :func:`moderation.errors.error_body`, in the
language negotiated for the request (Accept-Language, else the site's).
"""
from __future__ import annotations

import logging
import re
import uuid

from aiohttp import web

from .errors import ApiError, error_body
from .i18n import negotiate
from .keys import REQUEST_ID, SETTINGS, SITE

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_language(request: web.Request) -> str:
    site = request.get(SITE)
    return negotiate(request.headers.get("Accept-Language"), site.lang if site else None)


def error_response(request: web.Request, error: ApiError) -> web.Response:
    response = web.json_response(error_body(error, request_language(request)), status=error.status)
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
    return ApiError(exc.status, "bad_request" if exc.status < 500 else "internal_error")


@web.middleware
async def request_id_middleware(request: web.Request, handler):
    given = request.headers.get(REQUEST_ID_HEADER, "")
    request[REQUEST_ID] = given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
    response = await handler(request)
    response.headers[REQUEST_ID_HEADER] = request[REQUEST_ID]
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(request, error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(request, _from_http_exception(request, exc))
    except Exception:
        log.exception("unhandled error on %s %s (request %s)", request.method, request.path,
                      request.get(REQUEST_ID))
        return error_response(request, ApiError(500, "internal_error"))
