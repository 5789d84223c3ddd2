"""The moderators' pages: sign in and out, the queue, one comment.

Pages are rendered on the server; decisions on the queue are made by the
page's script through the JSON API (``/v1/review/...``, session cookie plus
``X-CSRF-Token``), so they share its rules, its 409 conflicts and its tests.
The same buttons are also plain forms posting here, so a moderator without
script can still work. Every POST checks the session's CSRF token first.
The work is done by :class:`moderation.services.review.ReviewDesk`; handlers glue.
"""
from __future__ import annotations

import time
from collections import Counter
from urllib.parse import quote

from aiohttp import web

from ..credentials import hash_secret
from ..domain import DecisionConflict, InvalidParameter, Reason, Status, author_keys
from ..edge import path_id, read_form, request_cookie
from ..errors import ApiError, FieldError, csrf_failed, not_found, validation_failed
from ..guard import ip_prefix
from ..i18n import message
from ..keys import AUTHOR_RULES, MODERATOR, REVIEW, SETTINGS, STORE, THREAD_RULES
from ..policy import Bands
from ..review.decisions import Action, parse_decision, target_status
from ..review.queue import DEFAULT_LIMIT, QUEUE_STATUSES, Order, parse_queue_query
from ..domain import iso
from ..review.views import current_view, queue_item
from ..review.surge_views import surge_badge
from ..services import authors, threads
from ..services.review import QueuePage, thresholds_in_effect
from ..validation import ValidationFailed
from .present import ago, query_url, score_bar, score_text, thread_rows, web_link
from .render import STATIC_DIR, page_language, render
from .session import (CSRF_FIELD, PAGES_ROOT, SIGNIN_COOKIE, SIGNIN_COOKIE_SECONDS, SIGNIN_PATH,
                      WebSession, cookie_options, csrf_given, load_session, new_session_id,
                      request_is_https, safe_next, session_cookie_name, session_hash,
                      tokens_match)
from .texts import STATUS_KEYS, text

QUEUE_EXPLAIN_TOP = 4
"""Reasons in words shown under each comment of the queue."""
THREAD_WINDOW = 60
AGE_CHOICES = ((3600, "filters.hour"), (86400, "filters.day"), (7 * 86400, "filters.week"),
               (30 * 86400, "filters.month"))
LIMIT_CHOICES = (20, 50, 100, 200)
MAX_TOKEN_CHARS = 200
SIGNIN_WINDOW_SECONDS = 60.0   # signin_failures_per_minute counts over this window


def _actions(status: str) -> list[str]:
    """The actions offered on a comment: those that would change its status."""
    return [a.value for a in Action if target_status(a).value != status]


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


async def _page_session(request: web.Request) -> WebSession:
    """The signed-in moderator; a GET without a session goes to the sign-in
    page (and back here after), anything else gets 401."""
    session = await load_session(request)
    if session is None:
        if request.method == "GET":
            raise web.HTTPSeeOther(f"{SIGNIN_PATH}?next={quote(request.path_qs, safe='')}")
        raise ApiError(401, "session_expired")
    request[MODERATOR] = session.moderator
    return session


async def _checked_form(request: web.Request, session: WebSession):
    """The posted form, once its CSRF token (field or header) matches the session's."""
    form = await read_form(request)
    if not tokens_match(session.csrf_token, csrf_given(request, form)):
        raise csrf_failed()
    return form


# -- sign in, sign out
def _signin_form(request: web.Request, *, status: int = 200, error: str | None = None,
                 headers: dict[str, str] | None = None, notice: str | None = None,
                 next_path: str = PAGES_ROOT) -> web.Response:
    """The sign-in page with a fresh double-submit token (cookie and field)."""
    signin_token = new_session_id()
    response = render(request, "signin.html", status=status, headers=headers, error=error,
                      notice=notice, next_path=next_path, signin_token=signin_token)
    response.set_cookie(SIGNIN_COOKIE, signin_token, **cookie_options(
        secure=request_is_https(request), path=SIGNIN_PATH, max_age=SIGNIN_COOKIE_SECONDS))
    return response


async def signin_page(request: web.Request) -> web.Response:
    next_path = safe_next(request.query.get("next"))
    if await load_session(request) is not None:
        return _see_other(next_path)
    notice = "signin.signed_out" if "signed_out" in request.query else None
    return _signin_form(request, notice=notice, next_path=next_path)


def _client_network(request: web.Request) -> str:
    try:
        return ip_prefix(request.remote or "")
    except ValueError:
        return request.remote or ""


