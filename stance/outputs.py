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

from stance.errors import InputFileError, OutputError, UsageError

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


class _UnixRows:
    """Where stance's CSV writers write: they end each row with "\r\n", so that the csv module
    quotes a cell holding "\r" (with "\n" alone it leaves it bare, and the row then splits in two
    for every reader); this turns each row's ending back into "\n". The csv module writes one
    whole row per call, so the last two characters are always the row's own ending."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, row: str):
        return self.stream.write(row[:-2] + "\n" if row.endswith("\r\n") else row)


def csv_writer(stream, fieldnames=None, raw: bool = False, **options) -> SafeCSV:
    """The CSV writer of every stance output: rows end with "\n", a cell holding a line break is
    quoted, and cells are neutralised unless `raw`. With `fieldnames`, rows are dicts."""
    target = _UnixRows(stream)
    if fieldnames is None:
        return SafeCSV(csv.writer(target, lineterminator="\r\n", **options), raw)
    return SafeCSV(csv.DictWriter(target, fieldnames=fieldnames, lineterminator="\r\n", **options), raw)


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
        self._csv = csv_writer(stream, columns, raw_csv, extrasaction="ignore") if fmt == "csv" else None
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


class Guarded:
    """A stream whose write errors (a full disk, a standard output that is closed or /dev/full)
    are an OutputError naming the destination, reported in one line. BrokenPipeError passes
    through: the reader left, which is not an error (stance.cli)."""

    def __init__(self, stream, name: str):
        self.stream, self.name = stream, name

    def __getattr__(self, name):  # the rest of the file's interface (closed, tell, ... for pyarrow)
        return getattr(self.stream, name)

    def _failed(self, err: OSError) -> OutputError:
        return OutputError(f"{self.name}: cannot be written ({err.strerror or err}).")

    def write(self, data):
        if self.stream is None:  # Python's sys.stdout when the program started with it closed
            raise OutputError(f"{self.name} is closed; redirect it (> file) or give --output FILE.")
        try:
            return self.stream.write(data)
        except BrokenPipeError:
            raise
        except OSError as err:
            raise self._failed(err) from None

    def flush(self) -> None:
        if self.stream is None or getattr(self.stream, "closed", False):  # a Parquet writer closes its sink
            return
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as err:
            raise self._failed(err) from None


def standard_output(binary: bool = False) -> Guarded:
    """sys.stdout (its buffer, for bytes) behind a Guarded."""
    stream = sys.stdout
    if binary and stream is not None:
        stream = stream.buffer
    return Guarded(stream, "standard output")


def missing_folders(path: Path) -> tuple[Path, list[Path]]:
    """The deepest existing ancestor of `path`, and the folders below it that are missing (deepest
    first). OSError when an ancestor cannot be looked at (a folder this user may not enter, a
    file): never a folder that exists counted as missing, which would then be removed."""
    missing = []
    parent = path.parent
    while True:
        try:
            os.lstat(parent)
            return parent, missing
        except FileNotFoundError:
            missing.append(parent)
            parent = parent.parent


def check_output(path, inputs=(), option: str = "--output") -> os.stat_result | None:
    """Refuse, before any work, an output path that cannot or must not be written: a directory,
    a device, fifo or socket (a rename would replace it; this process's own standard output is
    the exception, see output_stream), a folder that cannot be made or written into, and the
    same file as one of `inputs` (by inode: a link or another spelling is caught too). Returns
    the stat of the file that will be replaced, or None for a new one."""
    name = Path(path)
    try:
        st = os.stat(path)  # through links, /proc/self/fd/N included, to what they name
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise InputFileError(f"{name}: cannot be written ({err.strerror}).") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputFileError(f"{name}: is a directory; give a file name for {option}.")
    if st is not None and not stat.S_ISREG(st.st_mode):
        if (st.st_dev, st.st_ino) == _stdout_identity():
            return st
        raise InputFileError(f"{name}: not a regular file (a device, fifo or socket); give a file name for "
                             f"{option}, or - for standard output.")
    for source in inputs if st is not None else ():
        if source is not None and str(source) != "-" and _identity(source) == (st.st_dev, st.st_ino):
            raise InputFileError(f"{name}: is also an input of this run ({source}); writing {option} there "
                                 "would destroy it. Give another file name.")
    try:
        folder, _ = missing_folders(Path(os.path.realpath(path)))
    except OSError as err:
        raise InputFileError(f"{name}: cannot be written ({err.strerror}).") from None
    if not folder.is_dir():
        raise InputFileError(f"{name}: cannot be written ({folder} is not a directory).")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputFileError(f"{name}: cannot be written (Permission denied in {folder}).")
    return st


@contextmanager
def output_stream(path: str | None, inputs=(), option: str = "--output", binary: bool = False):
    """Standard output, or a file that appears only once it is complete: written to a temporary
    file beside it and renamed, so a failure never leaves a half-written or clobbered output.

    `-`, `/dev/stdout` and anything that is this process's standard output (/proc/self/fd/1 of
    a pipe) are written as a stream, never by rename. Refused before anything is written: see
    check_output. The new file keeps the mode of the file it replaces (or the umask's, for a new
    one), and its owner where this process may set it (root); directories created for it are
    removed again if the run fails or is stopped (SIGTERM and SIGHUP end the run through
    SystemExit, see stance.cli.main). Write errors are an OutputError (see Guarded)."""
    if path is None or str(path) in ("-", "/dev/stdout"):
        yield standard_output(binary)
        return
    st = check_output(path, inputs, option)
    if st is not None and not stat.S_ISREG(st.st_mode):  # this process's standard output, by another name
        yield standard_output(binary)
        return
    name = Path(path)
    target = Path(os.path.realpath(path))  # through a symlink to the file it names
    if st is not None:
        mode = stat.S_IMODE(st.st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    _, created = missing_folders(target)
    staging = None
    try:
        try:
            for directory in reversed(created):
                directory.mkdir()
            fd, staging = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            os.fchmod(fd, mode)
            if st is not None and os.geteuid() == 0:
                os.fchown(fd, st.st_uid, st.st_gid)
        except OSError as err:
            raise InputFileError(f"{name}: cannot be written ({err.strerror or err}).") from None
        handle = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        with handle:
            stream = Guarded(handle, str(name))
            yield stream
            stream.flush()
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
