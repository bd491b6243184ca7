"""The Python API: stance.load, the estimator's contract with scikit-learn and pandas, train and
evaluate, and a wheel that carries the model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

import stance
from stance.errors import InvalidTextError
from tests.conftest import ROOT, toy_rows

TEXTS = ["The sheriff signed a 287(g) agreement with ICE.", "Police will not honor detainers.",
         "The county held a budget meeting on Tuesday."]


@pytest.fixture(scope="module")
def toy_frame():
    return pd.DataFrame(toy_rows())


def test_predict_proba_takes_a_series_and_gives_one_column_per_class_in_classes_order(model_dir):
    model = stance.load(model_dir)
    series = pd.Series(TEXTS, index=["a", "b", "c"])
    proba = model.predict_proba(series)
    assert list(proba.columns) == [f"p_{c}" for c in model.classes_]
    assert list(proba.index) == ["a", "b", "c"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(model.predict(series)) == [model.classes_[i] for i in proba.to_numpy().argmax(axis=1)]
    np.testing.assert_allclose(model.predict_proba(np.array(TEXTS, dtype=object)).to_numpy(), proba.to_numpy())


def test_the_api_and_the_cli_give_the_same_probabilities(invoke, model_dir):
    out = invoke("predict", *TEXTS, "--model", model_dir, "--format", "jsonl").stdout.splitlines()
    cli = np.array([[json.loads(line)[f"p_{c}"] for c in ("cooperate", "decline", "neutral")] for line in out])
    np.testing.assert_allclose(stance.load(model_dir).probabilities(TEXTS), cli, atol=1e-12)


def test_the_pickled_pipeline_carries_the_temperature(model_dir):
    """backend='sklearn' runs model.joblib; it must give the numpy model's probabilities."""
    numpy_model, sklearn_model = stance.load(model_dir), stance.load(model_dir, backend="sklearn")
    assert numpy_model.temperature_ != 1.0
    np.testing.assert_allclose(sklearn_model.probabilities(TEXTS), numpy_model.probabilities(TEXTS), atol=1e-12)


@pytest.mark.parametrize("texts, fragment", [
    (["fine", None], "position 1: missing"),
    (["fine", float("nan")], "position 1: missing"),
    (["fine", 3], "position 1: a int"),
    (pd.Series(["fine", None], index=[10, 11]), "position 1 (index 11): missing"),
    ("one string", "not a single str"),
])
def test_missing_and_non_string_texts_are_refused_naming_the_position(model_dir, texts, fragment):
    with pytest.raises(InvalidTextError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        stance.load(model_dir).predict(texts)


def test_load_finds_the_model_through_the_environment(model_dir, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STANCE_MODEL", str(model_dir))
    assert stance.load().metadata["rows"] == len(toy_rows())


def test_the_estimator_works_with_clone_cross_val_score_and_pipeline(model_dir, toy_frame):
    from sklearn.base import clone, is_classifier
    from sklearn.model_selection import GroupKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    model = stance.load(model_dir)
    fresh = clone(model)
    assert is_classifier(fresh) and fresh.get_params() == model.get_params()
    assert not hasattr(fresh, "classes_")
    fresh.set_params(calibrate=False)
    scores = cross_val_score(fresh, toy_frame["text"], toy_frame["label"], groups=toy_frame["source"],
                             cv=GroupKFold(4), scoring="f1_macro")
    assert len(scores) == 4 and scores.min() > 0.6
    pipe = make_pipeline(FunctionTransformer(lambda s: s.str.upper()), clone(model).set_params(calibrate=False))
    pipe.fit(toy_frame["text"], toy_frame["label"])
    assert set(pipe.predict(pd.Series(TEXTS))) <= set(model.classes_)
    with pytest.raises(ValueError, match="invalid parameter"):
        model.set_params(colour="red")


def test_fit_is_reproducible_and_calibrates(toy_frame):
    a = stance.StanceClassifier(seed=3).fit(toy_frame["text"], toy_frame["label"])
    b = stance.StanceClassifier(seed=3).fit(toy_frame["text"], toy_frame["label"])
    np.testing.assert_array_equal(a.probabilities(TEXTS), b.probabilities(TEXTS))
    assert a.temperature_ != 1.0
    assert stance.StanceClassifier(calibrate=False).fit(toy_frame["text"], toy_frame["label"]).temperature_ == 1.0


def test_train_then_evaluate_gives_the_fields_of_evaluate_json(invoke, model_dir, toy_frame, labels_file):
    model = stance.train(toy_frame, seed=0, jobs=1)
    assert model.metadata["cv"]["grouped_by"] == "source"
    report = stance.evaluate(stance.load(model_dir), toy_frame, by="source")
    cli = json.loads(invoke("evaluate", "--model", model_dir, "--test", labels_file, "--by", "source", "--json").stdout)
    assert set(report.to_dict()) == set(cli)
    assert report.macro_f1 == pytest.approx(cli["macro_f1"])
    assert report.groups.keys() == cli["groups"].keys()
    assert list(report.per_class_frame().index) == list(model.classes_)


def test_explain_is_a_frame_whose_weights_point_the_right_way(model_dir):
    frame = stance.load(model_dir).explain("Police will not honor detainers.", top=3)
    assert list(frame.columns) == ["label", "direction", "ngram", "weight"]
    assert (frame.loc[frame.direction == "toward", "weight"] > 0).all()
    assert (frame.loc[frame.direction == "against", "weight"] < 0).all()


def test_importing_the_api_loads_neither_scikit_learn_nor_pandas():
    code = "import sys, stance; stance.load; print('sklearn' in sys.modules, 'pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split() == \
        ["False", "False"]


def test_the_wheel_carries_the_model_and_every_module(tmp_path):
    """Built as `pip install .` builds it, unpacked, and run from a directory far from the repository."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path / "wheel"), str(ROOT)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for module in ROOT.joinpath("stance").rglob("*.py"):
        assert module.relative_to(ROOT).as_posix() in names
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "STANCE_MODEL"} | {"PYTHONPATH": str(tmp_path / "site")}
    code = ("import stance; m = stance.load(); print(stance.default_model_dir().parent.parent.name, "
            "m.predict(['Police will not honor detainers.'])[0])")
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path / 'site')!r}); {code}"],
                         cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out == ["site", "decline"]
