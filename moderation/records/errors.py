"""The one shape of every error the service answers with (see
:mod:`moderation.errors`), as typed records."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from .review import CurrentState
from .schema import OMITTED, doc


@dataclass(slots=True)
class FieldProblem:
    SCHEMA_NAME = "FieldError"
    field: Annotated[str, doc("Dotted path (`author.email`, `ids[3]`), a header or parameter name; "
                              "empty for the body as a whole.")]
    code: str
    message: str
    detail: Annotated[str, doc("More detail, in English, when there is some.")] = OMITTED


@dataclass(slots=True)
class ErrorDetail:
    DESCRIPTION = "May carry more keys beside these three (see ConflictError)."
    OPEN = True
    code: Annotated[str, doc("Stable, machine-readable.")]
    message: Annotated[str, doc("For people, in the negotiated language.")]
    fields: list[FieldProblem]


@dataclass(slots=True)
class Error:
    DESCRIPTION = "The one shape of every error the service answers with."
    error: ErrorDetail


@dataclass(slots=True)
class ConflictDetail:
    code: Literal["conflict"]
    message: str
    fields: list[FieldProblem]
    current: CurrentState


@dataclass(slots=True)
class ConflictError:
    error: ConflictDetail


#: The records of this module, for ``components.schemas``.
RECORDS = (FieldProblem, ErrorDetail, Error, ConflictDetail, ConflictError)
