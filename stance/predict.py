"""Label texts with probabilities, in one canonical class order, a batch or a stream at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

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
    proba = model.probabilities([item.text for item in items])
    classes = list(model.classes_)
    rows = []
    for item, p in zip(items, proba):
        best = int(p.argmax())
        label = classes[best] if p[best] >= min_prob else UNCERTAIN
        row = {"text": item.text, "label": label}
        row.update({f"p_{c}": float(v) for c, v in zip(classes, p)})
        rows.append(row)
    return rows


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
