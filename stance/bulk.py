"""Label a whole file, of any size: read it in chunks, label each chunk in this process or in
worker processes (stance.parallel), write the results in input order as a table, CSV, JSON
lines or Parquet.

A chunk carries its own rows as read (the lines of a .txt or .jsonl file, the text column of a
Parquet batch), and is parsed and checked where it is labelled, so every error names the file
and the line (or row) whichever process met it.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

from stance.errors import UsageError
from stance.predict import CHUNK_ROWS, label_texts

# Below this many rows the time to start workers (about 0.3 s) exceeds what they save.
PARALLEL_MIN_ROWS = 20_000


class Task:
    """What happens to one chunk, here or in a worker: parse and check its texts, label them,
    and render CSV or JSON lines (a table and Parquet are put together by the writer)."""

    def __init__(self, model, min_prob: float, explain: int, fmt: str, columns: list[str], raw_csv: bool):
        self.model, self.min_prob, self.explain = model, min_prob, explain
        self.fmt, self.columns, self.raw_csv = fmt, columns, raw_csv

    @classmethod
    def start(cls, model_path: str, min_prob: float, explain: int, fmt: str, columns: list[str], raw_csv: bool):
        """A worker's task: the model loaded from its directory, once."""
        from stance.api import load

        return cls(load(model_path), min_prob, explain, fmt, columns, raw_csv)

    def __call__(self, chunk):
        from stance.outputs import render

        labelled = label_texts(self.model, chunk.texts(), self.min_prob, self.explain)
        if self.fmt in ("csv", "jsonl"):
            return render(labelled, self.fmt, self.columns, self.raw_csv)
        return labelled


def resolve_format(fmt: str | None, output) -> str:
    """--format, else parquet for an --output ending in .parquet, else table."""
    from stance.outputs import check_format
    from stance.parquet import is_parquet

    if fmt is None:
        return "parquet" if is_parquet(output) else "table"
    check_format(fmt)
    if is_parquet(output) and fmt != "parquet":
        raise UsageError(f"--output {output} names a Parquet file but --format is {fmt}; leave out --format, or give "
                         "an --output name for a text file.")
    return fmt


def label_file(model, path: str, output, inputs, fmt: str, text_column: str = "text", min_prob: float = 0.0,
               explain: int = 0, raw_csv: bool = False, jobs: int | None = None) -> None:
    """Label every row of `path` (.txt, .csv, .jsonl, .parquet, or "-" for stdin, answered line
    by line) into `output` (None or "-": stdout; else a file that appears only when complete).

    `jobs`: worker processes; None chooses all cores for inputs beyond PARALLEL_MIN_ROWS rows
    and one process (no workers) otherwise and for stdin."""
    from stance.outputs import Writer, output_stream
    from stance.parallel import available_cores
    from stance.parquet import ParquetInput, ParquetOutput, is_parquet

    streaming = path == "-"
    if streaming and jobs not in (None, 1):
        raise UsageError("--jobs: standard input is answered line by line in one process; give a file for --jobs.")
    if fmt == "parquet" and output in (None, "-"):
        import sys

        if sys.stdout.isatty():
            raise UsageError("--format parquet writes binary data; give --output FILE.parquet, or pipe stdout.")
    columns = ["text", "label", *(f"p_{c}" for c in model.classes_)] + (["explanation"] if explain else [])
    if is_parquet(path):
        source = ParquetInput(path, text_column)
        chunks: Iterator[tuple] = source.batches(CHUNK_ROWS)
        carried, rows = source.schema, source.rows
    else:
        from stance.inputs import read_chunks

        chunks = ((chunk, None) for chunk in read_chunks(path, text_column, 1 if streaming else CHUNK_ROWS))
        carried, rows = None, None
    if jobs is None:
        if streaming:
            jobs = 1
        else:
            chunks, rows = _peek(chunks, rows)
            jobs = available_cores() if rows > PARALLEL_MIN_ROWS else 1
    task = (model.path_, min_prob, explain, fmt, columns, raw_csv)
    with output_stream(str(output) if output else None, inputs, binary=fmt == "parquet") as stream:
        if fmt == "parquet":
            writer = ParquetOutput(stream, model.classes_, bool(explain), carried)
        else:
            writer = Writer(stream, fmt, columns, flush=streaming, raw_csv=raw_csv)
        labelled = _labelled(model, task, chunks, jobs)
        try:
            for result, batch in labelled:
                if isinstance(result, str):
                    writer.write_rendered(result)
                elif fmt == "parquet":
                    writer.write_labelled(result, batch)
                else:
                    writer.write_labelled(result)
        except BaseException:
            getattr(writer, "abandon", lambda: None)()
            raise
        finally:
            labelled.close()  # stops the workers now, not when the generator is collected
        writer.finish()


def _labelled(model, task: tuple, chunks: Iterator[tuple], jobs: int) -> Iterator[tuple]:
    if jobs <= 1:
        here = Task(model, *task[1:])
        return ((here(chunk), kept) for chunk, kept in chunks)
    from stance.parallel import ordered_map

    return ordered_map(Task.start, task, chunks, jobs)


def _peek(chunks: Iterator[tuple], rows: int | None) -> tuple[Iterator[tuple], int]:
    """How many rows the input holds, or that it holds more than PARALLEL_MIN_ROWS (having read
    that far, and no further), and the chunks still to be labelled, the ones read first included."""
    if rows is not None:
        return chunks, rows
    seen, rows = [], 0
    for chunk in chunks:
        seen.append(chunk)
        rows += _rows(chunk[0])
        if rows > PARALLEL_MIN_ROWS:
            break
    return chain(seen, chunks), rows


def _rows(chunk) -> int:
    return len(getattr(chunk, "lines", None) or getattr(chunk, "items", None) or [])
