"""Hostile bytes against a real ``moderation serve``, on every route and method
its ``/openapi.json`` lists: a client's bytes never make a 5xx, and every 4xx
JSON answer has the one error shape.

Each operation gets a baseline request that gets past authentication (site
key, admin token or browser session, as its security says; the seeded site
and comment in its path; a body of its content type), then one hostile change
at a time, by class: bytes that are not UTF-8 in each header the service
reads (and in X-Forwarded-For, which it does not), compressed bodies, paths
and query strings that are not UTF-8 or too long, bodies cut short, lying
lengths and broken chunking; then a property-based fuzz of whole raw requests
(hypothesis, a fixed number of derandomized examples). Requests go over a raw
socket: no HTTP client library sends such bytes.

The cases sent per class are printed (``-s``) and, at the end, /metrics must
count no 5xx answer and the server log hold no error.
"""
from __future__ import annotations

import gzip
import json
import re
import threading
import zlib
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from moderation.web.session import csrf_token_for

from ..conftest import comment_payload
from ..server import cli, free_port, read_log, start_server
from .rawhttp import Answer, exchange, has_error_shape, request_bytes, scrape, statuses_counted

pytestmark = pytest.mark.slow

FUZZ_EXAMPLES = 200
BAD_TEXT = [b"caf\xe9", b"\xff\xfe\xfd", b"\xc3\x28", b"\xed\xa0\x80", b"ok\x80", b"\xe9" * 300]
SENT: Counter = Counter()                              # class -> cases sent
ANSWERED: defaultdict = defaultdict(Counter)           # class -> status -> count
FAILURES: list[str] = []
_RECORDING = threading.Lock()
BOMB = gzip.compress(b"a" * 20_000_000)   # 20 MB in about 20 KB: a decompression bomb


# -- the service under attack
@pytest.fixture(scope="module")
def service(tmp_path_factory, toy_models_dir):
    import os
    tmp = tmp_path_factory.mktemp("hostile")
    env = dict(os.environ)
    env.update({"MODERATION_DATABASE_URL": f"sqlite:///{tmp / 'hostile.db'}",
                "MODERATION_MODEL_DIR": str(toy_models_dir), "MODERATION_RATE_LIMIT_PER_IP": "0",
                "MODERATION_RATE_LIMIT_PER_EMAIL": "0", "MODERATION_DUPLICATE_WINDOW_SECONDS": "0",
                "MODERATION_AUDIT_SHARE": "0", "MODERATION_WORKERS": "1", "MODERATION_LOG_LEVEL": "WARNING",
                "MODERATION_BODY_TIMEOUT_SECONDS": "1", "MODERATION_SIGNIN_FAILURES_PER_MINUTE": "0"})
    cli(env, "init")
    key = cli(env, "site", "add", "--name", "blog", "--url", "https://blog.example", "--lang", "en",
              "--mode", "pre")
    admin = cli(env, "moderator", "add", "ada", "--role", "admin")
    port = free_port()
    server = start_server(env, port)
    try:
        seeded = exchange(port, request_bytes(b"POST", b"/v1/comments", [
            (b"Authorization", b"Bearer " + key.encode()), (b"Content-Type", b"application/json")],
            json.dumps(comment_payload()).encode()))
        assert seeded.status == 202, seeded.body
        session = sign_in(port, admin)
        document = exchange(port, request_bytes(b"GET", b"/openapi.json", [])).json()
        yield {"port": port, "key": key, "admin": admin, "session": session,
               "csrf": csrf_token_for(session), "comment_id": seeded.json()["id"],
               "operations": operations(document), "server": server}
    finally:
        server.terminate()
        server.wait(timeout=30)


