"""Fit, and measure with cross-validation grouped by article. No I/O, no printing.

Model selection scores every configuration of the grid by macro-F1 over the same folds. The
folds keep each source (article, page) on one side: sentences of one article share quotes and
names, and letting them leak across a split inflates every score.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from stance.compiled import per_class, probabilities
from stance.errors import LabelFileError
from stance.metrics import macro_f1
from stance.pipeline import ModelConfig, build_classifier, build_features, build_pipeline, grid_configs

DEFAULT_FOLDS = 5
Progress = Callable[[str], None]


@dataclass
class SearchResult:
    """Cross-validated macro-F1 of every configuration, and the winner's out-of-fold decisions."""

    best: ModelConfig
    scores: dict[ModelConfig, list[float]]
    oof_decision: np.ndarray  # (n_rows, n_classes), the best config's decisions on held-out rows

    @property
    def best_mean(self) -> float:
        return float(np.mean(self.scores[self.best]))

    @property
    def best_std(self) -> float:
        return float(np.std(self.scores[self.best]))


@dataclass
class TrainResult:
    """A fitted pipeline with what it took to choose it."""

    pipeline: object
    classes: tuple[str, ...]
    config: ModelConfig
    cv_macro_f1_mean: float
    cv_macro_f1_std: float
    n_folds: int
    temperature: float
    seconds: float


