"""Review statistics: queue depth, decisions per day, how often moderators
overrule the model. Pure: shapes what the store counted.

A decision *overrules* the model when the moderator approves a comment the
model leaned spam on (score at decision time >= :data:`SPAM_LEANING_AT`) or
marks spam one it leaned ham on. Only approve and spam decisions on scored
comments are *judged*; a rejection is about tone or topic, not spam.

The *audit* part measures the model where the queue cannot: a random share of
its own decisions (``MODERATION_AUDIT_SHARE``) went to review with reason
``audit``. Per site and comment language, for audited comments moderators
decided in the window: in the ham band (the model would have published them),
``spam_published_rate`` = marked spam / (approved + marked spam); in the spam
band (it would have held them), ``ham_held_rate`` = approved / (approved +
marked spam). Rejections are counted but left out of both rates (tone, not
spam); a rate is None without a judged comment. The counts are the sample
size: read a rate of 0 over 20 comments as "under about 15 %", not as zero.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from ..domain import DECISION_ACTIONS, iso
from ..records import review as records
from ..records import to_json

SPAM_LEANING_AT = 0.5
"""The model leans spam at or above this calibrated probability."""
DEFAULT_DAYS = 30
MAX_DAYS = 365


def day_iso(day: int) -> str:
    """A UTC day number (days since 1970-01-01) as ``YYYY-MM-DD``."""
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _band_counts(counts: Counter) -> dict[str, int]:
    return {"decided": sum(counts.values()), **{action: counts[action] for action in DECISION_ACTIONS},
            "judged": counts["approve"] + counts["spam"]}


def audit_answer(counts: Iterable, *, share: float) -> records.AuditStats:
    """The ``audit`` part of the stats from the store's
    :class:`~moderation.store.base.AuditCount` rows (see the module doc)."""
    groups: dict[tuple[str, str], dict[str, Counter]] = {}
    for item in counts:
        bands = groups.setdefault((item.site, item.language), {"ham": Counter(), "spam": Counter()})
        bands["ham" if item.band == "ham" else "spam"][item.action] += item.count
    return records.AuditStats(share=share, by_site_language=[
        records.AuditGroup(
            site=site, language=language,
            ham_band=records.AuditHamBand(**_band_counts(bands["ham"]), spam_published_rate=_rate(
                bands["ham"]["spam"], bands["ham"]["approve"] + bands["ham"]["spam"])),
            spam_band=records.AuditSpamBand(**_band_counts(bands["spam"]), ham_held_rate=_rate(
                bands["spam"]["approve"], bands["spam"]["approve"] + bands["spam"]["spam"])))
        for (site, language), bands in sorted(groups.items())])


def stats_answer(depths: Iterable, days: Iterable, audits: Iterable = (), *, now: float,
                 window_days: int, audit_share: float = 0.0) -> dict:
    """The body of ``GET /v1/review/stats`` from the store's
    :class:`~moderation.store.base.QueueDepth`, :class:`~moderation.store.base.DecisionDay`
    and :class:`~moderation.store.base.AuditCount`."""
    sites = [records.SiteDepth(
        site=depth.site, pending=depth.pending, spam=depth.spam, oldest_pending_at=iso(depth.oldest_pending_at),
        oldest_pending_age_seconds=(max(0, round(now - depth.oldest_pending_at))
                                    if depth.oldest_pending_at is not None else None))
        for depth in depths]
    per_day: dict[int, Counter] = {}
    judged = overruled = 0
    for item in days:
        per_day.setdefault(item.day, Counter())[item.action] += item.count
        judged += item.judged
        overruled += item.overruled
    return to_json(records.Stats(
        days=window_days, sites=sites,
        decisions_per_day=[records.DecisionsOnDay(day=day_iso(day), total=sum(counts.values()),
                                                  **{a: counts[a] for a in DECISION_ACTIONS})
                           for day, counts in sorted(per_day.items())],
        overrule=records.Overrule(judged=judged, overruled=overruled, rate=_rate(overruled, judged),
                                  spam_leaning_at=SPAM_LEANING_AT),
        audit=audit_answer(audits, share=audit_share)))
