"""Readers for labelled comment data.

Contract:

- ``read_labelled(path, fmt=None)`` returns a ``ReadResult``: the good rows as
  ``LabelledRow`` (label 1 = spam, 0 = ham) and every bad row as
  ``(line_number, message)``; one bad row never stops the file. A file that is
  not UTF-8 or whose header is unusable raises ``DataFormatError``.
- Formats (``FORMATS``):
  ``youtube``  YouTube Spam Collection CSV ``COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS``;
               DATE and COMMENT_ID are never read; group = file stem (one video).
  ``sms``      SMS Spam Collection, ``ham|spam<TAB>text``, no header, no quoting;
               group = ``sms``.
  ``csv``      header with ``body`` and ``label`` (``spam``/``ham``/``1``/``0``),
               optional ``author_name``, ``author_email``, ``language`` (a hint: the
               language is still detected, as the service does with a site's
               language), ``site``, ``thread`` (rows of one thread are held out
               together).
  ``jsonl``    one object per line with the same keys; unknown keys (the
               service's export adds ``decided_at``, ``model_score``) are ignored.
  For csv and jsonl the group is the row's ``site``, or the file stem without one.
- ``detect_format(path)`` decides from the extension and the first line.
- ``data_files(paths)`` expands directories (recursively, sorted) into the files
  whose format can be detected.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("youtube", "sms", "csv", "jsonl")
YOUTUBE_COLUMNS = ("COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS")
GENERIC_REQUIRED = ("body", "label")
GENERIC_OPTIONAL = ("author_name", "author_email", "language", "site", "thread")
SMS_GROUP = "sms"
COLLECTION_LANGUAGE = "en"
"""The YouTube and SMS collections are English: their rows carry it as a language hint."""
_LABELS = {"spam": 1, "1": 1, "ham": 0, "0": 0}


class DataFormatError(ValueError):
    """The file as a whole cannot be read (encoding, header, unknown format)."""


@dataclass(frozen=True, slots=True)
class LabelledRow:
    body: str
    label: int
    author_name: str = ""
    author_email: str = ""
    language: str = ""
    site: str = ""
    group: str = ""
    thread: str = ""


@dataclass(slots=True)
class ReadResult:
    path: Path
    format: str
    rows: list[LabelledRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DataFormatError(f"{path}:{line}: not UTF-8 ({error.reason})") from None


def _first_line(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.readline(4096)
    return head.decode("utf-8-sig", errors="replace").strip()


def detect_format(path: Path) -> str:
    """One of ``FORMATS`` for ``path``; ``DataFormatError`` when none fits."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    first = _first_line(path)
    if first.startswith("{"):
        return "jsonl"
    header = [name.strip() for name in first.split(",")]
    if tuple(header) == YOUTUBE_COLUMNS:
        return "youtube"
    label, tab, _ = first.partition("\t")
    if tab and label in ("ham", "spam"):
        return "sms"
    if all(column in header for column in GENERIC_REQUIRED):
        return "csv"
    raise DataFormatError(
        f"{path}: unknown format (expected a YouTube Spam Collection CSV, the SMS Spam "
        "Collection, a CSV with body,label columns or JSON lines)"
    )


def data_files(paths: Iterable[Path]) -> Iterator[tuple[Path, str | None]]:
    """Files to read: ``(path, None)`` for given files, ``(path, fmt)`` found in directories.

    Files inside a directory whose format cannot be detected (READMEs, licences)
    are skipped; a file named explicitly is always yielded.
    """
    for path in paths:
        if not path.is_dir():
            yield path, None
            continue
        for child in sorted(path.rglob("*")):
            hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
            if hidden or not child.is_file():
                continue
            try:
                yield child, detect_format(child)
            except (DataFormatError, OSError):
                continue


