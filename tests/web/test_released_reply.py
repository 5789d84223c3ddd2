"""The moderator page of a reply published with its parent (audit action
``release`` by ``system``, reason ``parent_pending``)."""
import time

from moderation.domain import Reason
from moderation.store.base import DecisionRequest

from .conftest import desk, seed, signed_in_page  # noqa: F401  (fixture)


async def test_a_released_reply_shows_its_history(desk):
    parent = await seed(desk.store, desk.site_id, thread="t")
    reply = await seed(desk.store, desk.site_id, thread="t", parent_id=parent,
                       reasons=(Reason.MODEL_HAM, Reason.PARENT_PENDING))
    await desk.store.apply_decisions(
        [DecisionRequest(parent, "pending", "published", "claire", "approve")], now=time.time())
    html, _ = await signed_in_page(desk.client, desk.claire, f"/moderate/comments/{reply}")
    assert "system" in html and f"#{parent}" in html
