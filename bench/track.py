"""Time `stance track` on 10,000 articles and show that its memory stays flat.

    python bench/track.py [--sizes 1000 10000] [--keep DIR]

The articles are the project's 64 written articles (data/articles, dates from their manifest)
replicated to each size, each copy's date moved by a seeded random number of days (up to three
years either way) so that positions fall on many dates. Each size runs as its own `stance track`
process (JSONL in, CSV and --evidence out, the shipped model); its wall time and peak resident
memory (resource.getrusage of the child) are printed as a table.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "data" / "articles"


def write_articles(path: Path, count: int, seed: int = 0) -> None:
    rows = list(csv.DictReader(open(ARTICLES / "manifest.csv", encoding="utf-8")))
    texts = {r["file"]: (ARTICLES / r["file"]).read_text(encoding="utf-8") for r in rows}
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(count):
            row = rows[i % len(rows)]
            date = dt.date.fromisoformat(row["event_date"]) + dt.timedelta(days=rng.randint(-1095, 1095))
            handle.write(json.dumps({"id": f"{row['file']}#{i}", "date": date.isoformat(), "state": row["state"],
                                     "title": row["headline"], "text": texts[row["file"]]}) + "\n")


def run(size: int, folder: Path) -> dict:
    articles = folder / f"articles_{size}.jsonl"
    write_articles(articles, size)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    # One child per size: RUSAGE_CHILDREN's maxrss is the largest child so far, so sizes go up.
    done = subprocess.run([sys.executable, "-m", "stance", "track", str(articles), "--model", str(ROOT / "models/default"),
                           "--out", str(folder / f"agencies_{size}.csv"), "--evidence", str(folder / f"evidence_{size}.csv"),
                           "--progress-every", "2000"], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    summary = done.stderr.strip().splitlines()[-1]
    numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?=\s(?:articles|sentences|about|agencies))", summary)]
    return {"articles": size, "sentences": numbers[1], "about": numbers[2], "agencies": numbers[3],
            "seconds": seconds, "peak_mb": max(peak, before) / 1024, "progress": done.stderr.count("track: ")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--keep", type=Path, help="keep the generated articles and outputs here")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="stance-track-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{'articles':>8}  {'sentences':>9}  {'about an agency':>15}  {'agencies':>8}  {'seconds':>7}  "
          f"{'articles/s':>10}  {'peak MB':>7}  {'progress lines':>14}")
    for size in sorted(args.sizes):
        r = run(size, folder)
        print(f"{r['articles']:8,}  {r['sentences']:9,}  {r['about']:15,}  {r['agencies']:8,}  {r['seconds']:7.1f}  "
              f"{r['articles'] / r['seconds']:10.1f}  {r['peak_mb']:7.0f}  {r['progress']:14d}", flush=True)


if __name__ == "__main__":
    main()
