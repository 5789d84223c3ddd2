"""The JSON bodies of the API, declared once as typed records: handlers build
their answers from them (:func:`to_json`) and the OpenAPI document derives its
``components.schemas`` from them (:func:`components`). The walker and its
markers are in :mod:`.schema`; the records in :mod:`.errors` (the one error
shape) and, by who reads them, :mod:`.website`, :mod:`.review` and :mod:`.desk`."""
from __future__ import annotations

from typing import Any

from ..domain import Action, Mode, Order, Reason, Role, RuleAction, RuleKind, Status
from . import desk, errors, review, website
from .schema import OMITTED, enum_schema, record_schema, schema_name, to_json

__all__ = ["OMITTED", "components", "to_json"]

def components(settings: Any = None) -> dict[str, dict]:
    """``components.schemas`` entries of every record (limits read from *settings*)
    and of the enums they name."""
    enums = {values.__name__: enum_schema(values)
             for values in (Status, Reason, Action, Order, Mode, Role, RuleKind, RuleAction)}
    return {**enums, **{schema_name(record): record_schema(record, settings)
                        for module in (errors, website, review, desk) for record in module.RECORDS}}
