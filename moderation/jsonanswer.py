"""Every JSON answer of the service goes through :func:`json_response`.

Text is sent as UTF-8, as it is written (``"publié"``, not ``"publi\\u00e9"``):
the Content-Type says ``application/json; charset=utf-8`` and every JSON
parser reads either form, but people reading answers (curl, logs, a
browser's network tab) read French. A string holding a lone surrogate (a
client may send ``"\\ud800"`` in JSON, and an error may name it) cannot be
UTF-8: such an answer is written with ``\\u`` escapes instead, still valid JSON.
"""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def dumps(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)
    return text


def json_response(data: Any, **kwargs: Any) -> web.Response:
    """``web.json_response`` with UTF-8 text left as it is."""
    return web.json_response(data, dumps=dumps, **kwargs)
