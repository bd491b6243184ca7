"""The model's promises: deterministic training, honest folds, save -> load identity, the numpy
twin equal to the scikit-learn pipeline, explanations that add up, probabilities that sum to one."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stance.artifacts import load_compiled, load_pipeline
from stance.compiled import CompiledModel, char_wb_ngrams, word_ngrams
from stance.explain import contributions, explain_texts, intercepts
from stance.pipeline import ModelConfig, build_pipeline
from stance.training import make_folds, train
from tests.conftest import model_file, toy_rows

ROWS = toy_rows()
TEXTS = [r["text"] for r in ROWS]
LABELS = [r["label"] for r in ROWS]
GROUPS = [r["source"] for r in ROWS]
CLASSES = ("cooperate", "decline", "neutral")
SMALL_GRID = {"word_ngram": [(1, 2)], "char_ngram": [None, (2, 5)], "sublinear_tf": [True], "min_df": [1],
              "C": [1.0, 4.0]}
PROBES = ["The sheriff will not hand anyone to ICE.", "ICE", "", "¿Qué pasa?  \n\t tabs", "287(g) 287(g) 287(g)",
          "a", "Zürich police — “no detainers”", "x" * 500]


def test_training_is_deterministic():
    first = train(TEXTS, LABELS, GROUPS, CLASSES, seed=3, grid=SMALL_GRID, n_jobs=1)
    second = train(TEXTS, LABELS, GROUPS, CLASSES, seed=3, grid=SMALL_GRID, n_jobs=2)
    assert first.config == second.config
    np.testing.assert_array_equal(first.pipeline.named_steps["clf"].coef_, second.pipeline.named_steps["clf"].coef_)
    np.testing.assert_array_equal(first.pipeline.predict_proba(PROBES), second.pipeline.predict_proba(PROBES))
    assert first.temperature == second.temperature


def test_folds_never_split_a_source():
    for train_idx, test_idx in make_folds(LABELS, GROUPS, 5, seed=0):
        assert not {GROUPS[i] for i in train_idx} & {GROUPS[i] for i in test_idx}


def test_folds_without_sources_are_stratified():
    for _, test_idx in make_folds(LABELS, None, 4, seed=0):
        counts = {c: sum(LABELS[i] == c for i in test_idx) for c in CLASSES}
        assert max(counts.values()) - min(counts.values()) <= 1


@pytest.mark.parametrize("config", [
    ModelConfig(),
    ModelConfig(char_ngram=(2, 5), sublinear_tf=False, min_df=2, word_ngram=(1, 1)),
    ModelConfig(char_ngram=(1, 3), word_ngram=(2, 3), C=0.1),
])
def test_numpy_model_equals_the_pipeline(config):
    pipeline = build_pipeline(config).fit(TEXTS, LABELS)
    compiled = CompiledModel.from_pipeline(pipeline)
    np.testing.assert_allclose(compiled.predict_proba(PROBES), pipeline.predict_proba(PROBES), atol=1e-12)
    np.testing.assert_allclose(compiled.decision_function(PROBES), pipeline.decision_function(PROBES), atol=1e-12)


def test_numpy_model_equals_a_binary_pipeline():
    rows = [(t, l) for t, l in zip(TEXTS, LABELS) if l != "neutral"]
    pipeline = build_pipeline(ModelConfig(char_ngram=(2, 4))).fit(*zip(*rows))
    compiled = CompiledModel.from_pipeline(pipeline)
    np.testing.assert_allclose(compiled.predict_proba(PROBES), pipeline.predict_proba(PROBES), atol=1e-12)


@pytest.mark.parametrize("word", ["a", "ab", "abcd", "abcdefgh"])
def test_char_ngrams_match_scikit_learn(word):
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    assert char_wb_ngrams(word, (2, 5)) == analyzer(word)


def test_word_ngrams_match_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    text = "The Sheriff's 287(g) deal — ended, the sheriff said."
    for ngram in [(1, 1), (1, 3), (2, 3)]:
        assert word_ngrams(text, ngram) == TfidfVectorizer(ngram_range=ngram).build_analyzer()(text)


def test_save_then_load_gives_identical_probabilities(trained_model_dir):
    pipeline, meta = load_pipeline(trained_model_dir)
    compiled, _ = load_compiled(trained_model_dir)
    from stance.compiled import probabilities
    from stance.training import _full_decision

    expected = probabilities(_full_decision(pipeline.named_steps["clf"],
                                            pipeline.named_steps["tfidf"].transform(PROBES), CLASSES),
                             meta["temperature"])
    np.testing.assert_allclose(compiled.predict_proba(PROBES), expected, atol=1e-12)
    again, _ = load_compiled(trained_model_dir)
    np.testing.assert_array_equal(again.predict_proba(PROBES), compiled.predict_proba(PROBES))


def test_weights_file_loads_without_pickle(trained_model_dir):
    with np.load(model_file(trained_model_dir, "weights"), allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)


def test_explanation_adds_up_to_the_decision_value(trained_model_dir):
    compiled, _ = load_compiled(trained_model_dir)
    pipeline, _ = load_pipeline(trained_model_dir)
    for text in PROBES:
        names, matrix = contributions(compiled, text)
        assert len(names) == matrix.shape[0]
        np.testing.assert_allclose(matrix.sum(axis=0) + intercepts(compiled), pipeline.decision_function([text])[0],
                                   rtol=0, atol=1e-12)
    explanation = explain_texts(compiled, ["The Denver police will not honor ICE detainers."], top=50)[0]
    label = explanation["label"]
    everything = explain_texts(compiled, ["The Denver police will not honor ICE detainers."], top=10_000)[0]
    total = sum(t["weight"] for t in everything["toward"] + everything["against"]) + everything["intercept"][label]
    assert total == pytest.approx(explanation["decision"][label], abs=1e-12)
    assert all(t["weight"] > 0 for t in explanation["toward"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=200), min_size=1, max_size=5))
def test_predict_never_crashes_and_probabilities_sum_to_one(trained_model_dir, texts):
    compiled, _ = load_compiled(trained_model_dir)
    proba = compiled.predict_proba(texts)
    assert proba.shape == (len(texts), 3)
    assert np.all(np.isfinite(proba)) and np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)


@pytest.mark.parametrize("config", [ModelConfig(word_ngram=(1, 3)), ModelConfig(char_ngram=(2, 5), word_ngram=(2, 2))])
def test_batch_path_equals_the_per_text_path(config):
    """From BATCH_MIN texts on, n-grams are counted with numpy; both paths give one answer."""
    from stance.compiled import BATCH_MIN

    pipeline = build_pipeline(config).fit(TEXTS, LABELS)
    compiled = CompiledModel.from_pipeline(pipeline)
    batch = (PROBES + TEXTS) * (BATCH_MIN // len(PROBES) + 1)
    one_by_one = np.vstack([compiled.predict_proba([t]) for t in batch])
    np.testing.assert_allclose(compiled.predict_proba(batch), one_by_one, atol=1e-12)
    np.testing.assert_allclose(compiled.predict_proba(batch), pipeline.predict_proba(batch), atol=1e-12)


# Characters where bytes and Unicode disagree: accents, final sigma, dotted I, curly quotes, dashes,
# white space bytes.split() does not know (\xa0, \u2009, \x1c, \x85), digits, underscore, ligatures.
EDGE_TEXT = st.text(alphabet=st.sampled_from(list("aeiostnrl áéüΣσςİı’“”—\xa0\u2009\x1c\x85\t\n_-'.07ßﬁ"))
                    | st.characters(codec="utf-8"), max_size=60)
UNICODE_ROWS = [("José’s “sanctuary” rule — Zürich ΣΟΣ ﬁne", "decline"), ("İstanbul\xa0police_chief ßig σας", "neutral"),
                ("the sheriff\u2009honors ICE\x1cdetainers 287(g)", "cooperate")] * 4


@functools.cache
def unicode_pipeline():
    """A model whose vocabulary holds non-ASCII tokens and n-grams."""
    texts, labels = zip(*UNICODE_ROWS)
    return build_pipeline(ModelConfig(char_ngram=(2, 5))).fit(TEXTS + list(texts), LABELS + list(labels))


@settings(max_examples=40, deadline=None)
@given(st.lists(EDGE_TEXT, min_size=1, max_size=8))
def test_batch_path_equals_scikit_learn_on_any_text(texts):
    """The batch path reads bytes, not str; on any text it must still count what scikit-learn counts."""
    from stance.compiled import BATCH_MIN

    pipeline = unicode_pipeline()
    compiled = CompiledModel.from_pipeline(pipeline)
    batch = (texts + [t for t, _ in UNICODE_ROWS]) * BATCH_MIN
    np.testing.assert_allclose(compiled.decision_function(batch), pipeline.decision_function(batch), atol=1e-12)


def test_batches_stay_exact_when_the_piece_cache_starts_over(monkeypatch):
    """Pieces are analysed once and kept across batches; when the cache outgrows its limit it
    starts a new generation, and every block must drop what it kept for the old one."""
    from stance.compiled import BATCH_MIN, PieceCache

    monkeypatch.setattr(PieceCache, "LIMIT", 50)
    pipeline = unicode_pipeline()
    compiled = CompiledModel.from_pipeline(pipeline)
    for start in range(0, len(TEXTS), 24):
        batch = (TEXTS[start : start + 24] + PROBES) * (BATCH_MIN // 24 + 1)
        np.testing.assert_allclose(compiled.decision_function(batch), pipeline.decision_function(batch), atol=1e-12)
    assert compiled._pieces.generation > 1


def test_a_vocabulary_too_large_for_64_bit_keys_takes_the_text_by_text_path(monkeypatch):
    """Word n-gram keys are token ids in base len(tokens); when they could overflow, batches
    must still come out exact, counted text by text."""
    import stance.compiled.batch
    from stance.compiled import BATCH_MIN

    monkeypatch.setattr(stance.compiled.batch, "_KEY_LIMIT", 2)
    pipeline = unicode_pipeline()
    compiled = CompiledModel.from_pipeline(pipeline)
    batch = (PROBES + TEXTS) * (BATCH_MIN // len(TEXTS) + 1)
    np.testing.assert_allclose(compiled.decision_function(batch), pipeline.decision_function(batch), atol=1e-12)
    assert compiled.blocks[0]._ngram_tables() is None


def test_a_batch_with_a_nul_character_is_still_exact():
    """NUL separates texts on the batch path; a text that holds one takes the text-by-text path."""
    from stance.compiled import BATCH_MIN

    pipeline = unicode_pipeline()
    batch = ["police\x00 sheriff", "ICE\x00"] + TEXTS * (BATCH_MIN // len(TEXTS) + 1)
    np.testing.assert_allclose(CompiledModel.from_pipeline(pipeline).decision_function(batch),
                               pipeline.decision_function(batch), atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_tokens_match_scikit_learn_on_any_text(text):
    from sklearn.feature_extraction.text import TfidfVectorizer

    assert word_ngrams(text, (1, 2)) == TfidfVectorizer(ngram_range=(1, 2)).build_analyzer()(text)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_char_ngrams_of_any_text_match_scikit_learn(text):
    from collections import Counter

    from sklearn.feature_extraction.text import TfidfVectorizer

    expected = Counter(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()(text))
    got = Counter(g for word in text.lower().split() for g in char_wb_ngrams(word, (2, 5)))
    assert got == expected


def test_model_config_survives_the_metadata_round_trip():
    import json

    config = ModelConfig(C=8.0, word_ngram=(1, 2), char_ngram=(2, 5), min_df=2, sublinear_tf=False, seed=4)
    assert ModelConfig.from_params(json.loads(json.dumps(config.params())), seed=4) == config


def test_threads_sharing_one_model_get_the_answers_of_one_thread(trained_model_dir):
    """A server's pool or a Dask worker's tasks call one model at once; batches full of pieces the
    cache has not seen are where two threads would corrupt each other's arrays."""
    from concurrent.futures import ThreadPoolExecutor

    batches = [[f"{PROBES[i % len(PROBES)]} piece{b}x{i} word{i * 7 + b}" for i in range(100)] for b in range(48)]
    alone, _ = load_compiled(trained_model_dir)
    expected = [alone.predict_proba(batch) for batch in batches]
    shared, _ = load_compiled(trained_model_dir)
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(shared.predict_proba, batches))
    for want, have in zip(expected, got):
        np.testing.assert_array_equal(have, want)


def test_a_model_survives_pickling_with_its_caches(trained_model_dir):
    import pickle

    compiled, _ = load_compiled(trained_model_dir)
    before = compiled.predict_proba(PROBES * 2)
    again = pickle.loads(pickle.dumps(compiled))
    np.testing.assert_array_equal(again.predict_proba(PROBES * 2), before)
