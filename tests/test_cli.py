"""Each command and option through the CLI, and the installed command in a real process."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SEEDS, TWEETEVAL, toy_rows, write_labels

COOPERATE = "The Harris County sheriff signed a 287(g) agreement with ICE this week."
DECLINE = "The Denver police will not honor ICE detainers without a judicial warrant."


def test_train_writes_model_and_complete_metadata(trained_model_dir):
    meta = json.loads((trained_model_dir / "metadata.json").read_text())
    assert meta["classes"] == ["cooperate", "decline", "neutral"]
    assert meta["rows"] == len(toy_rows())
    assert meta["label_counts"] == {"cooperate": 32, "decline": 32, "neutral": 32}
    assert len(meta["labels_sha256"]) == 64
    assert set(meta["params"]) == {"C", "word_ngram", "sublinear_tf", "min_df", "char_ngram", "scope"}
    assert meta["params"]["scope"] is True and meta["compiled"]["blocks"][0]["scope_version"] == 1
    assert meta["cv"]["grouped_by"] == "source" and 0 <= meta["cv"]["macro_f1_mean"] <= 1
    assert meta["seed"] == 0 and meta["training_seconds"] > 0
    assert {"stance", "python", "scikit-learn", "pandas", "joblib"} <= set(meta["versions"])
    files = meta["files"]
    assert {p.name for p in trained_model_dir.iterdir()} == {files["pipeline"]["name"], files["weights"]["name"],
                                                              "metadata.json"}


def test_train_reports_progress_on_stderr(invoke, labels_file, tmp_path):
    result = invoke("train", "--labels", labels_file, "--model", tmp_path / "m", "--jobs", "1")
    assert result.exit_code == 0
    assert "model selection:" in result.stderr and result.stdout == ""


def test_a_blank_source_is_warned_about_and_recorded(invoke, tmp_path):
    """A blank source silently ungrouping the folds would flatter every score: say so, and where."""
    rows = toy_rows()
    rows[4] = {**rows[4], "source": " "}
    labels = write_labels(tmp_path / "labels.csv", rows)
    checked = invoke("validate", labels)
    assert "    6  warning   source" in checked.stdout and checked.exit_code == 0
    result = invoke("train", "--labels", labels, "--model", tmp_path / "m", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert f"{labels} line 6: warning: 1 rows have a blank source" in result.stderr
    assert json.loads((tmp_path / "m" / "metadata.json").read_text())["cv"]["grouped_by"] is None


def test_train_metadata_hash_matches_the_label_file(trained_model_dir):
    import hashlib

    meta = json.loads((trained_model_dir / "metadata.json").read_text())
    labels = trained_model_dir.parent / "labels.csv"
    assert meta["labels_sha256"] == hashlib.sha256(labels.read_bytes()).hexdigest()


def test_predict_sentences_table(invoke, model_dir):
    result = invoke("predict", COOPERATE, DECLINE)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["label", "p_cooperate", "p_decline", "p_neutral", "text"]
    assert lines[1].split()[0] == "cooperate" and lines[2].split()[0] == "decline"


def test_predict_refuses_an_argument_that_is_not_utf8(invoke, model_dir):
    """Undecodable bytes of argv arrive as a lone surrogate: one line naming the argument, with the
    CLI's advice (serve gives its own, tests/test_serve.py)."""
    result = invoke("predict", COOPERATE, "caf\udce9 bad")
    assert result.exit_code != 0 and result.stdout == ""
    assert result.stderr.strip() == ("stance: error: argument 2: not valid UTF-8 ('\\udce9' at character 4 is "
                                     "not a character). Give the text in UTF-8.")


