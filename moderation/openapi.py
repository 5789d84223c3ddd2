"""The OpenAPI 3.1 document of the whole HTTP API, served at ``GET /openapi.json``.

The paths, parameters and security are written by hand, by audience:
operations here, websites and Akismet in :mod:`moderation.openapi_websites`,
moderators, admins and the pages in :mod:`moderation.openapi_moderators`, the
news desk in :mod:`moderation.openapi_desk`. Every component schema is derived
from the typed records the handlers build their answers with, and from the
parsers' bounds (:mod:`moderation.records`). It is built for the settings of the
running server (length limits, whether ``/metrics`` wants a token), so what it
says holds for this server. Tests keep
it true: ``tests/api/test_openapi.py`` fails when a route of the app is missing
here or a path here has no route, and ``tests/api/test_schemathesis.py`` runs
schemathesis against a live server and fails on any 5xx or any answer (status,
content type, body, headers) the document does not allow.

Conventions: every JSON error has the one shape of :mod:`moderation.errors`
(``Error``); request bodies are closed (``additionalProperties: false``)
wherever the service refuses unknown fields by name; the moderators' pages
(``/moderate``) are documented as HTML.
"""
from __future__ import annotations

import functools
import json

from .records import desk, errors as error_records, models, requests, review, website
from .records.schema import enum_schema, record_schema, schema_name
from .domain import Action, Mode, Reason, Role, RuleAction, RuleKind, Status
from .review.queue import Order
from .openapi_builders import (API_VERSION, ERROR_RESPONSES, HTML, HTML_PAGE, JSON, OPENAPI_VERSION,
                               REQUEST_ID_HEADER, STRING, errors, operation, page_errors, ref, response)
from .openapi_desk import desk_paths
from .openapi_moderators import moderator_paths
from .openapi_websites import website_paths


# -- schemas
RECORD_MODULES = (error_records, requests, website, review, desk, models)
NAMED_ENUMS = (Status, Reason, Action, Order, Mode, Role, RuleKind, RuleAction)


def record_components(settings) -> dict[str, dict]:
    """``components.schemas`` entries of every typed record (limits read from
    *settings*) and of the enums they name."""
    return {**{values.__name__: enum_schema(values) for values in NAMED_ENUMS},
            **{schema_name(record): record_schema(record, settings)
               for module in RECORD_MODULES for record in module.RECORDS}}


NEVER_SHED = ("/healthz", "/readyz", "/metrics")


def _edge_answers(paths: dict) -> dict:
    """Add what the edge and load shedding may answer on any operation (see
    ``moderation.edge`` and ``moderation.shedding``), where the operation does
    not already say: 400, 415 with a body, 417 for an ``Expect`` other than
    ``100-continue``, 503 ``overloaded`` but on health and metrics."""
    for path, item in paths.items():
        for op in item.values():
            page = "pages" in op["tags"]
            statuses = [(400, "BadRequest")] + ([(415, "UnsupportedMediaType")] if "requestBody" in op else [])
            statuses += [(417, "ExpectationFailed")]
            statuses += [] if path in NEVER_SHED else [(503, "Overloaded")]
            for status, name in statuses:
                op["responses"].setdefault(str(status), page_errors(status)[str(status)] if page
                                           else {"$ref": f"#/components/responses/{name}"})
    return paths


def _paths(settings) -> dict:
    metrics_security = [{"metricsToken": []}] if settings.metrics_token else []
    metrics_errors = errors(401) if settings.metrics_token else {}
    return {
        "/healthz": {"get": operation("healthz", "Liveness: the process answers", "operations",
                                      {"200": response("Up.", ref("Health"))})},
        "/readyz": {"get": operation(
            "readyz", "Readiness: database writable and a model loaded", "operations",
            {"200": response("Ready.", ref("Ready")), **errors(503)})},
        "/metrics": {"get": operation(
            "metrics", "Prometheus metrics", "operations",
            {"200": {"description": "Prometheus text format (OpenMetrics when the Accept header asks).",
                     "headers": {"X-Request-Id": REQUEST_ID_HEADER},
                     "content": {"text/plain": {"schema": STRING},
                                 "application/openmetrics-text": {"schema": STRING}}},
             **metrics_errors},
            description="Public unless `MODERATION_METRICS_TOKEN` is set. With several worker "
                        "processes, the figures cover all of them.",
            security=metrics_security)},
        "/openapi.json": {"get": operation(
            "openapi", "This document", "operations",
            {"200": response("The OpenAPI document.", {"type": "object"})})},
        **website_paths(),
        **moderator_paths(),
    }


