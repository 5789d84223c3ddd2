"""``moderation site thresholds NAME --from-labels``: a site's thresholds chosen
on its own moderators' labels, scored by the model in service."""
import random

import pytest

from moderation.policy import Bands
from moderation.review.site_thresholds import MIN_HAM_LABELS, MIN_SPAM_LABELS, measure
from moderation.training.thresholds import choose_thresholds

from ..toy_model import TOY_VERSION
from .conftest import decided


async def label(store, site_id, scores, action, *, version=TOY_VERSION, language="en"):
    """Comments with those scores, decided *action* (approve or spam) by a moderator."""
    await decided(store, site_id, scores, action, version=version, language=language)


@pytest.fixture
def scores():
    draw = random.Random(7)
    return {"ham": [round(draw.betavariate(2, 8), 4) for _ in range(MIN_HAM_LABELS)],
            "spam": [round(draw.betavariate(8, 2), 4) for _ in range(MIN_SPAM_LABELS)]}


async def test_refused_below_the_minimum_then_chosen_and_stored(desk, run_cli, capsys, scores):
    store = desk.store
    await label(store, desk.site_id, scores["ham"][:-1], "approve")
    await label(store, desk.site_id, scores["spam"], "spam")
    # Labels that must not count: another model's scale, a language the model does not
    # decide, another site, a rejection.
    await label(store, desk.site_id, [0.99] * 5, "approve", version="toy-19990101T000000Z")
    await label(store, desk.site_id, [0.99] * 5, "approve", language="fr")
    await label(store, desk.other_site_id, [0.1] * 5, "approve")
    capsys.readouterr()

    assert await run_cli("site", "thresholds", "journal", "--from-labels") == 1
    refusal = capsys.readouterr().err
    assert "199 ham and 50 spam" in refusal and "at least 200 ham and 50 spam" in refusal
    site = await store.site_by_name("journal")
    assert (site.approve_below, site.reject_above) == (None, None)

    await label(store, desk.site_id, scores["ham"][-1:], "approve")
    labels = [0] * len(scores["ham"]) + [1] * len(scores["spam"])
    expected = choose_thresholds(scores["ham"] + scores["spam"], labels, 0.01, 0.04)
    assert await run_cli("site", "thresholds", "journal", "--from-labels", "--dry-run",
                         "--max-ham-to-spam", "0.01", "--max-spam-published", "0.04") == 0
    shown = capsys.readouterr().out
    assert "200 ham and 50 spam labels scored by model " + TOY_VERSION in shown
    assert "5 more in languages the model does not decide" in shown
    assert "in effect (model)" in shown and "chosen from labels" in shown
    assert f"{expected.approve_below:.4f}" in shown and f"{expected.reject_above:.4f}" in shown
    assert "dry run: nothing stored" in shown
    site = await store.site_by_name("journal")
    assert (site.approve_below, site.reject_above) == (None, None)

    assert await run_cli("site", "thresholds", "journal", "--from-labels",
                         "--max-ham-to-spam", "0.01", "--max-spam-published", "0.04") == 0
    site = await store.site_by_name("journal")
    assert (site.approve_below, site.reject_above) == (expected.approve_below, expected.reject_above)
    # The rates printed are those the stored thresholds give on these labels.
    rows = await store.scored_labels(site.id, model_version=TOY_VERSION)
    rates = measure([r for r in rows if r.language == "en"],
                    lambda _: Bands(site.approve_below, site.reject_above))
    assert rates.ham_held <= 0.01 and rates.spam_published <= 0.04
    [chosen] = [line for line in capsys.readouterr().out.splitlines()
                if line.startswith("chosen from labels")]
    assert chosen.split()[-3:] == [f"{rates.ham_held:.2%}", f"{rates.spam_published:.2%}",
                                   f"{rates.review:.2%}"]
    # Now in effect: the same rates on the same labels.
    assert await run_cli("site", "thresholds", "journal", "--from-labels", "--dry-run",
                         "--max-ham-to-spam", "0.01", "--max-spam-published", "0.04") == 0
    [current] = [line for line in capsys.readouterr().out.splitlines()
                 if line.startswith("in effect (site)")]
    assert current.split()[-3:] == chosen.split()[-3:]
    # The other site's thresholds are untouched.
    blog = await store.site_by_name("blog")
    assert (blog.approve_below, blog.reject_above) == (None, None)


async def test_bad_arguments(desk, run_cli, capsys):
    assert await run_cli("site", "thresholds", "nowhere", "--from-labels") == 1
    assert await run_cli("site", "thresholds", "journal", "--from-labels",
                         "--approve-below", "0.2") == 2
    assert await run_cli("site", "thresholds", "journal", "--dry-run") == 2
    assert await run_cli("site", "thresholds", "journal", "--from-labels",
                         "--max-ham-to-spam", "1.5") == 2
    assert await run_cli("site", "thresholds", "journal", "--from-labels") == 1   # no labels yet
    assert "0 ham and 0 spam" in capsys.readouterr().err
