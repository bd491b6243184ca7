"""Read articles in the shapes news archives export them, one at a time.

- JSON lines (`.jsonl`): one object a line with the article in `text`, and `url` (or `id`),
  `date` (ISO 8601), `title` and `state` when present;
- CSV (`.csv`): a header with a `text` column and the same optional columns;
- anything else: one article per file, its `url` and `date` from a manifest CSV (columns
  file, url, date, and state when present), matched by file name.

An empty or missing date makes an undated article; a date that is not ISO 8601 stops the run
with the file and line, as do a missing text field and an unreadable file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stance.errors import InputFileError
from stance.inputs import open_binary, read_text

_CSV_FIELD_LIMIT = 50_000_000  # a whole article sits in one field


@dataclass(frozen=True)
class Article:
    """One article: its text, where it came from, and what the archive says about it."""

    text: str
    source: str        # the file name, with ":line" for a record of a JSONL or CSV file
    url: str           # url, else id, else the source
    date: dt.date | None
    title: str = ""
    state: str = ""    # a state the archive knows the article is about (postal code or name)


def parse_date(value, where: str) -> dt.date | None:
    """An ISO 8601 date or date-time ("2025-03-21", "2025-03-21T14:05:00Z"); None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InputFileError(f"{where}: date {value!r} is not an ISO 8601 date (YYYY-MM-DD). "
                             "Fix it, or leave it empty for an undated article.")
    text = value.strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        raise InputFileError(f'{where}: date "{text}" is not an ISO 8601 date (YYYY-MM-DD). '
                             "Fix it, or leave it empty for an undated article.") from None


def _record(fields: dict, path: Path, number: int) -> Article:
    where = f"{path} line {number}"
    if "text" not in fields:
        raise InputFileError(f'{where}: no "text" field. Each record needs the article text in "text".')
    text = fields["text"]
    if not isinstance(text, str) or not text.strip():
        raise InputFileError(f'{where}: "text" is empty. Remove the record or give it the article text.')
    url = next((str(fields[k]).strip() for k in ("url", "id") if fields.get(k) not in (None, "")), "")
    source = f"{path.name}:{number}"
    return Article(text, source, url or source, parse_date(fields.get("date"), where),
                   str(fields.get("title") or "").strip(), str(fields.get("state") or "").strip())


def _jsonl(path: Path) -> Iterator[Article]:
    with open_binary(path) as handle:
        for number, raw in enumerate(iter(handle.readline, b""), start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise InputFileError(f"{path} line {number}: not valid UTF-8. Save the file as UTF-8.") from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputFileError(f"{path} line {number}: not valid JSON ({err.msg}).") from None
            if not isinstance(record, dict):
                raise InputFileError(f'{path} line {number}: needs a JSON object with a "text" field.')
            yield _record(record, path, number)


def _csv(path: Path) -> Iterator[Article]:
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    with open_binary(path) as binary:
        stream = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        reader = csv.reader(stream, strict=True)
        last_line = 0
        try:
            header = next(reader, None)
            if not header:
                raise InputFileError(f"{path}: empty file; it needs a header row with a 'text' column.")
            header = [h.strip() for h in header]
            if "text" not in header:
                raise InputFileError(f"{path} line 1: no column 'text' (columns: {', '.join(header)}). "
                                     "Name the article text column 'text'.")
            last_line = reader.line_num
            for values in reader:
                number, last_line = last_line + 1, reader.line_num
                if not values:
                    continue
                if len(values) != len(header):
                    raise InputFileError(f"{path} line {number}: {len(values)} fields where the header has "
                                         f"{len(header)}. Quote any text that contains a comma.")
                yield _record(dict(zip(header, values)), path, number)
        except csv.Error as err:
            raise InputFileError(f"{path} line {reader.line_num}: malformed CSV ({err}).") from None
        except UnicodeDecodeError:
            raise InputFileError(f"{path} line {last_line + 1}: not valid UTF-8. Save the file as UTF-8.") from None


@dataclass(frozen=True)
class ManifestEntry:
    url: str
    date: dt.date | None
    state: str = ""


def read_manifest(path: Path) -> dict[str, ManifestEntry]:
    """file name -> url, date (and state) from a manifest CSV with columns file,url,date[,state]."""
    text = read_text(path, empty_hint="Give a CSV with columns file,url,date.")
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in ("file", "url", "date") if c not in columns]
    if missing:
        raise InputFileError(f"{path} line 1: no column {', '.join(missing)} (columns: {', '.join(columns)}). "
                             "A manifest needs file,url,date.")
    entries = {}
    for row in reader:
        number = reader.line_num
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        if not row.get("file"):
            raise InputFileError(f"{path} line {number}: empty file name.")
        entries[Path(row["file"]).name] = ManifestEntry(row["url"], parse_date(row["date"], f"{path} line {number}"),
                                                        row.get("state", ""))
    return entries


def read_articles(paths: list[Path], manifest: dict[str, ManifestEntry] | None = None) -> Iterator[Article]:
    """Every article of every input, in order, one at a time."""
    for path in paths:
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            yield from _jsonl(path)
        elif suffix == ".csv":
            yield from _csv(path)
        else:
            text = read_text(path, empty_hint="Give an article with text in it.")
            entry = (manifest or {}).get(path.name)
            if entry:
                yield Article(text, path.name, entry.url or path.name, entry.date, "", entry.state)
            else:
                yield Article(text, path.name, path.name, None)
