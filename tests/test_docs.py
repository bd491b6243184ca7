"""Docs that cannot drift: every example of docs/api.md runs and its output is compared."""

from __future__ import annotations

import doctest

from tests.conftest import ROOT


def test_every_example_of_the_api_walk_through(monkeypatch):
    monkeypatch.chdir(ROOT)  # the walk-through runs from the repository's root
    monkeypatch.delenv("STANCE_MODEL", raising=False)
    result = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False, verbose=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 20
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of docs/api.md differ (see above)"
