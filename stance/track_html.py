"""`stance track --format html`: one self-contained page (inline CSS, inline script, inline SVG;
nothing fetched from the network) with a sortable table of agencies, a timeline for each agency
and the evidence sentences with links to their articles.

The table and the timelines are written into the page, so it reads without JavaScript; the
script adds sorting (click a header, or open the page with #sort=column:asc|desc) and marks the
body with data-ready once it has run.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re

from stance import LABELS
from stance.track import AgencyReport, TrackResult

COLOURS = {"cooperate": "#1b7837", "decline": "#c2410c", "neutral": "#8c8c8c"}
_WIDTH, _HEIGHT, _PAD = 560, 46, 14

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem auto;max-width:92rem;
padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem;margin:0 0 .3rem}p.summary{color:#57606a;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;font-size:.85rem}th,td{border-bottom:1px solid #d0d7de;padding:.3rem .4rem;
text-align:left;vertical-align:top}th{background:#f6f8fa;cursor:pointer;user-select:none;white-space:nowrap;
position:sticky;top:0}th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.date{white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}.stance{font-weight:600}.cooperate{color:#1b7837}
.decline{color:#c2410c}.neutral{color:#6e7781}.lead{color:#8250df}td.lead{min-width:15rem}
td.roster{white-space:nowrap}div.scroll{overflow-x:auto}section.agency{border-top:2px solid #d0d7de;
margin-top:1.4rem;padding-top:.6rem}section.agency h2{font-size:1.1rem;margin:0}.meta{color:#57606a;font-size:.85rem}
ol.evidence{font-size:.88rem;padding-left:1.3rem}ol.evidence li{margin:.25rem 0}.legend span{margin-right:1rem}
svg.timeline{display:block;margin:.4rem 0}svg.spark{display:block}svg text{font-size:10px;fill:#57606a}
"""

_SCRIPT = """
(function () {
  var table = document.getElementById('agencies');
  var body = table.tBodies[0];
  function key(cell, numeric) {
    var v = cell.getAttribute('data-sort');
    if (v === null) v = cell.textContent.trim();
    return numeric ? (v === '' ? -Infinity : parseFloat(v)) : v.toLowerCase();
  }
  function sortBy(index, direction) {
    var th = table.tHead.rows[0].cells[index];
    var numeric = th.getAttribute('data-type') === 'number';
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index], numeric), y = key(b.cells[index], numeric);
      return (x < y ? -1 : x > y ? 1 : 0) * (direction === 'descending' ? -1 : 1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', direction);
    document.body.setAttribute('data-sorted', th.getAttribute('data-column') + ':' + direction);
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
    th.addEventListener('click', function () {
      sortBy(index, th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending');
    });
  });
  var wanted = /#sort=([\\w-]+):(asc|desc)/.exec(window.location.hash);
  if (wanted) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      if (th.getAttribute('data-column') === wanted[1]) sortBy(index, wanted[2] === 'asc' ? 'ascending' : 'descending');
    });
  }
  document.body.setAttribute('data-rows', String(body.rows.length));
  document.body.setAttribute('data-timelines', String(document.querySelectorAll('svg.timeline').length));
  document.body.setAttribute('data-ready', 'true');
})();
"""

_COLUMNS = [("agency", "agency", "text"), ("state", "state", "text"), ("kind", "kind", "text"),
            ("stance", "stance", "text"), ("since", "since", "text"), ("last_seen", "last seen", "text"),
            *((label, label, "number") for label in LABELS), ("articles", "articles", "number"),
            ("reversals", "reversals", "number"), ("timeline", "timeline", "text")]


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _anchor(report: AgencyReport) -> str:
    return "agency-" + re.sub(r"[^a-z0-9]+", "-", f"{report.agency.name} {report.agency.state}".casefold()).strip("-")


def _link(url: str, text: str) -> str:
    if re.match(r"https?://", url):
        return f'<a href="{_e(url)}" rel="noreferrer">{_e(text)}</a>'
    return _e(text)


