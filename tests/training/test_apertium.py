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
        head, tail = apertium.split_mode(mode)
        assert head.startswith("apertium-destxt | lt-proc -w ") and head.endswith("apertium-wblank-detach")
        assert tail.startswith("lt-proc -z -n ") and "$" not in head + tail


def test_batches_translate_as_apertium_translates_each_and_a_crashing_batch_is_retried(installed, monkeypatch):
    batches = [["I think the council made the right call.", "Call ZQX0QXZ now to win"],
               [CRASHES_APERTIUM, "Thanks for this."],
               ["Check out my channel", "Great article!", "He said: \"no\". Then he left"]]
    expected = [apertium.run_chain(batch, MODES) for batch in batches]
    assert len(expected[1]) == 2 and expected[1][1]                 # the other line survives the crash
    retried, run_chain = [], apertium.run_chain
    monkeypatch.setattr(apertium, "run_chain",
                        lambda lines, modes: retried.append(list(lines)) or run_chain(lines, modes))
    progress = []
    got = apertium.translate_batches(batches, MODES, workers=2,
                                     on_progress=lambda done, total: progress.append((done, total)))
    assert got == expected
    assert retried[0] == batches[1]                                  # only the crashing batch, whole
    assert all(batch != batches[0] and batch != batches[2] for batch in retried)
    assert progress[-1] == (7, 7) and progress == sorted(progress)


def test_a_mode_that_cannot_be_split_is_run_whole(installed, monkeypatch):
    monkeypatch.setattr(apertium, "split_mode", lambda mode: None)
    batches = [["Thanks for this."], ["Check out my channel"]]
    assert apertium.translate_batches(batches, MODES, workers=2) == [
        apertium.run_chain(batch, MODES) for batch in batches]
