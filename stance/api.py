"""The Python API: load, train, evaluate and use a stance model from one's own code.

    >>> import stance
    >>> model = stance.load()                      # the shipped model (or $STANCE_MODEL)
    >>> model.predict(["Police will not honor ICE detainers."])
    array(['decline'], dtype=object)

`StanceClassifier` is a scikit-learn estimator (fit, predict, predict_proba, score, classes_,
get_params, set_params), so `clone`, `cross_val_score` and `Pipeline` accept it, but importing
this module imports neither scikit-learn nor pandas: they load when first needed, so the CLI,
built on this module, starts in a fifth of a second. Predictions run on the numpy-only model
(`stance.compiled`); a model loaded with `backend="sklearn"` runs the pickled pipeline instead,
with the same temperature, so both give the same probabilities.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from stance.errors import InvalidTextError, ModelError, UsageError

MODEL_ENV = "STANCE_MODEL"
_PARAMS = ("C", "word_ngram", "char_ngram", "sublinear_tf", "min_df", "scope", "calibrate", "seed")
_PACKAGE = Path(__file__).resolve().parent


def default_model_dir() -> Path:
    """Where `stance.load()` and the CLI look when no model is named: `$STANCE_MODEL`; else
    `models/default` in the current directory, where `stance train` saves by default; else the
    model shipped inside the package (a source checkout's `models/default`)."""
    if os.environ.get(MODEL_ENV):
        return Path(os.environ[MODEL_ENV])
    local = Path("models/default")
    if (local / "metadata.json").is_file():
        return local
    for shipped in (_PACKAGE / "default_model", _PACKAGE.parent / "models" / "default"):
        if (shipped / "metadata.json").is_file():
            return shipped
    return local  # nothing anywhere: the error will name the path `stance train` writes


def as_texts(texts, name: str = "texts") -> list[str]:
    """A list of str from a list, tuple, 1-D array or pandas Series; InvalidTextError naming the
    position (and a Series' index label) of the first item that is None, NaN or not a string."""
    if isinstance(texts, (str, bytes)):
        raise InvalidTextError(f"{name}: give a list of texts, not a single {type(texts).__name__}: [{texts[:40]!r}].")
    labels = None
    if hasattr(texts, "index") and hasattr(texts, "tolist") and not isinstance(texts, (list, tuple)):
        labels = list(texts.index)  # a pandas Series
    values = texts.tolist() if hasattr(texts, "tolist") else list(texts)
    if values and isinstance(values[0], list):  # a 2-D array of one column, as a Pipeline may pass
        if any(len(row) != 1 for row in values):
            raise InvalidTextError(f"{name}: a 2-D input needs exactly one column of texts.")
        values = [row[0] for row in values]
    for i, value in enumerate(values):
        if not isinstance(value, str):
            where = f"position {i}" + (f" (index {labels[i]!r})" if labels is not None and labels[i] != i else "")
            kind = "missing (None or NaN)" if value is None or (isinstance(value, float) and math.isnan(value)) \
                else f"a {type(value).__name__}, not a string"
            raise InvalidTextError(f"{name} {where}: {kind}. Give every text as a string.")
    return values


class StanceClassifier:
    """TF-IDF word n-grams (read with negation scope) and character n-grams, logistic regression
    with balanced class weights, probabilities rescaled by a fitted temperature.

    The parameters are the hyper-parameters `stance train` chooses among (see
    `stance.pipeline.GRID`); `fit` fits one configuration as given, and with `calibrate=True`
    (the default) fits the temperature on 5-fold out-of-fold decisions. To choose the
    hyper-parameters as the CLI does, use `stance.train`.
    """

    def __init__(self, C: float = 2.0, word_ngram: tuple[int, int] = (1, 2), char_ngram: tuple[int, int] | None = (2, 5),
                 sublinear_tf: bool = True, min_df: int = 1, scope: bool = True, calibrate: bool = True, seed: int = 0):
        self.C = C
        self.word_ngram = word_ngram
        self.char_ngram = char_ngram
        self.sublinear_tf = sublinear_tf
        self.min_df = min_df
        self.scope = scope
        self.calibrate = calibrate
        self.seed = seed

    # --- the scikit-learn estimator protocol --------------------------------------------------

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in _PARAMS}

    def set_params(self, **params) -> StanceClassifier:
        for name, value in params.items():
            if name not in _PARAMS:
                raise ValueError(f"invalid parameter {name!r} for StanceClassifier; valid: {', '.join(_PARAMS)}")
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(), input_tags=InputTags(one_d_array=True, two_d_array=False,
                                                                           string=True))

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "compiled_")

    def __repr__(self) -> str:
        defaults = StanceClassifier().get_params()
        changed = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items() if v != defaults[k])
        return f"StanceClassifier({changed})"

    def config(self):
        """The parameters as a `stance.pipeline.ModelConfig`."""
        from stance.pipeline import ModelConfig

        return ModelConfig(C=float(self.C), word_ngram=tuple(self.word_ngram),
                           char_ngram=tuple(self.char_ngram) if self.char_ngram else None,
                           sublinear_tf=bool(self.sublinear_tf), min_df=int(self.min_df), scope=bool(self.scope),
                           seed=int(self.seed))

    def fit(self, X, y, groups=None) -> StanceClassifier:
        """Fit the pipeline on texts X and labels y (and, with `calibrate`, the temperature on
        out-of-fold decisions, grouped by `groups` when given)."""
        from stance.compiled import CompiledModel
        from stance.pipeline import build_pipeline
        from stance.training import out_of_fold_temperature

        texts, labels = as_texts(X, "X"), [str(label) for label in as_labels(y)]
        if len(texts) != len(labels):
            raise InvalidTextError(f"X has {len(texts)} texts but y has {len(labels)} labels.")
        classes = tuple(sorted(set(labels)))
        if len(classes) < 2:
            raise InvalidTextError("y: give at least two different labels to learn.")
        pipeline = build_pipeline(self.config()).fit(texts, labels)
        temperature = out_of_fold_temperature(texts, labels, groups, classes, self.config()) if self.calibrate else 1.0
        self._set_fitted(pipeline, CompiledModel.from_pipeline(pipeline, temperature),
                         {"rows": len(texts), "params": self.config().params(), "temperature": temperature,
                          "seed": int(self.seed)})
        return self

    def _set_fitted(self, pipeline, compiled, metadata: dict, backend: str = "numpy") -> None:
        self.pipeline_ = pipeline
        self.compiled_ = compiled
        self.classes_ = np.asarray(compiled.classes, dtype=object)
        self.temperature_ = compiled.temperature
        self.metadata_ = metadata
        self.backend_ = backend

    # --- predicting ---------------------------------------------------------------------------

    def _fitted(self):
        if not hasattr(self, "compiled_"):
            raise ModelError("this StanceClassifier is not fitted yet: call fit(texts, labels), or stance.load().")
        return self.compiled_

    @property
    def metadata(self) -> dict:
        """What metadata.json records: data, code, settings, scores (for a model fitted here, the
        settings and row count)."""
        self._fitted()
        return self.metadata_

    def decision_function(self, X) -> np.ndarray:
        texts = as_texts(X, "X")
        if self.backend_ == "sklearn":
            from stance.compiled import per_class

            return per_class(np.atleast_2d(self.pipeline_.decision_function(texts).T).T)
        return self._fitted().decision_function(texts)

    def probabilities(self, X) -> np.ndarray:
        """`predict_proba` as a numpy array (columns in `classes_` order), without pandas."""
        from stance.compiled import probabilities

        self._fitted()
        return probabilities(self.decision_function(X), self.temperature_)

    def predict_proba(self, X):
        """A DataFrame with one `p_<class>` column per class in `classes_` order, one row per text
        (a Series' index is kept)."""
        import pandas as pd

        proba = self.probabilities(X)
        index = X.index if isinstance(X, pd.Series) else None
        return pd.DataFrame(proba, columns=[f"p_{c}" for c in self.classes_], index=index)

    def predict(self, X) -> np.ndarray:
        """The most probable label of each text."""
        return self.classes_[self.decision_function(X).argmax(axis=1)]

    def score(self, X, y) -> float:
        """Accuracy, as scikit-learn's classifiers score (use scoring="f1_macro" for macro-F1)."""
        return float(np.mean(self.predict(X) == np.asarray(as_labels(y), dtype=object)))

    def explain(self, text: str, top: int = 10):
        """The n-grams that pushed `text` toward its predicted label and against it, as a DataFrame
        (label, direction, ngram, weight): each weight is tf-idf times coefficient, and the weights
        of all n-grams plus the intercept add up to the decision value."""
        import pandas as pd

        from stance.explain import explain_texts

        (text,) = as_texts([text], "text")
        found = explain_texts(self._fitted(), [text], top)[0]
        rows = [{"label": found["label"], "direction": way, **term} for way in ("toward", "against")
                for term in found[way]]
        return pd.DataFrame(rows, columns=["label", "direction", "ngram", "weight"])

    def strongest(self, top: int = 20):
        """The n-grams with the largest coefficients of each class, as a DataFrame (label, ngram, weight)."""
        import pandas as pd

        from stance.explain import global_explanation

        rows = [{"label": label, **term} for label, terms in global_explanation(self._fitted(), top).items()
                for term in terms]
        return pd.DataFrame(rows, columns=["label", "ngram", "weight"])

    def save(self, directory, **metadata) -> Path:
        """Write the model directory (pipeline, numpy twin, metadata), replacing any model there."""
        from stance.artifacts import save_model

        self._fitted()
        if self.pipeline_ is None:
            raise ModelError("a model loaded with the numpy backend has no pipeline to save; load it with "
                             "backend='sklearn' or fit it first.")
        return save_model(Path(directory), self.pipeline_, self.compiled_, {**self.metadata_, **metadata})


