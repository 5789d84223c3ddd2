"""What the service says about itself: its OpenAPI document and its metrics."""
from __future__ import annotations

from aiohttp import web

from ..keys import SETTINGS
from ..metrics import metrics_endpoint
from ..openapi import document_json

__all__ = ["metrics_endpoint", "openapi_document"]


async def openapi_document(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of this service, with this server's limits."""
    return web.Response(body=document_json(request.app[SETTINGS]), content_type="application/json",
                        headers={"Access-Control-Allow-Origin": "*"})
