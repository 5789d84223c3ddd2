"""The OpenAPI 3.1 document of the whole HTTP API, served at ``GET /openapi.json``.

The paths, parameters and security are written here (and the desk's in
:mod:`moderation.openapi_desk`); every component schema is derived from the
typed records the handlers build their answers with, and from the parsers'
bounds (:mod:`moderation.records`). It is built for the settings of the
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
from .review.queue import MAX_AGE_SECONDS, MAX_LIMIT, MAX_TEXT_PARAM_CHARS, Order
from .review.stats import MAX_DAYS
from .openapi_builders import (ACCEPT_LANGUAGE, API_VERSION, AUTHOR_TOKEN, COMMENT_PATH, CORS_HEADER, CSRF,
                               ERROR_RESPONSES, FORM, HTML, HTML_PAGE, JSON, MODERATOR, OPENAPI_VERSION,
                               QUEUE_STATUSES, REASONS, REQUEST_ID_HEADER, SEE_OTHER, SITE_KEY, SITE_PATH,
                               STATUSES, STRING, errors, header_param, json_body, obj, operation,
                               page_errors, path_param, query_param, ref, response)
from .openapi_desk import THREAD_CLOSED, desk_paths


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
    not already say: 400, 415 with a body, 503 ``overloaded`` but on health and metrics."""
    for path, item in paths.items():
        for op in item.values():
            page = "pages" in op["tags"]
            statuses = [(400, "BadRequest")] + ([(415, "UnsupportedMediaType")] if "requestBody" in op else [])
            statuses += [] if path in NEVER_SHED else [(503, "Overloaded")]
            for status, name in statuses:
                op["responses"].setdefault(str(status), page_errors(status)[str(status)] if page
                                           else {"$ref": f"#/components/responses/{name}"})
    return paths