def as_labels(y) -> list:
    values = y.tolist() if hasattr(y, "tolist") else list(y)
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise InvalidTextError(f"y position {i}: missing label.")
    return values


def load(path=None, backend: str = "numpy") -> StanceClassifier:
    """A saved model: `path` (a model directory), else `default_model_dir()`.

    backend="numpy" (the default) reads only arrays and JSON; backend="sklearn" unpickles the
    scikit-learn pipeline, which can run code: load only models you trained yourself."""
    from stance.artifacts import load_compiled, load_pipeline

    if backend not in ("numpy", "sklearn"):
        raise UsageError(f"backend {backend!r}: choose numpy or sklearn.")
    directory = Path(path) if path is not None else default_model_dir()
    compiled, meta = load_compiled(directory)
    pipeline = load_pipeline(directory)[0] if backend == "sklearn" else None
    params = {k: v for k, v in meta.get("params", {}).items() if k in _PARAMS}
    model = StanceClassifier(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()},
                             seed=int(meta.get("seed", 0)))
    model._set_fitted(pipeline, compiled, meta, backend)
    model.path_ = directory
    return model


def _column(frame, name: str, role: str) -> list:
    if name not in frame.columns:
        raise UsageError(f"{role} column {name!r} not in the frame (columns: {', '.join(map(str, frame.columns))}).")
    return frame[name].tolist()


