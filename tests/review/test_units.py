"""The pure parts of the review package, one behaviour each."""
import pytest

from moderation.errors import ApiError
from moderation.policy import Bands
from moderation.review.decisions import Action, label_for_status, parse_decision, target_status
from moderation.review.labels import label_row, parse_since
from moderation.domain import UNSCORED_KEY, Order, uncertainty
from moderation.review.queue import decode_cursor, encode_cursor, parse_queue_query
from moderation.validation import ValidationFailed


def test_cursor_round_trip_and_refusals():
    text = encode_cursor(Order.UNCERTAIN, 0.1 + 0.2, 17)
    cursor = decode_cursor(text, Order.UNCERTAIN)
    assert (cursor.key, cursor.id) == (0.1 + 0.2, 17)     # exact: keyset equality depends on it
    with pytest.raises(ValueError):
        decode_cursor(text, Order.OLDEST)
    for bad in ("", "%%%", "bnVsbA", encode_cursor(Order.OLDEST, 1.0, 0)):
        with pytest.raises(ValueError):
            decode_cursor(bad, Order.OLDEST)


def test_uncertainty_is_smallest_mid_band_and_grows_outside():
    bands = Bands(0.2, 0.6)
    assert uncertainty(0.4, bands) == 0.0
    assert uncertainty(0.3, bands) == pytest.approx(0.25)
    assert uncertainty(0.6, bands) == pytest.approx(0.5)       # on a threshold
    assert uncertainty(0.1, bands) == pytest.approx(0.75)
    assert uncertainty(None, bands) == UNSCORED_KEY
    assert uncertainty(0.5, Bands(0.5, 0.5)) == 0.0            # a band of no width still orders
    assert uncertainty(0.6, Bands(0.5, 0.5)) > uncertainty(0.55, Bands(0.5, 0.5))


def test_queue_query_defaults_and_age_bounds():
    query = parse_queue_query({"min_age": "60", "max_age": "3600"}, now=10_000.0)
    assert (query.order, query.limit, query.filter.status) == (Order.UNCERTAIN, 50, "pending")
    assert (query.filter.created_before, query.filter.created_after) == (9_940.0, 6_400.0)
    with pytest.raises(ApiError) as caught:
        parse_queue_query({"max_score": "nan"}, now=0)
    assert [f.field for f in caught.value.fields] == ["max_score"]


def test_actions_statuses_and_labels():
    assert [target_status(a).value for a in Action] == ["published", "rejected", "spam"]
    assert [label_for_status(s) for s in ("published", "rejected", "spam", "pending")] == [
        "ham", None, "spam", None]
    decision = parse_decision({"ids": [3, 4], "action": "spam", "note": " a\nb "}, bulk=True)
    assert (decision.expected_status.value, decision.ids, decision.note) == ("pending", (3, 4), "a\nb")
    with pytest.raises(ValidationFailed) as caught:
        parse_decision({"action": "approve", "expected_status": "pending", "reason": "a\nb"})
    assert [(e.field, e.code) for e in caught.value.errors] == [("reason", "control_characters")]


def test_label_rows_skip_rejections_and_empty_bodies():
    common = {"language": "en", "site": "s", "decided_at": 0.0, "model_score": None}
    assert label_row(body="x", status="rejected", **common) is None
    assert label_row(body=" ", status="spam", **common) is None
    assert label_row(body="x", status="spam", **common)["decided_at"] == "1970-01-01T00:00:00.000Z"
    assert parse_since("1970-01-02") == 86400.0
    assert parse_since("1970-01-01T01:00:00+01:00") == 0.0
