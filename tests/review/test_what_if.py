"""``moderation thresholds what-if``: a site's labelled history replayed through
its stored scores, for the thresholds in effect, proposed ones and those that
would meet the budgets."""
import json
import random
import sqlite3
from types import SimpleNamespace

import pytest

from moderation.cli_thresholds import current_model_manifest, model_bands
from moderation.config import load_settings
from moderation.policy import Bands
from moderation.review.site_thresholds import MIN_HAM_LABELS, MIN_SPAM_LABELS
from moderation.review.what_if import (Share, check_thresholds, proposed_bands, replay, sweep,
                                       wilson_interval)
from moderation.training.thresholds import choose_thresholds

from ..toy_model import TOY_VERSION
from .conftest import decided


def test_wilson_interval_known_values():
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(10, 10)[1] == 1.0 and wilson_interval(10, 10)[0] == pytest.approx(0.7225, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)   # nothing known
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
    # More of the same evidence, a narrower interval around the same share.
    small, large = wilson_interval(2, 100), wilson_interval(20, 1000)
    assert large[1] - large[0] < small[1] - small[0]


def label(score, kind, language="en", audited=False):
    return SimpleNamespace(score=score, label=kind, language=language, audited=audited)


def test_replay_counts_each_band_by_the_language_s_thresholds():
    labels = [label(0.05, "ham"), label(0.5, "ham"), label(0.95, "ham"),
              label(0.05, "spam"), label(0.5, "spam"), label(0.95, "spam"),
              label(0.5, "ham", language="fr")]
    bands = {"en": Bands(0.1, 0.9), "fr": Bands(0.6, 0.9)}
    outcome = replay(labels, bands.__getitem__)
    assert (outcome.ham_held.count, outcome.ham_held.total) == (1, 4)
    assert (outcome.spam_published.count, outcome.spam_published.total) == (1, 3)
    # review: en 0.5 ham, en 0.5 spam (fr 0.5 is published by fr's 0.6)
    assert (outcome.review.count, outcome.review.total) == (2, 7)
    assert Share(1, 4).describe() == "25.0% (1/4) [4.6%-69.9%]"


def test_proposed_thresholds_replace_only_what_is_given_and_are_checked():
    current = {"en": Bands(0.1, 0.9), "fr": Bands(0.3, 0.8)}.__getitem__
    only_low = proposed_bands(current, 0.2, None)
    assert only_low("en") == Bands(0.2, 0.9) and only_low("fr") == Bands(0.2, 0.8)
    assert check_thresholds(0.2, None, current, ["en", "fr"]) is None
    assert "would be above" in check_thresholds(0.85, None, current, ["en", "fr"])   # fr: 0.85 > 0.8
    assert "[0, 1]" in check_thresholds(None, 1.5, current, ["en"])
    assert "[0, 1]" in check_thresholds(-0.1, None, current, ["en"])


def test_sweep_matches_replay_at_each_grid_point():
    draw = random.Random(3)
    labels = [label(round(draw.random(), 3), draw.choice(["ham", "spam"])) for _ in range(300)]
    curves = sweep(labels, points=11)
    for x, ham_held, spam_published in zip(curves.grid, curves.ham_held, curves.spam_published):
        outcome = replay(labels, lambda _: Bands(x, x))
        assert ham_held == pytest.approx(outcome.ham_held.rate)
        assert spam_published == pytest.approx(outcome.spam_published.rate)


def database_dump(url: str) -> list[str]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        return list(connection.iterdump())


