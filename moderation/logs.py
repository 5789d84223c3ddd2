"""Logging for the service: one JSON object per line (or plain text), every
record carrying the id of the request it was written for.

:func:`configure_logging` is called once when a process starts (``moderation
serve`` and each of its workers, the other CLI commands), never at import.
The request id (``X-Request-Id``, see :mod:`moderation.middlewares`) lives in
:data:`REQUEST_ID` while a request is handled, so any ``log.info(...)`` made on
its behalf says which request it was. :class:`AccessLogger` writes one record
per answered request (method, path without the query string, route name,
status, duration); the client's address is left out on purpose: the service
keeps IP addresses truncated and in their own table, not in logs.

A JSON line::

    {"time": "2026-11-28T19:40:01.123Z", "level": "INFO", "logger": "aiohttp.access",
     "message": "POST /v1/comments 201", "pid": 4242, "request_id": "5f0c...",
     "method": "POST", "path": "/v1/comments", "route": "post_comment", "status": 201,
     "duration": 0.0042, "bytes": 312}
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from contextvars import ContextVar

from aiohttp.abc import AbstractAccessLogger

REQUEST_ID: ContextVar[str | None] = ContextVar("moderation_request_id", default=None)
"""The id of the request being handled in this task, if any."""

LOG_FORMATS = ("json", "text")
ACCESS_FIELDS = ("method", "path", "route", "status", "duration", "bytes")
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s [%(request_id)s]: %(message)s"


class RequestIdFilter(logging.Filter):
    """Give every record a ``request_id`` attribute (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
                      .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            entry["request_id"] = request_id
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class ClientFaultFilter(logging.Filter):
    """aiohttp logs ``Unhandled exception`` with a traceback when, after the answer,
    it drains a request body the client broke (a bad gzip stream, a truncated
    chunk): that is the client's fault, so it becomes one warning line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "aiohttp.server" and record.exc_info and record.exc_info[1] is not None:
            from aiohttp.http_exceptions import HttpProcessingError
            from aiohttp.web_protocol import RequestPayloadError
            exc = record.exc_info[1]
            if isinstance(exc, (RequestPayloadError, HttpProcessingError)):
                record.msg, record.args = "unreadable request body from a client: %s", (
                    " ".join(str(exc).split()),)
                record.levelno, record.levelname = logging.WARNING, "WARNING"
                record.exc_info = record.exc_text = None
        return True


class ThrottleFilter(logging.Filter):
    """Let through at most one record per *interval* seconds for each message in
    *messages* (e.g. asyncio's ``socket.accept() out of system resource``, which
    it repeats every second while the process is out of file descriptors, or the
    warning each request answered 503 logs while the database is down); the
    next one let through says how many were dropped."""

    MESSAGES = ("socket.accept() out of system resource",
                "too many connections from one client address",
                "database unavailable on")   # one per request while a database is down

    def __init__(self, interval: float = 60.0, messages: tuple[str, ...] = MESSAGES) -> None:
        super().__init__()
        self.interval = interval
        self.messages = messages
        self.last: dict[str, float] = {}
        self.dropped: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg if isinstance(record.msg, str) else ""
        key = next((m for m in self.messages if message.startswith(m)), None)
        if key is None:
            return True
        last = self.last.get(key)
        if last is not None and record.created - last < self.interval:
            self.dropped[key] = self.dropped.get(key, 0) + 1
            return False
        self.last[key] = record.created
        dropped = self.dropped.pop(key, 0)
        if dropped:
            record.msg = f"{record.getMessage()} ({dropped} more like it in the last {self.interval:g} s not logged)"
            record.args = None
        return True


def configure_logging(level: str = "INFO", log_format: str = "json", stream=None) -> None:
    """Send every logger's records to *stream* (standard error) in *log_format*,
    replacing the handlers the root logger had: safe to call again."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"MODERATION_LOG_FORMAT={log_format!r}: expected one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(ClientFaultFilter())
    handler.addFilter(ThrottleFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


class AccessLogger(AbstractAccessLogger):
    """aiohttp's access log as structured records (``access_log_class``)."""

    def log(self, request, response, time: float) -> None:
        # A request aiohttp rejected before routing (unknown method, bad headers, a
        # broken compressed body) has no match_info, and maybe no usable method or
        # path: log it with the fields there are, never raise.
        from .keys import REQUEST_ID as REQUEST_ID_KEY   # late: keys imports the store
        method = _field(lambda: request.method)
        path = _field(lambda: request.path)
        route = _field(lambda: request._match_info.route.name)
        request_id = _field(lambda: request.get(REQUEST_ID_KEY))
        status = _field(lambda: response.status)
        self.logger.info(
            "%s %s %s", method, path, status,
            extra={"request_id": request_id, "method": method, "path": path, "route": route,
                   "status": status, "duration": round(time, 6),
                   "bytes": _field(lambda: response.body_length)})

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def _field(read):
    """*read()*, or None when the request or response cannot tell it."""
    try:
        return read()
    except Exception:   # noqa: BLE001 - an access line must never fail
        return None