async def signin(request: web.Request) -> web.Response:
    """Check the token, open a session, go to the queue (or where the
    moderator was going). Failures are counted per IP prefix in the database,
    so the limit holds across workers and hosts; every attempt counts until it
    succeeds, so parallel guesses cannot all pass the check first."""
    form = await read_form(request)
    if not tokens_match(request_cookie(request, SIGNIN_COOKIE), form.get(CSRF_FIELD)):
        raise csrf_failed()
    next_path = safe_next(form.get("next"))
    settings, store, now = request.app[SETTINGS], request.app[STORE], time.time()
    attempt = None
    if settings.signin_failures_per_minute > 0:
        attempt = await store.begin_signin_attempt(
            _client_network(request), now=now, window_seconds=SIGNIN_WINDOW_SECONDS,
            max_failures=settings.signin_failures_per_minute)
        if attempt.attempt_id is None:
            wait = attempt.retry_after
            return _signin_form(request, status=429, headers={"Retry-After": str(wait)},
                                error=message("signin_rate_limited", page_language(request),
                                              retry_after=wait), next_path=next_path)
    token = str(form.get("token", "")).strip()
    moderator = None
    if 0 < len(token) <= MAX_TOKEN_CHARS:
        moderator = await store.moderator_by_token_hash(hash_secret(token))
    if moderator is None:   # the attempt stays counted as a failure
        return _signin_form(request, status=401, error=text("signin.failed", page_language(request)),
                            next_path=next_path)
    if attempt is not None:
        await store.forget_signin_attempt(attempt.attempt_id)
    previous = await load_session(request)
    if previous is not None:
        await store.delete_session(session_hash(previous.id))
    lifetime = max(60, int(settings.session_hours * 3600))
    session_id = new_session_id()
    await store.create_session(id_hash=session_hash(session_id), moderator_id=moderator.id,
                               now=now, expires_at=now + lifetime)
    secure = request_is_https(request)
    response = _see_other(next_path)
    response.set_cookie(session_cookie_name(secure), session_id,
                        **cookie_options(secure=secure, path="/", max_age=lifetime))
    response.set_cookie(SIGNIN_COOKIE, "", **cookie_options(secure=secure, path=SIGNIN_PATH,
                                                            max_age=0))
    return response


async def signout(request: web.Request) -> web.Response:
    """Forget the session on the server and in the browser."""
    session = await load_session(request)
    if session is not None:
        await _checked_form(request, session)
        await request.app[STORE].delete_session(session_hash(session.id))
    secure = request_is_https(request)
    response = _see_other(f"{SIGNIN_PATH}?signed_out=1")
    response.set_cookie(session_cookie_name(secure), "",
                        **cookie_options(secure=secure, path="/", max_age=0))
    return response


# -- the queue
def _problems(fields, language: str) -> list[str]:
    return [f"{f.field}: {message(f.code, language, **f.params)}" for f in fields]


async def _queue_items(request: web.Request, page: QueuePage, now: float) -> list[dict]:
    """What the template shows of each comment of a queue page."""
    comments = [row.comment for row in page.rows]
    desk = request.app[REVIEW]
    explanations = await desk.explain(comments, top=0, readable_top=QUEUE_EXPLAIN_TOP)
    bands, language = desk.model_bands(), page_language(request)
    items = []
    for comment in comments:
        site = page.sites[comment.site_id]
        in_effect, _ = thresholds_in_effect(site, bands)
        items.append({
            "comment": comment, "site": site.name, "bands": in_effect,
            "bar": score_bar(comment.spam_score, in_effect), "score": score_text(comment.spam_score),
            "ago": ago(now - comment.created_at, language), "iso": iso(comment.created_at),
            "thread_link": web_link(comment.thread_url),
            "why": explanations[comment.id]["readable"], "actions": _actions(comment.status.value),
            "surge": surge_badge(page.surges.get((comment.site_id, comment.thread_id)))})
    return items


async def queue_page(request: web.Request) -> web.Response:
    """The queue with the API's filters and orders (an empty field is no filter)."""
    session = await _page_session(request)
    now = time.time()
    params = {k: v for k, v in request.query.items() if v.strip()}
    sites = [s for s in await request.app[STORE].list_sites() if session.moderator.may_moderate(s.id)]
    status = params.get("status")
    context = {
        "params": params, "sites": sites, "reasons": [r.value for r in Reason],
        "orders": [o.value for o in Order], "ages": AGE_CHOICES, "limits": LIMIT_CHOICES,
        "default_limit": DEFAULT_LIMIT, "here": request.path_qs,
        "url_with": lambda **changes: query_url(PAGES_ROOT, params, **changes),
        "queue_status": status if status in QUEUE_STATUSES else Status.PENDING.value,
        "items": [], "problems": [], "counts": dict.fromkeys(QUEUE_STATUSES, 0),
        "next_url": None, "first_url": None}
    try:
        query = parse_queue_query(params, now, counts=Counter(
            k for k, v in request.query.items() if v.strip()))
        page = await request.app[REVIEW].queue(session.moderator, query, now)
    except (ApiError, InvalidParameter) as error:
        if isinstance(error, ApiError) and error.status != 400:
            raise
        fields = (error.fields if isinstance(error, ApiError)
                  else [FieldError(error.field, "invalid_value")])
        context["problems"] = _problems(fields, page_language(request))
        return render(request, "queue.html", status=400, **context)
    context.update(
        items=await _queue_items(request, page, now), counts=page.counts,
        next_url=query_url(PAGES_ROOT, params, cursor=page.next) if page.next else None,
        first_url=query_url(PAGES_ROOT, params, cursor=None) if "cursor" in params else None)
    return render(request, "queue.html", **context)


