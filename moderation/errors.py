"""Errors the service answers with, and the one body they all share.

Handlers and modules raise :class:`ApiError` (or build one); only the error
middleware turns it into HTTP, through :func:`error_body`. Every error answer
of the service has the shape::

    {"error": {"code": str, "message": str,
               "fields": [{"field": str, "code": str, "message": str}, ...]}}

with messages in the language negotiated for the request. An error may carry
more keys beside those three (``extra``), never in place of them: a 409
``conflict`` on a moderator's decision adds ``"current"``, the comment's state
now (status, last audit event), so the moderator sees who decided first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .i18n import message
from .records import OMITTED, to_json
from .records import errors as records


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field, named by its dotted path (``author.email``)."""

    field: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    detail: str = ""


RESERVED_ERROR_KEYS = frozenset({"code", "message", "fields"})


class ApiError(Exception):
    """An error with an HTTP status, a stable code, optional field errors and
    optional *extra* keys for the error object (JSON values, not translated)."""

    def __init__(self, status: int, code: str, *, fields: list[FieldError] | tuple = (),
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None,
                 **params: Any) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.fields = tuple(fields)
        self.headers = headers or {}
        self.extra = dict(extra or {})
        if RESERVED_ERROR_KEYS & set(self.extra):
            raise ValueError(f"extra keys may not replace {sorted(RESERVED_ERROR_KEYS)}")
        self.params = params


def bad_request(code: str, **params: Any) -> ApiError:
    return ApiError(400, code, **params)


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})


def forbidden() -> ApiError:
    return ApiError(403, "forbidden")


def csrf_failed() -> ApiError:
    """403 ``csrf_failed``: a state-changing request without the session's CSRF token."""
    return ApiError(403, "csrf_failed")


def not_found() -> ApiError:
    return ApiError(404, "not_found")


def validation_failed(fields: list[FieldError]) -> ApiError:
    return ApiError(422, "validation_failed", fields=fields)


def error_body(error: ApiError, language: str) -> dict[str, Any]:
    """The body of *error* (:class:`moderation.records.errors.Error`), its messages
    in *language*, with its *extra* keys beside the three."""
    body = to_json(records.Error(records.ErrorDetail(
        code=error.code, message=message(error.code, language, **error.params),
        fields=[records.FieldProblem(field=item.field, code=item.code,
                                     message=message(item.code, language, **item.params),
                                     detail=item.detail or OMITTED) for item in error.fields])))
    body["error"].update(error.extra)
    return body
