"""Score pending comments again with the current model (after a retrain)."""
from __future__ import annotations

import time

from .domain import Reason, Site, Status
from .policy import decide
from .scoring.model import holder_for
from .scoring.scorer import ScoreRequest, score_batch
from .store.base import Store

BATCH = 256
GUARD_REASONS = {Reason.HONEYPOT.value, Reason.DUPLICATE.value}


async def rescore_pending(store: Store, settings, *, apply: bool) -> tuple[int, int]:
    """Re-score every pending comment; with *apply*, move those the policy now
    decides otherwise (an audit event each). Returns (moved, total)."""
    holder = holder_for(settings)
    bundle = holder.reload()
    sites: dict[int, Site] = {s.id: s for s in await store.list_sites()}
    moved = total = 0
    after = 0
    while True:
        comments = await store.pending_comments(after_id=after, limit=BATCH)
        if not comments:
            return moved, total
        scored = score_batch(bundle, [ScoreRequest(c.body, c.author_name, c.author_email,
                                                   sites[c.site_id].lang) for c in comments])
        for comment, result in zip(comments, scored):
            guard = tuple(Reason(r) for r in comment.reasons if r in GUARD_REASONS)
            decision = decide(sites[comment.site_id], result, guard)   # no audit draw here
            # An audited comment waits for its moderator whatever the new score:
            # the audit measures the model only if every comment drawn is judged.
            # So does one held for a surge (moderation.surge): a new score does
            # not make its author known, nor the surge any calmer.
            audited = (Reason.AUDIT.value in comment.reasons
                       or Reason.SURGE.value in comment.reasons)
            new_status = (decision.status.value
                          if apply and not audited and decision.status is not Status.PENDING else None)
            if await store.rescore(comment.id, spam_score=result.score,
                                   model_version=result.model_version, new_status=new_status,
                                   reasons=[r.value for r in decision.reasons], now=time.time()):
                moved += 1
        total += len(comments)
        after = comments[-1].id
