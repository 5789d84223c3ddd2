"""The edge: every byte of a request that the service reads is decoded here, or refused.

A client's bytes never make a 5xx. What the service reads, and what it does
with bytes it cannot read:

=====================  ===========================================================
path                   percent-decoded, it must be UTF-8 without control
                       characters: else 400 ``invalid_path``
query string           each name and value likewise: else 400 ``invalid_parameter``
                       (``fields`` names the parameter, or ``query``)
``Authorization``      printable ASCII: else 401 ``unauthorized`` (it cannot be a
                       credential), on every route
``Cookie``             only the service's own cookies (:data:`OWN_COOKIES`) are
                       read, each a URL-safe token of at most :data:`MAX_COOKIE_CHARS`;
                       anything else in their place counts as no cookie (a broken
                       cookie must not lock a moderator out of signing in again).
                       Other cookies are never decoded.
``X-Request-Id``       :data:`REQUEST_ID_PATTERN`, else replaced by a fresh id
:data:`TEXT_HEADERS`   UTF-8 text without control characters: else 400
                       ``invalid_header`` naming the header
``Expect``             only ``100-continue``; anything else is 417
                       ``expectation_failed`` (taken out of the headers before
                       aiohttp's router, which answers it before any middleware:
                       see :func:`install`)
``Content-Encoding``   a body must come as it is (absent or ``identity``): else 415
                       ``unsupported_content_encoding``. Compressed bodies are
                       refused, not inflated: bodies are small (at most
                       ``MODERATION_MAX_REQUEST_BYTES``), and inflating them would let
                       a small request become a large one (a decompression bomb).
                       The server never inflates either (``auto_decompress`` off).
                       Likewise a transfer coding other than ``chunked``.
body framing           a chunked body that breaks off or lies about its sizes: 400
                       ``malformed_body``; a client that closes the connection
                       before its body is in: 499 in the metrics and the access
                       log (nobody is left to answer), never 500
form bodies            :func:`read_form` only: the charset must be one Python
                       knows (else 415 ``unsupported_charset``) and the bytes text
                       in it (else 400 ``invalid_body_encoding``); multipart parts
                       carry no Content-Encoding / Content-Transfer-Encoding
                       (else 415 ``unsupported_content_encoding``)
JSON bodies            :mod:`moderation.jsonbody` (strict UTF-8 and JSON)
=====================  ===========================================================

Headers the service does not read (``User-Agent``, ``X-Forwarded-For``...) are
never decoded, so their bytes cannot matter. aiohttp itself refuses, before
routing and with a plain-text 400, what HTTP forbids outright (raw non-ASCII
bytes in the request line, malformed header lines, conflicting lengths).

The functions at the top are pure (strings and bytes in, values or
:class:`~moderation.errors.ApiError` out); those at the bottom read an aiohttp
request: :func:`install` and :func:`edge_middleware`, :func:`request_cookie`,
:func:`read_form`.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote_to_bytes

from aiohttp import web
from aiohttp.multipart import BodyPartReader
from aiohttp.web_protocol import RequestPayloadError
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

from .errors import ApiError, FieldError, not_found, unauthorized

log = logging.getLogger(__name__)

CLIENT_CLOSED_REQUEST = 499   # nginx's status for it
OWN_COOKIES = frozenset({"moderation_session", "__Host-moderation_session", "moderation_signin"})
MAX_COOKIE_CHARS = 100
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
TEXT_HEADERS = ("Accept", "Accept-Language", "Content-Type", "Idempotency-Key", "X-CSRF-Token",
                "X-Forwarded-Proto")
MAX_FORM_FIELDS = 1000
IDENTITY = frozenset({"", "identity"})
PART_TRANSFER_IDENTITY = frozenset({"", "binary", "7bit", "8bit"})

_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{1,%d}\Z" % MAX_COOKIE_CHARS)
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")   # C0 but tab, and DEL


# -- pure
def is_unicode(value: str) -> bool:
    """Whether *value* holds no lone surrogate: aiohttp decodes header bytes with
    ``surrogateescape``, so bytes that were not UTF-8 became surrogates."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_text(value: str) -> bool:
    """Whether *value* was UTF-8 without control characters (tab allowed)."""
    return is_unicode(value) and _CONTROL.search(value) is None


def _percent_decoded(raw: str, *, plus_is_space: bool = False) -> str | None:
    """*raw* percent-decoded as strict UTF-8 without control characters, else None."""
    if plus_is_space:
        raw = raw.replace("+", " ")
    try:
        text = unquote_to_bytes(raw.encode("ascii")).decode("utf-8")
    except UnicodeError:   # non-ASCII given raw (aiohttp refuses it first), or not UTF-8
        return None
    return text if _CONTROL.search(text) is None else None


