"""One definition of the scores, used by train, evaluate, learning-curve and bench.

Macro-F1 is scikit-learn's `f1_score(y_true, y_pred, labels=classes, average="macro",
zero_division=0)`: the mean over every class of the task, so a class that a test file lacks
counts as F1 0 when the model predicts it anywhere and as 0 when it never does. A score that
averaged only the classes present would overstate a file that lacks one. Written with numpy, so
evaluating a saved model does not import scikit-learn; tests/test_metrics.py checks it against
scikit-learn on random labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def encode(labels: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Labels as indices into `classes`; ValueError naming any label outside them."""
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({str(y) for y in labels if y not in index})
    if unknown:
        raise ValueError(f"labels {unknown} are not among the classes {list(classes)}")
    return np.fromiter((index[y] for y in labels), dtype=np.intp, count=len(labels))


def confusion(true_idx: np.ndarray, pred_idx: np.ndarray, k: int) -> np.ndarray:
    """k x k counts: row = reference class, column = predicted class."""
    return np.bincount(np.asarray(true_idx) * k + np.asarray(pred_idx), minlength=k * k).reshape(k, k)


def per_class(matrix: np.ndarray):
    """Precision, recall, F1 and support of each class from a confusion matrix (0 where undefined)."""
    tp = np.diag(matrix).astype(float)
    predicted, support = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return precision, recall, f1, support


def macro_f1_indices(true_idx: np.ndarray, pred_idx: np.ndarray, k: int) -> float:
    """Macro-F1 over all k classes of index-encoded labels."""
    if len(true_idx) == 0:
        return 0.0
    return float(per_class(confusion(true_idx, pred_idx, k))[2].mean())


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str]) -> float:
    """Macro-F1 over all `classes`, as scikit-learn defines it with `labels=classes`."""
    classes = list(classes)
    return macro_f1_indices(encode(list(y_true), classes), encode(list(y_pred), classes), len(classes))