def build_document(settings) -> dict:
    """The OpenAPI document for a server running with *settings*."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "moderation",
            "version": API_VERSION,
            "summary": "Self-hosted comment moderation with spam scoring.",
            "description": (
                "Websites submit their readers' comments (`/v1/comments`, site key); public reads "
                "serve published comments; moderators work the review queue (`/v1/review`, "
                "moderator token or browser session); admins reload the model and export or erase "
                "a person's data (`/v1/admin`).\n\n"
                "Every error answer has one JSON shape (`Error`), with messages in French or "
                "English (`Accept-Language`, else the site's language). On the `/moderate` pages "
                "errors are HTML pages. A method a path does not take gets 405 with `Allow`; an "
                "unknown path 404. Every answer carries `X-Request-Id` (the one the client sent, "
                "if it is 1-64 characters of `A-Za-z0-9._-`, else a new one), except 400 answers "
                "of the HTTP layer itself to a request line or header over 8190 bytes, which are "
                "plain text.\n\n"
                "Bytes the service cannot decode never make a 5xx: an `Authorization` header that is "
                "not printable ASCII gets 401 on any operation, an `Expect` other than `100-continue` "
                "417 (`expectation_failed`); see 400 and 415 for the rest. Past "
                "`MODERATION_MAX_REQUESTS_IN_FLIGHT` requests in flight (per server process), "
                "any operation but health and metrics answers 503 `overloaded` with `Retry-After`."),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "tags": [
            {"name": "websites", "description": "The sites that post comments (site key)."},
            {"name": "public", "description": "Reads for the sites' pages: no key, published comments only."},
            {"name": "moderators", "description": "The review queue and decisions."},
            {"name": "admins", "description": "Sites, moderators, the model and privacy operations "
                                               "(admin role)."},
            {"name": "akismet", "description": "Akismet-compatible endpoints for sites and plugins "
                                                "written for Akismet."},
            {"name": "operations", "description": "Health, readiness, metrics, this document."},
            {"name": "pages", "description": "The moderators' HTML pages."},
        ],
        "paths": _edge_answers({**_paths(settings), **desk_paths()}),
        "components": {
            "schemas": record_components(settings),
            "responses": {
                **{name: {"description": text,
                          "headers": {"X-Request-Id": REQUEST_ID_HEADER, **headers},
                          "content": {JSON: {"schema": ref(schema)}}}
                   for name, text, schema, headers in ERROR_RESPONSES.values()},
                "BadRequest": {
                    "description": ERROR_RESPONSES[400][1] + " A request line or header longer than "
                                   "8190 bytes is refused by the HTTP layer itself, in plain text.",
                    "headers": {"X-Request-Id": REQUEST_ID_HEADER},
                    "content": {JSON: {"schema": ref("Error")}, "text/plain": {"schema": STRING}}},
                "Overloaded": {
                    "description": "The server process has as many requests in flight as "
                                   "`MODERATION_MAX_REQUESTS_IN_FLIGHT`, or as many texts waiting to "
                                   "be scored as `MODERATION_SCORING_QUEUE_MAX` (`overloaded`): "
                                   "refused at once; try again after `Retry-After`.",
                    "headers": {"X-Request-Id": REQUEST_ID_HEADER,
                                "Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"},
                                                "required": True, "description": "Seconds to wait."}},
                    "content": {JSON: {"schema": ref("Error")}}},
                "ExpectationFailed": {
                    "description": "The request's `Expect` header asks for something other than "
                                   "`100-continue` (`expectation_failed`).",
                    "headers": {"X-Request-Id": REQUEST_ID_HEADER},
                    "content": {JSON: {"schema": ref("Error")}}},
                "ErrorPage": {"description": "An error, as an HTML page with the same status.",
                              "content": {HTML: {"schema": HTML_PAGE}}},
            },
            "headers": {
                "X-Request-Id": {"description": "The request's id, as in the service's logs.",
                                 "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}},
            },
            "securitySchemes": {
                "siteKey": {"type": "http", "scheme": "bearer",
                            "description": "A site's API key (`moderation site add` prints it once)."},
                "moderatorToken": {"type": "http", "scheme": "bearer",
                                   "description": "A moderator's token (`moderation moderator add`)."},
                "moderatorSession": {"type": "apiKey", "in": "cookie", "name": "moderation_session",
                                     "description": "The /moderate pages' session cookie "
                                                    "(`__Host-moderation_session` over HTTPS); requests "
                                                    "that change something also send `X-CSRF-Token`."},
                "metricsToken": {"type": "http", "scheme": "bearer",
                                 "description": "`MODERATION_METRICS_TOKEN`, when set."},
            },
        },
    }


@functools.lru_cache(maxsize=8)
def document_json(settings) -> bytes:
    return json.dumps(build_document(settings), ensure_ascii=False, indent=1).encode("utf-8")
