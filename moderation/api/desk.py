"""Running a news desk over the API: sites, moderators and threads after they
were created, and the log of those changes.

Admins (admin token or session): ``GET /v1/admin/sites``; ``PATCH
/v1/admin/sites/{site}`` (``mode``, ``lang``, ``approve_below``,
``reject_above``: any of them; a threshold ``null`` goes back to the model's);
``POST /v1/admin/sites/{site}/key`` (``overlap_hours``, 24 by default: the
new key is in the answer, once; the old one works until ``previous_key_until``);
``GET /v1/admin/moderators``; ``PATCH /v1/admin/moderators/{name}`` (``role``,
``sites``: names, ``[]`` for every site); ``POST
/v1/admin/moderators/{name}/revoke`` (token and sessions end at once);
``GET /v1/admin/events`` (``limit``, ``site``).

Moderators of the site: ``POST /v1/review/sites/{site}/threads/{thread}``
(``closed``, ``premoderated``: booleans, either or both).

Each handler checks the body's fields here (422 naming the field), then calls
:mod:`moderation.services.admin` or :mod:`moderation.services.threads`.
"""
from __future__ import annotations

from aiohttp import web

from ..domain import (DEFAULT_KEY_OVERLAP_HOURS, MAX_SITES_PER_MODERATOR, Mode, Moderator, NotFound, Role, Site,
                      iso)
from ..errors import FieldError
from ..jsonanswer import json_response
from ..keys import SETTINGS, STORE, THREAD_RULES
from ..services import admin, threads
from ..records import desk, to_json
from ..validation import FieldChecker, ValidationFailed
from .auth import require_moderator
from .review import read_json_object

MAX_EVENTS = 500


def site_view(site: Site) -> desk.SiteView:
    return desk.SiteView(name=site.name, url=site.url, lang=site.lang, mode=site.mode,
                         approve_below=site.approve_below, reject_above=site.reject_above,
                         auto_trust_after=site.auto_trust_after, created_at=iso(site.created_at))


def moderator_view(moderator: Moderator, site_names: dict[int, str]) -> desk.ModeratorView:
    return desk.ModeratorView(name=moderator.name, role=moderator.role,
                              sites=[site_names.get(i, str(i)) for i in moderator.site_ids],
                              created_at=iso(moderator.created_at), revoked=moderator.revoked)


async def _admin(request: web.Request) -> Moderator:
    return await require_moderator(request, role=Role.ADMIN)


async def _found(call):
    """A service's answer; its "no such site / moderator" becomes 404."""
    try:
        return await call
    except admin.AdminError as error:
        if error.usage:
            raise ValidationFailed([FieldError("body", "invalid_value", detail=str(error))]) from None
        raise NotFound() from None


async def _site_names(store) -> dict[int, str]:
    return {site.id: site.name for site in await store.list_sites()}


async def list_sites(request: web.Request) -> web.Response:
    await _admin(request)
    return json_response(to_json(desk.Sites([site_view(s) for s in await request.app[STORE].list_sites()])))


async def change_site(request: web.Request) -> web.Response:
    actor = await _admin(request)
    store, name = request.app[STORE], request.match_info["site"]
    check = FieldChecker()
    given = check.object(await read_json_object(request), "",
                         ("mode", "lang", "approve_below", "reject_above", "auto_trust_after"), required=True)
    mode = check.choice(given, "mode", tuple(m.value for m in Mode))
    lang = check.choice(given, "lang", admin.SITE_LANGUAGES)
    low = check.number(given, "approve_below", 0.0, 1.0, nullable=True)
    high = check.number(given, "reject_above", 0.0, 1.0, nullable=True)
    trust = check.number(given, "auto_trust_after", 0, admin.MAX_AUTO_TRUST_AFTER)
    if trust is not None and trust != int(trust):
        check.fail("auto_trust_after", "invalid_type", expected="integer")
    if low is not None and high is not None and low > high:
        check.fail("approve_below", "out_of_range", min=0, max=high)
    if not given:
        check.fail("body", "nothing_to_change")
    check.done()
    site = await _found(admin.change_site(   # one change, one record in the admin log
        store, name, mode=mode, lang=lang, actor=actor.name,
        approve_below=low if "approve_below" in given else admin.KEEP,
        reject_above=high if "reject_above" in given else admin.KEEP,
        auto_trust_after=None if trust is None else int(trust)))
    return json_response(to_json(site_view(site)))