def parse_label(value: object) -> int:
    """``spam``/``1``/``True`` -> 1 and ``ham``/``0``/``False`` -> 0; ``ValueError`` otherwise."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return value
    if isinstance(value, str) and value.strip().lower() in _LABELS:
        return _LABELS[value.strip().lower()]
    raise ValueError(f"label must be spam/ham or 1/0, got {value!r}")


def _csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """CSV records with the line number each one starts on (fields may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for record in reader:
        yield start, record
        start = reader.line_num + 1


def _read_youtube(path: Path, result: ReadResult) -> None:
    records = _csv_records(_read_text(path))
    header = next(records, (1, []))[1]
    if tuple(name.strip() for name in header) != YOUTUBE_COLUMNS:
        raise DataFormatError(f"{path}:1: header must be {','.join(YOUTUBE_COLUMNS)}")
    author, content, label = (YOUTUBE_COLUMNS.index(name) for name in ("AUTHOR", "CONTENT", "CLASS"))
    for line, record in records:
        if not any(value.strip() for value in record):
            continue
        if len(record) != len(YOUTUBE_COLUMNS):
            result.errors.append((line, f"expected {len(YOUTUBE_COLUMNS)} fields, got {len(record)}"))
            continue
        if record[label].strip() not in ("0", "1"):
            result.errors.append((line, f"CLASS must be 0 or 1, got {record[label]!r}"))
            continue
        if not record[content].strip():
            result.errors.append((line, "empty CONTENT"))
            continue
        result.rows.append(
            LabelledRow(
                body=record[content],
                label=int(record[label]),
                author_name=record[author],
                language=COLLECTION_LANGUAGE,
                site="youtube",
                group=path.stem,
            )
        )


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Numbered lines split on ``\n`` only (texts may contain other separators)."""
    for number, line in enumerate(text.split("\n"), start=1):
        yield number, line.removesuffix("\r")


def _read_sms(path: Path, result: ReadResult) -> None:
    for line, text in _lines(_read_text(path)):
        if not text.strip():
            continue
        label, tab, body = text.partition("\t")
        if not tab:
            result.errors.append((line, "expected label<TAB>text"))
        elif label not in ("ham", "spam"):
            result.errors.append((line, f"label must be ham or spam, got {label!r}"))
        elif not body.strip():
            result.errors.append((line, "empty text"))
        else:
            result.rows.append(
                LabelledRow(body=body, label=_LABELS[label], language=COLLECTION_LANGUAGE,
                            site=SMS_GROUP, group=SMS_GROUP)
            )


def _generic_row(fields: dict, path: Path) -> LabelledRow:
    """A ``LabelledRow`` from a csv/jsonl record; ``ValueError`` says what is wrong."""
    body = fields.get("body")
    if not isinstance(body, str) or not body.strip():
        raise ValueError("missing or empty body")
    label = parse_label(fields.get("label"))
    optional = {}
    for name in GENERIC_OPTIONAL:
        value = fields.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, got {type(value).__name__}")
        optional[name] = value.strip()
    return LabelledRow(body=body, label=label, **optional, group=optional["site"] or path.stem)


def _read_csv(path: Path, result: ReadResult) -> None:
    records = _csv_records(_read_text(path))
    header = [name.strip() for name in next(records, (1, []))[1]]
    missing = [name for name in GENERIC_REQUIRED if name not in header]
    if missing:
        raise DataFormatError(f"{path}:1: header lacks {', '.join(missing)}")
    for line, record in records:
        if not any(value.strip() for value in record):
            continue
        if len(record) != len(header):
            result.errors.append((line, f"expected {len(header)} fields, got {len(record)}"))
            continue
        try:
            result.rows.append(_generic_row(dict(zip(header, record)), path))
        except ValueError as error:
            result.errors.append((line, str(error)))


def _read_jsonl(path: Path, result: ReadResult) -> None:
    for line, text in _lines(_read_text(path)):
        if not text.strip():
            continue
        try:
            fields = json.loads(text)
        except json.JSONDecodeError as error:
            result.errors.append((line, f"invalid JSON: {error.msg}"))
            continue
        if not isinstance(fields, dict):
            result.errors.append((line, "expected a JSON object"))
            continue
        try:
            result.rows.append(_generic_row(fields, path))
        except ValueError as error:
            result.errors.append((line, str(error)))


_READERS = {"youtube": _read_youtube, "sms": _read_sms, "csv": _read_csv, "jsonl": _read_jsonl}


def read_labelled(path: Path, fmt: str | None = None) -> ReadResult:
    """Read one labelled file in ``fmt`` (detected when ``None``)."""
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt not in _READERS:
        raise DataFormatError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    result = ReadResult(path=path, format=fmt)
    _READERS[fmt](path, result)
    return result
