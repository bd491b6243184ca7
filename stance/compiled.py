"""The predict-time model: TF-IDF + logistic regression evaluated with numpy alone.

`stance predict` loads this instead of the pickled scikit-learn pipeline, for two reasons:
importing scikit-learn takes about a second, and unpickling a file can run arbitrary code. The
arrays live in an `.npz` file read with `allow_pickle=False`; the settings live in JSON.

The analyzers below reproduce scikit-learn's `TfidfVectorizer` exactly (lower-casing, the default
token pattern, word n-grams, `char_wb` n-grams, sublinear tf, idf, l2 norm); a test checks that
probabilities agree with the pipeline's to float precision.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
_RUNS_OF_SPACE = re.compile(r"\s\s+")
_CACHE_LIMIT = 200_000


def probabilities(decision: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Softmax of decision values divided by a temperature; rows sum to one."""
    z = np.asarray(decision, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


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


@dataclass
class Block:
    """One TF-IDF vectorizer of the feature union, with its slice of the coefficients."""

    analyzer: str  # "word" or "char_wb"
    ngram: tuple[int, int]
    sublinear_tf: bool
    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray  # (n_features, n_outputs)

    def __post_init__(self):
        self._word_cache: dict[str, list[int]] = {}
        self._terms: list[str] | None = None

    def terms(self) -> list[str]:
        """Feature names in column order (built on first use: prediction never needs them)."""
        if self._terms is None:
            self._terms = sorted(self.vocabulary, key=self.vocabulary.get)
        return self._terms

    def columns(self, text: str) -> Counter:
        """Counts of this block's vocabulary columns in one text."""
        vocab = self.vocabulary
        if self.analyzer == "word":
            return Counter(j for j in map(vocab.get, word_ngrams(text, self.ngram)) if j is not None)
        # char_wb n-grams never cross a word boundary, so each distinct word is analysed once.
        cache = self._word_cache
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        counts: Counter = Counter()
        for word in _RUNS_OF_SPACE.sub(" ", text.lower()).split():
            cols = cache.get(word)
            if cols is None:
                cols = cache[word] = [j for j in map(vocab.get, char_wb_ngrams(word, self.ngram)) if j is not None]
            counts.update(cols)
        return counts

    def features(self, texts: list[str]):
        """The block's l2-normalised tf-idf rows as flat arrays: (row, column, value)."""
        rows, cols, tfs = [], [], []
        for i, text in enumerate(texts):
            counts = self.columns(text)
            rows.extend([i] * len(counts))
            cols.extend(counts.keys())
            tfs.extend(counts.values())
        rows = np.asarray(rows, dtype=np.intp)
        cols = np.asarray(cols, dtype=np.intp)
        values = np.asarray(tfs, dtype=np.float64)
        if self.sublinear_tf:
            values = np.log(values) + 1.0
        values *= self.idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(texts)))
        norms[norms == 0] = 1.0
        values /= norms[rows]
        return rows, cols, values

    def decision(self, texts: list[str]) -> np.ndarray:
        """This block's share of the decision values: X_block @ coef."""
        rows, cols, values = self.features(texts)
        weighted = self.coef[cols] * values[:, None]
        return np.column_stack([np.bincount(rows, weights=weighted[:, k], minlength=len(texts))
                                for k in range(self.coef.shape[1])])


class CompiledModel:
    """Predict with the arrays of a fitted pipeline; no scikit-learn, no pickle."""

    def __init__(self, classes, blocks: list[Block], intercept: np.ndarray, temperature: float = 1.0):
        self.classes = tuple(classes)
        self.blocks = blocks
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.temperature = float(temperature)

    def decision_function(self, texts: list[str]) -> np.ndarray:
        """(n_texts, n_classes) decision values, binary models spread to two columns."""
        raw = sum(block.decision(texts) for block in self.blocks) + self.intercept
        if raw.shape[1] == 1:  # binary logistic regression: one output, positive means classes[1]
            raw = np.column_stack([-raw[:, 0] / 2, raw[:, 0] / 2])
        return raw

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return probabilities(self.decision_function(texts), self.temperature)

    def predict(self, texts: list[str]) -> list[str]:
        return [self.classes[i] for i in self.decision_function(texts).argmax(axis=1)]

    # --- conversion and storage -------------------------------------------------------------

    @classmethod
    def from_pipeline(cls, pipeline, temperature: float = 1.0) -> CompiledModel:
        """Take the arrays out of a fitted `Pipeline([("tfidf", FeatureUnion), ("clf", LR)])`."""
        clf = pipeline.named_steps["clf"]
        coef = np.asarray(clf.coef_, dtype=np.float64).T  # (n_features, n_outputs)
        blocks, offset = [], 0
        for _, vectorizer in pipeline.named_steps["tfidf"].transformer_list:
            if vectorizer == "drop":
                continue
            vocabulary = {str(term): int(j) for term, j in vectorizer.vocabulary_.items()}
            width = len(vocabulary)
            blocks.append(Block(vectorizer.analyzer, tuple(vectorizer.ngram_range), bool(vectorizer.sublinear_tf),
                                vocabulary, np.asarray(vectorizer.idf_, dtype=np.float64),
                                coef[offset : offset + width].copy()))
            offset += width
        return cls([str(c) for c in clf.classes_], blocks, clf.intercept_, temperature)

    def save(self, path: Path) -> dict:
        """Write the arrays to an .npz file; return the settings that go into metadata.json."""
        arrays = {"intercept": self.intercept}
        settings = []
        for b, block in enumerate(self.blocks):
            terms = sorted(block.vocabulary, key=block.vocabulary.get)
            arrays[f"vocabulary_{b}"] = np.frombuffer("\n".join(terms).encode("utf-8"), dtype=np.uint8)
            arrays[f"idf_{b}"] = block.idf
            arrays[f"coef_{b}"] = block.coef
            settings.append({"analyzer": block.analyzer, "ngram_range": list(block.ngram),
                             "sublinear_tf": block.sublinear_tf, "features": len(terms)})
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)
        return {"classes": list(self.classes), "blocks": settings, "temperature": self.temperature}

    @classmethod
    def load(cls, path: Path, settings: dict) -> CompiledModel:
        """Read arrays written by `save` (never unpickling anything) and the settings."""
        with np.load(path, allow_pickle=False) as arrays:
            blocks = []
            for b, block in enumerate(settings["blocks"]):
                raw = arrays[f"vocabulary_{b}"].tobytes().decode("utf-8")
                terms = raw.split("\n") if raw else []
                blocks.append(Block(block["analyzer"], tuple(block["ngram_range"]), bool(block["sublinear_tf"]),
                                    {t: j for j, t in enumerate(terms)}, arrays[f"idf_{b}"], arrays[f"coef_{b}"]))
            intercept = arrays["intercept"]
        return cls(settings["classes"], blocks, intercept, settings.get("temperature", 1.0))
