"""The URL table of the service, on one screen."""
from __future__ import annotations

from aiohttp import web

from . import admin, comments, health, public


def add_routes(app: web.Application) -> None:
    app.router.add_routes([
        web.get("/healthz", health.healthz, name="healthz"),
        web.get("/readyz", health.readyz, name="readyz"),
        # websites (site key)
        web.post("/v1/comments", comments.post_comment, name="post_comment"),
        web.get("/v1/comments/{comment_id}", comments.get_comment, name="get_comment"),
        # public reads (no key)
        web.get("/v1/sites/{site}/threads/top", public.top_threads, name="top_threads"),
        web.get("/v1/sites/{site}/threads/{thread}/comments", public.thread_comments,
                name="thread_comments"),
        web.get("/v1/sites/{site}/counts", public.counts, name="counts"),
        # operations (admin token)
        web.post("/v1/admin/model/reload", admin.reload_model, name="reload_model"),
    ])
