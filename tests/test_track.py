"""stance track: inputs in each shape, dates and reversals, --min-prob, the roster, bad input,
and the HTML page in a real browser."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import stance.track
from stance.agencies import Agency
from tests.conftest import ROOT

CLASSES = ("cooperate", "decline", "neutral")
HARRIS = "Harris County Sheriff's Office"

# Three dated articles on one sheriff: cooperate, then decline (a reversal), then a neutral one,
# and an undated article with a sentence the model is unsure of.
JANUARY = ("HOUSTON, Texas — The Harris County Sheriff's Office signed a 287(g) agreement with ICE on Monday.\n"
           "Sheriff Ed Gonzalez said deputies will keep honoring detainers.\n"
           "The county board met on Tuesday to discuss the budget.\n")
JUNE = ("HOUSTON, Texas — The sheriff will not honor ICE detainers without a judicial warrant, officials said.\n"
        "Gonzalez said the Harris County Sheriff's Office refuses to hold people for ICE.\n")
AUGUST = "HOUSTON, Texas — The Harris County Sheriff's Office will not hold people for immigration agents anymore.\n"
UNDATED = ("HOUSTON, Texas — Maybe the Harris County Sheriff's Office will talk to ICE again someday.\n"
           "The Harris County Sheriff's Office hired twelve deputies for patrol duty this spring.\n")
ARTICLES = [("january.txt", "https://example.org/jan", "2024-01-10", JANUARY),
            ("june.txt", "https://example.org/jun", "2024-06-01", JUNE),
            ("august.txt", "https://example.org/aug", "2024-08-15T09:30:00Z", AUGUST),
            ("undated.txt", "https://example.org/undated", "", UNDATED)]


def fake_classify(model_dir, texts):
    """A stand-in model with fixed answers, so the rules of `track` are tested, not the model."""
    rows = []
    for text in texts:
        lowered = text.casefold()
        if "maybe" in lowered:
            rows.append([0.40, 0.30, 0.30])
        elif any(w in lowered for w in ("will not", "refuses", "ended")):
            rows.append([0.05, 0.90, 0.05])
        elif any(w in lowered for w in ("signed", "honoring")):
            rows.append([0.90, 0.05, 0.05])
        else:
            rows.append([0.05, 0.05, 0.90])
    return CLASSES, np.array(rows)


@pytest.fixture(autouse=True)
def fixed_model(monkeypatch):
    monkeypatch.setattr(stance.track, "_classify", fake_classify)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def records() -> list[dict]:
    return [{"text": text, "url": url, "date": date, "title": name} for name, url, date, text in ARTICLES]


def write_texts(folder: Path) -> tuple[list[Path], Path]:
    paths = []
    for name, _, _, text in ARTICLES:
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(folder / name)
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "url", "date"])
        writer.writerows([name, url, date] for name, url, date, _ in ARTICLES)
    return paths, manifest


def read_rows(path: Path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["agency"]: row for row in csv.DictReader(handle)}


def run_track(invoke, model_dir, inputs, *options):
    result = invoke("track", *inputs, "--model", model_dir, *options)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("shape", ["jsonl", "csv", "txt"])
def test_each_input_shape_gives_the_same_answer(invoke, model_dir, tmp_path, shape):
    if shape == "jsonl":
        inputs = [write_jsonl(tmp_path / "articles.jsonl", records())]
    elif shape == "csv":
        path = tmp_path / "articles.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["id", "date", "title", "text"])
            writer.writeheader()
            writer.writerows({"id": r["url"], "date": r["date"], "title": r["title"], "text": r["text"]}
                             for r in records())
        inputs = [path]
    else:
        paths, manifest = write_texts(tmp_path)
        inputs = [*paths, "--manifest", manifest]
    run_track(invoke, model_dir, inputs, "--out", tmp_path / "agencies.csv")
    row = read_rows(tmp_path / "agencies.csv")[HARRIS]
    assert (row["state"], row["kind"], row["stance"], row["since"], row["last_seen"]) == \
        ("TX", "sheriff", "decline", "2024-06-01", "2024-08-15")
    assert (row["cooperate"], row["decline"], row["articles"], row["undated_articles"]) == ("2", "3", "4", "1")
    assert row["evidence_url"] in ("https://example.org/jun", "https://example.org/aug")
    assert float(row["evidence_prob"]) == pytest.approx(0.9)


def test_a_reversal_is_listed_with_both_dates(invoke, model_dir, tmp_path):
    run_track(invoke, model_dir, [write_jsonl(tmp_path / "a.jsonl", records())], "--format", "jsonl",
              "--out", tmp_path / "agencies.jsonl")
    rows = {r["agency"]: r for r in map(json.loads, (tmp_path / "agencies.jsonl").read_text().splitlines())}
    assert rows[HARRIS]["reversals"] == [{"from": "cooperate", "from_last": "2024-01-10", "to": "decline",
                                          "to_first": "2024-06-01"}]


def test_undated_articles_count_but_give_no_dates(invoke, model_dir, tmp_path):
    undated = [dict(r, date="") for r in records()]
    run_track(invoke, model_dir, [write_jsonl(tmp_path / "a.jsonl", undated)], "--out", tmp_path / "out.csv")
    row = read_rows(tmp_path / "out.csv")[HARRIS]
    assert (row["since"], row["last_seen"], row["reversals"], row["undated_articles"]) == ("", "", "", "4")
    assert row["stance"] == "decline"  # 2 cooperate sentences against 3 decline ones, by summed probability


def test_below_min_prob_goes_to_the_evidence_file_only(invoke, model_dir, tmp_path):
    run_track(invoke, model_dir, [write_jsonl(tmp_path / "a.jsonl", records())], "--out", tmp_path / "out.csv",
              "--evidence", tmp_path / "evidence.csv", "--min-prob", "0.6")
    with open(tmp_path / "evidence.csv", newline="", encoding="utf-8") as handle:
        evidence = list(csv.DictReader(handle))
    unsure = [e for e in evidence if e["text"].startswith("HOUSTON, Texas — Maybe")]
    assert len(unsure) == 1 and unsure[0]["counted"] == "no" and unsure[0]["label"] == "uncertain"
    assert unsure[0]["agency"] == HARRIS and unsure[0]["p_cooperate"] == "0.4"
    row = read_rows(tmp_path / "out.csv")[HARRIS]
    assert row["cooperate"] == "2"  # the unsure sentence is not the third
    # Every evidence row is one sentence and one agency, with where it came from.
    assert all(e["agency"] and e["source"] and e["sentence"] for e in evidence)


def test_an_agency_seen_only_below_min_prob_is_not_reported(invoke, model_dir, tmp_path):
    only = [{"text": "Maybe the Travis County Sheriff's Office will answer ICE.", "url": "u", "date": "2024-01-01"}]
    run_track(invoke, model_dir, [write_jsonl(tmp_path / "a.jsonl", only)], "--out", tmp_path / "out.csv",
              "--evidence", tmp_path / "ev.csv")
    assert read_rows(tmp_path / "out.csv") == {}
    assert "Travis County Sheriff's Office" in (tmp_path / "ev.csv").read_text()


def test_roster_match_and_a_lead(invoke, model_dir, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "STATE,LAW ENFORCEMENT AGENCY,TYPE,COUNTY,SUPPORT TYPE,SIGNED,MOA,,\r\n"
        "TEXAS,Harris County Sheriff\u2019s Office ,County,Harris County ,Task Force Model,2025-02-26 00:00:00,link,,\r\n"
        "TEXAS,Travis County Sheriff's Office,County,Travis County,Warrant Service Officer,2025-03-01 00:00:00,link,,\r\n"
        ",,,,,,,,\r\n", encoding="utf-8")
    extra = {"text": "AUSTIN, Texas — The Austin Police Department signed an agreement to honor ICE detainers.",
             "url": "https://example.org/austin", "date": "2025-01-05"}
    result = run_track(invoke, model_dir, [write_jsonl(tmp_path / "a.jsonl", [*records(), extra])],
                       "--roster", roster, "--out", tmp_path / "out.csv")
    rows = read_rows(tmp_path / "out.csv")
    harris = rows[HARRIS]
    assert (harris["roster"], harris["roster_support"], harris["roster_signed"]) == \
        ("listed", "Task Force Model", "2025-02-26")
    assert harris["lead"] == "news says decline since 2024-06; roster lists a Task Force Model agreement signed 2025-02-26"
    austin = rows["Austin Police Department"]
    assert austin["roster"] == "not listed" and austin["lead"].startswith("news says cooperate since 2025-01")
    assert "2 leads" in result.stderr


@pytest.mark.parametrize("name, content, where, reason", [
    ("a.jsonl", '{"url": "u", "date": "2024-01-01"}\n', "a.jsonl line 1", 'no "text" field'),
    ("b.jsonl", '{"text": "A story.", "date": "2024-01-01"}\n{"text": "Another.", "date": "01/02/2024"}\n',
     "b.jsonl line 2", 'date "01/02/2024" is not an ISO 8601 date'),
    ("c.jsonl", '{"text": "A story."}\nnot json\n', "c.jsonl line 2", "not valid JSON"),
    ("d.csv", "url,date,body\nu,2024-01-01,A story.\n", "d.csv line 1", "no column 'text'"),
    ("e.csv", 'text,date\n"A story\nover two lines.",2024-01-01\n"Another.",2024-13-01\n', "e.csv line 4",
     'date "2024-13-01" is not an ISO 8601 date'),
    ("f.jsonl", b'{"text": "caf\xe9"}\n', "f.jsonl line 1", "not valid UTF-8"),
])
def test_bad_input_is_one_line_and_writes_nothing(invoke, model_dir, tmp_path, name, content, where, reason):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    good = write_jsonl(tmp_path / "good.jsonl", records())  # read first: a failure later still writes nothing
    result = invoke("track", good, path, "--model", model_dir, "--out", tmp_path / "out.csv",
                    "--evidence", tmp_path / "ev.csv")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"stance: error: {tmp_path / where}:"), lines
    assert reason in lines[0]
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "ev.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging files left


def test_unreadable_inputs_are_one_line(invoke, model_dir, tmp_path):
    missing = invoke("track", tmp_path / "nowhere.txt", "--model", model_dir, "--out", tmp_path / "out.csv")
    assert missing.exit_code == 1 and missing.stderr.strip() == f"stance: error: {tmp_path / 'nowhere.txt'}: no such file. Check the path."
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,url,date\nstory.txt,u,yesterday\n", encoding="utf-8")
    (tmp_path / "story.txt").write_text("A story about the county.", encoding="utf-8")
    bad = invoke("track", tmp_path / "story.txt", "--manifest", manifest, "--model", model_dir)
    assert bad.exit_code == 1
    assert bad.stderr.strip().startswith(f"stance: error: {manifest} line 2: date \"yesterday\"")
    assert not (tmp_path / "out.csv").exists()


def test_articles_stream_with_progress(tmp_path, model_dir):
    consumed = []

    def articles():
        from stance.articles import read_articles

        for article in read_articles([write_jsonl(tmp_path / "a.jsonl", records() * 3)]):
            consumed.append(article)
            yield article

    lines = []
    result = stance.track.track(articles(), model_dir, progress=lines.append, progress_every=4)
    assert len(consumed) == result.articles == 12
    assert len(lines) == 3 and lines[0].startswith("track: 4 articles")


def test_html_is_one_self_contained_file(invoke, model_dir, tmp_path):
    run_track(invoke, model_dir, [write_jsonl(tmp_path / "a.jsonl", records())], "--format", "html",
              "--out", tmp_path / "track.html")
    page = (tmp_path / "track.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "<script>" in page
    assert "<link" not in page and " src=" not in page and "@import" not in page and "url(" not in page
    assert page.count('<section class="agency"') == len(read_html_rows(page))
    assert 'href="https://example.org/jun"' in page  # evidence links to its article


def read_html_rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [row for row in body.split("<tr>") if row.strip()]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium); .ci/run installs it")
def test_html_renders_and_sorts_in_a_real_browser(invoke, model_dir, tmp_path):
    extra = [{"text": f"{city.upper()}, Texas — The {city} Police Department signed an agreement with ICE.",
              "url": f"https://example.org/{city}", "date": "2024-03-01"} for city in ("Austin", "Dallas")]
    run_track(invoke, model_dir, [write_jsonl(tmp_path / "a.jsonl", [*records(), *extra])], "--format", "html",
              "--out", tmp_path / "track.html")
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom",
         (tmp_path / "track.html").as_uri() + "#sort=agency:desc"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)}).stdout
    assert 'data-ready="true"' in dom, dom[:500]  # the page's script ran
    rows = read_html_rows(dom.split('id="agencies"', 1)[1])
    assert f'data-rows="{len(rows)}"' in dom and len(rows) >= 3
    assert 'data-sorted="agency:descending"' in dom
    names = [row.split('data-sort="', 1)[1].split('"', 1)[0].replace("&#x27;", "'") for row in rows]
    assert names == sorted(names, reverse=True)  # the script re-ordered the rows
    assert dom.count("<svg") >= 1 and dom.count('class="point cooperate"') >= 3 and 'class="point decline"' in dom


def test_bench_agencies_scores_a_gold_file(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "one.txt").write_text(
        "HOUSTON, Texas — The Harris County Sheriff's Office signed an agreement with ICE.\n"
        "The sheriff said the Harris County Jail will hold people for 48 hours.\n"
        "It rained on Tuesday in the city, residents said.\n", encoding="utf-8")
    gold = tmp_path / "gold.csv"
    with open(gold, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "sentence", "text", "agency", "state", "kind", "note"])
        writer.writerow(["one.txt", 1, "", HARRIS, "TX", "sheriff", ""])
        writer.writerow(["one.txt", 2, "", HARRIS, "TX", "sheriff", "anaphora"])
        writer.writerow(["one.txt", 2, "", "Harris County Jail", "TX", "jail", ""])
        writer.writerow(["one.txt", 2, "", "Harris County", "TX", "county", "a miss on purpose"])
        writer.writerow(["one.txt", 3, "", "", "", "", "about no agency"])
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "agencies.py"), "--gold", str(gold),
                             "--articles", str(articles)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    table = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    # sheriff: 2 of 2 found; jail: 1 of 1; county: 0 of 1, nothing predicted.
    assert table["sheriff"][1:4] == ["2", "0", "0"]
    assert table["county"][1:4] == ["0", "0", "1"]
    assert table["all"][1:4] == ["3", "0", "1"]


def test_the_track_command_starts():
    result = subprocess.run([sys.executable, "-m", "stance", "track", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--roster" in result.stdout


def test_the_shipped_roster_resolves(tmp_path):
    from stance.roster import read_roster

    roster = read_roster(ROOT / "data" / "ice_287g_2025-05-16.csv")
    assert roster.rows == 571 and len(roster.unmatched) < 50
    colbert = roster.status(Agency("Colbert County Sheriff's Office", "AL", "sheriff"))
    assert sorted(a.support for a in colbert) == ["Jail Enforcement Model", "Warrant Service Officer"]
    # A county jail is on the roster through the sheriff who runs it.
    jail = roster.status(Agency("Etowah County Jail", "AL", "jail"))
    assert [(a.agency, a.support, a.signed) for a in jail] == [("Etowah County Sheriff's Office", "Jail Enforcement Model",
                                                                 "2020-06-09")]
