"""An author's own comment: edit it for a while, or delete it, with the token
the intake answered once (as Isso does).

``POST /v1/comments`` answers a new comment with ``author_token`` (kept only
as its SHA-256) and ``editable_until``; the site hands the token to its reader
(a cookie, say) and calls, with its own key and the ``Author-Token`` header:

- :func:`edit`: a new text, within ``MODERATION_EDIT_WINDOW_SECONDS`` of the
  posting, for a comment still pending or published. The text is validated and
  scored again like a new comment (guard reasons it had stay; thread and author
  rules apply), then:

  - the policy holds it as spam: held as spam;
  - a reply waiting only for its pending parent, still clear ham: it keeps
    waiting for its parent, and is published with it;
  - it was waiting for a moderator, or a moderator had decided it: it waits for
    one (reason ``edited``): their verdict was on the old text, and a label
    pairs a verdict with the text it judged;
  - otherwise the policy's decision stands (published, review or spam).

  Each edit is an audit event ``edit`` by ``author``.
- :func:`delete`: at any time, a pending or published comment is hidden for
  good, its text emptied (reason ``author_deleted``). Deleting it again is
  answered the same; a comment a moderator held or rejected cannot be.

Errors: :class:`~moderation.domain.NotFound` (no such comment on this site),
:class:`~moderation.domain.AuthorTokenInvalid`,
:class:`~moderation.domain.EditRefused`, :class:`~moderation.domain.ThreadClosed`
(edits only), :class:`~moderation.validation.ValidationFailed`.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from ..credentials import AUTHOR_TOKEN_PREFIX, hash_secret, new_secret, same_hash
from ..domain import (AuthorTokenInvalid, Comment, EditRefused, Mode, NotFound, Reason, RuleAction, Site,
                      Status, ThreadClosed)
from ..guard import body_fingerprint
from ..policy import Scored, decide, kept_guard_reasons
from ..scoring.features import ScoringInput
from ..store.base import Store, held_only_for_parent
from ..validation import FieldChecker, Limits, ValidationFailed
from .authors import AuthorRules
from .threads import ThreadRules

EDITABLE = (Status.PENDING, Status.PUBLISHED)


def new_author_token() -> tuple[str, str]:
    """A token for a new comment's author, and the hash the store keeps."""
    token = new_secret(AUTHOR_TOKEN_PREFIX)
    return token, hash_secret(token)


@dataclass(frozen=True, slots=True)
class Edited:
    """The comment before the edit; the status and reasons to answer with; the new score."""

    comment: Comment
    status: Status
    reasons: tuple[str, ...]
    scored: Scored


async def _own_comment(store: Store, site: Site, comment_id: int, token: str | None) -> tuple[Comment, bool]:
    """The site's comment *comment_id* if *token* is its author's, and whether
    a moderator has decided it."""
    comment = await store.get_comment(comment_id)
    known = await store.author_token(comment_id) if comment is not None else None
    if comment is None or known is None or comment.site_id != site.id:
        raise NotFound()
    token_hash, reviewed = known
    if not token or token_hash is None or not same_hash(hash_secret(token), token_hash):
        raise AuthorTokenInvalid()
    return comment, reviewed


def parse_edit(payload: object, limits: Limits) -> str:
    """The new text of an edit: ``{"body": "..."}``, checked as the intake checks it."""
    check = FieldChecker()
    top = check.object(payload, "", ("body",), required=True)
    body = check.text(top, "body", "body", max_chars=limits.body, required=True, multiline=True)
    if check.errors:
        raise ValidationFailed(check.errors)
    return body


def status_after_edit(decided: Status, reasons: tuple[str, ...], *, was: Status, was_reasons: tuple[str, ...],
                      reviewed: bool) -> tuple[Status, tuple[str, ...]]:
    """Where an edited comment goes: see the module docstring."""
    if decided is Status.SPAM:
        return Status.SPAM, reasons
    if decided is Status.PUBLISHED and held_only_for_parent(was_reasons) and not reviewed:
        # a reply waiting only for its parent still goes out with it
        return Status.PENDING, (Reason.MODEL_HAM.value, Reason.PARENT_PENDING.value)
    if was is Status.PENDING or reviewed:
        return Status.PENDING, tuple(r for r in reasons if r != Reason.EDITED.value) + (Reason.EDITED.value,)
    return decided, reasons


async def edit(store: Store, scorer, settings, *, site: Site, comment_id: int, token: str | None,
               payload: object, thread_rules: ThreadRules | None = None,
               author_rules: AuthorRules | None = None, now: float | None = None) -> Edited:
    """Replace the text of the author's comment and decide it again (module docstring)."""
    now = time.time() if now is None else now
    comment, reviewed = await _own_comment(store, site, comment_id, token)
    if comment.status not in EDITABLE or comment.erased_at is not None:
        raise EditRefused("comment_not_editable")
    if settings.edit_window_seconds <= 0 or now > comment.created_at + settings.edit_window_seconds:
        raise EditRefused("edit_window_closed")
    body = parse_edit(payload, Limits.from_settings(settings))
    rule = None if thread_rules is None else await thread_rules.rule(store, site.id, comment.thread_id)
    if rule is not None and rule.closed:
        raise ThreadClosed(comment.thread_id)
    deciding_site = dataclasses.replace(site, mode=Mode.PRE) if rule is not None and rule.premoderated else site
    author_rule = None if author_rules is None else await author_rules.rule_for(
        store, site.id, comment.author_email, comment.ip_prefix, now)
    scored = await scorer.score(ScoringInput(body=body, author_name=comment.author_name,
                                             author_email=comment.author_email, site_language=site.lang))
    kept = kept_guard_reasons(comment.reasons, text_changed=True)
    action = None if author_rule is None else author_rule.action

    def deciding(rule: RuleAction | None) -> tuple[Status, tuple[str, ...]]:
        decision = decide(deciding_site, scored, kept, author_rule=rule)
        return status_after_edit(decision.status, tuple(r.value for r in decision.reasons),
                                 was=comment.status, was_reasons=comment.reasons, reviewed=reviewed)
    status, reasons = deciding(action)
    # A shadow-banned author is answered as if no rule applied (as at intake).
    shown = deciding(None) if action is RuleAction.SHADOW_BAN else (status, reasons)
    if not await store.edit_comment(comment_id, expected_status=comment.status.value, body=body,
                                    body_hash=body_fingerprint(body), language=scored.language,
                                    spam_score=scored.score, model_version=scored.model_version,
                                    status=status.value, reasons=list(reasons), now=now):
        raise EditRefused("comment_not_editable")   # decided or erased meanwhile
    return Edited(comment, *shown, scored)


async def delete(store: Store, *, site: Site, comment_id: int, token: str | None,
                 now: float | None = None) -> None:
    """Hide the author's comment for good (module docstring)."""
    comment, _ = await _own_comment(store, site, comment_id, token)
    if Reason.AUTHOR_DELETED.value in comment.reasons:
        return   # deleted already
    was = await store.delete_by_author(comment_id, now=time.time() if now is None else now)
    if was is None:
        raise EditRefused("comment_not_editable")   # erased
    if was not in (Status.PENDING.value, Status.PUBLISHED.value):
        raise EditRefused("comment_not_editable")