# -- one comment
async def _comment_view(request: web.Request, comment, *, status: int = 200,
                        conflict: dict | None = None, problems: list[str] | None = None,
                        decided: bool = False, thread_changed: bool = False) -> web.Response:
    detail = await request.app[REVIEW].detail(comment, time.time())
    rule = await request.app[THREAD_RULES].rule(request.app[STORE], comment.site_id, comment.thread_id)
    thread = await request.app[STORE].thread_context(comment.id, limit=THREAD_WINDOW)
    limits = detail["thresholds"]
    bar = score_bar(comment.spam_score, None if limits is None else
                    Bands(limits["approve_below"], limits["reject_above"]))
    language = page_language(request)
    conflict_text = None
    if conflict is not None:
        current = text(f"status.{conflict['status']}", language)
        last = conflict.get("last_event")
        conflict_text = (text("comment.conflict", language, actor=last["actor"], status=current)
                         if last else text("comment.conflict_unknown", language, status=current))
    return render(
        request, "comment.html", status=status, c=comment, detail=detail, bar=bar,
        score=score_text(comment.spam_score), thread=thread_rows(thread),
        thread_full=len(thread) < THREAD_WINDOW, thread_link=web_link(comment.thread_url),
        referrer_link=web_link(comment.referrer),
        ago=ago(time.time() - comment.created_at, language),
        actions=[] if comment.erased_at is not None else _actions(comment.status.value),
        conflict=conflict_text, problems=problems or [], decided=decided,
        rule=rule, rule_closed_at=iso(rule.closed_at) if rule and rule.closed else "",
        thread_changed=thread_changed,
        back=safe_next(request.query.get("back")), here=request.path_qs)


async def _comment_in_scope(request: web.Request, session: WebSession):
    from_path = path_id(request, "comment_id")
    return await request.app[REVIEW].comment(session.moderator, from_path)


async def comment_page(request: web.Request) -> web.Response:
    session = await _page_session(request)
    comment = await _comment_in_scope(request, session)
    return await _comment_view(request, comment, decided="decided" in request.query,
                               thread_changed="thread" in request.query)


async def thread_form(request: web.Request) -> web.Response:
    """Close or reopen a comment's thread, pre-moderate it or stop (the
    buttons of the comment's page); back to the page."""
    session = await _page_session(request)
    form = await _checked_form(request, session)
    comment = await _comment_in_scope(request, session)
    flags = {}
    for name in ("closed", "premoderated"):
        value = form.get(name)
        if value is not None:
            if value not in ("true", "false"):
                raise validation_failed([FieldError(name, "invalid_value")])
            flags[name] = value == "true"
    site = (await request.app[REVIEW].sites())[comment.site_id]
    await threads.set_rule(request.app[STORE], session.moderator, site=site.name,
                           thread=comment.thread_id, rules=request.app[THREAD_RULES],
                           max_thread_chars=request.app[SETTINGS].max_thread_id_chars, **flags)
    return _see_other(f"{PAGES_ROOT}/comments/{comment.id}?thread=1")


def _form_decision(form) -> dict:
    """The decision fields of a posted form, as the JSON API would get them."""
    payload = {}
    for name in ("action", "expected_status", "reason", "note"):
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            payload[name] = value
    return payload


async def decide_form(request: web.Request) -> web.Response:
    """A decision posted by a form: back where the moderator was, or the
    comment's page saying who decided first (409)."""
    session = await _page_session(request)
    form = await _checked_form(request, session)
    comment = await _comment_in_scope(request, session)
    try:
        decision = parse_decision(_form_decision(form))
    except ValidationFailed as failed:
        return await _comment_view(request, comment, status=422,
                                   problems=_problems(failed.errors, page_language(request)))
    try:
        await request.app[REVIEW].decide(session.moderator, comment, decision, time.time())
    except DecisionConflict as conflict:
        fresh = await request.app[STORE].get_comment(comment.id)
        return await _comment_view(request, fresh or comment, status=409,
                                   conflict=current_view(conflict.outcome))
    target = form.get("next")
    if isinstance(target, str) and target:
        return _see_other(safe_next(target))
    return _see_other(f"{PAGES_ROOT}/comments/{comment.id}?decided=1")


