"""Label texts with probabilities, in one canonical class order; read inputs and write outputs.

Inputs are read in chunks so memory stays flat however long a file is, and standard input is
read line by line so each result can be written as soon as its line arrives.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from stance.errors import InputFileError, UsageError
from stance.files import open_binary

CHUNK_ROWS = 5000
UNCERTAIN = "uncertain"
FORMATS = ("table", "csv", "jsonl")


@dataclass(frozen=True)
class Item:
    """One text to classify, and where it came from (for error messages: "file line N")."""

    text: str
    where: str


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _check_text(text, where: str) -> str:
    if not isinstance(text, str):
        raise InputFileError(f"{where}: text is {type(text).__name__}, not a string.")
    if not text.strip():
        raise InputFileError(f"{where}: empty sentence. Remove the row or give it text.")
    return text


def _lines(handle, name: str) -> Iterator[tuple[int, str]]:
    """Decode a binary stream line by line, so an encoding error names its own line and a pipe
    is answered as soon as each line arrives."""
    for number, raw in enumerate(iter(handle.readline, b""), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputFileError(f"{name} line {number}: not valid UTF-8. Save the file as UTF-8.") from None
        yield number, line.lstrip("\ufeff") if number == 1 else line


def read_txt(handle, name: str) -> Iterator[Item]:
    """One sentence a line; blank lines are skipped."""
    for number, line in _lines(handle, name):
        text = line.rstrip("\r\n")
        if text.strip():
            yield Item(text, f"{name} line {number}")


def read_jsonl(handle, name: str) -> Iterator[Item]:
    """One JSON object a line, with the text in field `text`."""
    for number, line in _lines(handle, name):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputFileError(f"{where}: not valid JSON ({err.msg}).") from None
        if not isinstance(record, dict) or "text" not in record:
            raise InputFileError(f'{where}: needs a JSON object with a "text" field.')
        yield Item(_check_text(record["text"], where), where)


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
            yield Item(_check_text(values[position], where), where)
    except csv.Error as err:
        raise InputFileError(f"{name} line {line_of_row[0]}: malformed CSV ({err}).") from None


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


def classify(model, items: list[Item], min_prob: float = 0.0) -> list[dict]:
    """Label a batch: text, label and p_<class> for each class, in the model's class order."""
    proba = model.predict_proba([item.text for item in items])
    rows = []
    for item, p in zip(items, proba):
        best = int(p.argmax())
        label = model.classes[best] if p[best] >= min_prob else UNCERTAIN
        row = {"text": item.text, "label": label}
        row.update({f"p_{c}": float(v) for c, v in zip(model.classes, p)})
        rows.append(row)
    return rows


def summarise_article(rows: list[dict], classes) -> dict:
    """An article's labelled rows (as `classify` gives them) summed up: how many sentences, the
    count of each label (every class, and `uncertain` when some are), and for cooperate and
    decline the row most probably of that label if it was labelled so, else None."""
    counts = {c: sum(r["label"] == c for r in rows) for c in (*classes, UNCERTAIN)}
    if not counts[UNCERTAIN]:
        del counts[UNCERTAIN]
    most_confident = {}
    for label in ("cooperate", "decline"):
        if label in classes:
            best = max(rows, key=lambda r: r[f"p_{label}"], default=None)
            most_confident[label] = best if best is not None and best["label"] == label else None
    return {"sentences": len(rows), "counts": counts, "most_confident": most_confident}


def classify_stream(model, items: Iterable[Item], min_prob: float = 0.0, chunk_rows: int = CHUNK_ROWS
                    ) -> Iterator[list[dict]]:
    """Classify items chunk by chunk; a chunk size of 1 answers each line as it arrives."""
    for chunk in _chunks(items, chunk_rows):
        yield classify(model, chunk, min_prob)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    return fmt


class Writer:
    """Writes result rows as a table for people, or CSV / JSON lines for programs."""

    def __init__(self, stream, fmt: str, columns: list[str], flush: bool = False):
        check_format(fmt)
        self.stream, self.fmt, self.columns, self.flush = stream, fmt, columns, flush
        self._csv = csv.DictWriter(stream, fieldnames=columns, extrasaction="ignore", lineterminator="\n") \
            if fmt == "csv" else None
        self._started = False

    def _cell(self, row: dict, column: str) -> str:
        value = row.get(column, "")
        if isinstance(value, float):
            return f"{value:.3f}"
        text = str(value)
        return text if len(text) <= 90 else text[:89] + "…"

    def finish(self) -> None:
        """Write the header even when no row came, so an empty input gives a valid empty table."""
        if not self._started:
            self.write([])

    def write(self, rows: list[dict]) -> None:
        if self.fmt == "csv":
            if not self._started:
                self._csv.writeheader()
            self._csv.writerows({k: (f"{v:.6f}" if isinstance(v, float) else v) for k, v in r.items()} for r in rows)
        elif self.fmt == "jsonl":
            for row in rows:
                self.stream.write(json.dumps({c: row[c] for c in self.columns if c in row}, ensure_ascii=False) + "\n")
        else:
            # Text last: it is the one column of varying width.
            order = [c for c in self.columns if c != "text"] + ["text"]
            widths = {c: max(len(c), 9) for c in order}
            if not self._started:
                self.stream.write("  ".join(f"{c:{widths[c]}}" for c in order).rstrip() + "\n")
            for row in rows:
                self.stream.write("  ".join(f"{self._cell(row, c):{widths[c]}}" for c in order).rstrip() + "\n")
        self._started = True
        if self.flush:
            self.stream.flush()


@contextmanager
def output_stream(path: str | None):
    """Standard output, or a file that appears only once it is complete: written to a temporary
    file beside it and renamed, so a failure never leaves a half-written or clobbered output."""
    if path is None or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    if target.is_dir():
        raise InputFileError(f"{target}: is a directory; give a file name for --output.")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(staging, target)
    except BaseException:
        os.unlink(staging)
        raise
