"""Akismet-compatible endpoints: a site, library or plugin written for Akismet
uses this service by changing only the host it calls.

``POST /1.1/verify-key``, ``/1.1/comment-check``, ``/1.1/submit-spam`` and
``/1.1/submit-ham`` take Akismet's form fields and answer in Akismet's text
protocol (``text/plain``, status 200), not with the JSON error body of the rest
of the API:

- the site key goes in ``api_key`` (or ``key``, as verify-key names it) and
  ``blog`` must be the site's URL, loosely (:func:`blog_matches`); otherwise
  the answer is ``invalid`` with an ``X-akismet-debug-help`` header saying why;
- a missing ``user_ip`` or ``blog`` is answered ``Missing required field: ...``;
- ``comment-check`` decides the comment by the intake's rules
  (:func:`moderation.services.intake.check`: the guard, scoring, the policy)
  and answers ``true`` (hold it) or ``false`` (ham); see :func:`check_answer`
  for the three bands. It stores nothing: the site keeps its own copy of the
  comment;
- ``submit-spam`` / ``submit-ham`` store a training label (text, label and
  language: no name, e-mail or IP) for ``moderation export-labels``, unless
  ``is_test`` is set, and answer ``Thanks for making the web a better place.``

Transport errors (405 for a GET, 413 for a body over
``MODERATION_MAX_REQUEST_BYTES``, 500) keep the service's JSON error shape.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import time
import unicodedata
from collections.abc import Mapping
from urllib.parse import urlsplit

from aiohttp import web

from .. import telemetry
from .common import site_by_key
from ..domain import Decision, RateLimitExceeded, Site, Status
from ..edge import read_form
from ..guard import body_fingerprint
from ..i18n import LANGUAGES, message, negotiate
from ..keys import EXECUTOR, SCORER, SETTINGS, SITE, STORE
from ..scoring.features import has_words, normalize_text
from ..scoring.language import detect_language
from ..services import intake

log = logging.getLogger(__name__)

THANKS = "Thanks for making the web a better place."
DEBUG_HEADER = "X-akismet-debug-help"
PRO_TIP_HEADER = "X-akismet-pro-tip"
MAX_KEY_CHARS = 200

# Akismet's documented ways to force an answer, honoured as Akismet does.
GUARANTEED_SPAM_AUTHOR = "akismet-guaranteed-spam"
GUARANTEED_SPAM_EMAIL = "akismet-guaranteed-spam@example.com"
LEGACY_SPAM_AUTHOR = "viagra-test-123"
NEVER_SPAM_ROLE = "administrator"


class _Refusal(Exception):
    """Stops a handler with an Akismet text answer."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.text)
        self.response = response


