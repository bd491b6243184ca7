"""The shipped data agree with each other: every written article has its manifest row and its
labelled sentences, every frozen source exists, and every labelled article sentence is a sentence
of its article, word for word."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "data" / "articles"


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def manifest() -> dict[str, dict]:
    return {row["file"]: row for row in _rows(ARTICLES / "manifest.csv")}


@pytest.fixture(scope="module")
def labels() -> list[dict]:
    return _rows(ROOT / "labels.csv")


def test_every_article_has_a_complete_manifest_row(manifest):
    files = {path.name for path in ARTICLES.glob("*.txt")}
    assert files == set(manifest), (files ^ set(manifest))
    for name, row in manifest.items():
        text = (ARTICLES / name).read_text(encoding="utf-8")
        assert int(row["words"]) == len(text.split()), name
        assert row["sources"].split() and all(s.startswith("http") for s in row["sources"].split()), name
        assert dt.date.fromisoformat(row["event_date"]).isoformat() == name[:10], name
        assert row["state"] == name[11:13].upper(), name
        assert row["split"] in {"train", "test"}, name


def test_frozen_sources_exist_and_the_manifest_agrees(manifest, labels):
    frozen = [line.strip() for line in (ROOT / "data" / "frozen.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    sources = {row["source"] for row in labels}
    assert set(frozen) <= sources
    assert {name for name, row in manifest.items() if row["split"] == "test"} == set(frozen) & set(manifest)


def test_article_rows_are_verbatim_sentences_of_their_article(manifest, labels):
    by_source: dict[str, list[str]] = {}
    for row in labels:
        if row["origin"] == "article":
            by_source.setdefault(row["source"], []).append(row["text"])
    assert set(by_source) == set(manifest), set(by_source) ^ set(manifest)
    for name, texts in by_source.items():
        article = " ".join((ARTICLES / name).read_text(encoding="utf-8").split())
        missing = [t for t in texts if " ".join(t.split()) not in article]
        assert not missing, (name, missing[:3])
        assert manifest[name]["state"] in {row["state"] for row in labels if row["source"] == name}


def test_second_pass_rows_point_at_their_labels_rows(labels):
    """labels_line in second_pass.csv is the row's line in labels.csv (header = line 1)."""
    rows = _rows(ROOT / "data" / "labelling" / "second_pass.csv")
    assert rows
    for row in rows:
        assert labels[int(row["labels_line"]) - 2]["text"] == row["text"], row["labels_line"]
        assert row["resolved_label"] in {"cooperate", "decline", "neutral"}
