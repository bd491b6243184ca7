"""Score predictions against labels: the report as data, a text rendering, and plots.

A report holds per-class precision, recall, F1 and support, macro-F1 with a bootstrap 95%
interval, accuracy, a majority-class baseline, the confusion matrix and, when probabilities are
given, their calibration (Brier score, expected calibration error) and a risk-coverage table for
choosing `stance predict --min-prob`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stance.metrics import confusion as _confusion, encode, macro_f1_indices, per_class as _per_class

BOOTSTRAP_ROUNDS = 1000
CALIBRATION_BINS = 10
THRESHOLDS = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def bootstrap_interval(true_idx, pred_idx, k, seed=0, rounds=BOOTSTRAP_ROUNDS) -> list[float]:
    """95% percentile interval of macro-F1 over rows resampled with replacement."""
    rng = np.random.default_rng(seed)
    n = len(true_idx)
    scores = [macro_f1_indices(true_idx[s], pred_idx[s], k) for s in (rng.integers(0, n, n) for _ in range(rounds))]
    return [float(np.percentile(scores, 2.5)), float(np.percentile(scores, 97.5))]


def calibration(true_idx: np.ndarray, proba: np.ndarray, bins=CALIBRATION_BINS) -> dict:
    """Brier score (mean squared error of the probability vector, summed over classes), expected
    calibration error of the top probability, and the reliability table behind it."""
    onehot = np.eye(proba.shape[1])[true_idx]
    confidence, chosen = proba.max(axis=1), proba.argmax(axis=1)
    correct = (chosen == true_idx).astype(float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            gap = abs(correct[mask].mean() - confidence[mask].mean())
            ece += mask.mean() * gap
            table.append({"bin": [float(edges[b]), float(edges[b + 1])], "n": int(mask.sum()),
                          "confidence": float(confidence[mask].mean()), "accuracy": float(correct[mask].mean())})
    return {"brier": float(((proba - onehot) ** 2).sum(axis=1).mean()), "ece": float(ece), "reliability": table}


def risk_coverage(true_idx, proba, k, thresholds=THRESHOLDS) -> list[dict]:
    """For each threshold P: the share of rows whose top probability reaches P (coverage), and
    accuracy and macro-F1 on those rows alone."""
    confidence, chosen = proba.max(axis=1), proba.argmax(axis=1)
    rows = []
    for threshold in thresholds:
        kept = confidence >= threshold
        row = {"min_prob": threshold, "coverage": float(kept.mean()), "n": int(kept.sum())}
        row["accuracy"] = float((chosen[kept] == true_idx[kept]).mean()) if kept.any() else None
        row["macro_f1"] = macro_f1_indices(true_idx[kept], chosen[kept], k) if kept.any() else None
        rows.append(row)
    return rows


def score(y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str], proba: np.ndarray | None = None,
          seed: int = 0) -> dict:
    """The evaluation report of predictions against reference labels, as plain data."""
    classes = list(classes)
    k = len(classes)
    true_idx, pred_idx = encode(list(y_true), classes), encode(list(y_pred), classes)
    confusion = _confusion(true_idx, pred_idx, k)
    precision, recall, f1, support = _per_class(confusion)
    counts = np.bincount(true_idx, minlength=k)
    majority = int(counts.argmax())
    baseline_pred = np.full_like(true_idx, majority)
    report = {
        "n": int(len(true_idx)),
        "accuracy": float((true_idx == pred_idx).mean()) if len(true_idx) else 0.0,
        "macro_f1": macro_f1_indices(true_idx, pred_idx, k),
        "macro_f1_ci": bootstrap_interval(true_idx, pred_idx, k, seed),
        "per_class": {c: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                          "support": int(support[i])} for i, c in enumerate(classes)},
        "confusion": {"labels": classes, "matrix": confusion.tolist()},
        "baseline": {"strategy": f"always {classes[majority]}", "accuracy": float(counts[majority] / max(1, len(true_idx))),
                     "macro_f1": macro_f1_indices(true_idx, baseline_pred, k)},
    }
    if proba is not None:
        report["calibration"] = calibration(true_idx, proba)
        report["risk_coverage"] = risk_coverage(true_idx, proba, k)
    return report


def score_groups(frame, by: str, y_true, y_pred, proba, classes, seed: int = 0) -> dict:
    """One report per value of column `by` of the frame (rows in the same order as the predictions)."""
    from stance.errors import UsageError

    if by not in frame.columns:
        raise UsageError(f"--by {by!r}: no such column (columns: {', '.join(c for c in frame.columns if c != 'line')}).")
    groups = {}
    for group, index in frame.groupby(by, sort=True).indices.items():
        groups[str(group)] = score([y_true[i] for i in index], [y_pred[i] for i in index], classes,
                                   None if proba is None else proba[index], seed)
    return groups


def confident_errors(frame, y_pred, proba, n: int, models) -> list[dict]:
    """The `n` mistakes the model was surest of, surest first, each with the n-grams that pushed it
    to the wrong label. `models[i]` is the numpy model that predicted row i (one model for a
    saved model, the fold's model under cross-validation)."""
    from stance.explain import explain_texts

    confidence = proba.max(axis=1)
    wrong = [i for i in np.argsort(-confidence, kind="stable") if y_pred[i] != frame["label"].iloc[i]][:n]
    errors = []
    for i in wrong:
        row = frame.iloc[i]
        explanation = explain_texts(models[i], [row["text"]], top=6)[0]
        errors.append({"line": int(row["line"]) if "line" in frame.columns else int(i) + 2, "text": row["text"],
                       "label": row["label"], "predicted": y_pred[i], "probability": float(confidence[i]),
                       "source": str(row["source"]) if "source" in frame.columns else "",
                       "toward": explanation["toward"]})
    return errors


def format_errors(errors: list[dict]) -> str:
    """The confident mistakes as text: what was said, what was wanted, and why."""
    lines = [f"the {len(errors)} most confident mistakes (¬ marks a word in a negation's scope)"]
    for e in errors:
        lines.append(f"line {e['line']}: {e['label']} labelled {e['predicted']} ({e['probability']:.2f}): {e['text']}")
        lines.append("    because: " + (", ".join(f"{g['ngram']} {g['weight']:+.2f}" for g in e["toward"]) or "-"))
    return "\n".join(lines)


def format_report(report: dict, title: str = "") -> str:
    """A report as text for people."""
    classes = report["confusion"]["labels"]
    width = max(10, *(len(c) for c in classes))
    lines = [title] if title else []
    lines.append(f"{'':{width}}  precision  recall     f1  support")
    for c in classes:
        m = report["per_class"][c]
        lines.append(f"{c:{width}}  {m['precision']:9.3f}  {m['recall']:6.3f}  {m['f1']:5.3f}  {m['support']:7d}")
    low, high = report["macro_f1_ci"]
    lines += [
        "",
        f"macro-F1   {report['macro_f1']:.3f}  (95% bootstrap interval {low:.3f} to {high:.3f})",
        f"accuracy   {report['accuracy']:.3f}  on {report['n']} sentences",
        f"baseline   {report['baseline']['strategy']}: macro-F1 {report['baseline']['macro_f1']:.3f}, "
        f"accuracy {report['baseline']['accuracy']:.3f}",
        "",
        "confusion (rows: true label, columns: predicted)",
        f"{'':{width}}  " + "  ".join(f"{c[:9]:>9}" for c in classes),
    ]
    for c, row in zip(classes, report["confusion"]["matrix"]):
        lines.append(f"{c:{width}}  " + "  ".join(f"{v:9d}" for v in row))
    if "calibration" in report:
        cal = report["calibration"]
        lines += ["", f"calibration  Brier score {cal['brier']:.3f}, expected calibration error {cal['ece']:.3f}"]
        if "without_temperature" in cal:
            raw = cal["without_temperature"]
            lines.append(f"             (before temperature scaling: Brier {raw['brier']:.3f}, ECE {raw['ece']:.3f})")
        lines += ["", "min-prob  coverage  accuracy  macro-F1   (predict --min-prob P labels the rest uncertain)"]
        for row in report["risk_coverage"]:
            acc = "-" if row["accuracy"] is None else f"{row['accuracy']:.3f}"
            mf1 = "-" if row["macro_f1"] is None else f"{row['macro_f1']:.3f}"
            lines.append(f"{row['min_prob']:8.2f}  {row['coverage']:8.3f}  {acc:>8}  {mf1:>8}")
    return "\n".join(lines)


def plot_report(report: dict, path) -> None:
    """Write a PNG: the confusion matrix, and the reliability diagram when probabilities exist."""
    from stance.plotting import pyplot

    plt = pyplot()
    classes = report["confusion"]["labels"]
    matrix = np.array(report["confusion"]["matrix"])
    panels = 2 if "calibration" in report else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.5), squeeze=False)
    ax = axes[0][0]
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=30)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"confusion (macro-F1 {report['macro_f1']:.3f}, n={report['n']})")
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center",
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    if panels == 2:
        ax = axes[0][1]
        table = report["calibration"]["reliability"]
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
        ax.plot([b["confidence"] for b in table], [b["accuracy"] for b in table], marker="o", label="model")
        ax.set_xlabel("top probability (mean in bin)")
        ax.set_ylabel("accuracy in bin")
        ax.set_title(f"reliability (ECE {report['calibration']['ece']:.3f})")
        ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
