"""What a valid labelled row is: read a label file and check it, reporting every problem at once.

A label file is UTF-8 CSV with at least the columns `text` and `label`. `source` (the article or
page a sentence came from) groups rows for cross-validation; `note`, `origin` and any other
columns are carried along untouched.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from stance import LABELS
from stance.errors import LabelFileError
from stance.inputs import check_header, csv_error, read_bytes_and_text, unneutralise

REQUIRED_COLUMNS = ("text", "label")
# The columns of the project's labels.csv, in order; label-ready files use the same.
LABEL_COLUMNS = ("text", "label", "source", "note", "origin", "state", "year")
# Every class needs a row in each cross-validation fold: five folds, five rows at the least.
MIN_ROWS_PER_CLASS = 5
SHORT_WORDS = 4


@dataclass(frozen=True)
class Problem:
    """One finding about a label file: where it is, what is wrong, and the offending value."""

    line: int | None
    column: str
    reason: str
    value: str
    severity: str  # "error" blocks training; "warning" does not
    code: str = ""  # a name for problems a command may be told to resolve, e.g. "conflict"

    def describe(self, path: Path) -> str:
        where = f"{path} line {self.line}" if self.line else str(path)
        value = f' (value: "{self.value}")' if self.value else ""
        return f"{where}: {self.column}: {self.reason}{value}"


@dataclass
class LabelReport:
    """The outcome of checking a label file: its rows and every problem found."""

    path: Path
    rows: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def summary(self) -> str:
        return f"{self.rows} rows checked: {len(self.errors)} errors, {len(self.warnings)} warnings"


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, the fingerprint a model records of its training data."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def normalise_text(text: str) -> str:
    """Fold case and white space: two sentences with equal keys are the same sentence."""
    return " ".join(text.casefold().split())


def read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Read a CSV file's header and its rows, each with the line it starts on.

    Raises LabelFileError for a missing, unreadable, non-UTF-8 or malformed file."""
    return read_rows_hashed(path)[:2]


def read_rows_hashed(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]], str]:
    """`read_rows`, and the sha256 of the very bytes that were parsed."""
    path = Path(path)
    raw, text = read_bytes_and_text(path, LabelFileError, "Check the path, or create it with `stance extract`.",
                                    "It needs a header with the columns text,label.")
    # The csv module's own line splitting (newline=""): str.splitlines also breaks at U+2028, \x85
    # and the like, which a CSV cell may hold unquoted.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        header = [name.strip() for name in next(reader)]
        check_header(header, str(path), LabelFileError)
        start = reader.line_num + 1
        for values in reader:
            if values and any(v.strip() for v in values):
                if len(values) != len(header):
                    raise LabelFileError(
                        f"{path} line {start}: {len(values)} fields where the header has {len(header)}. "
                        "Quote any text that contains a comma."
                    )
                rows.append((start, dict(zip(header, map(unneutralise, values)))))
            start = reader.line_num + 1
    except csv.Error as err:
        raise LabelFileError(csv_error(str(path), reader.line_num, err)) from None
    return header, rows, hashlib.sha256(raw).hexdigest()


