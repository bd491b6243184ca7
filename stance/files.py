"""Open and decode the user's files, turning OS and encoding failures into one-line errors
that name the file (and line) and the fix."""

from __future__ import annotations

from pathlib import Path

from stance.errors import InputFileError


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
    with open_binary(path, error, missing_hint) as handle:
        raw = handle.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise error(f"{path} line {line}: not valid UTF-8 (byte {raw[err.start]:#04x}). Save the file as UTF-8.") from None
    if not text.strip():
        raise error(f"{path}: the file is empty. {empty_hint}".rstrip())
    return text
