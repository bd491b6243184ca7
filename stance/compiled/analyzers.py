"""The parity-critical part of the numpy predictor: scikit-learn's text analyzers and the
softmax, reproduced exactly, and the list of vectorizer settings they reproduce.

Every function here must give what scikit-learn gives on any text; tests/test_model.py checks
them against `TfidfVectorizer` on arbitrary Unicode (hypothesis), and `check_reproducible`
refuses a fitted vectorizer with any setting not listed in `REPRODUCED`.
"""

from __future__ import annotations

import re

import numpy as np

from stance.direction import mark_scope
from stance.errors import ModelError

# scikit-learn's default token_pattern is (?u)\b\w\w+\b; a greedy \w\w+ finds the same maximal runs
# of two or more word characters, a fifth faster.
TOKEN = re.compile(r"\w\w+")


def probabilities(decision: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Softmax of decision values divided by a temperature; rows sum to one."""
    z = np.asarray(decision, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def per_class(outputs: np.ndarray) -> np.ndarray:
    """One column per class. Binary logistic regression has a single output (positive means the
    second class); it becomes [-d/2, +d/2], whose softmax is the model's sigmoid, and whose
    columns stay additive (shares of the decision add up column by column)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.shape[-1] == 1:
        return np.concatenate([-outputs / 2, outputs / 2], axis=-1)
    return outputs


def word_ngrams(text: str, ngram: tuple[int, int]) -> list[str]:
    """scikit-learn's word analyzer: lower-case, tokens of 2+ word characters, n-grams."""
    tokens = TOKEN.findall(text.lower())
    low, high = ngram
    if high == 1:
        return tokens
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def char_wb_ngrams(word: str, ngram: tuple[int, int]) -> list[str]:
    """scikit-learn's `char_wb` n-grams of one word: padded with spaces, a word shorter than n
    counted once as a whole."""
    padded = f" {word} "
    size = len(padded)
    grams = []
    for n in range(ngram[0], ngram[1] + 1):
        if n >= size:
            grams.append(padded)
            break
        grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return grams


# The vectorizer settings the numpy analyzers reproduce; anything else is refused.
REPRODUCED = {"binary": False, "norm": "l2", "use_idf": True, "strip_accents": None, "stop_words": None,
               "tokenizer": None, "token_pattern": r"(?u)\b\w\w+\b", "lowercase": True}
PREPROCESSORS = {"word": (None, mark_scope), "char_wb": (None,)}


def check_reproducible(name: str, vectorizer) -> None:
    """Refuse a vectorizer setting the numpy analyzers do not reproduce, rather than predict with
    other features than the pipeline's."""
    refuse = f"tfidf step {name!r}: {{}} is not reproduced by the numpy predictor."
    if vectorizer.analyzer not in PREPROCESSORS:
        raise ModelError(refuse.format(f"analyzer={vectorizer.analyzer!r}"))
    for setting, supported in REPRODUCED.items():
        value = getattr(vectorizer, setting)
        if value != supported:
            raise ModelError(refuse.format(f"{setting}={value!r} (supported: {supported!r})"))
    if not any(vectorizer.preprocessor is allowed for allowed in PREPROCESSORS[vectorizer.analyzer]):
        raise ModelError(refuse.format(f"preprocessor={vectorizer.preprocessor!r} on {vectorizer.analyzer} n-grams"))
