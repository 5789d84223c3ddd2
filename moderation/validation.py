"""Turn a decoded JSON payload into a :class:`~moderation.domain.CommentIn`, or
say exactly what is wrong with it. Pure: no I/O, no clock.

Rules: every required field present and not blank; unknown fields rejected by
name; strings NFC-normalized, then checked for lone surrogates and control
characters (the body may hold line breaks and tabs) and for length; the e-mail
checked offline by email-validator (no DNS); URLs http(s); the client IP parsed.
All problems of a payload are reported at once, in field order.
"""
from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from .domain import ClientInfo, CommentIn, FormStamp, ThreadIn
from .errors import FieldError

MAX_EMAIL_CHARS = 254
MAX_USER_AGENT_CHARS = 512
MAX_HONEYPOT_CHARS = 500
MAX_PARENT_ID = 2**53

ALLOWED_FIELDS = ("thread", "author", "body", "parent_id", "client", "honeypot", "form")
FORM_FIELDS = ("rendered_at", "signature")
MAX_RENDERED_AT = 2**40
THREAD_FIELDS = ("id", "url", "title")
AUTHOR_FIELDS = ("name", "email")
CLIENT_FIELDS = ("ip", "user_agent", "referrer")

_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 and C1 controls and DEL; the body alone may keep \t \n \r.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Limits:
    """Length limits, in characters after NFC normalization."""

    body: int = 5000
    name: int = 80
    thread_id: int = 200
    title: int = 300
    url: int = 2048

    @classmethod
    def from_settings(cls, settings) -> "Limits":
        return cls(body=settings.max_body_chars, name=settings.max_name_chars,
                   thread_id=settings.max_thread_id_chars, title=settings.max_title_chars,
                   url=settings.max_url_chars)


