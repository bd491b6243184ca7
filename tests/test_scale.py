"""Archives at scale: Parquet in and out, worker processes (--jobs), and Dask."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import toy_rows

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

TEXTS = [row["text"] for row in toy_rows()]
CLASSES = ("cooperate", "decline", "neutral")


def write_parquet(path: Path, texts, row_group_size=None, **columns) -> Path:
    table = pa.table({"id": list(range(len(texts))), "body": texts, **columns})
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def many(n: int) -> list[str]:
    return [f"{TEXTS[i % len(TEXTS)]} ({i})" for i in range(n)]


def assert_one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stance: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# --- Parquet ---------------------------------------------------------------------------------

def test_parquet_to_parquet_keeps_the_input_columns_and_adds_labels(invoke, model_dir, tmp_path):
    source = write_parquet(tmp_path / "archive.parquet", TEXTS, row_group_size=10, source=["x"] * len(TEXTS))
    result = invoke("predict", "--file", source, "--text-column", "body", "--output", tmp_path / "out.parquet")
    assert result.exit_code == 0, result.output
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.column_names == ["id", "body", "source", "label", "p_cooperate", "p_decline", "p_neutral"]
    assert out.column("id").to_pylist() == list(range(len(TEXTS)))
    # The same labels and probabilities as a CSV of the same sentences.
    (tmp_path / "same.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    expected = list(csv.DictReader(io.StringIO(invoke("predict", "--file", tmp_path / "same.txt", "--format",
                                                      "csv").stdout)))
    assert out.column("label").to_pylist() == [r["label"] for r in expected]
    for c in CLASSES:
        assert [f"{p:.6f}" for p in out.column(f"p_{c}").to_pylist()] == [r[f"p_{c}"] for r in expected]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "table"])
def test_parquet_to_text_formats(invoke, model_dir, tmp_path, fmt):
    source = write_parquet(tmp_path / "archive.parquet", TEXTS)
    (tmp_path / "same.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    result = invoke("predict", "--file", source, "--text-column", "body", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.stdout == invoke("predict", "--file", tmp_path / "same.txt", "--format", fmt).stdout


@pytest.mark.parametrize("suffix", [".txt", ".csv", ".jsonl"])
def test_text_inputs_to_parquet_by_the_output_suffix(invoke, model_dir, tmp_path, suffix):
    path = tmp_path / f"in{suffix}"
    if suffix == ".txt":
        path.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    elif suffix == ".csv":
        path.write_text("text\n" + "".join(f'"{t}"\n' for t in TEXTS), encoding="utf-8")
    else:
        path.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS), encoding="utf-8")
    result = invoke("predict", "--file", path, "--output", tmp_path / "out.parquet")
    assert result.exit_code == 0, result.output
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.column_names == ["text", "label", "p_cooperate", "p_decline", "p_neutral"]
    assert out.column("text").to_pylist() == TEXTS
    rows = list(csv.DictReader(io.StringIO(invoke("predict", "--file", path, "--format", "csv").stdout)))
    assert out.column("label").to_pylist() == [r["label"] for r in rows]


def test_format_parquet_names_the_output_format_whatever_the_suffix(invoke, model_dir, tmp_path):
    (tmp_path / "in.txt").write_text("\n".join(TEXTS[:5]) + "\n", encoding="utf-8")
    result = invoke("predict", "--file", tmp_path / "in.txt", "--format", "parquet", "--output", tmp_path / "out.bin")
    assert result.exit_code == 0, result.output
    assert pq.read_table(tmp_path / "out.bin").num_rows == 5


def test_explain_and_min_prob_reach_parquet(invoke, model_dir, tmp_path):
    source = write_parquet(tmp_path / "archive.parquet", TEXTS[:6])
    result = invoke("predict", "--file", source, "--text-column", "body", "--output", tmp_path / "out.parquet",
                    "--explain", "2", "--min-prob", "1.0")
    assert result.exit_code == 0, result.output
    out = pq.read_table(tmp_path / "out.parquet")
    rows = list(csv.DictReader(io.StringIO(invoke("predict", "--file", source, "--text-column", "body", "--format",
                                                  "csv", "--explain", "2", "--min-prob", "1.0").stdout)))
    assert out.column("label").to_pylist() == [r["label"] for r in rows]
    assert "uncertain" in out.column("label").to_pylist()
    assert out.column("explanation").to_pylist() == [r["explanation"] for r in rows]


def test_reading_parquet_streams_batches_and_never_reads_the_whole_file(invoke, model_dir, tmp_path, monkeypatch):
    source = write_parquet(tmp_path / "archive.parquet", many(500), row_group_size=100)

    def whole_file(*args, **kwargs):
        raise AssertionError("read the whole file")

    monkeypatch.setattr(pq.ParquetFile, "read", whole_file)
    monkeypatch.setattr(pq, "read_table", whole_file)
    monkeypatch.setattr("stance.bulk.CHUNK_ROWS", 64)
    result = invoke("predict", "--file", source, "--text-column", "body", "--output", tmp_path / "out.parquet")
    assert result.exit_code == 0, result.output
    monkeypatch.undo()
    written = pq.read_table(tmp_path / "out.parquet")
    assert written.column("id").to_pylist() == list(range(500))


def _bad_parquet(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "archive.parquet"
    texts = many(1300)
    if name == "null":
        texts[1233] = None
        write_parquet(path, texts, row_group_size=500)
    elif name == "empty":
        texts[6] = "   "
        write_parquet(path, texts)
    elif name == "not text":
        pq.write_table(pa.table({"body": list(range(10))}), path)
    elif name == "no column":
        pq.write_table(pa.table({"sentence": ["x"]}), path)
    elif name == "not parquet":
        path.write_text("text\nhello there\n")
    elif name == "has label":
        pq.write_table(pa.table({"body": ["hello there"], "label": ["decline"]}), path)
    return path


BAD_PARQUET = [
    ("null", ["archive.parquet row 1234: text is null"]),
    ("empty", ["archive.parquet row 7: empty sentence"]),
    ("not text", ["archive.parquet row 1: text is int, not a string"]),
    ("no column", ["archive.parquet: no column 'body'", "--text-column"]),
    ("not parquet", ["archive.parquet: not a Parquet file"]),
    ("has label", ["already has a column 'label'"]),
]


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("name, fragments", BAD_PARQUET, ids=[c[0] for c in BAD_PARQUET])
def test_bad_parquet_input_is_one_line_and_leaves_no_output(invoke, model_dir, tmp_path, monkeypatch, name,
                                                            fragments, jobs):
    monkeypatch.setattr("stance.bulk.CHUNK_ROWS", 100)  # so the bad row is in a later chunk than the first
    source = _bad_parquet(tmp_path, name)
    # A clashing column matters only to a Parquet output, which keeps the input's columns.
    for output in ("out.parquet",) if name == "has label" else ("out.parquet", "out.csv"):
        result = invoke("predict", "--file", source, "--text-column", "body", "--output", tmp_path / output,
                        "--jobs", jobs)
        assert_one_line_error(result, *fragments)
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("out", ".out"))) == []


def test_without_pyarrow_parquet_says_how_to_install_it(invoke, model_dir, tmp_path, monkeypatch):
    (tmp_path / "in.txt").write_text("hello there\n")
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    for args in (["--file", tmp_path / "in.txt", "--output", tmp_path / "out.parquet"],
                 ["--file", tmp_path / "in.parquet", "--format", "csv"]):
        result = invoke("predict", *args)
        assert_one_line_error(result, "Parquet files need the parquet extra: pip install 'stance[parquet]'")
    assert not (tmp_path / "out.parquet").exists()


@pytest.mark.parametrize("args, fragment", [
    (["--output", "out.parquet", "--format", "csv"], "names a Parquet file but --format is csv"),
    (["--format", "parquet"], "--format parquet: for --file inputs"),
])
def test_parquet_option_conflicts(invoke, model_dir, args, fragment):
    assert_one_line_error(invoke("predict", "The jail kept the hold.", *args), fragment)


# --- worker processes ------------------------------------------------------------------------

def _inputs(tmp_path: Path, n: int) -> dict[str, Path]:
    texts = many(n)
    paths = {"txt": tmp_path / "in.txt", "csv": tmp_path / "in.csv", "jsonl": tmp_path / "in.jsonl",
             "parquet": tmp_path / "in.parquet"}
    paths["txt"].write_text("\n".join(texts) + "\n", encoding="utf-8")
    paths["csv"].write_text("text,id\n" + "".join(f'"{t}",{i}\n' for i, t in enumerate(texts)), encoding="utf-8")
    paths["jsonl"].write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    write_parquet(paths["parquet"], texts, row_group_size=150)
    return paths


@pytest.mark.parametrize("source", ["txt", "csv", "jsonl", "parquet"])
def test_jobs_give_the_same_output_in_the_same_order(invoke, model_dir, tmp_path, monkeypatch, source):
    monkeypatch.setattr("stance.bulk.CHUNK_ROWS", 40)  # many chunks, spread over the workers
    path = _inputs(tmp_path, 600)[source]
    column = ["--text-column", "body"] if source == "parquet" else []
    for fmt in ("csv", "jsonl", "table", "parquet"):
        outputs = []
        for jobs in ("1", "2"):
            out = tmp_path / f"out{jobs}.{fmt}"
            result = invoke("predict", "--file", path, *column, "--format", fmt, "--output", out, "--jobs", jobs,
                            "--explain", "1")
            assert result.exit_code == 0, result.output
            outputs.append(pq.read_table(out) if fmt == "parquet" else out.read_text(encoding="utf-8"))
        if fmt == "parquet":
            assert outputs[0].equals(outputs[1])
            assert outputs[0].num_rows == 600
        else:
            assert outputs[0] == outputs[1]


@pytest.mark.parametrize("source, content, fragment", [
    ("in.jsonl", lambda lines: lines[:250] + ["{nope"] + lines[250:], "in.jsonl line 251: not valid JSON"),
    ("in.txt", lambda lines: lines[:170] + ["\udcff bad"] + lines[170:], "in.txt line 171: not valid UTF-8"),
    ("in.csv", lambda lines: lines[:200] + ['"   "'] + lines[200:], "in.csv line 202: empty sentence"),
])
def test_an_error_in_a_worker_is_the_same_one_line_message(invoke, model_dir, tmp_path, monkeypatch, source,
                                                           content, fragment):
    monkeypatch.setattr("stance.bulk.CHUNK_ROWS", 40)
    texts = many(400)
    lines = [json.dumps({"text": t}) for t in texts] if source.endswith("jsonl") else [f'"{t}"' for t in texts]
    lines = texts if source.endswith("txt") else lines
    header = ["text"] if source.endswith("csv") else []
    (tmp_path / source).write_bytes("\n".join(header + content(lines)).encode("utf-8", "surrogateescape") + b"\n")
    for jobs in ("1", "2"):
        result = invoke("predict", "--file", tmp_path / source, "--format", "csv", "--output", tmp_path / "out.csv",
                        "--jobs", jobs)
        assert_one_line_error(result, fragment)
        assert not (tmp_path / "out.csv").exists()


def test_jobs_default_to_every_core_beyond_a_few_thousand_rows(invoke, model_dir, tmp_path, monkeypatch):
    import stance.parallel

    started = []
    real = stance.parallel.ordered_map

    def recording(make_work, arguments, chunks, jobs):
        started.append(jobs)
        return real(make_work, arguments, chunks, jobs)

    monkeypatch.setattr(stance.parallel, "ordered_map", recording)
    monkeypatch.setattr(stance.parallel, "available_cores", lambda: 2)
    monkeypatch.setattr("stance.bulk.PARALLEL_MIN_ROWS", 300)
    monkeypatch.setattr("stance.bulk.CHUNK_ROWS", 100)
    paths = _inputs(tmp_path, 250)
    for source in ("txt", "parquet"):
        column = ["--text-column", "body"] if source == "parquet" else []
        assert invoke("predict", "--file", paths[source], *column, "--format", "csv").exit_code == 0
    assert started == []  # 250 rows: one process
    paths = _inputs(tmp_path, 650)
    for source in ("txt", "parquet"):
        column = ["--text-column", "body"] if source == "parquet" else []
        result = invoke("predict", "--file", paths[source], *column, "--format", "csv")
        assert result.exit_code == 0, result.output
        assert len(result.stdout.splitlines()) == 651
    assert started == [2, 2]
    assert invoke("predict", "--file", "-", "--format", "csv", input="\n".join(many(650))).exit_code == 0
    assert started == [2, 2]  # stdin: one process, line by line


@pytest.mark.parametrize("args, fragment", [
    (["--file", "-", "--jobs", "2"], "standard input is answered line by line"),
    (["The jail kept the hold.", "--jobs", "2"], "--jobs: for --file inputs"),
])
def test_jobs_option_conflicts(invoke, model_dir, args, fragment):
    assert_one_line_error(invoke("predict", *args, input="x\n"), fragment)


STANCE = [sys.executable, "-m", "stance"]


def _parents() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
    return parents


def _descendants(pid: int) -> set[int]:
    parents = _parents()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _default_sigint() -> None:
    """Ctrl-C as in a terminal: a shell that starts the tests in the background (`pytest &` in a
    script) hands them SIGINT ignored, and a process that starts so is meant not to see it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_labelling(model_dir: Path, tmp_path: Path):
    """A real `stance predict --jobs 2` on a file long enough to be stopped half way, and its workers."""
    source = tmp_path / "big.txt"
    source.write_text("\n".join(many(300_000)) + "\n", encoding="utf-8")
    process = subprocess.Popen([*STANCE, "predict", "--file", str(source), "--model", str(model_dir), "--format",
                                "csv", "--output", str(tmp_path / "out.csv"), "--jobs", "2"], cwd=tmp_path,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               preexec_fn=_default_sigint)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 4:  # resource tracker, fork server, two workers
        time.sleep(0.2)
        workers = _descendants(process.pid)
        assert process.poll() is None, process.stderr.read()
    assert len(workers) >= 4, workers
    time.sleep(1.0)  # labelling under way
    return process, workers


