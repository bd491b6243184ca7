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
        self._folded = None
        self._batch_words: dict[bytes, int] = {}
        self._batch_word_grams: list[np.ndarray] = []

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

    def counts(self, texts: list[str]):
        """(row, column, term count) of every vocabulary n-gram present in the texts, text by text."""
        rows, cols, tfs = [], [], []
        for i, text in enumerate(texts):
            found = self.columns(text)
            rows.extend([i] * len(found))
            cols.extend(found.keys())
            tfs.extend(found.values())
        return np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp), np.asarray(tfs, dtype=np.float64)

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
        """This block's share of the decision values, X_block @ coef, text by text."""
        rows, cols, values = self.features(texts)
        weighted = self.coef[cols] * values[:, None]
        return np.column_stack([np.bincount(rows, weights=weighted[:, k], minlength=len(texts))
                                for k in range(self.coef.shape[1])])

    # --- batches ------------------------------------------------------------------------------

    def batch_decision(self, batch: Batch) -> np.ndarray | None:
        """This block's share of the batch's decision values, or None when its n-gram keys would
        not fit in 64 bits (the text-by-text path then serves).

        tf-idf, l2 norm and coefficients are folded together: for the term frequencies t of one
        text, X @ coef = (t @ (idf * coef)) / |t * idf|, so only the (texts x classes) result is
        divided by the norms."""
        counts = self._batch_counts(batch)
        if counts is None:
            return None
        tf = counts.data.astype(np.float64)
        if self.sublinear_tf:
            np.log(tf, out=tf)
            tf += 1.0
        if self._folded is None:
            self._folded = (self.idf[:, None] * self.coef, self.idf * self.idf)
        weighted, idf_squared = self._folded
        counts.data = tf
        numerator = np.asarray(counts @ weighted)
        counts.data = tf * tf
        norms = np.sqrt(counts @ idf_squared)
        norms[norms == 0] = 1.0
        return numerator / norms[:, None]

    def _batch_counts(self, batch: Batch):
        """The batch's term counts as a (texts x columns) scipy CSR matrix, or None."""
        if self.analyzer != "word":
            return self._batch_char_counts(batch)
        index = self._token_index()
        if index is None:
            return None
        from scipy import sparse

        rows, cols = self._batch_word_columns(batch, index)
        order = np.argsort(rows, kind="stable")
        counts = sparse.csr_matrix((np.ones(len(cols)), cols[order], _indptr(rows[order], batch.size)),
                                   shape=(batch.size, len(self.vocabulary)))
        counts.sum_duplicates()
        return counts

    def _token_index(self):
        """Token ids (UTF-8 bytes -> id), each token's unigram column, and every vocabulary n-gram
        of two or more tokens as a sorted integer key over token ids: a batch's n-grams are then
        looked up with numpy instead of being joined into strings one by one."""
        if self._index is None:
            tokens: dict[bytes, int] = {}
            grams: dict[int, list[tuple[list[int], int]]] = {}
            for term, col in self.vocabulary.items():
                ids = [tokens.setdefault(part.encode("utf-8", "surrogatepass"), len(tokens)) for part in term.split(" ")]
                grams.setdefault(len(ids), []).append((ids, col))
            size = max(len(tokens), 1)
            if size ** self.ngram[1] >= 2**62:
                self._index = False  # keys would overflow
                return None
            unigram = np.full(size, -1, dtype=np.intp)
            for ids, col in grams.pop(1, []):
                unigram[ids[0]] = col
            tables = {}
            for n, entries in grams.items():
                keys = np.zeros(len(entries), dtype=np.int64)
                for j in range(n):
                    keys = keys * size + np.array([ids[j] for ids, _ in entries], dtype=np.int64)
                order = np.argsort(keys)
                tables[n] = (keys[order], np.array([col for _, col in entries], dtype=np.intp)[order])
            # One word character alone is no token: the pattern wants two.
            tokens.update(dict.fromkeys(_ASCII_WORD_CHARS, _DROP))
            tokens[b"\x00"] = _SEPARATOR
            self._index = (tokens, size, unigram, tables)
        return self._index or None

    def _batch_word_columns(self, batch: Batch, index):
        """(row, column) of every vocabulary word n-gram occurrence in the batch."""
        tokens, size, unigram, tables = index
        pieces = batch.data.translate(_WORD_BYTES).split()
        ids = np.fromiter(map(tokens.get, pieces, repeat(_MISS)), dtype=np.int64, count=len(pieces))
        ids = _retokenize_non_ascii(pieces, ids, tokens)
        row = np.cumsum(ids == _SEPARATOR)
        keep = ids > _DROP  # neither a separator nor a one-character piece
        ids, row = ids[keep], row[keep]
        rows, cols = [], []
        if self.ngram[0] == 1:
            col = np.where(ids >= 0, unigram[ids], -1)  # an out-of-vocabulary token is -1 already
            found = col >= 0
            rows.append(row[found])
            cols.append(col[found])
        for n in range(max(self.ngram[0], 2), self.ngram[1] + 1):
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

    def _batch_char_counts(self, batch: Batch):
        """char_wb counts as (texts x words) @ (words x n-grams): each distinct word is analysed
        once and kept for later batches, and the sum runs in scipy's sparse product."""
        from scipy import sparse

        # Pieces between ASCII white space; one that holds other white space (\xa0, \x1c) is
        # several words, and its n-gram counts are theirs added up.
        words = batch.data.split()
        known, grams_of = self._batch_words, self._batch_word_grams
        if len(grams_of) > _CACHE_LIMIT:
            known.clear()
            grams_of.clear()
        known[b"\x00"] = _SEPARATOR
        ids = np.fromiter(map(known.get, words, repeat(_MISS)), dtype=np.int64, count=len(words))
        vocab, ngram = self.vocabulary, self.ngram
        for i in np.flatnonzero(ids == _MISS).tolist():
            word = words[i]
            wid = known.get(word)
            if wid is None:
                wid = known[word] = len(grams_of)
                grams = [g for w in word.decode("utf-8", "surrogatepass").split() for g in char_wb_ngrams(w, ngram)]
                grams_of.append(np.fromiter((j for j in map(vocab.get, grams) if j is not None), dtype=np.int32))
            ids[i] = wid
        row = np.cumsum(ids == _SEPARATOR)
        keep = ids != _SEPARATOR
        ids, row = ids[keep], row[keep]
        distinct, local = np.unique(ids, return_inverse=True)
        per_word = [grams_of[w] for w in distinct.tolist()]
        indptr = np.zeros(len(per_word) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, per_word), dtype=np.int64, count=len(per_word)), out=indptr[1:])
        indices = np.concatenate(per_word) if per_word else np.zeros(0, np.int32)
        grams = sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(distinct), len(vocab)))
        occurrences = sparse.csr_matrix((np.ones(len(local)), local, _indptr(row, batch.size)),
                                        shape=(batch.size, len(distinct)))
        return occurrences @ grams  # each text's n-gram counts, each column once per row