def split_target(target: str) -> tuple[str, str]:
    """The raw path and raw query string of a request target (origin or absolute form)."""
    if not target.startswith("/") and "://" in target:   # absolute form: http://host/path?query
        target = "/" + target.split("://", 1)[1].partition("/")[2]
    path, _, query = target.partition("?")
    return path, query.partition("#")[0]


def check_path(raw_path: str) -> None:
    if _percent_decoded(raw_path) is None:
        raise ApiError(400, "invalid_path")


def check_query(raw_query: str) -> None:
    for part in raw_query.split("&"):
        name, _, value = part.partition("=")
        decoded_name = _percent_decoded(name, plus_is_space=True)
        if decoded_name is None or _percent_decoded(value, plus_is_space=True) is None:
            raise ApiError(400, "invalid_parameter", fields=[
                FieldError(decoded_name or "query", "invalid_encoding")])


def check_headers(values: Iterable[tuple[str, str]]) -> None:
    """*values*: (header name, value) of the headers the service reads, every
    occurrence. Raises the first refusal."""
    for name, value in values:
        if name.lower() == "authorization":
            if _PRINTABLE_ASCII.match(value) is None:
                raise unauthorized()
        elif not is_text(value):
            raise ApiError(400, "invalid_header", header=name,
                           fields=[FieldError(name, "invalid_encoding")])


def _codings(values: Iterable[str]) -> set[str]:
    return {c.strip().lower() for value in values for c in value.split(",")}


def check_content_encoding(content_encodings: Iterable[str], transfer_encodings: Iterable[str],
                           has_body: bool) -> None:
    """A body comes as it is: no Content-Encoding but identity, no transfer coding
    but chunked (``Transfer-Encoding: gzip, chunked`` is compression all the same)."""
    if has_body and not (_codings(content_encodings) <= IDENTITY
                         and _codings(transfer_encodings) <= {"", "chunked"}):
        raise ApiError(415, "unsupported_content_encoding")


def request_id(given: str | None) -> str | None:
    """The client's ``X-Request-Id`` when it is one we keep, else None."""
    return given if given and REQUEST_ID_PATTERN.match(given) else None


def cookie_value(cookie_headers: Iterable[str], name: str) -> str | None:
    """The first cookie called *name* (one of :data:`OWN_COOKIES`) in the
    ``Cookie`` headers, when it is a URL-safe token; else None."""
    for header in cookie_headers:
        for pair in header.split(";"):
            key, sep, value = pair.strip().partition("=")
            if sep and key == name:
                value = value.strip()
                return value if _COOKIE_VALUE.match(value) else None
    return None


def _text_codec(charset: str | None) -> str:
    """*charset* (default UTF-8) when Python decodes text with it; else 415."""
    charset = (charset or "utf-8").strip()
    try:   # LookupError for unknown codecs and bytes-to-bytes ones (hex, zlib); b"" skips the lookup
        b"a".decode(charset)
    except UnicodeError:   # a text codec all the same (utf-16 wants two bytes)
        pass
    except (LookupError, ValueError, TypeError):
        raise ApiError(415, "unsupported_charset") from None
    return charset


def decode_text(raw: bytes, charset: str | None) -> str:
    """*raw* as text in *charset*: 415 for an unknown charset, 400 for bytes
    that are not text in it (including text that decodes to lone surrogates)."""
    codec = _text_codec(charset)
    try:
        text = raw.decode(codec)
    except (UnicodeError, ValueError):
        raise ApiError(400, "invalid_body_encoding") from None
    if not is_unicode(text):
        raise ApiError(400, "invalid_body_encoding")
    return text


def form_pairs(raw: bytes, charset: str | None) -> list[tuple[str, str]]:
    """An ``application/x-www-form-urlencoded`` body, decoded strictly."""
    codec = _text_codec(charset)
    text = decode_text(raw.rstrip(), codec)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding=codec, errors="strict",
                          max_num_fields=MAX_FORM_FIELDS)
    except UnicodeError:
        raise ApiError(400, "invalid_body_encoding") from None
    except ValueError:   # more than MAX_FORM_FIELDS
        raise ApiError(400, "too_many_fields", max=MAX_FORM_FIELDS) from None
    for name, value in pairs:   # a codec such as unicode_escape can make lone surrogates
        if not (is_unicode(name) and is_unicode(value)):
            raise ApiError(400, "invalid_body_encoding")
    return pairs


def unmet_expectation(values: Iterable[bytes]) -> bool:
    """Whether raw ``Expect`` values ask for anything but ``100-continue``."""
    return any(value.strip().lower() != b"100-continue" for value in values)


