"""The hand-written evaluation files in ``bench/data`` read cleanly as ``train.py`` reads
them: no bad rows, one label per file (its name says which), no body twice, the
language of each row given, and each file described in ``bench/data/README.md``."""

from pathlib import Path

import pytest

from moderation.training.readers import read_labelled

DATA = Path(__file__).resolve().parents[2] / "bench" / "data"
FILES = sorted(DATA.glob("*.jsonl"))


def test_the_evaluation_files_are_there():
    assert {path.name for path in FILES} >= {
        "fr_spam_written.jsonl", "fr_informal_written.jsonl", "en_commerce_spam_written.jsonl"}


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_each_file_reads_without_errors_with_one_label_and_no_repeats(path):
    result = read_labelled(path)
    assert result.format == "jsonl" and result.errors == []
    expected = 1 if "spam" in path.stem else 0
    assert result.rows and {row.label for row in result.rows} == {expected}
    bodies = [row.body for row in result.rows]
    assert len(set(bodies)) == len(bodies)
    assert {row.language for row in result.rows} == {path.stem.split("_")[0]}
    assert f"`{path.name}`" in (DATA / "README.md").read_text(encoding="utf-8")