def _paths(settings) -> dict:
    queue_params = [
        query_param("status", {"type": "string", "enum": QUEUE_STATUSES, "default": "pending"},
                    "`spam`: the spam folder."),
        query_param("site", {"type": "string", "maxLength": MAX_TEXT_PARAM_CHARS}, "Only this site (by name)."),
        query_param("thread", {"type": "string", "maxLength": MAX_TEXT_PARAM_CHARS}, "Only this thread id."),
        query_param("language", {"type": "string", "maxLength": MAX_TEXT_PARAM_CHARS},
                    "Only this detected language."),
        query_param("reason", {"type": "string", "enum": REASONS}, "Only comments with this reason code."),
        query_param("min_score", {"type": "number", "minimum": 0, "maximum": 1}, "Spam score at least."),
        query_param("max_score", {"type": "number", "minimum": 0, "maximum": 1}, "Spam score at most."),
        query_param("min_age", {"type": "integer", "minimum": 0, "maximum": MAX_AGE_SECONDS},
                    "Submitted at least this many seconds ago."),
        query_param("max_age", {"type": "integer", "minimum": 0, "maximum": MAX_AGE_SECONDS},
                    "Submitted at most this many seconds ago."),
        query_param("order", {"type": "string", "enum": [o.value for o in Order], "default": "uncertain"},
                    "Sort order: `uncertain` (nearest the middle of the review band), `oldest`, "
                    "`score` (highest first), `safest` (lowest first), `flags` (most flagged by "
                    "readers first)."),
        query_param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
                    "Page size."),
        query_param("cursor", STRING, "The `next` of the previous page."),
    ]
    metrics_security = [{"metricsToken": []}] if settings.metrics_token else []
    metrics_errors = errors(401) if settings.metrics_token else {}
    html = {HTML: {"schema": HTML_PAGE}}
    form_body = lambda name: {"required": True, "content": {FORM: {"schema": ref(name)}}}  # noqa: E731
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
        "/v1/comments": {"post": operation(
            "post_comment", "Submit a reader's comment", "websites",
            {"201": response("Published at once.", ref("CommentAccepted"), headers={
                "Location": {"schema": STRING, "required": True},
                "Idempotent-Replayed": {"schema": {"type": "string", "const": "true"},
                                        "description": "A retry answered with the first answer."}}),
             "202": response("Held: pending review, or spam.", ref("CommentAccepted"), headers={
                 "Location": {"schema": STRING, "required": True},
                 "Idempotent-Replayed": {"schema": {"type": "string", "const": "true"}}}),
             **errors(400, 401, 413, 415, 422, 429), **THREAD_CLOSED},
            description="Validates, guards (honeypot, rate, duplicates), scores and stores the "
                        "comment durably before answering. 409 `thread_closed` on a thread a "
                        "moderator closed. 422 `idempotency_key_reused` when an "
                        "Idempotency-Key comes back with a different body.",
            security=SITE_KEY,
            parameters=[header_param("Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 255},
                                     "Makes retries safe: a retry gets the first answer."), ACCEPT_LANGUAGE],
            body=json_body(ref("CommentIn"), "The comment."))},
        **_akismet_paths(),
        "/v1/comments/{comment_id}": {
            "get": operation(
                "get_comment", "One of the site's comments: status and public fields", "websites",
                {"200": response("The comment.", ref("SiteComment")), **errors(401, 404)},
                security=SITE_KEY, parameters=[COMMENT_PATH]),
            "patch": operation(
                "edit_comment", "Its author edits a comment, with their token", "websites",
                {"200": response("Edited and decided again.", ref("CommentEdited")),
                 **errors(400, 401, 404, 413, 415, 422),
                 "403": response("No author token, or another comment's (`invalid_author_token`).", ref("Error")),
                 "409": response("The time to edit has passed (`edit_window_closed`), the comment is "
                                 "held as spam, rejected or erased (`comment_not_editable`), or its "
                                 "thread is closed (`thread_closed`).", ref("Error"))},
                description="Within `MODERATION_EDIT_WINDOW_SECONDS` of the posting. The new text is "
                            "validated and scored like a new comment; a comment that was waiting for "
                            "a moderator, or that one had decided, waits for one (reason `edited`); "
                            "the model's spam band holds it as spam. Audited (`edit` by `author`).",
                security=SITE_KEY, parameters=[COMMENT_PATH, AUTHOR_TOKEN, ACCEPT_LANGUAGE],
                body=json_body(ref("CommentEdit"), "The new text.")),
            "delete": operation(
                "delete_comment", "Its author deletes a comment, with their token", "websites",
                {"200": response("Hidden for good, its text emptied (reason `author_deleted`); also "
                                 "when it was deleted already.", ref("CommentDeleted")),
                 **errors(401, 404),
                 "403": response("No author token, or another comment's (`invalid_author_token`).", ref("Error")),
                 "409": response("Held as spam, rejected by a moderator, or erased "
                                 "(`comment_not_editable`).", ref("Error"))},
                description="At any time. A deleted comment that has published replies stays in its "
                            "thread's public page as a placeholder.",
                security=SITE_KEY, parameters=[COMMENT_PATH, AUTHOR_TOKEN, ACCEPT_LANGUAGE])},
        "/v1/comments/{comment_id}/flags": {"post": operation(
            "flag_comment", "A reader flags a published comment", "websites",
            {"202": response("Counted (once per reader).", ref("FlagCounted")),
             **errors(401, 404, 413, 422)},
            description="404 for a comment that is not the site's, or neither published nor back in "
                        "review for readers' flags (they keep counting there). The reader is the "
                        "site's `reader` id, else the network of `client.ip` (else the connection's); "
                        "only a salted hash of it is kept.",
            security=SITE_KEY, parameters=[COMMENT_PATH, ACCEPT_LANGUAGE],
            body=json_body(ref("FlagIn"), "The flag."))},
        "/v1/sites/{site}/threads/top": {"get": operation(
            "top_threads", "Most-commented threads", "public",
            {"200": response("Threads, most comments first.", ref("TopThreads"), headers=CORS_HEADER),
             **errors(400, 404)},
            parameters=[SITE_PATH,
                        query_param("days", {"type": "integer", "minimum": 1, "maximum": 365, "default": 7},
                                    "Look back this many days."),
                        query_param("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                                    "How many threads.")])},
        "/v1/sites/{site}/threads/{thread}/comments": {"get": operation(
            "thread_comments", "Published comments of a thread, oldest first by default", "public",
            {"200": response("One page.", ref("ThreadPage"), headers=CORS_HEADER), **errors(400, 404)},
            description="A comment no longer shown that has published replies keeps its place as a "
                        "placeholder (`removed`), so that the replies stay threaded.",
            parameters=[SITE_PATH, path_param("thread", STRING, "The thread id."),
                        query_param("sort", {"type": "string", "enum": ["oldest", "newest", "replies"],
                                             "default": "oldest"},
                                    "`oldest` or `newest` first, or `replies`: most replied first."),
                        query_param("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                                    "Page size."),
                        query_param("after", {"type": "integer", "minimum": 0, "maximum": 2**53},
                                    "The `next` of the previous page, in the same `sort`.")])},
        "/v1/sites/{site}/counts": {"get": operation(
            "counts", "Published comment counts of threads", "public",
            {"200": response("Counts.", ref("Counts"), headers=CORS_HEADER), **errors(400, 404)},
            parameters=[SITE_PATH,
                        {"name": "thread", "in": "query", "required": True, "style": "form", "explode": True,
                         "schema": {"type": "array", "items": STRING, "minItems": 1, "maxItems": 100},
                         "description": "Thread ids (repeat the parameter)."}])},
        "/v1/review/queue": {"get": operation(
            "review_queue", "The review queue, one page", "moderators",
            {"200": response("One page, with the counts of both queues.", ref("QueuePage")),
             **errors(400, 401, 403)},
            description="Each parameter at most once; unknown ones refused by name (400).",
            security=MODERATOR, parameters=queue_params)},
        "/v1/review/stats": {"get": operation(
            "review_stats", "Queue depth, decisions per day, overrule rate, audit error rates",
            "moderators",
            {"200": response("Statistics.", ref("Stats")), **errors(400, 401, 403)},
            security=MODERATOR,
            parameters=[query_param("site", STRING, "Only this site."),
                        query_param("days", {"type": "integer", "minimum": 1, "maximum": MAX_DAYS, "default": 30},
                                    "Decisions over this many days.")])},
        "/v1/review/comments/{comment_id}": {"get": operation(
            "review_comment", "One comment with everything needed to decide", "moderators",
            {"200": response("The comment, its explanation and history.", ref("CommentDetail")),
             **errors(401, 403, 404)},
            security=MODERATOR, parameters=[COMMENT_PATH])},
        "/v1/review/comments/{comment_id}/decision": {"post": operation(
            "decide", "Decide on one comment", "moderators",
            {"200": response("Decided.", ref("Decided")), **errors(400, 401, 403, 404, 409, 413, 415, 422)},
            security=MODERATOR, parameters=[COMMENT_PATH, CSRF, ACCEPT_LANGUAGE],
            body=json_body(ref("DecisionIn"), "The decision."))},
        "/v1/review/decisions": {"post": operation(
            "decide_bulk", "Decide on many comments (not all-or-nothing)", "moderators",
            {"200": response("One result per id.", ref("BulkResult")), **errors(400, 401, 403, 413, 415, 422)},
            security=MODERATOR, parameters=[CSRF, ACCEPT_LANGUAGE],
            body=json_body(ref("BulkDecisionIn"), "The decision and the ids."))},
        "/v1/admin/model/reload": {"post": operation(
            "reload_model", "Load the model models/CURRENT names, in every worker process", "admins",
            {"200": response("Every live worker process sharing the database loaded the model.",
                             ref("ModelReloaded")),
             **errors(401, 403),
             "409": response("At least one worker refused the new model (`model_reload_failed`): each "
                             "that refused keeps its previous model.", ref("ModelReloadError")),
             "503": response("None refused, but some did not confirm within "
                             "`MODERATION_MODEL_RELOAD_WAIT_SECONDS` (`model_reload_incomplete`): they "
                             "keep polling and apply it when they can.", ref("ModelReloadError"))},
            description="Admin role. No body. Starts a new model generation in the database "
                        "and waits until every worker process of every instance sharing it "
                        "(those with a heartbeat in the last 15 s) has reloaded `models/CURRENT`. "
                        "`kill -HUP` reloads only the processes signalled.",
            security=MODERATOR, parameters=[CSRF])},
        "/v1/admin/model/compare": {"get": operation(
            "compare_models", "A shadowed candidate model against the live one", "admins",
            {"200": response("The comparison on the comments both models scored.", ref("ModelComparison")),
             **errors(400, 401, 403, 404)},
            description="Admin role. Each model at its own thresholds: agreement and the bands "
                        "of both on every comment the candidate scored since shadowing began "
                        "(or `since`), and each model's error rates on those moderators have "
                        "decided. 404 when no model has been shadowed.",
            security=MODERATOR, parameters=[
                query_param("site", STRING, "Only this site's comments (its name)."),
                query_param("since", STRING, "Only comments from this ISO date or date-time (UTC).")])},
        "/v1/admin/people/export": {"post": operation(
            "export_person", "Everything held about an e-mail address", "admins",
            {"200": response("The export.", ref("PersonExport"),
                             headers={"Cache-Control": {"schema": {"type": "string", "const": "no-store"}}}),
             **errors(400, 401, 403, 413, 415, 422)},
            description="Admin role. The address travels in the body, never in a URL.",
            security=MODERATOR, parameters=[CSRF], body=json_body(ref("PersonRequest"), "The address."))},
        "/v1/admin/people/erase": {"post": operation(
            "erase_person", "Erase what identifies an address's author", "admins",
            {"200": response("The comments anonymised.", ref("PersonErased"),
                             headers={"Cache-Control": {"schema": {"type": "string", "const": "no-store"}}}),
             **errors(400, 401, 403, 413, 415, 422)},
            description="Admin role.", security=MODERATOR, parameters=[CSRF],
            body=json_body(ref("PersonRequest"), "The address."))},
        # -- the moderators' pages: HTML for browsers (errors are pages too)
        "/moderate": {"get": operation(
            "moderate_queue", "The review queue page", "pages",
            {"200": {"description": "The page.", "content": html}, "303": SEE_OTHER,
             **page_errors(400, 403)},
            description="Takes the query parameters of `GET /v1/review/queue`. Without a session: "
                        "303 to the sign-in page.", security=[{"moderatorSession": []}, {}])},
        "/moderate/signin": {
            "get": operation("moderate_signin", "The sign-in page", "pages",
                             {"200": {"description": "The form.", "content": html}, "303": SEE_OTHER},
                             parameters=[query_param("next", STRING, "Where to go once signed in.")]),
            "post": operation("moderate_signin_post", "Sign in with a moderator token", "pages",
                              {"303": SEE_OTHER,
                               "401": {"description": "Wrong token: the form again.", "content": html},
                               "429": {"description": "Too many failures from this network: the form again.",
                                       "content": html,
                                       "headers": {"Retry-After": {"schema": STRING, "required": True}}},
                               **page_errors(400, 403, 413)},
                              body=form_body("SigninForm")),
        },
        "/moderate/signout": {"post": operation(
            "moderate_signout", "Sign out", "pages", {"303": SEE_OTHER, **page_errors(400, 403, 413)},
            security=[{"moderatorSession": []}, {}], body=form_body("CsrfForm"))},
        "/moderate/comments/{comment_id}": {"get": operation(
            "moderate_comment", "One comment's page", "pages",
            {"200": {"description": "The page.", "content": html}, "303": SEE_OTHER,
             **page_errors(403, 404)},
            security=[{"moderatorSession": []}, {}], parameters=[COMMENT_PATH])},
        "/moderate/comments/{comment_id}/decision": {"post": operation(
            "moderate_decide", "Decide on one comment (form)", "pages",
            {"303": SEE_OTHER,
             "409": {"description": "Another decision came first: the comment's page saying who.",
                     "content": html},
             "422": {"description": "Invalid decision: the comment's page listing the problems.",
                     "content": html},
             **page_errors(400, 401, 403, 404, 413)},
            security=[{"moderatorSession": []}], parameters=[COMMENT_PATH],
            body=form_body("DecisionForm"))},
        "/moderate/comments/{comment_id}/thread": {"post": operation(
            "moderate_thread", "Close, reopen or pre-moderate a comment's thread (form)", "pages",
            {"303": SEE_OTHER, **page_errors(400, 401, 403, 404, 413, 422)},
            security=[{"moderatorSession": []}], parameters=[COMMENT_PATH],
            body=form_body("ThreadForm"))},
        "/moderate/authors": {"get": operation(
            "moderate_author", "One author's page: history, rules, buttons", "pages",
            {"200": {"description": "The page.", "content": html}, "303": SEE_OTHER,
             **page_errors(400, 422)},
            description="Exactly one of `email`, `ip`, `name` (as `GET /v1/review/authors`).",
            security=[{"moderatorSession": []}, {}], parameters=[
                query_param("email", STRING, "The author's e-mail address."),
                query_param("ip", STRING, "An IP address or its network prefix."),
                query_param("name", STRING, "The display name."),
                query_param("back", STRING, "Where the back link goes.")])},
        "/moderate/authors/rules": {"post": operation(
            "moderate_author_rule", "Set a rule on an author (form)", "pages",
            {"303": SEE_OTHER, **page_errors(400, 401, 403, 404, 413, 422)},
            security=[{"moderatorSession": []}], body=form_body("AuthorRuleForm"))},
        "/moderate/authors/rules/remove": {"post": operation(
            "moderate_author_rule_remove", "Remove a rule on authors (form)", "pages",
            {"303": SEE_OTHER, **page_errors(400, 401, 403, 404, 413, 422)},
            security=[{"moderatorSession": []}], body=form_body("AuthorRuleRemoveForm"))},
        "/moderate/decisions": {"post": operation(
            "moderate_decide_bulk", "Decide on many comments (form)", "pages",
            {"200": {"description": "What became of each comment.", "content": html},
             **page_errors(400, 401, 403, 413, 422)},
            security=[{"moderatorSession": []}], body=form_body("BulkDecisionForm"))},
        "/moderate/static/{filename}": {"get": operation(
            "moderate_static", "The pages' script and style sheet", "pages",
            {"200": {"description": "The file.", "content": {"text/css": {"schema": STRING},
                                                             "text/javascript": {"schema": STRING}}},
             **page_errors(404)},
            parameters=[path_param("filename", STRING, "`moderate.css` or `moderate.js`.")])},
    }


AKISMET_FIELDS = {
    "api_key": "The site's key (`key` also accepted).",
    "key": "The site's key (verify-key's name for it).",
    "blog": "The site's URL (scheme, `www.`, default port and trailing slash ignored; a path "
            "below it matches).",
    "user_ip": "The commenter's IP address.",
    "user_agent": "The commenter's browser.",
    "referrer": "The page the commenter came from.",
    "permalink": "The article's address.",
    "comment_type": "comment, reply, forum-post...",
    "comment_author": "The author's name.",
    "comment_author_email": "The author's e-mail.",
    "comment_author_url": "The author's site.",
    "comment_content": "The comment's text.",
    "comment_date_gmt": "When it was written (ISO 8601).",
    "comment_post_modified_gmt": "When the article was last changed.",
    "blog_lang": "The site's languages (fr, en_us...): the language of the debug help.",
    "blog_charset": "Character set of the fields.",
    "user_role": "`administrator`: never spam.",
    "is_test": "Set: a test; submit-spam/ham store nothing.",
    "recheck_reason": "Why the site checks this comment again.",
    "honeypot_field_name": "Name of the form's trap field, sent along: filled means spam.",
}


def _akismet_paths() -> dict:
    """Akismet's protocol (``moderation.api.akismet``): form fields in, plain text out."""
    def form(names: tuple[str, ...], required: list[str]) -> dict:
        schema = obj({n: {"type": "string", "description": AKISMET_FIELDS[n]} for n in names},
                     required=required, closed=False)
        return {"required": True, "content": {FORM: {"schema": schema},
                                              "multipart/form-data": {"schema": schema}}}

    def text(description: str, answers: str) -> dict:
        return {"description": description, "headers": {
            "X-Request-Id": REQUEST_ID_HEADER,
            "X-akismet-debug-help": {"schema": STRING, "description": "Why the answer is `invalid` or "
                                                                      "a field is missing."}},
                "content": {"text/plain": {"schema": {"type": "string", "description": answers}}}}

    refused = ("`invalid` (unknown key, or `blog` not the key's site) or `Missing required field: "
               "user_ip.`")
    message_fields = tuple(n for n in AKISMET_FIELDS if n != "key")
    description = ("Akismet's protocol: the site key goes in the form, not in a header; every answer "
                   "is 200 text/plain, refusals included. Errors of the transport (413, 400 for a body "
                   "that is not a form) keep the service's JSON error shape.")
    check = text("`true`: hold it (with `X-akismet-pro-tip: discard` when clearly spam); `false`: "
                 "ham; or a refusal.", "true, false, or " + refused)
    check["headers"].update({
        "X-akismet-pro-tip": {"schema": {"type": "string", "const": "discard"}},
        "X-Moderation-Status": {"schema": {"type": "string", "enum": STATUSES},
                                "description": "The status the service would give the comment."},
        "X-Moderation-Reasons": {"schema": STRING, "description": "Its reason codes, comma-separated."},
        "X-Moderation-Score": {"schema": {"type": "string", "pattern": "^[01]\\.[0-9]{4}$"},
                               "description": "The model's spam score."},
    })
    paths = {
        "/1.1/verify-key": {"post": operation(
            "akismet_verify_key", "Akismet: is this key valid for this blog?", "akismet",
            {"200": text("`valid` or `invalid`.", "valid or invalid"), **errors(400, 413)},
            description=description, body=form(("key", "api_key", "blog"), []))},
        "/1.1/comment-check": {"post": operation(
            "akismet_comment_check", "Akismet: is this comment spam? (nothing stored)", "akismet",
            {"200": check, **errors(400, 413)}, description=description,
            body=form(message_fields, []))},
    }
    for label in ("spam", "ham"):
        paths[f"/1.1/submit-{label}"] = {"post": operation(
            f"akismet_submit_{label}", f"Akismet: this comment is {label} (a training label)", "akismet",
            {"200": text("`Thanks for making the web a better place.` or a refusal.",
                         "Thanks for making the web a better place., or " + refused), **errors(400, 413)},
            description=description + " Stores the text, label and language only, for "
                                      "`moderation export-labels`.",
            body=form(message_fields, []))}
    return paths


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