@pytest.mark.parametrize("suffix, content, extra_args", [
    (".txt", f"{COOPERATE}\n\n{DECLINE}\n", []),
    (".csv", f'id,sentence\n1,"{COOPERATE}"\n2,"{DECLINE}"\n', ["--text-column", "sentence"]),
    (".jsonl", json.dumps({"text": COOPERATE}) + "\n" + json.dumps({"text": DECLINE}) + "\n", []),
])
def test_predict_file_formats(invoke, model_dir, tmp_path, suffix, content, extra_args):
    path = tmp_path / f"input{suffix}"
    path.write_text(content, encoding="utf-8")
    result = invoke("predict", "--file", path, "--format", "csv", *extra_args)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["label"] for r in rows] == ["cooperate", "decline"]
    assert list(rows[0]) == ["text", "label", "p_cooperate", "p_decline", "p_neutral"]
    for row in rows:
        assert abs(sum(float(row[f"p_{c}"]) for c in ("cooperate", "decline", "neutral")) - 1) < 1e-5


def test_predict_stdin_jsonl(invoke, model_dir):
    result = invoke("predict", "--file", "-", "--format", "jsonl", input=f"{COOPERATE}\n{DECLINE}\n")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["label"] for r in records] == ["cooperate", "decline"]


def test_predict_output_file(invoke, model_dir, tmp_path):
    out = tmp_path / "out" / "predictions.csv"
    result = invoke("predict", COOPERATE, "--format", "csv", "--output", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert next(csv.DictReader(out.open()))["label"] == "cooperate"
    assert [p.name for p in out.parent.iterdir()] == ["predictions.csv"]


def test_predict_article_adds_source_sentence_and_summary(invoke, model_dir):
    article = SEEDS / "002_273fea6c5273bda8.txt"
    result = invoke("predict", "--article", article, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0])[-2:] == ["source", "sentence"]
    assert {r["source"] for r in rows} == {article.name}
    assert [int(r["sentence"]) for r in rows] == list(range(1, len(rows) + 1))
    assert f"{len(rows)} sentences" in result.stderr and "most confident" in result.stderr


def test_predict_min_prob_abstains(invoke, model_dir):
    result = invoke("predict", COOPERATE, "--format", "jsonl", "--min-prob", "1.0")
    assert json.loads(result.stdout)["label"] == "uncertain"
    result = invoke("predict", COOPERATE, "--format", "jsonl", "--min-prob", "0.0")
    assert json.loads(result.stdout)["label"] == "cooperate"


def test_predict_explain_column(invoke, model_dir):
    result = invoke("predict", DECLINE, "--format", "jsonl", "--explain", "3")
    record = json.loads(result.stdout)
    assert 1 <= record["explanation"].count(";") + 1 <= 3


def test_evaluate_on_test_file_json(invoke, model_dir, labels_file):
    result = invoke("evaluate", "--test", labels_file, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"n", "accuracy", "macro_f1", "macro_f1_ci", "per_class", "confusion"} <= set(report)
    assert report["n"] == len(toy_rows())
    assert set(report["per_class"]["decline"]) == {"precision", "recall", "f1", "support"}
    assert np.array(report["confusion"]["matrix"]).sum() == report["n"]
    low, high = report["macro_f1_ci"]
    assert low <= report["macro_f1"] <= high


def test_evaluate_by_group_and_plot(invoke, model_dir, labels_file, tmp_path):
    result = invoke("evaluate", "--test", labels_file, "--by", "origin", "--json", "--plot", tmp_path / "cm.png")
    report = json.loads(result.stdout)
    assert set(report["groups"]) == {"seed", "written"}
    assert sum(g["n"] for g in report["groups"].values()) == report["n"]
    assert (tmp_path / "cm.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_text_report(invoke, model_dir, labels_file):
    result = invoke("evaluate", "--test", labels_file)
    for heading in ("precision", "macro-F1", "baseline", "confusion", "Brier", "min-prob"):
        assert heading in result.stdout


def test_evaluate_nested_cross_validation(invoke, labels_file):
    result = invoke("evaluate", "--labels", labels_file, "--folds", "3", "--json", "--jobs", "1")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == len(toy_rows()) and len(report["chosen_per_fold"]) == 3
    assert "outer fold 1/3" in result.stderr


@pytest.mark.skipif(not TWEETEVAL.exists(), reason="../shared/benchmarks is not beside the project")
def test_train_other_class_set_on_public_stance_data(invoke, tmp_path):
    import pandas as pd

    frame = pd.read_csv(TWEETEVAL / "test.csv")
    subset = frame[frame.target == "hillary"].groupby("label").head(40)
    labels = write_labels(tmp_path / "hillary.csv", subset.to_dict("records"), ("text", "label"))
    result = invoke("train", "--labels", labels, "--classes", "none,against,favor", "--model", tmp_path / "h",
                    "--jobs", "1")
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "h" / "metadata.json").read_text())
    assert meta["classes"] == ["against", "favor", "none"] and meta["cv"]["grouped_by"] is None
    result = invoke("predict", "I will never vote for her", "--model", tmp_path / "h", "--format", "csv")
    assert list(csv.DictReader(io.StringIO(result.stdout)))[0]["label"] in {"none", "against", "favor"}