def akismet_text(text: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(text=text, content_type="text/plain", charset="utf-8",
                        headers=dict(headers or {}))


def _akismet_endpoint(handler):
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except _Refusal as refusal:
            return refusal.response
    return wrapper


# -- pure helpers
def _url_parts(url: str) -> tuple[str, int | None, str] | None:
    url = url.strip()
    parts = urlsplit(url if "//" in url else "//" + url)
    try:
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return None
    if not host:
        return None
    if host.startswith("www."):
        host = host[4:]
    return host, (None if port in (80, 443) else port), parts.path.rstrip("/")


def blog_matches(blog: str, site_url: str) -> bool:
    """Whether Akismet's ``blog`` names the site registered with *site_url*.

    Loose on purpose, since plugins send their home URL in many forms: the
    scheme, a ``www.`` prefix, the host's case, a default port and a trailing
    slash are ignored, and ``blog`` may be a path below the site's URL
    (``https://example.org/fr`` for a site registered as ``https://example.org``)."""
    blog_parts, site_parts = _url_parts(blog), _url_parts(site_url)
    if blog_parts is None or site_parts is None:
        return False
    (b_host, b_port, b_path), (s_host, s_port, s_path) = blog_parts, site_parts
    return (b_host == s_host and b_port == s_port
            and (b_path == s_path or b_path.startswith(s_path + "/")))


def check_answer(decision: Decision) -> tuple[str, bool]:
    """``comment-check``'s answer for a decision: (``true``/``false``, pro-tip discard).

    Akismet has two answers and a hint; we have three bands:

    - clear ham (``published``): ``false``;
    - clear spam or a filled honeypot (``spam``): ``true`` with
      ``X-akismet-pro-tip: discard``, Akismet's "blatant spam" signal;
    - the review band and input the model cannot judge (``pending``): ``true``
      without the pro-tip. Akismet's ``true`` means "do not publish"; the
      site keeps the comment in its spam folder, where a moderator can still
      approve it (and teach us with submit-ham). Answering ``false`` would let
      every site publish what the model is unsure of, which the service never
      does on its own.
    """
    if decision.status is Status.PUBLISHED:
        return "false", False
    return "true", decision.status is Status.SPAM


def is_truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def label_language(body: str) -> str:
    """The language of a label's text, tagged as the scorer tags comments
    (blocking: run it in the scoring executor)."""
    normalized = normalize_text(body)
    if not has_words(normalized):
        return "unknown"
    return detect_language(normalized)


def _text(form: Mapping[str, str], name: str) -> str:
    return unicodedata.normalize("NFC", form.get(name, "") or "").strip()


# -- request plumbing
def _language(request: web.Request, form: Mapping[str, str], site: Site | None) -> str:
    blog_lang = (form.get("blog_lang") or "").split(",")[0].strip().lower().replace("-", "_")
    fallback = blog_lang.split("_")[0] if blog_lang.split("_")[0] in LANGUAGES else None
    return negotiate(request.headers.get("Accept-Language"), fallback or (site.lang if site else None))


def _invalid(request: web.Request, form: Mapping[str, str], site: Site | None, code: str,
             **params: object) -> _Refusal:
    help_text = message(code, _language(request, form, site), **params)
    return _Refusal(akismet_text("invalid", {DEBUG_HEADER: help_text}))


def _missing(request: web.Request, form: Mapping[str, str], site: Site | None, name: str) -> _Refusal:
    help_text = message("akismet_missing_field", _language(request, form, site), field=name)
    return _Refusal(akismet_text(f"Missing required field: {name}.", {DEBUG_HEADER: help_text}))


async def _form(request: web.Request) -> Mapping[str, str]:
    """The form fields (url-encoded or multipart); empty for any other body."""
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {}
    return dict((await read_form(request)).items())


async def _authenticate(request: web.Request, form: Mapping[str, str], *,
                        key_fields: tuple[str, ...], need_user_ip: bool) -> Site:
    """The site whose key the form carries, with a ``blog`` matching its URL."""
    key = next((form[name].strip() for name in key_fields if form.get(name, "").strip()), "")
    site = None
    if key and len(key) <= MAX_KEY_CHARS:
        site = await site_by_key(request, key)
    if site is None:
        raise _invalid(request, form, None, "akismet_invalid_key")
    request[SITE] = site
    blog = form.get("blog", "").strip()
    if not blog:
        raise _invalid(request, form, site, "akismet_blog_missing")
    if not blog_matches(blog, site.url):
        raise _invalid(request, form, site, "akismet_blog_mismatch", url=site.url)
    if need_user_ip and not form.get("user_ip", "").strip():
        raise _missing(request, form, site, "user_ip")
    return site


# -- handlers
@_akismet_endpoint
async def verify_key(request: web.Request) -> web.Response:
    """``valid`` when ``key`` is a site key and ``blog`` that site's URL."""
    form = await _form(request)
    await _authenticate(request, form, key_fields=("key", "api_key"), need_user_ip=False)
    return akismet_text("valid")


def _forced_answer(form: Mapping[str, str]) -> web.Response | None:
    """Akismet's documented test values and the never-spam role, answered as Akismet does."""
    author, email = _text(form, "comment_author"), _text(form, "comment_author_email")
    if form.get("user_role", "").strip().lower() == NEVER_SPAM_ROLE:
        return akismet_text("false", {"X-Moderation-Reasons": "user_role"})
    if author in (GUARANTEED_SPAM_AUTHOR, LEGACY_SPAM_AUTHOR) or email.lower() == GUARANTEED_SPAM_EMAIL:
        return akismet_text("true", {"X-Moderation-Reasons": "akismet_test"})
    return None


def _honeypot(form: Mapping[str, str]) -> str:
    """The value of the field ``honeypot_field_name`` names (\"\" without one)."""
    trap = form.get("honeypot_field_name", "").strip()
    return form.get(trap, "") if trap else ""


def _check_answer(checked: intake.Checked) -> web.Response:
    answer, discard = check_answer(checked.decision)
    headers = {"X-Moderation-Status": checked.decision.status.value,
               "X-Moderation-Reasons": ",".join(r.value for r in checked.decision.reasons)}
    if checked.scored.score is not None:
        headers["X-Moderation-Score"] = f"{checked.scored.score:.4f}"
    if discard:
        headers[PRO_TIP_HEADER] = "discard"
    return akismet_text(answer, headers)


@_akismet_endpoint
async def comment_check(request: web.Request) -> web.Response:
    """Decide a comment without storing it (:func:`moderation.services.intake.check`):
    ``true`` hold it, ``false`` ham; a rate limit reached is ``true`` (hold it),
    reason ``rate_limited``, with ``Retry-After``."""
    form = await _form(request)
    site = await _authenticate(request, form, key_fields=("api_key", "key"), need_user_ip=True)
    if form.get("recheck_reason"):
        log.debug("comment-check for site %s rechecked: %s", site.name, form["recheck_reason"][:100])
    forced, app = _forced_answer(form), request.app
    if forced is not None:
        return forced
    try:
        checked = await intake.check(
            app[STORE], app[SCORER], app[SETTINGS], site=site, body=_text(form, "comment_content"),
            author_name=_text(form, "comment_author"), author_email=_text(form, "comment_author_email"),
            client_ip=form["user_ip"].strip(), honeypot=_honeypot(form), observe=telemetry.count_intake_decision)
    except RateLimitExceeded as exceeded:
        return akismet_text("true", {"X-Moderation-Reasons": "rate_limited",
                                     "Retry-After": str(exceeded.retry_after)})
    return _check_answer(checked)


async def _submit(request: web.Request, label: str) -> web.Response:
    form = await _form(request)
    site = await _authenticate(request, form, key_fields=("api_key", "key"), need_user_ip=True)
    body = _text(form, "comment_content")
    if body and not is_truthy(form.get("is_test")):
        language = await asyncio.get_running_loop().run_in_executor(
            request.app[EXECUTOR], label_language, body)
        await request.app[STORE].save_training_label(
            site_id=site.id, body=body, body_hash=body_fingerprint(body), label=label,
            language=language, source="akismet", now=time.time())
    return akismet_text(THANKS)


@_akismet_endpoint
async def submit_spam(request: web.Request) -> web.Response:
    """A comment the site found to be spam (a missed one): a ``spam`` label."""
    return await _submit(request, "spam")


@_akismet_endpoint
async def submit_ham(request: web.Request) -> web.Response:
    """A comment the site found to be ham (a false positive): a ``ham`` label."""
    return await _submit(request, "ham")
