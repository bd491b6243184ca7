"""The numpy-only model: TF-IDF + logistic regression evaluated with numpy alone, its conversion
from a fitted scikit-learn pipeline, and its storage as plain arrays.

`stance predict` loads this instead of the pickled scikit-learn pipeline, for two reasons:
importing scikit-learn takes about a second, and unpickling a file can run arbitrary code. The
arrays live in an `.npz` file read with `allow_pickle=False`; the settings live in JSON.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np

from stance.compiled.analyzers import char_wb_ngrams, check_reproducible, per_class, probabilities, word_ngrams
from stance.compiled.batch import _CACHE_LIMIT, BATCH_MIN, Batch, BlockBatch, PieceCache
from stance.direction import SCOPE_VERSION, mark_scope
from stance.errors import ModelError


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
        self._batch: BlockBatch | None = None

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

    def batch_decision(self, batch: Batch) -> np.ndarray | None:
        """This block's share of a batch's decision values (stance.compiled.batch), or None when the
        batch path cannot serve it."""
        if self._batch is None:
            self._batch = BlockBatch(self)
        return self._batch.decision(batch)

    def _ngram_tables(self):
        if self._batch is None:
            self._batch = BlockBatch(self)
        return self._batch._ngram_tables()



class CompiledModel:
    """Predict with the arrays of a fitted pipeline; no scikit-learn, no pickle."""

    def __init__(self, classes, blocks: list[Block], intercept: np.ndarray, temperature: float = 1.0):
        self.classes = tuple(classes)
        self.blocks = blocks
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.temperature = float(temperature)
        self._pieces = PieceCache()
        self._batch_lock = threading.Lock()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        del state["_batch_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._batch_lock = threading.Lock()

    def decision_function(self, texts: list[str]) -> np.ndarray:
        """(n_texts, n_classes) decision values, binary models spread to two columns.

        Safe to call from several threads (a server's pool, a Dask worker's tasks, user code): a
        batch adds the pieces it has not seen to the piece cache and each block then extends its
        per-piece arrays from it, so batches take turns; the text-by-text path shares nothing that
        a second thread could leave half-written."""
        shares = None
        if len(texts) >= BATCH_MIN:
            with self._batch_lock:
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
            check_reproducible(name, vectorizer)
            vocabulary = {str(term): int(j) for term, j in vectorizer.vocabulary_.items()}
            width = len(vocabulary)
            blocks.append(Block(vectorizer.analyzer, tuple(vectorizer.ngram_range), bool(vectorizer.sublinear_tf),
                                vocabulary, np.asarray(vectorizer.idf_, dtype=np.float64),
                                coef[offset : offset + width].copy(), scope=vectorizer.preprocessor is mark_scope))
            offset += width
        return cls([str(c) for c in clf.classes_], blocks, clf.intercept_, temperature)

    def save(self, target) -> dict:
        """Write the arrays to an .npz file (a path or a binary file object); return the settings
        that go into metadata.json."""
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
        if hasattr(target, "write"):
            np.savez(target, **arrays)
        else:
            with open(target, "wb") as handle:
                np.savez(handle, **arrays)
        return {"classes": list(self.classes), "blocks": settings, "temperature": self.temperature}

    @classmethod
    def load(cls, source, settings: dict, name: str | None = None) -> CompiledModel:
        """Read arrays written by `save` (a path or a binary file object; never unpickling
        anything) and check them against the settings: shapes, counts, finite values."""
        name = name or str(source)
        classes = settings["classes"]
        outputs = 1 if len(classes) == 2 else len(classes)

        def damaged(problem: str) -> ModelError:
            return ModelError(f"{name}: {problem}, not what metadata.json describes. Retrain the model.")

        with np.load(source, allow_pickle=False) as arrays:
            described = {"intercept"} | {f"{kind}_{b}" for b in range(len(settings["blocks"]))
                                         for kind in ("vocabulary", "idf", "coef")}
            extra = sorted(set(arrays.files) - described)
            if extra:  # a block that metadata.json no longer lists would be left out silently
                raise damaged(f"arrays {', '.join(extra)} that no block of metadata.json reads")
            blocks = []
            for b, block in enumerate(settings["blocks"]):
                try:
                    raw = arrays[f"vocabulary_{b}"].tobytes().decode("utf-8")
                    idf, coef = arrays[f"idf_{b}"], arrays[f"coef_{b}"]
                except KeyError as err:
                    raise damaged(f"array {err} missing") from None
                terms = raw.split("\n") if raw else []
                if len(terms) != block["features"] or len(set(terms)) != len(terms):
                    raise damaged(f"block {b} holds {len(terms)} distinct terms of {block['features']}")
                if idf.shape != (len(terms),) or coef.shape != (len(terms), outputs):
                    raise damaged(f"block {b} has arrays of shape {idf.shape} and {coef.shape}")
                if not (np.isfinite(idf).all() and np.isfinite(coef).all()):
                    raise damaged(f"block {b} holds values that are not finite")
                scope = block.get("scope_version")
                if scope is not None and scope != SCOPE_VERSION:
                    raise ModelError(f"{name}: block {b} reads negation scope version {scope!r}, this stance "
                                     f"computes version {SCOPE_VERSION}. Retrain the model.")
                if scope is not None and block["analyzer"] != "word":
                    raise damaged(f"block {b} reads negation scope on {block['analyzer']} n-grams")
                blocks.append(Block(block["analyzer"], tuple(block["ngram_range"]), bool(block["sublinear_tf"]),
                                    {t: j for j, t in enumerate(terms)}, np.asarray(idf, dtype=np.float64),
                                    np.asarray(coef, dtype=np.float64), scope=scope is not None))
            try:
                intercept = arrays["intercept"]
            except KeyError:
                raise damaged("array 'intercept' missing") from None
            if intercept.shape != (outputs,) or not np.isfinite(intercept).all():
                raise damaged(f"intercept of shape {intercept.shape} for {len(classes)} classes")
        return cls(classes, blocks, intercept, settings.get("temperature", 1.0))