def train(frame, text: str = "text", label: str = "label", group: str | None = "source",
          classes: Sequence[str] | None = None, seed: int = 0, folds: int = 5, jobs: int = 2,
          progress=None) -> StanceClassifier:
    """Choose hyper-parameters by cross-validation grouped by `group` (articles never split),
    fit the winner on every row, fit its temperature; as `stance train` does, without saving
    (`model.save(directory)` writes it)."""
    from stance.compiled import CompiledModel
    from stance.training import train as fit

    texts, labels = as_texts(_column(frame, text, "text"), text), [str(v) for v in as_labels(_column(frame, label, "label"))]
    groups = _column(frame, group, "group") if group and group in frame.columns else None
    if group and group != "source" and groups is None:
        raise UsageError(f"group column {group!r} not in the frame.")
    classes = tuple(classes) if classes else tuple(sorted(set(labels)))
    result = fit(texts, labels, groups, classes, seed=seed, n_folds=folds, n_jobs=jobs, progress=progress)
    config = result.config
    model = StanceClassifier(C=config.C, word_ngram=config.word_ngram, char_ngram=config.char_ngram,
                             sublinear_tf=config.sublinear_tf, min_df=config.min_df, scope=config.scope, seed=seed)
    compiled = CompiledModel.from_pipeline(result.pipeline, result.temperature)
    model._set_fitted(result.pipeline, compiled, {
        "classes": list(compiled.classes), "rows": len(texts), "params": config.params(),
        "cv": {"macro_f1_mean": result.cv_macro_f1_mean, "macro_f1_std": result.cv_macro_f1_std,
               "folds": result.n_folds, "grouped_by": group if groups is not None else None, "upper_bound": True},
        "temperature": result.temperature, "seed": seed, "training_seconds": round(result.seconds, 3)})
    return model


