"""Schemathesis against the live service: every operation of /openapi.json,
valid and invalid inputs, must answer no 5xx and nothing the document does not
allow (status, content type, body, headers); invalid input must be refused.

The service runs as ops run it (``moderation serve`` in a subprocess, one
worker) with a site key, an admin token and a moderator's browser session, so
authenticated operations get past authentication; a few comments are seeded
so the review endpoints have something to show. Bounded: a fixed number of
examples per operation, derandomized (the same inputs on every run), no
shrinking, and a deadline for the whole run.
"""
from __future__ import annotations

import itertools
import re
import socket
import subprocess
import sys
import time

import hypothesis
import hypothesis.errors
import pytest
import requests
from hypothesis import HealthCheck, Phase

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance, negative_data_rejection, not_a_server_error, response_headers_conformance,
    response_schema_conformance, status_code_conformance)

from ..conftest import comment_payload  # noqa: E402
from ..server import cli, free_port  # noqa: E402
from ..toy_model import HAM_TEXT, SPAM_TEXT  # noqa: E402

pytestmark = pytest.mark.slow

EXAMPLES = {GenerationMode.POSITIVE: 30, GenerationMode.NEGATIVE: 20}
RUN_SECONDS = 900
"""A guard against a hung run, not a speed target: the examples are fixed in number,
and a slow or busy machine took over 100 s for them."""
CHECKS = {
    GenerationMode.POSITIVE: [not_a_server_error, status_code_conformance, content_type_conformance,
                              response_schema_conformance, response_headers_conformance],
    GenerationMode.NEGATIVE: [not_a_server_error, status_code_conformance, content_type_conformance,
                              response_schema_conformance, response_headers_conformance,
                              negative_data_rejection],
}


def start_logging_server(env, port, log_path):
    """``moderation serve`` with its log in a file (a pipe nobody reads could fill up and stall it)."""
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "moderation", "serve", "--port", str(port)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(log_path.read_text())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("server did not start")


