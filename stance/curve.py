"""Learning curve: cross-validated macro-F1 as the number of labelled rows grows.

Each point trains one fixed configuration (the shipped model's chosen hyper-parameters, or the
defaults) on a random share of each training fold and scores it on the whole held-out fold; the
folds are the same grouped folds as `stance train`, so no article is on both sides.
"""

from __future__ import annotations

import numpy as np

from stance.pipeline import ModelConfig, build_pipeline
from stance.metrics import macro_f1
from stance.training import make_folds

FRACTIONS = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0)


def learning_curve(texts, labels, groups, classes, config: ModelConfig, fractions=FRACTIONS, n_folds=5, seed=0,
                   progress=None) -> list[dict]:
    """Rows of {fraction, rows, macro_f1_mean, macro_f1_std}, one per fraction."""
    texts, labels = np.asarray(texts, dtype=object), np.asarray(labels)
    folds = make_folds(labels, groups, n_folds, seed)
    rng = np.random.default_rng(seed)
    points = []
    for fraction in fractions:
        scores, sizes = [], []
        for train_idx, test_idx in folds:
            size = max(len(classes) * 2, int(round(fraction * len(train_idx))))
            subset = np.sort(rng.permutation(train_idx)[:size])
            if len(set(labels[subset])) < 2:
                continue
            model = build_pipeline(config).fit(list(texts[subset]), list(labels[subset]))
            scores.append(macro_f1(labels[test_idx], model.predict(list(texts[test_idx])), classes))
            sizes.append(len(subset))
        points.append({"fraction": fraction, "rows": int(np.mean(sizes)), "macro_f1_mean": float(np.mean(scores)),
                       "macro_f1_std": float(np.std(scores))})
        if progress:
            progress(f"{fraction:.0%} of the training rows: macro-F1 {points[-1]['macro_f1_mean']:.3f}")
    return points


def plot_curve(points: list[dict], path, title: str = "learning curve") -> None:
    from stance.plotting import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    rows = [p["rows"] for p in points]
    mean = np.array([p["macro_f1_mean"] for p in points])
    std = np.array([p["macro_f1_std"] for p in points])
    ax.plot(rows, mean, marker="o")
    ax.fill_between(rows, mean - std, mean + std, alpha=0.2)
    ax.set_xlabel("labelled rows used for training")
    ax.set_ylabel("macro-F1 (grouped cross-validation)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