def _indptr(rows: np.ndarray, n_rows: int) -> np.ndarray:
    """CSR row pointers for sorted row numbers."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return indptr


def _retokenize_non_ascii(pieces: list[bytes], ids: np.ndarray, tokens: dict[bytes, int]) -> np.ndarray:
    """Split again, with the token pattern itself, the pieces holding non-ASCII bytes that are no
    known token: they may join tokens with non-ASCII punctuation or space (“we, don’t)."""
    fixes = []
    for i in np.flatnonzero(ids == _MISS).tolist():
        piece = pieces[i]
        if not piece.isascii():
            found = TOKEN.findall(piece.decode("utf-8", "surrogatepass"))
            fixes.append((i, [tokens.get(t.encode("utf-8", "surrogatepass"), _MISS) for t in found]))
    if not fixes:
        return ids
    repeats = np.ones(len(ids), dtype=np.intp)
    for i, found in fixes:
        repeats[i] = len(found)
    out = np.repeat(ids, repeats)
    starts = np.cumsum(repeats) - repeats
    for i, found in fixes:
        out[starts[i] : starts[i] + len(found)] = found
    return out


class Batch:
    """Texts lower-cased, joined and encoded once, so every block reads the same bytes.

    Texts are joined by " \\x00 ", which the blocks read as a separator (it is neither a word
    character nor white space); `usable` is False if a text holds a NUL of its own."""

    def __init__(self, texts: list[str]):
        joined = _JOIN.join(texts).lower()
        self.size = len(texts)
        self.usable = joined.count("\x00") == len(texts) - 1
        self.data = joined.encode("utf-8", "surrogatepass")


_JOIN = " \x00 "
_MISS, _DROP, _SEPARATOR = -1, -2, -3
_ASCII_WORD_CHARS = [bytes([b]) for b in range(128) if chr(b).isalnum() or b == ord("_")]
# For tokens: ASCII bytes that are no word character become spaces (NUL stays: it separates
# texts); non-ASCII bytes stay, and pieces holding them are re-split by `_retokenize_non_ascii`.
_WORD_BYTES = bytes(b if (b >= 128 or b == 0 or bytes([b]) in _ASCII_WORD_CHARS) else 32 for b in range(256))


class CompiledModel:
    """Predict with the arrays of a fitted pipeline; no scikit-learn, no pickle."""

    def __init__(self, classes, blocks: list[Block], intercept: np.ndarray, temperature: float = 1.0):
        self.classes = tuple(classes)
        self.blocks = blocks
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.temperature = float(temperature)

    def decision_function(self, texts: list[str]) -> np.ndarray:
        """(n_texts, n_classes) decision values, binary models spread to two columns."""
        shares = None
        if len(texts) >= BATCH_MIN:
            batch = Batch(texts)
            if batch.usable:
                shares = [block.batch_decision(batch) for block in self.blocks]
        if shares is None or any(share is None for share in shares):
            shares = [block.decision(texts) for block in self.blocks]
        return per_class(sum(shares) + self.intercept)

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
