"""ICE's 287(g) participating-agencies sheet, matched to tracked agencies by the same resolver
that reads the news (stance.agencies.resolve_name), so "Colbert County Sheriff's Office" on the
roster and "the Colbert County sheriff" in a story are one agency."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from stance.agencies import Agency, resolve_name
from stance.errors import InputFileError
from stance.inputs import read_text

COLUMNS = ("STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED", "MOA")
# What the resolver may call an agency of each roster TYPE; a state agency can be its police
# (state patrol) or its corrections.
_KINDS = {"County": {"sheriff", "jail", "county", "police"}, "Municipality": {"police", "city", "jail", "sheriff"},
          "State Agency": {"police", "jail", "state"}}


@dataclass(frozen=True)
class Agreement:
    """One roster row: one support type (model) signed on one date."""

    agency: str    # as the roster writes it
    support: str   # Jail Enforcement Model, Task Force Model, Warrant Service Officer
    signed: str    # ISO date
    moa: str


def clean_cell(value: str) -> str:
    """The sheet's cells as they should have been typed: no-break spaces and runs of spaces
    folded, curly apostrophes straightened, '#N/A' empty, a midnight time dropped from dates."""
    value = " ".join(value.replace("\xa0", " ").replace("’", "'").split())
    if value == "#N/A":
        return ""
    return value[:-9] if value.endswith(" 00:00:00") else value


def clean_rows(text: str, name: str) -> list[dict[str, str]]:
    """The roster's rows with their cells cleaned and the sheet's empty rows and columns dropped."""
    reader = csv.reader(io.StringIO(text))
    header = [clean_cell(h) for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputFileError(f"{name} line 1: no column {', '.join(missing)}; a 287(g) roster has "
                             f"{', '.join(COLUMNS)}.")
    rows = []
    for values in reader:
        cells = dict(zip(header, (clean_cell(v) for v in values)))
        if any(cells.get(c) for c in COLUMNS):
            rows.append({c: cells.get(c, "") for c in COLUMNS} | {"line": str(reader.line_num)})
    return rows


@dataclass
class Roster:
    agreements: dict[Agency, list[Agreement]]
    unmatched: list[str]  # roster agencies the resolver could not place
    rows: int

    def status(self, agency: Agency) -> list[Agreement]:
        """The agency's own agreements; for a county jail, its sheriff's too, since the sheriff
        signs for the jail ("Salt Lake County Jail" is run by the Salt Lake County Sheriff)."""
        own = self.agreements.get(agency, [])
        county = re.match(r"(.+ (?:County|Parish)) ", agency.name)
        if agency.kind == "jail" and county:
            own = own + self.agreements.get(Agency(f"{county.group(1)} Sheriff's Office", agency.state, "sheriff"), [])
        return own


def read_roster(path: Path) -> Roster:
    """Read a 287(g) participating-agencies CSV and resolve each row to one agency."""
    from stance import gazetteer

    rows = clean_rows(read_text(Path(path), empty_hint="Give ICE's participating-agencies CSV."), str(path))
    agreements: dict[Agency, list[Agreement]] = {}
    unmatched = []
    for row in rows:
        state = gazetteer.state_named(row["STATE"].title())
        name = row["LAW ENFORCEMENT AGENCY"]
        agency = resolve_name(name, state.abbr if state else None) if state else None
        if agency is None or agency.state != state.abbr or agency.kind not in _KINDS.get(row["TYPE"], set(_KINDS)):
            unmatched.append(f"{name} ({row['STATE'].title()})")
            continue
        agreements.setdefault(agency, []).append(Agreement(name, row["SUPPORT TYPE"], row["SIGNED"], row["MOA"]))
    return Roster(agreements, unmatched, len(rows))