class ValidationFailed(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(", ".join(f"{e.field}: {e.code}" for e in errors))
        self.errors = errors


class FieldChecker:
    """Collects field errors while reading one payload; its ``text`` holds the
    Unicode rules (NFC, no lone surrogates, no control characters, length) that
    every free-text field of the API follows."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, path: str, code: str, detail: str = "", **params: Any) -> None:
        self.errors.append(FieldError(path, code, params, detail))

    def object(self, value: Any, path: str, allowed: tuple[str, ...], required: bool) -> dict | None:
        if value is None:
            if required:
                self.fail(path, "required")
            return None
        if not isinstance(value, dict):
            self.fail(path, "invalid_type", expected="object")
            return None
        for key in value:
            if key not in allowed:
                self.fail(f"{path}.{key}" if path else key, "unknown_field")
        return value

    def text(self, container: dict | None, key: str, path: str, *, max_chars: int,
             required: bool, multiline: bool = False) -> str:
        value = None if container is None else container.get(key)
        if value is None:
            if required and container is not None:
                self.fail(path, "required")
            return ""
        if not isinstance(value, str):
            self.fail(path, "invalid_type", expected="string")
            return ""
        if _SURROGATE.search(value):
            self.fail(path, "invalid_unicode")
            return ""
        value = unicodedata.normalize("NFC", value)
        if (_CONTROL if multiline else _CONTROL_OR_BREAK).search(value):
            self.fail(path, "control_characters")
            return ""
        if len(value) > max_chars:
            self.fail(path, "too_long", max=max_chars)
            return ""
        if required and not value.strip():
            self.fail(path, "blank")
            return ""
        return value.strip() if not multiline else value

    def email(self, container: dict | None, path: str) -> str:
        raw = self.text(container, "email", path, max_chars=MAX_EMAIL_CHARS, required=True)
        if not raw:
            return ""
        try:
            checked = validate_email(raw, check_deliverability=False, allow_quoted_local=False,
                                     allow_domain_literal=False, allow_display_name=False,
                                     strict=True)
        except EmailNotValidError as exc:
            self.fail(path, "invalid_email", detail=str(exc))
            return ""
        return checked.normalized

    def url(self, container: dict | None, key: str, path: str, max_chars: int) -> str:
        value = self.text(container, key, path, max_chars=max_chars, required=False)
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                self.fail(path, "invalid_url")
                return ""
        return value

    def ip(self, container: dict | None, path: str) -> str:
        value = self.text(container, "ip", path, max_chars=45, required=False)
        if value:
            try:
                return str(ipaddress.ip_address(value))
            except ValueError:
                self.fail(path, "invalid_ip")
        return ""

    def choice(self, container: dict, key: str, choices: tuple[str, ...]) -> str | None:
        """An optional field that must be one of *choices*."""
        value = container.get(key)
        if key in container and value not in choices:
            self.fail(key, "invalid_choice", choices=", ".join(choices))
            return None
        return value

    def number(self, container: dict, key: str, low: float, high: float, *,
               nullable: bool = False) -> float | None:
        """An optional number within [low, high]; None when absent (or null, if *nullable*)."""
        value = container.get(key)
        if value is None and (nullable or key not in container):
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            self.fail(key, "out_of_range", min=low, max=high)
            return None
        return float(value)

    def boolean(self, container: dict, key: str) -> bool | None:
        value = container.get(key)
        if key in container and not isinstance(value, bool):
            self.fail(key, "invalid_type", expected="boolean")
            return None
        return value

    def names(self, container: dict, key: str, max_items: int, expected: str) -> list[str] | None:
        """An optional list of at most *max_items* non-empty strings (*expected* says
        what, in the error)."""
        value = container.get(key)
        if key not in container:
            return None
        if (not isinstance(value, list) or len(value) > max_items
                or not all(isinstance(v, str) and v for v in value)):
            self.fail(key, "invalid_type", expected=expected)
            return None
        return value

    def done(self) -> None:
        """Raise :class:`ValidationFailed` with every error collected, if any."""
        if self.errors:
            raise ValidationFailed(self.errors)

    def parent_id(self, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail("parent_id", "invalid_type", expected="integer")
            return None
        if not 0 < value < MAX_PARENT_ID:
            self.fail("parent_id", "invalid_value")
            return None
        return value


def validate_comment(payload: Any, limits: Limits = Limits()) -> CommentIn:
    """Return the normalized comment, or raise :class:`ValidationFailed` listing
    every field error."""
    check = FieldChecker()
    top = check.object(payload, "", ALLOWED_FIELDS, required=True)
    if top is None:
        raise ValidationFailed(check.errors or [FieldError("", "invalid_type", {"expected": "object"})])
    thread = check.object(top.get("thread"), "thread", THREAD_FIELDS, required=True)
    thread_id = check.text(thread, "id", "thread.id", max_chars=limits.thread_id, required=True)
    thread_url = check.url(thread, "url", "thread.url", limits.url)
    thread_title = check.text(thread, "title", "thread.title", max_chars=limits.title, required=False)
    author = check.object(top.get("author"), "author", AUTHOR_FIELDS, required=True)
    name = check.text(author, "name", "author.name", max_chars=limits.name, required=True)
    email = check.email(author, "author.email")
    body = check.text(top, "body", "body", max_chars=limits.body, required=True, multiline=True)
    parent_id = check.parent_id(top.get("parent_id"))
    client = check.object(top.get("client"), "client", CLIENT_FIELDS, required=False)
    ip = check.ip(client, "client.ip")
    user_agent = check.text(client, "user_agent", "client.user_agent",
                            max_chars=MAX_USER_AGENT_CHARS, required=False)
    referrer = check.url(client, "referrer", "client.referrer", limits.url)
    honeypot = check.text(top, "honeypot", "honeypot", max_chars=MAX_HONEYPOT_CHARS,
                          required=False, multiline=True)
    form = check.object(top.get("form"), "form", FORM_FIELDS, required=False)
    stamp = _form_stamp(check, form)
    if check.errors:
        raise ValidationFailed(check.errors)
    return CommentIn(
        thread=ThreadIn(id=thread_id, url=thread_url, title=thread_title.strip()),
        author_name=name, author_email=email, body=body, parent_id=parent_id,
        client=ClientInfo(ip=ip, user_agent=user_agent, referrer=referrer),
        honeypot=honeypot, form=stamp,
    )


def _form_stamp(check: FieldChecker, form: dict | None) -> FormStamp | None:
    """The signed time the site rendered its comment form (both fields or none)."""
    if form is None:
        return None
    rendered_at, signature = form.get("rendered_at"), form.get("signature")
    if isinstance(rendered_at, bool) or not isinstance(rendered_at, int) or not 0 < rendered_at < MAX_RENDERED_AT:
        check.fail("form.rendered_at", "invalid_type", expected="integer (Unix seconds)")
        return None
    if not isinstance(signature, str) or not re.fullmatch(r"[0-9a-f]{64}", signature):
        check.fail("form.signature", "invalid_value")
        return None
    return FormStamp(rendered_at=rendered_at, signature=signature)