class Report:
    """An evaluation report: the fields of `stance evaluate --json`, as attributes and as a dict."""

    FIELDS = ("n", "accuracy", "macro_f1", "macro_f1_ci", "per_class", "confusion", "baseline", "calibration",
              "risk_coverage", "chosen_per_fold", "errors", "groups")

    def __init__(self, data: dict):
        self._data = data

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            if name in self.FIELDS:
                return None
            raise AttributeError(f"Report has no field {name!r}; fields: {', '.join(self._data)}") from None

    def to_dict(self) -> dict:
        return self._data

    def per_class_frame(self):
        """Precision, recall, F1 and support per class, as a DataFrame."""
        import pandas as pd

        return pd.DataFrame(self._data["per_class"]).T

    def __str__(self) -> str:
        from stance.scoring import format_report

        return format_report(self._data)

    def __repr__(self) -> str:
        low, high = self._data["macro_f1_ci"]
        return f"<Report n={self._data['n']} macro_f1={self._data['macro_f1']:.3f} [{low:.3f}, {high:.3f}]>"


def evaluate(model: StanceClassifier, frame, text: str = "text", label: str = "label", by: str | None = None,
             seed: int = 0, errors: int = 0) -> Report:
    """Score a fitted model on a labelled frame: per-class scores, macro-F1 with a bootstrap
    interval, calibration, risk-coverage, per-group reports with `by`, the `errors` most
    confident mistakes."""
    from stance.scoring import confident_errors, score, score_groups

    texts, gold = as_texts(_column(frame, text, "text"), text), [str(v) for v in as_labels(_column(frame, label, "label"))]
    classes = list(model._fitted().classes)
    unknown = sorted(set(gold) - set(classes))
    if unknown:
        raise UsageError(f"labels {unknown} are not among the model's classes {classes}.")
    proba = model.probabilities(texts)
    predicted = [classes[i] for i in proba.argmax(axis=1)]
    report = score(gold, predicted, classes, proba, seed)
    if errors:
        rows = frame.rename(columns={text: "text", label: "label"})
        report["errors"] = confident_errors(rows, predicted, proba, errors, [model.compiled_] * len(frame))
    if by:
        report["groups"] = score_groups(frame, by, gold, predicted, proba, classes, seed)
    return Report(report)


def cross_validate(frame, text: str = "text", label: str = "label", group: str | None = "source",
                   classes: Sequence[str] | None = None, folds: int = 5, seed: int = 0, jobs: int = 2,
                   by: str | None = None, errors: int = 0, progress=None) -> Report:
    """Estimate the whole `train` procedure by nested cross-validation grouped by `group`: model
    selection runs inside each outer fold on its training rows only."""
    from stance.workflow import evaluate_cross_validated

    texts, labels = as_texts(_column(frame, text, "text"), text), [str(v) for v in as_labels(_column(frame, label, "label"))]
    groups = _column(frame, group, "group") if group and group in frame.columns else None
    rows = frame.rename(columns={text: "text", label: "label"})
    classes = tuple(classes) if classes else tuple(sorted(set(labels)))
    del texts
    return Report(evaluate_cross_validated(rows, groups, classes, folds=folds, seed=seed, jobs=jobs, by=by,
                                           progress=progress, errors=errors))
