"""Logs: one JSON object per line, each record naming the request it was
written for, and one access record per answered request."""
import io
import json
import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from moderation.logs import REQUEST_ID, AccessLogger, JsonFormatter, RequestIdFilter, configure_logging
from moderation.middlewares import error_middleware, request_id_middleware


@pytest.fixture
def captured():
    """Logging configured as the server does it, into a buffer; restored after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.handlers[:], _ = saved
    root.setLevel(saved[1])


def test_a_record_is_one_json_line_with_the_request_id(captured):
    log = logging.getLogger("moderation.test")
    token = REQUEST_ID.set("req-42")
    try:
        log.warning("scored %d texts\nin one batch", 3)
    finally:
        REQUEST_ID.reset(token)
    log.info("outside any request")
    first, second = captured()
    assert first["message"] == "scored 3 texts\nin one batch"
    assert first["level"] == "WARNING" and first["logger"] == "moderation.test"
    assert first["request_id"] == "req-42"
    assert first["time"].endswith("Z") and isinstance(first["pid"], int)
    assert "request_id" not in second


def test_exceptions_are_kept_in_the_record(captured):
    try:
        raise ValueError("broken model")
    except ValueError:
        logging.getLogger("moderation.test").exception("reload failed")
    [record] = captured()
    assert "ValueError: broken model" in record["exception"]


def test_text_format_names_the_request_too():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter("%(request_id)s %(message)s"))
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    token = REQUEST_ID.set("abc")
    try:
        handler.handle(record)
    finally:
        REQUEST_ID.reset(token)
    assert stream.getvalue() == "abc hello\n"


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="MODERATION_LOG_FORMAT"):
        configure_logging("INFO", "xml")


def test_formatter_without_request():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain", (), None)
    assert json.loads(JsonFormatter().format(record))["message"] == "plain"


async def test_handlers_logs_and_the_access_log_carry_the_request_id(aiohttp_client, captured):
    async def hello(request):
        logging.getLogger("moderation.handler").info("handling")
        return web.json_response({"ok": True})

    app = web.Application(middlewares=[request_id_middleware, error_middleware])
    app.router.add_get("/hello/{name}", hello, name="hello")
    server = TestServer(app)   # run as `moderation serve` runs it (aiohttp_client drops server kwargs)
    await server.start_server(access_log_class=AccessLogger)
    client = await aiohttp_client(server)
    response = await client.get("/hello/you?email=secret@example.org", headers={"X-Request-Id": "trace-7"})
    assert response.status == 200
    records = [r for r in captured() if r.get("request_id") == "trace-7"]
    handled = next(r for r in records if r["logger"] == "moderation.handler")
    assert handled["message"] == "handling"
    access = next(r for r in records if r["logger"] == "aiohttp.access")
    assert access["method"] == "GET" and access["status"] == 200 and access["route"] == "hello"
    assert access["path"] == "/hello/you"            # never the query string
    assert "secret" not in json.dumps(records)
    assert access["duration"] >= 0


def test_a_database_outage_logs_one_warning_a_minute_not_one_per_request():
    from moderation.logs import ThrottleFilter
    throttle = ThrottleFilter(interval=60.0)
    logger = logging.getLogger("moderation.middlewares")

    def record(at: float) -> logging.LogRecord:
        made = logger.makeRecord(logger.name, logging.WARNING, __file__, 1,
                                 "database unavailable on %s %s (request %s): %s",
                                 ("POST", "/v1/comments", "r1", "connection refused"), None)
        made.created = at
        return made

    passed = [throttle.filter(r) for r in (record(0.0), *[record(t / 10) for t in range(1, 500)])]
    assert passed.count(True) == 1
    later = record(61.0)
    assert throttle.filter(later)
    assert "(499 more like it in the last 60 s not logged)" in later.getMessage()
