"""Shared fixtures. Every test runs in its own temporary directory, so the default paths
(`labels.csv`, `models/default`) never point at the project's real files."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stance.cli import app

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "data"
TWEETEVAL = ROOT.parent / "shared" / "benchmarks" / "tweeteval-stance"

AGENCIES = ["Harris County sheriff", "Denver police", "Wake County jail", "Orange County sheriff",
            "Chicago police", "Maricopa County jail", "Austin police", "Frederick County sheriff"]
TEMPLATES = {
    "cooperate": [
        "The {a} signed a 287(g) agreement with ICE this week.",
        "The {a} will keep honoring ICE detainers for people in custody.",
        "Officials said the {a} hands inmates over to immigration agents after arrest.",
        "The {a} joined a federal program to help deport undocumented residents.",
    ],
    "decline": [
        "The {a} will not honor ICE detainers without a judicial warrant.",
        "The {a} refuses to help federal agents with deportation efforts.",
        "The {a} ended its 287(g) agreement and stopped working with ICE.",
        "Leaders said the {a} does not ask about immigration status.",
    ],
    "neutral": [
        "The {a} held a public meeting about its budget on Tuesday.",
        "Residents near the {a} said they were worried about the weather.",
        "Reporters asked the {a} about a new parking garage downtown.",
        "The {a} hired twelve new officers for patrol duty this spring.",
    ],
}


def write_labels(path: Path, rows: list[dict], columns=("text", "label", "source", "note")) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def toy_rows() -> list[dict]:
    """Ninety-six labelled sentences from eight sources, every class in every source."""
    return [
        {"text": template.format(a=agency), "label": label, "source": f"article_{i}.txt", "note": "",
         "origin": "seed" if i < 2 else "written"}
        for i, agency in enumerate(AGENCIES)
        for label, templates in TEMPLATES.items()
        for template in templates
    ]


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def invoke(runner):
    def run(*args, input=None):
        return runner.invoke(app, [str(a) for a in args], input=input)

    return run


@pytest.fixture
def labels_file(tmp_path) -> Path:
    return write_labels(tmp_path / "labels.csv", toy_rows(), ("text", "label", "source", "note", "origin"))


@pytest.fixture(scope="session")
def trained_model_dir(tmp_path_factory) -> Path:
    """One model trained by the CLI on the toy labels, shared read-only by the tests."""
    base = tmp_path_factory.mktemp("model")
    labels = write_labels(base / "labels.csv", toy_rows(), ("text", "label", "source", "note", "origin"))
    result = CliRunner().invoke(app, ["train", "--labels", str(labels), "--model", str(base / "model"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return base / "model"


@pytest.fixture
def model_dir(trained_model_dir, tmp_path) -> Path:
    """A private copy of the trained model, safe to damage."""
    target = tmp_path / "models" / "default"
    shutil.copytree(trained_model_dir, target)
    return target


def model_file(model_dir: Path, part: str) -> Path:
    """The file of a model directory that metadata.json names for `part` (weights or pipeline)."""
    import json

    return model_dir / json.loads((model_dir / "metadata.json").read_text())["files"][part]["name"]
