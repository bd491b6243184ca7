"""Write results: a table for people, CSV or JSON lines for programs, to stdout or to a file that
appears only once it is complete."""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from stance.errors import InputFileError, UsageError

FORMATS = ("table", "csv", "jsonl")
TEXT_WIDTH = 90  # table cells of text are cut here
COLUMN_WIDTH = 40  # and other columns here


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
        self._widths: dict[str, int] | None = None

    @staticmethod
    def _cell(row: dict, column: str, width: int = TEXT_WIDTH) -> str:
        value = row.get(column, "")
        if isinstance(value, float):
            return f"{value:.3f}"
        text = str(value)
        return text if len(text) <= width else text[: width - 1] + "…"

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
            # Text last: it is the one column of unbounded width. The other columns take the width
            # of their header or of the first batch's widest value (at most COLUMN_WIDTH), so the
            # header lines up with the values; a later, longer value is cut with an ellipsis.
            order = [c for c in self.columns if c != "text"] + ["text"]
            if self._widths is None:
                self._widths = {c: max([len(c), 9] + [len(self._cell(r, c, COLUMN_WIDTH)) for r in rows])
                                for c in order if c != "text"}
                self._widths["text"] = 0
                self.stream.write("  ".join(f"{c:{self._widths[c]}}" for c in order).rstrip() + "\n")
            for row in rows:
                cells = (f"{self._cell(row, c, self._widths[c] or TEXT_WIDTH):{self._widths[c]}}" for c in order)
                self.stream.write("  ".join(cells).rstrip() + "\n")
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
