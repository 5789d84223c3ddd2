"""A moderator's decision: what it does to a comment and what it teaches the
model. Pure: body validation, action -> status, action -> label.

==========  ==============  ==========================================
action      new status      label for retraining
==========  ==============  ==========================================
``approve`` ``published``   ``ham`` (from the spam folder: a rescued
                            false positive)
``reject``  ``rejected``    none: rejected for tone or topic, not spam
``spam``    ``spam``        ``spam``
==========  ==============  ==========================================

Every decision names the status the moderator saw (``expected_status``): the
store moves the comment only if it is still there, so of two moderators
deciding at once exactly one wins and the other gets 409 ``conflict``.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from ..domain import Action, Status
from ..errors import FieldError
from ..validation import FieldChecker, ValidationFailed

MAX_REASON_CHARS = 100
MAX_NOTE_CHARS = 2000
MAX_BULK_IDS = 200
MAX_COMMENT_ID = 2**53

SINGLE_FIELDS = ("action", "expected_status", "reason", "note")
BULK_FIELDS = ("ids", "action", "expected_status", "reason", "note")


TARGET_STATUS: dict[Action, Status] = {
    Action.APPROVE: Status.PUBLISHED,
    Action.REJECT: Status.REJECTED,
    Action.SPAM: Status.SPAM,
}



def target_status(action: Action) -> Status:
    return TARGET_STATUS[action]


def label_for_status(status: str) -> str | None:
    """The training label a moderator's decision to *status* gives: ``ham`` for
    published, ``spam`` for spam, None for rejected (not a spam judgement)."""
    return {Status.PUBLISHED.value: "ham", Status.SPAM.value: "spam"}.get(status)


@dataclass(frozen=True, slots=True)
class DecisionIn:
    action: Action
    expected_status: Status
    reason: str = ""
    note: str = ""
    ids: tuple[int, ...] = ()   # bulk only

    @property
    def new_status(self) -> Status:
        return target_status(self.action)


class _Checker(FieldChecker):
    """Decision bodies: the API's text rules, plus choices and lists of ids."""

    def choice(self, payload: dict, name: str, enum_type: type[enum.Enum], *,
               default: enum.Enum | None = None) -> Any:
        value = payload.get(name)
        if value is None:
            if default is None:
                self.fail(name, "required")
            return default
        choices = [m.value for m in enum_type]
        if not isinstance(value, str) or value not in choices:
            self.fail(name, "invalid_choice", choices=", ".join(choices))
            return default
        return enum_type(value)

    def ids(self, payload: dict) -> tuple[int, ...]:
        value = payload.get("ids")
        if value is None:
            self.fail("ids", "required")
            return ()
        if not isinstance(value, list):
            self.fail("ids", "invalid_type", expected="array")
            return ()
        if not value:
            self.fail("ids", "blank")
            return ()
        if len(value) > MAX_BULK_IDS:
            self.fail("ids", "too_many", max=MAX_BULK_IDS)
            return ()
        seen: set[int] = set()
        for index, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, int) or not 0 < item < MAX_COMMENT_ID:
                self.fail(f"ids[{index}]", "invalid_value")
            elif item in seen:
                self.fail(f"ids[{index}]", "duplicate_value")
            else:
                seen.add(item)
        return tuple(value)


def parse_decision(payload: Any, *, bulk: bool = False) -> DecisionIn:
    """A :class:`DecisionIn` from a decoded JSON object, or :class:`ValidationFailed`
    listing every field error (unknown fields named).

    Single: ``action`` and ``expected_status`` required. Bulk: ``ids`` and
    ``action`` required; ``expected_status`` defaults to ``pending``.
    """
    check = _Checker()
    if not isinstance(payload, dict):
        raise ValidationFailed([FieldError("", "invalid_type", {"expected": "object"})])
    allowed = BULK_FIELDS if bulk else SINGLE_FIELDS
    for key in payload:
        if key not in allowed:
            check.fail(key, "unknown_field")
    ids = check.ids(payload) if bulk else ()
    action = check.choice(payload, "action", Action)
    expected = check.choice(payload, "expected_status", Status,
                            default=Status.PENDING if bulk else None)
    reason = check.text(payload, "reason", "reason", max_chars=MAX_REASON_CHARS, required=False)
    note = check.text(payload, "note", "note", max_chars=MAX_NOTE_CHARS, required=False,
                      multiline=True).strip()
    if action is not None and expected is not None and target_status(action) is expected:
        check.fail("expected_status", "no_change", status=expected.value)
    if check.errors:
        raise ValidationFailed(check.errors)
    return DecisionIn(action=action, expected_status=expected, reason=reason, note=note, ids=ids)