def check_part_encoding(content_encoding: str, transfer_encoding: str) -> None:
    if content_encoding.strip().lower() not in IDENTITY or \
            transfer_encoding.strip().lower() not in PART_TRANSFER_IDENTITY:
        raise ApiError(415, "unsupported_content_encoding")


# -- reading the request
def install(app: web.Application) -> None:
    """Hook the app's request factory (as ``moderation.app._BodyDeadlines`` does): a request
    whose ``Expect`` is anything but ``100-continue`` loses the header before
    aiohttp's router reads it, since the router answers it before any middleware
    (a plain-text 417, or a 500 for bytes that are not UTF-8);
    :func:`edge_middleware` then answers 417 from the raw headers, in the one shape."""
    make_request = app._make_request

    def without_bad_expect(message, *args, **kwargs):
        getall = getattr(message.headers, "getall", None)   # aiohttp's stand-in for an unparsable request has a dict
        if getall is not None and unmet_expectation(
                v.encode("utf-8", "surrogateescape") for v in getall("Expect", ())):
            message = message._replace(headers=CIMultiDictProxy(CIMultiDict(
                (name, value) for name, value in message.headers.items() if name.lower() != "expect")))
        return make_request(message, *args, **kwargs)

    object.__setattr__(app, "_make_request", without_bad_expect)


def _read_headers(request: web.Request):
    for name in ("Authorization", *TEXT_HEADERS):
        for value in request.headers.getall(name, ()):
            yield name, value


@web.middleware
async def edge_middleware(request: web.Request, handler):
    """Refuse what cannot be decoded before any handler reads it (see the
    table above); a body whose framing breaks while a handler reads it is 400."""
    raw_path, raw_query = split_target(request.raw_path)
    check_path(raw_path)
    check_query(raw_query)
    check_headers(_read_headers(request))
    if unmet_expectation(value for name, value in request.raw_headers if name.lower() == b"expect"):
        raise ApiError(417, "expectation_failed")
    check_content_encoding(request.headers.getall("Content-Encoding", ()),
                           request.headers.getall("Transfer-Encoding", ()), request.body_exists)
    try:
        return await handler(request)
    except RequestPayloadError:
        raise ApiError(400, "malformed_body") from None
    except ConnectionResetError:   # the client closed the connection before its body was in
        log.info("client disconnected during %s %s", request.method, request.path)
        return web.Response(status=CLIENT_CLOSED_REQUEST)   # never sent; counted and logged as such


def request_cookie(request: web.Request, name: str) -> str | None:
    """One of the service's own cookies, or None when absent or not a token."""
    return cookie_value(request.headers.getall("Cookie", ()), name)


async def read_form(request: web.Request) -> MultiDictProxy[str]:
    """The posted form (url-encoded or multipart), every value text; empty for
    any other body. 413 beyond the app's ``client_max_size``."""
    if request.content_type == "multipart/form-data":
        return MultiDictProxy(MultiDict(await _multipart_pairs(request)))
    if request.content_type not in ("", "application/x-www-form-urlencoded"):
        return MultiDictProxy(MultiDict())
    return MultiDictProxy(MultiDict(form_pairs(await request.read(), request.charset)))


async def _multipart_pairs(request: web.Request) -> list[tuple[str, str]]:
    limit = request.client_max_size
    pairs: list[tuple[str, str]] = []
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or not part.name or not is_unicode(part.name):
                raise ApiError(400, "malformed_body")
            if len(pairs) >= MAX_FORM_FIELDS:
                raise ApiError(400, "too_many_fields", max=MAX_FORM_FIELDS)
            check_part_encoding(part.headers.get("Content-Encoding", ""),
                                part.headers.get("Content-Transfer-Encoding", ""))
            raw = bytearray()
            while chunk := await part.read_chunk():
                raw.extend(chunk)
                if 0 < limit < request.content.total_bytes:
                    raise ApiError(413, "payload_too_large", max=limit)
            pairs.append((part.name, decode_text(bytes(raw), part.get_charset(default="utf-8"))))
    except (ValueError, RuntimeError) as exc:   # what aiohttp's multipart reader raises
        if isinstance(exc, UnicodeError):
            raise ApiError(400, "invalid_body_encoding") from None
        raise ApiError(400, "malformed_body") from None   # no boundary, a broken part...
    return pairs


MAX_ROW_ID = 2**63 - 1   # the largest id a database row can have


def path_id(request: web.Request, name: str) -> int:
    """A row id from the path: 404 unless it is ASCII digits naming a positive
    64-bit integer (a larger number would overflow the database driver)."""
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19) or not 0 < int(raw) <= MAX_ROW_ID:
        raise not_found()
    return int(raw)
