"""A review-queue page as a merge of index range scans. Pure.

The store never computes a sort key for every queued comment. It reads each
site's queue in an order an index gives (``status, site_id`` then ``spam_score,
id``, ``spam_score DESC, id``, ``created_at, id`` or ``flag_count DESC, id``), a few rows at a time, as
*streams*, and a :class:`PagePlan` merges them by (key, id) into the exact page
the reference :func:`~moderation.domain.sort_key` defines. A page costs
about (streams x rows read) index entries, not a sort of the whole queue.

Streams per site in scope (the key of :func:`moderation.domain.sort_key` is a
monotone function of the indexed column along each one):

- ``uncertain``: the scores at or above the middle of the site's band, by
  ascending score (their key grows with the score); those below it, by
  descending score; the unscored comments by id (one constant key).
- ``score``: scores descending; then the unscored by id. ``safest``: scores
  ascending; then the unscored by id. ``oldest``: ``created_at`` ascending.
  ``flags``: readers' flags (``flag_count``) descending.

Along a stream, rows come by (column, id), so keys never decrease; two
different ``uncertain`` scores may still round to the same key (tiny scores on
a pre-moderated site: ``0.5 - 1e-20 == 0.5``), and such rows must then go by id
across the two scores. The merge accounts for it: it only commits to rows up
to each stream's *frontier* (the point its unread rows are known to come
after), and reads further where the page is not settled yet.

The cursor (key, id) becomes, for each stream, bounds on its column found
exactly: the first score whose key reaches the cursor's key is searched among
the floats themselves, with the very function the reference uses, so a page
starts exactly where the previous one stopped, whatever the rounding.
"""
from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from ..domain import MIN_BAND_WIDTH, UNSCORED_KEY, Bands, Cursor, Order, uncertainty

MIN_CHUNK = 16
"""The fewest rows read from a stream at a time."""
FULL_CHUNK_SITES = 4
"""Up to this many sites, each stream first reads a whole page's worth."""

SCORE, CREATED, FLAGS = "spam_score", "created_at", "flag_count"
_UNSCORED_KEYS = {Order.UNCERTAIN: UNSCORED_KEY, Order.SCORE: -1.0, Order.SAFEST: 2.0}


@dataclass(frozen=True, slots=True)
class Stream:
    """The rows of one site read in one index order: by ``column`` (ascending,
    or ``descending``) then id, or for ``column`` None the unscored rows
    (``spam_score IS NULL``) by id.

    Conditions on ``column``: every ``(operator, value)`` of ``bounds``; when
    ``start`` is ``(value, id)``, only rows strictly after it in the stream's
    order; when ``tie`` is ``(operator, value, id)``, only rows with ``column
    <operator> value`` or an id above that id."""

    site_id: int
    column: str | None
    descending: bool = False
    bounds: tuple[tuple[str, float], ...] = ()
    start: tuple[float | None, int] | None = None
    tie: tuple[str, float, int] | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A row read from a stream, with its key."""

    id: int
    key: float
    value: float | None       # the stream's column (the score for unscored streams: None)
    site_id: int
    column: str               # which column ``value`` is


# -- floats in order
def _ordinal(x: float) -> int:
    """An integer that orders as the float *x* does (-0.0 and 0.0 alike; no NaN)."""
    bits = struct.unpack("<q", struct.pack("<d", x))[0]
    return bits if bits >= 0 else -(bits & 0x7FFF_FFFF_FFFF_FFFF)


def _from_ordinal(n: int) -> float:
    bits = n if n >= 0 else (-n) | (1 << 63)
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def first_float(test: Callable[[float], bool], low: float, high: float, guess: float) -> float:
    """The smallest float x in [low, high] with ``test(x)``, for a *test* false
    then true along the floats and true at *high*. Gallops from *guess*, then
    bisects: a few calls when the guess is close, at most about 130."""
    a, b = _ordinal(low), _ordinal(high)
    g = min(max(_ordinal(guess), a), b)

    def true_at(n: int) -> bool:
        return test(_from_ordinal(n))

    step = 1
    if true_at(g):
        hi, lo = g, a - 1                # lo: below every candidate, or known false
        while hi - step >= a:
            if not true_at(hi - step):
                lo = hi - step
                break
            hi -= step
            step *= 2
    else:
        lo, hi = g, b
        while lo + step < b:
            if true_at(lo + step):
                hi = lo + step
                break
            lo += step
            step *= 2
    while hi - lo > 1:
        middle = (lo + hi) // 2
        if true_at(middle):
            hi = middle
        else:
            lo = middle
    return _from_ordinal(hi)


def _up(x: float) -> float:
    return math.nextafter(x, math.inf)


def _down(x: float) -> float:
    return math.nextafter(x, -math.inf)


# -- the two halves of a site's band
@dataclass(frozen=True, slots=True)
class _Halves:
    """A site's scores split at the middle of its band: ``uncertainty`` grows
    with the score from the middle up, and with the distance below it."""

    bands: Bands

    @property
    def middle(self) -> float:
        return (self.bands.approve_below + self.bands.reject_above) / 2.0

    def key(self, score: float) -> float:
        return uncertainty(score, self.bands)

    def _guess_distance(self, key: float) -> float:
        """Roughly how far from the middle a score of that key is."""
        width = abs(self.bands.reject_above - self.bands.approve_below)
        distance = key * max(width, MIN_BAND_WIDTH)
        return distance if math.isfinite(distance) else math.inf

    def upper_from(self, key: float, *, strictly: bool) -> float:
        """The smallest score >= middle whose key is >= *key* (> when
        *strictly*); +inf when none is finite."""
        def reaches(s: float) -> bool:
            k = self.key(s)
            return k > key if strictly else k >= key
        return first_float(reaches, self.middle, math.inf, self.middle + self._guess_distance(key))

    def lower_from(self, key: float, *, strictly: bool) -> float:
        """The largest score < middle whose key is >= *key* (> when *strictly*);
        -inf when none is finite."""
        top = _down(self.middle)

        def falls_short(s: float) -> bool:
            k = self.key(s)
            return k <= key if strictly else k < key
        if not falls_short(top):
            return top
        guess = self.middle - self._guess_distance(key)
        return _down(first_float(falls_short, -math.inf, top, guess))

    def alone_in_upper(self, score: float) -> bool:
        """Whether no other score at or above the middle has *score*'s key."""
        k = self.key(score)
        below = _down(score)
        return self.key(_up(score)) != k and (below < self.middle or self.key(below) != k)

    def alone_in_lower(self, score: float) -> bool:
        k = self.key(score)
        above = _up(score)
        return self.key(_down(score)) != k and (above >= self.middle or self.key(above) != k)