def _timeline(report: AgencyReport, first: dt.date, last: dt.date, small: bool = False) -> str:
    """Inline SVG: one dot per reported date (colour = position, size = articles), runs joined;
    `small` is the table's sparkline, on the same time axis as the large one."""
    width, height, pad, y = (120, 18, 5, 9) if small else (_WIDTH, _HEIGHT, _PAD, 20)
    span = max((last - first).days, 1)

    def x(date: str) -> float:
        return pad + (width - 2 * pad) * (dt.date.fromisoformat(date) - first).days / span

    points = report.timeline
    parts = [f'<svg class="{"spark" if small else "timeline"}" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" aria-label="timeline of {_e(report.agency.name)}">',
             f'<line x1="{pad}" y1="{y}" x2="{width - pad}" y2="{y}" stroke="#d0d7de"/>']
    if not small:
        parts += [f'<text x="{pad}" y="{height - 4}">{first.isoformat()}</text>',
                  f'<text x="{width - pad}" y="{height - 4}" text-anchor="end">{last.isoformat()}</text>']
    directional = [p for p in points if p["position"] != "neutral"]
    for a, b in zip(directional, directional[1:]):
        if a["position"] == b["position"]:
            parts.append(f'<line x1="{x(a["date"]):.1f}" y1="{y}" x2="{x(b["date"]):.1f}" y2="{y}" '
                         f'stroke="{COLOURS[a["position"]]}" stroke-width="{2 if small else 3}"/>')
    for point in points:
        radius = min(2 + point["articles"], 5) if small else min(3 + 1.5 * point["articles"], 9)
        best = point["best"]["text"] if point.get("best") else ""
        parts.append(f'<circle class="{"dot" if small else "point"} {point["position"]}" data-date="{point["date"]}" '
                     f'cx="{x(point["date"]):.1f}" cy="{y}" r="{radius:.1f}" fill="{COLOURS[point["position"]]}" fill-opacity="0.85">'
                     f'<title>{_e(point["date"])}: {_e(point["position"])}, {point["articles"]} article(s). '
                     f'{_e(best[:200])}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def _row(report: AgencyReport, first: dt.date | None, last: dt.date | None) -> str:
    r = report.row()
    cells = [f'<td data-sort="{_e(report.agency.name)}"><a href="#{_anchor(report)}">{_e(report.agency.name)}</a></td>',
             f"<td>{_e(r['state'])}</td>", f"<td>{_e(r['kind'])}</td>",
             f'<td class="stance {_e(report.stance)}">{_e(report.stance)}</td>',
             f'<td class="date">{_e(r["since"])}</td>', f'<td class="date">{_e(r["last_seen"])}</td>',
             *(f'<td class="num">{report.counts[label]}</td>' for label in LABELS),
             f'<td class="num">{report.articles}</td>', f'<td class="num">{len(report.reversals)}</td>',
             f'<td data-sort="{_e(r["since"])}">{_timeline(report, first, last, small=True) if report.timeline else ""}</td>']
    if report.roster:
        cells.append(f'<td class="roster">{_e(report.roster.get("roster", ""))}</td>')
        cells.append(f'<td class="lead">{_e(report.roster.get("lead", ""))}</td>')
    return "<tr>" + "".join(cells) + "</tr>"


def _section(report: AgencyReport, first: dt.date | None, last: dt.date | None) -> str:
    a = report.agency
    since = f" since {report.since.isoformat()}" if report.since else ""
    lines = [f'<section class="agency" id="{_anchor(report)}">',
             f'<h2>{_e(a.name)} <span class="meta">{_e(a.state)} · {_e(a.kind)}</span></h2>',
             f'<p class="meta"><span class="stance {_e(report.stance)}">{_e(report.stance)}</span>{_e(since)} · '
             + ", ".join(f"{report.counts[label]} {label}" for label in LABELS)
             + f" · {report.articles} article(s), {report.undated_articles} undated</p>"]
    if report.reversals:
        lines.append("<p class='meta'>Reversals: " + "; ".join(
            f"{_e(r['from'])} (last {_e(r['from_last'])}) → {_e(r['to'])} (from {_e(r['to_first'])})"
            for r in report.reversals) + "</p>")
    if report.roster and report.roster.get("lead"):
        lines.append(f'<p class="lead">Lead: {_e(report.roster["lead"])}</p>')
    if report.timeline and first and last:
        lines.append(_timeline(report, first, last))
    lines.append('<ol class="evidence">')
    for e in report.examples:
        when = e.date.isoformat() if e.date else "undated"
        lines.append(f'<li><span class="{_e(e.label)}">{_e(e.label)} {e.probability:.2f}</span> · {_e(when)} · '
                     f'{_link(e.url, e.title or e.source)}: “{_e(e.text)}”</li>')
    lines.append("</ol></section>")
    return "\n".join(lines)


def render(result: TrackResult, title: str = "stance track") -> str:
    """The whole page as one string."""
    dates = [dt.date.fromisoformat(p["date"]) for r in result.agencies for p in r.timeline]
    first, last = (min(dates), max(dates)) if dates else (None, None)
    with_roster = any(r.roster for r in result.agencies)
    header = "".join(f'<th data-column="{c}" data-type="{t}" scope="col">{_e(label)}</th>' for c, label, t in _COLUMNS)
    if with_roster:
        header += '<th data-column="roster" data-type="text">roster</th><th data-column="lead" data-type="text">lead</th>'
    summary = (f"{result.articles:,} articles ({result.undated:,} undated), {result.sentences:,} sentences, "
               f"{result.sentences_about_agencies:,} about an agency, {result.below_min_prob:,} below --min-prob "
               f"(in the evidence file only); {len(result.agencies):,} agencies.")
    legend = "".join(f'<span class="{k}">● {k}</span>' for k in COLOURS)
    data = json.dumps({"agencies": len(result.agencies), "articles": result.articles})
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>", f'<p class="summary">{_e(summary)}</p>',
        f'<p class="legend meta">{legend} · a dot per date an agency was reported, sized by articles; '
        "a bar joins dates of one position.</p>",
        f'<div class="scroll"><table id="agencies"><thead><tr>{header}</tr></thead><tbody>',
        *(_row(r, first, last) for r in result.agencies), "</tbody></table></div>",
        *(_section(r, first, last) for r in result.agencies),
        f'<script type="application/json" id="track-summary">{data}</script>',
        f"<script>{_SCRIPT}</script>", "</body></html>", ""])
