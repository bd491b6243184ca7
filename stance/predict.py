"""Label texts with probabilities, in one canonical class order, a batch or a stream at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from stance.inputs import Item

CHUNK_ROWS = 5000
UNCERTAIN = "uncertain"


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def classify(model, items: list[Item], min_prob: float = 0.0) -> list[dict]:
    """Label a batch: text, label and p_<class> for each class, in the model's class order."""
    return label_texts(model, [item.text for item in items], min_prob).rows()


@dataclass
class Labelled:
    """A batch of texts labelled, as columns: the label of each text and its probabilities
    (one column per class, in `classes` order), and with --explain each text's explanation."""

    texts: list[str]
    labels: list[str]
    proba: np.ndarray
    classes: tuple[str, ...]
    explanations: list[str] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def rows(self) -> list[dict]:
        """One dict a text: text, label, p_<class>... (and explanation), as `classify` gives them."""
        names = [f"p_{c}" for c in self.classes]
        rows = []
        for text, label, p in zip(self.texts, self.labels, self.proba.tolist()):
            row = {"text": text, "label": label}
            row.update(zip(names, p))
            rows.append(row)
        if self.explanations is not None:
            for row, explanation in zip(rows, self.explanations):
                row["explanation"] = explanation
        return rows


def label_texts(model, texts: list[str], min_prob: float = 0.0, explain: int = 0) -> Labelled:
    """Label a batch of texts as columns (see `Labelled`): the most probable class, or
    `uncertain` where its probability is below `min_prob`; with `explain`, the `explain` n-grams
    that weighed most for each label."""
    proba = model.probabilities(texts)
    classes = tuple(model.classes_)
    best = proba.argmax(axis=1) if len(texts) else np.zeros(0, dtype=np.intp)
    named = np.asarray(classes, dtype=object)[best]
    if min_prob > 0:
        named[proba[np.arange(len(texts)), best] < min_prob] = UNCERTAIN
    explanations = explain_column(model, texts, explain) if explain else None
    return Labelled(texts, named.tolist(), proba, classes, explanations)


def explain_column(model, texts: list[str], top: int) -> list[str]:
    """Each text's `top` n-grams toward its label, as `predict --explain` prints them."""
    from stance.explain import explain_texts

    return ["; ".join(f"{t['ngram']} {t['weight']:+.2f}" for t in found["toward"][:top])
            for found in explain_texts(model.compiled_, texts, top)]


def summarise_article(rows: list[dict], classes) -> dict:
    """An article's labelled rows (as `classify` gives them) summed up: how many sentences, the
    count of each label (every class, and `uncertain` when some are), and for cooperate and
    decline the row most probably of that label if it was labelled so, else None."""
    counts = {c: sum(r["label"] == c for r in rows) for c in (*classes, UNCERTAIN)}
    if not counts[UNCERTAIN]:
        del counts[UNCERTAIN]
    most_confident = {}
    for label in ("cooperate", "decline"):
        if label in classes:
            best = max(rows, key=lambda r: r[f"p_{label}"], default=None)
            most_confident[label] = best if best is not None and best["label"] == label else None
    return {"sentences": len(rows), "counts": counts, "most_confident": most_confident}


def classify_stream(model, items: Iterable[Item], min_prob: float = 0.0, chunk_rows: int = CHUNK_ROWS
                    ) -> Iterator[list[dict]]:
    """Classify items chunk by chunk; a chunk size of 1 answers each line as it arrives."""
    for chunk in _chunks(items, chunk_rows):
        yield classify(model, chunk, min_prob)
