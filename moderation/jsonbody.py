"""Strict JSON decoding of request bodies.

:func:`parse_json` accepts only what a well-behaved client sends: UTF-8, no
duplicate keys, no NaN/Infinity, nesting at most :data:`MAX_DEPTH` levels,
integers of at most :data:`MAX_INT_DIGITS` digits and finite floats. Anything
else raises a 400 :class:`~moderation.errors.ApiError` naming the problem.
"""
from __future__ import annotations

import json
import math
from typing import Any

from .errors import bad_request

MAX_DEPTH = 8
MAX_INT_DIGITS = 15


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise bad_request("duplicate_key", key=key)
        result[key] = value
    return result


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise bad_request("number_too_large")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or abs(value) > 10.0 ** MAX_INT_DIGITS:
        raise bad_request("number_too_large")
    return value


def _reject_constant(name: str) -> Any:
    raise bad_request("malformed_json")


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def parse_json(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("invalid_utf8") from None
    try:
        value = json.loads(text, object_pairs_hook=_reject_duplicates, parse_int=_parse_int,
                           parse_float=_parse_float, parse_constant=_reject_constant)
    except RecursionError:
        raise bad_request("too_deep", max=MAX_DEPTH) from None
    except ValueError:
        raise bad_request("malformed_json") from None
    if _depth(value) > MAX_DEPTH:
        raise bad_request("too_deep", max=MAX_DEPTH)
    return value



def parse_json_object(raw: bytes) -> dict[str, Any]:
    """:func:`parse_json` for a body that must be a JSON object (400 ``not_an_object``)."""
    value = parse_json(raw)
    if not isinstance(value, dict):
        raise bad_request("not_an_object")
    return value
