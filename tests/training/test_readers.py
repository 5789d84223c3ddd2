"""Each reader on small files written here, malformed rows included."""

import json
from pathlib import Path

import pytest

from moderation.training.readers import (
    DataFormatError,
    LabelledRow,
    data_files,
    detect_format,
    parse_label,
    read_labelled,
)

YOUTUBE = (
    "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"
    'id1,Julius NM,2013-11-07T06:20:48,"Huh, check out this channel: kobyoshi02",1\n'
    "id2,adam,2013-11-07T12:37:15,i love this song\ufeff,0\n"
    'id3,multi,,"first line<br />\nsecond line",0\n'  # a quoted field spanning two lines, empty DATE
    "id4,bad class,2014-01-01,some text,2\n"  # line 6
    "id5,too few fields\n"  # line 7
    "id6,empty,2014-01-01,,1\n"  # line 8
    "id7,last,2014-01-01,Subscribe to me!,1\n"
)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_youtube_reader(tmp_path):
    result = read_labelled(_write(tmp_path / "Youtube09-Test.csv", YOUTUBE))
    assert result.format == "youtube"
    assert [row.label for row in result.rows] == [1, 0, 0, 1]
    first = result.rows[0]
    assert first == LabelledRow(
        body="Huh, check out this channel: kobyoshi02",
        label=1,
        author_name="Julius NM",
        language="en",
        site="youtube",
        group="Youtube09-Test",
    )
    assert result.rows[2].body == "first line<br />\nsecond line"
    assert [line for line, _ in result.errors] == [6, 7, 8]
    assert "CLASS" in result.errors[0][1] and "fields" in result.errors[1][1] and "empty" in result.errors[2][1]


def test_youtube_reader_never_reads_the_date(tmp_path):
    with_date = read_labelled(_write(tmp_path / "a.csv", "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\nx,a,2013-01-01,hi,0\n"))
    without = read_labelled(_write(tmp_path / "b.csv", "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\nx,a,,hi,0\n"))
    assert with_date.rows[0] == LabelledRow("hi", 0, "a", language="en", site="youtube", group="a")
    assert without.rows[0] == LabelledRow("hi", 0, "a", language="en", site="youtube", group="b")


def test_sms_reader(tmp_path):
    text = (
        "ham\tGo until jurong point, crazy..\n"
        'spam\tFree entry in 2 a wkly comp "quoted" text 08452810075\n'
        "no tab on this line\n"
        "maybe\tunknown label\n"
        "spam\t\n"
        "\n"
        "ham\tOk lar...\r\n"
    )
    result = read_labelled(_write(tmp_path / "SMSSpamCollection", text))
    assert result.format == "sms"
    assert [(row.label, row.group) for row in result.rows] == [(0, "sms"), (1, "sms"), (0, "sms")]
    assert result.rows[1].body == 'Free entry in 2 a wkly comp "quoted" text 08452810075'
    assert result.rows[2].body == "Ok lar..."
    assert [line for line, _ in result.errors] == [3, 4, 5]


def test_generic_csv_reader(tmp_path):
    text = (
        "body,label,author_name,author_email,language,site,extra\n"
        "Buy now,spam,Bob,bob@x.com,en,blog,whatever\n"
        "Nice post,HAM,,,,,\n"
        "Bon article,0,Marie,,fr,journal,\n"
        "Gagnez,1,,,fr,journal,\n"
        "no label,,,,,,\n"  # line 6
        "bad,maybe,,,,,\n"  # line 7
        ",spam,,,,,\n"  # line 8
        "too,many,fields,,,,,,\n"  # line 9
    )
    result = read_labelled(_write(tmp_path / "labels.csv", text))
    assert result.format == "csv"
    assert [row.label for row in result.rows] == [1, 0, 0, 1]
    assert result.rows[0] == LabelledRow("Buy now", 1, "Bob", "bob@x.com", "en", "blog", "blog")
    assert result.rows[1].group == "labels"  # no site: the file is the group
    assert result.rows[2].language == "fr" and result.rows[2].group == "journal"
    assert [line for line, _ in result.errors] == [6, 7, 8, 9]


