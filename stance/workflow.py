"""The steps of the train and evaluate commands joined in order: library calls in, data out.

Nothing here prints or exits; progress goes through a callback the CLI supplies.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from stance.errors import LabelFileError, ModelError


def train_and_save(frame, groups, labels_path: Path, model_dir: Path, classes, seed: int, folds: int, jobs: int,
                   progress=None) -> dict:
    """Train on a validated label frame and write the model directory; return its metadata."""
    from stance.artifacts import save_model
    from stance.compiled import CompiledModel
    from stance.labels import file_sha256, label_counts
    from stance.train import train

    result = train(list(frame["text"]), list(frame["label"]), groups, classes, seed=seed, n_folds=folds,
                   n_jobs=jobs, progress=progress)
    compiled = CompiledModel.from_pipeline(result.pipeline, result.temperature)
    metadata = {
        # One class order everywhere a model is used: the classifier's own (classes_).
        "classes": list(compiled.classes),
        "label_counts": label_counts(frame["label"], compiled.classes),
        "rows": len(frame),
        "labels_file": str(labels_path),
        "labels_sha256": file_sha256(labels_path),
        "params": result.config.params(),
        "cv": {"macro_f1_mean": result.cv_macro_f1_mean, "macro_f1_std": result.cv_macro_f1_std,
               "folds": result.n_folds, "grouped_by": "source" if groups is not None else None},
        "temperature": result.temperature,
        "seed": seed,
        "training_seconds": round(result.seconds, 3),
        "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    save_model(model_dir, result.pipeline, compiled, metadata)
    return metadata


def _with_groups(report: dict, frame, by: str | None, y_pred, proba, classes, seed: int) -> dict:
    from stance.evaluate import score

    if not by:
        return report
    if by not in frame.columns:
        raise LabelFileError(f"--by {by!r}: no such column (columns: {', '.join(c for c in frame.columns if c != 'line')}).")
    report["groups"] = {}
    for group, index in frame.groupby(by, sort=True).indices.items():
        sub_proba = None if proba is None else proba[index]
        report["groups"][str(group)] = score(frame["label"].iloc[index].tolist(), [y_pred[i] for i in index], classes,
                                             sub_proba, seed)
    return report


def evaluate_saved(model_dir: Path, test_path: Path, by: str | None = None, seed: int = 0,
                   drop_conflicts: bool = False, errors: int = 0) -> dict:
    """Score a saved model on a labelled file (extra columns are ignored)."""
    from stance.artifacts import load_compiled
    from stance.evaluate import confident_errors, score
    from stance.labels import load_labels

    model, _ = load_compiled(model_dir)
    classes = model.classes  # the order of predict_proba's columns
    frame = load_labels(test_path, classes, drop_conflicts, min_rows=0)
    if frame.empty:
        raise LabelFileError(f"{test_path}: no rows to score.")
    proba = model.predict_proba(list(frame["text"]))
    y_pred = [classes[i] for i in proba.argmax(axis=1)]
    report = score(frame["label"].tolist(), y_pred, classes, proba, seed)
    if errors:
        report["errors"] = confident_errors(frame, y_pred, proba, errors, [model] * len(frame))
    return _with_groups(report, frame, by, y_pred, proba, classes, seed)


def evaluate_cross_validated(frame, groups, classes, folds: int = 5, seed: int = 0, jobs: int = 2,
                             by: str | None = None, progress=None, errors: int = 0) -> dict:
    """Nested, grouped cross-validation of the whole training procedure."""
    from stance.evaluate import confident_errors, score
    from stance.train import cross_validate

    if len(frame) < 2 * folds:
        raise ModelError(f"{len(frame)} rows are too few for {folds}-fold cross-validation.")
    cv = cross_validate(list(frame["text"]), list(frame["label"]), groups, classes, seed=seed, n_folds=folds,
                        n_jobs=jobs, progress=progress)
    y_pred = list(cv.predicted)
    report = score(frame["label"].tolist(), y_pred, classes, cv.proba, seed)
    uncalibrated = score(frame["label"].tolist(), y_pred, classes, cv.raw_proba, seed)["calibration"]
    report["calibration"]["without_temperature"] = {k: uncalibrated[k] for k in ("brier", "ece")}
    report["chosen_per_fold"] = [config.params() for config in cv.chosen]
    if errors:
        from stance.compiled import CompiledModel

        fold_models = [CompiledModel.from_pipeline(p, t) for p, t in zip(cv.pipelines, cv.temperatures)]
        report["errors"] = confident_errors(frame, y_pred, cv.proba, errors, [fold_models[k] for k in cv.fold_of_row])
    return _with_groups(report, frame, by, y_pred, cv.proba, classes, seed)