async def test_what_if_replays_labels_reads_only_and_draws_the_trade_off(
        desk, run_cli, capsys, tmp_path, settings_for):
    store = desk.store
    draw = random.Random(11)
    ham = [round(draw.betavariate(2, 8), 4) for _ in range(MIN_HAM_LABELS)]
    spam = [round(draw.betavariate(8, 2), 4) for _ in range(MIN_SPAM_LABELS)]
    await decided(store, desk.site_id, ham, "approve")
    await decided(store, desk.site_id, spam, "spam")
    await decided(store, desk.site_id, [0.02, 0.03, 0.5], "approve", audited=True)
    await decided(store, desk.site_id, [0.04], "spam", audited=True)
    await decided(store, desk.other_site_id, [0.99] * 4, "approve")           # another site
    settings = settings_for()
    bands = model_bands(current_model_manifest(load_settings(
        {"MODERATION_MODEL_DIR": settings.model_dir})))("en")
    before = database_dump(settings.database_url)
    capsys.readouterr()

    plot = tmp_path / "what-if.png"
    assert await run_cli("thresholds", "what-if", "--site", "journal", "--approve-below", "0.2",
                         "--reject-above", "0.7", "--plot", str(plot), "--json") == 0
    answer = json.loads(capsys.readouterr().out)
    every_ham, every_spam = ham + [0.02, 0.03, 0.5], spam + [0.04]

    def expect(low, high):
        return {"ham_held_as_spam": (sum(s >= high for s in every_ham), len(every_ham)),
                "spam_published": (sum(s < low for s in every_spam), len(every_spam)),
                "review": (sum(low <= s < high for s in every_ham + every_spam),
                           len(every_ham) + len(every_spam))}

    def counts(row):
        return {name: (row[name]["count"], row[name]["total"])
                for name in ("ham_held_as_spam", "spam_published", "review")}

    current, proposed, suggested = answer["thresholds"]
    assert (answer["labels"], answer["ham"], answer["spam"], answer["audited"]) == (254, 203, 51, 4)
    assert counts(current) == expect(bands.approve_below, bands.reject_above)
    assert counts(proposed) == expect(0.2, 0.7)
    chosen = choose_thresholds(every_ham + every_spam, [0] * 203 + [1] * 51, 0.005, 0.02)
    assert answer["suggested"] == {"approve_below": chosen.approve_below,
                                   "reject_above": chosen.reject_above}
    assert counts(suggested) == expect(chosen.approve_below, chosen.reject_above)
    assert suggested["ham_held_as_spam"]["rate"] <= 0.005
    assert suggested["spam_published"]["rate"] <= 0.02
    low, high = proposed["review"]["ci95"]
    assert low <= proposed["review"]["rate"] <= high
    # The audit sample alone: 3 ham (one at 0.5) and 1 spam at 0.04.
    audit_proposed = answer["audit_sample"][1]
    assert (audit_proposed["spam_published"]["count"], audit_proposed["spam_published"]["total"]) == (1, 1)
    assert (audit_proposed["review"]["count"], audit_proposed["review"]["total"]) == (1, 4)

    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000
    assert database_dump(settings.database_url) == before   # read-only

    assert await run_cli("thresholds", "what-if", "--site", "journal", "--reject-above", "0.7") == 0
    table = capsys.readouterr().out
    assert "254 labels scored by model " + TOY_VERSION in table and "4 from the audit sample" in table
    assert "in effect (model)" in table and "proposed" in table and "meets the budgets" in table
    assert "audit sample alone (4 labels)" in table
    assert f"{expect(bands.approve_below, 0.7)['review'][0]}/254" in table


async def test_what_if_with_few_labels_shows_the_table_but_suggests_nothing(desk, run_cli, capsys):
    await decided(desk.store, desk.site_id, [0.1, 0.2, 0.95], "approve")
    await decided(desk.store, desk.site_id, [0.97], "spam")
    capsys.readouterr()
    assert await run_cli("thresholds", "what-if", "--site", "journal", "--approve-below", "0.15") == 0
    shown = capsys.readouterr().out
    assert "no thresholds suggested: 3 ham and 1 spam labels" in shown
    assert f"needs {MIN_HAM_LABELS} ham and {MIN_SPAM_LABELS} spam" in shown
    assert "meets the budgets" not in shown and "proposed" in shown


async def test_what_if_refuses_bad_arguments_and_no_labels(desk, run_cli, capsys):
    assert await run_cli("thresholds", "what-if", "--site", "nowhere") == 1
    assert "no site named 'nowhere'" in capsys.readouterr().err
    assert await run_cli("thresholds", "what-if", "--site", "journal") == 1
    assert "no moderator labels" in capsys.readouterr().err
    await decided(desk.store, desk.site_id, [0.1], "approve")
    assert await run_cli("thresholds", "what-if", "--site", "journal", "--reject-above", "1.5") == 2
    assert "[0, 1]" in capsys.readouterr().err
    assert await run_cli("thresholds", "what-if", "--site", "journal", "--approve-below", "0.6",
                         "--reject-above", "0.4") == 2
    assert "would be above" in capsys.readouterr().err
    assert await run_cli("thresholds", "what-if", "--site", "journal", "--max-ham-to-spam", "1") == 2
