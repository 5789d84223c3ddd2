"""Commenters, for moderators: one author's history and the rules set on
authors (:mod:`moderation.services.authors`).

- ``GET /v1/review/authors?email=...`` (or ``ip=``, ``name=``; ``limit``):
  ``{"counts": {status: n}, "comments": [...]}`` on the moderator's sites.
- ``GET /v1/review/sites/{site}/authors/rules``: the site's rules.
- ``POST /v1/review/sites/{site}/authors/rules`` with ``{"kind": "email" |
  "domain" | "ip", "value", "action": "ban" | "shadow_ban" | "watch" |
  "trust", "note"?, "expires_at"?: ISO date-time}``: sets the rule on that key
  (replacing one there).
- ``DELETE /v1/review/sites/{site}/authors/rules/{rule_id}``.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from aiohttp import web

from ..domain import AuthorRule, iso
from ..edge import path_id
from ..errors import FieldError
from ..jsonanswer import json_response
from ..keys import AUTHOR_RULES, STORE
from ..records import desk, to_json
from ..review.views import queue_record
from ..services import authors
from ..validation import ValidationFailed
from .auth import require_moderator
from .review import read_json_object

RULE_FIELDS = ("kind", "value", "action", "note", "expires_at")


def rule_view(rule: AuthorRule, site: str, now: float) -> desk.AuthorRule:
    return desk.AuthorRule(id=rule.id, site=site, kind=rule.kind, value=rule.value, action=rule.action,
                           note=rule.note, expires_at=iso(rule.expires_at), active=rule.active(now),
                           created_by=rule.created_by, created_at=iso(rule.created_at))


async def author_history(request: web.Request) -> web.Response:
    moderator = await require_moderator(request)
    given = [name for name in ("email", "ip", "name") if name in request.query]
    raw_limit = request.query.get("limit", str(authors.HISTORY_LIMIT))
    errors = []
    if len(given) != 1:
        errors.append(FieldError("email", "invalid_value", detail="give exactly one of email, ip, name"))
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= authors.HISTORY_LIMIT:
        errors.append(FieldError("limit", "out_of_range", params={"min": 1, "max": authors.HISTORY_LIMIT}))
    if errors:
        raise ValidationFailed(errors)
    store, now = request.app[STORE], time.time()
    counts, comments = await authors.history(store, moderator, by=given[0], value=request.query[given[0]],
                                             limit=int(raw_limit))
    names = {site.id: site.name for site in await store.list_sites()}
    return json_response(to_json(desk.AuthorHistory(
        counts=counts, comments=[queue_record(c, names.get(c.site_id, ""), now=now) for c in comments])))


async def list_rules(request: web.Request) -> web.Response:
    moderator = await require_moderator(request)
    site, now = request.match_info["site"], time.time()
    rules = await authors.site_rules(request.app[STORE], moderator, site=site)
    return json_response(to_json(desk.AuthorRules([rule_view(r, site, now) for r in rules])))


def _expiry(payload: dict) -> float | None:
    raw = payload.get("expires_at")
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        moment = None
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
    except (AttributeError, OverflowError, ValueError):   # None, or a moment no clock can hold
        raise ValidationFailed([FieldError("expires_at", "invalid_value")]) from None


async def set_rule(request: web.Request) -> web.Response:
    moderator = await require_moderator(request)
    payload = await read_json_object(request)
    errors = [FieldError(name, "unknown_field") for name in payload if name not in RULE_FIELDS]
    for name in ("kind", "value", "action"):
        if not isinstance(payload.get(name), str):
            errors.append(FieldError(name, "required" if name not in payload else "invalid_type",
                                     params={"expected": "string"}))
    if "note" in payload and not isinstance(payload["note"], str):
        errors.append(FieldError("note", "invalid_type", params={"expected": "string"}))
    if errors:
        raise ValidationFailed(errors)
    site = request.match_info["site"]
    rule = await authors.set_rule(request.app[STORE], moderator, site=site, kind=payload["kind"],
                                  value=payload["value"], action=payload["action"],
                                  note=payload.get("note", ""), expires_at=_expiry(payload),
                                  rules=request.app[AUTHOR_RULES])
    return json_response(to_json(rule_view(rule, site, time.time())), status=201)


async def remove_rule(request: web.Request) -> web.Response:
    moderator = await require_moderator(request)
    site = request.match_info["site"]
    rule = await authors.remove_rule(request.app[STORE], moderator, site=site,
                                     rule_id=path_id(request, "rule_id"), rules=request.app[AUTHOR_RULES])
    return json_response(to_json(rule_view(rule, site, time.time())))
