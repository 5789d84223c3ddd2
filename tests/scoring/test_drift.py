"""The drift alarm's arithmetic (moderation.scoring.drift): PSI, bins, references, episodes."""
import math
from types import SimpleNamespace

import pytest

from moderation.scoring import drift
from moderation.scoring.drift import (CLEAR_RATIO, END, EPSILON, MODEL, QUIET, SCORE_BINS, SCORE_EDGES,
                                      START, STAY, TRAFFIC, Assessment, Distribution, assess,
                                      distributions, episode_step, excluded_intervals,
                                      language_bins, language_psi, model_reference, psi,
                                      reference_entry, score_bin, traffic_reference)


def test_score_edges_are_ten_bins_even_on_the_logit_scale():
    assert SCORE_BINS == 10 and SCORE_EDGES[0] == 0.0 and SCORE_EDGES[-1] == 1.0
    logits = [math.log(e / (1 - e)) for e in SCORE_EDGES[1:-1]]
    assert logits == pytest.approx([-6, -4.5, -3, -1.5, 0, 1.5, 3, 4.5, 6], abs=1e-3)
    assert SCORE_EDGES[5] == 0.5


def test_score_bin_is_left_closed_and_the_last_bin_holds_one():
    assert score_bin(0.0) == 0
    assert score_bin(SCORE_EDGES[1] - 1e-9) == 0
    assert score_bin(SCORE_EDGES[1]) == 1
    assert score_bin(0.4999) == 4 and score_bin(0.5) == 5
    assert score_bin(0.999) == 9 and score_bin(1.0) == 9


def test_psi_of_identical_distributions_is_zero_and_scale_free():
    assert psi([10, 20, 70], [10, 20, 70]) == 0.0
    assert psi([1, 2, 7], [0.1, 0.2, 0.7]) == pytest.approx(0.0)   # counts against shares


def test_psi_matches_the_formula():
    a, e = [0.5, 0.3, 0.2], [0.3, 0.3, 0.4]
    expected = sum((x - y) * math.log(x / y) for x, y in zip(a, e))
    assert psi(a, e) == pytest.approx(expected)
    assert psi(a, e) == pytest.approx(psi(e, a))      # symmetric
    assert psi(a, e) > 0


def test_an_empty_bin_counts_as_epsilon():
    # 10 % of the window in a bin the reference never had: large, but finite.
    value = psi([90, 10], [100, 0])
    a, e = [0.9, 0.1], [1.0, EPSILON]
    expected = (a[0] - e[0]) * math.log(a[0] / e[0]) + (a[1] - e[1]) * math.log(a[1] / e[1])
    assert value == pytest.approx(expected) and math.isfinite(value)
    assert value > 0.25
    assert psi([0, 0], [1, 1]) > 0            # an empty window: every share at epsilon
    with pytest.raises(ValueError):
        psi([1, 2], [1, 2, 3])


def test_rare_languages_are_pooled_in_other():
    names, a, e = language_bins({"en": 90, "fr": 9, "so": 1}, {"en": 80, "fr": 19, "tl": 1})
    assert names == ["en", "fr", "other"]
    assert a == pytest.approx([0.90, 0.09, 0.01]) and e == pytest.approx([0.80, 0.19, 0.01])
    # Detection noise on a few short texts moves nothing...
    assert language_psi({"en": 196, "so": 2, "tl": 2}, {"en": 195, "af": 3, "cy": 2}) < 0.01
    # ...a new language does.
    assert language_psi({"en": 100, "de": 100}, {"en": 200}) > 1.0


def test_assess_judges_each_signal_only_with_enough_comments():
    window = Distribution(scores=(50,) * 5 + (0,) * 5, languages={"en": 300}, comments=300, scored=250)
    reference = Distribution(scores=(0,) * 5 + (40,) * 5, languages={"en": 900}, comments=900, scored=200)
    judged = assess(window, reference, kind=TRAFFIC, min_comments=200)
    assert judged.score_psi > 5 and judged.language_psi == pytest.approx(0.0)
    assert (judged.reference, judged.comments, judged.scored, judged.reference_comments) == (
        TRAFFIC, 300, 250, 900)
    few_scored = assess(window, reference, kind=TRAFFIC, min_comments=201)
    assert few_scored.score_psi is None and few_scored.language_psi is not None
    nothing = assess(window, reference, kind=MODEL, min_comments=1000)
    assert nothing.judged == [] and nothing.highest is None


def _assessment(score, language=None):
    return Assessment(reference=TRAFFIC, score_psi=score, language_psi=language, comments=1,
                      scored=1, reference_comments=1)


