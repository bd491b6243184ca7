"""Build the unfitted TF-IDF + logistic-regression `Pipeline` from a configuration. No I/O."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import product

CHAR_NGRAMS = (2, 5)


@dataclass(frozen=True)
class ModelConfig:
    """The hyper-parameters model selection chooses among, plus the seed."""

    C: float = 2.0
    word_ngram: tuple[int, int] = (1, 2)
    sublinear_tf: bool = True
    min_df: int = 1
    char_ngram: tuple[int, int] | None = None
    scope: bool = False  # word n-grams read negation and reversal scope (stance.direction)
    seed: int = 0

    def vectorizer_key(self) -> tuple:
        """Everything but C: configs sharing it share fitted TF-IDF features."""
        return (self.word_ngram, self.sublinear_tf, self.min_df, self.char_ngram, self.scope)

    def as_dict(self) -> dict:
        return asdict(self)

    def params(self) -> dict:
        """The hyper-parameters alone, as metadata.json records them."""
        return {k: v for k, v in self.as_dict().items() if k != "seed"}

    @classmethod
    def from_params(cls, params: dict, seed: int = 0) -> ModelConfig:
        """The inverse of `params`, after a JSON round trip (which turns tuples into lists)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}, seed=seed)


# The grid searched by `stance train`. Ordered from simplest to richest, so that ties go to the
# simpler model. Character n-grams are always on and min_df is 1: configurations without them lost
# in every comparison on both labels.csv and TweetEval, yet with a few hundred rows per fold the
# search still picked them now and then by luck (docs/benchmarks.md, "Model selection").
GRID = {
    "word_ngram": [(1, 1), (1, 2)],
    "char_ngram": [CHAR_NGRAMS],
    "sublinear_tf": [True, False],
    "min_df": [1],
    "scope": [True],
    "C": [0.5, 2.0, 8.0],
}


def grid_configs(seed: int = 0, grid: dict | None = None) -> list[ModelConfig]:
    """Every configuration of the grid, in a fixed order."""
    grid = grid or GRID
    names = list(grid)
    return [ModelConfig(seed=seed, **dict(zip(names, values))) for values in product(*grid.values())]


def build_features(config: ModelConfig):
    """The `tfidf` step: word n-grams (read with negation scope if chosen), plus character n-grams
    within word boundaries if chosen."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    from stance.direction import mark_scope

    # A preprocessor replaces scikit-learn's lower-casing; mark_scope lower-cases itself.
    word = TfidfVectorizer(ngram_range=config.word_ngram, sublinear_tf=config.sublinear_tf, min_df=config.min_df,
                           preprocessor=mark_scope if config.scope else None)
    char = (
        TfidfVectorizer(analyzer="char_wb", ngram_range=config.char_ngram, sublinear_tf=config.sublinear_tf,
                        min_df=config.min_df)
        if config.char_ngram
        else "drop"
    )
    return FeatureUnion([("word", word), ("char", char)])


def build_classifier(config: ModelConfig):
    """The `clf` step: balanced class weights so the rare stances are not ignored."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=config.C, class_weight="balanced", max_iter=5000, random_state=config.seed)


def build_pipeline(config: ModelConfig):
    """The whole unfitted model: `Pipeline([("tfidf", ...), ("clf", ...)])`."""
    from sklearn.pipeline import Pipeline

    return Pipeline([("tfidf", build_features(config)), ("clf", build_classifier(config))])
