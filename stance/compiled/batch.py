"""The batch accelerator of the numpy predictor: from `BATCH_MIN` texts on, a batch is encoded and
split once, each distinct piece between white space is analysed once (cached across batches), and
n-grams are looked up with integer keys in numpy arrays instead of strings in dicts.

It must give the same decision values as the text-by-text path of `stance.compiled.model.Block`
(tests/test_model.py and tests/test_direction.py compare them, and both with scikit-learn). When
it cannot (n-gram keys too large for 64 bits, a NUL inside a text), it returns None and the
text-by-text path serves.
"""

from __future__ import annotations

from itertools import chain, repeat

import numpy as np

from stance.compiled.analyzers import TOKEN
from stance.direction import CUE, LONGER, PREFIX, STOP, TURN, scan

_CACHE_LIMIT = 200_000
# From this many texts on, n-grams are counted with numpy for the whole batch. Measured on the
# shipped model (sentences of labels.csv): the batch path is faster from 4 texts on (0.68 ms
# against 0.78 ms text by text), 3.5 times faster at 16 and 6.5 at 64; at 1 and 2 texts it is
# slower (0.65 ms against 0.30 and 0.52).
BATCH_MIN = 4
_JOIN = " \x00 "
_KEY_LIMIT = 2**62  # an n-gram key is below size ** n; beyond this the text-by-text path serves
_MISS, _SEPARATOR = -1, -2

# What a token does under negation scope, as stored per piece for batches (see Block._scope_entries).
_SCOPE_CODES = {None: 0, CUE: 1, "no": 2, STOP: 3, TURN: 4, LONGER: 5}


class BlockBatch:
    """One block's batch state: its n-gram tables, the analysis of each cached piece, and the
    tf-idf weights folded into its coefficients."""

    def __init__(self, block):
        self.block = block
        self._index = None
        self._folded = None
        self._per_piece: _Ragged | None = None


    def decision(self, batch: Batch) -> np.ndarray | None:
        """This block's share of the batch's decision values, or None when its n-gram keys would
        not fit in 64 bits (the text-by-text path then serves).

        tf-idf, l2 norm and coefficients are folded together: for the term frequencies t of one
        text, X @ coef = (t @ (idf * coef)) / |t * idf|, so only the (texts x classes) result is
        divided by the norms."""
        counts = self._batch_counts(batch)
        if counts is None:
            return None
        tf = counts.data
        if self.block.sublinear_tf:
            np.log(tf, out=tf)
            tf += 1.0
        if self._folded is None:
            self._folded = (self.block.idf[:, None] * self.block.coef, self.block.idf * self.block.idf)
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

        if self.block.analyzer == "word" and self._ngram_tables() is None:
            return None
        self._analyse_new_pieces(batch.cache)
        width = len(self.block.vocabulary)
        if self.block.analyzer == "word":
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
        if self.block.analyzer == "word" and self.block.scope:
            found = [self._scope_entries(piece) for piece in new]
        elif self.block.analyzer == "word":
            tokens = self._index[0]
            found = [[tokens.get(t, -1) for t in TOKEN.findall(piece)] for piece in new]
        else:
            # A piece holding white space that bytes.split() does not know (\xa0, \x1c) is several words.
            found = [[j for word in piece.split() for j in self.block._char_columns(word)] for piece in new]
        store.extend(found)

    def _ngram_tables(self):
        """Token ids of the vocabulary's tokens, each token's unigram column, and every vocabulary
        n-gram of two or more tokens as an integer key over token ids in a hash table, so a batch's
        n-grams are looked up with numpy instead of being joined into strings one by one. None when
        the keys would not fit in 64 bits."""
        if self._index is None:
            tokens: dict[str, int] = {}
            grams: dict[int, list[tuple[list[int], int]]] = {}
            for term, col in self.block.vocabulary.items():
                ids = [tokens.setdefault(part, len(tokens)) for part in term.split(" ")]
                grams.setdefault(len(ids), []).append((ids, col))
            size = max(len(tokens), 1)
            if size ** self.block.ngram[1] >= _KEY_LIMIT:
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
        if self.block.scope:
            ids, row = self._scoped_tokens(ids, np.repeat(batch.rows, lengths // 3))
        else:
            row = np.repeat(batch.rows, lengths)
        rows, cols = [], []
        if self.block.ngram[0] == 1:
            col = np.where(ids >= 0, unigram[ids], -1)
            found = col >= 0
            rows.append(row[found])
            cols.append(col[found])
        for n in range(max(self.block.ngram[0], 2), self.block.ngram[1] + 1):
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
