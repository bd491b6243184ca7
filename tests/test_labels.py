"""`stance validate`: every problem at once, errors block, warnings do not."""

from __future__ import annotations

import pytest

from stance.labels import validate_labels
from tests.conftest import toy_rows, write_labels


def with_rows(tmp_path, extra: list[dict], columns=("text", "label", "source", "note")):
    """The toy rows plus `extra` (each given a source unless it names one)."""
    return write_labels(tmp_path / "labels.csv", toy_rows() + [{"source": "extra.txt", **row} for row in extra], columns)


FIRST_EXTRA_LINE = len(toy_rows()) + 2


@pytest.mark.parametrize("extra, column, reason, severity", [
    ([{"text": "", "label": "neutral"}], "text", "empty text", "error"),
    ([{"text": "The jail kept the hold.", "label": "support"}], "label", "not one of", "error"),
    ([{"text": "The jail kept the hold.", "label": "Decline "}], "label", 'write "decline"', "error"),
    ([{"text": "The jail kept the hold.", "label": "NEUTRAL"}], "label", 'write "neutral"', "error"),
    ([{"text": "The Denver police will not honor ICE detainers without a judicial warrant.", "label": "cooperate"}],
     "label", "same sentence as line", "error"),
    ([{"text": "the DENVER police  will not honor ICE detainers without a judicial warrant.", "label": "neutral"}],
     "label", "same sentence as line", "error"),
    ([{"text": "The Denver police will not honor ICE detainers without a judicial warrant.", "label": "decline"}],
     "text", "exact duplicate", "warning"),
    ([{"text": "Breaking News", "label": "neutral"}], "text", "page furniture", "warning"),
    ([{"text": "ICE objected.", "label": "neutral"}], "text", "very short", "warning"),
])
def test_each_problem_is_reported_with_line_column_and_reason(tmp_path, extra, column, reason, severity):
    report = validate_labels(with_rows(tmp_path, extra))
    found = [p for p in report.problems if p.line == FIRST_EXTRA_LINE]
    assert len(found) == 1, report.problems
    assert (found[0].column, found[0].severity) == (column, severity)
    assert reason in found[0].reason


def test_clean_file_has_no_problems(labels_file):
    report = validate_labels(labels_file)
    assert report.problems == []
    assert report.summary() == f"{len(toy_rows())} rows checked: 0 errors, 0 warnings"


def test_every_problem_is_reported_at_once(tmp_path, invoke):
    extra = [{"text": "", "label": "neutral"}, {"text": "A sentence here today.", "label": "maybe"},
             {"text": "ICE objected.", "label": "neutral"}]
    path = with_rows(tmp_path, extra)
    result = invoke("validate", path)
    assert result.exit_code == 1
    assert "2 errors, 1 warnings" in result.stdout
    assert "empty text" in result.stdout and "not one of" in result.stdout and "very short" in result.stdout


def test_warnings_alone_pass(tmp_path, invoke):
    result = invoke("validate", with_rows(tmp_path, [{"text": "ICE objected.", "label": "neutral"}]))
    assert result.exit_code == 0
    assert "0 errors, 1 warnings" in result.stdout


def test_class_with_too_few_rows_is_an_error(tmp_path):
    rows = [r for r in toy_rows() if r["label"] != "cooperate"][:60] + toy_rows()[:2]
    report = validate_labels(write_labels(tmp_path / "few.csv", rows))
    assert any('class "cooperate" has 2 rows' in p.reason for p in report.errors)


def test_missing_column_is_an_error(tmp_path):
    report = validate_labels(write_labels(tmp_path / "nolabel.csv", toy_rows(), ("text", "source")))
    assert [(p.column, p.severity) for p in report.errors] == [("label", "error")]


def test_other_class_sets_validate(tmp_path, invoke):
    rows = [{"text": f"tweet number {i} about things", "label": ["none", "against", "favor"][i % 3]} for i in range(30)]
    path = write_labels(tmp_path / "tweets.csv", rows, ("text", "label"))
    assert invoke("validate", path, "--classes", "none,against,favor").exit_code == 0
    assert invoke("validate", path).exit_code == 1


def test_shipped_labels_are_valid():
    from tests.conftest import ROOT

    report = validate_labels(ROOT / "labels.csv")
    assert report.errors == []
