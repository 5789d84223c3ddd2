"""Review-queue pages on either backend: the SQL of the streams
:class:`~moderation.review.keyset.PagePlan` asks for, and the read loop.

Each round of reads is one statement (a few past :data:`STREAMS_PER_STATEMENT`
streams): a ``UNION ALL`` of one ``SELECT ... ORDER BY ... LIMIT`` per stream,
each a forward range scan of an index in that very order, as migration 0006
leaves them: ``comments_queue_score`` (``status, site_id, spam_score, id``),
``comments_queue_score_desc`` (the same with ``spam_score DESC``),
``comments_queue`` (``status, site_id, created_at, id``) or, migration 0013,
``comments_queue_flags`` (``status, site_id, flag_count DESC, id``).

Only (stream, id, column) comes back; the page's comments are then read by id:
a comment decided, erased or rescored between the two reads makes the page be
read again (at most :data:`PAGE_ATTEMPTS` times; after that, such comments are
left out of it).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from ..domain import QUEUE_STATUSES, Bands, Comment, Cursor, Order, QueueFilter
from .keyset import SCORE, Candidate, PagePlan, Stream
from .base import QueueRow

PAGE_ATTEMPTS = 3
STREAMS_PER_STATEMENT = 150
"""At most this many streams per ``UNION ALL`` (SQLite allows 500 members)."""

QUEUE_ROWS = "c.status IN ({}) AND c.erased_at IS NULL".format(
    ", ".join(f"'{status}'" for status in QUEUE_STATUSES))
"""The predicate of the partial indexes ``comments_queue_score``,
``comments_queue_score_desc`` and ``comments_queue_flags``, word for word: a query must carry it for SQLite
(and PostgreSQL's generic plans) to use them."""


def queue_where(filter_sql: str, status: str, order: Order) -> str:
    """*filter_sql* (the filter but its sites), with :data:`QUEUE_ROWS` added
    when *order* reads the partial score indexes and comments of *status* are
    all in them. (``oldest`` reads ``comments_queue``, which is not partial:
    there the term only misleads PostgreSQL's estimates without statistics.)"""
    if order is Order.OLDEST or status not in QUEUE_STATUSES:
        return filter_sql
    return f"{filter_sql} AND {QUEUE_ROWS}"


def bands_by_site(rows: Sequence[Sequence[Any]], model_bands: Bands) -> dict[int, Bands]:
    """Site id -> the bands its ``uncertain`` keys use, from (id,
    approve_below, reject_above) rows: each threshold the site's, else the model's."""
    return {row[0]: Bands(model_bands.approve_below if row[1] is None else row[1],
                          model_bands.reject_above if row[2] is None else row[2])
            for row in rows}


def streams_sql(reads: Sequence[tuple[int, Stream, int]], *, source: str, where: str,
                params: dict[str, Any], typed: bool) -> str:
    """One statement reading every stream of *reads* (number, stream, at most
    how many rows): rows (stream number, id, column value), each stream's in
    its order. *where* and *source* (``comments c``, with ``threads t`` joined
    when *where* needs it) hold the filter; its parameters are in *params*,
    where this adds its own. *typed*: PostgreSQL, whose parameters get casts."""
    real, integer = ("::float8", "::bigint") if typed else ("", "")
    parts = []
    for number, stream, count in reads:
        p = f"s{number}_"
        params[f"{p}site"], params[f"{p}limit"] = stream.site_id, count
        terms = [where, f"c.site_id = :{p}site{integer}"]
        column = None if stream.column is None else f"c.{stream.column}"
        if column is None:
            terms.append("c.spam_score IS NULL")
        elif stream.column == SCORE:
            terms.append("c.spam_score IS NOT NULL")
        for index, (operator, value) in enumerate(stream.bounds):
            params[f"{p}bound{index}"] = value
            terms.append(f"{column} {operator} :{p}bound{index}{real}")
        if stream.start is not None:
            value, after_id = stream.start
            params[f"{p}after_id"] = after_id
            after_id_sql = f":{p}after_id{integer}"
            if column is None:
                terms.append(f"c.id > {after_id_sql}")
            else:
                params[f"{p}after"] = value
                after = f":{p}after{real}"
                if stream.descending:
                    terms.append(f"{column} <= {after} AND ({column} < {after} "
                                 f"OR c.id > {after_id_sql})")
                else:
                    terms.append(f"({column}, c.id) > ({after}, {after_id_sql})")
        if stream.tie is not None:
            operator, value, tie_id = stream.tie
            params[f"{p}tie"], params[f"{p}tie_id"] = value, tie_id
            terms.append(f"({column} {operator} :{p}tie{real} OR c.id > :{p}tie_id{integer})")
        # The unscored by (spam_score, id) too: the index's order, no sort needed.
        ordering = f"{column or 'c.spam_score'}{' DESC' if stream.descending else ''}, c.id"
        parts.append(
            f"SELECT * FROM (SELECT {number} AS stream, c.id, {column or 'c.spam_score'} AS value "
            f"FROM {source} WHERE {' AND '.join(terms)} "
            f"ORDER BY {ordering} LIMIT :{p}limit{integer}) AS s{number}")
    return "\nUNION ALL\n".join(parts)


def _unchanged(comment: Comment | None, candidate: Candidate, status: str) -> bool:
    """Whether *comment*, read back, is still what the streams saw: in the queue
    (status, not erased: a status change also carries any change of reasons)
    with the same value of the column its key came from. Site, thread,
    language and submission time never change."""
    return (comment is not None and comment.status.value == status and comment.erased_at is None
            and comment.site_id == candidate.site_id
            and getattr(comment, candidate.column) == candidate.value)


async def read_queue_page(
        query_filter: QueueFilter, *, order: Order, after: Cursor | None, limit: int,
        sites: Mapping[int, Bands | None], source: str, where: str, params: dict[str, Any],
        typed: bool,
        fetch: Callable[[str, dict[str, Any]], Awaitable[Sequence[Sequence[Any]]]],
        comments: Callable[[list[int]], Awaitable[dict[int, Comment]]]) -> list[QueueRow]:
    """The page :meth:`~moderation.store.base.Store.review_queue` answers.

    *sites*: the sites in scope, with their bands for ``uncertain``; *source*,
    *where* and *params*: the filter but its sites (see :func:`streams_sql`);
    *fetch*: runs a statement; *comments*: the comments of some ids, by id
    (read by primary key: no plan can turn it into a scan)."""
    scored_only = query_filter.min_score is not None or query_filter.max_score is not None
    for attempt in range(PAGE_ATTEMPTS):
        plan = PagePlan(order, after, sites, limit, scored_only=scored_only)
        while reads := plan.reads():
            rows: list[Sequence[Any]] = []
            for start in range(0, len(reads), STREAMS_PER_STATEMENT):
                round_params = dict(params)
                sql = streams_sql(reads[start:start + STREAMS_PER_STATEMENT], source=source,
                                  where=where, params=round_params, typed=typed)
                rows.extend(await fetch(sql, round_params))
            plan.feed((row[0], row[1], row[2]) for row in rows)
        page = plan.page()
        if not page:
            return []
        found = await comments([c.id for c in page])
        kept = [QueueRow(comment=found[c.id], sort_key=c.key) for c in page
                if _unchanged(found.get(c.id), c, query_filter.status)]
        if len(kept) == len(page) or attempt == PAGE_ATTEMPTS - 1:
            return kept
    raise AssertionError("unreachable")
