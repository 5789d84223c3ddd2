"""load_dataset: fingerprints, deduplication before any split, languages as the service computes them."""

import hashlib

import numpy as np

from moderation.scoring.language import detect_language
from moderation.training.dataset import deduplicate, load_dataset
from moderation.training.readers import LabelledRow


def test_deduplicate_keeps_the_first_copy_and_drops_conflicts():
    rows = [
        LabelledRow("Great song", 0, group="a"),
        LabelledRow("Buy now", 1, group="a"),
        LabelledRow("Great  song<br />", 0, group="b"),  # same text after normalization
        LabelledRow("Call me", 1, group="a"),
        LabelledRow("Call me", 0, group="b"),  # copies disagree: both go
        LabelledRow("great song", 0, group="b"),  # case differs: not a duplicate
    ]
    kept, duplicates, conflicting = deduplicate(rows)
    assert [row.body for row in kept] == ["Great song", "Buy now", "great song"]
    assert kept[0].group == "a"
    assert (duplicates, conflicting) == (1, 2)


def test_load_dataset_reads_fingerprints_and_tags_languages(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    youtube = data / "Youtube05-Shakira.csv"
    youtube.write_text(
        "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"
        "a,x,,Check out my channel for free music videos every day,1\n"
        "b,y,,This song is wonderful and the video is beautiful too,0\n"
        "c,z,,This song is wonderful and the video is beautiful too,0\n"
        "d,w,,bad,7\n",
        encoding="utf-8",
    )
    export = data / "export.jsonl"
    export.write_text(
        '{"body": "Super article, merci beaucoup pour ces explications", "label": "ham", "language": "fr", '
        '"site": "journal"}\n{"body": "ok", "label": "spam"}\n',
        encoding="utf-8",
    )
    (data / "README.md").write_text("not data\n")
    dataset = load_dataset([data])

    assert [source.path for source in dataset.sources] == [str(youtube), str(export)]
    first = dataset.sources[0]
    assert first.sha256 == hashlib.sha256(youtube.read_bytes()).hexdigest()
    assert (first.rows, first.bad_rows, first.errors[0][0]) == (3, 1, 5)
    assert dataset.rows_read == 5 and dataset.duplicates_removed == 1 and len(dataset) == 4
    assert dataset.labels.tolist() == [1, 0, 0, 1]
    assert dataset.groups.tolist() == ["Youtube05-Shakira", "Youtube05-Shakira", "journal", "export"]
    languages = [item.language for item in dataset.inputs]
    assert languages[2] == "fr"  # given by the file
    assert languages[0] == detect_language(dataset.inputs[0].body)  # computed like the service
    assert languages[3] == "unknown"  # too short
    inputs, labels = dataset.subset(dataset.groups == "journal")
    assert [item.body for item in inputs] == ["Super article, merci beaucoup pour ces explications"]
    assert labels.tolist() == [0]
    assert dataset.group_formats == {"Youtube05-Shakira": "youtube", "journal": "jsonl", "export": "jsonl"}
    assert isinstance(dataset.labels, np.ndarray)
