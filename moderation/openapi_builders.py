"""The building blocks of the OpenAPI document (:mod:`moderation.openapi`):
small constructors for schemas, parameters, answers and operations, the
security requirements, and the error answers every operation shares."""
from __future__ import annotations

from typing import Any

from .domain import Reason, Status
from .review.decisions import MAX_COMMENT_ID, Action

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"

JSON = "application/json"
HTML = "text/html"
FORM = "application/x-www-form-urlencoded"

STATUSES = [s.value for s in Status]
REASONS = [r.value for r in Reason]
ACTIONS = [a.value for a in Action]
QUEUE_STATUSES = [Status.PENDING.value, Status.SPAM.value]


# -- small builders
def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    if set(schema) == {"type"} and isinstance(schema["type"], str):
        return {"type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict, *, required: list[str] | None = None, closed: bool = True,
        description: str | None = None) -> dict:
    """An object schema; by default every property is required and no other is allowed."""
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "required": list(properties) if required is None else required}
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
SCORE = {"type": ["number", "null"], "minimum": 0, "maximum": 1,
         "description": "Calibrated P(spam), rounded to 4 places; null when no model scored it."}
COMMENT_ID = {"type": "integer", "minimum": 1, "maximum": MAX_COMMENT_ID - 1}
REQUEST_ID_HEADER = {"$ref": "#/components/headers/X-Request-Id"}


def response(description: str, schema: dict | None = None, *, media: str = JSON,
             headers: dict | None = None) -> dict:
    answer: dict[str, Any] = {"description": description,
                              "headers": {"X-Request-Id": REQUEST_ID_HEADER, **(headers or {})}}
    if schema is not None:
        answer["content"] = {media: {"schema": schema}}
    return answer


def errors(*statuses: int) -> dict:
    return {str(s): {"$ref": f"#/components/responses/{ERROR_RESPONSES[s][0]}"} for s in statuses}


def page_errors(*statuses: int) -> dict:
    return {str(s): {"$ref": "#/components/responses/ErrorPage"} for s in statuses}


def path_param(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def query_param(name: str, schema: dict, description: str, **extra: Any) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description, **extra}


def header_param(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "header", "required": False, "schema": schema, "description": description}


AUTHOR_TOKEN = {"name": "Author-Token", "in": "header", "required": True,
                "schema": {"type": "string", "minLength": 1},
                "description": "The `author_token` the comment's `POST` answered."}


def json_body(schema: dict, description: str) -> dict:
    return {"required": True, "description": description, "content": {JSON: {"schema": schema}}}


ACCEPT_LANGUAGE = header_param("Accept-Language", STRING,
                               "Language of error messages (fr or en; else the site's, else French).")
CSRF = header_param("X-CSRF-Token", STRING,
                    "With a browser session instead of a token: the session's CSRF token "
                    "(403 `csrf_failed` without it).")

# status -> (component name, description, schema, extra headers)
ERROR_RESPONSES: dict[int, tuple[str, str, str, dict]] = {
    400: ("BadRequest", "Malformed request: JSON that does not decode strictly (`malformed_json`, "
          "`invalid_utf8`, `duplicate_key`, `too_deep`, `number_too_large`), a body that is not an "
          "object (`not_an_object`), or a query parameter or header out of range "
          "(`invalid_parameter`, naming it in `fields`). On any operation, bytes the service "
          "cannot decode: a path or query parameter that is not UTF-8 once percent-decoded "
          "(`invalid_path`, `invalid_parameter`), a header it reads that is not UTF-8 text "
          "(`invalid_header`), a form that is not text in its charset (`invalid_body_encoding`), "
          "a body whose chunked framing breaks (`malformed_body`).", "Error", {}),
    401: ("Unauthorized", "No valid key or token (`unauthorized`); a site key is not a moderator "
          "token, nor the reverse.", "Error",
          {"WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}, "required": True}}),
    403: ("Forbidden", "Authenticated, but not allowed: a site outside the moderator's, a role "
          "short of admin (`forbidden`), or a browser session without its CSRF token "
          "(`csrf_failed`).", "Error", {}),
    404: ("NotFound", "No such resource (`not_found`).", "Error", {}),
    405: ("MethodNotAllowed", "The path exists, not with this method (`method_not_allowed`).",
          "Error", {"Allow": {"schema": STRING, "required": True}}),
    409: ("Conflict", "The comment was no longer in `expected_status`: another decision came "
          "first (`conflict`). Nothing changed; `current` is its state now.", "ConflictError", {}),
    413: ("PayloadTooLarge", "The body is larger than `MODERATION_MAX_REQUEST_BYTES` "
          "(`payload_too_large`).", "Error", {}),
    415: ("UnsupportedMediaType", "The body is not `application/json` (`unsupported_media_type`); "
          "or, on any operation with a body, a compressed body (`unsupported_content_encoding`: "
          "bodies are accepted only as sent, without `Content-Encoding`) or a charset Python does "
          "not know (`unsupported_charset`).", "Error", {}),
    422: ("ValidationFailed", "Fields missing or invalid, unknown fields named "
          "(`validation_failed`, one entry per problem in `fields`).", "Error", {}),
    429: ("RateLimited", "Too many comments from this IP prefix or e-mail (`rate_limited`).", "Error",
          {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}, "required": True,
                           "description": "Seconds to wait."}}),
    503: ("NotReady", "Not ready (`not_ready`): `fields` names each problem "
          "(`database`, `model`).", "Error", {}),
}


# -- operations
SITE_KEY = [{"siteKey": []}]
MODERATOR = [{"moderatorToken": []}, {"moderatorSession": []}]
SITE_PATH = path_param("site", STRING, "The site's short name.")
COMMENT_PATH = path_param("comment_id", COMMENT_ID, "The comment's id.")
CORS_HEADER = {"Access-Control-Allow-Origin": {"schema": {"type": "string", "const": "*"}}}
HTML_PAGE = {"type": "string"}
SEE_OTHER = {"description": "Redirect (sign-in page, or where the form came from).",
             "headers": {"Location": {"schema": STRING, "required": True}}}


def operation(operation_id: str, summary: str, tag: str, responses: dict, *, description: str = "",
              security: list | None = None, parameters: list | None = None,
              body: dict | None = None) -> dict:
    op: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": [tag],
                          "responses": responses}
    if description:
        op["description"] = description
    op["security"] = security if security is not None else []
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = body
    return op