def make_folds(labels: Sequence[str], groups: Sequence[str] | None, n_folds: int, seed: int):
    """Cross-validation splits: stratified by label, grouped by source when sources are given.

    Returns a list of (train_index, test_index) pairs."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    labels = np.asarray(labels)
    names, class_counts = np.unique(labels, return_counts=True)
    if len(labels) == 0:
        raise LabelFileError("no labelled rows to learn from.")
    if class_counts.min() < 2:
        raise LabelFileError(f"label {names[class_counts.argmin()]!r} has {class_counts.min()} row; cross-validation "
                             "needs at least two rows of every label. Label more sentences.")
    # More folds than the rarest label has rows would leave folds without it: use fewer.
    n_folds = max(2, min(n_folds, int(class_counts.min())))
    if groups is not None:
        n_groups = len(set(groups))
        if n_groups < 2:
            raise LabelFileError(
                "cross-validation grouped by source needs sentences from at least two sources (nested "
                "evaluation: three), and these rows come from one. Add sentences from other articles, or "
                "drop the source column to split sentence by sentence."
            )
        # StratifiedGroupKFold, not StratifiedKFold: sentences of one article would leak.
        splitter = StratifiedGroupKFold(n_splits=min(n_folds, n_groups), shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(len(labels)), labels, np.asarray(groups)))
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def _full_decision(clf, X, classes) -> np.ndarray:
    """Decision values in the order of `classes`, even when a fold lacked some class."""
    raw = clf.decision_function(X)
    raw = per_class(raw[:, None] if raw.ndim == 1 else raw)
    out = np.full((X.shape[0], len(classes)), -1e3)
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(clf.classes_):
        out[:, index[c]] = raw[:, j]
    return out


def _fold_scores(texts, labels, folds, vec_configs, fold_index, classes, scorer):
    """Fit one TF-IDF configuration on one fold and score every C on it."""
    train_idx, test_idx = folds[fold_index]
    features = build_features(vec_configs[0])
    X_train = features.fit_transform(texts[train_idx])
    X_test = features.transform(texts[test_idx])
    results = []
    for config in vec_configs:
        clf = build_classifier(config).fit(X_train, labels[train_idx])
        decision = _full_decision(clf, X_test, classes)
        predicted = np.asarray(classes)[decision.argmax(axis=1)]
        results.append((config, scorer(labels[test_idx], predicted, classes), decision))
    return fold_index, results


def search(texts, labels, groups, classes, *, seed=0, n_folds=DEFAULT_FOLDS, grid=None, n_jobs=2,
           scorer=macro_f1, progress: Progress | None = None) -> SearchResult:
    """Score every grid configuration by cross-validation over the same folds."""
    from joblib import Parallel, delayed

    texts, labels = np.asarray(texts, dtype=object), np.asarray(labels)
    folds = make_folds(labels, groups, n_folds, seed)
    configs = grid_configs(seed, grid)
    by_vectorizer: dict[tuple, list[ModelConfig]] = {}
    for config in configs:
        by_vectorizer.setdefault(config.vectorizer_key(), []).append(config)
    tasks = [(group, f) for group in by_vectorizer.values() for f in range(len(folds))]
    scores: dict[ModelConfig, list[float]] = {}
    decisions: dict[ModelConfig, np.ndarray] = {}
    # More workers than cores or tasks only cost memory: each is a Python process (--jobs 1000
    # would start a thousand).
    n_jobs = max(1, min(n_jobs, len(tasks), os.cpu_count() or 1))
    jobs = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_fold_scores)(texts, labels, folds, group, f, classes, scorer) for group, f in tasks
    )
    for done, (fold_index, results) in enumerate(jobs, start=1):
        for config, score, decision in results:
            scores.setdefault(config, []).append(score)
            oof = decisions.setdefault(config, np.zeros((len(labels), len(classes))))
            oof[folds[fold_index][1]] = decision
        if progress and (done == len(tasks) or done % max(1, len(tasks) // 5) == 0):
            progress(f"model selection: {done}/{len(tasks)} ({len(by_vectorizer)} feature sets x {len(folds)} folds, "
                     f"{len(configs) // len(by_vectorizer)} values of C each)")
    # Ties go to the configuration listed first, the simpler one.
    best = max(scores, key=lambda c: float(np.mean(scores[c])))
    return SearchResult(best, scores, decisions[best])


def fit_temperature(decision: np.ndarray, labels, classes) -> float:
    """The temperature T that makes softmax(decision / T) best fit held-out labels (log loss).

    Balanced class weights and weak regularisation leave logistic regression over- or
    under-confident; one scalar rescales confidence without changing any predicted label."""
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[label] for label in labels])
    candidates = np.exp(np.linspace(np.log(0.05), np.log(20.0), 400))
    losses = [-np.mean(np.log(probabilities(decision, t)[np.arange(len(y)), y] + 1e-12)) for t in candidates]
    return float(candidates[int(np.argmin(losses))])


def out_of_fold_temperature(texts, labels, groups, classes, config: ModelConfig, n_folds: int = DEFAULT_FOLDS) -> float:
    """The temperature of one configuration, fitted on its out-of-fold decisions (grouped folds
    when groups are given, fewer folds when a class has fewer rows)."""
    texts, labels = np.asarray(texts, dtype=object), np.asarray(labels)
    smallest = min(int((labels == c).sum()) for c in classes)
    folds = make_folds(labels, groups, max(2, min(n_folds, smallest)), config.seed)
    decision = np.zeros((len(labels), len(classes)))
    for train_idx, test_idx in folds:
        pipeline = build_pipeline(config).fit(list(texts[train_idx]), list(labels[train_idx]))
        features = pipeline.named_steps["tfidf"].transform(list(texts[test_idx]))
        decision[test_idx] = _full_decision(pipeline.named_steps["clf"], features, classes)
    return fit_temperature(decision, labels, classes)


def train(texts, labels, groups=None, classes=None, *, seed=0, n_folds=DEFAULT_FOLDS, grid=None, n_jobs=2,
          scorer=macro_f1, calibrate=True, progress: Progress | None = None) -> TrainResult:
    """Choose hyper-parameters by grouped cross-validation, then fit the winner on all rows."""
    started = time.perf_counter()
    classes = tuple(classes or sorted(set(labels)))
    result = search(texts, labels, groups, classes, seed=seed, n_folds=n_folds, grid=grid, n_jobs=n_jobs,
                    scorer=scorer, progress=progress)
    pipeline = build_pipeline(result.best).fit(list(texts), list(labels))
    temperature = fit_temperature(result.oof_decision, labels, classes) if calibrate else 1.0
    return TrainResult(pipeline, classes, result.best, result.best_mean, result.best_std,
                       len(result.scores[result.best]), temperature, time.perf_counter() - started)


@dataclass
class CrossValidation:
    """Out-of-fold predictions of the whole training procedure (model selection included)."""

    predicted: np.ndarray
    proba: np.ndarray  # calibrated, as the trained model reports them
    raw_proba: np.ndarray  # softmax of the decision values before temperature scaling
    chosen: list[ModelConfig]
    pipelines: list  # each outer fold's fitted pipeline
    temperatures: list[float]
    fold_of_row: np.ndarray  # the outer fold that predicted each row


def cross_validate(texts, labels, groups=None, classes=None, *, seed=0, n_folds=DEFAULT_FOLDS, grid=None,
                   n_jobs=2, progress: Progress | None = None) -> CrossValidation:
    """Estimate the whole `train` procedure honestly: model selection runs inside each outer fold
    on that fold's training rows only, and the fold's test rows are predicted once."""
    texts, labels = np.asarray(texts, dtype=object), np.asarray(labels)
    classes = tuple(classes or sorted(set(labels)))
    outer = make_folds(labels, groups, n_folds, seed)
    predicted = np.empty(len(labels), dtype=object)
    proba = np.zeros((len(labels), len(classes)))
    raw_proba = np.zeros((len(labels), len(classes)))
    chosen, pipelines, temperatures = [], [], []
    fold_of_row = np.zeros(len(labels), dtype=int)
    for k, (train_idx, test_idx) in enumerate(outer, start=1):
        inner_groups = None if groups is None else np.asarray(groups)[train_idx]

        def inner_progress(message, k=k):
            if progress:
                progress(f"outer fold {k}/{len(outer)}: {message}")

        fitted = train(texts[train_idx], labels[train_idx], inner_groups, classes, seed=seed, n_folds=n_folds,
                       grid=grid, n_jobs=n_jobs, progress=inner_progress)
        decision = _full_decision(fitted.pipeline.named_steps["clf"],
                                  fitted.pipeline.named_steps["tfidf"].transform(texts[test_idx]), classes)
        proba[test_idx] = probabilities(decision, fitted.temperature)
        raw_proba[test_idx] = probabilities(decision)
        predicted[test_idx] = np.asarray(classes)[decision.argmax(axis=1)]
        chosen.append(fitted.config)
        pipelines.append(fitted.pipeline)
        temperatures.append(fitted.temperature)
        fold_of_row[test_idx] = k - 1
    return CrossValidation(predicted, proba, raw_proba, chosen, pipelines, temperatures, fold_of_row)
