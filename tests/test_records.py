"""The typed records of the API's JSON bodies (moderation/records/): the walker
maps each annotation to its JSON Schema, to_json writes what the schema
describes, and the OpenAPI document takes its component schemas from every
record of every module."""
from __future__ import annotations

import dataclasses
import enum
import importlib
import pkgutil
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Annotated, Literal

import pytest
from jsonschema import Draft202012Validator

from moderation.config import load_settings
from moderation.domain import Status
import moderation.records
from moderation.openapi import RECORD_MODULES, build_document, record_components
from moderation.records.desk import SiteView
from moderation.records.review import (AuditEvent, BulkResult, BulkSummary, Conflicted, CurrentState, Decided,
                                       NotDecided, QueueItem, SurgeBadge)
from moderation.records.schema import OMITTED, Setting, doc, json_schema, limits, record_schema, to_json
from moderation.records.website import CommentAccepted, PublicComment, ThreadPage, ThreadRef


class Colour(enum.Enum):
    RED = "red"


@dataclass(frozen=True)
class Inner:
    n: int


@dataclass(frozen=True)
class Sample:
    text: Annotated[str, Setting("max_body_chars", "maxLength"), doc("Some text.")]
    maybe: Annotated[int | None, limits(minimum=1)]
    choice: Literal["a", "b"] | None
    flag: Literal[True]
    colour: Colour
    items: list[Inner]
    counts: dict[str, int]
    optional: str = OMITTED


def test_each_annotation_maps_to_its_json_schema():
    schema = record_schema(Sample, SimpleNamespace(max_body_chars=300))
    assert schema["required"] == ["text", "maybe", "choice", "flag", "colour", "items", "counts"]
    assert schema["additionalProperties"] is False
    assert schema["properties"] == {
        "text": {"type": "string", "maxLength": 300, "description": "Some text."},
        "maybe": {"type": ["integer", "null"], "minimum": 1},
        "choice": {"type": ["string", "null"], "enum": ["a", "b", None]},
        "flag": {"type": "boolean", "const": True},
        "colour": {"$ref": "#/components/schemas/Colour"},
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Inner"}},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "optional": {"type": "string"},
    }
    assert json_schema(Inner | None) == {"anyOf": [{"$ref": "#/components/schemas/Inner"}, {"type": "null"}]}


def test_to_json_leaves_out_omitted_fields_and_writes_enums_and_records_as_json():
    sample = Sample(text="x", maybe=None, choice="a", flag=True, colour=Colour.RED,
                    items=[Inner(1), Inner(2)], counts={"t": 3})
    assert to_json(sample) == {"text": "x", "maybe": None, "choice": "a", "flag": True, "colour": "red",
                               "items": [{"n": 1}, {"n": 2}], "counts": {"t": 3}}
    assert to_json(Sample(text="x", maybe=1, choice=None, flag=True, colour=Colour.RED, items=[],
                          counts={}, optional="o"))["optional"] == "o"


def test_the_document_takes_every_record_s_schema_from_the_records():
    settings = load_settings({})
    schemas = build_document(settings)["components"]["schemas"]
    for name, schema in record_components(settings).items():
        assert schemas[name] == schema, name


EVENT = AuditEvent(at="2026-12-04T10:00:00Z", actor="ana", action="approve", from_status=Status.PENDING,
                   to_status=Status.PUBLISHED, reason="", note="", model_version=None, spam_score=0.5)


@pytest.mark.parametrize("name, record", [
    ("CommentAccepted", CommentAccepted(id=1, status="published", spam_score=0.01, language="fr",
                                        reasons=["model_ham"], model_version="m", message="Merci",
                                        author_token="mat_x", editable_until=None)),
    ("CommentAccepted", CommentAccepted(id=1, status="pending", spam_score=None, language="unknown",
                                        reasons=[], model_version=None, message="Merci")),
    ("ThreadPage", ThreadPage(thread="t", sort="oldest", next=None, items=[
        PublicComment(id=1, parent_id=None, author_name=None, body=None, created_at="2026-12-04T10:00:00Z",
                      replies=2, removed=True)])),
    ("QueueItem", QueueItem(id=1, site="s", status=Status.PENDING, thread=ThreadRef(id="t", url="", title=""),
                            parent_id=None, author_name="a", body="b", language="en", spam_score=0.5,
                            reasons=["model_uncertain"], model_version="m",
                            created_at="2026-12-04T10:00:00Z", age_seconds=3,
                            surge=SurgeBadge(started_at="2026-12-04T10:00:00Z", until="2026-12-04T11:00:00Z"))),
    ("Decided", Decided(id=1, outcome="decided", status=Status.PUBLISHED, previous_status=None,
                        action="approve", label="ham", event=EVENT)),
    ("BulkResult", BulkResult(action="spam", summary=BulkSummary(decided=1, conflict=1, not_found=1, forbidden=0),
                              results=[Decided(id=1, outcome="decided", status=Status.SPAM,
                                               previous_status=Status.PENDING, action="spam", label="spam",
                                               event=EVENT),
                                       Conflicted(id=2, outcome="conflict", current=CurrentState(
                                           id=2, status=Status.PUBLISHED, erased=False, updated_at=None,
                                           last_event=EVENT)),
                                       NotDecided(id=3, outcome="not_found")])),
    ("SiteView", SiteView(name="journal", url="https://journal.example", lang="fr", mode="auto",
                          approve_below=None, reject_above=0.9, auto_trust_after=0,
                          created_at="2026-12-04T10:00:00Z")),
])
def test_what_a_record_writes_is_valid_against_the_document(name, record):
    settings = load_settings({})
    document = build_document(settings)
    validator = Draft202012Validator({**document["components"]["schemas"][name], "components": document["components"]})
    validator.validate(to_json(record))
    bad = {**to_json(record), "extra": 1}
    assert not validator.is_valid(bad)


def test_every_record_of_every_module_is_in_the_document():
    """A record left out of its module's RECORDS, or a module left out of the
    document, would be a $ref to nothing."""
    listed = set(RECORD_MODULES)
    for info in pkgutil.iter_modules(moderation.records.__path__):
        module = importlib.import_module(f"moderation.records.{info.name}")
        declared = {value for value in vars(module).values() if dataclasses.is_dataclass(value)
                    and isinstance(value, type) and value.__module__ == module.__name__}
        if info.name == "schema":
            continue
        assert module in listed, module.__name__
        assert declared == set(module.RECORDS), module.__name__
