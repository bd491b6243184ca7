"""Bad input never hurts: one line naming the file (and row) and the fix, a non-zero exit, no
traceback, and the previous model or output file left exactly as it was."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.conftest import model_file, toy_rows, write_labels


def fingerprint(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def assert_one_line_error(result, *fragments):
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("stance: error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


# (name, file contents, fragments the message must contain)
BAD_LABEL_FILES = [
    ("missing", None, ["no such file"]),
    ("empty", b"", ["empty"]),
    ("not utf-8", b"text,label\n\xff\xfe caf\xe9,neutral\n", ["line 2", "UTF-8"]),
    ("no label column", b"text,source\nThe jail kept the hold.,a\n", ["line 1", "label", "missing"]),
    ("malformed quotes", b'text,label\n"The jail kept the hold.,neutral\n', ["malformed CSV"]),
    ("too many fields", b"text,label\nThe jail, kept the hold,neutral\n", ["line 2", "3 fields"]),
    ("label outside set", None, ["line 98", "not one of"]),
    ("empty text", None, ["line 98", "empty text"]),
]


@pytest.mark.parametrize("name, content, fragments", BAD_LABEL_FILES, ids=[c[0] for c in BAD_LABEL_FILES])
def test_train_on_bad_labels_fails_cleanly_and_keeps_the_model(invoke, model_dir, tmp_path, name, content, fragments):
    path = tmp_path / "bad.csv"
    if name == "label outside set":
        write_labels(path, toy_rows() + [{"text": "The jail kept the hold.", "label": "support"}])
    elif name == "empty text":
        write_labels(path, toy_rows() + [{"text": " ", "label": "neutral"}])
    elif content is not None:
        _write(path, content)
    before = fingerprint(model_dir)
    result = invoke("train", "--labels", path, "--model", model_dir, "--jobs", "1")
    assert_one_line_error(result, "bad.csv", *fragments)
    assert fingerprint(model_dir) == before


def test_failed_training_leaves_no_partial_model(monkeypatch, model_dir):
    """An error while writing (here: the pipeline cannot be saved) keeps the old model whole."""
    import joblib

    import stance
    from stance.artifacts import save_model

    compiled = stance.load(model_dir).compiled_
    before = fingerprint(model_dir)

    def broken_dump(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(joblib, "dump", broken_dump)
    with pytest.raises(OSError):
        save_model(model_dir, object(), compiled, {})
    assert fingerprint(model_dir) == before
    assert sorted(p.name for p in model_dir.parent.iterdir()) == ["default"]  # no lock file left either


BAD_PREDICT_INPUTS = [
    ("missing file", ["--file", "nowhere.txt"], None, ["nowhere.txt", "no such file"]),
    ("empty csv", ["--file", "in.csv"], b"", ["in.csv", "empty"]),
    ("csv without text column", ["--file", "in.csv"], b"id,sentence\n1,hello there\n", ["in.csv line 1", "--text-column"]),
    ("csv empty sentence", ["--file", "in.csv"], b"text\nfine sentence here\n\"  \"\n", ["in.csv line 3", "empty sentence"]),
    ("not utf-8", ["--file", "in.txt"], b"good line\n\xff\xfe bad\n", ["in.txt line 2", "UTF-8"]),
    ("bad jsonl", ["--file", "in.jsonl"], b'{"text": "ok here"}\n{nope\n', ["in.jsonl line 2", "JSON"]),
    ("jsonl without text", ["--file", "in.jsonl"], b'{"body": "x"}\n', ["in.jsonl line 1", '"text"']),
    ("unknown type", ["--file", "in.xlsx"], b"PK", ["in.xlsx", "unknown file type"]),
    ("empty argument", ["  "], None, ["empty sentence"]),
    ("two inputs", ["hello there", "--file", "in.txt"], b"x\n", ["exactly one input"]),
    ("missing article", ["--article", "gone.txt"], None, ["gone.txt", "no such file"]),
    ("empty article", ["--article", "in.txt"], b"  \n", ["in.txt", "empty"]),
    ("bad format", ["hello there", "--format", "xml"], None, ["--format", "table, csv, jsonl"]),
]


@pytest.mark.parametrize("name, args, content, fragments", BAD_PREDICT_INPUTS, ids=[c[0] for c in BAD_PREDICT_INPUTS])
def test_predict_bad_input(invoke, model_dir, tmp_path, name, args, content, fragments):
    if content is not None:
        target = next(a for a in args if a.startswith("in."))
        _write(tmp_path / target, content)
    out = tmp_path / "predictions.csv"
    out.write_text("previous results\n")
    result = invoke("predict", *args, "--output", out)
    assert_one_line_error(result, *fragments)
    assert out.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def _garble(path):
    """Other bytes of the same size: what the sha256 check catches (a size check would catch less)."""
    path.write_bytes(b"g" * path.stat().st_size)


def _corrupt(model_dir, name):
    if name == "missing directory":
        import shutil

        shutil.rmtree(model_dir)
    elif name == "missing metadata":
        (model_dir / "metadata.json").unlink()
    elif name == "corrupt metadata":
        (model_dir / "metadata.json").write_text("{not json")
    elif name == "corrupt weights":
        _garble(model_file(model_dir, "weights"))
    elif name == "missing weights":
        model_file(model_dir, "weights").unlink()
    elif name == "corrupt pipeline":
        _garble(model_file(model_dir, "pipeline"))
    elif name in ("other scikit-learn", "other format"):
        meta = json.loads((model_dir / "metadata.json").read_text())
        if name == "other scikit-learn":
            meta["versions"]["scikit-learn"] = "0.24.2"
        else:
            meta["format_version"] = 99
        (model_dir / "metadata.json").write_text(json.dumps(meta))


BAD_MODELS = [
    ("missing directory", ["no model directory", "stance train"]),
    ("missing metadata", ["metadata.json", "missing"]),
    ("corrupt metadata", ["metadata.json", "corrupt"]),
    ("corrupt weights", ["weights-", "sha256 is not the one metadata.json records"]),
    ("missing weights", ["weights-", "missing"]),
    ("other format", ["format 99"]),
]


@pytest.mark.parametrize("name, fragments", BAD_MODELS, ids=[c[0] for c in BAD_MODELS])
@pytest.mark.parametrize("command", [["predict", "The jail kept the hold."], ["explain", "The jail kept the hold."]])
def test_bad_model_directory(invoke, model_dir, name, fragments, command):
    _corrupt(model_dir, name)
    result = invoke(*command, "--model", model_dir)
    assert_one_line_error(result, "models/default", *fragments)


@pytest.mark.parametrize("name", ["corrupt pipeline", "other scikit-learn"])
def test_commands_read_no_pickle_so_a_bad_or_foreign_pipeline_does_not_stop_them(invoke, model_dir, labels_file, name):
    """Every command predicts with the numpy model, which checks its own format version only."""
    before = invoke("predict", "The jail kept the hold.", "--model", model_dir, "--format", "csv").stdout
    _corrupt(model_dir, name)
    assert invoke("evaluate", "--test", labels_file, "--model", model_dir).exit_code == 0
    assert invoke("predict", "The jail kept the hold.", "--model", model_dir, "--format", "csv").stdout == before


@pytest.mark.parametrize("recorded, loads", [("0.24.2", False), ("patch", True)])
def test_the_pickle_path_accepts_patch_releases_only(model_dir, recorded, loads):
    import stance
    from stance.artifacts import library_versions
    from stance.errors import ModelError

    meta = json.loads((model_dir / "metadata.json").read_text())
    major, minor, *_ = library_versions()["scikit-learn"].split(".")
    meta["versions"]["scikit-learn"] = f"{major}.{minor}.99" if recorded == "patch" else recorded
    (model_dir / "metadata.json").write_text(json.dumps(meta))
    if loads:
        assert stance.load(model_dir, backend="sklearn").pipeline_ is not None
    else:
        with pytest.raises(ModelError, match="scikit-learn 0.24.2"):
            stance.load(model_dir, backend="sklearn")


def test_bad_test_file_for_evaluate(invoke, model_dir, tmp_path):
    path = write_labels(tmp_path / "test.csv", [{"text": "The jail kept the hold.", "label": "maybe"}])
    assert_one_line_error(invoke("evaluate", "--test", path), "test.csv line 2", "not one of")


def test_evaluate_by_unknown_column(invoke, model_dir, labels_file):
    assert_one_line_error(invoke("evaluate", "--test", labels_file, "--by", "county"), "--by", "county")


def test_bad_classes_option(invoke, labels_file):
    assert_one_line_error(invoke("train", "--classes", "only"), "--classes")


@pytest.mark.parametrize("command, sources", [("train", 1), ("evaluate", 2)])
def test_too_few_sources_to_group_folds(invoke, tmp_path, command, sources):
    rows = toy_rows()
    for i, row in enumerate(rows):
        row["source"] = f"article_{i % sources}.txt"
    path = write_labels(tmp_path / "few_sources.csv", rows)
    result = invoke(command, "--labels", path, "--model", tmp_path / "m", "--jobs", "1")
    # progress lines may come first; the error is the last line, and the only one of its kind
    errors = [line for line in result.stderr.splitlines() if line.startswith("stance: error: ")]
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(errors) == 1 and errors[0] == result.stderr.splitlines()[-1]
    assert "at least two sources" in errors[0]
    assert not (tmp_path / "m").exists()


BAD_CANDIDATES = [
    ("missing", None, ["no such file"]),
    ("no text column", b"sentence,label\nThe jail kept the hold.,\n", ["line 1", "'text'"]),
    ("empty text", b"text,source\nThe jail kept the hold.,a.txt\n\"  \",b.txt\n", ["line 3", "empty text"]),
    ("header only", b"text,label\n", ["no sentences"]),
]


@pytest.mark.parametrize("name, content, fragments", BAD_CANDIDATES, ids=[c[0] for c in BAD_CANDIDATES])
def test_suggest_bad_candidates(invoke, model_dir, tmp_path, name, content, fragments):
    path = tmp_path / "candidates.csv"
    if content is not None:
        _write(path, content)
    out = tmp_path / "next.csv"
    result = invoke("suggest", path, "--out", out)
    assert_one_line_error(result, "candidates.csv", *fragments)
    assert not out.exists()


def test_extract_unknown_segmenter(invoke):
    from tests.conftest import SEEDS

    assert_one_line_error(invoke("extract", SEEDS / "002_273fea6c5273bda8.txt", "--segmenter", "nltk"),
                          "--segmenter", "syntok, pysbd")


@pytest.mark.parametrize("name, fragment", [("corrupt pipeline", "its sha256 is not"), ("missing pipeline", "missing")])
def test_load_pipeline_names_the_damaged_file(model_dir, name, fragment):
    from stance.artifacts import load_pipeline
    from stance.errors import ModelError

    if name == "corrupt pipeline":
        _corrupt(model_dir, name)
    else:
        model_file(model_dir, "pipeline").unlink()
    with pytest.raises(ModelError, match=rf"model-[0-9a-f]{{12}}\.joblib: {fragment}"):
        load_pipeline(model_dir)
