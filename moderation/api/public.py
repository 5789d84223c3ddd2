"""Public reads, for the websites' pages: no key, the site named in the path.

Answers are records of :mod:`moderation.records` (``PublicComment``,
``ThreadPage``, ``Counts``, ``TopThreads``), which have no field for e-mail,
IP, user agent or score: those never appear here.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import AsyncIterator

from aiohttp import web

from ..jsonanswer import json_response
from ..domain import PublicComment, iso
from ..errors import ApiError, FieldError, not_found
from ..keys import PUBLIC_ANSWERS, STORE
from ..ttlcache import TTLCache
from ..records import to_json
from ..records import website as records
from .common import int_param, site_by_name

MAX_THREADS_PER_COUNT = 100
MAX_PAGE = 200
THREAD_SORTS = ("oldest", "newest", "replies")
CORS = {"Access-Control-Allow-Origin": "*"}


def _public_headers(cache: TTLCache) -> dict[str, str]:
    if cache.seconds <= 0:
        return CORS
    return {**CORS, "Cache-Control": f"public, max-age={max(1, round(cache.seconds))}"}


def cached(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
    """Serves a public read from the app's ``PUBLIC_ANSWERS`` cache when it holds
    the answer to the same path and query, else asks *handler* and keeps its 200s
    (``public_cache_seconds``). Why: a popular article's comments are read by
    every reader who opens it, a thousand times for each new comment; within a
    second they are the same bytes. A new comment shows within that time."""

    @functools.wraps(handler)
    async def serve(request: web.Request) -> web.StreamResponse:
        cache = request.app[PUBLIC_ANSWERS]
        key = request.path_qs
        body = cache.get(key)
        if body is not None:
            return web.Response(body=body, content_type="application/json",
                                headers=_public_headers(cache))
        response = await handler(request)
        if response.status == 200 and isinstance(response, web.Response):
            cache.put(key, response.body)
        response.headers.update(_public_headers(cache))
        return response

    return serve


@asynccontextmanager
async def _unknown_site_first(request: web.Request) -> AsyncIterator[None]:
    """Around the reading of query parameters: when one is invalid, an unknown
    site still answers 404, not 400. The site itself is looked up in the same
    query as the rows (one round trip), so on valid parameters this costs nothing."""
    try:
        yield
    except ApiError:
        await site_by_name(request)   # raises the 404 when no site has that name
        raise


def _sort_param(request: web.Request) -> str:
    sort = request.query.get("sort", "oldest")
    if sort not in THREAD_SORTS:
        raise ApiError(400, "invalid_parameter", fields=[
            FieldError("sort", "invalid_choice", {"choices": ", ".join(THREAD_SORTS)})])
    return sort


def thread_item(comment: PublicComment) -> records.PublicComment:
    """A comment of a public thread page: its public fields and its count of
    published replies; a placeholder (``removed``) has no name and no text."""
    return records.PublicComment(
        id=comment.id, parent_id=comment.parent_id, author_name=comment.author_name, body=comment.body,
        created_at=iso(comment.created_at), replies=comment.replies, removed=comment.removed)


@cached
async def thread_comments(request: web.Request) -> web.Response:
    """A page of a thread's comments, in the order *sort* asks (``oldest``,
    ``newest``, ``replies``); ``next`` is what to pass as ``after`` for the next
    page (the last id read, or for ``replies`` how many were read), None at the end."""
    thread = request.match_info["thread"]
    async with _unknown_site_first(request):
        sort = _sort_param(request)
        limit = int_param(request, "limit", 50, 1, MAX_PAGE)
        after = int_param(request, "after", 0, 0, 2**53)
    comments = await request.app[STORE].public_thread_page(
        request.match_info["site"], thread, after_id=after, limit=limit + 1, sort=sort)
    if comments is None:
        raise not_found()
    page = comments[:limit]
    more = len(comments) > limit
    return json_response(to_json(records.ThreadPage(
        thread=thread, sort=sort, items=[thread_item(c) for c in page],
        next=(after + limit if sort == "replies" else page[-1].id) if more else None)), headers=CORS)


@cached
async def counts(request: web.Request) -> web.Response:
    async with _unknown_site_first(request):
        threads = list(dict.fromkeys(request.query.getall("thread", [])))
        if not threads or len(threads) > MAX_THREADS_PER_COUNT:
            raise ApiError(400, "invalid_parameter", fields=[
                FieldError("thread", "invalid_value", {"min": 1, "max": MAX_THREADS_PER_COUNT})])
    result = await request.app[STORE].site_published_counts(request.match_info["site"], threads)
    if result is None:
        raise not_found()
    return json_response(to_json(records.Counts(counts=result)), headers=CORS)


@cached
async def top_threads(request: web.Request) -> web.Response:
    async with _unknown_site_first(request):
        days = int_param(request, "days", 7, 1, 365)
        limit = int_param(request, "limit", 10, 1, 100)
    rows = await request.app[STORE].site_top_threads(
        request.match_info["site"], since=time.time() - days * 86400, limit=limit)
    if rows is None:
        raise not_found()
    items = [records.TopThread(thread=r.thread_id, url=r.url, title=r.title, count=r.count) for r in rows]
    return json_response(to_json(records.TopThreads(days=days, items=items)), headers=CORS)
