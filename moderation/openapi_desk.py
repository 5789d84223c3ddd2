"""The OpenAPI paths of a news desk's changes (:mod:`moderation.api.desk`; their
bodies' schemas come from :mod:`moderation.records`), merged into the document
by :mod:`moderation.openapi`, and the 409 a closed thread answers to
``POST /v1/comments``."""
from __future__ import annotations

from .openapi_builders import (CSRF, MODERATOR, STRING, errors, json_body, operation, path_param,
                               query_param, ref, response)

NO_STORE = {"Cache-Control": {"schema": {"type": "string", "const": "no-store"}}}
SITE_PATH = path_param("site", STRING, "The site's short name.")
MODERATOR_PATH = path_param("name", STRING, "The moderator's name.")


def desk_paths() -> dict:
    admin = "Admin role. Recorded in the admin log (`GET /v1/admin/events`)."
    return {
        "/v1/admin/sites": {"get": operation(
            "list_sites", "The sites", "admins",
            {"200": response("Every site, by name.", ref("Sites")),
             **errors(401, 403)}, description="Admin role.", security=MODERATOR)},
        "/v1/admin/sites/{site}": {"patch": operation(
            "change_site", "Change a site's mode, language, thresholds or automatic trust", "admins",
            {"200": response("The site now.", ref("SiteView")), **errors(401, 403, 404, 413, 422)},
            description=admin + " Running servers follow within `MODERATION_SITE_CACHE_SECONDS`.",
            security=MODERATOR, parameters=[SITE_PATH, CSRF], body=json_body(ref("SiteChange"), "The changes."))},
        "/v1/admin/sites/{site}/key": {"post": operation(
            "rotate_site_key", "Rotate a site's API key", "admins",
            {"200": response("The new key, once.", ref("KeyRotated"), headers=NO_STORE),
             **errors(401, 403, 404, 413, 422)},
            description=admin + " The current key keeps working for `overlap_hours` (24 by default); "
                                "a key rotated before it is forgotten at once.",
            security=MODERATOR, parameters=[SITE_PATH, CSRF],
            body={**json_body(ref("KeyRotation"), "The overlap."), "required": False})},
        "/v1/admin/moderators": {"get": operation(
            "list_moderators", "The moderators, revoked ones included", "admins",
            {"200": response("Every moderator, by name.",
                             ref("Moderators")),
             **errors(401, 403)}, description="Admin role.", security=MODERATOR)},
        "/v1/admin/moderators/{name}": {"patch": operation(
            "change_moderator", "Change a moderator's role or sites", "admins",
            {"200": response("The moderator now.", ref("ModeratorView")), **errors(401, 403, 404, 413, 422)},
            description=admin, security=MODERATOR, parameters=[MODERATOR_PATH, CSRF],
            body=json_body(ref("ModeratorChange"), "The changes."))},
        "/v1/admin/moderators/{name}/revoke": {"post": operation(
            "revoke_moderator", "Revoke a moderator", "admins",
            {"200": response("Revoked.", ref("ModeratorRevoked")), **errors(401, 403, 404)},
            description=admin + " Their token stops working and their sessions end at once.",
            security=MODERATOR, parameters=[MODERATOR_PATH, CSRF])},
        "/v1/admin/events": {"get": operation(
            "admin_events", "The admin log", "admins",
            {"200": response("The latest changes, newest first.", ref("AdminEvents")),
             **errors(401, 403, 404, 422)},
            description="Admin role. 404 for an unknown `site`.", security=MODERATOR, parameters=[
                query_param("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                            "How many."),
                query_param("site", STRING, "Only this site's changes (its name).")])},
        "/v1/review/authors": {"get": operation(
            "author_history", "One author's comments on the moderator's sites", "moderators",
            {"200": response("Counts per status and the latest comments.", ref("AuthorHistory")),
             **errors(401, 422)},
            description="Exactly one of `email` (any case), `ip` (an address or its prefix) or `name`.",
            security=MODERATOR, parameters=[
                query_param("email", STRING, "The author's e-mail address."),
                query_param("ip", STRING, "An IP address or the network prefix the queue shows."),
                query_param("name", STRING, "The display name, exactly."),
                query_param("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 100},
                            "How many comments.")])},
        "/v1/review/sites/{site}/authors/rules": {
            "get": operation(
                "list_author_rules", "The site's rules on authors", "moderators",
                {"200": response("Oldest first, expired ones included.",
                                 ref("AuthorRules")),
                 **errors(401, 403, 404)},
                description="A moderator of the site.", security=MODERATOR, parameters=[SITE_PATH]),
            "post": operation(
                "set_author_rule", "Ban, shadow-ban, watch or trust an author", "moderators",
                {"201": response("The rule (one per key: it replaces one there).", ref("AuthorRule")),
                 **errors(401, 403, 404, 413, 422)},
                description="A moderator of the site. Applies to new comments at once in this worker, "
                            "within `MODERATION_SITE_CACHE_SECONDS` in the others. Recorded in the admin log.",
                security=MODERATOR, parameters=[SITE_PATH, CSRF],
                body=json_body(ref("AuthorRuleIn"), "The rule."))},
        "/v1/review/sites/{site}/authors/rules/{rule_id}": {"delete": operation(
            "remove_author_rule", "Remove a rule on authors", "moderators",
            {"200": response("The rule removed.", ref("AuthorRule")), **errors(401, 403, 404)},
            description="A moderator of the site. Recorded in the admin log.", security=MODERATOR,
            parameters=[SITE_PATH, path_param("rule_id", {"type": "integer", "minimum": 1}, "The rule's id."),
                        CSRF])},
        "/v1/review/sites/{site}/threads/{thread}": {"post": operation(
            "set_thread", "Close, reopen or pre-moderate a thread", "moderators",
            {"200": response("The thread's rule now.", ref("ThreadRule")), **errors(401, 403, 404, 413, 422)},
            description="A moderator of the site. A thread with no comment yet can be set ahead of its "
                        "story. Recorded in the admin log.",
            security=MODERATOR, parameters=[SITE_PATH, path_param("thread", STRING, "The thread's id."), CSRF],
            body=json_body(ref("ThreadChange"), "The changes."))},
    }


THREAD_CLOSED = {"409": response("Comments are closed on this thread (`thread_closed`).", ref("Error"))}