def test_train_drop_conflicts(invoke, tmp_path):
    rows = toy_rows() + [{"text": COOPERATE.upper(), "label": "neutral", "source": "article_0.txt"}]
    labels = write_labels(tmp_path / "conflict.csv", rows)
    result = invoke("train", "--labels", labels, "--model", tmp_path / "m", "--jobs", "1")
    assert result.exit_code == 1 and "--drop-conflicts" in result.stderr
    result = invoke("train", "--labels", labels, "--model", tmp_path / "m", "--jobs", "1", "--drop-conflicts")
    assert result.exit_code == 0, result.output
    assert "left out 2 rows" in result.stderr
    assert json.loads((tmp_path / "m" / "metadata.json").read_text())["rows"] == len(rows) - 2


def test_explain_global_and_json(invoke, model_dir):
    result = invoke("explain", "--global", "--top", "3", "--json")
    strongest = json.loads(result.stdout)
    assert set(strongest) == {"cooperate", "decline", "neutral"}
    assert all(len(v) == 3 for v in strongest.values())
    result = invoke("explain", DECLINE, "--json")
    assert json.loads(result.stdout)[0]["label"] == "decline"


def test_version(invoke):
    from stance import __version__

    assert invoke("--version").stdout.strip() == f"stance {__version__}"


STANCE = shutil.which("stance", path=os.path.dirname(sys.executable)) or shutil.which("stance")


