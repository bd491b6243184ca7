"""States, counties and places of the United States, looked up the way news spells them.

States and counties come from the `us` package (Census names and FIPS codes, and the AP
abbreviations datelines use: "NASHVILLE, Tenn."); cities and towns from a snapshot of GeoNames'
US populated places shipped in `stance/data/us_places.tsv` (bench/gazetteer.py measured the
choice and regenerates the snapshot). Names are compared by `name_key`, which folds case, accents,
punctuation, spacing and the abbreviations news uses ("St." for Saint, "Ft." for Fort), so
"DeKalb", "De Kalb" and "Dekalb" are one county.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

_ABBREVIATIONS = {"saint": "st", "sainte": "ste", "fort": "ft", "mount": "mt"}
_COUNTY_SUFFIX = re.compile(r"\s+(County|Parish|Borough|City and Borough|Census Area|Municipality|city)$")


def name_key(name: str) -> str:
    """A spelling-proof key for a place name: "St. Lucie" and "Saint Lucie" give "stlucie"."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    words = re.findall(r"[a-z0-9]+", plain.casefold().replace("'", "").replace("’", ""))
    return "".join(_ABBREVIATIONS.get(w, w) for w in words)


@dataclass(frozen=True)
class State:
    abbr: str  # postal code: "TX"
    name: str  # "Texas"


@dataclass(frozen=True)
class County:
    name: str   # the bare name as the Census writes it: "Harris", "St. Lucie", "Orleans"
    unit: str   # "County", "Parish", "Borough", ...
    state: str  # postal code

    @property
    def full(self) -> str:
        return f"{self.name} {self.unit}"


@dataclass(frozen=True)
class Place:
    name: str
    state: str
    population: int


@lru_cache(maxsize=None)
def _states() -> tuple[dict[str, State], dict[str, State]]:
    """(by postal code, by any name form) for the 50 states and DC."""
    import us

    by_abbr, by_name = {}, {}
    for entry in [*us.states.STATES, us.states.DC]:
        state = State(entry.abbr, entry.name)
        by_abbr[entry.abbr] = state
        for form in (entry.name, entry.ap_abbr, entry.abbr):
            if form:
                by_name[name_key(form)] = state
    by_name[name_key("Washington, D.C.")] = by_abbr["DC"]
    by_name[name_key("D.C.")] = by_abbr["DC"]
    return by_abbr, by_name


def state(code: str) -> State | None:
    """A state by postal code ("TX")."""
    return _states()[0].get(code.upper())


def state_named(text: str, allow_codes: bool = False) -> State | None:
    """A state by its name ("Texas") or AP abbreviation ("Tenn."); two-letter codes only when
    `allow_codes` (in free text "IN", "OR" and "ME" are words)."""
    text = text.strip()
    if not allow_codes and re.fullmatch(r"[A-Z]{2}", text):
        return None
    return _states()[1].get(name_key(text))


def state_names() -> list[str]:
    """Every state's full name, longest first (so "West Virginia" is tried before "Virginia")."""
    return sorted((s.name for s in _states()[0].values()), key=len, reverse=True)


@lru_cache(maxsize=None)
def _counties() -> dict[str, dict[str, list[County]]]:
    """name_key(bare name) -> state -> counties. One state can have two of one bare name
    (Richmond County and the independent city of Richmond, Virginia): both are kept, and the
    caller's unit ("County" or "city") decides."""
    import us

    index: dict[str, dict[str, list[County]]] = {}
    for entry in [*us.states.STATES, us.states.DC]:
        for county in entry.counties or []:
            match = _COUNTY_SUFFIX.search(county.name)
            if not match:
                continue
            unit = match.group(1)
            bare = county.name[: match.start()]
            # The Census writes "Charles city County"; news writes "Charles City County".
            bare = " ".join(w[0].upper() + w[1:] if w.islower() else w for w in bare.split())
            index.setdefault(name_key(bare), {}).setdefault(entry.abbr, []).append(County(bare, unit, entry.abbr))
    return index


def counties(name: str, state_code: str | None = None, unit: str | None = None) -> list[County]:
    """Counties (or parishes, boroughs) called `name`, in one state or all; independent cities
    ("Richmond city") only when asked for with unit="city"."""
    found = _counties().get(name_key(name), {})
    pool = found.get(state_code, []) if state_code else [c for group in found.values() for c in group]
    if unit:
        return [c for c in pool if c.unit.casefold() == unit.casefold() or unit == "County" and c.unit == "Parish"]
    return [c for c in pool if c.unit != "city"]


@lru_cache(maxsize=None)
def _places() -> dict[str, list[Place]]:
    index: dict[str, list[Place]] = {}
    text = files("stance").joinpath("data/us_places.tsv").read_text(encoding="utf-8")
    for line in text.splitlines()[2:]:
        name, state_code, population = line.split("\t")
        index.setdefault(name_key(name), []).append(Place(name, state_code, int(population)))
    for group in index.values():
        group.sort(key=lambda p: -p.population)
    return index


def places(name: str, state_code: str | None = None) -> list[Place]:
    """Cities and towns called `name`, most populous first, in one state or all."""
    found = _places().get(name_key(name), [])
    return [p for p in found if p.state == state_code] if state_code else list(found)
