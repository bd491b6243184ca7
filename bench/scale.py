"""Whole-process throughput of `stance predict --file` with one and two worker processes against
fastText in the same run, cold start against fastText's, and the per-core rate behind the sizing
estimate of docs/scale.md.

Usage (fastText from the `bench` extra, pyarrow from the `parquet` extra):
    python bench/scale.py            # 200,000 lines, 3 runs of each, interleaved (about 3 minutes)
    python bench/scale.py --lines 50000 --runs 1

Every figure is a whole process, started and timed from outside, as a user would run it:
- stance: `stance predict --file lines.txt --format csv --output out.csv --jobs N` (and a Parquet
  archive to a Parquet output);
- fastText: a Python process that loads the model, reads the same file, predicts each line with
  the probabilities of every label (`predict(..., k=-1)`, as stance gives p_<class>) and writes
  the same CSV columns (text, label, p_<class>). fastText's Python predict runs on one thread.
The lines are the sentences of labels.csv repeated, as in bench/run.py's speed section. Medians
of the runs; the ratios are taken within this run, since absolute speeds on a shared machine
vary by a third from one run to the next. Prints a table, writes bench/scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tables import markdown  # bench/, on the path of a bench script

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SENTENCE = "The sheriff said his deputies would keep honoring ICE detainers."
BILLION = 1_000_000_000

FASTTEXT_SCRIPT = """
import csv, sys
import fasttext
model = fasttext.load_model(sys.argv[1])
classes = sorted(label.removeprefix("__label__") for label in model.get_labels())
with open(sys.argv[2], encoding="utf-8") as source, open(sys.argv[3], "w", newline="", encoding="utf-8") as out:
    writer = csv.writer(out, lineterminator="\\n")
    writer.writerow(["text", "label"] + [f"p_{c}" for c in classes])
    while True:
        lines = [line.rstrip("\\n") for line in source.readlines(1 << 20)]
        if not lines:
            break
        labels, probabilities = model.predict([" ".join(t.split()) for t in lines], k=-1)
        for text, names, values in zip(lines, labels, probabilities):
            p = {n.removeprefix("__label__"): v for n, v in zip(names, values)}
            writer.writerow([text, names[0].removeprefix("__label__")] + [f"{p[c]:.6f}" for c in classes])
"""


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def peak_mb(command: list[str]) -> float:
    """Peak resident memory of the largest process of the command (GNU time)."""
    result = subprocess.run(["/usr/bin/time", "-f", "%M", *command], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, check=True)
    return int(result.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    sys.path.insert(0, str(ROOT / "bench"))
    from run import FastText  # the fastText peer of bench/run.py, same settings

    OUT.mkdir(parents=True, exist_ok=True)
    labels = pd.read_csv(ROOT / "labels.csv", dtype=str, keep_default_na=False)
    texts = list(labels["text"])
    lines = (texts * (args.lines // len(texts) + 1))[: args.lines]
    source = OUT / "scale_lines.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    archive = OUT / "scale_archive.parquet"
    pq.write_table(pa.table({"id": list(range(len(lines))), "text": lines}), archive, row_group_size=50_000)
    fasttext_model = OUT / "scale_fasttext.bin"
    FastText(texts, list(labels["label"])).model.save_model(str(fasttext_model))
    script = OUT / "scale_fasttext_predict.py"
    script.write_text(FASTTEXT_SCRIPT, encoding="utf-8")

    stance = str(Path(sys.executable).parent / "stance")
    commands = {
        "fastText": [sys.executable, str(script), str(fasttext_model), str(source), str(OUT / "scale_ft.csv")],
        "stance --jobs 1": [stance, "predict", "--file", str(source), "--format", "csv", "--output",
                            str(OUT / "scale_1.csv"), "--jobs", "1"],
        "stance --jobs 2": [stance, "predict", "--file", str(source), "--format", "csv", "--output",
                            str(OUT / "scale_2.csv"), "--jobs", "2"],
        "stance Parquet --jobs 1": [stance, "predict", "--file", str(archive), "--output", str(OUT / "scale_1.parquet"),
                                    "--jobs", "1"],
        "stance Parquet --jobs 2": [stance, "predict", "--file", str(archive), "--output", str(OUT / "scale_2.parquet"),
                                    "--jobs", "2"],
    }
    load_before = os.getloadavg()[0]
    times: dict[str, list[float]] = {name: [] for name in commands}
    for run in range(args.runs):  # interleaved, so that a burst of other work hits every command alike
        for name, command in commands.items():
            times[name].append(seconds(command))
            print(f"  run {run + 1} {name}: {times[name][-1]:.2f} s", file=sys.stderr, flush=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    rate = {name: args.lines / value for name, value in median.items()}
    memory = {name: peak_mb(commands[name]) for name in ("stance --jobs 1", "stance Parquet --jobs 1")}

    cold_fasttext = statistics.median(seconds([sys.executable, "-c", "import fasttext; m = fasttext.load_model("
                                               f"{str(fasttext_model)!r}); print(m.predict({SENTENCE!r}, k=-1))"])
                                      for _ in range(7))
    cold_stance = statistics.median(seconds([stance, "predict", SENTENCE]) for _ in range(7))

    rows = []
    for name in commands:
        row = {"measure": f"{args.lines:,} lines, whole process: {name}", "seconds": round(median[name], 2),
               "sentences/s": round(rate[name]), "x fastText": round(rate[name] / rate["fastText"], 2)}
        if name in memory:
            row["peak MB"] = round(memory[name])
        rows.append(row)
    rows.append({"measure": 'cold start: `predict "one sentence"` (fastText: load + predict)',
                 "seconds": round(cold_stance, 3), "fastText seconds": round(cold_fasttext, 3),
                 "x fastText": round(cold_fasttext / cold_stance, 2)})
    # The sizing estimate: the rate of one core (Parquet to Parquet in one process, start-up
    # included, as a Dask worker labels a partition) times the cores, each a single-threaded
    # worker with nothing else to do. Two processes on this shared machine reach `efficiency`
    # of twice one process's rate; reported beside it, not folded in.
    per_core = rate["stance Parquet --jobs 1"]
    efficiency = rate["stance Parquet --jobs 2"] / (2 * per_core)
    sizing = [{"cores": cores, "sentences/s": round(per_core * cores),
               "hours for 1e9 sentences": float(f"{BILLION / (per_core * cores) / 3600:.2g}")}
              for cores in (1, 8, 64, 512)]
    results = {"command": " ".join(["python bench/scale.py", *sys.argv[1:]]), "lines": args.lines, "runs": args.runs,
               "times": times, "rows": rows, "per_core_rate": round(per_core),
               "two_core_efficiency": round(efficiency, 2), "sizing": sizing,
               "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
               "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                           "python": platform.python_version()}}
    (ROOT / "bench" / "scale.json").write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(rows))
    print(f"\nload average (1 min) before and after: {load_before:.2f}, {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} cores: other work shares them when it is above 0\n")
    print(f"per-core rate (Parquet to Parquet, --jobs 1): {per_core:,.0f} sentences/s; two cores reach "
          f"{efficiency:.0%} of twice that")
    print(markdown(sizing))


if __name__ == "__main__":
    main()