@pytest.fixture
def live(server_env, tmp_path):
    cli(server_env, "init")   # the CLI creates no database but on init (or serve)
    site_key = cli(server_env, "site", "add", "--name", "blog", "--url", "https://blog.example",
                   "--lang", "en", "--mode", "auto")
    admin = cli(server_env, "moderator", "add", "ada", "--role", "admin")
    port = free_port()
    server_env.update(MODERATION_LOG_LEVEL="ERROR", MODERATION_LOG_FORMAT="text")
    log_path = tmp_path / "server.log"
    server = start_logging_server(server_env, port, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        seeded = []
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {site_key}"
            for i, body in enumerate([HAM_TEXT, SPAM_TEXT, "Un commentaire en français, merci.", HAM_TEXT]):
                answer = http.post(f"{base}/v1/comments", json=comment_payload(
                    body=f"{body} ({i})", author={"name": "R", "email": f"r{i}@example.org"}), timeout=10)
                assert answer.status_code in (201, 202), answer.text
                seeded.append(answer.json()["id"])
        session, csrf = _browser_session(base, admin)
        yield base, log_path, {"siteKey": site_key, "moderatorToken": admin, "moderatorSession": session,
                     "csrf": csrf, "site": "blog", "blog": "https://blog.example", "comment_ids": seeded}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _browser_session(base: str, token: str) -> tuple[str, str]:
    """Sign in on /moderate the way a browser does: the session cookie's value
    and the session's CSRF token."""
    with requests.Session() as browser:
        page = browser.get(f"{base}/moderate/signin", timeout=10)
        signin_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        done = browser.post(f"{base}/moderate/signin", data={"token": token, "csrf_token": signin_token},
                            allow_redirects=False, timeout=10)
        assert done.status_code == 303, done.text
        queue = browser.get(f"{base}/moderate", allow_redirects=False, timeout=10)
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', queue.text).group(1)
        return browser.cookies["moderation_session"], csrf


def credentials(operation, secrets) -> tuple[dict, dict]:
    """Headers and cookies for the first security alternative the operation names
    (none for signing out: the session must outlive the run)."""
    if operation.definition.raw["operationId"] == "moderate_signout":
        return {}, {}
    for alternative in operation.definition.raw.get("security", []):
        for name in alternative:
            if name == "moderatorSession":
                return {"X-CSRF-Token": secrets["csrf"]}, {"moderation_session": secrets[name]}
            if name in secrets:
                return {"Authorization": f"Bearer {secrets[name]}"}, {}
    return {}, {}


def aim(case, secrets, turn: int) -> None:
    """Every other valid case names the seeded site and one of its comments, or
    carries its key (random names, ids and keys would only ever be refused)."""
    if turn % 2:
        return
    if case.operation.path.startswith("/1.1/") and isinstance(case.body, dict):   # Akismet's form
        case.body.update({"api_key": secrets["siteKey"], "key": secrets["siteKey"], "blog": secrets["blog"]})
    if not case.path_parameters:
        return
    if "site" in case.path_parameters:
        case.path_parameters["site"] = secrets["site"]
    if "comment_id" in case.path_parameters:
        ids = secrets["comment_ids"]
        case.path_parameters["comment_id"] = ids[turn // 2 % len(ids)]


def only_cookies_invalid(case) -> bool:
    """Whether a negative case broke nothing but its cookies (the harness
    sends the real session cookie instead, so the request is valid after all)."""
    meta = case._meta
    if meta is None:
        return False
    broken = {location.value for location, info in meta.components.items() if info.mode.is_negative}
    return broken == {"cookie"}


def can_be_invalid(operation) -> bool:
    """Whether negative generation has anything to break: a JSON body, or a
    parameter constrained beyond "any string" (forms and free strings are not)."""
    raw = operation.definition.raw
    if "application/json" in raw.get("requestBody", {}).get("content", {}):
        return True
    return any(p["schema"] != {"type": "string"} for p in raw.get("parameters", []))


def test_the_service_answers_as_documented(live):
    base, log_path, secrets = live
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    # Rejections besides schemathesis's list, both documented: 413 for an invalid body
    # past MODERATION_MAX_REQUEST_BYTES (an array far over its maxItems), 417 for an
    # `Expect` other than 100-continue among an invalid case's random headers.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413", "417"]
    deadline = time.monotonic() + RUN_SECONDS
    failures, ran, seen, turns = [], 0, {}, itertools.count()
    with requests.Session() as http:
        for result in schema.get_all_operations():
            operation = result.ok()
            headers, cookies = credentials(operation, secrets)
            for mode, examples in EXAMPLES.items():
                if mode is GenerationMode.NEGATIVE and not can_be_invalid(operation):
                    continue
                if time.monotonic() > deadline:
                    pytest.fail(f"schemathesis ran past {RUN_SECONDS} s after {ran} operations")

                @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
                @hypothesis.settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                                     phases=[Phase.explicit, Phase.generate], print_blob=False,
                                     suppress_health_check=list(HealthCheck))
                def exercise(case):
                    if mode is GenerationMode.POSITIVE:   # aim valid cases at things that exist
                        aim(case, secrets, next(turns))
                    elif cookies and only_cookies_invalid(case):
                        return   # the session cookie sent below replaces the invalid one: a valid request
                    response = case.call(base_url=base, session=http, headers=headers, cookies=cookies,
                                         allow_redirects=False, timeout=10)
                    if headers or cookies:
                        seen.setdefault(operation.label, set()).add(response.status_code)
                    case.validate_response(response, checks=CHECKS[mode], headers=headers)

                try:
                    exercise()
                except hypothesis.errors.Unsatisfiable:   # nothing to make invalid (no parameters)
                    pass
                except (Exception, BaseExceptionGroup) as failure:   # collect them all, fail once
                    failures.append(f"{operation.label} [{mode.value}]: {failure}")
            ran += 1
    assert ran >= 20
    assert not failures, "\n\n".join(failures) + "\n\nserver log:\n" + log_path.read_text()[-5000:]
    # The credentials worked: every operation given some answered past authentication.
    locked_out = [label for label, statuses in seen.items() if statuses <= {401, 303}]
    assert not locked_out, seen
