"""The review queue: which comments, in which order, one page at a time. Pure.

Filters (query parameters of ``GET /v1/review/queue``, each at most once):

==============  ==========================================================
``status``      ``pending`` (default) or ``spam`` (the spam folder)
``site``        a site's name (else every site the moderator may see)
``thread``      a thread id as the website names it
``language``    the detected language (``fr``, ``en``, ``unknown``...)
``reason``      a reason code the comment carries (``model_uncertain``...)
``min_score``   spam score at least this (0-1); unscored comments drop out
``max_score``   spam score at most this (0-1); unscored comments drop out
``min_age``     submitted at least this many seconds ago
``max_age``     submitted at most this many seconds ago
``order``       ``uncertain`` (default), ``oldest``, ``score``, ``safest``,
                ``flags``
``limit``       page size, 1-200 (default 50)
``cursor``      the ``next`` value of the previous page
==============  ==========================================================

Orders, each a sort key then the comment id (so ties are stable):

- ``uncertain``: most uncertain first. The key is :func:`uncertainty`: the
  distance of the score from the middle of the review band in effect for the
  comment's site (site override, else the loaded model's thresholds, else
  :data:`NO_MODEL_BANDS`), in band widths. Inside the band the key is below
  0.5 and smallest at its middle; outside, it is 0.5 plus the distance to the
  nearer threshold, so near-misses come before clear cases. Unscored comments
  (no model, a scoring fault) come first, with key :data:`UNSCORED_KEY`: the
  model could not judge them at all.
- ``oldest``: oldest submission first (key: ``created_at``).
- ``score``: highest spam score first; unscored last (key: score, else -1).
- ``safest``: lowest spam score first, for sites that pre-moderate clear ham;
  unscored last (key: score, else 2).
- ``flags``: most flagged by readers first (key: the number of readers' flags).

Paging is keyset paging: the cursor is opaque base64url JSON holding the order,
the last item's sort key and id; the next page starts strictly after them, so
a comment decided meanwhile never shifts a page. Keys are recomputed from the
thresholds in effect: a model reload or a threshold change between two pages
may move a comment across the cursor.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..domain import QUEUE_STATUSES, Bands, Cursor, Order, QueueFilter, Reason, Status
from ..errors import ApiError, FieldError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_AGE_SECONDS = 10 * 365 * 86400
MAX_TEXT_PARAM_CHARS = 200
NO_MODEL_BANDS = Bands(approve_below=0.5, reject_above=0.5)
"""Thresholds assumed when no model is loaded and the site sets none."""

QUERY_PARAMETERS = ("status", "site", "thread", "language", "reason", "min_score", "max_score",
                    "min_age", "max_age", "order", "limit", "cursor")


@dataclass(frozen=True, slots=True)
class QueueQuery:
    """A parsed queue request. ``site`` is still a name: the handler resolves it."""

    filter: QueueFilter
    site: str | None
    order: Order
    limit: int
    after: Cursor | None


def encode_cursor(order: Order, key: float, comment_id: int) -> str:
    raw = json.dumps({"o": order.value, "k": key, "i": comment_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(text: str, order: Order) -> Cursor:
    """The cursor *text* holds; ``ValueError`` when it is not one of ours for *order*."""
    if not text or len(text) > 200:
        raise ValueError("cursor length")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("cursor encoding") from exc
    if not isinstance(value, dict) or set(value) != {"o", "k", "i"}:
        raise ValueError("cursor shape")
    key, comment_id = value["k"], value["i"]
    if value["o"] != order.value:
        raise ValueError("cursor made for another order")
    if isinstance(key, bool) or not isinstance(key, (int, float)) or not math.isfinite(key):
        raise ValueError("cursor key")
    if isinstance(comment_id, bool) or not isinstance(comment_id, int) or comment_id < 1:
        raise ValueError("cursor id")
    return Cursor(order=order, key=float(key), id=comment_id)


class _Params:
    """Reads query parameters, collecting every problem."""

    def __init__(self, query: Mapping[str, str], counts: Mapping[str, int]) -> None:
        self.query = query
        self.errors: list[FieldError] = []
        for name, count in counts.items():
            if name not in QUERY_PARAMETERS:
                self.errors.append(FieldError(name, "unknown_field"))
            elif count > 1:
                self.errors.append(FieldError(name, "duplicate_value"))

    def text(self, name: str) -> str | None:
        value = self.query.get(name)
        if value is None:
            return None
        if not value.strip() or len(value) > MAX_TEXT_PARAM_CHARS or not value.isprintable():
            self.errors.append(FieldError(name, "invalid_value"))
            return None
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.query.get(name)
        if value is None:
            return default
        if value not in choices:
            self.errors.append(FieldError(name, "invalid_choice", {"choices": ", ".join(choices)}))
            return default
        return value

    def number(self, name: str, low: float, high: float, *, integer: bool) -> float | None:
        value = self.query.get(name)
        if value is None:
            return None
        try:
            number = int(value) if integer else float(value)
        except ValueError:
            number = None
        if number is None or not math.isfinite(number) or not low <= number <= high:
            self.errors.append(FieldError(name, "out_of_range", {"min": low, "max": high}))
            return None
        return number


def parse_queue_query(query: Mapping[str, str], now: float,
                      counts: Mapping[str, int] | None = None) -> QueueQuery:
    """A :class:`QueueQuery` from the request's query string, or a 400
    ``invalid_parameter`` :class:`ApiError` naming every bad parameter.

    *counts* gives how many times each parameter appears (repeats are refused).
    """
    params = _Params(query, counts if counts is not None else {k: 1 for k in query})
    status = params.choice("status", QUEUE_STATUSES, Status.PENDING.value)
    order = Order(params.choice("order", tuple(o.value for o in Order), Order.UNCERTAIN.value))
    reason = params.choice("reason", tuple(r.value for r in Reason), "") or None
    min_score = params.number("min_score", 0.0, 1.0, integer=False)
    max_score = params.number("max_score", 0.0, 1.0, integer=False)
    min_age = params.number("min_age", 0, MAX_AGE_SECONDS, integer=True)
    max_age = params.number("max_age", 0, MAX_AGE_SECONDS, integer=True)
    limit = params.number("limit", 1, MAX_LIMIT, integer=True)
    after = None
    if "cursor" in query:
        try:
            after = decode_cursor(query["cursor"], order)
        except ValueError:
            params.errors.append(FieldError("cursor", "invalid_value"))
    query_filter = QueueFilter(
        status=status, thread=params.text("thread"), language=params.text("language"),
        reason=reason, min_score=min_score, max_score=max_score,
        created_before=None if min_age is None else now - min_age,
        created_after=None if max_age is None else now - max_age)
    site = params.text("site")
    if params.errors:
        raise ApiError(400, "invalid_parameter", fields=params.errors)
    return QueueQuery(filter=query_filter, site=site, order=order,
                      limit=DEFAULT_LIMIT if limit is None else int(limit), after=after)
