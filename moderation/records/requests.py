"""What clients send: the JSON request bodies, as typed records (see
:mod:`moderation.records.schema`). The parsers (``validation``,
``review.decisions``, ``review.privacy``) enforce the same bounds, read from
the same constants and settings; schemathesis checks that what the document
allows is accepted and what it refuses is refused."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from ..domain import (DEFAULT_KEY_OVERLAP_HOURS, FLAG_REASONS, MAX_AUTO_TRUST_AFTER, MAX_KEY_OVERLAP_HOURS,
                      MAX_RULE_NOTE_CHARS, MAX_RULE_VALUE_CHARS, MAX_SITES_PER_MODERATOR, SITE_LANGUAGES, Action, Mode,
                      Role, RuleAction, RuleKind, Status)
from ..review.decisions import MAX_BULK_IDS, MAX_COMMENT_ID, MAX_NOTE_CHARS, MAX_REASON_CHARS
from ..review.privacy import MAX_EMAIL_CHARS as MAX_PERSON_EMAIL_CHARS
from ..validation import MAX_EMAIL_CHARS, MAX_HONEYPOT_CHARS, MAX_PARENT_ID, MAX_USER_AGENT_CHARS
from .schema import OMITTED, Setting, Time, doc, limits

SINGLE_LINE = "No control characters or line breaks."
CommentId = Annotated[int, limits(minimum=1, maximum=MAX_COMMENT_ID - 1)]


@dataclass(slots=True)
class ThreadIn:
    id: Annotated[str, limits(minLength=1), Setting("max_thread_id_chars", "maxLength"),
                  doc("The website's id of the article. " + SINGLE_LINE)]
    url: Annotated[str, limits(format="uri"), Setting("max_url_chars", "maxLength"),
                   doc("http(s) address of the article.")] = OMITTED
    title: Annotated[str, Setting("max_title_chars", "maxLength")] = OMITTED


@dataclass(slots=True)
class AuthorIn:
    name: Annotated[str, limits(minLength=1), Setting("max_name_chars", "maxLength")]
    email: Annotated[str, limits(format="email", maxLength=MAX_EMAIL_CHARS),
                     doc("Checked offline (syntax and domain form, no DNS).")]


@dataclass(slots=True)
class ClientIn:
    DESCRIPTION = "The reader's connection, forwarded by the website (else the peer address is used)."
    ip: Annotated[str, limits(maxLength=45), doc("The reader's address (IPv4 or IPv6).")] = OMITTED
    user_agent: Annotated[str, limits(maxLength=MAX_USER_AGENT_CHARS)] = OMITTED
    referrer: Annotated[str, limits(format="uri"), Setting("max_url_chars", "maxLength")] = OMITTED


@dataclass(slots=True)
class FormStamp:
    DESCRIPTION = ("Optional: sent sooner than `MODERATION_MIN_SUBMIT_SECONDS` after it, a comment gets "
                   "`too_fast` and waits for review; a wrong signature or a time in the future is 422.")
    rendered_at: Annotated[int, limits(minimum=1, maximum=2**40 - 1),
                           doc("When your page rendered the comment form (Unix seconds).")]
    signature: Annotated[str, limits(pattern="^[0-9a-f]{64}$"), doc(
        "Hex HMAC-SHA256 of the decimal `rendered_at`, keyed with the hex SHA-256 of your API key.")]


@dataclass(slots=True)
class CommentIn:
    DESCRIPTION = ("Lengths are in characters after NFC normalization; unknown fields are refused by "
                   "name (422).")
    thread: ThreadIn
    author: AuthorIn
    body: Annotated[str, limits(minLength=1), Setting("max_body_chars", "maxLength"),
                    doc("The comment, as typed (line breaks and tabs allowed).")]
    parent_id: Annotated[int | None, limits(minimum=1, maximum=MAX_PARENT_ID), doc(
        "A comment of the same thread, published or pending (not spam or rejected). A reply to a "
        "pending comment is never shown before it: one that would be published waits with reason "
        "`parent_pending` and is published with its parent.")] = OMITTED
    client: ClientIn = OMITTED
    honeypot: Annotated[str, limits(maxLength=MAX_HONEYPOT_CHARS),
                        doc("Your form's hidden trap field: filled means spam.")] = OMITTED
    form: FormStamp = OMITTED


@dataclass(slots=True)
class CommentEdit:
    body: Annotated[str, limits(minLength=1)]


@dataclass(slots=True)
class FlagClient:
    ip: str = OMITTED


@dataclass(slots=True)
class FlagIn:
    reason: Literal[FLAG_REASONS]
    reader: Annotated[str, limits(minLength=1, maxLength=200)] = OMITTED
    client: FlagClient = OMITTED


@dataclass(slots=True)
class DecisionIn:
    DESCRIPTION = "`expected_status` may not be the status `action` leads to (422 `no_change`)."
    action: Action
    expected_status: Annotated[Status, doc("The status the moderator saw.")]
    reason: Annotated[str, limits(maxLength=MAX_REASON_CHARS)] = OMITTED
    note: Annotated[str, limits(maxLength=MAX_NOTE_CHARS)] = OMITTED


@dataclass(slots=True)
class BulkDecisionIn:
    ids: Annotated[list[CommentId], limits(minItems=1, maxItems=MAX_BULK_IDS, uniqueItems=True)]
    action: Action
    expected_status: Annotated[Status, limits(default=Status.PENDING.value)] = OMITTED
    reason: Annotated[str, limits(maxLength=MAX_REASON_CHARS)] = OMITTED
    note: Annotated[str, limits(maxLength=MAX_NOTE_CHARS)] = OMITTED


@dataclass(slots=True)
class PersonRequest:
    email: Annotated[str, limits(minLength=1, maxLength=MAX_PERSON_EMAIL_CHARS)]


# -- the pages' forms (application/x-www-form-urlencoded): every field optional,
# others tolerated; the pages answer a missing or wrong one with their own page.
@dataclass(slots=True)
class SigninForm:
    OPEN = True
    token: Annotated[str, doc("The moderator's token.")] = OMITTED
    csrf_token: Annotated[str, doc("The value of the sign-in page's cookie.")] = OMITTED
    next: Annotated[str, doc("Where to go once signed in (a /moderate path).")] = OMITTED


@dataclass(slots=True)
class DecisionForm:
    OPEN = True
    csrf_token: str = OMITTED
    action: Action = OMITTED
    expected_status: Status = OMITTED
    reason: str = OMITTED
    note: str = OMITTED
    next: str = OMITTED


@dataclass(slots=True)
class BulkDecisionForm:
    OPEN = True
    csrf_token: str = OMITTED
    ids: list[str] = OMITTED
    action: Action = OMITTED
    expected_status: Status = OMITTED
    next: str = OMITTED


@dataclass(slots=True)
class CsrfForm:
    OPEN = True
    csrf_token: str = OMITTED


@dataclass(slots=True)
class AuthorRuleForm:
    OPEN = True
    csrf_token: str = OMITTED
    site: str = OMITTED
    key: str = OMITTED
    action: str = OMITTED
    note: str = OMITTED
    days: str = OMITTED
    next: str = OMITTED


@dataclass(slots=True)
class AuthorRuleRemoveForm:
    OPEN = True
    csrf_token: str = OMITTED
    site: str = OMITTED
    rule_id: str = OMITTED
    next: str = OMITTED


@dataclass(slots=True)
class ThreadForm:
    OPEN = True
    csrf_token: str = OMITTED
    closed: Literal["true", "false"] = OMITTED
    premoderated: Literal["true", "false"] = OMITTED


# -- the admin desk's changes (``/v1/admin``, a thread's and an author's rules)
Threshold = Annotated[float | None, limits(minimum=0, maximum=1)]


@dataclass(slots=True)
class SiteChange:
    DESCRIPTION = ("Any of the fields (at least one); approve_below <= reject_above. One change is one "
                   "record in the admin log.")
    mode: Annotated[Mode, doc("`pre`: every new comment waits for a moderator.")] = OMITTED
    lang: Literal[SITE_LANGUAGES] = OMITTED
    approve_below: Annotated[Threshold, doc("null: the model's own threshold.")] = OMITTED
    reject_above: Threshold = OMITTED
    auto_trust_after: Annotated[int, limits(minimum=0, maximum=MAX_AUTO_TRUST_AFTER), doc(
        "Trust an author (their comments skip review when the model is unsure, as with a `trust` rule) "
        "once moderators approved this many of their comments on the site and rejected none; "
        "0: never.")] = OMITTED


@dataclass(slots=True)
class KeyRotation:
    overlap_hours: Annotated[float, limits(minimum=0, maximum=MAX_KEY_OVERLAP_HOURS,
                                           default=DEFAULT_KEY_OVERLAP_HOURS)] = OMITTED


@dataclass(slots=True)
class ModeratorChange:
    DESCRIPTION = "Either field or both."
    role: Role = OMITTED
    sites: Annotated[list[Annotated[str, limits(minLength=1)]], limits(maxItems=MAX_SITES_PER_MODERATOR),
                     doc("Site names; []: every site.")] = OMITTED


@dataclass(slots=True)
class ThreadChange:
    DESCRIPTION = "Either field or both."
    closed: Annotated[bool, doc("Closed: new comments get 409.")] = OMITTED
    premoderated: Annotated[bool, doc("Every new comment waits for a moderator.")] = OMITTED


@dataclass(slots=True)
class AuthorRuleIn:
    kind: Annotated[RuleKind, doc("The canonical e-mail, its domain, or the network (an IP or its prefix).")]
    value: Annotated[str, limits(minLength=1, maxLength=MAX_RULE_VALUE_CHARS)]
    action: RuleAction
    note: Annotated[str, limits(maxLength=MAX_RULE_NOTE_CHARS)] = OMITTED
    expires_at: Annotated[Time | None, doc("In the future; absent or null: for good.")] = OMITTED


#: The records of this module, for ``components.schemas``.
RECORDS = (ThreadIn, AuthorIn, ClientIn, FormStamp, CommentIn, CommentEdit, FlagClient, FlagIn, DecisionIn,
           BulkDecisionIn, PersonRequest, SigninForm, DecisionForm, BulkDecisionForm, CsrfForm, AuthorRuleForm,
           AuthorRuleRemoveForm, ThreadForm, SiteChange, KeyRotation, ModeratorChange, ThreadChange, AuthorRuleIn)
