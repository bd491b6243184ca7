"""Negation and reversal scope: the rules as a table, and the numpy predictor reading them exactly
as the scikit-learn pipeline does, on any text and on both prediction paths."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stance.compiled import BATCH_MIN, CompiledModel
from stance.direction import mark_scope, readable
from stance.pipeline import ModelConfig, build_pipeline
from tests.conftest import toy_rows
from tests.test_model import EDGE_TEXT, UNICODE_ROWS


@pytest.mark.parametrize("text, marked", [
    # a negation marks the rest of its clause
    ("The county will not honor detainers.", "the county will not not_honor not_detainers"),
    # "no longer" is one cue; a reversal verb is a cue too
    ("It will no longer honor detainers", "it will no longer not_honor not_detainers"),
    ("Wake County ended its 287(g) agreement", "wake county ended not_its not_287 not_agreement"),
    # a second cue cancels the first: "not stop honoring" is honoring
    ("We will not stop honoring detainers", "we will not stop honoring detainers"),
    # contractions, straight and curly
    ("He won't sign it", "he won't not_sign not_it"),
    ("She doesn’t ask", "she doesn’t not_ask"),
    # punctuation and turning words end a scope
    ("It refused, and ICE left", "it refused and ice left"),
    ("They never agreed but the sheriff signed", "they never not_agreed but the sheriff signed"),
    # "(" does not end a scope: 287(g) is one name
    ("They left 287(g) in 2013", "they left 287(g) in 2013"),
    ("They withdrew from 287(g) in 2013", "they withdrew not_from not_287 not_in not_2013"),
])
def test_scope_rules(text, marked):
    assert mark_scope(text) == marked


def test_a_sentence_without_cues_is_only_lower_cased():
    text = "The Sheriff SIGNED a 287(g) agreement, officials said."
    assert mark_scope(text) == text.lower()


def test_explanations_show_scope_readably():
    assert readable("not_honor not_detainers") == "¬honor ¬detainers"
    assert readable("refused not_to") == "refused ¬to"


# Rows whose vocabulary holds what the scope rules turn on: "longer" after "no" and elsewhere,
# in and out of a scope, and contractions.
SCOPE_ROWS = [("It will no longer honor them, and no, longer holds are over", "decline"),
              ("The line grew longer; it did not get any longer", "neutral"),
              ("He won't sign and we don't honor, but they won and don", "decline")] * 4


@functools.cache
def scoped_pipeline():
    rows = toy_rows()
    texts = [r["text"] for r in rows] + [t for t, _ in UNICODE_ROWS + SCOPE_ROWS]
    labels = [r["label"] for r in rows] + [lab for _, lab in UNICODE_ROWS + SCOPE_ROWS]
    return build_pipeline(ModelConfig(char_ngram=(2, 5), scope=True)).fit(texts, labels)


def test_the_pipeline_reads_scope():
    vocabulary = scoped_pipeline().named_steps["tfidf"].transformer_list[0][1].vocabulary_
    assert "not_honor" in vocabulary and "not_honor not_ice" in vocabulary


CUE_TEXT = st.lists(st.sampled_from(["not", "won't", "ended", "no", "longer", "but", ",", "honor", "ICE", "287(g)",
                                     "detainers", "n’t", "stop", "\xa0", "Σ", ".", "don't", "won", "sign",
                                     "any"]), max_size=12).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(EDGE_TEXT | CUE_TEXT, min_size=1, max_size=8))
def test_numpy_model_reads_scope_as_scikit_learn_does(texts):
    pipeline = scoped_pipeline()
    compiled = CompiledModel.from_pipeline(pipeline)
    assert compiled.blocks[0].scope
    expected = pipeline.decision_function(texts)
    np.testing.assert_allclose(compiled.decision_function(texts), expected, atol=1e-12)
    batch = texts * (BATCH_MIN // len(texts) + 1)
    np.testing.assert_allclose(compiled.decision_function(batch), pipeline.decision_function(batch), atol=1e-12)


def test_scope_survives_save_and_load(tmp_path):
    compiled = CompiledModel.from_pipeline(scoped_pipeline())
    settings_ = compiled.save(tmp_path / "w.npz")
    loaded = CompiledModel.load(tmp_path / "w.npz", settings_)
    probes = ["The county will not honor detainers.", "It signed a 287(g) agreement."]
    np.testing.assert_array_equal(loaded.decision_function(probes), compiled.decision_function(probes))
    assert [b.scope for b in loaded.blocks] == [True, False]


def test_a_model_of_another_scope_version_is_refused(tmp_path):
    from stance.errors import ModelError

    settings_ = CompiledModel.from_pipeline(scoped_pipeline()).save(tmp_path / "w.npz")
    settings_["blocks"][0]["scope_version"] += 1
    with pytest.raises(ModelError, match="negation scope version 2"):
        CompiledModel.load(tmp_path / "w.npz", settings_)


@pytest.mark.parametrize("block, setting, value", [
    (0, "analyzer", "char"), (0, "binary", True), (0, "norm", None), (0, "preprocessor", str.upper),
    (0, "use_idf", False), (1, "preprocessor", mark_scope),
])
def test_settings_the_numpy_model_does_not_reproduce_are_refused(block, setting, value):
    from stance.errors import ModelError

    rows = toy_rows()
    pipeline = build_pipeline(ModelConfig(char_ngram=(2, 4)))
    pipeline.named_steps["tfidf"].transformer_list[block][1].set_params(**{setting: value})
    pipeline.fit([r["text"] for r in rows], [r["label"] for r in rows])
    with pytest.raises(ModelError, match=setting):
        CompiledModel.from_pipeline(pipeline)


def test_scoped_batches_stay_exact_when_the_piece_cache_starts_over(monkeypatch):
    """A scope-reading block keeps each piece's scan (what each token does, its id and its not_
    id) under the piece's id; a new cache generation must drop them all."""
    from stance.compiled import PieceCache

    monkeypatch.setattr(PieceCache, "LIMIT", 50)
    pipeline = scoped_pipeline()
    compiled = CompiledModel.from_pipeline(pipeline)
    texts = [r["text"] for r in toy_rows()]
    for start in range(0, len(texts), 24):
        batch = (texts[start : start + 24] + ["It will no longer honor them", "Nothing here"]) * (BATCH_MIN // 24 + 1)
        np.testing.assert_allclose(compiled.decision_function(batch), pipeline.decision_function(batch), atol=1e-12)
    assert compiled._pieces.generation > 1
