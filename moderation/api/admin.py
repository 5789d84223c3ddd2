"""Operations endpoints, for admins."""
from __future__ import annotations

import asyncio

from aiohttp import web

from ..domain import Role
from ..errors import ApiError, FieldError
from ..keys import EXECUTOR, MODELS
from ..scoring.model import ModelError
from .auth import require_moderator


async def reload_current_model(app: web.Application):
    """Load the model ``models/CURRENT`` points to, off the event loop. On
    failure the previous model stays in service and ModelError is raised."""
    return await asyncio.get_running_loop().run_in_executor(app[EXECUTOR], app[MODELS].reload)


async def reload_model(request: web.Request) -> web.Response:
    """200 with the version now in service; 409 when the new model is refused."""
    await require_moderator(request, role=Role.ADMIN)
    try:
        bundle = await reload_current_model(request.app)
    except ModelError as exc:
        current = request.app[MODELS].bundle
        raise ApiError(409, "model_reload_failed", fields=[
            FieldError("model", "invalid_value", detail=str(exc))],
            current_version=current.version if current else None) from exc
    return web.json_response({"model_version": bundle.version, "loaded_at": bundle.loaded_at})
