"""Every JSON answer of the service goes through :func:`json_response`.

Text is sent as UTF-8, as it is written (``"publié"``, not ``"publi\\u00e9"``):
the Content-Type says ``application/json; charset=utf-8`` and every JSON
parser reads either form, but people reading answers (curl, logs, a
browser's network tab) read French.
"""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def json_response(data: Any, **kwargs: Any) -> web.Response:
    """``web.json_response`` with UTF-8 text left as it is."""
    return web.json_response(data, dumps=dumps, **kwargs)
