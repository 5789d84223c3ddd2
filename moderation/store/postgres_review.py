"""The PostgreSQL store's review writes: decisions, replies released with their
parent, and retention (the contract is in :mod:`.base`; the queue, labels,
statistics and people's data are in :mod:`.shared_review`).

Writes that touch several comments lock them first, in id order (bulk
decisions apply in id order, erasure and purge ``SELECT ... ORDER BY id FOR
UPDATE``), so two of them running at once on different instances wait for
each other instead of deadlocking.
"""
from __future__ import annotations

import asyncpg

from ..domain import Status
from .base import (CONFLICT, DECIDED, NOT_FOUND, RELEASE_ACTION, RELEASE_ACTOR, RELEASE_REASON,
                   DecisionOutcome, DecisionRequest, held_only_for_parent,
                   parent_release_note)
from .postgres_sql import PostgresConnection, execute, fetch, fetchrow
from .shared import EVENT_COLUMNS, event_from


class ReviewQueries(PostgresConnection):
    """The review half of :class:`~.postgres.PostgresStore`."""

    # -- review
    async def apply_decisions(self, requests: list[DecisionRequest], *,
                              now: float) -> list[DecisionOutcome]:
        """Applied in comment-id order (a stable sort: repeats of one id keep their
        order), answered in request order."""
        outcomes: list[DecisionOutcome | None] = [None] * len(requests)
        in_id_order = sorted(range(len(requests)), key=lambda i: requests[i].comment_id)
        publishing = [r.comment_id for r in requests if r.new_status == Status.PUBLISHED.value]
        async with self._transaction() as db:
            if publishing:
                # Replies may be published with their parents: lock them too, with
                # the comments decided, all in id order, before any update.
                await lock_with_pending_replies(db, [r.comment_id for r in requests], publishing)
            for index in in_id_order:
                outcomes[index] = await _apply_decision(db, requests[index], now)
            await release_replies_in(db, [o.comment_id for o in outcomes if o is not None
                                          and o.outcome == DECIDED
                                          and o.status == Status.PUBLISHED.value], now)
        return outcomes   # type: ignore[return-value]


async def _apply_decision(db: asyncpg.Connection, r: DecisionRequest, now: float) -> DecisionOutcome:
    """One guarded update and its audit event. A concurrent decision on the same
    comment makes this UPDATE wait for its commit, then re-check the status."""
    moved = await fetchrow(db, """
        UPDATE comments SET status = :new, updated_at = :now,
          published_at = CASE WHEN :new = 'published' THEN COALESCE(published_at, :now)
                              ELSE published_at END
        WHERE id = :id AND status = :expected AND erased_at IS NULL
        RETURNING model_version, spam_score""",
        {"new": r.new_status, "now": now, "id": r.comment_id, "expected": r.expected_status})
    if moved is not None:
        event = await fetchrow(db, f"""
            INSERT INTO audit_events (comment_id, at, actor, action, from_status, to_status,
              reason, note, model_version, spam_score)
            VALUES (:id, :now, :actor, :action, :from, :to, :reason, :note, :model::text,
              :score::float8)
            RETURNING {EVENT_COLUMNS}""", {
            "id": r.comment_id, "now": now, "actor": r.actor, "action": r.action,
            "from": r.expected_status, "to": r.new_status, "reason": r.reason, "note": r.note,
            "model": moved[0], "score": moved[1]})
        return DecisionOutcome(r.comment_id, DECIDED, r.new_status, event_from(event), updated_at=now)
    current = await fetchrow(db, "SELECT status, updated_at, erased_at FROM comments WHERE id = :id",
                             {"id": r.comment_id})
    if current is None:
        return DecisionOutcome(r.comment_id, NOT_FOUND, None)
    latest = await fetchrow(
        db, f"SELECT {EVENT_COLUMNS} FROM audit_events WHERE comment_id = :id ORDER BY id DESC LIMIT 1",
        {"id": r.comment_id})
    return DecisionOutcome(r.comment_id, CONFLICT, current[0], event_from(latest) if latest else None,
                           updated_at=current[1], erased=current[2] is not None)


async def lock_with_pending_replies(db: asyncpg.Connection, comment_ids: list[int],
                                    parent_ids: list[int]) -> None:
    """Lock *comment_ids* and the pending replies of *parent_ids* (and theirs, down
    through pending replies), in id order: the rows a decision that publishes
    *parent_ids* may update, so that it waits for other multi-row writes (which
    lock in id order too) instead of deadlocking with them."""
    await fetch(db, """
        WITH RECURSIVE tree(id) AS (
          SELECT id FROM comments WHERE id = ANY(:parents::bigint[])
          UNION
          SELECT c.id FROM comments c JOIN tree ON c.parent_id = tree.id
          WHERE c.status = 'pending' AND c.erased_at IS NULL)
        SELECT id FROM comments
        WHERE id IN (SELECT id FROM tree) OR id = ANY(:ids::bigint[])
        ORDER BY id FOR UPDATE""", {"ids": list(comment_ids), "parents": list(parent_ids)})


async def release_replies_in(db: asyncpg.Connection, parent_ids: list[int], now: float) -> list[int]:
    """Inside a transaction: publish the replies of *parent_ids* (just published)
    held only for them, then theirs in turn, each with its audit event (see
    ``Store.release_replies``). Their ids, level by level. Replies have higher
    ids than their parents: locks are taken upwards."""
    released: list[int] = []
    parents = sorted(set(parent_ids))
    while parents:
        replies = await fetch(db, """
            SELECT id, parent_id, reasons FROM comments
            WHERE parent_id = ANY(:parents::bigint[]) AND status = 'pending' AND erased_at IS NULL
            ORDER BY id FOR UPDATE""", {"parents": parents})
        parents = []
        for reply_id, parent_id, reasons in replies:
            if not held_only_for_parent(reasons):
                continue
            moved = await fetchrow(db, """
                UPDATE comments SET status = 'published', updated_at = :now,
                  published_at = COALESCE(published_at, :now)
                WHERE id = :id AND status = 'pending' RETURNING model_version, spam_score""",
                {"now": now, "id": reply_id})
            if moved is None:
                continue
            await execute(db, """
                INSERT INTO audit_events (comment_id, at, actor, action, from_status, to_status,
                  reason, note, model_version, spam_score)
                VALUES (:id, :now, :actor, :action, 'pending', 'published', :reason, :note,
                  :model::text, :score::float8)""", {
                "id": reply_id, "now": now, "actor": RELEASE_ACTOR, "action": RELEASE_ACTION,
                "reason": RELEASE_REASON, "note": parent_release_note(parent_id),
                "model": moved[0], "score": moved[1]})
            released.append(reply_id)
            parents.append(reply_id)
    return released