@pytest.mark.skipif(STANCE is None, reason="the stance command is not installed")
def test_installed_command_streams_stdin_line_by_line(model_dir, tmp_path):
    """A real process: each line written to stdin is answered before the next one is sent."""
    process = subprocess.Popen([STANCE, "predict", "--file", "-", "--format", "csv"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        process.stdin.write(COOPERATE + "\n")
        process.stdin.flush()
        assert process.stdout.readline().startswith("text,label")
        assert ",cooperate," in process.stdout.readline()
        process.stdin.write(DECLINE + "\n")
        process.stdin.flush()
        assert ",decline," in process.stdout.readline()
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    assert process.returncode == 0


@pytest.mark.parametrize("command", ["extract", "validate", "train", "evaluate", "predict", "explain", "suggest",
                                     "learning-curve", "serve", "track"])
def test_every_command_starts(command):
    result = subprocess.run([sys.executable, "-m", "stance", command, "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_every_command_is_documented_in_the_readme():
    import typer.main

    from stance.cli import app
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = typer.main.get_command(app).commands
    assert len(commands) == 10
    for name in commands:
        assert f"stance {name}" in readme, name


def test_readme_opens_with_the_two_setup_commands():
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2
    assert "pip install ." in block[0] and "stance predict" in block[0]
    assert 'pip install ".[test]"' in block[1] and "pytest" in block[1]
    assert "python -m pytest -q" in (ROOT / ".ci" / "run").read_text()


def test_predict_empty_input_gives_header_only(invoke, model_dir):
    result = invoke("predict", "--file", "-", "--format", "csv", input="\n\n")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["text,label,p_cooperate,p_decline,p_neutral"]


def test_class_order_given_to_train_does_not_scramble_evaluate(invoke, labels_file, tmp_path):
    """Probability columns follow the classifier's class order whatever order --classes lists."""
    result = invoke("train", "--labels", labels_file, "--classes", "neutral,decline,cooperate", "--model",
                    tmp_path / "m", "--jobs", "1")
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "m" / "metadata.json").read_text())
    assert meta["classes"] == ["cooperate", "decline", "neutral"]
    report = json.loads(invoke("evaluate", "--model", tmp_path / "m", "--test", labels_file, "--json").stdout)
    predicted = list(csv.DictReader(io.StringIO(invoke("predict", "--file", labels_file, "--model", tmp_path / "m",
                                                       "--format", "csv").stdout)))
    agreement = np.mean([p["label"] == r["label"] for p, r in zip(predicted, toy_rows())])
    assert report["accuracy"] == pytest.approx(agreement)
    assert report["accuracy"] > 0.9


def _mislabelled_test_file(tmp_path) -> Path:
    """A test file whose labels are rotated, so the model's confident answers are all 'mistakes'."""
    rotate = {"cooperate": "decline", "decline": "neutral", "neutral": "cooperate"}
    rows = [dict(r, label=rotate[r["label"]]) for r in toy_rows()[:12]]
    return write_labels(tmp_path / "test.csv", rows)


def test_evaluate_errors_lists_the_most_confident_mistakes_with_reasons(invoke, model_dir, tmp_path):
    result = invoke("evaluate", "--model", model_dir, "--test", _mislabelled_test_file(tmp_path), "--errors", "3",
                    "--json")
    assert result.exit_code == 0, result.output
    errors = json.loads(result.stdout)["errors"]
    assert len(errors) == 3
    assert all(e["predicted"] != e["label"] for e in errors)
    assert [e["probability"] for e in errors] == sorted((e["probability"] for e in errors), reverse=True)
    assert all(e["toward"] and e["line"] >= 2 for e in errors)
    text = invoke("evaluate", "--model", model_dir, "--test", _mislabelled_test_file(tmp_path), "--errors", "2").stdout
    assert "the 2 most confident mistakes" in text and "because:" in text


def test_evaluate_errors_under_cross_validation_explains_with_the_fold_model(invoke, tmp_path):
    # Two sources carry rotated labels, so cross-validation must get their rows wrong.
    rotate = {"cooperate": "decline", "decline": "neutral", "neutral": "cooperate"}
    rows = [dict(r, label=rotate[r["label"]]) if r["source"] in ("article_0.txt", "article_1.txt") else r
            for r in toy_rows()]
    labels = write_labels(tmp_path / "labels.csv", rows)
    result = invoke("evaluate", "--labels", labels, "--errors", "3", "--json", "--folds", "2", "--jobs", "1")
    assert result.exit_code == 0, result.output
    errors = json.loads(result.stdout)["errors"]
    assert len(errors) == 3
    for e in errors:
        assert e["predicted"] != e["label"] and e["toward"]
        assert rows[e["line"] - 2]["text"] == e["text"] and rows[e["line"] - 2]["label"] == e["label"]


def test_explain_marks_words_in_a_negation_scope(invoke, model_dir):
    result = invoke("explain", "--model", model_dir, "The Denver police will not honor ICE detainers", "--top", "30",
                    "--json")
    assert result.exit_code == 0, result.output
    names = [g["ngram"] for e in json.loads(result.stdout) for g in e["toward"] + e["against"]]
    assert any(name.startswith("¬") for name in names)


def test_plot_without_matplotlib_says_how_to_install_it(invoke, model_dir, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    result = invoke("evaluate", "--model", model_dir, "--test", write_labels(tmp_path / "t.csv", toy_rows()[:12]),
                    "--plot", tmp_path / "p.png")
    assert result.exit_code == 1
    assert 'pip install "stance[plots]"' in result.output and "Traceback" not in result.output
    assert not (tmp_path / "p.png").exists()


def test_the_article_table_lines_its_headers_up_with_its_values(invoke, model_dir):
    """Every header of `predict --article`'s table starts where its column's values start."""
    lines = invoke("predict", "--article", str(SEEDS / "000_607ac6932bf32d09.txt"), "--model", model_dir).stdout.splitlines()
    header, first = lines[0], lines[1]
    starts = [header.index(name) for name in ("p_cooperate", "source", "sentence", "text")]
    for start in starts:
        assert first[start - 2 : start] == "  " and first[start] != " ", (header, first)
