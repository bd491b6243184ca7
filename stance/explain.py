"""Why the model labels a sentence as it does: each n-gram's share of the decision value.

A linear model's decision value for class k is the intercept plus, over the features present,
the tf-idf value times the coefficient. The shares below are exactly those products, so for every
class they add up, with the intercept, to the decision value the model computes.
"""

from __future__ import annotations

import numpy as np

from stance.compiled import CompiledModel, per_class
from stance.direction import readable


def _name(block, column: int) -> str:
    """A feature's name: the word n-gram (`¬` marks a word in a negation's scope), or `chars:" ab"`
    for a character n-gram (quoted, since its spaces mark word boundaries)."""
    term = block.terms()[column]
    if block.analyzer != "word":
        return f'chars:"{term}"'
    return readable(term) if block.scope else term


def contributions(model: CompiledModel, text: str) -> tuple[list[str], np.ndarray]:
    """The n-grams present in a text and their (n_ngrams, n_classes) shares of the decision."""
    names, shares = [], []
    for block in model.blocks:
        _, cols, values = block.features([text])
        names.extend(_name(block, c) for c in cols)
        shares.append(block.coef[cols] * values[:, None])
    matrix = np.vstack(shares) if shares else np.zeros((0, len(model.intercept)))
    return names, per_class(matrix)


def intercepts(model: CompiledModel) -> np.ndarray:
    return per_class(model.intercept[None, :])[0]


def explain_texts(model: CompiledModel, texts: list[str], top: int = 10) -> list[dict]:
    """For each text: its label, decision values, and the n-grams that pushed toward the label
    (largest positive shares) and against it (most negative shares)."""
    out = []
    for text in texts:
        names, matrix = contributions(model, text)
        intercept = intercepts(model)
        decision = matrix.sum(axis=0) + intercept
        best = int(decision.argmax())
        order = np.argsort(-matrix[:, best], kind="stable")
        toward = [{"ngram": names[i], "weight": float(matrix[i, best])} for i in order if matrix[i, best] > 0][:top]
        against = [{"ngram": names[i], "weight": float(matrix[i, best])} for i in order[::-1]
                   if matrix[i, best] < 0][:top]
        out.append({
            "text": text,
            "label": model.classes[best],
            "decision": {c: float(v) for c, v in zip(model.classes, decision)},
            "intercept": {c: float(v) for c, v in zip(model.classes, intercept)},
            "toward": toward,
            "against": against,
        })
    return out


def global_explanation(model: CompiledModel, top: int = 20) -> dict[str, list[dict]]:
    """The n-grams with the largest coefficients for each class (character n-grams marked)."""
    result = {}
    for k, label in enumerate(model.classes):
        weights, names = [], []
        for block in model.blocks:
            coef = per_class(block.coef)[:, k]
            best = np.argsort(-coef, kind="stable")[:top]
            weights.extend(coef[best])
            names.extend(_name(block, j) for j in best)
        order = np.argsort(-np.asarray(weights), kind="stable")[:top]
        result[label] = [{"ngram": names[i], "weight": float(weights[i])} for i in order]
    return result
