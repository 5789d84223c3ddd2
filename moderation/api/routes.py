"""The URL table of the service, on one screen."""
from __future__ import annotations

from aiohttp import web

from ..web import views as pages
from ..web.render import STATIC_PREFIX
from . import admin, akismet, authors, comments, desk, health, meta, privacy, public, review


def add_routes(app: web.Application) -> None:
    app.router.add_routes([
        web.get("/healthz", health.healthz, name="healthz"),
        web.get("/readyz", health.readyz, name="readyz"),
        web.get("/metrics", meta.metrics_endpoint, name="metrics"),
        web.get("/openapi.json", meta.openapi_document, name="openapi"),
        # websites (site key; an author's edit or deletion also their Author-Token)
        web.post("/v1/comments", comments.post_comment, name="post_comment"),
        web.get("/v1/comments/{comment_id}", comments.get_comment, name="get_comment"),
        web.patch("/v1/comments/{comment_id}", comments.edit_comment, name="edit_comment"),
        web.delete("/v1/comments/{comment_id}", comments.delete_comment, name="delete_comment"),
        web.post("/v1/comments/{comment_id}/flags", comments.flag_comment, name="flag_comment"),
        # websites speaking Akismet (site key in the form; Akismet's text answers)
        web.post("/1.1/verify-key", akismet.verify_key, name="akismet_verify_key"),
        web.post("/1.1/comment-check", akismet.comment_check, name="akismet_comment_check"),
        web.post("/1.1/submit-spam", akismet.submit_spam, name="akismet_submit_spam"),
        web.post("/1.1/submit-ham", akismet.submit_ham, name="akismet_submit_ham"),
        # public reads (no key)
        web.get("/v1/sites/{site}/threads/top", public.top_threads, name="top_threads"),
        web.get("/v1/sites/{site}/threads/{thread}/comments", public.thread_comments,
                name="thread_comments"),
        web.get("/v1/sites/{site}/counts", public.counts, name="counts"),
        # moderators (moderator token)
        web.get("/v1/review/queue", review.review_queue, name="review_queue"),
        web.get("/v1/review/stats", review.review_stats, name="review_stats"),
        web.get("/v1/review/comments/{comment_id}", review.review_comment, name="review_comment"),
        web.post("/v1/review/comments/{comment_id}/decision", review.decide, name="decide"),
        web.post("/v1/review/decisions", review.decide_bulk, name="decide_bulk"),
        web.post("/v1/review/sites/{site}/threads/{thread}", desk.set_thread, name="set_thread"),
        web.get("/v1/review/authors", authors.author_history, name="author_history"),
        web.get("/v1/review/sites/{site}/authors/rules", authors.list_rules, name="list_author_rules"),
        web.post("/v1/review/sites/{site}/authors/rules", authors.set_rule, name="set_author_rule"),
        web.delete("/v1/review/sites/{site}/authors/rules/{rule_id}", authors.remove_rule,
                   name="remove_author_rule"),
        # operations (admin token)
        web.post("/v1/admin/model/reload", admin.reload_model, name="reload_model"),
        web.get("/v1/admin/model/compare", admin.compare_models, name="compare_models"),
        web.post("/v1/admin/people/export", privacy.export_person, name="export_person"),
        web.post("/v1/admin/people/erase", privacy.erase_person, name="erase_person"),
        web.get("/v1/admin/sites", desk.list_sites, name="list_sites"),
        web.patch("/v1/admin/sites/{site}", desk.change_site, name="change_site"),
        web.post("/v1/admin/sites/{site}/key", desk.rotate_site_key, name="rotate_site_key"),
        web.get("/v1/admin/moderators", desk.list_moderators, name="list_moderators"),
        web.patch("/v1/admin/moderators/{name}", desk.change_moderator, name="change_moderator"),
        web.post("/v1/admin/moderators/{name}/revoke", desk.revoke_moderator, name="revoke_moderator"),
        web.get("/v1/admin/events", desk.admin_events, name="admin_events"),
        # moderators' pages (session cookie; decisions through the review API above)
        web.get("/moderate", pages.queue_page, name="moderate_queue"),
        web.get("/moderate/signin", pages.signin_page, name="moderate_signin"),
        web.post("/moderate/signin", pages.signin, name="moderate_signin_post"),
        web.post("/moderate/signout", pages.signout, name="moderate_signout"),
        web.get("/moderate/comments/{comment_id}", pages.comment_page, name="moderate_comment"),
        web.post("/moderate/comments/{comment_id}/decision", pages.decide_form,
                 name="moderate_decide"),
        web.post("/moderate/comments/{comment_id}/thread", pages.thread_form, name="moderate_thread"),
        web.post("/moderate/decisions", pages.decide_bulk_form, name="moderate_decide_bulk"),
        web.get("/moderate/authors", pages.author_page, name="moderate_author"),
        web.post("/moderate/authors/rules", pages.author_rule_form, name="moderate_author_rule"),
        web.post("/moderate/authors/rules/remove", pages.author_rule_remove_form,
                 name="moderate_author_rule_remove"),
        web.get(STATIC_PREFIX + "/{filename}", pages.static_file, name="moderate_static"),
    ])