@pytest.mark.parametrize("how, status", [("SIGTERM", 128 + signal.SIGTERM), ("Ctrl-C", 130),
                                         ("SIGKILL", -signal.SIGKILL)])
def test_stopping_a_run_stops_its_workers(model_dir, tmp_path, how, status):
    """SIGTERM and Ctrl-C: the main process stops its workers; SIGKILL: they notice it is gone."""
    process, workers = _start_labelling(model_dir, tmp_path)
    if how == "SIGTERM":
        process.send_signal(signal.SIGTERM)
    elif how == "SIGKILL":
        process.kill()
    else:  # a terminal sends SIGINT to the whole foreground process group
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == status, process.stderr.read()
    assert "Traceback" not in process.stderr.read()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)], "worker processes left behind"
    if how != "SIGKILL":  # (a killed process cannot remove its staged output)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["big.txt", "models"]  # no output, staged or not


def test_a_worker_that_dies_ends_the_run_with_one_line(model_dir, tmp_path):
    process, workers = _start_labelling(model_dir, tmp_path)
    parents = _parents()
    victim = next(pid for pid in sorted(workers) if parents.get(pid) not in (None, process.pid))  # the server's child
    os.kill(victim, signal.SIGKILL)
    try:
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    message = process.stderr.read().strip().splitlines()
    assert process.returncode == 1 and len(message) == 1, message
    assert message[0].startswith("stance: error: a worker process ended without an answer")
    assert not (tmp_path / "out.csv").exists()


