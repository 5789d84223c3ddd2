"""Typed records of JSON bodies, and the walker that derives their JSON Schema.

Each record is a dataclass (``slots=True``: answers build many of them, and a
frozen one costs twice as much to build). Its field annotations give the JSON type and,
through ``Annotated`` markers (:func:`doc`, :func:`limits`, :class:`Setting`),
the description and bounds. Handlers build their answers as records and send
:func:`to_json` of them; the OpenAPI document (:mod:`moderation.openapi`)
derives its ``components.schemas`` from the same classes with
:func:`json_schema`, so an answer and its documented shape cannot drift apart.

Mapping: ``int`` integer, ``float`` number, ``str`` string, ``bool`` boolean,
``X | None`` nullable, ``list[X]`` array, ``dict[str, X]`` object of X,
``Literal[...]`` enum, an enum class or a record a ``$ref`` to its own schema.
A field whose default is :data:`OMITTED` is optional: absent from the answer
(and not required in the schema) while it holds that value. Every other field
is required, and no property beyond the fields is allowed (unless the record
sets ``OPEN = True``); ``DESCRIPTION`` and ``SCHEMA_NAME`` are the schema's
description and name. :func:`to_json` writes each record type with a function
compiled once from its fields.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import types
from dataclasses import dataclass
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints



class _Omitted:
    def __repr__(self) -> str:
        return "OMITTED"


#: The default of an optional field: left out of the JSON while it holds this.
OMITTED: Any = _Omitted()


@dataclass(frozen=True)
class Keywords:
    """JSON Schema keywords for a field, as they are spelt there (hashable, as
    ``Annotated`` metadata inside a union must be)."""
    items: tuple[tuple[str, Any], ...]


def doc(text: str) -> Keywords:
    """A field's description."""
    return Keywords((("description", text),))


def limits(**keywords: Any) -> Keywords:
    """Bounds and formats: ``minimum``, ``maxLength``, ``pattern``..."""
    return Keywords(tuple(keywords.items()))


@dataclass(frozen=True)
class Setting:
    """A bound read from the running server's settings: ``Setting("max_body_chars",
    "maxLength")`` documents ``settings.max_body_chars`` as the field's ``maxLength``."""
    name: str
    keyword: str


Time = Annotated[str, limits(format="date-time")]
Score = Annotated[float | None, limits(minimum=0, maximum=1),
                  doc("Calibrated P(spam), rounded to 4 places; null when no model scored it.")]
Count = Annotated[int, limits(minimum=0)]


# -- the walker ---------------------------------------------------------------
_SCALARS = {int: "integer", float: "number", str: "string", bool: "boolean"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    if isinstance(schema.get("type"), str) and "const" not in schema:
        nullable = {**schema, "type": [schema["type"], "null"]}
        if "enum" in schema:
            nullable["enum"] = [*schema["enum"], None]
        return nullable
    return {"anyOf": [schema, {"type": "null"}]}


def enum_schema(values: type[enum.Enum]) -> dict:
    """The schema an enum's ``$ref`` points to: a string, one of its values."""
    return {"type": "string", "enum": [member.value for member in values]}


def json_schema(annotation: Any, settings: Any = None) -> dict:
    """The JSON Schema of a type annotation; records and enums become ``$ref``s
    to their own schema (``moderation.openapi.record_components`` lists them)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        schema = dict(json_schema(args[0], settings))
        for marker in args[1:]:
            if isinstance(marker, Setting):
                schema[marker.keyword] = getattr(settings, marker.name)
            else:
                schema.update(marker.items)
        return schema
    if annotation is Any:
        return {}
    if origin in (Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        schema = (json_schema(present[0], settings) if len(present) == 1
                  else {"oneOf": [json_schema(a, settings) for a in present]})
        return _nullable(schema) if len(present) < len(args) else schema
    if origin is Literal:
        values = [a.value if isinstance(a, enum.Enum) else a for a in args]
        kind = _SCALARS[type(values[0])]
        return {"type": kind, "const": values[0]} if len(values) == 1 else {"type": kind, "enum": values}
    if origin is list:
        return {"type": "array", "items": json_schema(args[0], settings)}
    if origin is dict:
        return {"type": "object", "additionalProperties": json_schema(args[1], settings)}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _ref(annotation.__name__)
    if dataclasses.is_dataclass(annotation):
        return _ref(schema_name(annotation))
    return {"type": _SCALARS[annotation]}


def schema_name(record: type) -> str:
    """The record's name in ``components.schemas``: its ``SCHEMA_NAME``, else its class name."""
    return getattr(record, "SCHEMA_NAME", record.__name__)


def record_schema(record: type, settings: Any = None) -> dict:
    """The object schema of a record: its fields, the required ones (all but
    those defaulting to :data:`OMITTED`), no other property (unless the record
    sets ``OPEN = True``)."""
    hints = get_type_hints(record, include_extras=True)
    fields = dataclasses.fields(record)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {f.name: json_schema(hints[f.name], settings) for f in fields},
        "required": [f.name for f in fields if f.default is not OMITTED],
    }
    if not getattr(record, "OPEN", False):
        schema["additionalProperties"] = False
    description = getattr(record, "DESCRIPTION", None)
    if description:
        schema["description"] = description
    return schema


def to_json(record: Any) -> dict:
    """A record as the JSON object it stands for: enums by value, nested records
    as objects, :data:`OMITTED` fields left out."""
    return _writer(type(record))(record)


def _is_plain(annotation: Any) -> bool:
    """Whether a field of this type holds a JSON value as it is (no enum, record,
    list or mapping to convert)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _is_plain(args[0])
    if origin in (Union, types.UnionType):
        return all(_is_plain(a) for a in args)
    if origin is Literal:
        return not any(isinstance(a, enum.Enum) for a in args)
    return annotation in _PLAIN


@functools.cache
def _writer(record_type: type) -> Callable[[Any], dict]:
    """A function writing one record type's JSON object, compiled once per type
    (an answer's records are written on every request: a thread page holds 200)."""
    hints = get_type_hints(record_type, include_extras=True)
    required, optional = [], []
    for f in dataclasses.fields(record_type):
        value = f"r.{f.name}" if _is_plain(hints[f.name]) else f"convert(r.{f.name})"
        (optional if f.default is OMITTED else required).append((f.name, value))
    lines = ["def write(r):", "    answer = {" + ", ".join(f"{n!r}: {v}" for n, v in required) + "}"]
    for name, value in optional:
        lines += [f"    if r.{name} is not OMITTED:", f"        answer[{name!r}] = {value}"]
    lines.append("    return answer")
    scope = {"convert": _json_value, "OMITTED": OMITTED}
    exec("\n".join(lines), scope)   # noqa: S102: the source is built from field names only
    return scope["write"]


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _json_value(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:      # most values: one set look-up
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value):
        return to_json(value)
    return value
