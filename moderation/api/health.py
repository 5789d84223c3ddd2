"""Liveness and readiness, for load balancers and orchestrators."""
from __future__ import annotations

from aiohttp import web

from ..jsonanswer import json_response
from ..errors import ApiError, FieldError
from ..keys import DRIFT, MODELS, STORE
from ..records import OMITTED, to_json
from ..records.review import Health, Ready
from ..services.drift_monitor import drift_report
from ..store.base import DatabaseUnavailable, StoreError


async def healthz(request: web.Request) -> web.Response:
    return json_response(to_json(Health(status="ok")))


async def readyz(request: web.Request) -> web.Response:
    """200 when the database takes writes and a model is loaded; else 503 naming
    each problem: ``database_unavailable`` (the server is out of reach: down,
    restarting), ``database_unwritable`` (it refuses writes), ``model_not_loaded``.
    A site drifting (:mod:`moderation.services.drift_monitor`) leaves it ready:
    the answer names it under ``drift``."""
    problems = []
    try:
        await request.app[STORE].check_writable()
    except StoreError as exc:
        code = "database_unavailable" if isinstance(exc, DatabaseUnavailable) else "database_unwritable"
        problems.append(FieldError("database", code, detail=str(exc)))
    holder = request.app[MODELS]
    if holder.bundle is None:
        problems.append(FieldError("model", "model_not_loaded", detail=holder.last_error or ""))
    if problems:
        raise ApiError(503, "not_ready", fields=problems)
    drift = drift_report(request.app.get(DRIFT))
    return json_response(to_json(Ready(status="ready", model_version=holder.bundle.version,
                                       drift=drift or OMITTED)))
