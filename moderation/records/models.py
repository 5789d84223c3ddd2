"""What ops read when the live model changes (``/v1/admin/model``): each
worker's state after a reload, and a shadowed candidate compared with the live
model, as typed records (see :mod:`moderation.records.schema`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from .errors import FieldProblem
from .schema import Count, doc, limits

Band = Literal["publish", "review", "spam"]
UnixTime = Annotated[float | None, doc("Unix time.")]


@dataclass(slots=True)
class WorkerState:
    DESCRIPTION = "One live worker process sharing the database."
    worker: Annotated[str, doc("host:pid")]
    status: Literal["loaded", "failed", "no_answer"]
    model_version: Annotated[str | None, doc("The model it serves now.")]
    loaded_at: UnixTime
    error: Annotated[str | None, doc("Why it refused the model.")]
    shadow_version: Annotated[str | None, doc("The candidate it scores beside the live model "
                                              "(moderation model shadow).")]
    shadow_error: Annotated[str | None, doc("Why it could not load that candidate.")]


@dataclass(slots=True)
class ModelReloaded:
    DESCRIPTION = "`model_version` and `loaded_at` are the answering worker's."
    model_version: str | None
    loaded_at: UnixTime
    generation: Annotated[int, limits(minimum=1)]
    workers: list[WorkerState]


@dataclass(slots=True)
class ModelReloadProblem:
    code: Literal["model_reload_failed", "model_reload_incomplete"]
    message: str
    fields: Annotated[list[FieldProblem], doc(
        "One per worker that refused (`model_refused`) or did not confirm (`no_answer`); `detail` "
        "starts with the worker's id.")]
    generation: Annotated[int, limits(minimum=1)]
    workers: list[WorkerState]


@dataclass(slots=True)
class ModelReloadError:
    error: ModelReloadProblem


@dataclass(slots=True)
class RateCount:
    count: Count
    total: Count
    share: float | None


@dataclass(slots=True)
class ModelRates:
    version: str
    ham_held_as_spam: RateCount
    spam_published: RateCount
    review: RateCount


@dataclass(slots=True)
class BandPair:
    live: Band
    candidate: Band
    count: Count


@dataclass(slots=True)
class Labelled:
    ham: Count
    spam: Count


@dataclass(slots=True)
class ModelComparison:
    candidate: str
    since: Annotated[float, doc("Unix time: the first comment compared.")]
    shadowing: Annotated[bool, doc("Whether it is shadowed now.")]
    comments: Count
    agreement: RateCount
    bands: list[BandPair]
    labelled: Labelled
    live: ModelRates | None
    candidate_rates: ModelRates | None


#: The records of this module, for ``components.schemas``.
RECORDS = (WorkerState, ModelReloaded, ModelReloadProblem, ModelReloadError, RateCount, ModelRates, BandPair,
           Labelled, ModelComparison)
