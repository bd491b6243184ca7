"""Hostile input, promise by promise: a few rows of every kind in bench/bad_input.py's table, run
by its runner (the real command in a subprocess of its own session, in a fresh copy of a small
work directory), so that CI catches a promise that stops holding.

Each row asserts what the bench does: the exit status (1 bad input, 2 bad option, 0 success),
exactly one `stance: error:` line naming the file (and line or field), no traceback, every file
of the work directory untouched (sha256, mode, owner), no stray file or folder, no process of
the run left a few seconds after it exits, no planted pickle run. `python bench/bad_input.py`
runs all of them.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _load_bench():
    spec = importlib.util.spec_from_file_location("bad_input", ROOT / "bench" / "bad_input.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bad_input"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = _load_bench()
ATTEMPTS = {attempt.id: attempt for attempt in bench.attempts()}

# kind: the names of its rows run here
ROWS = {
    "output onto inputs": ["predict --output sub/../in.txt", "predict --output hard.txt", "predict --output weights",
                           "extract --out the --skip-labelled file", "suggest --out the model's metadata"],
    "output onto special files": ["predict --output /dev/null", "predict --output /proc/self/fd/1 (a stream)",
                                  "predict --output a fifo", "predict > /dev/full", "predict with stdout closed"],
    "output into missing folders": ["failed predict leaves no folder", "failed evaluate leaves no --plot folder",
                                    "train failing in cross-validation leaves no folder",
                                    "predict --output in a folder nobody may write"],
    "modes kept": ["predict --output over a 0o640 file", "predict --output new file, umask 0o77",
                   "predict --output over another user's file keeps its owner"],
    "damaged model: metadata fields": ["cv.folds = '5'", "seed = 2**32", "files.weights.bytes = -1",
                                       "compiled.blocks[0].scope_version missing", "cv.macro_f1_mean = NaN",
                                       "format_version = a 5,000-digit integer", "trained_at missing"],
    "damaged model: temperature, classes, n-grams": ["temperature 0", "temperature 'NaN'",
                                                     "2 classes on a 3-class model", "analyzer 'char'",
                                                     "compiled.blocks[0].ngram_range [1, 1000000000]",
                                                     "a block fewer than the weights hold"],
    "damaged model: files": ["metadata.json a directory", "metadata.json a fifo", "weights a link to /dev/zero",
                             "weights of another size", "metadata.json unreadable"],
    "damaged model: arrays": ["coef of the wrong shape", "NaN coefficient", "an array no block reads"],
    "damaged model: swapped and malicious files": [
        "weights replaced by another model's", "malicious pickle is live (control: joblib.load runs it)",
        "malicious pickle: load(backend=sklearn) refuses (sha256)",
        "malicious pickle, metadata.json updated to match: predict never runs it",
        "a model saved by the Python API loads"],
    "concurrent trains": ["second train on --model mlink"],
    "predict while the model is replaced": ["predict in a loop while two models swap 120 times"],
    "signals": ["SIGTERM during predict --file - --output (existing file)",
                "SIGHUP during predict --file - --output (new file)",
                "SIGTERM to stance during train --model new/m"],  # its workers gone a few seconds later
    "pipes": ["predict --format csv | head -1", "predict --article | head -1"],
    "CSV formula cells": ["extract neutralises", "suggest neutralises every column",
                          "predict --format csv, text starting '='", "predict --raw-csv, text starting '\\r'"],
    "duplicate header names": ["predict --file text,text", "train --labels text,label,label"],
    "JSONL": ["nested 100,000 deep", "text a 5,000-digit number", "a list line", "text a lone surrogate"],
    "folds": ["evaluate --folds 1000 (nested)", "train --folds 1"],
    "numeric options": ["train --seed -1", "evaluate --seed 100000000000", "suggest --rare-share nan",
                        "predict --min-prob inf", "predict an argument not UTF-8",
                        "extract a file name not UTF-8 --out"],
    "drop-conflicts": ["train --drop-conflicts dropping every row",
                       "evaluate --test --drop-conflicts dropping every row"],
    "unreadable files": ["train --labels unreadable", "predict --file unreadable",
                         "train --model in a folder nobody may write"],
    "--plot checked first": ["evaluate --plot p.csv", "evaluate --plot /dev/null", "evaluate --plot a fifo"],
    "train --model": ["train --model a file", "train --model under a file"],
    "huge fields": ["predict --file csv: a field of 131,073 characters", "train --labels: a field of 131,073 characters",
                    "predict --file csv: a field of 131,072 characters"],
    "encodings": ["predict --file txt: UTF-16LE without BOM", "predict --file csv: UTF-16 with BOM",
                  "train --labels: UTF-16BE without BOM", "validate: U+2028, U+0085 and form feeds inside cells",
                  "predict --file txt: Latin-1 on line 3"],
    "empty inputs": ["train --labels: header only", "predict --file .txt: empty", "predict --file csv: empty",
                     "suggest: blank lines"],
}
SELECTED = [f"{kind}: {name}" for kind, names in ROWS.items() for name in names]
ROOT_ONLY = {"modes kept: predict --output over another user's file keeps its owner"}  # in the table under root only


def test_every_kind_of_the_bench_is_covered_and_every_row_exists():
    assert set(ROWS) == {attempt.kind for attempt in ATTEMPTS.values()}
    assert [row for row in SELECTED if row not in ATTEMPTS and row not in ROOT_ONLY] == []


@pytest.fixture(scope="session")
def fixtures(trained_model_dir):
    """The bench's work directory, with the toy model the tests share. Not under pytest's
    temporary folder, which is private (0700) to the user running the tests: the rows that run
    as nobody must be able to reach it."""
    base = Path(tempfile.mkdtemp(prefix="stance-reliability-"))
    try:
        made = bench.Fixtures(base, model=trained_model_dir)
        bench.FIXTURES_REF.update(made.ref)
        yield made
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("row", SELECTED)
def test_the_promise_holds(fixtures, row):
    if row not in ATTEMPTS:
        pytest.skip("a row of the table under root only")
    attempt = ATTEMPTS[row]
    if attempt.user and not (bench.IS_ROOT and bench.nobody_python()):
        pytest.skip("runs as nobody, which needs root")
    assert bench.run_attempt(attempt, fixtures) == []
