"""Parquet in and out, with pyarrow (the `parquet` extra): an archive is read one record batch at
a time and written one row group at a time, so memory stays flat however large the file is.

Reading keeps the input's own columns beside each batch of texts (in this process, while
workers label the texts); writing adds `label` and one
`p_<class>` column per class (and `explanation` with --explain) to them. A null, non-string or
empty text stops the run with one line naming the file and the row (rows count from 1).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from stance.errors import InputFileError, UsageError
from stance.inputs import Texts, open_binary

ROW_GROUP_ROWS = 50_000  # rows gathered into one row group of an output file


def pyarrow():
    """The pyarrow module, or a one-line UsageError saying how to install it."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401  (imported for pyarrow.parquet below)
    except ImportError:
        raise UsageError("Parquet files need the parquet extra: pip install 'stance[parquet]'") from None
    return pyarrow


def is_parquet(path) -> bool:
    return path is not None and str(path) != "-" and Path(str(path)).suffix.lower() in (".parquet", ".parq", ".pq")


def check_texts(values, name: str, first: int) -> list[str]:
    """A pyarrow array of texts as a list of str; InputFileError naming the first row (counted
    from 1 at `first`) that is null, not a string or empty."""
    pa = pyarrow()
    kind = values.type
    if pa.types.is_dictionary(kind):
        values, kind = values.dictionary_decode(), kind.value_type
    if values.null_count:
        row = first + values.is_null().index(True).as_py()
        raise InputFileError(f"{name} row {row}: text is null. Drop the rows without text, or fill them.")
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)):
        sample = type(values[0].as_py()).__name__ if len(values) else str(kind)
        raise InputFileError(f"{name} row {first}: text is {sample}, not a string (the column holds {kind}). "
                             "Name the text column with --text-column.")
    texts = values.to_pylist()
    for offset, text in enumerate(texts):
        if not text.strip():
            raise InputFileError(f"{name} row {first + offset}: empty sentence. Remove the row or give it text.")
    return texts


class ParquetInput:
    """A Parquet file opened for reading: its schema and row count from the footer, its text
    column checked, its batches read on demand."""

    def __init__(self, path: str, text_column: str = "text"):
        pa = pyarrow()
        self.path, self.text_column = path, text_column
        handle = open_binary(Path(path))  # missing, a directory, unreadable: stance.inputs' messages
        try:
            self.file = pa.parquet.ParquetFile(handle)
        except (pa.ArrowException, ValueError, OSError) as err:  # it opened, so its bytes are the problem
            handle.close()
            raise InputFileError(f"{path}: not a Parquet file ({' '.join(str(err).split())}).") from None
        self.schema = self.file.schema_arrow
        if text_column not in self.schema.names:
            raise InputFileError(f"{path}: no column {text_column!r} (columns: {', '.join(self.schema.names)}). "
                                 "Name the text column with --text-column.")
        self.rows = self.file.metadata.num_rows

    def batches(self, rows: int = 5000) -> Iterator[tuple[Texts, object]]:
        """(the texts, checked, as a `stance.inputs.Texts` chunk; the whole record batch) for each
        batch of `rows`. The texts go to workers as Python strings, so that workers never import
        pyarrow (a fork server that had would hold its threads)."""
        pa = pyarrow()
        first = 1
        batches = self.file.iter_batches(batch_size=rows)
        while True:
            try:
                batch = next(batches, None)
            except (pa.ArrowException, OSError) as err:
                raise InputFileError(f"{self.path} row {first}: cannot be read ({' '.join(str(err).split())}).") \
                    from None
            if batch is None:
                return
            if batch.num_rows:
                yield Texts(check_texts(batch.column(self.text_column), self.path, first)), batch
                first += batch.num_rows


class ParquetOutput:
    """Writes labelled batches to a binary stream as Parquet: the input's own columns (a Parquet
    input's) or `text`, then `label`, `p_<class>`... and `explanation` with --explain."""

    def __init__(self, stream, classes, explain: bool = False, carried=None):
        pa = pyarrow()
        self.classes = tuple(classes)
        added = ["label", *(f"p_{c}" for c in self.classes)] + (["explanation"] if explain else [])
        base = carried if carried is not None else pa.schema([("text", pa.string())])
        clash = [name for name in added if name in base.names]
        if clash:
            raise UsageError(f"the input already has a column {clash[0]!r}, which the output adds; rename it "
                             "(or drop it) first.")
        fields = [pa.field("label", pa.string())] + [pa.field(f"p_{c}", pa.float64()) for c in self.classes]
        if explain:
            fields.append(pa.field("explanation", pa.string()))
        self.schema = pa.schema(list(base) + fields, metadata=base.metadata)
        self.carried = carried is not None
        self._writer = pa.parquet.ParquetWriter(stream, self.schema)
        self._pending: list = []
        self._pending_rows = 0

    def write_labelled(self, labelled, batch=None) -> None:
        """Add a `stance.predict.Labelled` batch; `batch` is the input's record batch of the same
        rows (for a Parquet input)."""
        pa = pyarrow()
        if not len(labelled):
            return
        columns = list(batch.columns) if self.carried else [pa.array(labelled.texts, pa.string())]
        columns.append(pa.array(labelled.labels, pa.string()))
        columns += [pa.array(labelled.proba[:, k]) for k in range(len(self.classes))]
        if labelled.explanations is not None:
            columns.append(pa.array(labelled.explanations, pa.string()))
        self._pending.append(pa.RecordBatch.from_arrays(columns, schema=self.schema))
        self._pending_rows += len(labelled)
        if self._pending_rows >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            pa = pyarrow()
            self._writer.write_table(pa.Table.from_batches(self._pending, self.schema),
                                     row_group_size=max(self._pending_rows, 1))
            self._pending, self._pending_rows = [], 0

    def abandon(self) -> None:
        """Close the writer after a failure (its file is thrown away), without a second error."""
        try:
            self._writer.close()
        except Exception:  # the stream may be gone already; nothing of it is kept
            pass

    def finish(self) -> None:
        """Write what is left and the footer (an input without rows gives a file with the schema)."""
        self._flush()
        self._writer.close()
