"""What moderators see: queue items, one comment in full, audit events and
decision outcomes, built as the records of :mod:`moderation.records.review`
(``*_record``) or as their JSON (``*_view``, ``queue_item``, ``comment_detail``).
Pure.

These views hold private fields (e-mail, truncated IP, user agent): they are
for moderator endpoints only, never for the public answers of ``api.public``.
"""
from __future__ import annotations

from ..domain import AuditEvent, Bands, Comment, iso
from ..records import review as records
from ..records import to_json
from ..records.website import ThreadRef
from .decisions import label_for_status


def _score(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def event_record(event: AuditEvent) -> records.AuditEvent:
    """An audit event: who, when, from and to which status, why, and the model's
    version and score at the time."""
    return records.AuditEvent(
        at=iso(event.at), actor=event.actor, action=event.action, from_status=event.from_status,
        to_status=event.to_status, reason=event.reason, note=event.note,
        model_version=event.model_version, spam_score=_score(event.spam_score))


def queue_item(comment: Comment, site: str, *, now: float, surge: records.SurgeBadge | None = None) -> dict:
    """One line of the queue: enough to decide on most comments at a glance;
    *surge* is the thread's surge badge while it surges (see ``surge_views``)."""
    return to_json(queue_record(comment, site, now=now, surge=surge))


def queue_record(comment: Comment, site: str, *, now: float,
                 surge: records.SurgeBadge | None = None) -> records.QueueItem:
    """:func:`queue_item` as a record, to nest in another answer."""
    return records.QueueItem(
        id=comment.id, site=site, status=comment.status,
        thread=ThreadRef(id=comment.thread_id, url=comment.thread_url, title=comment.thread_title),
        parent_id=comment.parent_id, author_name=comment.author_name, body=comment.body,
        language=comment.language, spam_score=_score(comment.spam_score), reasons=list(comment.reasons),
        model_version=comment.model_version, created_at=iso(comment.created_at),
        age_seconds=max(0, round(now - comment.created_at)), surge=surge)


def explanation_record(explanation: dict) -> records.Explanation:
    """The record of an explanation as ``ReviewDesk.explain`` gives it (plus
    ``surge``); a reason with a key the record lacks fails here, not in an answer."""
    surge = explanation.get("surge")
    return records.Explanation(
        model_version=explanation["model_version"],
        comment_model_version=explanation["comment_model_version"],
        same_model=explanation["same_model"],
        readable=[records.ExplanationReason(**{**r, "text": records.LocalizedText(**r["text"])})
                  for r in explanation["readable"]],
        features=[records.FeatureWeight(**f) for f in explanation["features"]],
        surge=None if surge is None else records.SurgeExplanation(
            reason=surge["reason"], text=records.LocalizedText(**surge["text"])))


def comment_detail(comment: Comment, *, site: str, parent: Comment | None, bands: Bands | None,
                   bands_source: str, explanation: dict, history: list[AuditEvent],
                   surge: records.SurgeBadge | None, surges: list[records.Surge], flags: dict[str, int],
                   now: float) -> dict:
    """Everything a moderator needs to decide on one comment: its queue line,
    author, client, parent, thresholds in effect, the explanation of its score,
    audit trail, its thread's surges (*surge*: the badge while one is on) and
    readers' flags."""
    line = queue_record(comment, site, now=now, surge=surge)
    return to_json(records.CommentDetail(
        **{f: getattr(line, f) for f in records.QueueItem.__dataclass_fields__},
        author=records.Author(name=comment.author_name, email=comment.author_email),
        client=records.ClientSeen(ip_prefix=comment.ip_prefix, user_agent=comment.user_agent,
                                  referrer=comment.referrer),
        parent=None if parent is None else records.ParentComment(
            id=parent.id, author_name=parent.author_name, body=parent.body, status=parent.status,
            created_at=iso(parent.created_at)),
        published_at=iso(comment.published_at), erased_at=iso(comment.erased_at),
        thresholds=None if bands is None else records.ThresholdsInEffect(
            approve_below=bands.approve_below, reject_above=bands.reject_above, source=bands_source),
        explanation=explanation_record(explanation), history=[event_record(e) for e in history],
        surges=surges, flags=flags))


def current_view(outcome) -> dict:
    """A comment's state now, from a conflicting
    :class:`~moderation.store.base.DecisionOutcome`: its status, whether it was
    erased, when it last changed and its latest audit event (who decided first)."""
    return to_json(current_record(outcome))


def current_record(outcome) -> records.CurrentState:
    return records.CurrentState(
        id=outcome.comment_id, status=outcome.status, erased=outcome.erased,
        updated_at=iso(outcome.updated_at),
        last_event=None if outcome.event is None else event_record(outcome.event))


def decided_view(outcome) -> dict:
    """A decision that took effect."""
    return to_json(decided_record(outcome))


def decided_record(outcome) -> records.Decided:
    event = outcome.event
    return records.Decided(
        id=outcome.comment_id, outcome=outcome.outcome, status=outcome.status,
        previous_status=event.from_status, action=event.action,
        label=label_for_status(outcome.status), event=event_record(event))