@pytest.mark.parametrize("score, language, is_open, action", [
    (0.30, None, False, START),          # above the threshold: an episode starts
    (0.25, None, False, QUIET),          # at it: not above
    (0.10, 0.26, False, START),          # either signal starts it
    (0.30, None, True, STAY),            # still above
    (0.22, None, True, STAY),            # below the threshold but not below 0.8 of it: hysteresis
    (0.199, 0.05, True, END),            # every PSI below 0.2
    (0.10, 0.21, True, STAY),            # one still above the lower bound
    (None, None, True, STAY),            # nothing judged changes nothing
    (None, None, False, QUIET),
])
def test_episode_hysteresis(score, language, is_open, action):
    assert CLEAR_RATIO == 0.8
    assert episode_step(_assessment(score, language), is_open=is_open, threshold=0.25) == action


def test_an_episode_goes_up_stays_through_the_dead_band_and_ends_below_it():
    psis = [0.05, 0.3, 0.24, 0.21, 0.26, 0.19, 0.24, 0.26]
    actions, is_open = [], False
    for value in psis:
        action = episode_step(_assessment(value), is_open=is_open, threshold=0.25)
        is_open = action in (START, STAY) if is_open else action == START
        actions.append(action)
    assert actions == [QUIET, START, STAY, STAY, STAY, END, QUIET, START]


def _row(current, excluded, score_bin, language, count):
    return SimpleNamespace(current=current, excluded=excluded, score_bin=score_bin,
                           language=language, count=count)


def test_distributions_split_window_kept_and_whole_reference():
    window, kept, whole = distributions([
        _row(True, False, 0, "en", 5), _row(True, False, -1, "fr", 2),
        _row(False, False, 9, "en", 3), _row(False, True, 9, "de", 4), _row(False, False, -1, "en", 1)])
    assert window.scores == (5,) + (0,) * 9 and window.languages == {"en": 5, "fr": 2}
    assert (window.comments, window.scored) == (7, 5)
    assert kept.scores[9] == 3 and kept.languages == {"en": 4} and (kept.comments, kept.scored) == (4, 3)
    assert whole.scores[9] == 7 and whole.languages == {"en": 4, "de": 4}
    assert (whole.comments, whole.scored) == (8, 7)


def test_traffic_reference_leaves_episodes_out_unless_too_little_is_left():
    kept, whole = Distribution(comments=150), Distribution(comments=400)
    assert traffic_reference(kept, whole, 100) is kept
    assert traffic_reference(kept, whole, 200) is whole


def test_excluded_intervals_start_one_window_before_each_episode():
    episodes = [SimpleNamespace(started_at=1000.0, ended_at=1500.0),
                SimpleNamespace(started_at=2000.0, ended_at=None)]
    assert excluded_intervals(episodes, window_seconds=100, until=2600.0) == [
        (900.0, 1500.0), (1900.0, 2600.0)]


def test_reference_entry_round_trips_through_a_manifest():
    scores = [0.001] * 60 + [0.3] * 10 + [0.99] * 30
    languages = ["en"] * 70 + ["fr"] * 30
    entry = reference_entry(scores, languages)
    assert entry["rows"] == 100 and entry["score_edges"] == list(SCORE_EDGES)
    assert sum(entry["score_shares"]) == pytest.approx(1.0)
    assert entry["score_shares"][0] == 0.6 and entry["score_shares"][4] == 0.1
    assert entry["score_shares"][score_bin(0.99)] == 0.3
    assert entry["language_shares"] == {"en": 0.7, "fr": 0.3}
    reference = model_reference({"reference": entry})
    assert reference.comments == reference.scored == 100
    window = Distribution(scores=tuple(round(s * 400) for s in entry["score_shares"]),
                          languages={"en": 280, "fr": 120}, comments=400, scored=400)
    same = assess(window, reference, kind=MODEL, min_comments=100)
    assert same.score_psi == pytest.approx(0.0, abs=1e-9)
    assert same.language_psi == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("manifest", [
    None, {}, {"reference": None}, {"reference": {"rows": 10}},
    {"reference": {**reference_entry([0.1], ["en"]), "score_edges": [0.0, 0.5, 1.0]}},   # other bins
    {"reference": {**reference_entry([0.1], ["en"]), "rows": 0}},
])
def test_a_manifest_without_a_usable_reference_gives_none(manifest):
    assert model_reference(manifest) is None


def test_the_module_is_pure():
    source = drift.__file__
    text = open(source, encoding="utf-8").read()
    for forbidden in ("aiohttp", "store", "asyncio"):
        assert f"import {forbidden}" not in text and f"from {forbidden}" not in text
        assert f"..{forbidden}" not in text
