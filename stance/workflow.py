"""The steps of the train and evaluate commands joined in order: library calls in, data out.

Nothing here prints or exits; progress goes through a callback the CLI supplies.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from stance.errors import LabelFileError, ModelError


def train_and_save(frame, groups, labels_path: Path, model_dir: Path, classes, seed: int, folds: int, jobs: int,
                   progress=None) -> dict:
    """Train on a validated label frame (stance.train) and write the model directory with the
    data's provenance; return its metadata. A second train of the same directory fails at once."""
    from stance.api import train
    from stance.artifacts import model_lock
    from stance.labels import file_sha256, label_counts

    with model_lock(model_dir):
        model = train(frame, group="source" if groups is not None else None, classes=classes, seed=seed, folds=folds,
                      jobs=jobs, progress=progress)
        model.save(model_dir, **{
            # One class order everywhere a model is used: the classifier's own (classes_).
            "label_counts": label_counts(frame["label"], tuple(model.classes_)),
            "labels_file": str(labels_path),
            # the hash of the bytes that were parsed, not of the file as it is after training
            "labels_sha256": frame.attrs.get("sha256") or file_sha256(labels_path),
            "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        })
    return model.metadata


def evaluate_saved(model_dir: Path | None, test_path: Path, by: str | None = None, seed: int = 0,
                   drop_conflicts: bool = False, errors: int = 0) -> dict:
    """Score a saved model on a labelled file (extra columns are ignored)."""
    from stance.api import evaluate, load
    from stance.labels import load_labels

    model = load(model_dir)
    frame = load_labels(test_path, tuple(model.classes_), drop_conflicts, min_rows=0)
    if frame.empty:
        raise LabelFileError(f"{test_path}: no rows to score.")
    return evaluate(model, frame, by=by, seed=seed, errors=errors).to_dict()


def evaluate_cross_validated(frame, groups, classes, folds: int = 5, seed: int = 0, jobs: int = 2,
                             by: str | None = None, progress=None, errors: int = 0) -> dict:
    """Nested, grouped cross-validation of the whole training procedure."""
    from stance.scoring import confident_errors, score, score_groups
    from stance.training import cross_validate

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
    if by:
        report["groups"] = score_groups(frame, by, frame["label"].tolist(), y_pred, cv.proba, classes, seed)
    return report
