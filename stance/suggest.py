"""Which unlabelled sentences to label next: the ones the model is least sure of, without
near-duplicates, with a share kept for the rarer stances so they grow.

The ranking is uncertainty sampling by margin: one minus the gap between the two highest
probabilities. A sentence the model splits evenly between two labels teaches it most.
"""

from __future__ import annotations

import math
import re

import numpy as np

from stance.labels import LABEL_COLUMNS

_WORD = re.compile(r"\w+")
RARE_SHARE = 0.3
NEAR_DUPLICATE = 0.6  # Jaccard similarity of word sets above which two sentences count as one


def uncertainty(proba: np.ndarray) -> np.ndarray:
    """1 - (p_top - p_second): 1 when two labels tie, near 0 when the model is sure."""
    top2 = np.sort(proba, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.casefold()))


def _similar(a: frozenset, b: frozenset) -> bool:
    return bool(a or b) and len(a & b) / len(a | b) >= NEAR_DUPLICATE


def rank(texts: list[str], proba: np.ndarray, classes, n: int, rare_share: float = RARE_SHARE) -> list[int]:
    """Indices of up to n texts to label next, most useful first.

    The rare classes are those the model predicts less often than its most predicted class in
    this pool; ceil(rare_share * n) places go to the sentences predicted as one of them with the
    most probability off the common class, so that the labels found there are mostly rare ones."""
    scores = uncertainty(proba)
    guesses = proba.argmax(axis=1)
    common = np.bincount(guesses, minlength=len(classes)).argmax()
    order = np.argsort(-scores, kind="stable")
    rare_mass = 1.0 - proba[:, common]
    rare_order = [i for i in np.argsort(-rare_mass, kind="stable") if guesses[i] != common]
    rare_places = min(math.ceil(rare_share * n), len(rare_order))
    chosen: list[int] = []
    chosen_words: list[frozenset] = []

    def take(candidates, limit):
        for i in candidates:
            if len(chosen) >= limit:
                return
            words = _words(texts[i])
            if i in chosen_set or any(_similar(words, other) for other in chosen_words):
                continue
            chosen.append(i)
            chosen_set.add(i)
            chosen_words.append(words)

    chosen_set: set[int] = set()
    take(rare_order, rare_places)
    take(order, n)
    # Most useful first, whichever quota brought a sentence in.
    return sorted(chosen, key=lambda i: -scores[i])


def read_candidates(path):
    """The unlabelled sentences of a CSV (as `stance extract` writes it) as a DataFrame, all
    columns kept; a missing text column, an empty text or an empty file is a UsageError."""
    import pandas as pd

    from stance.errors import UsageError
    from stance.labels import read_rows

    header, rows = read_rows(path)
    if "text" not in header:
        raise UsageError(f"{path} line 1: no column 'text'; give the CSV written by `stance extract`.")
    empty = next((line for line, row in rows if not row["text"].strip()), None)
    if empty:
        raise UsageError(f"{path} line {empty}: empty text. Remove the row.")
    if not rows:
        raise UsageError(f"{path}: no sentences to rank.")
    return pd.DataFrame([row for _, row in rows], columns=header)


def suggestions(model, frame, n: int = 50, rare_share: float = RARE_SHARE) -> list[dict]:
    """Label-ready rows (label empty) for the n sentences of `frame` worth labelling next."""
    texts = frame["text"].tolist()
    proba = model.probabilities(texts)
    classes = list(model.classes_)
    picked = rank(texts, proba, classes, n, rare_share)
    scores = uncertainty(proba)
    rows = []
    for i in picked:
        best = int(proba[i].argmax())
        record = frame.iloc[i]
        row = {column: str(record.get(column, "")) for column in LABEL_COLUMNS}
        row.update(label="", note="", guess=classes[best], p_guess=round(float(proba[i, best]), 4),
                   uncertainty=round(float(scores[i]), 4))
        rows.append(row)
    return rows
