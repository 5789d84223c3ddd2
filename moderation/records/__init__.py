"""The JSON bodies of the API, declared once as typed records: handlers build
their answers from them (:func:`~.schema.to_json`) and the OpenAPI document
(:mod:`moderation.openapi`) derives its ``components.schemas`` from them. The
walker and its markers are in :mod:`.schema`; the records in :mod:`.errors`
(the one error shape), :mod:`.requests` (what clients send) and, by who reads
them, :mod:`.website`, :mod:`.review`, :mod:`.desk` and :mod:`.models`. Each module lists its
records in ``RECORDS``."""
from __future__ import annotations

from .schema import OMITTED, to_json

__all__ = ["OMITTED", "to_json"]
