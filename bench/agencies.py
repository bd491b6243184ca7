"""Precision and recall of the agency resolver against a hand-made gold file.

    python bench/agencies.py [--gold data/agency_mentions.csv] [--articles data/articles data]

The gold file has one row per (sentence, agency) pair: source (a file in one of the --articles
folders), sentence (the number `stance extract` gives it), text (the sentence, to check the
numbering), agency, state, kind, note. An empty agency means the sentence is about none. Only
sentences that appear in the gold file are scored. A predicted (agency, state) pair is right
when the gold file has it for that sentence; names are compared after folding case, punctuation
and "St."/"Saint" (stance.gazetteer.name_key), so "St. Paul" and "Saint Paul" agree. A true
positive and a miss count under the gold row's kind, a false positive under the predicted kind.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stance.agencies import KINDS, ArticleContext, resolve_mentions  # noqa: E402
from stance.extract import extract_statements  # noqa: E402
from stance.gazetteer import name_key  # noqa: E402


def read_gold(path: Path) -> dict[tuple[str, int], dict]:
    """(source, sentence) -> {"text": ..., "pairs": {(key, state): kind}}."""
    gold: dict[tuple[str, int], dict] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            entry = gold.setdefault((row["source"], int(row["sentence"])), {"text": row.get("text", ""), "pairs": {}})
            if row["agency"].strip():
                entry["pairs"][(name_key(row["agency"]), row["state"].strip().upper())] = row["kind"].strip()
    return gold


def predict(sources: set[str], folders: list[Path]) -> tuple[dict[tuple[str, int], dict], list[str]]:
    """(source, sentence) -> {(key, state): kind} for every sentence of the named articles."""
    predicted, problems = {}, []
    for source in sorted(sources):
        path = next((folder / source for folder in folders if (folder / source).exists()), None)
        if path is None:
            problems.append(f"{source}: not found in {', '.join(map(str, folders))}")
            continue
        text = path.read_text(encoding="utf-8")
        context = ArticleContext(text)
        for number, (sentence, speaker) in enumerate(extract_statements(text), start=1):
            agencies = resolve_mentions(sentence, context, speaker)
            predicted[(source, number)] = {"text": sentence,
                                           "pairs": {(name_key(a.name), a.state): a.kind for a in agencies}}
    return predicted, problems


def align(gold: dict, predicted: dict, problems: list[str]) -> dict:
    """Key the predictions by the gold's (source, sentence): by the sentence's text, since a
    change of the segmenter renumbers sentences (a gold sentence that extraction now joins to its
    neighbour is found inside the longer one)."""
    flat = lambda text: " ".join(text.split())  # noqa: E731
    by_source: dict[str, list[dict]] = {}
    for (source, _), entry in predicted.items():
        by_source.setdefault(source, []).append(entry)
    aligned = {}
    for (source, number), truth in gold.items():
        candidates = by_source.get(source, [])
        text = flat(truth["text"])
        if not text:  # a gold file without texts: by number
            found = predicted.get((source, number))
        else:
            found = next((e for e in candidates if flat(e["text"]) == text), None) or \
                next((e for e in candidates if text in flat(e["text"])), None)
        if found is None:
            problems.append(f"{source} sentence {number}: not among the sentences stance extract gives now")
            continue
        aligned[(source, number)] = found
    return aligned


def score(gold: dict, predicted: dict) -> dict[str, dict[str, int]]:
    counts = {kind: {"tp": 0, "fp": 0, "fn": 0} for kind in (*KINDS, "all")}
    for key, truth in gold.items():
        guess = predicted.get(key, {"pairs": {}})["pairs"]
        for pair, kind in truth["pairs"].items():
            outcome = "tp" if pair in guess else "fn"
            if kind in KINDS:
                counts[kind][outcome] += 1
            counts["all"][outcome] += 1
        for pair, kind in guess.items():
            if pair not in truth["pairs"]:
                counts[kind]["fp"] += 1
                counts["all"]["fp"] += 1
    return counts


def table(counts: dict[str, dict[str, int]]) -> str:
    lines = [f"{'kind':8} {'tp':>5} {'fp':>5} {'fn':>5} {'precision':>9} {'recall':>7} {'f1':>6}"]
    for kind, c in counts.items():
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else float("nan")
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan")
        f1 = 2 * p * r / (p + r) if p + r else float("nan")
        lines.append(f"{kind:8} {c['tp']:5d} {c['fp']:5d} {c['fn']:5d} {p:9.3f} {r:7.3f} {f1:6.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=ROOT / "data" / "agency_mentions.csv")
    parser.add_argument("--articles", type=Path, nargs="+", default=[ROOT / "data" / "articles", ROOT / "data"])
    args = parser.parse_args(argv)
    if not args.gold.exists():
        print(f"{args.gold}: no gold file there. It is made by hand: see this script's docstring.", file=sys.stderr)
        return 1
    gold = read_gold(args.gold)
    predicted, problems = predict({source for source, _ in gold}, args.articles)
    predicted = align(gold, predicted, problems)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(table(score(gold, predicted)))
    print(f"\n{len(gold)} sentences scored from {len({s for s, _ in gold})} articles", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
