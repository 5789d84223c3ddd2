"""Helpers for the integrations: the real ``akismet`` client pointed at the
app, and a webhook receiver on 127.0.0.1."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import akismet
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from moderation.keys import STORE

from ..server import free_port
from ..toy_model import HAM_TEXT, SPAM_TEXT


class ToTestServer(httpx.AsyncBaseTransport):
    """An httpx transport sending every request to *base_url* instead of the
    host in its URL (the ``akismet`` client always names rest.akismet.com)."""

    def __init__(self, base_url: str) -> None:
        self.base = httpx.URL(base_url)
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme=self.base.scheme, host=self.base.host,
                                            port=self.base.port)
        request.headers["Host"] = f"{self.base.host}:{self.base.port}"
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
async def akismet_pointed_at():
    """``akismet_pointed_at(client, key, url)``: an unchanged ``akismet.AsyncClient``
    whose requests reach the test app behind *client*."""
    opened: list[httpx.AsyncClient] = []

    def make(client, key: str, url: str = "https://journal.example") -> akismet.AsyncClient:
        http = httpx.AsyncClient(transport=ToTestServer(str(client.make_url("/"))),
                                 headers={"User-Agent": akismet.USER_AGENT}, timeout=10.0)
        opened.append(http)
        return akismet.AsyncClient(config=akismet.Config(key=key, url=url), http_client=http)

    yield make
    for http in opened:
        await http.aclose()


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver: records every request; answers 503 to the first
    ``fail_first``, and holds requests while ``hang`` is set, until ``release``."""

    port: int
    fail_first: int = 0
    hang: bool = False
    requests: list[Received] = field(default_factory=list)
    accepted: list[Received] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    server: TestServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/moderation"

    async def handle(self, request: web.Request) -> web.Response:
        got = Received(at=time.monotonic(), headers=dict(request.headers), body=await request.read())
        self.requests.append(got)
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=503, text="down for maintenance")
        if self.hang:
            await self.release.wait()
        self.accepted.append(got)
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/moderation", self.handle)
        self.server = TestServer(app, host="127.0.0.1", port=self.port)
        await self.server.start_server()

    async def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            await self.server.close()
            self.server = None

    async def wait_accepted(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count:
            assert time.monotonic() < deadline, (
                f"{len(self.accepted)} of {count} deliveries accepted; {len(self.requests)} requests")
            await asyncio.sleep(0.01)
        return self.accepted


@pytest.fixture
async def receiver():
    """A receiver on a free port of 127.0.0.1, not started (``await receiver.start()``)."""
    made = Receiver(port=free_port())
    yield made
    await made.stop()


async def eventually(predicate, timeout: float = 10.0, what: str = "condition"):
    """Await until ``await predicate()`` is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def separate_toy_bands(client, key: str, site_name: str = "journal",
                             blog: str = "https://journal.example") -> None:
    """Set the site's thresholds between the toy model's scores of HAM_TEXT and
    SPAM_TEXT, measured now (tests assert bands, never the toy's probabilities)."""
    scores = []
    for text in (HAM_TEXT, SPAM_TEXT):
        response = await client.post("/1.1/comment-check", data={
            "api_key": key, "blog": blog, "user_ip": "203.0.113.7", "comment_content": text})
        scores.append(float(response.headers["X-Moderation-Score"]))
    ham, spam = scores
    assert ham < spam, scores
    store = client.app[STORE]
    site = await store.site_by_name(site_name)
    await store.set_site_thresholds(site.id, approve_below=ham + (spam - ham) / 3,
                                    reject_above=spam - (spam - ham) / 3)
