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
from itertools import chain, repeat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# scikit-learn's default token_pattern is (?u)\b\w\w+\b; a greedy \w\w+ finds the same maximal runs
# of two or more word characters, a fifth faster.
TOKEN = re.compile(r"\w\w+")
_CACHE_LIMIT = 200_000
BATCH_MIN = 64  # from this many texts on, n-grams are counted with numpy for the whole batch


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
        self._index = None

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
        counts: Counter = Counter()
        # scikit-learn first folds runs of white space to one space; split() ignores them anyway.
        for word in text.lower().split():
            counts.update(self._word_columns(word))
        return counts

    def _word_columns(self, word: str) -> list[int]:
        # char_wb n-grams never cross a word boundary, so each distinct word is analysed once.
        cache = self._word_cache
        cols = cache.get(word)
        if cols is None:
            if len(cache) > _CACHE_LIMIT:
                cache.clear()
            vocab = self.vocabulary
            cols = cache[word] = [j for j in map(vocab.get, char_wb_ngrams(word, self.ngram)) if j is not None]
        return cols

    def _token_index(self):
        """For batches: every vocabulary n-gram as an integer key over token ids, so a batch's
        n-grams are looked up with numpy instead of being joined into strings one by one."""
        if self._index is None:
            tokens: dict[str, int] = {}
            grams: dict[int, list[tuple[list[int], int]]] = {}
            for term, col in self.vocabulary.items():
                ids = [tokens.setdefault(part, len(tokens)) for part in term.split(" ")]
                grams.setdefault(len(ids), []).append((ids, col))
            size = max(len(tokens), 1)
            if size ** self.ngram[1] >= 2**62:
                self._index = False  # keys would overflow: stay on the per-text path
                return self._index
            tables = {}
            for n, entries in grams.items():
                keys = np.zeros(len(entries), dtype=np.int64)
                for j in range(n):
                    keys = keys * size + np.array([ids[j] for ids, _ in entries], dtype=np.int64)
                order = np.argsort(keys)
                tables[n] = (keys[order], np.array([col for _, col in entries], dtype=np.intp)[order])
            self._index = (tokens, size, tables)
        return self._index

    def _batch_word_columns(self, texts: list[str]):
        tokens, size, tables = self._index
        lowered = [TOKEN.findall(text.lower()) for text in texts]
        lengths = np.fromiter(map(len, lowered), dtype=np.intp, count=len(texts))
        ids = np.fromiter(map(tokens.get, chain.from_iterable(lowered), repeat(-1)), dtype=np.int64,
                          count=int(lengths.sum()))
        row = np.repeat(np.arange(len(texts)), lengths)
        rows, cols = [], []
        for n in range(self.ngram[0], self.ngram[1] + 1):
            if n not in tables or len(ids) < n:
                continue
            m = len(ids) - n + 1
            valid = row[:m] == row[n - 1 :]  # the n tokens belong to one text
            keys = np.zeros(m, dtype=np.int64)
            for j in range(n):
                part = ids[j : j + m]
                valid &= part >= 0  # a token outside the vocabulary is in no vocabulary n-gram
                keys = keys * size + part
            keys, starts = keys[valid], row[:m][valid]
            table_keys, table_cols = tables[n]
            at = np.minimum(np.searchsorted(table_keys, keys), len(table_keys) - 1)
            found = table_keys[at] == keys
            rows.append(starts[found])
            cols.append(table_cols[at[found]])
        if not rows:
            return np.zeros(0, np.intp), np.zeros(0, np.intp)
        return np.concatenate(rows), np.concatenate(cols)

    def _batch_char_counts(self, texts: list[str]):
        """A batch's char_wb counts as (sentences x distinct words) @ (distinct words x n-grams):
        each distinct word is analysed once, and the sum runs in scipy's sparse product."""
        from scipy import sparse

        words = [text.lower().split() for text in texts]
        flat = list(chain.from_iterable(words))
        distinct = {word: i for i, word in enumerate(dict.fromkeys(flat))}
        word_ids = np.fromiter(map(distinct.__getitem__, flat), dtype=np.intp, count=len(flat))
        rows = np.repeat(np.arange(len(texts)), np.fromiter(map(len, words), dtype=np.intp, count=len(texts)))
        per_word = [self._word_columns(word) for word in distinct]
        lengths = np.fromiter(map(len, per_word), dtype=np.intp, count=len(per_word))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.fromiter(chain.from_iterable(per_word), dtype=np.intp, count=int(indptr[-1]))
        width = len(self.vocabulary)
        grams = sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(distinct), width))
        occurrences = sparse.csr_matrix((np.ones(len(word_ids)), (rows, word_ids)), shape=(len(texts), len(distinct)))
        # The product sums each sentence's n-gram counts; its rows hold each column once.
        counts = occurrences @ grams
        return (np.repeat(np.arange(len(texts)), np.diff(counts.indptr)).astype(np.intp),
                counts.indices.astype(np.intp), counts.data.astype(np.float64))

    def counts(self, texts: list[str]):
        """(row, column, term count) of every vocabulary n-gram present in the texts."""
        index = self._token_index() if self.analyzer == "word" and len(texts) >= BATCH_MIN else None
        if len(texts) < BATCH_MIN or index is False:
            rows, cols, tfs = [], [], []
            for i, text in enumerate(texts):
                found = self.columns(text)
                rows.extend([i] * len(found))
                cols.extend(found.keys())
                tfs.extend(found.values())
            return (np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp),
                    np.asarray(tfs, dtype=np.float64))
        if self.analyzer != "word":
            return self._batch_char_counts(texts)
        rows, cols = self._batch_word_columns(texts)
        width = len(self.vocabulary)
        keys, tfs = np.unique(rows.astype(np.int64) * width + cols, return_counts=True)
        return (keys // width).astype(np.intp), (keys % width).astype(np.intp), tfs.astype(np.float64)

    def features(self, texts: list[str]):
        """The block's l2-normalised tf-idf rows as flat arrays: (row, column, value)."""
        rows, cols, values = self.counts(texts)
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
        if len(texts) >= BATCH_MIN:  # rows come sorted: a sparse product does it in C
            from scipy import sparse

            indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(texts)))])
            matrix = sparse.csr_matrix((values, cols, indptr), shape=(len(texts), self.coef.shape[0]))
            return np.asarray(matrix @ self.coef)
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
        return per_class(sum(block.decision(texts) for block in self.blocks) + self.intercept)

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