# --- Dask -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask.dataframe")
    import logging

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.CRITICAL) as local, distributed.Client(local) as client:
        yield client


def _archive(tmp_path: Path, parts: int = 3, rows: int = 40) -> Path:
    folder = tmp_path / "archive"
    folder.mkdir()
    for part in range(parts):
        texts = many(rows * parts)[part * rows : (part + 1) * rows]
        pq.write_table(pa.table({"id": [f"{part}-{i}" for i in range(len(texts))], "body": texts}),
                       folder / f"part{part}.parquet")
    return folder


def test_dask_labels_each_partition_as_predict_does(cluster, model_dir, tmp_path):
    import dask.dataframe as dd
    import pandas as pd

    import stance
    from stance.dask import predict_partitions

    folder = _archive(tmp_path)
    labelled = predict_partitions(dd.read_parquet(str(folder / "*.parquet")), text="body", model=model_dir)
    frame = labelled.compute()
    assert list(frame.columns) == ["id", "body", "label", "p_cooperate", "p_decline", "p_neutral"]
    expected = stance.load(model_dir).predict_proba(pd.Series(frame["body"].tolist()))
    for c in CLASSES:
        assert frame[f"p_{c}"].tolist() == pytest.approx(expected[f"p_{c}"].tolist(), abs=1e-12)
    assert frame["label"].tolist() == stance.load(model_dir).predict(frame["body"].tolist()).tolist()
    # The model is loaded once per worker process, not per task.
    loaded = cluster.run(lambda: sorted(__import__("stance.dask").dask._MODELS))
    assert all(paths == [str(model_dir.resolve())] for paths in loaded.values())