# -- the streams of one page
@dataclass(slots=True)
class _Reader:
    stream: Stream
    key: Callable[[float | None], float]
    alone: Callable[[float], bool] | None   # None: rows of one key come by id
    chunk: int
    rows: list[tuple[float, int, float, float | None]]   # (rank key, id, key, value)
    done: bool = False
    asked: int = 0


def _streams(order: Order, after: Cursor | None, site_id: int, bands: Bands | None,
             scored_only: bool) -> Iterable[tuple[Stream, Callable, Callable | None]]:
    """Each stream of one site with its key function (and, for streams whose
    rows of one key may come out of id order, a test that a score is the only
    one of its key there)."""
    if order is Order.OLDEST:
        start = None if after is None else (after.key, after.id)
        yield Stream(site_id, CREATED, start=start), (lambda v: v), None
        return
    if order is Order.FLAGS:
        start = None if after is None else (after.key, after.id)
        yield Stream(site_id, FLAGS, descending=True, start=start), (lambda v: float(v)), None
        return
    if not scored_only:
        unscored = _UNSCORED_KEYS[order]
        sign = -1.0 if order.descending else 1.0
        if after is None or sign * unscored > sign * after.key:
            yield Stream(site_id, None), (lambda v: unscored), None
        elif unscored == after.key:
            yield Stream(site_id, None, start=(None, after.id)), (lambda v: unscored), None
    if order is not Order.UNCERTAIN:
        start = None if after is None else (after.key, after.id)
        yield Stream(site_id, SCORE, descending=order.descending, start=start), (lambda v: v), None
        return
    halves = _Halves(bands)
    middle = halves.middle
    upper = Stream(site_id, SCORE, bounds=((">=", middle),))
    lower = Stream(site_id, SCORE, descending=True, bounds=(("<", middle),))
    if after is not None:
        upper = _upper_after(upper, halves, after)
        lower = _lower_after(lower, halves, after)
    for stream, alone in ((upper, halves.alone_in_upper), (lower, halves.alone_in_lower)):
        if stream is not None:
            yield stream, halves.key, alone


def _upper_after(stream: Stream, halves: _Halves, after: Cursor) -> Stream | None:
    reach = halves.upper_from(after.key, strictly=False)
    beyond = halves.upper_from(after.key, strictly=True)
    if reach == math.inf:
        return None
    if beyond == reach:              # no score has the cursor's key exactly
        return replace(stream, bounds=stream.bounds + ((">=", beyond),))
    if beyond == _up(reach):         # one score has it: after (score, id)
        return replace(stream, start=(reach, after.id))
    return replace(stream, bounds=stream.bounds + ((">=", reach),), tie=(">=", beyond, after.id))


