"""Apertium run in two parts (analysis per batch, generation for many batches)
gives exactly what ``apertium -u`` gives batch by batch."""
from __future__ import annotations

import shutil

import pytest

from moderation.training import apertium
from moderation.training.translate import PIVOTS, ApertiumMissing, check_available

MODES = PIVOTS["fr"]
# A Civil Comments post (CC0) on which eng-cat's postchunk stage crashes.
CRASHES_APERTIUM = ("soros like you is an idiot, the answer is its already proven wrong cause the "
                    "markets are now soaring cause of his election")


@pytest.fixture
def installed():
    if shutil.which("apertium") is None:
        pytest.skip("Apertium is not installed (apt-get install apertium apertium-eng-cat apertium-fra-cat)")
    try:
        check_available("fr")
    except ApertiumMissing as missing:
        pytest.skip(str(missing))


def test_both_french_modes_split_before_their_generator(installed):
    for mode in MODES:
        split = apertium.split_mode(mode)
        assert split.head.startswith("apertium-destxt | lt-proc -w ")
        assert split.head.endswith("apertium-wblank-detach")
        assert split.tail.startswith("lt-proc -n ") and split.tail.endswith(" | apertium-retxt")
        assert split.shared.startswith("lt-proc -z -n ") and "retxt" not in split.shared
        assert "$" not in split.head + split.tail + split.shared


def test_batches_translate_as_apertium_translates_each_even_where_it_crashes(installed, monkeypatch):
    batches = [["I think the council made the right call.", "Call ZQX0QXZ now to win"],
               [CRASHES_APERTIUM, "Thanks for this.", "Great article!"],
               ["Check out my channel", "He said: \"no\". Then he left"],
               ["Merci pour cet article."]]
    expected = [apertium.run_chain(batch, MODES) for batch in batches]
    assert expected[1][0] == "" and expected[1][1]      # the crash costs its own line, not the others
    monkeypatch.setattr(apertium, "run_chain", None)    # never needed where the modes split
    runs, shell = [], apertium._shell
    monkeypatch.setattr(apertium, "_shell", lambda pipeline, text: runs.append(pipeline) or shell(pipeline, text))
    progress = []
    got = apertium.translate_batches(batches, MODES, workers=2,
                                     on_progress=lambda done, total: progress.append((done, total)))
    assert got == expected
    splits = [apertium.split_mode(mode) for mode in MODES]
    heads = sum(runs.count(split.head) for split in splits)
    generators = sum(runs.count(split.shared) + runs.count(split.tail) for split in splits)
    assert heads > len(batches) * len(MODES)            # the crashing batch was retried by halves
    assert generators < heads                           # generation shared between batches
    assert progress[-1] == (8, 8) and progress == sorted(progress)


def test_a_mode_that_cannot_be_split_is_run_whole(installed, monkeypatch):
    monkeypatch.setattr(apertium, "split_mode", lambda mode: None)
    batches = [["Thanks for this."], ["Check out my channel"]]
    calls, run_chain = [], apertium.run_chain
    monkeypatch.setattr(apertium, "run_chain", lambda lines, modes: calls.append(lines) or run_chain(lines, modes))
    assert apertium.translate_batches(batches, MODES, workers=2) == [run_chain(batch, MODES) for batch in batches]
    assert sorted(calls) == sorted(batches)