async def decide_bulk_form(request: web.Request) -> web.Response:
    """A bulk decision posted by a form (the queue without script): a page
    listing what became of each comment."""
    session = await _page_session(request)
    form = await _checked_form(request, session)
    ids, bad = [], []
    for index, raw in enumerate(form.getall("ids", [])):
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            bad.append(FieldError(f"ids[{index}]", "invalid_value"))
    if bad:
        raise validation_failed(bad)
    payload = {"ids": ids, **{k: v for k, v in _form_decision(form).items()
                              if k in ("action", "expected_status")}}
    try:
        decision = parse_decision(payload, bulk=True)
    except ValidationFailed as failed:
        raise validation_failed(failed.errors) from None
    answer = await request.app[REVIEW].decide_many(session.moderator, decision, time.time())
    return render(request, "bulk_result.html", answer=answer,
                  back=safe_next(form.get("next") if isinstance(form.get("next"), str) else None))


STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}
_static_cache: dict[str, bytes] = {}


async def static_file(request: web.Request) -> web.Response:
    """The pages' style sheet and script: only the files shipped in
    ``web/static``, read once; anything else is the pages' own 404."""
    name = request.match_info["filename"]
    path = STATIC_DIR / name
    if name not in _static_cache:
        if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES \
                or not path.is_file():
            raise not_found()
        _static_cache[name] = path.read_bytes()
    return web.Response(body=_static_cache[name], content_type=STATIC_TYPES[path.suffix])


AUTHOR_KEYS = ("email", "ip", "name")


async def author_page(request: web.Request) -> web.Response:
    """One author's comments on the moderator's sites, the rules that match
    them, and the buttons that set one (``?email=``, ``?ip=`` or ``?name=``)."""
    session = await _page_session(request)
    given = [name for name in AUTHOR_KEYS if request.query.get(name)]
    if len(given) != 1:
        raise validation_failed([FieldError("email", "invalid_value")])
    by, value = given[0], request.query[given[0]]
    store, now = request.app[STORE], time.time()
    counts, comments = await authors.history(store, session.moderator, by=by, value=value)
    sites = [s for s in await store.list_sites() if session.moderator.may_moderate(s.id)]
    names = {s.id: s.name for s in sites}
    email = value if by == "email" else next((c.author_email for c in comments if c.author_email), "")
    network = value if by == "ip" else next((c.ip_prefix for c in comments if c.ip_prefix), "")
    keys = author_keys(email, authors.rule_value("ip", network) if by == "ip" else network)
    rules = [{"rule": r, "site": names[r.site_id], "until": iso(r.expires_at)}
             for site in sites for r in await store.author_rules(site.id)
             if r.active(now) and keys.get(r.kind) == r.value]
    return render(request, "author.html", who=value, counts=counts, statuses=STATUS_KEYS,
                  comments=[queue_item(c, names.get(c.site_id, ""), now=now) for c in comments],
                  rules=rules, keys=[(k.value, v) for k, v in keys.items()], sites=list(names.values()),
                  default_site=names.get(comments[0].site_id) if comments else None,
                  changed="changed" in request.query, here=request.path_qs,
                  back=safe_next(request.query.get("back")))


def _back_to(form, changed: str = "changed=1") -> web.Response:
    target = safe_next(form.get("next") if isinstance(form.get("next"), str) else None)
    return _see_other(target + ("&" if "?" in target else "?") + changed)


async def author_rule_form(request: web.Request) -> web.Response:
    """Set a rule from the author page's buttons."""
    session = await _page_session(request)
    form = await _checked_form(request, session)
    kind, _, value = str(form.get("key", "")).partition(":")
    days = str(form.get("days", "")).strip()
    if days and not (days.isascii() and days.isdigit() and 0 < int(days) <= 36500):
        raise validation_failed([FieldError("days", "out_of_range", params={"min": 1, "max": 36500})])
    await authors.set_rule(request.app[STORE], session.moderator, site=str(form.get("site", "")),
                           kind=kind, value=value, action=str(form.get("action", "")),
                           note=str(form.get("note", "")),
                           expires_at=time.time() + int(days) * 86400 if days else None,
                           rules=request.app[AUTHOR_RULES])
    return _back_to(form)


async def author_rule_remove_form(request: web.Request) -> web.Response:
    """Remove a rule from the author page."""
    session = await _page_session(request)
    form = await _checked_form(request, session)
    raw = str(form.get("rule_id", ""))
    if not (raw.isascii() and raw.isdigit() and 0 < int(raw) < 2 ** 63):
        raise validation_failed([FieldError("rule_id", "invalid_value")])
    await authors.remove_rule(request.app[STORE], session.moderator, site=str(form.get("site", "")),
                              rule_id=int(raw), rules=request.app[AUTHOR_RULES])
    return _back_to(form)
