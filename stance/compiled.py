"""The predict-time model: TF-IDF + logistic regression evaluated with numpy alone.

`stance predict` loads this instead of the pickled scikit-learn pipeline, for two reasons:
importing scikit-learn takes about a second, and unpickling a file can run arbitrary code. The
arrays live in an `.npz` file read with `allow_pickle=False`; the settings live in JSON.

The analyzers below reproduce scikit-learn's `TfidfVectorizer` exactly (lower-casing, the default
token pattern, word n-grams, negation scope through `stance.direction.mark_scope`, `char_wb`
n-grams, sublinear tf, idf, l2 norm); a test checks that probabilities agree with the pipeline's to
float precision, and `from_pipeline` refuses any other setting.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path

import numpy as np

from stance.direction import CUE, LONGER, PREFIX, SCOPE_VERSION, STOP, TURN, mark_scope, scan
from stance.errors import ModelError

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
    scope: bool = False  # word n-grams of stance.direction.mark_scope's rewriting of the text

    def __post_init__(self):
        self._word_cache: dict[str, list[int]] = {}
        self._terms: list[str] | None = None
        self._index = None
        self._folded = None
        self._per_piece: _Ragged | None = None

    def terms(self) -> list[str]:
        """Feature names in column order (built on first use: prediction never needs them)."""
        if self._terms is None:
            self._terms = sorted(self.vocabulary, key=self.vocabulary.get)
        return self._terms

    def columns(self, text: str) -> Counter:
        """Counts of this block's vocabulary columns in one text."""
        vocab = self.vocabulary
        if self.analyzer == "word":
            if self.scope:
                text = mark_scope(text)
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
            cols = cache[word] = self._char_columns(word)
        return cols

    def _char_columns(self, word: str) -> list[int]:
        """The vocabulary columns of one word's char_wb n-grams, repeats included."""
        vocab = self.vocabulary
        return [j for j in map(vocab.get, char_wb_ngrams(word, self.ngram)) if j is not None]

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
        tf = counts.data
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
        from scipy import sparse

        if self.analyzer == "word" and self._ngram_tables() is None:
            return None
        self._analyse_new_pieces(batch.cache)
        width = len(self.vocabulary)
        if self.analyzer == "word":
            rows, cols = self._word_ngram_columns(batch)
            order = np.argsort(rows, kind="stable")
            counts = sparse.csr_matrix((np.ones(len(cols)), cols[order], _indptr(rows[order], batch.size)),
                                       shape=(batch.size, width))
            counts.sum_duplicates()
            return counts
        # char_wb n-grams never cross white space: (texts x pieces) @ (pieces x n-grams) sums
        # each text's counts in scipy's sparse product.
        distinct, local = np.unique(batch.piece_ids, return_inverse=True)
        cols, lengths = self._per_piece.gather(distinct)
        grams = sparse.csr_matrix((np.ones(len(cols)), cols, _indptr_from_lengths(lengths)),
                                  shape=(len(distinct), width))
        occurrences = sparse.csr_matrix((np.ones(len(local)), local, _indptr(batch.rows, batch.size)),
                                        shape=(batch.size, len(distinct)))
        return occurrences @ grams

    def _analyse_new_pieces(self, cache: PieceCache) -> None:
        """Analyse the pieces the cache has learnt since this block last looked: their char_wb
        n-gram columns, or their token ids (-1 for a token outside the vocabulary)."""
        if self._per_piece is None or self._per_piece.generation != cache.generation:
            self._per_piece = _Ragged(cache.generation)
        store = self._per_piece
        new = cache.texts[store.count :]
        if not new:
            return
        if self.analyzer == "word" and self.scope:
            found = [self._scope_entries(piece) for piece in new]
        elif self.analyzer == "word":
            tokens = self._index[0]
            found = [[tokens.get(t, -1) for t in TOKEN.findall(piece)] for piece in new]
        else:
            # A piece holding white space that bytes.split() does not know (\xa0, \x1c) is several words.
            found = [[j for word in piece.split() for j in self._char_columns(word)] for piece in new]
        store.extend(found)

    def _ngram_tables(self):
        """Token ids of the vocabulary's tokens, each token's unigram column, and every vocabulary
        n-gram of two or more tokens as an integer key over token ids in a hash table, so a batch's
        n-grams are looked up with numpy instead of being joined into strings one by one. None when
        the keys would not fit in 64 bits."""
        if self._index is None:
            tokens: dict[str, int] = {}
            grams: dict[int, list[tuple[list[int], int]]] = {}
            for term, col in self.vocabulary.items():
                ids = [tokens.setdefault(part, len(tokens)) for part in term.split(" ")]
                grams.setdefault(len(ids), []).append((ids, col))
            size = max(len(tokens), 1)
            if size ** self.ngram[1] >= _KEY_LIMIT:
                self._index = False
                return None
            unigram = np.full(size, -1, dtype=np.intp)
            for ids, col in grams.pop(1, []):
                unigram[ids[0]] = col
            tables = {}
            for n, entries in grams.items():
                keys = np.zeros(len(entries), dtype=np.int64)
                for j in range(n):
                    keys = keys * size + np.array([ids[j] for ids, _ in entries], dtype=np.int64)
                tables[n] = _HashTable(keys, np.array([col for _, col in entries], dtype=np.intp))
            self._index = (tokens, size, unigram, tables)
        return self._index or None

    def _scope_entries(self, piece: str) -> list[int]:
        """For a block reading negation scope: each token of a piece as three integers, what it
        does (a _SCOPE_CODES value), its token id and the id of its `not_` form (-1 outside the
        vocabulary), so that batches apply mark_scope's rules with numpy."""
        tokens = self._index[0]
        entries = []
        for kind, token in scan(piece):
            word = token[:-2] if kind is CUE and token[-2:] in ("'t", "’t") else token  # won't -> won
            code = _SCOPE_CODES["no" if token == "no" else kind]
            entries += [code, tokens.get(word, -1), tokens.get(PREFIX + token, -1) if kind in (None, LONGER) else -1]
        return entries

    def _scoped_tokens(self, entries: np.ndarray, row: np.ndarray):
        """Token ids and rows of the batch as mark_scope rewrites its texts: a word is in a cue's
        scope when an odd number of cues precede it since its text, or the last stop or turning
        word, began; stops are dropped; "longer" right after "no" stays as it is."""
        kind, plain, marked = entries[0::3], entries[1::3], entries[2::3]
        if not len(kind):
            return plain, row
        cue = (kind == _SCOPE_CODES[CUE]) | (kind == _SCOPE_CODES["no"])
        start = np.ones(len(kind), dtype=bool)
        start[1:] = (row[1:] != row[:-1]) | (kind[:-1] == _SCOPE_CODES[STOP]) | (kind[:-1] == _SCOPE_CODES[TURN])
        before = np.cumsum(cue) - cue  # cues before each token
        negated = (before - before[start][np.cumsum(start) - 1]) % 2 == 1
        keep = kind != _SCOPE_CODES[STOP]
        kind, plain, marked, row, negated = kind[keep], plain[keep], marked[keep], row[keep], negated[keep]
        after_no = np.zeros(len(kind), dtype=bool)
        after_no[1:] = (kind[:-1] == _SCOPE_CODES["no"]) & (row[:-1] == row[1:])
        longer = kind == _SCOPE_CODES[LONGER]
        mark = negated & ((kind == _SCOPE_CODES[None]) | (longer & ~after_no))
        return np.where(mark, marked, plain), row

    def _word_ngram_columns(self, batch: Batch):
        """(row, column) of every vocabulary word n-gram occurrence in the batch."""
        _, size, unigram, tables = self._index
        ids, lengths = self._per_piece.gather(batch.piece_ids)
        if self.scope:
            ids, row = self._scoped_tokens(ids, np.repeat(batch.rows, lengths // 3))
        else:
            row = np.repeat(batch.rows, lengths)
        rows, cols = [], []
        if self.ngram[0] == 1:
            col = np.where(ids >= 0, unigram[ids], -1)
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
            col = tables[n].get(keys[valid])
            found = col >= 0
            rows.append(row[:m][valid][found])
            cols.append(col[found])
        if not rows:
            return np.zeros(0, np.intp), np.zeros(0, np.intp)
        return np.concatenate(rows), np.concatenate(cols)


# The vectorizer settings the numpy analyzers reproduce; anything else is refused.
_REPRODUCED = {"binary": False, "norm": "l2", "use_idf": True, "strip_accents": None, "stop_words": None,
               "tokenizer": None, "token_pattern": r"(?u)\b\w\w+\b", "lowercase": True}
_PREPROCESSORS = {"word": (None, mark_scope), "char_wb": (None,)}


# What a token does under negation scope, as stored per piece for batches (see Block._scope_entries).
_SCOPE_CODES = {None: 0, CUE: 1, "no": 2, STOP: 3, TURN: 4, LONGER: 5}


def _check_reproducible(name: str, vectorizer) -> None:
    """Refuse a vectorizer setting the numpy analyzers do not reproduce, rather than predict with
    other features than the pipeline's."""
    refuse = f"tfidf step {name!r}: {{}} is not reproduced by the numpy predictor."
    if vectorizer.analyzer not in _PREPROCESSORS:
        raise ModelError(refuse.format(f"analyzer={vectorizer.analyzer!r}"))
    for setting, supported in _REPRODUCED.items():
        value = getattr(vectorizer, setting)
        if value != supported:
            raise ModelError(refuse.format(f"{setting}={value!r} (supported: {supported!r})"))
    if not any(vectorizer.preprocessor is allowed for allowed in _PREPROCESSORS[vectorizer.analyzer]):
        raise ModelError(refuse.format(f"preprocessor={vectorizer.preprocessor!r} on {vectorizer.analyzer} n-grams"))


def _indptr(rows: np.ndarray, n_rows: int) -> np.ndarray:
    """CSR row pointers for sorted row numbers."""
    return _indptr_from_lengths(np.bincount(rows, minlength=n_rows))


def _indptr_from_lengths(lengths: np.ndarray) -> np.ndarray:
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return indptr


class _Ragged:
    """Integer lists addressed by piece id, stored end to end in one array that grows by doubling."""

    def __init__(self, generation: int):
        self.generation = generation
        self.count = 0
        self.values = np.zeros(4096, dtype=np.int32)
        self.ends = np.zeros(1024, dtype=np.int64)

    def extend(self, lists: list[list[int]]) -> None:
        lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        used = int(self.ends[self.count - 1]) if self.count else 0
        total = used + int(lengths.sum())
        if total > len(self.values):
            self.values = np.concatenate([self.values[:used], np.zeros(max(total, 2 * len(self.values)) - used, np.int32)])
        if self.count + len(lists) > len(self.ends):
            self.ends = np.concatenate([self.ends, np.zeros(max(len(lists), len(self.ends)), np.int64)])
        self.values[used:total] = np.fromiter(chain.from_iterable(lists), dtype=np.int32, count=total - used)
        self.ends[self.count : self.count + len(lists)] = used + np.cumsum(lengths)
        self.count += len(lists)

    def gather(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The lists of `ids`, end to end, and their lengths."""
        ends = self.ends[ids]
        lengths = ends - np.where(ids > 0, self.ends[ids - 1], 0)
        starts_out = np.cumsum(lengths) - lengths
        positions = np.arange(int(lengths.sum())) + np.repeat(ends - lengths - starts_out, lengths)
        return self.values[positions], lengths


class _HashTable:
    """Open addressing over int64 keys (linear probing, a quarter full), looked up with numpy:
    several times faster than a binary search of a sorted array for large batches."""

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, keys: np.ndarray, values: np.ndarray):
        self.bits = max(4, int(4 * len(keys)).bit_length())
        self.mask = (1 << self.bits) - 1
        self.keys = np.full(1 << self.bits, -1, dtype=np.int64)
        self.values = np.full(1 << self.bits, -1, dtype=np.intp)
        for key, value, slot in zip(keys.tolist(), values.tolist(), self._slots(keys).tolist()):
            while self.keys[slot] != -1:
                slot = (slot + 1) & self.mask
            self.keys[slot], self.values[slot] = key, value

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return ((keys.astype(np.uint64) * self._MULTIPLIER) >> np.uint64(64 - self.bits)).astype(np.intp)

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The value of each key, -1 for keys not in the table."""
        out = np.full(len(keys), -1, dtype=np.intp)
        slots = self._slots(keys)
        todo = np.arange(len(keys))
        while len(todo):
            found = self.keys[slots]
            hit = found == keys[todo]
            out[todo[hit]] = self.values[slots[hit]]
            going = ~hit & (found != -1)  # an empty slot ends the probe: the key is absent
            todo, slots = todo[going], (slots[going] + 1) & self.mask
        return out


class PieceCache:
    """The pieces between ASCII white space that batches have held (as UTF-8), each with an id and
    its lower-cased text; blocks keep what they derive from a piece under its id. Cleared when it grows too large,
    which starts a new generation."""

    LIMIT = _CACHE_LIMIT

    def __init__(self):
        self.generation = -1
        self._start()

    def _start(self) -> None:
        self.ids: dict[bytes, int] = {b"\x00": _SEPARATOR}
        self.texts: list[str] = []
        self.generation += 1

    def lookup(self, pieces: list[bytes]) -> np.ndarray:
        if len(self.texts) > self.LIMIT:
            self._start()
        ids = np.fromiter(map(self.ids.get, pieces, repeat(_MISS)), dtype=np.int64, count=len(pieces))
        for i in np.flatnonzero(ids == _MISS).tolist():
            piece = pieces[i]
            pid = self.ids.get(piece)
            if pid is None:
                pid = self.ids[piece] = len(self.texts)
                self.texts.append(piece.decode("utf-8", "surrogatepass").lower())
            ids[i] = pid
        return ids


class Batch:
    """Texts joined, encoded and split at ASCII white space once, for every block.

    Texts are joined by " \\x00 ", so a lone NUL piece separates them; `usable` is False if a text
    holds a NUL of its own (the text-by-text path then serves)."""

    def __init__(self, texts: list[str], cache: PieceCache):
        # Lower-casing piece by piece equals lower-casing the text: the one context-dependent
        # rule (final sigma) never looks across white space.
        joined = _JOIN.join(texts)
        self.size = len(texts)
        self.usable = joined.count("\x00") == len(texts) - 1
        if not self.usable:
            return
        self.cache = cache
        ids = cache.lookup(joined.encode("utf-8", "surrogatepass").split())
        separator = ids == _SEPARATOR
        self.rows = np.cumsum(separator)[~separator]
        self.piece_ids = ids[~separator]


_JOIN = " \x00 "
_KEY_LIMIT = 2**62  # an n-gram key is below size ** n; beyond this the text-by-text path serves
_MISS, _SEPARATOR = -1, -2


class CompiledModel:
    """Predict with the arrays of a fitted pipeline; no scikit-learn, no pickle."""

    def __init__(self, classes, blocks: list[Block], intercept: np.ndarray, temperature: float = 1.0):
        self.classes = tuple(classes)
        self.blocks = blocks
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.temperature = float(temperature)
        self._pieces = PieceCache()

    def decision_function(self, texts: list[str]) -> np.ndarray:
        """(n_texts, n_classes) decision values, binary models spread to two columns."""
        shares = None
        if len(texts) >= BATCH_MIN:
            batch = Batch(texts, self._pieces)
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
        for name, vectorizer in pipeline.named_steps["tfidf"].transformer_list:
            if vectorizer == "drop":
                continue
            _check_reproducible(name, vectorizer)
            vocabulary = {str(term): int(j) for term, j in vectorizer.vocabulary_.items()}
            width = len(vocabulary)
            blocks.append(Block(vectorizer.analyzer, tuple(vectorizer.ngram_range), bool(vectorizer.sublinear_tf),
                                vocabulary, np.asarray(vectorizer.idf_, dtype=np.float64),
                                coef[offset : offset + width].copy(), scope=vectorizer.preprocessor is mark_scope))
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
            if block.scope:
                settings[-1]["scope_version"] = SCOPE_VERSION
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
                scope = block.get("scope_version")
                if scope is not None and scope != SCOPE_VERSION:
                    raise ModelError(f"{path}: block {b} reads negation scope version {scope!r}, this stance "
                                     f"computes version {SCOPE_VERSION}. Retrain the model.")
                blocks.append(Block(block["analyzer"], tuple(block["ngram_range"]), bool(block["sublinear_tf"]),
                                    {t: j for j, t in enumerate(terms)}, arrays[f"idf_{b}"], arrays[f"coef_{b}"],
                                    scope=scope is not None))
            intercept = arrays["intercept"]
        return cls(settings["classes"], blocks, intercept, settings.get("temperature", 1.0))
