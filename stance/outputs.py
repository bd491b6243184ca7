"""Write results: a table for people, CSV or JSON lines for programs, to stdout or to a file that
appears only once it is complete."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from stance.errors import InputFileError, UsageError

FORMATS = ("table", "csv", "jsonl", "parquet")
TEXT_FORMATS = FORMATS[:3]  # what `Writer` writes; Parquet is stance.parquet's
TEXT_WIDTH = 90  # table cells of text are cut here
COLUMN_WIDTH = 40  # and other columns here


# OWASP's rule for CSV injection: a cell that begins with one of these is a formula to a
# spreadsheet; a leading apostrophe makes it text. stance's own CSV readers drop that apostrophe
# again (stance.inputs.unneutralise), so its files round-trip.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A CSV cell that a spreadsheet will show as text, never run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeCSV:
    """csv.writer / csv.DictWriter whose cells are neutralised unless `raw`."""

    def __init__(self, writer, raw: bool = False):
        self.writer, self.raw = writer, raw

    def _row(self, row):
        if self.raw:
            return row
        if isinstance(row, dict):
            return {k: neutralise(v) for k, v in row.items()}
        return [neutralise(v) for v in row]

    def writeheader(self):
        self.writer.writeheader()

    def writerow(self, row):
        self.writer.writerow(self._row(row))

    def writerows(self, rows):
        self.writer.writerows(self._row(row) for row in rows)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    return fmt


class Writer:
    """Writes result rows as a table for people, or CSV / JSON lines for programs."""

    def __init__(self, stream, fmt: str, columns: list[str], flush: bool = False, raw_csv: bool = False):
        if check_format(fmt) not in TEXT_FORMATS:
            raise UsageError(f"--format {fmt}: not a text format; stance.parquet writes Parquet.")
        self.stream, self.fmt, self.columns, self.flush, self.raw_csv = stream, fmt, columns, flush, raw_csv
        self._csv = SafeCSV(csv.DictWriter(stream, fieldnames=columns, extrasaction="ignore", lineterminator="\n"),
                            raw_csv) if fmt == "csv" else None
        self._started = False
        self._widths: dict[str, int] | None = None

    @staticmethod
    def _cell(row: dict, column: str, width: int = TEXT_WIDTH) -> str:
        value = row.get(column, "")
        if isinstance(value, float):
            return f"{value:.3f}"
        text = str(value)
        return text if len(text) <= width else text[: width - 1] + "…"

    def write_labelled(self, labelled) -> None:
        """A `stance.predict.Labelled` batch, as `write` would write its rows (byte for byte)."""
        if self.fmt == "table":
            self.write(labelled.rows())
        else:
            self.write_rendered(render(labelled, self.fmt, self.columns, self.raw_csv))

    def write_rendered(self, text: str) -> None:
        """Rows already rendered by `render` (in a worker process, say), after the header."""
        if self.fmt == "csv" and not self._started:
            self._csv.writeheader()
        self.stream.write(text)
        self._started = True
        if self.flush:
            self.stream.flush()

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


def render(labelled, fmt: str, columns: list[str], raw_csv: bool = False) -> str:
    """A `stance.predict.Labelled` batch as CSV rows or JSON lines (no header), exactly as
    `Writer.write` writes its rows, column by column rather than dict by dict (several times
    faster, and workers can do it)."""
    names = [f"p_{c}" for c in labelled.classes]
    probabilities = labelled.proba.T.tolist()
    cells = {"text": labelled.texts, "label": labelled.labels, **dict(zip(names, probabilities))}
    if labelled.explanations is not None:
        cells["explanation"] = labelled.explanations
    present = [c for c in columns if c in cells]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        values = []
        for column in columns:
            if column in names:
                values.append([f"{v:.6f}" for v in cells[column]])
            elif column in cells:
                values.append(cells[column] if raw_csv else
                              [("'" + v) if v.startswith(FORMULA_START) else v for v in cells[column]])
            else:
                values.append([""] * len(labelled))
        writer.writerows(zip(*values))
        return out.getvalue()
    if fmt != "jsonl":
        raise UsageError(f"--format {fmt}: rendered rows are csv or jsonl.")
    # json.dumps of each row's dict, built from its parts: the same text, key order and spacing.
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    keys = [dumps(c) + ": " for c in present]
    encoded = [[repr(v) for v in cells[c]] if c in names else [dumps(v) for v in cells[c]] for c in present]
    return "".join("{" + ", ".join(k + v for k, v in zip(keys, row)) + "}\n" for row in zip(*encoded))


def _identity(path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _stdout_identity() -> tuple[int, int] | None:
    try:
        st = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return st.st_dev, st.st_ino


@contextmanager
def output_stream(path: str | None, inputs=(), option: str = "--output", binary: bool = False):
    """Standard output, or a file that appears only once it is complete: written to a temporary
    file beside it and renamed, so a failure never leaves a half-written or clobbered output.

    `-`, `/dev/stdout` and anything that is this process's standard output are written as a
    stream, never by rename. Refused, before anything is written: a directory, any other
    non-regular file (a device, fifo or socket, which a rename would replace by a regular file),
    and the same file as one of `inputs` (by inode: a link or another spelling is caught too). The
    new file keeps the mode of the file it replaces (or the umask's, for a new one); directories
    created for it are removed again if the run fails or is stopped (SIGTERM and SIGHUP end the
    run through SystemExit, see stance.cli.main). With `binary`, the stream takes bytes."""
    stdout = sys.stdout.buffer if binary else sys.stdout
    if path is None or str(path) in ("-", "/dev/stdout"):
        yield stdout
        return
    target = Path(os.path.realpath(path))  # through a symlink to the file it names
    name = Path(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise InputFileError(f"{name}: cannot be written ({err.strerror}).") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise InputFileError(f"{name}: is a directory; give a file name for {option}.")
        if not stat.S_ISREG(st.st_mode):
            if (st.st_dev, st.st_ino) == _stdout_identity():
                yield stdout
                return
            raise InputFileError(f"{name}: not a regular file (a device, fifo or socket); give a file name for "
                                 f"{option}, or - for standard output.")
        for source in inputs:
            if source is not None and str(source) != "-" and _identity(source) == (st.st_dev, st.st_ino):
                raise InputFileError(f"{name}: is also an input of this run ({source}); writing {option} there "
                                     "would destroy it. Give another file name.")
        mode = stat.S_IMODE(st.st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    created = []
    parent = target.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    staging = None
    try:
        try:
            for directory in reversed(created):
                directory.mkdir()
            fd, staging = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            os.fchmod(fd, mode)
        except OSError as err:
            raise InputFileError(f"{name}: cannot be written ({err.strerror or err}).") from None
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")) as handle:
            yield handle
        os.replace(staging, target)
        staging = None
    except BaseException:
        _clean(staging, created)
        raise


def _clean(staging, created) -> None:
    if staging is not None:
        try:
            os.unlink(staging)
        except FileNotFoundError:
            pass
    for directory in created:  # deepest first
        try:
            directory.rmdir()
        except OSError:
            break
