"""Time `stance track` on 10,000 articles and show that its memory stays flat.

    python bench/track.py [--runs 1000:1095 10000:1095 10000:0] [--keep DIR]

The articles are the project's written articles (data/articles: 76 today, dates from their manifest)
replicated to each size, each copy's date moved by a seeded random number of days (up to the
run's jitter either way: three years by default, so positions fall on many dates; 0 keeps the
manifest's dates). Each run is its own `stance track` process (JSONL in, CSV and --evidence
out, the shipped model); its wall time and peak resident memory (os.wait4's rusage of that
child) are printed as a table. What `track` keeps grows with the distinct (agency, date) pairs,
not with the sentences, which the run without jitter shows.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "data" / "articles"


def write_articles(path: Path, count: int, jitter: int, seed: int = 0) -> None:
    rows = list(csv.DictReader(open(ARTICLES / "manifest.csv", encoding="utf-8")))
    texts = {r["file"]: (ARTICLES / r["file"]).read_text(encoding="utf-8") for r in rows}
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(count):
            row = rows[i % len(rows)]
            date = dt.date.fromisoformat(row["event_date"]) + dt.timedelta(days=rng.randint(-jitter, jitter))
            handle.write(json.dumps({"id": f"{row['file']}#{i}", "date": date.isoformat(), "state": row["state"],
                                     "title": row["headline"], "text": texts[row["file"]]}) + "\n")


def run(size: int, jitter: int, folder: Path) -> dict:
    name = f"{size}_{jitter}"
    articles = folder / f"articles_{name}.jsonl"
    write_articles(articles, size, jitter)
    start = time.perf_counter()
    with open(folder / f"stderr_{name}.txt", "w+", encoding="utf-8") as stderr:
        child = subprocess.Popen([sys.executable, "-m", "stance", "track", str(articles),
                                  "--model", str(ROOT / "models/default"), "--out", str(folder / f"agencies_{name}.csv"),
                                  "--evidence", str(folder / f"evidence_{name}.csv"), "--progress-every", "2000"],
                                 stdout=subprocess.DEVNULL, stderr=stderr, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak memory, not the largest so far
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        stderr.seek(0)
        messages = stderr.read()
    if child.returncode != 0:
        raise SystemExit(messages)
    summary = messages.strip().splitlines()[-1]
    numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?=\s(?:articles|sentences|about|agencies))", summary)]
    return {"articles": size, "jitter": jitter, "sentences": numbers[1], "about": numbers[2], "agencies": numbers[3],
            "seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "progress": messages.count("track: ")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=["1000:1095", "10000:1095", "10000:0"],
                        help="SIZE:JITTER_DAYS for each run")
    parser.add_argument("--keep", type=Path, help="keep the generated articles and outputs here")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="stance-track-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{'articles':>8}  {'date jitter':>11}  {'sentences':>9}  {'about an agency':>15}  {'agencies':>8}  "
          f"{'seconds':>7}  {'articles/s':>10}  {'peak MB':>7}  {'progress lines':>14}")
    for spec in args.runs:
        size, jitter = (int(x) for x in spec.split(":"))
        r = run(size, jitter, folder)
        print(f"{r['articles']:8,}  {f'±{jitter} d':>11}  {r['sentences']:9,}  {r['about']:15,}  {r['agencies']:8,}  "
              f"{r['seconds']:7.1f}  {r['articles'] / r['seconds']:10.1f}  {r['peak_mb']:7.0f}  {r['progress']:14d}",
              flush=True)


if __name__ == "__main__":
    main()
