"""Review statistics: queue depth, decisions per day, how often moderators
overrule the model. Pure: shapes what the store counted.

A decision *overrules* the model when the moderator approves a comment the
model leaned spam on (score at decision time >= :data:`SPAM_LEANING_AT`) or
marks spam one it leaned ham on. Only approve and spam decisions on scored
comments are *judged*; a rejection is about tone or topic, not spam.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .decisions import DECISION_ACTIONS
from .views import iso

SPAM_LEANING_AT = 0.5
"""The model leans spam at or above this calibrated probability."""
DEFAULT_DAYS = 30
MAX_DAYS = 365


def day_iso(day: int) -> str:
    """A UTC day number (days since 1970-01-01) as ``YYYY-MM-DD``."""
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def stats_answer(depths: Iterable, days: Iterable, *, now: float, window_days: int) -> dict:
    """The body of ``GET /v1/review/stats`` from the store's
    :class:`~moderation.store.base.QueueDepth` and :class:`~moderation.store.base.DecisionDay`."""
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
    }
