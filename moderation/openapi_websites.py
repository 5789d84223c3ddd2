"""The OpenAPI paths websites and readers' pages call: comments posted, read,
edited, deleted and flagged with a site key, the public reads, and Akismet's
protocol. Merged into the document by :mod:`moderation.openapi`; the shapes
are the records' (:mod:`moderation.records`)."""
from __future__ import annotations

from .openapi_builders import (ACCEPT_LANGUAGE, AUTHOR_TOKEN, COMMENT_PATH, CORS_HEADER, FORM,
                               REQUEST_ID_HEADER, SITE_KEY, SITE_PATH, STATUSES, STRING, errors,
                               header_param, json_body, obj, operation, path_param, query_param, ref,
                               response)
from .openapi_desk import THREAD_CLOSED


def website_paths() -> dict:
    return {
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
        **akismet_paths(),
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


def akismet_paths() -> dict:
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