def _lower_after(stream: Stream, halves: _Halves, after: Cursor) -> Stream | None:
    reach = halves.lower_from(after.key, strictly=False)
    beyond = halves.lower_from(after.key, strictly=True)
    if reach == -math.inf:
        return None
    if beyond == reach:
        return replace(stream, bounds=stream.bounds + (("<=", beyond),))
    if beyond == _down(reach):
        return replace(stream, start=(reach, after.id))
    return replace(stream, bounds=stream.bounds + (("<=", reach),), tie=("<=", beyond, after.id))


class PagePlan:
    """Which stream reads a page needs, and the page once they are done.

    ``sites``: every site in scope with the bands its keys use (the site's
    thresholds, else the model's; only ``uncertain`` reads them).
    ``scored_only``: the filter drops unscored comments (a score bound).

    Use: while :meth:`reads` names streams, read each (its ``Stream`` and at
    most its row count, in its order) and hand the rows to :meth:`feed`; then
    :meth:`page` is the page."""

    def __init__(self, order: Order, after: Cursor | None, sites: Mapping[int, Bands | None],
                 limit: int, *, scored_only: bool = False) -> None:
        self.order, self.limit = order, limit
        chunk = limit + 1 if len(sites) <= FULL_CHUNK_SITES else max(
            MIN_CHUNK, min(limit + 1, -(-4 * (limit + 1) // len(sites))))
        self._readers = [_Reader(stream, key, alone, chunk, [])
                         for site_id in sorted(sites)
                         for stream, key, alone in _streams(order, after, site_id, sites[site_id],
                                                             scored_only)]
        self._pending = list(range(len(self._readers))) if limit > 0 else []
        self._ranked: list[tuple[float, int, float, float | None, int]] = []

    def reads(self) -> list[tuple[int, Stream, int]]:
        """(number, stream to read, at most how many rows) for each read still needed."""
        found = []
        for number in self._pending:
            reader = self._readers[number]
            stream = reader.stream
            if reader.rows:              # go on after the last row read
                _, last_id, _, last_value = reader.rows[-1]
                stream = replace(stream, start=(last_value, last_id))
            reader.asked = reader.chunk
            found.append((number, stream, reader.chunk))
        return found

    def feed(self, rows: Iterable[tuple[int, int, float | None]]) -> None:
        """The rows of the reads asked: (stream number, comment id, column value),
        each stream's in its order."""
        readers, sign = self._readers, -1.0 if self.order.descending else 1.0
        got = dict.fromkeys(self._pending, 0)
        for number, comment_id, value in rows:
            reader = readers[number]
            key = reader.key(value)
            reader.rows.append((sign * key, comment_id, key, value))
            got[number] += 1
        for number in self._pending:
            reader = readers[number]
            reader.done = got[number] < reader.asked
            reader.chunk *= 2
        self._pending = self._settle()

    @staticmethod
    def _frontier(reader: _Reader) -> tuple[float, int]:
        """Every unread row of the stream ranks strictly after this (rank key, id)."""
        rank, comment_id, _, value = reader.rows[-1]   # a stream not done has rows
        if reader.alone is None or reader.alone(value):
            return (rank, comment_id)
        return (rank, 0)

    def _settle(self) -> list[int]:
        """The streams to read further: those whose frontier comes before the
        last row a page could hold, while fewer than a page's rows are settled."""
        self._ranked = sorted((row + (number,) for number, reader in enumerate(self._readers)
                               for row in reader.rows))
        open_readers = [(self._frontier(r), n) for n, r in enumerate(self._readers) if not r.done]
        if not open_readers:
            return []
        frontier = min(f for f, _ in open_readers)
        if len(self._ranked) < self.limit:
            return [n for _, n in open_readers]
        cutoff = self._ranked[self.limit - 1][:2]
        if cutoff <= frontier:
            return []
        return [n for f, n in open_readers if f < cutoff]

    def page(self) -> list[Candidate]:
        """The page, best first (call once :meth:`reads` is empty)."""
        assert not self._pending, "streams still to read"
        page = []
        for _, comment_id, key, value, number in self._ranked[:self.limit]:
            stream = self._readers[number].stream
            page.append(Candidate(comment_id, key, value, stream.site_id, stream.column or SCORE))
        return page
