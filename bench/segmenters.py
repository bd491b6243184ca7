"""Compare sentence segmenters on the seed articles against the hand-checked seed sentences.

Usage: python bench/segmenters.py
The reference is every `origin == seed` row of labels.csv: the statement sentences of the five
seed articles as people read and labelled them. Each segmenter runs inside the same extraction
(furniture and repeats dropped, attributions re-attached), so only the splitting differs.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from stance.extract import SEGMENTERS, extract_sentences

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    labels = pd.read_csv(ROOT / "labels.csv", dtype=str, keep_default_na=False)
    gold = labels[labels["origin"] == "seed"]
    rows = []
    for segmenter in SEGMENTERS:
        found = correct = 0
        started = time.perf_counter()
        for source, reference in gold.groupby("source"):
            text = (ROOT / "data" / source).read_text(encoding="utf-8")
            sentences = extract_sentences(text, segmenter)
            found += len(sentences)
            correct += len(set(sentences) & set(reference["text"]))
        seconds = time.perf_counter() - started
        precision, recall = correct / found, correct / len(gold)
        rows.append({"segmenter": segmenter, "reference sentences": len(gold), "extracted": found,
                     "exact matches": correct, "precision": round(precision, 3), "recall": round(recall, 3),
                     "F1": round(2 * precision * recall / (precision + recall), 3), "seconds": round(seconds, 3)})
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
