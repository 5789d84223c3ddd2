"""The model changes log and the comments a shadowed candidate scored."""
from dataclasses import replace

from moderation.domain import Status
from moderation.store.base import DecisionRequest

from .conftest import T0, new_comment


async def test_changes_are_logged_newest_first(store):
    assert await store.model_changes() == []
    first = await store.record_model_change(action="shadow", version="cand-2", previous_version=None,
                                            actor="ops", now=T0)
    second = await store.record_model_change(action="promote", version="cand-2",
                                             previous_version="live-1", actor="ops", now=T0 + 5)
    assert second.id > first.id
    assert await store.model_changes() == [second, first]
    assert await store.model_changes(limit=1) == [second]


async def test_shadow_rows_carry_both_scores_and_the_standing_verdict(store, site):
    def shadowed(body, score, band, **fields):
        return replace(new_comment(site.id, body=body, **fields), shadow_version="cand-2",
                       shadow_score=score, shadow_band=band)

    approved = (await store.insert_comment(shadowed("a", 0.1, "publish"))).comment_id
    marked = (await store.insert_comment(shadowed("b", 0.9, "spam"))).comment_id
    undecided = (await store.insert_comment(shadowed("c", 0.5, "review"))).comment_id
    rejected = (await store.insert_comment(shadowed("d", 0.4, "review"))).comment_id
    await store.insert_comment(new_comment(site.id, body="before shadowing"))        # no shadow
    await store.insert_comment(shadowed("old", 0.2, "publish", created_at=T0 - 100))   # too old
    other = await store.create_site(name="blog", url="u", lang="fr", mode="pre", key_hash="kb", now=T0)
    await store.insert_comment(replace(new_comment(other.id, body="e"), shadow_version="cand-2",
                                       shadow_score=0.3, shadow_band="review"))
    decide = [DecisionRequest(comment_id=i, expected_status="pending", new_status=status,
                              actor="claire", action=action)
              for i, status, action in ((approved, "published", "approve"), (marked, "spam", "spam"),
                                        (rejected, "rejected", "reject"))]
    await store.apply_decisions(decide, now=T0 + 1)
    rows = await store.shadow_rows(shadow_version="cand-2", since=T0, site_id=site.id)
    assert [(r.comment_id, r.shadow_score, r.shadow_band, r.label) for r in rows] == [
        (approved, 0.1, "publish", "ham"), (marked, 0.9, "spam", "spam"),
        (undecided, 0.5, "review", None), (rejected, 0.4, "review", None)]
    assert rows[0].live_score == 0.5 and rows[0].live_version == "toy-1"
    assert len(await store.shadow_rows(shadow_version="cand-2", since=T0)) == 5      # every site
    assert await store.shadow_rows(shadow_version="cand-3", since=0) == []
    assert (await store.get_comment(approved)).status is Status.PUBLISHED
