"""Operations endpoints, for admins.

``POST /v1/admin/model/reload`` (admin token, no body) reloads the model of
every worker process of every instance sharing the database
(:func:`moderation.services.model_sync.reload_everywhere`, whose docstring
says how) and answers, once every live worker has applied it or
``MODERATION_MODEL_RELOAD_WAIT_SECONDS`` is over:

- **200** when every live worker loaded the model:
  ``{"model_version", "loaded_at"`` (this worker's model, as before),
  ``"generation", "workers": [...]}``;
- **409** ``model_reload_failed`` when at least one worker refused the new
  model: each one that refused keeps serving its previous model;
- **503** ``model_reload_incomplete`` when none refused but some did not
  confirm within the wait: they keep polling and apply it when they can.

Errors have the one shape of :mod:`moderation.errors`: ``fields`` has one
entry per worker that refused (``model_refused``) or did not confirm
(``no_answer``), its ``detail`` starting with the worker's id; the error
object adds ``generation`` and ``workers``. ``workers`` (in every answer)
lists each live worker, by id: ``{"worker": "host:pid", "status": "loaded"
| "failed" | "no_answer", "model_version", "loaded_at", "error"}``, where
``model_version`` is the model it serves now (its previous one after a
refusal) and ``error`` is why it refused (else null).

``GET /v1/admin/model/compare`` reports a shadowed candidate against the live
model (:func:`moderation.services.model_changes.compare`).
"""
from __future__ import annotations

from datetime import datetime, timezone

from aiohttp import web

from ..jsonanswer import json_response
from ..domain import Role
from ..errors import ApiError, FieldError
from ..keys import MODEL_SYNC, MODELS, SETTINGS, STORE
from ..records import to_json
from ..records.models import ModelReloaded
from ..config import model_dir
from ..services import model_changes
from ..services.model_sync import reload_everywhere
from .auth import require_moderator


async def reload_model(request: web.Request) -> web.Response:
    """Reload every worker sharing the database (see the module docstring)."""
    admin = await require_moderator(request, role=Role.ADMIN)
    app = request.app
    wait = app[SETTINGS].model_reload_wait_seconds
    outcome = await reload_everywhere(app[STORE], app[MODEL_SYNC], requested_by=admin.name, wait=wait)
    generation, workers = outcome.generation, outcome.workers
    if outcome.failed or outcome.silent:
        fields = [FieldError("model", "model_refused", detail=f"{w['worker']}: {w['error']}")
                  for w in outcome.failed]
        fields += [FieldError("model", "no_answer", params={"seconds": f"{wait:g}"},
                              detail=f"{w['worker']}: has not applied generation {generation} "
                                     f"after {wait:g} s")
                   for w in outcome.silent]
        status, code = (409, "model_reload_failed") if outcome.failed else (503, "model_reload_incomplete")
        raise ApiError(status, code, fields=fields, extra={"generation": generation, "workers": workers})
    bundle = app[MODELS].bundle
    return json_response(to_json(ModelReloaded(
        model_version=bundle.version if bundle else None, loaded_at=bundle.loaded_at if bundle else None,
        generation=generation, workers=workers)))


async def compare_models(request: web.Request) -> web.Response:
    """``GET /v1/admin/model/compare[?site=NAME][&since=ISO]``: the shadowed (or
    last shadowed) candidate against the live model (moderation.services.model_changes)."""
    await require_moderator(request, role=Role.ADMIN)
    store, settings = request.app[STORE], request.app[SETTINGS]
    site_id = since = None
    if "site" in request.query:
        site = await store.site_by_name(request.query["site"])
        if site is None:
            raise ApiError(400, "invalid_parameter", fields=[FieldError("site", "invalid_value")])
        site_id = site.id
    if "since" in request.query:
        try:
            moment = datetime.fromisoformat(request.query["since"])
        except ValueError:
            raise ApiError(400, "invalid_parameter", fields=[FieldError("since", "invalid_value")]) from None
        since = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
    try:
        report = await model_changes.compare(store, model_dir(settings), site_id=site_id, since=since)
    except model_changes.ModelChangeRefused:
        raise ApiError(404, "not_found") from None
    return json_response(report.as_dict())