def sign_in(port: int, token: str) -> str:
    """Sign in on /moderate as a browser does; the session cookie's value."""
    page = exchange(port, request_bytes(b"GET", b"/moderate/signin", []))
    signin = re.search(r"moderation_signin=([A-Za-z0-9_-]+)", page.headers["set-cookie"]).group(1)
    done = exchange(port, request_bytes(
        b"POST", b"/moderate/signin", [(b"Cookie", f"moderation_signin={signin}".encode()),
                                       (b"Content-Type", b"application/x-www-form-urlencoded")],
        f"csrf_token={signin}&token={token}".encode()))
    assert done.status == 303, done.body
    return re.search(r"moderation_session=([A-Za-z0-9_-]+)", done.headers["set-cookie"]).group(1)


def operations(document) -> list[dict]:
    """(method, path template, security, body media type) of every documented operation."""
    found = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            content = list(op.get("requestBody", {}).get("content", {}))
            schemes = [name for alternative in op.get("security", []) for name in alternative]
            found.append({"id": op["operationId"], "method": method.upper(), "path": path,
                          "security": schemes, "media": content[0] if content else None})
    assert len(found) >= 28, found
    return found


def baseline(op: dict, svc: dict) -> dict:
    """A request for *op* that gets past authentication: parts kept apart so that
    each class can spoil one of them."""
    path = (op["path"].replace("{site}", "blog").replace("{thread}", "article-42")
            .replace("{comment_id}", str(svc["comment_id"])).replace("{filename}", "moderate.css"))
    headers: list[tuple[bytes, bytes]] = []
    if "siteKey" in op["security"]:
        headers.append((b"Authorization", b"Bearer " + svc["key"].encode()))
    elif "moderatorToken" in op["security"]:
        headers.append((b"Authorization", b"Bearer " + svc["admin"].encode()))
    elif "moderatorSession" in op["security"] and op["id"] != "moderate_signout":   # keep the session
        headers += [(b"Cookie", b"moderation_session=" + svc["session"].encode()),
                    (b"X-CSRF-Token", svc["csrf"].encode())]
    body = b""
    if op["media"] == "application/json":
        body = json.dumps(comment_payload() if op["id"] == "post_comment" else
                          {"action": "approve", "ids": [svc["comment_id"]], "email": "x@example.org"}).encode()
    elif op["media"] is not None:   # a form; multipart is sent url-encoded here, the fuzz mixes it
        body = (f"api_key={svc['key']}&key={svc['key']}&blog=https://blog.example&user_ip=203.0.113.9"
                f"&comment_content=Hello&csrf_token={svc['csrf']}&action=approve&ids={svc['comment_id']}"
                ).encode()
    if body:
        media = b"application/json" if op["media"] == "application/json" else b"application/x-www-form-urlencoded"
        headers.append((b"Content-Type", media))
    return {"method": op["method"].encode(), "path": path.encode(), "query": b"", "headers": headers,
            "body": body}


def build(base: dict, *, length: bytes | None = None) -> bytes:
    target = base["path"] + (b"?" + base["query"] if base["query"] else b"")
    return request_bytes(base["method"], target, base["headers"], base["body"], length=length)


def with_header(base: dict, name: bytes, value: bytes, *, replace: bytes | None = None) -> dict:
    drop = {name.lower(), (replace or name).lower()}
    headers = [(n, v) for n, v in base["headers"] if n.lower() not in drop]
    return {**base, "headers": headers + [(name, value)]}


# -- judging answers
def judge(kind: str, what: str, answer: Answer | None, expect: set[int] | None = None,
          code: str | None = None, *, head: bool = False) -> None:
    """Record the answer; collect a failure for a 5xx, a JSON 4xx not in the one
    shape, or (when given) another status or error code than expected. An
    answer to HEAD has no body to judge."""
    status = answer.status if answer is not None else "closed"
    with _RECORDING:
        SENT[kind] += 1
        ANSWERED[kind][status] += 1
    if answer is None:
        return
    problem = None
    if answer.status >= 500:
        problem = "5xx"
    elif expect is not None and answer.status not in expect:
        problem = f"expected {sorted(expect)}"
    elif 400 <= answer.status < 500 and answer.content_type == "application/json" and not head:
        body = answer.json()
        if not has_error_shape(body):
            problem = "not the one error shape"
        elif code is not None and body["error"]["code"] != code:
            problem = f"expected code {code}"
    if problem:
        with _RECORDING:
            FAILURES.append(f"[{kind}] {what}: {problem}: {answer.status} {answer.body[:300]!r}")