def test_dask_from_the_command_line(cluster, invoke, model_dir, tmp_path):
    folder = _archive(tmp_path)
    result = invoke("predict", "--dask", cluster.scheduler.address, "--file", f"{folder}/*.parquet", "--text-column",
                    "body", "--output", tmp_path / "labelled")
    assert result.exit_code == 0, result.output
    assert "120 rows from 3 files labelled into" in result.stderr
    written = pq.read_table(tmp_path / "labelled")
    assert written.num_rows == 120 and {"label", "p_decline"} <= set(written.column_names)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_dask_names_the_file_and_row_of_a_bad_text(cluster, invoke, model_dir, tmp_path):
    folder = _archive(tmp_path)
    texts = many(30)
    texts[11] = None
    pq.write_table(pa.table({"id": ["x"] * 30, "body": texts}), folder / "part9.parquet")
    result = invoke("predict", "--dask", cluster.scheduler.address, "--file", f"{folder}/*.parquet", "--text-column",
                    "body", "--output", tmp_path / "labelled")
    assert_one_line_error(result, f"{folder}/part9.parquet row 12: text is null")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive", "models"]


@pytest.mark.parametrize("args, fragment", [
    (["--file", "nowhere/*.parquet", "--output", "out"], "nowhere/*.parquet: no such files"),
    (["--file", "in/*.parquet"], "--dask: give the directory to write with --output"),
    (["--file", "in/*.parquet", "--output", "out", "--jobs", "2"], "leave out --jobs"),
    (["--file", "in/*.parquet", "--output", "out", "--format", "csv"], "--dask writes Parquet files"),
])
def test_dask_option_errors(invoke, model_dir, args, fragment):
    assert_one_line_error(invoke("predict", "--dask", "local", *args), fragment)


def test_without_dask_the_message_says_how_to_install_it(invoke, model_dir, tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m.split(".")[0] in ("dask", "distributed")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "dask", None)
    _archive(tmp_path)
    result = invoke("predict", "--dask", "local", "--file", "archive/*.parquet", "--output", "out")
    assert_one_line_error(result, "Dask needs the dask extra: pip install 'stance[dask]'")
