"""Load shedding against a real ``moderation serve``: past a bound, 503
``overloaded`` with Retry-After at once, in the one error shape (a page on
/moderate), counted in /metrics; health and metrics endpoints never shed; and
once the burst is over, everything is served again.

Deterministic: the requests that fill the bound are held open by the test
itself (a body sent halfway, finished only when the test says), or wait in
the scoring queue for a batch wait of several seconds; the burst is sent
while they hold it, which the test checks through /metrics first.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from moderation.i18n import message

from ..conftest import comment_payload
from ..server import cli, free_port, read_log, start_server
from ..toy_model import HAM_TEXT
from .rawhttp import exchange, has_error_shape, parse_answer, request_bytes, sample, scrape, statuses_counted

pytestmark = pytest.mark.slow


def stop(server) -> str:
    server.terminate()
    try:
        server.wait(timeout=20)
    except Exception:
        server.kill()
    return read_log(server)


def comment_body(n: int) -> bytes:
    return json.dumps(comment_payload(body=f"{HAM_TEXT} Number {n}.")).encode()


def post_comment(key: str, n: int) -> bytes:
    return request_bytes(b"POST", b"/v1/comments", [(b"Authorization", b"Bearer " + key.encode()),
                                                    (b"Content-Type", b"application/json")],
                         comment_body(n))


def wait_for(port, name, value, timeout=10.0, **labels):
    deadline = time.monotonic() + timeout
    while sample(scrape(port), name, **labels) != value:
        assert time.monotonic() < deadline, f"{name}{labels} never reached {value}"
        time.sleep(0.02)


class HeldRequest:
    """A POST /v1/comments whose body is sent halfway: it is in flight (its
    handler waits for the rest) until :meth:`finish`."""

    def __init__(self, port: int, key: str, n: int) -> None:
        raw = post_comment(key, n)
        self.cut = len(raw) - 20
        self.raw = raw
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.sock.sendall(raw[:self.cut])

    def finish(self):
        self.sock.sendall(self.raw[self.cut:])
        data = b""
        while chunk := self.sock.recv(65536):
            data += chunk
        self.sock.close()
        return parse_answer(data)


def check_overloaded(answer, *, page: bool = False) -> None:
    assert answer.status == 503, (answer.status, answer.body[:300])
    assert answer.headers["retry-after"] == "1"
    if page:   # the pages' error page, same status and code
        assert answer.content_type == "text/html"
        assert b'data-code="overloaded"' in answer.body
        assert message("overloaded", "fr", retry_after=1).encode() in answer.body
    else:
        body = answer.json()
        assert has_error_shape(body), body
        assert body["error"]["code"] == "overloaded"


@pytest.fixture
def service(server_env):
    def start(**settings):
        server_env.update({f"MODERATION_{k.upper()}": str(v) for k, v in settings.items()})
        cli(server_env, "init")
        key = cli(server_env, "site", "add", "--name", "blog", "--url", "https://blog.example",
                  "--lang", "en", "--mode", "auto")
        port = free_port()
        servers.append(start_server(server_env, port))
        return port, key
    servers = []
    yield start
    for server in servers:
        log = stop(server)
        assert "Traceback" not in log, log[-3000:]


def test_requests_past_the_in_flight_bound_are_shed_then_served_again(service):
    port, key = service(max_requests_in_flight=2)
    assert sample(scrape(port), "moderation_load_limit", queue="requests_in_flight") == 2
    held = [HeldRequest(port, key, n) for n in range(2)]
    wait_for(port, "moderation_requests_in_flight", 2)

    burst = [post_comment(key, n) for n in range(10, 16)] + [
        request_bytes(b"GET", b"/v1/sites/blog/counts?thread=article-42", []),
        request_bytes(b"GET", b"/openapi.json", []),
        request_bytes(b"GET", b"/v1/comments/1", [(b"Authorization", b"Bearer " + key.encode())]),
        request_bytes(b"GET", b"/nowhere", [])]
    pages = [request_bytes(b"GET", b"/moderate/signin", [])]
    with ThreadPoolExecutor(8) as pool:   # all at once, while the two held ones fill the bound
        answers = list(pool.map(lambda raw: exchange(port, raw), burst + pages))
        health = list(pool.map(lambda path: exchange(port, request_bytes(b"GET", path, [])),
                               [b"/healthz", b"/readyz", b"/metrics"]))
    for answer in answers[:len(burst)]:
        check_overloaded(answer)
    for answer in answers[len(burst):]:
        check_overloaded(answer, page=True)
    assert [a.status for a in health] == [200, 200, 200]   # never shed

    finished = [h.finish() for h in held]   # the two in flight were served all along
    assert [a.status for a in finished] == [201, 201], [a.body for a in finished]

    shed = len(answers)
    samples = scrape(port)
    assert sample(samples, "moderation_requests_shed_total", queue="requests_in_flight") == shed
    assert sample(samples, "moderation_requests_in_flight") == 0
    counted = statuses_counted(samples)
    assert counted.get(503) == shed
    assert not [status for status in counted if status >= 500 and status != 503], counted

    # After the burst, everything is served normally.
    with ThreadPoolExecutor(2) as pool:   # two at a time: within the bound
        after = list(pool.map(lambda raw: exchange(port, raw), burst[:6]))
    assert [a.status for a in after] == [201] * 6
    assert exchange(port, burst[6]).status == 200
    assert exchange(port, pages[0]).status == 200
    print(f"in-flight bound 2: {len(held)} held requests served, {shed} of the burst shed "
          f"(503 overloaded, Retry-After: 1), then {len(after) + 2} served")


def test_texts_past_the_scoring_queue_bound_are_shed(service):
    # The first texts wait 4 s for company: the queue stays full that long.
    port, key = service(scoring_queue_max=2, scoring_batch_wait_ms=4000, max_requests_in_flight=0)
    samples = scrape(port)
    assert sample(samples, "moderation_load_limit", queue="scoring_queue") == 2
    assert sample(samples, "moderation_load_limit", queue="requests_in_flight") == 0
    results = {}
    waiting = [threading.Thread(target=lambda n=n: results.__setitem__(n, exchange(port, post_comment(key, n))))
               for n in range(2)]
    for thread in waiting:
        thread.start()
    wait_for(port, "moderation_scoring_queue_waiting", 2)
    refused = [exchange(port, post_comment(key, n)) for n in range(10, 14)]
    akismet = exchange(port, request_bytes(
        b"POST", b"/1.1/comment-check", [(b"Content-Type", b"application/x-www-form-urlencoded")],
        f"api_key={key}&blog=https://blog.example&user_ip=203.0.113.9&comment_content=Hello".encode()))
    for thread in waiting:
        thread.join(timeout=30)
    for answer in refused + [akismet]:
        check_overloaded(answer)
    assert [results[n].status for n in range(2)] == [201, 201]

    samples = scrape(port)
    assert sample(samples, "moderation_requests_shed_total", queue="scoring_queue") == 5
    assert sample(samples, "moderation_requests_shed_total", queue="requests_in_flight") == 0
    assert sample(samples, "moderation_scoring_queue_waiting") == 0
    counted = statuses_counted(samples)
    assert counted.get(503) == 5 and not [s for s in counted if s >= 500 and s != 503], counted
    assert exchange(port, post_comment(key, 99)).status == 201   # served again
    print("scoring queue bound 2: 2 texts waiting served, 5 shed (4 comments, 1 comment-check)")
