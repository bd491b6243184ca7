"""stance.metrics is the one definition of macro-F1: scikit-learn's, over all the task's classes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stance.scoring import score
from stance.metrics import macro_f1

CLASSES = ("cooperate", "decline", "neutral")
label = st.sampled_from(CLASSES)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(label, label), min_size=1, max_size=40))
def test_macro_f1_is_scikit_learns_over_all_classes(pairs):
    from sklearn.metrics import f1_score

    gold, predicted = zip(*pairs)
    expected = f1_score(gold, predicted, labels=list(CLASSES), average="macro", zero_division=0)
    assert abs(macro_f1(gold, predicted, CLASSES) - expected) < 1e-12


def test_a_file_lacking_a_class_is_not_scored_on_the_classes_it_has_alone():
    """The small case of the report: two classes in the gold labels, the third predicted once."""
    gold = ["cooperate", "cooperate", "decline", "decline"]
    predicted = ["cooperate", "neutral", "decline", "cooperate"]
    report = score(gold, predicted, CLASSES)
    assert abs(report["macro_f1"] - macro_f1(gold, predicted, CLASSES)) < 1e-12
    # averaging the two present classes alone would give (2/3 + 2/3) / 2
    assert report["macro_f1"] < 0.5


def test_every_group_and_threshold_uses_the_same_definition():
    rng = np.random.default_rng(3)
    gold = list(rng.choice(["cooperate", "decline"], 60))
    predicted = list(rng.choice(CLASSES, 60))
    proba = rng.dirichlet(np.ones(3), 60)
    report = score(gold, predicted, CLASSES, proba)
    assert report["risk_coverage"][0]["min_prob"] == 0.0
    chosen = [CLASSES[i] for i in proba.argmax(axis=1)]
    assert abs(report["risk_coverage"][0]["macro_f1"] - macro_f1(gold, chosen, CLASSES)) < 1e-12
    assert abs(report["baseline"]["macro_f1"] - macro_f1(gold, [max(set(gold), key=gold.count)] * 60, CLASSES)) < 1e-12
