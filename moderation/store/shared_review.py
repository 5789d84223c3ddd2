"""The review side of the queries both backends run alike (see :mod:`.shared`
for the dialect): the review queue's filter, pages and counts, moderators'
decisions as labels and statistics, and people's data and erasure.

The queue's pages are index range scans merged in Python
(:mod:`.queue_reads`, :mod:`.keyset`); what stays in each backend is how
decisions are applied and replies released (PostgreSQL locks rows in id order)
and retention.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..domain import (DECISION_ACTIONS, ERASED_AUTHOR, QUEUE_STATUSES, AuditEvent, Bands, Cursor, Order,
                      QueueFilter, canonical_email)
from .base import (AuditCount, DecidedComment, DecisionDay, PersonData, PurgeResult, QueueDepth, QueueRow,
                   ScoredLabel)
from .queue_reads import QUEUE_ROWS, bands_by_site, queue_where, read_queue_page
from .shared import COMMENT_COLUMNS, COMMENT_FROM, EVENT_COLUMNS, PERSON, SharedQueries, event_from

#: The queue filter's bounds, each a condition on one parameter of the same name.
FILTER_BOUNDS = (("min_score", "c.spam_score >= CAST(:min_score AS DOUBLE PRECISION)"),
                 ("max_score", "c.spam_score <= CAST(:max_score AS DOUBLE PRECISION)"),
                 ("created_before", "c.created_at <= CAST(:created_before AS DOUBLE PRECISION)"),
                 ("created_after", "c.created_at >= CAST(:created_after AS DOUBLE PRECISION)"))


class SharedReviewQueries(SharedQueries):
    """The review half of the backend-independent store (module docstring)."""

    TYPED_PARAMS = False   # PostgreSQL: the queue's stream reads cast their parameters

    @staticmethod
    def reason_param(column: str, param: str, params: dict[str, Any], code: str) -> str:
        """SQL true when the reasons list *column* holds *code*, given as the parameter *param*."""
        raise NotImplementedError

    # -- the review queue
    def _filter_sql(self, query_filter: QueueFilter, params: dict[str, Any], *, with_status: bool) -> str:
        f = query_filter
        clauses = ["c.erased_at IS NULL"]
        if with_status:
            clauses.append("c.status = :status")
            params["status"] = f.status
        if f.site_ids is not None:
            params["site_ids"] = self.list_param(f.site_ids)
            clauses.append(self.member_of("c.site_id", "site_ids", "BIGINT"))
        for name, column in (("thread", "t.ext_id"), ("language", "c.language")):
            value = getattr(f, name)
            if value is not None:
                clauses.append(f"{column} = :{name}")
                params[name] = value
        if f.reason is not None:
            clauses.append(self.reason_param("c.reasons", "reason", params, f.reason))
        for name, condition in FILTER_BOUNDS:
            value = getattr(f, name)
            if value is not None:
                clauses.append(condition)
                params[name] = value
        return " AND ".join(clauses)

    async def review_queue(self, query_filter: QueueFilter, *, order: Order, after: Cursor | None,
                           limit: int, model_bands: Bands) -> list[QueueRow]:
        """Index range scans merged by :mod:`.queue_reads`, not a sort of the queue."""
        if query_filter.site_ids is not None and not query_filter.site_ids:
            return []
        sites = await self._queue_sites(query_filter.site_ids, order, model_bands)
        params: dict[str, Any] = {}
        where = queue_where(self._filter_sql(replace(query_filter, site_ids=None), params, with_status=True),
                            query_filter.status, order)
        source = COMMENT_FROM if query_filter.thread is not None else "comments c"
        return await read_queue_page(query_filter, order=order, after=after, limit=limit,
                                     sites=sites, source=source, where=where, params=params,
                                     typed=self.TYPED_PARAMS, fetch=self._rows, comments=self.get_comments)

    async def _queue_sites(self, site_ids: tuple[int, ...] | None, order: Order,
                           model_bands: Bands) -> dict[int, Bands | None]:
        """The sites in scope, with their bands when *order* needs them."""
        if site_ids is not None and order is not Order.UNCERTAIN:
            return dict.fromkeys(site_ids)
        params: dict[str, Any] = {}
        in_scope = self._sites_clause(None if site_ids is None else list(site_ids), params, "id")
        rows = await self._rows(f"SELECT id, approve_below, reject_above FROM sites WHERE {in_scope}", params)
        return bands_by_site(rows, model_bands)

    async def queue_counts(self, query_filter: QueueFilter) -> dict[str, int]:
        params: dict[str, Any] = {}
        where = self._filter_sql(query_filter, params, with_status=False)
        source = COMMENT_FROM if query_filter.thread is not None else "comments c"
        rows = await self._rows(f"""SELECT c.status, COUNT(*) FROM {source}
                                    WHERE {where} AND {QUEUE_ROWS} GROUP BY c.status""", params)
        counts = dict.fromkeys(QUEUE_STATUSES, 0)
        counts.update({status: n for status, n in rows})
        return counts

    # -- moderators' decisions: labels and statistics
    def _decision_actions(self, params: dict[str, Any], column: str = "e.action") -> str:
        params["actions"] = self.list_param(DECISION_ACTIONS)
        return self.member_of(column, "actions", "TEXT")

    def _sites_clause(self, site_ids: list[int] | None, params: dict[str, Any], column: str) -> str:
        """SQL true for the rows of *site_ids* (None: every site)."""
        if site_ids is None:
            return "1 = 1"
        params["site_ids"] = self.list_param(site_ids)
        return self.member_of(column, "site_ids", "BIGINT")

    async def decided_comments(self, *, since: float | None, site_id: int | None,
                               after_id: int, limit: int) -> list[DecidedComment]:
        params: dict[str, Any] = {"after": after_id, "limit": limit}
        latest = self._decision_actions(params, "l.action")
        clauses = ["c.id > :after", "c.erased_at IS NULL", "e.to_status = c.status"]
        if since is not None:
            clauses.append("e.at >= :since")
            params["since"] = since
        if site_id is not None:
            clauses.append("c.site_id = :site")
            params["site"] = site_id
        rows = await self._rows(
            f"""SELECT c.id, c.body, c.language, s.name, e.to_status, e.at, e.spam_score
                FROM comments c JOIN sites s ON s.id = c.site_id
                JOIN audit_events e ON e.comment_id = c.id
                 AND e.id = (SELECT MAX(l.id) FROM audit_events l WHERE l.comment_id = c.id AND {latest})
                WHERE {' AND '.join(clauses)} ORDER BY c.id LIMIT :limit""", params)
        return [DecidedComment(comment_id=r[0], body=r[1], language=r[2], site=r[3], status=r[4],
                               decided_at=r[5], model_score=r[6]) for r in rows]

    async def scored_labels(self, site_id: int, *, model_version: str) -> list[ScoredLabel]:
        params: dict[str, Any] = {"site": site_id, "version": model_version}
        latest = self._decision_actions(params, "l.action")
        rows = await self._rows(
            f"""SELECT c.id, e.spam_score, e.action, c.language, {self.has_reason('c.reasons', 'audit')}
                FROM comments c JOIN audit_events e ON e.comment_id = c.id
                 AND e.id = (SELECT MAX(l.id) FROM audit_events l WHERE l.comment_id = c.id AND {latest})
                WHERE c.site_id = :site AND c.erased_at IS NULL AND e.to_status = c.status
                  AND e.action IN ('approve', 'spam') AND e.spam_score IS NOT NULL
                  AND e.model_version = :version
                ORDER BY c.id""", params)
        return [ScoredLabel(comment_id=r[0], score=r[1], label="ham" if r[2] == "approve" else "spam",
                            language=r[3], audited=bool(r[4])) for r in rows]

    async def queue_depth(self, site_ids: list[int] | None) -> list[QueueDepth]:
        params: dict[str, Any] = {}
        where = f"WHERE {self._sites_clause(site_ids, params, 's.id')}"
        rows = await self._rows(
            f"""SELECT s.id, s.name,
                  COUNT(c.id) FILTER (WHERE c.status = 'pending'),
                  COUNT(c.id) FILTER (WHERE c.status = 'spam'),
                  MIN(c.created_at) FILTER (WHERE c.status = 'pending')
                FROM sites s LEFT JOIN comments c ON c.site_id = s.id
                  AND c.status IN ('pending', 'spam') AND c.erased_at IS NULL
                {where} GROUP BY s.id, s.name ORDER BY s.name{self.BYTE_ORDER}""", params)
        return [QueueDepth(site_id=r[0], site=r[1], pending=r[2], spam=r[3], oldest_pending_at=r[4])
                for r in rows]

    async def decision_days(self, site_ids: list[int] | None, *, since: float,
                            spam_leaning_at: float) -> list[DecisionDay]:
        params: dict[str, Any] = {"since": since, "lean": spam_leaning_at}
        decisions = self._decision_actions(params)
        rows = await self._rows(
            f"""SELECT {self.day_of('e.at')} AS day, e.action, COUNT(*),
                  COUNT(*) FILTER (WHERE e.action IN ('approve', 'spam') AND e.spam_score IS NOT NULL),
                  COUNT(*) FILTER (WHERE (e.action = 'approve' AND e.spam_score >= :lean)
                                   OR (e.action = 'spam' AND e.spam_score < :lean))
                FROM audit_events e JOIN comments c ON c.id = e.comment_id
                WHERE {decisions} AND e.at >= :since AND {self._sites_clause(site_ids, params, 'c.site_id')}
                GROUP BY day, e.action ORDER BY day, e.action{self.BYTE_ORDER}""", params)
        return [DecisionDay(day=r[0], action=r[1], count=r[2], judged=r[3], overruled=r[4])
                for r in rows]

    async def audit_counts(self, site_ids: list[int] | None, *, since: float) -> list[AuditCount]:
        """From the decisions of the window, each the latest of its comment."""
        params: dict[str, Any] = {"since": since}
        decisions = self._decision_actions(params)
        later = self.member_of("l.action", "actions", "TEXT")
        reason = self.has_reason
        rows = await self._rows(
            f"""SELECT c.site_id, s.name, c.language,
                  CASE WHEN {reason('c.reasons', 'model_spam')} THEN 'spam' ELSE 'ham' END AS band,
                  e.action, COUNT(*)
                FROM audit_events e JOIN comments c ON c.id = e.comment_id
                JOIN sites s ON s.id = c.site_id
                WHERE {decisions} AND e.at >= :since AND {self._sites_clause(site_ids, params, 'c.site_id')}
                  AND {reason('c.reasons', 'audit')}
                  AND ({reason('c.reasons', 'model_ham')} OR {reason('c.reasons', 'model_spam')})
                  AND NOT EXISTS (SELECT 1 FROM audit_events l WHERE l.comment_id = e.comment_id
                                  AND l.id > e.id AND {later})
                GROUP BY c.site_id, s.name, c.language, band, e.action
                ORDER BY s.name{self.BYTE_ORDER}, c.language{self.BYTE_ORDER}, band, e.action""", params)
        return [AuditCount(site_id=r[0], site=r[1], language=r[2], band=r[3], action=r[4], count=r[5])
                for r in rows]

    # -- people: what the service holds on an e-mail address, and its erasure
    async def person_data(self, email: str) -> PersonData:
        rows = await self._rows(f"""SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM}
                                    WHERE c.email_key = :email AND c.email_key <> '' AND c.erased_at IS NULL
                                    ORDER BY c.id""", {"email": canonical_email(email)})
        comments = [self._comment(r) for r in rows]
        if not comments:
            return PersonData(comments=[], sites={}, full_ips={}, events={})
        ids = {"ids": self.list_param([c.id for c in comments])}
        names = {site.id: site.name for site in await self.list_sites()}
        full_ips = {r[0]: r[1] for r in await self._rows(
            f"SELECT comment_id, ip FROM client_ips WHERE {self.member_of('comment_id', 'ids', 'BIGINT')}", ids)}
        events: dict[int, list[AuditEvent]] = {c.id: [] for c in comments}
        for row in await self._rows(f"""SELECT {EVENT_COLUMNS} FROM audit_events
                                        WHERE {self.member_of('comment_id', 'ids', 'BIGINT')} ORDER BY id""", ids):
            events[row[1]].append(event_from(row))
        return PersonData(comments=comments, sites={c.site_id: names[c.site_id] for c in comments},
                          full_ips=full_ips, events=events)

    async def erase_person(self, email: str, *, actor: str, now: float) -> list[int]:
        params = {"email": canonical_email(email), "actor": actor, "now": now, "erased": ERASED_AUTHOR}
        async with self._transaction() as db:
            ids = [r[0] for r in await self._tx_rows(
                db, f"SELECT id FROM comments WHERE {PERSON} ORDER BY id{self.FOR_UPDATE}", params)]
            if not ids:
                return []
            params["ids"] = self.list_param(ids)
            mine = self.member_of("comment_id", "ids", "BIGINT")
            await self._tx_execute(db, f"DELETE FROM client_ips WHERE {mine}", params)
            await self._tx_execute(db, f"DELETE FROM idempotency_keys WHERE {mine}", params)
            await self._tx_execute(db, f"UPDATE audit_events SET note = '' WHERE {mine}", params)
            await self._tx_execute(db, f"""
                INSERT INTO audit_events (comment_id, at, actor, action, from_status, to_status,
                  reason, model_version, spam_score)
                SELECT id, :now, :actor, 'erase', status,
                  CASE WHEN status IN ('pending', 'published') THEN 'rejected' ELSE status END,
                  'erasure_request', model_version, spam_score
                FROM comments WHERE {self.member_of('id', 'ids', 'BIGINT')} ORDER BY id""", params)
            await self._tx_execute(db, f"""
                UPDATE comments SET author_name = :erased, author_email = '', email_key = '',
                  body = '', body_hash = '', ip_prefix = '', user_agent = '', referrer = '',
                  status = CASE WHEN status IN ('pending', 'published') THEN 'rejected' ELSE status END,
                  erased_at = :now, updated_at = :now
                WHERE {self.member_of('id', 'ids', 'BIGINT')}""", params)
        return ids

    # -- retention
    async def purge(self, *, spam_before: float, ips_before: float,
                    idempotency_before: float) -> PurgeResult:
        """One transaction: the spam last changed before *spam_before* goes (its
        replies stay, without their parent; its Idempotency-Keys go with it),
        then full IPs and keys older than theirs. The old spam and its replies
        are locked together in id order (PostgreSQL), as every writer locks rows."""
        params = {"spam_before": spam_before}
        old_spam = "status = 'spam' AND updated_at < :spam_before"
        async with self._transaction() as db:
            locked = await self._tx_rows(db, f"""
                SELECT id, CASE WHEN {old_spam} THEN 1 ELSE 0 END FROM comments
                WHERE ({old_spam}) OR parent_id IN (SELECT id FROM comments WHERE {old_spam})
                ORDER BY id{self.FOR_UPDATE}""", params)
            doomed = {"ids": self.list_param([row[0] for row in locked if row[1]])}
            await self._tx_execute(db, "UPDATE comments SET parent_id = NULL "
                                       f"WHERE {self.member_of('parent_id', 'ids', 'BIGINT')}", doomed)
            keys = await self._tx_execute(db, "DELETE FROM idempotency_keys "
                                              f"WHERE {self.member_of('comment_id', 'ids', 'BIGINT')}", doomed)
            spam = await self._tx_execute(
                db, f"DELETE FROM comments WHERE {self.member_of('id', 'ids', 'BIGINT')}", doomed)
            ips = await self._tx_execute(db, "DELETE FROM client_ips WHERE created_at < :before",
                                         {"before": ips_before})
            keys += await self._tx_execute(db, "DELETE FROM idempotency_keys WHERE created_at < :before",
                                           {"before": idempotency_before})
        return PurgeResult(spam_comments=spam, full_ips=ips, idempotency_keys=keys)