async def rotate_site_key(request: web.Request) -> web.Response:
    actor = await _admin(request)
    payload = await read_json_object(request) if request.can_read_body else {}
    check = FieldChecker()
    given = check.object(payload, "", ("overlap_hours",), required=True)
    hours = check.number(given, "overlap_hours", 0.0, float(admin.MAX_KEY_OVERLAP_HOURS))
    check.done()
    site, key, until = await _found(admin.rotate_site_key(
        request.app[STORE], request.match_info["site"], actor=actor.name,
        overlap_hours=DEFAULT_KEY_OVERLAP_HOURS if hours is None else hours))
    return json_response(to_json(desk.KeyRotated(site=site.name, key=key, previous_key_until=iso(until))),
                         headers={"Cache-Control": "no-store"})


async def list_moderators(request: web.Request) -> web.Response:
    await _admin(request)
    store = request.app[STORE]
    names = await _site_names(store)
    moderators = [moderator_view(m, names) for m in await store.list_moderators()]
    return json_response(to_json(desk.Moderators(moderators)))


async def change_moderator(request: web.Request) -> web.Response:
    actor = await _admin(request)
    store = request.app[STORE]
    check = FieldChecker()
    given = check.object(await read_json_object(request), "", ("role", "sites"), required=True)
    role = check.choice(given, "role", tuple(r.value for r in Role))
    sites = check.names(given, "sites", MAX_SITES_PER_MODERATOR, "list of site names")
    if role is None and sites is None and not check.errors:
        check.fail("body", "nothing_to_change")
    check.done()
    names = await _site_names(store)
    unknown = [FieldError("sites", "invalid_value", detail=s) for s in sites or () if s not in names.values()]
    if unknown:
        raise ValidationFailed(unknown)
    moderator = await _found(admin.change_moderator(store, request.match_info["name"], role=role,
                                                    site_names=sites, actor=actor.name))
    return json_response(to_json(moderator_view(moderator, names)))


async def revoke_moderator(request: web.Request) -> web.Response:
    actor = await _admin(request)
    name = request.match_info["name"]
    ended = await _found(admin.revoke_moderator(request.app[STORE], name, actor=actor.name))
    return json_response(to_json(desk.ModeratorRevoked(name=name, revoked=True, sessions_ended=ended)))


async def admin_events(request: web.Request) -> web.Response:
    await _admin(request)
    raw = request.query.get("limit", "50")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_EVENTS:
        raise ValidationFailed([FieldError("limit", "out_of_range", params={"min": 1, "max": MAX_EVENTS})])
    events = await _found(admin.admin_log(request.app[STORE], limit=int(raw), site=request.query.get("site")))
    return json_response(to_json(desk.AdminEvents([
        desk.AdminEvent(at=iso(e.at), actor=e.actor, action=e.action, target=e.target, detail=e.detail)
        for e in events])))


async def set_thread(request: web.Request) -> web.Response:
    moderator = await require_moderator(request)
    check = FieldChecker()
    given = check.object(await read_json_object(request), "", ("closed", "premoderated"), required=True)
    closed, premoderated = check.boolean(given, "closed"), check.boolean(given, "premoderated")
    check.done()
    rule = await threads.set_rule(
        request.app[STORE], moderator, site=request.match_info["site"], thread=request.match_info["thread"],
        closed=closed, premoderated=premoderated, rules=request.app[THREAD_RULES],
        max_thread_chars=request.app[SETTINGS].max_thread_id_chars)
    return json_response(to_json(desk.ThreadRule(
        site=request.match_info["site"], thread=rule.thread, closed=rule.closed,
        closed_at=iso(rule.closed_at), premoderated=rule.premoderated)))
