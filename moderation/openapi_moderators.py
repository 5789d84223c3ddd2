"""The OpenAPI paths of the moderators' API (the review queue, a comment,
decisions, statistics), the admins' model and people endpoints, and the
moderators' pages (``/moderate``, HTML). Merged into the document by
:mod:`moderation.openapi`; the shapes are the records' (:mod:`moderation.records`)."""
from __future__ import annotations

from .openapi_builders import (ACCEPT_LANGUAGE, COMMENT_PATH, CSRF, FORM, HTML, HTML_PAGE, MODERATOR,
                               QUEUE_STATUSES, REASONS, SEE_OTHER, STRING, errors, json_body, operation,
                               page_errors, path_param, query_param, ref, response)
from .review.queue import MAX_AGE_SECONDS, MAX_LIMIT, MAX_TEXT_PARAM_CHARS, Order
from .review.stats import MAX_DAYS

QUEUE_PARAMS = [
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


def moderator_paths() -> dict:
    html = {HTML: {"schema": HTML_PAGE}}
    form_body = lambda name: {"required": True, "content": {FORM: {"schema": ref(name)}}}  # noqa: E731
    return {
        "/v1/review/queue": {"get": operation(
            "review_queue", "The review queue, one page", "moderators",
            {"200": response("One page, with the counts of both queues.", ref("QueuePage")),
             **errors(400, 401, 403)},
            description="Each parameter at most once; unknown ones refused by name (400).",
            security=MODERATOR, parameters=QUEUE_PARAMS)},
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
