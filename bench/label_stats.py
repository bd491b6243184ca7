"""Counts behind data/README.md: rows per label, origin, state and year, and distinct sources.

Usage: python bench/label_stats.py [labels.csv]
"""

from __future__ import annotations

import sys

import pandas as pd


def main(path: str) -> None:
    labels = pd.read_csv(path, dtype=str, keep_default_na=False)
    print(f"{len(labels)} rows, {labels['source'].nunique()} distinct sources, "
          f"{labels.loc[labels.state != 'US', 'state'].nunique()} states or districts (+ national rows marked US), "
          f"years {labels['year'].min()} to {labels['year'].max()}\n")
    print(pd.crosstab(labels["origin"], labels["label"], margins=True, margins_name="all").to_markdown(), "\n")
    for column in ("state", "year"):
        table = pd.crosstab(labels[column], labels["label"], margins=True, margins_name="all")
        print(table.to_markdown(), "\n")
    written = labels[labels["origin"] == "written"]
    kinds = written.groupby("label")["source"].nunique()
    print("distinct sources per label (written rows):", kinds.to_dict())
    print("rows with a note:", int((labels["note"] != "").sum()), "\n")
    # Who acts in a sentence, by keyword: a rough check that each stance is spread across actors.
    actors = {
        "sheriffs and jails": r"\bsheriff|\bjail",
        "police": r"\bpolice|\bofficers?\b",
        "counties and cities": r"\bcounty\b|\bcity\b|\bmayor|council",
        "states": r"\bstate law|\bgovernor|\bgov\.|legislat|\battorney general|\bstate\b",
        "federal actors": r"\bDHS\b|Homeland Security|Justice Department|\bDOJ\b|\bpresident|Trump|Obama|federal government",
        "courts": r"\bcourt|\bjudge|\bruling|\bruled",
    }
    shares = {name: labels["text"].str.contains(rx, case=False).groupby(labels["label"]).mean()
              for name, rx in actors.items()}
    print(pd.DataFrame(shares).T.round(2).to_markdown())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "labels.csv")