def check_rows(
    header: list[str],
    rows: list[tuple[int, dict[str, str]]],
    classes: tuple[str, ...] = LABELS,
    min_rows: int = MIN_ROWS_PER_CLASS,
) -> list[Problem]:
    """Check labelled rows against the class set; return every problem, errors and warnings."""
    from stance.extract import is_furniture

    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return [Problem(1, c, "required column is missing (header has: " + ", ".join(header) + ")", "", "error")
                for c in missing]
    problems: list[Problem] = []
    folded = {c.casefold(): c for c in classes}
    first_label: dict[str, tuple[int, str]] = {}
    exact_seen: dict[tuple[str, str], int] = {}
    counts: Counter[str] = Counter()
    for line, row in rows:
        text, label = row["text"], row["label"]
        if not text.strip():
            problems.append(Problem(line, "text", "empty text", "", "error"))
            continue
        if label not in classes:
            fix = folded.get(label.strip().casefold())
            hint = f'; write "{fix}" (labels are never changed silently)' if fix else ""
            problems.append(Problem(line, "label", f"not one of {', '.join(classes)}{hint}", label, "error"))
            continue
        counts[label] += 1
        key = normalise_text(text)
        if key in first_label and first_label[key][1] != label:
            other_line, other_label = first_label[key]
            problems.append(Problem(line, "label", f'same sentence as line {other_line}, which says "{other_label}"',
                                    label, "error", "conflict"))
        first_label.setdefault(key, (line, label))
        if (text, label) in exact_seen:
            problems.append(Problem(line, "text", f"exact duplicate of line {exact_seen[(text, label)]}",
                                    text[:60], "warning"))
        exact_seen.setdefault((text, label), line)
        if "source" in row and not (row["source"] or "").strip():
            problems.append(Problem(line, "source", "blank: without every row's source, cross-validation splits "
                                    "sentence by sentence, and sentences of one article land on both sides",
                                    "", "warning"))
        if is_furniture(text):
            problems.append(Problem(line, "text", "looks like page furniture, not a statement", text[:60], "warning"))
        elif len(text.split()) < SHORT_WORDS:
            problems.append(Problem(line, "text", f"very short (under {SHORT_WORDS} words)", text[:60], "warning"))
    for label in classes:
        if counts[label] < min_rows:
            problems.append(Problem(None, "label", f'class "{label}" has {counts[label]} rows; '
                                    f"cross-validation needs at least {min_rows}", label, "error"))
    return problems


def validate_labels(path: Path, classes: tuple[str, ...] = LABELS) -> LabelReport:
    """Read and check a label file; raise LabelFileError only when it cannot be read at all."""
    header, rows = read_rows(path)
    return LabelReport(Path(path), len(rows), check_rows(header, rows, classes))


def load_labels(path: Path, classes: tuple[str, ...] = LABELS, drop_conflicts: bool = False,
                min_rows: int = MIN_ROWS_PER_CLASS):
    """Return a label file as a DataFrame (columns as in the file, plus `line`).

    With drop_conflicts, every row of a sentence that carries two labels is left out instead of
    being an error; min_rows is the fewest rows a class needs (0 for a test file, which need not
    hold every class). Raises LabelFileError naming the first error and how many there are."""
    import pandas as pd

    header, rows, digest = read_rows_hashed(path)
    problems = check_rows(header, rows, classes, min_rows)
    errors = [p for p in problems if p.severity == "error" and not (drop_conflicts and p.code == "conflict")]
    if errors:
        more = f" ({len(errors) - 1} more)" if len(errors) > 1 else ""
        hint = " or pass --drop-conflicts to leave such sentences out" if errors[0].code == "conflict" else ""
        raise LabelFileError(f'{errors[0].describe(Path(path))}{more}. Run "stance validate {path}" to list every '
                             f"problem{hint}.")
    frame = pd.DataFrame([row for _, row in rows], columns=header)
    frame["line"] = [line for line, _ in rows]
    frame.attrs["sha256"] = digest
    if drop_conflicts:
        keys = frame["text"].map(normalise_text)
        conflicted = frame.groupby(keys)["label"].transform("nunique").gt(1)
        frame = frame[~conflicted].reset_index(drop=True)
        frame.attrs["dropped_conflicts"] = int(conflicted.sum())
        frame.attrs["sha256"] = digest
        counts = Counter(frame["label"])
        short = [c for c in classes if counts[c] < min_rows]
        if short:
            raise LabelFileError(f"{path}: after leaving out {int(conflicted.sum())} rows whose sentence carries two "
                                 f"labels, {short[0]!r} has {counts[short[0]]} rows (at least {min_rows} needed). "
                                 "Settle the conflicts instead of dropping them.")
    return frame


def label_counts(labels, classes: tuple[str, ...]) -> dict[str, int]:
    """Rows per class, in class order."""
    counts = Counter(labels)
    return {c: int(counts[c]) for c in classes}