def failures_since(start: int) -> str:
    return "\n".join(FAILURES[start:start + 30])


def run_cases(svc, cases) -> None:
    """*cases*: (class, description, raw bytes, options for exchange, expected statuses, code)."""
    def one(case):
        kind, what, raw, options, expect, code = case
        judge(kind, what, exchange(svc["port"], raw, **options), expect, code)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, cases))


def is_page(op) -> bool:
    return op["path"].startswith("/moderate")


# -- one class at a time
def test_header_bytes_that_are_not_utf8(service):
    start, cases = len(FAILURES), []
    for op in service["operations"]:
        base = baseline(op, service)
        for bad in BAD_TEXT:
            label = f"{op['method']} {op['path']} {bad[:8]!r}"
            cases.append(("Authorization", label, build(with_header(base, b"Authorization", b"Bearer " + bad)),
                          {}, {401}, "unauthorized"))
            no_auth = {**base, "headers": [(n, v) for n, v in base["headers"] if n != b"Authorization"]}
            for cookie in (b"moderation_session=" + bad, b"moderation_signin=" + bad,
                           b"other=" + bad + b"; moderation_session=" + service["session"].encode()):
                cases.append(("Cookie", label, build(with_header(no_auth, b"Cookie", cookie)), {}, None, None))
            for name in (b"Content-Type", b"Accept-Language", b"Idempotency-Key"):
                cases.append((name.decode(), label, build(with_header(base, name, b"text/" + bad)),
                              {}, {400}, "invalid_header"))
            cases.append(("X-Request-Id", label, build(with_header(base, b"X-Request-Id", bad)), {}, None, None))
            cases.append(("Expect", label, build(with_header(base, b"Expect", bad)), {}, {417},
                          "expectation_failed"))
            cases.append(("Host", label, build(with_header(base, b"Host", bad)), {}, None, None))
            cases.append(("X-Forwarded-For", label,
                          build(with_header(base, b"X-Forwarded-For", bad + b", 203.0.113.9")), {}, None, None))
        if op["id"] in ("decide", "decide_bulk", "moderate_decide"):   # a live session, a CSRF token of bad bytes
            session = with_header(base, b"Cookie", b"moderation_session=" + service["session"].encode(),
                                  replace=b"Authorization")
            cases.append(("X-CSRF-Token", op["path"], build(with_header(session, b"X-CSRF-Token", b"\xe9\xff")),
                          {}, {400}, "invalid_header"))
    run_cases(service, cases)
    assert not FAILURES[start:], failures_since(start)


def test_compressed_bodies_are_refused(service):
    start, cases = len(FAILURES), []
    for op in service["operations"]:
        base = baseline(op, service)
        body = base["body"] or b'{"a": 1}'
        bodies = {b"gzip": [b"not gzip at all", gzip.compress(body),
                            BOMB],
                  b"deflate": [b"\x78\x9c broken", zlib.compress(body)],
                  b"br": [b"\x8b\x02\x80garbage"], b"zstd": [b"\x28\xb5\x2f\xfd junk"],
                  b"identity, gzip": [gzip.compress(body)], b"\xe9\xff": [body]}
        for coding, payloads in bodies.items():
            for payload in payloads:
                raw = build({**with_header(base, b"Content-Encoding", coding), "body": payload})
                cases.append(("Content-Encoding", f"{op['method']} {op['path']} {coding!r}", raw, {},
                              {415}, "unsupported_content_encoding"))
        raw = build({**with_header(base, b"Transfer-Encoding", b"gzip, chunked"),
                     "body": b"5\r\nhello\r\n0\r\n\r\n"}, length=b"")
        cases.append(("Content-Encoding", f"{op['path']} transfer gzip", raw, {}, {415}, None))
    run_cases(service, cases)
    assert not FAILURES[start:], failures_since(start)


