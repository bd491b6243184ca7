"""Agreement between the first labelling of labels.csv and a blind second pass.

Usage: python bench/label_agreement.py [data/labelling/second_pass.csv]
Prints Cohen's kappa, raw agreement and the confusion between the two passes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from sklearn.metrics import cohen_kappa_score, confusion_matrix

from stance import LABELS


def main(path: Path) -> None:
    passes = pd.read_csv(path, dtype=str, keep_default_na=False)
    for sample, part in passes.groupby("sample", sort=False):
        kappa = cohen_kappa_score(part["first_label"], part["second_label"])
        print(f"sample {sample}: {len(part)} sentences, kappa {kappa:.3f}")
    kappa = cohen_kappa_score(passes["first_label"], passes["second_label"])
    agree = (passes["first_label"] == passes["second_label"]).mean()
    print(f"{len(passes)} sentences labelled twice: Cohen's kappa {kappa:.3f}, raw agreement {agree:.1%}")
    matrix = confusion_matrix(passes["first_label"], passes["second_label"], labels=list(LABELS))
    print("\nfirst pass (rows) x second pass (columns)")
    print(f"{'':10}" + "".join(f"{c:>11}" for c in LABELS))
    for label, row in zip(LABELS, matrix):
        print(f"{label:10}" + "".join(f"{v:11d}" for v in row))
    changed = (passes["first_label"] != passes["resolved_label"]).sum()
    print(f"\n{(passes['first_label'] != passes['second_label']).sum()} disagreements resolved by the rules; "
          f"{changed} first-pass labels changed as a result")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "data/labelling/second_pass.csv"))