def test_generic_csv_needs_body_and_label_columns(tmp_path):
    with pytest.raises(DataFormatError, match="label"):
        read_labelled(_write(tmp_path / "x.csv", "body,author_name\nhello,bob\n"), fmt="csv")


def test_jsonl_reader_accepts_the_service_export(tmp_path):
    lines = [
        {"body": "Merci pour l'article", "label": "ham", "language": "fr", "site": "journal",
         "decided_at": "2026-11-28T10:00:00Z", "model_score": 0.42},
        {"body": "Gagnez un iPhone", "label": "spam", "language": "fr", "site": "journal",
         "decided_at": "2026-11-28T10:01:00Z", "model_score": 0.97},
        {"body": "plain", "label": 1},
    ]
    text = "\n".join(json.dumps(line) for line in lines)
    text += '\n{"body": "broken json"\n["not", "an object"]\n{"body": "x", "label": "maybe"}\n'
    text += '{"label": "ham"}\n{"body": "x", "label": "ham", "site": 5}\n'
    result = read_labelled(_write(tmp_path / "export.jsonl", text))
    assert result.format == "jsonl"
    assert result.rows[0] == LabelledRow("Merci pour l'article", 0, language="fr", site="journal", group="journal")
    assert [row.label for row in result.rows] == [0, 1, 1]
    assert result.rows[2].group == "export"
    assert [line for line, _ in result.errors] == [4, 5, 6, 7, 8]
    assert "JSON" in result.errors[0][1] and "object" in result.errors[1][1]


@pytest.mark.parametrize(
    ("name", "first_line", "expected"),
    [
        ("any.csv", "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS", "youtube"),
        ("SMSSpamCollection", "ham\thello", "sms"),
        ("labels.txt", "label,body,site", "csv"),
        ("export.jsonl", "", "jsonl"),
        ("export.data", '{"body": "x", "label": "ham"}', "jsonl"),
    ],
)
def test_detect_format(tmp_path, name, first_line, expected):
    assert detect_format(_write(tmp_path / name, first_line + "\n")) == expected


def test_unknown_format_and_bad_encoding_are_file_errors(tmp_path):
    with pytest.raises(DataFormatError, match="unknown format"):
        detect_format(_write(tmp_path / "README.md", "# Data\n"))
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(b"body,label\nok,ham\ncaf\xe9,ham\n")
    with pytest.raises(DataFormatError, match=r":3: not UTF-8"):
        read_labelled(latin1)


def test_data_files_expands_directories_and_skips_unreadable_files(tmp_path):
    _write(tmp_path / "SOURCES.md", "# sources\n")
    (tmp_path / "yt").mkdir()
    _write(tmp_path / "yt" / "Youtube01.csv", YOUTUBE)
    _write(tmp_path / "sms.txt", "ham\thi\n")
    (tmp_path / ".hidden").mkdir()
    _write(tmp_path / ".hidden" / "x.jsonl", '{"body": "x", "label": "ham"}\n')
    found = list(data_files([tmp_path]))
    assert found == [(tmp_path / "sms.txt", "sms"), (tmp_path / "yt" / "Youtube01.csv", "youtube")]
    assert list(data_files([tmp_path / "SOURCES.md"])) == [(tmp_path / "SOURCES.md", None)]


@pytest.mark.parametrize(("value", "label"), [("spam", 1), (" Ham ", 0), ("1", 1), ("0", 0), (1, 1), (False, 0)])
def test_parse_label(value, label):
    assert parse_label(value) == label


@pytest.mark.parametrize("value", ["", "2", 2, None, "yes", 0.5])
def test_parse_label_refuses(value):
    with pytest.raises(ValueError):
        parse_label(value)
