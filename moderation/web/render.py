"""Jinja2 for the /moderate pages: one environment built with the app
(autoescape on: every value is escaped unless a template says otherwise, and
none does), the page language, and the HTML form of the service's errors."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from ..errors import ApiError
from ..i18n import message, negotiate
from ..keys import TEMPLATES, WEB_SESSION
from .texts import TEXTS, script_texts, text

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/moderate/static"


def build_templates() -> jinja2.Environment:
    """The pages' Jinja2 environment (templates load on first use)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("moderation.web", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)


def page_language(request: web.Request) -> str:
    """French or English by the browser's Accept-Language; French otherwise."""
    return negotiate(request.headers.get("Accept-Language"))


def render(request: web.Request, template: str, *, status: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> web.Response:
    language = page_language(request)

    def t(key: str, /, **params: Any) -> str:
        return text(key, language, **params)

    def reason_text(code: str) -> str:
        """A reason code in words; a code this version does not know, as is."""
        return text(f"reason.{code}", language) if f"reason.{code}" in TEXTS else code

    html = request.app[TEMPLATES].get_template(template).render(
        lang=language, t=t, reason_text=reason_text, session=request.get(WEB_SESSION), script_texts=script_texts(language),
        static=lambda name: f"{STATIC_PREFIX}/{name}", **context)
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=status,
                        headers=headers)


def error_page(request: web.Request, error: ApiError) -> web.Response:
    """The page for an error on /moderate: the same status, code and message
    as the JSON body would carry."""
    language = page_language(request)
    fields = [message(f.code, language, **f.params) + f" ({f.field})" for f in error.fields]
    return render(request, "error.html", status=error.status, headers=dict(error.headers),
                  status_code=error.status, code=error.code,
                  message=message(error.code, language, **error.params), fields=fields)
