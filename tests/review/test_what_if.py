"""``moderation thresholds what-if``: a site's labelled history replayed through
its stored scores, for the thresholds in effect, proposed ones and those that
would meet the budgets."""
import hashlib
import json
import math
import random
import sqlite3
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from moderation.cli_thresholds import current_model_manifest, model_bands
from moderation.config import load_settings
from moderation.policy import Bands
from moderation.review.site_thresholds import MIN_HAM_LABELS, MIN_SPAM_LABELS, propose
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
    assert Share(0, 0).describe() == "n/a (0/0)"


def test_proposed_thresholds_replace_only_what_is_given_and_are_checked():
    current = {"en": Bands(0.1, 0.9), "fr": Bands(0.3, 0.8)}.__getitem__
    only_low = proposed_bands(current, 0.2, None)
    assert only_low("en") == Bands(0.2, 0.9) and only_low("fr") == Bands(0.2, 0.8)
    assert check_thresholds(0.2, None, current, ["en", "fr"]) is None
    assert "would be above" in check_thresholds(0.85, None, current, ["en", "fr"])   # fr: 0.85 > 0.8
    assert "[0, 1]" in check_thresholds(None, 1.5, current, ["en"])
    assert "[0, 1]" in check_thresholds(-0.1, None, current, ["en"])
    assert "[0, 1]" in check_thresholds(float("nan"), None, current, ["en"])
    # Both given: crossed whatever the languages (even before any label is read).
    assert "above --reject-above" in check_thresholds(0.6, 0.4, current, [])
    assert check_thresholds(0.4, 0.4, current, ["en"]) is None   # no review band is allowed


def test_the_suggestion_meets_the_budgets_with_the_smallest_review_share():
    draw = random.Random(5)
    labels = ([label(round(draw.betavariate(2, 6), 4), "ham") for _ in range(400)]
              + [label(round(draw.betavariate(6, 2), 4), "spam") for _ in range(100)])
    chosen = propose(labels, lambda _: Bands(0.1, 0.9), max_ham_to_spam=0.005,
                     max_spam_published=0.02).chosen
    outcome = replay(labels, lambda _: chosen)
    assert outcome.ham_held.count <= 2 and outcome.spam_published.count <= 2   # 0.5 % of 400, 2 % of 100
    # Any narrower band breaks a budget: a step inwards on either side lets one more error through.
    scores = sorted({row.score for row in labels})
    higher_low = min(s for s in scores if s >= chosen.approve_below)
    lower_high = max(s for s in scores if s < chosen.reject_above)
    if chosen.approve_below < chosen.reject_above:
        assert replay(labels, lambda _: Bands(higher_low + 1e-9, chosen.reject_above)
                      ).spam_published.count > 2
        assert replay(labels, lambda _: Bands(chosen.approve_below, lower_high)).ham_held.count > 2


def test_sweep_matches_replay_at_each_grid_point():
    draw = random.Random(3)
    labels = [label(round(draw.random(), 3), draw.choice(["ham", "spam"])) for _ in range(300)]
    anchor = Bands(0.25, 0.65)
    curves = sweep(labels, anchor, points=11)
    assert curves.anchor == anchor
    for i, x in enumerate(curves.grid):
        outcome = replay(labels, lambda _: Bands(x, x))
        assert curves.ham_held[i] == pytest.approx(outcome.ham_held.rate)
        assert curves.spam_published[i] == pytest.approx(outcome.spam_published.rate)
        if x <= anchor.reject_above:
            moved = replay(labels, lambda _: Bands(x, anchor.reject_above))
            assert curves.review_moving_approve[i] == pytest.approx(moved.review.rate)
        else:
            assert math.isnan(curves.review_moving_approve[i])
        if x >= anchor.approve_below:
            moved = replay(labels, lambda _: Bands(anchor.approve_below, x))
            assert curves.review_moving_reject[i] == pytest.approx(moved.review.rate)
        else:
            assert math.isnan(curves.review_moving_reject[i])


def database_dump(url: str) -> list[str]:
    connection = sqlite3.connect(f"{Path(url.removeprefix('sqlite:///')).absolute().as_uri()}?mode=ro",
                                 uri=True)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def database_files(url: str) -> dict[str, tuple[str, int]]:
    """sha256 and mtime (ns) of the database file and its WAL, as they are on disk."""
    path = Path(url.removeprefix("sqlite:///"))
    return {candidate.name: (hashlib.sha256(candidate.read_bytes()).hexdigest(),
                             candidate.stat().st_mtime_ns)
            for candidate in (path, path.with_name(path.name + "-wal")) if candidate.exists()}


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
    before, files_before = database_dump(settings.database_url), database_files(settings.database_url)
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
    assert database_files(settings.database_url) == files_before   # read-only: not a byte written
    assert database_dump(settings.database_url) == before

    assert await run_cli("thresholds", "what-if", "--site", "journal", "--reject-above", "0.7") == 0
    table = capsys.readouterr().out
    assert "254 labels scored by model " + TOY_VERSION in table
    assert "4 from the audit sample, 250 from review" in table
    assert "in effect (model)" in table and "proposed" in table and "meets the budgets" in table
    assert "audit sample alone (4 labels)" in table
    assert f"{expect(bands.approve_below, 0.7)['review'][0]}/254" in table