def test_paths_and_query_strings(service):
    start, cases = len(FAILURES), []
    for op in service["operations"]:
        base = baseline(op, service)
        for bad in (b"%E9", b"%FF%FE", b"%ED%A0%80", b"%C3%28", b"%00", b"%1B[31m"):
            cases.append(("query", f"{op['path']} ?x={bad!r}", build({**base, "query": b"x=" + bad}),
                          {}, {400}, "invalid_parameter"))
            cases.append(("query", f"{op['path']} ?{bad!r}=1", build({**base, "query": bad + b"=1"}),
                          {}, {400}, "invalid_parameter"))
            cases.append(("path", f"{op['path']}/{bad!r}", build({**base, "path": base["path"] + b"/" + bad}),
                          {}, {400}, "invalid_path"))
        for raw_bytes in (b"\xe9", b"\xff", b"\x00", b"\x7f"):   # the HTTP parser refuses most itself
            cases.append(("query", f"{op['path']} raw {raw_bytes!r}",
                          build({**base, "query": b"x=" + raw_bytes}), {}, {400}, None))
            cases.append(("path", f"{op['path']} raw {raw_bytes!r}",
                          build({**base, "path": base["path"] + raw_bytes}), {}, {400}, None))
        for size in (2_000, 8_000, 20_000):   # under, near and over the 8190-byte request line
            cases.append(("overlong", f"{op['path']} query {size}",
                          build({**base, "query": b"thread=" + b"a" * size}), {}, None, None))
            cases.append(("overlong", f"{op['path']} path {size}",
                          build({**base, "path": base["path"] + b"/" + b"%C3%A9" * (size // 6)}), {}, None, None))
    run_cases(service, cases)
    assert not FAILURES[start:], failures_since(start)


def test_truncated_bodies_and_wrong_lengths(service):
    start, cases = len(FAILURES), []
    for op in service["operations"]:
        base = baseline(op, service)
        body = base["body"] or b'{"a": 1}'
        full = build({**base, "body": body})
        longer = str(len(body) + 50).encode()
        what = f"{op['method']} {op['path']}"
        # cut short: the client closes, or waits (then 408 after the 1 s body timeout)
        cases.append(("truncated", what, build({**base, "body": body}, length=longer), {"close_after": 0.2},
                      None, None))
        cases.append(("truncated", what, full[:len(full) - max(1, len(body) // 2)], {"close_after": 0.2},
                      None, None))
        cases.append(("truncated", what, build({**base, "body": body}, length=longer), {}, None, None))
        # lengths that lie or do not parse
        for length in (b"1", b"-1", b"abc", b"1e3", b"99999999999999999999999", b"0x10", b" 5", b"2, 3"):
            cases.append(("wrong length", f"{what} {length!r}", build({**base, "body": body}, length=length),
                          {}, None, None))
        twice = with_header({**base, "body": body}, b"Content-Length", b"3")
        cases.append(("wrong length", f"{what} twice", build(twice), {}, None, None))
        for chunks in (b"zz\r\nab\r\n0\r\n\r\n", b"2\r\nabcdef\r\n0\r\n\r\n", b"ffffffffffffffffff\r\nab\r\n",
                       b"5\r\nab", b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n", b"2;\xff\r\n{}\r\n0\r\n\r\n"):
            chunked = with_header({**base, "body": chunks}, b"Transfer-Encoding", b"chunked")
            options = {"close_after": 0.2} if chunks == b"5\r\nab" else {}
            cases.append(("chunked", f"{what} {chunks[:12]!r}", build(chunked, length=b""), options, None, None))
    run_cases(service, cases)
    assert not FAILURES[start:], failures_since(start)


# -- the fuzz
HEADER_NAMES = [b"Authorization", b"Cookie", b"Content-Type", b"Accept-Language", b"X-Request-Id",
                b"Idempotency-Key", b"X-Forwarded-For", b"X-CSRF-Token", b"Content-Encoding",
                b"X-Forwarded-Proto", b"Accept", b"Transfer-Encoding", b"Expect", b"Range", b"Host",
                b"Upgrade", b"Connection", b"Origin", b"Referer", b"User-Agent", b"If-None-Match"]
header_value = st.one_of(st.binary(max_size=40), st.text(st.characters(min_codepoint=32, max_codepoint=126),
                                                         max_size=40).map(str.encode),
                         st.sampled_from([b"gzip", b"identity", b"chunked", b"fr-FR,en;q=0.5", b"Bearer x",
                                          b"application/json", b"multipart/form-data; boundary=X",
                                          b"application/x-www-form-urlencoded; charset=nope"]),
                         ).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@st.composite
def raw_requests(draw, ops, svc):
    op = draw(st.sampled_from(ops))
    base = baseline(op, svc)
    method = draw(st.sampled_from([base["method"], b"GET", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"HEAD"]))
    path = base["path"]
    if draw(st.booleans()):
        path += b"/" + quote(draw(st.binary(max_size=12)), safe="").encode()
    query = b"&".join(quote(k, safe="").encode() + b"=" + quote(v, safe="").encode()
                      for k, v in draw(st.lists(st.tuples(st.binary(max_size=8), st.binary(max_size=16)),
                                                max_size=3)))
    headers = list(base["headers"]) if draw(st.booleans()) else []
    headers += draw(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_value), max_size=4))
    body = draw(st.one_of(st.just(base["body"]), st.binary(max_size=200),
                          st.builds(lambda b: b"--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n" + b
                                    + b"\r\n--X--\r\n", st.binary(max_size=40))))
    framing = draw(st.sampled_from(["exact", "exact", "short", "none", "chunked", "chunked-broken"]))
    if framing.startswith("chunked"):
        headers.append((b"Transfer-Encoding", b"chunked"))
        body = (b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n") if framing == "chunked" else \
            draw(st.binary(max_size=6)) + b"\r\n" + body
        length = b""
    else:
        length = {"exact": None, "short": str(len(body) // 2).encode(), "none": b""}[framing]
    return request_bytes(method, path + (b"?" + query if query else b""), headers, body, length=length)


def test_fuzzed_raw_requests(service):
    ops, start = service["operations"], len(FAILURES)

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(raw=raw_requests(ops, service))
    def fuzz(raw):
        judge("fuzz", repr(raw[:200]), exchange(service["port"], raw), head=raw.startswith(b"HEAD "))

    fuzz()
    assert not FAILURES[start:], failures_since(start)


def test_nothing_counted_5xx_and_nothing_logged_as_an_error(service):
    """Last: what the server itself counted and logged over the whole run."""
    counted = statuses_counted(scrape(service["port"]))
    width = max(map(len, SENT), default=10)
    print(f"\n{'class':<{width}}  cases  answers")
    for kind, sent in SENT.items():
        answers = ", ".join(f"{s}: {n}" for s, n in sorted(ANSWERED[kind].items(), key=str))
        print(f"{kind:<{width}}  {sent:5d}  {answers}")
    print(f"{'total':<{width}}  {sum(SENT.values()):5d}  5xx counted by the server: "
          f"{sum(n for s, n in counted.items() if s >= 500):g}")
    assert not FAILURES, "\n".join(FAILURES[:30])
    assert not [s for s in counted if s >= 500], counted
    server = service["server"]
    log = read_log(server)
    errors = [line for line in log.splitlines() if '"level": "ERROR"' in line or "Traceback" in line]
    assert not errors, "\n".join(errors[:10])
