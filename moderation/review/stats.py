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
from collections.abc import Iterable

from ..domain import DECISION_ACTIONS
from ..domain import iso

SPAM_LEANING_AT = 0.5
"""The model leans spam at or above this calibrated probability."""
DEFAULT_DAYS = 30
MAX_DAYS = 365


def day_iso(day: int) -> str:
    """A UTC day number (days since 1970-01-01) as ``YYYY-MM-DD``."""
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def audit_answer(counts: Iterable, *, share: float) -> dict:
    """The ``audit`` part of the stats from the store's
    :class:`~moderation.store.base.AuditCount` rows (see the module doc)."""
    groups: dict[tuple[str, str], dict] = {}
    for item in counts:
        entry = groups.setdefault((item.site, item.language), {
            "site": item.site, "language": item.language,
            **{band: {"decided": 0, **dict.fromkeys(DECISION_ACTIONS, 0)}
               for band in ("ham_band", "spam_band")}})
        band = entry["ham_band" if item.band == "ham" else "spam_band"]
        band[item.action] = band.get(item.action, 0) + item.count
        band["decided"] += item.count
    for entry in groups.values():
        ham, spam = entry["ham_band"], entry["spam_band"]
        ham["judged"] = ham["approve"] + ham["spam"]
        ham["spam_published_rate"] = _rate(ham["spam"], ham["judged"])
        spam["judged"] = spam["approve"] + spam["spam"]
        spam["ham_held_rate"] = _rate(spam["approve"], spam["judged"])
    return {"share": share, "by_site_language": [groups[key] for key in sorted(groups)]}


def stats_answer(depths: Iterable, days: Iterable, audits: Iterable = (), *, now: float,
                 window_days: int, audit_share: float = 0.0) -> dict:
    """The body of ``GET /v1/review/stats`` from the store's
    :class:`~moderation.store.base.QueueDepth`, :class:`~moderation.store.base.DecisionDay`
    and :class:`~moderation.store.base.AuditCount`."""
    sites = []
    for depth in depths:
        oldest = depth.oldest_pending_at
        sites.append({"site": depth.site, "pending": depth.pending, "spam": depth.spam,
                      "oldest_pending_at": iso(oldest) if oldest is not None else None,
                      "oldest_pending_age_seconds": (max(0, round(now - oldest))
                                                     if oldest is not None else None)})
    per_day: dict[int, dict] = {}
    judged = overruled = 0
    for item in days:
        entry = per_day.setdefault(item.day, {"day": day_iso(item.day), "total": 0,
                                              **dict.fromkeys(DECISION_ACTIONS, 0)})
        entry[item.action] = entry.get(item.action, 0) + item.count
        entry["total"] += item.count
        judged += item.judged
        overruled += item.overruled
    return {
        "days": window_days,
        "sites": sites,
        "decisions_per_day": [per_day[d] for d in sorted(per_day)],
        "overrule": {"judged": judged, "overruled": overruled,
                     "rate": round(overruled / judged, 4) if judged else None,
                     "spam_leaning_at": SPAM_LEANING_AT},
        "audit": audit_answer(audits, share=audit_share),
    }
