"""Read the user's files: open and decode them, and yield the texts of .txt, .csv and .jsonl
inputs, turning OS, encoding and format failures into one-line errors that name the file, the
line and the fix.

Inputs are read lazily, so memory stays flat however long a file is, and standard input is read
line by line so each result can be written as soon as its line arrives.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from stance.errors import InputFileError, StanceError


@dataclass(frozen=True)
class Item:
    """One text to classify, and where it came from (for error messages: "file line N")."""

    text: str
    where: str


UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")  # the byte-order marks of UTF-16 (and of UTF-32 little-endian)
LOOKS_LIKE_UTF16 = "looks like UTF-16 (NUL bytes between the characters). Save the file as UTF-8."


def check_encodable(text: str, where: str, error: type[StanceError] = InputFileError,
                    advice: str = "Give the text in UTF-8.") -> str:
    """`text`, if it can be written as UTF-8; else `error` naming `where`, ending with `advice`.
    Python hands undecodable bytes of arguments and file names over as lone surrogates, and JSON
    can spell one ("\\ud800"): none is a character, and writing one out would fail."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise error(f"{where}: not valid UTF-8 ({ascii(text[err.start])} at character {err.start + 1} is "
                    f"not a character). {advice}") from None
    return text


def open_binary(path: Path, error: type[InputFileError] = InputFileError, missing_hint: str = "Check the path."):
    """Open a file for reading bytes; raise `error` naming the file when it cannot be."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise error(f"{path}: no such file. {missing_hint}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a file.") from None
    except OSError as err:
        raise error(f"{path}: cannot be read ({err.strerror}).") from None


def read_text(path: Path, error: type[InputFileError] = InputFileError, missing_hint: str = "Check the path.",
              empty_hint: str = "") -> str:
    """A whole file as UTF-8 text (a byte-order mark is dropped); raise `error` naming the file and
    line when it is missing, unreadable, not UTF-8 or empty."""
    return read_bytes_and_text(path, error, missing_hint, empty_hint)[1]


def read_bytes_and_text(path: Path, error: type[InputFileError] = InputFileError, missing_hint: str = "Check the path.",
                        empty_hint: str = "") -> tuple[bytes, str]:
    """`read_text`, with the bytes that were decoded (to hash exactly what was parsed)."""
    with open_binary(path, error, missing_hint) as handle:
        try:
            raw = handle.read()
        except OSError as err:
            raise error(f"{path}: cannot be read ({err.strerror}).") from None
    if raw[:2] in UTF16_MARKS or (len(raw) >= 4 and raw.count(b"\x00") >= len(raw) // 4):
        raise error(f"{path} line 1: {LOOKS_LIKE_UTF16}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise error(f"{path} line {line}: not valid UTF-8 (byte {raw[err.start]:#04x}). Save the file as UTF-8.") from None
    if not text.strip():
        raise error(f"{path}: the file is empty. {empty_hint}".rstrip())
    return raw, text


def check_header(header: list[str], name: str, error: type[InputFileError] = InputFileError) -> None:
    """A CSV header names each column once: with a name twice, readers would disagree on which to use."""
    seen: dict[str, int] = {}
    for position, column in enumerate(header, start=1):
        if column in seen:
            raise error(f"{name} line 1: column {column!r} appears twice (columns {seen[column]} and {position}). "
                        "Rename or remove one.")
        seen[column] = position


def csv_error(name: str, line: int, err: Exception) -> str:
    """The message for a csv.Error, with the fix where one is known."""
    if "field larger than field limit" in str(err):
        return (f"{name} line {line}: a field is longer than {csv.field_size_limit():,} characters, which is more "
                "than a sentence; check for an unclosed quote (\") that runs to the end of the file.")
    return f"{name} line {line}: malformed CSV ({err})."


def _check_text(text, where: str) -> str:
    if not isinstance(text, str):
        raise InputFileError(f"{where}: text is {type(text).__name__}, not a string.")
    if not text.strip():
        raise InputFileError(f"{where}: empty sentence. Remove the row or give it text.")
    return check_encodable(text, where)


def _lines(handle, name: str) -> Iterator[tuple[int, str]]:
    """Decode a binary stream line by line, so an encoding error names its own line and a pipe
    is answered as soon as each line arrives."""
    return _decode(enumerate(iter(handle.readline, b""), start=1), name)


def _decode(numbered, name: str) -> Iterator[tuple[int, str]]:
    """(line number, bytes) pairs decoded as UTF-8, the error naming its line."""
    for number, raw in numbered:
        # UTF-16 splits into "lines" that decode as UTF-8 with a NUL between the characters
        if (number == 1 and raw[:2] in UTF16_MARKS) or b"\x00" in raw:
            raise InputFileError(f"{name} line {number}: {LOOKS_LIKE_UTF16}")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputFileError(f"{name} line {number}: not valid UTF-8. Save the file as UTF-8.") from None
        yield number, line.lstrip("\ufeff") if number == 1 else line


def read_txt(handle, name: str) -> Iterator[Item]:
    """One sentence a line; blank lines are skipped."""
    return _txt_items(_lines(handle, name), name)


def _txt_items(lines, name: str) -> Iterator[Item]:
    for number, line in lines:
        text = line.rstrip("\r\n")
        if text.strip():
            yield Item(text, f"{name} line {number}")


def read_jsonl(handle, name: str) -> Iterator[Item]:
    """One JSON object a line, with the text in field `text`."""
    return _jsonl_items(_lines(handle, name), name)


def _jsonl_items(lines, name: str) -> Iterator[Item]:
    for number, line in lines:
        if not line.strip():
            continue
        where = f"{name} line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputFileError(f"{where}: not valid JSON ({err.msg}).") from None
        except RecursionError:
            raise InputFileError(f"{where}: JSON nested too deeply; give one flat object per line.") from None
        except ValueError as err:  # a number of more than 4,300 digits
            raise InputFileError(f"{where}: not usable JSON ({err}).") from None
        if not isinstance(record, dict) or "text" not in record:
            raise InputFileError(f'{where}: needs a JSON object with a "text" field.')
        yield Item(_check_text(record["text"], where), where)


_NEUTRALISED = ("'=", "'+", "'-", "'@", "'\t", "'\r")


def unneutralise(value: str) -> str:
    """Undo stance.outputs.neutralise: the apostrophe that kept a spreadsheet from reading a cell
    as a formula is not part of the text."""
    return value[1:] if value.startswith(_NEUTRALISED) else value


def read_csv(handle, name: str, column: str) -> Iterator[Item]:
    """CSV with a header; the text in `column`."""
    numbered = _lines(handle, name)
    line_of_row = [0]

    def source():
        for number, line in numbered:
            line_of_row[0] = number
            yield line

    reader = csv.reader(source(), strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise InputFileError(f"{name}: empty file; it needs a header row with a {column!r} column.")
        header = [h.strip() for h in header]
        check_header(header, name)
        if column not in header:
            raise InputFileError(f"{name} line 1: no column {column!r} (columns: {', '.join(header)}). "
                                 "Name the text column with --text-column.")
        position = header.index(column)
        start = line_of_row[0] + 1
        for values in reader:
            where = f"{name} line {start}"
            start = line_of_row[0] + 1
            if not values:  # a blank line
                continue
            if len(values) != len(header):
                raise InputFileError(f"{where}: {len(values)} fields where the header has {len(header)}. "
                                     "Quote any text that contains a comma.")
            yield Item(_check_text(unneutralise(values[position]), where), where)
    except csv.Error as err:
        raise InputFileError(csv_error(name, line_of_row[0], err)) from None


def read_file(path: str, text_column: str = "text") -> Iterator[Item]:
    """Items from a .txt, .csv or .jsonl file, or from standard input when path is "-"."""
    if path == "-":
        yield from read_txt(sys.stdin.buffer, "<stdin>")
        return
    suffix = Path(path).suffix.lower()
    if suffix not in (".txt", ".csv", ".jsonl", ""):
        raise InputFileError(f"{path}: unknown file type {suffix!r}; use .txt (one sentence a line), .csv or .jsonl.")
    with open_binary(Path(path)) as handle:
        if suffix == ".csv":
            yield from read_csv(handle, path, text_column)
        elif suffix == ".jsonl":
            yield from read_jsonl(handle, path)
        else:
            yield from read_txt(handle, path)


LINE_FORMATS = {".txt": _txt_items, "": _txt_items, ".jsonl": _jsonl_items}


@dataclass(frozen=True)
class Lines:
    """Consecutive lines of a .txt or .jsonl file as read (bytes), from line number `first` on:
    a chunk that can be sent to another process and parsed there (`texts`), with the same
    errors, naming the same lines, as reading the file in one piece."""

    name: str
    suffix: str
    first: int
    lines: list[bytes]

    def texts(self) -> list[str]:
        if LINE_FORMATS[self.suffix] is _txt_items:
            joined = b"".join(self.lines)
            try:  # the whole chunk at once; line by line only to name a line that is not UTF-8 (or UTF-16)
                if b"\x00" in joined or (self.first == 1 and joined[:2] in UTF16_MARKS):
                    raise UnicodeDecodeError("utf-8", joined, 0, 1, "NUL")
                lines = joined.decode("utf-8").split("\n")
            except UnicodeDecodeError:
                pass
            else:
                if self.first == 1:
                    lines[0] = lines[0].lstrip("\ufeff")
                return [text for text in (line.rstrip("\r\n") for line in lines) if text.strip()]
        numbered = zip(range(self.first, self.first + len(self.lines)), self.lines)
        return [item.text for item in LINE_FORMATS[self.suffix](_decode(numbered, self.name), self.name)]


@dataclass(frozen=True)
class Texts:
    """Texts already read and checked (a CSV file's, whose rows may span lines)."""

    items: list[str]

    def texts(self) -> list[str]:
        return self.items


def read_chunks(path: str, text_column: str = "text", rows: int = 5000) -> Iterator[Lines | Texts]:
    """A .txt, .csv or .jsonl file (or "-", standard input, line by line) as chunks of about
    `rows` rows, each with a `texts()` method; lines are decoded and parsed by `texts()`, so that
    a worker process can do it."""
    if path == "-":
        for number, raw in enumerate(iter(sys.stdin.buffer.readline, b""), start=1):
            yield Lines("<stdin>", "", number, [raw])
        return
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        chunk: list[str] = []
        for item in read_file(path, text_column):
            chunk.append(item.text)
            if len(chunk) >= rows:
                yield Texts(chunk)
                chunk = []
        if chunk:
            yield Texts(chunk)
        return
    if suffix not in LINE_FORMATS:
        list(read_file(path, text_column))  # the same one-line error as reading it
    with open_binary(Path(path)) as handle:
        first = 1
        while True:
            try:
                lines = list(islice(handle, rows))
            except OSError as err:
                raise InputFileError(f"{path}: cannot be read ({err.strerror}).") from None
            if not lines:
                return
            yield Lines(path, suffix, first, lines)
            first += len(lines)