async def test_what_if_with_few_labels_shows_the_table_but_refuses_a_suggestion(
        desk, run_cli, capsys):
    await decided(desk.store, desk.site_id, [0.1, 0.2, 0.95], "approve")
    await decided(desk.store, desk.site_id, [0.97], "spam")
    capsys.readouterr()
    assert await run_cli("thresholds", "what-if", "--site", "journal", "--approve-below", "0.15") == 2
    shown = capsys.readouterr()
    assert "meets the budgets" not in shown.out and "proposed" in shown.out
    assert "0.0% (0/1) [0.0%-79.3%]" in shown.out   # spam published, proposed: the 0.97 is not
    refusal = [line for line in shown.err.splitlines() if not line.startswith("database: ")]
    assert refusal == [
        f"moderation: no thresholds suggested for site journal: 3 ham and 1 spam labels, at least "
        f"{MIN_HAM_LABELS} ham and {MIN_SPAM_LABELS} spam are needed "
        f"({MIN_HAM_LABELS - 3} more ham and {MIN_SPAM_LABELS - 1} more spam)"]
    assert await run_cli("thresholds", "what-if", "--site", "journal", "--json") == 2
    shown = capsys.readouterr()
    answer = json.loads(shown.out)
    assert answer["suggested"] is None and [row["name"] for row in answer["thresholds"]] == [
        "in effect (model)"]
    assert answer["suggestion_needs"] == {"ham": MIN_HAM_LABELS, "spam": MIN_SPAM_LABELS}
    assert "no thresholds suggested" in shown.err


async def test_what_if_refuses_labels_of_one_class_only(desk, run_cli, capsys):
    await decided(desk.store, desk.site_id, [0.1, 0.2], "approve")
    capsys.readouterr()
    assert await run_cli("thresholds", "what-if", "--site", "journal", "--json") == 2
    shown = capsys.readouterr()
    assert shown.out == ""
    assert "has 2 ham and 0 spam labels" in shown.err and "at least 1 of each" in shown.err


async def test_what_if_plot_needs_matplotlib_and_a_writable_path(desk, run_cli, capsys, tmp_path,
                                                                  monkeypatch):
    await decided(desk.store, desk.site_id, [0.1, 0.2], "approve")
    await decided(desk.store, desk.site_id, [0.9], "spam")
    capsys.readouterr()
    assert await run_cli("thresholds", "what-if", "--site", "journal", "--plot",
                         str(tmp_path / "no-such-folder" / "out.png")) == 1
    assert "cannot write the plot" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)   # as if not installed
    assert await run_cli("thresholds", "what-if", "--site", "journal", "--plot",
                         str(tmp_path / "out.png")) == 1
    assert "pip install 'moderation[train]'" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


async def test_what_if_refuses_bad_arguments_and_no_labels(desk, run_cli, capsys):
    assert await run_cli("thresholds", "what-if", "--site", "nowhere") == 1
    assert "no site named 'nowhere'" in capsys.readouterr().err
    assert await run_cli("thresholds", "what-if", "--site", "journal") == 2
    assert "has 0 ham and 0 spam labels" in capsys.readouterr().err
    await decided(desk.store, desk.site_id, [0.1], "approve")
    assert await run_cli("thresholds", "what-if", "--site", "journal", "--reject-above", "1.5") == 2
    assert "[0, 1]" in capsys.readouterr().err
    assert await run_cli("thresholds", "what-if", "--site", "journal", "--approve-below", "0.6",
                         "--reject-above", "0.4") == 2
    assert "is above --reject-above" in capsys.readouterr().err
    assert await run_cli("thresholds", "what-if", "--site", "journal", "--approve-below", "0.99") == 2
    assert "would be above" in capsys.readouterr().err   # the toy model's reject_above is lower
    with pytest.raises(SystemExit) as refused:   # argparse's own refusal
        await run_cli("thresholds", "what-if", "--site", "journal", "--approve-below", "x")
    assert refused.value.code == 2 and "invalid float value: 'x'" in capsys.readouterr().err
    assert await run_cli("thresholds", "what-if", "--site", "journal", "--max-ham-to-spam", "1") == 2
