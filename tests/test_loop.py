"""The labelling loop: suggest what to label next, and the learning curve."""

from __future__ import annotations

import csv
import json

import numpy as np

from stance.suggest import rank, uncertainty
from tests.conftest import write_labels

CLASSES = ("cooperate", "decline", "neutral")


def test_uncertainty_is_highest_for_ties():
    proba = np.array([[0.5, 0.5, 0.0], [0.9, 0.05, 0.05], [0.4, 0.35, 0.25]])
    assert list(np.argsort(-uncertainty(proba))) == [0, 2, 1]


def test_rank_collapses_near_duplicates():
    texts = ["The county jail will stop honoring ICE detainers next month.",
             "The county jail will stop honoring ICE detainers next month, officials said.",
             "A judge heard arguments about the new state law."]
    proba = np.array([[0.5, 0.5, 0.0], [0.49, 0.51, 0.0], [0.2, 0.3, 0.5]])
    assert rank(texts, proba, CLASSES, n=3, rare_share=0) == [0, 2]


def test_rank_keeps_a_share_for_rare_classes():
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa " \
            "quebec romeo sierra tango uniform victor whiskey xray yankee zulu".split()
    texts = [" ".join(words[i:i + 3]) for i in range(20)] + \
            ["the sheriff signed up with ICE", "police refuse detainers now"]
    proba = np.tile([0.05, 0.1, 0.85], (22, 1)).astype(float)
    proba[:20, 2] = np.linspace(0.5, 0.6, 20)  # uncertain neutrals
    proba[:20, 0] = 1 - proba[:20, 2] - 0.05
    proba[20] = [0.97, 0.02, 0.01]  # confident, rare class
    proba[21] = [0.01, 0.97, 0.02]
    picked = rank(texts, proba, CLASSES, n=10, rare_share=0.2)
    assert {20, 21} <= set(picked) and len(picked) == 10
    assert not {20, 21} & set(rank(texts, proba, CLASSES, n=10, rare_share=0.0))


def test_suggest_command_writes_label_ready_csv(invoke, model_dir, tmp_path):
    from tests.conftest import SEEDS

    candidates = tmp_path / "candidates.csv"
    assert invoke("extract", *sorted(SEEDS.glob("*.txt")), "--out", candidates).exit_code == 0
    result = invoke("suggest", candidates, "--n", "12", "--out", tmp_path / "next.csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(tmp_path / "next.csv", encoding="utf-8")))
    assert len(rows) == 12
    assert list(rows[0])[:7] == ["text", "label", "source", "note", "origin", "state", "year"]
    assert {"guess", "p_guess", "uncertainty"} <= set(rows[0])
    assert all(r["label"] == "" for r in rows)
    scores = [float(r["uncertainty"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    # the suggestions are fed straight back: once labelled, they validate
    for row, label in zip(rows, ["cooperate", "decline", "neutral"] * 4):
        row["label"] = label
    from stance.labels import check_rows, read_rows

    header, parsed = read_rows(write_labels(tmp_path / "more.csv", rows, list(rows[0])))
    assert [p for p in check_rows(header, parsed, min_rows=0) if p.severity == "error"] == []


def test_learning_curve_command(invoke, labels_file, tmp_path):
    result = invoke("learning-curve", "--labels", labels_file, "--folds", "3", "--json", "--plot", tmp_path / "lc.png")
    assert result.exit_code == 0, result.output
    points = json.loads(result.stdout)
    rows = [p["rows"] for p in points]
    assert rows == sorted(rows) and len(points) == 6
    assert all(0 <= p["macro_f1_mean"] <= 1 for p in points)
    assert (tmp_path / "lc.png").read_bytes()[:4] == b"\x89PNG"


def test_learning_curve_table(invoke, labels_file):
    result = invoke("learning-curve", "--labels", labels_file, "--folds", "3")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["rows", "macro-F1", "std"] and len(lines) == 7


def test_evaluate_reports_risk_coverage_and_calibration(invoke, model_dir, labels_file):
    report = json.loads(invoke("evaluate", "--test", labels_file, "--json").stdout)
    coverage = [row["coverage"] for row in report["risk_coverage"]]
    assert coverage[0] == 1.0 and coverage == sorted(coverage, reverse=True)
    assert 0 <= report["calibration"]["ece"] <= 1 and report["calibration"]["brier"] >= 0
