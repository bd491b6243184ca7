"""Does negation scope help? Grouped 5-fold CV on the written rows of labels.csv, with and without it.

Usage: python bench/scope_ablation.py
Only `origin == written` rows are used: the seed and article rows hold the frozen split, which no
choice of features may look at. Prints the mean macro-F1 of each value of C, with and without scope.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stance import LABELS
from stance.pipeline import CHAR_NGRAMS, GRID
from stance.training import search

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    labels = pd.read_csv(ROOT / "labels.csv", dtype=str, keep_default_na=False)
    written = labels[labels["origin"] == "written"]
    print(f"{len(written)} written rows, grouped 5-fold CV, word 1-2 + char {CHAR_NGRAMS[0]}-{CHAR_NGRAMS[1]}, sublinear tf")
    print(f"{'scope':>6}  " + "  ".join(f"C={c:<5}" for c in GRID["C"]) + "  best")
    for scope in (False, True):
        grid = {**GRID, "word_ngram": [(1, 2)], "sublinear_tf": [True], "scope": [scope]}
        result = search(list(written["text"]), list(written["label"]), list(written["source"]), LABELS, grid=grid)
        means = [float(np.mean(result.scores[config])) for config in sorted(result.scores, key=lambda c: c.C)]
        print(f"{str(scope):>6}  " + "  ".join(f"{m:.4f} " for m in means) + f"  {max(means):.3f}")


if __name__ == "__main__":
    main()
