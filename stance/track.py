"""From a pile of articles to which agency cooperates or declines, since when, with the evidence.

Articles stream through one at a time: each is cut into statement sentences (stance.extract),
each sentence is resolved to the agencies it is about (stance.agencies), and the sentences about
at least one agency are labelled by the model in batches. A sentence counts for an agency only
when the model's top probability reaches `min_prob`; below it, it goes to the evidence file for
review and counts toward nothing.

How a position is formed and ordered:
- An article's position on an agency is the sign of its summed probabilities: the sum of
  p(cooperate) over its confident `cooperate` sentences about the agency minus the sum of
  p(decline) over its confident `decline` sentences. Neutral sentences count but take no side;
  an article with no confident directional sentence about the agency has no position.
- Dated articles are ordered by date; articles of one date are summed into one position for
  that date. A run is a stretch of consecutive dates with one position. The agency's `stance` is
  the position of its latest run, `since` the first date of that run, and every change between
  runs is a reversal, listed with the last date of the old position and the first of the new.
- Undated articles add to the counts and the number of articles but never to dates; an agency
  reported only in undated articles takes the sign of their summed positions, with no `since`.
- An agency with confident sentences but no directional one has stance `neutral`.

Memory stays flat in the number of sentences: what is kept per agency is one bucket per
distinct date (summed score, counts, the best sentence of each label), not the sentences.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from stance import LABELS
from stance.agencies import Agency, ArticleContext, resolve_mentions
from stance.articles import Article
from stance.extract import extract_statements

UNCERTAIN = "uncertain"
DIRECTIONS = ("cooperate", "decline")
BATCH_SENTENCES = 4000
EVIDENCE_COLUMNS = ["agency", "state", "kind", "label", "p_cooperate", "p_decline", "p_neutral", "counted", "text",
                    "source", "sentence", "url", "date", "title"]

_MODELS: dict[str, object] = {}


def _classify(model, texts: list[str]):
    """(classes, probabilities) for `texts`, columns in `classes` order: the one place `track`
    touches the model, a loaded `stance.load()` model or a model directory (None: the default)."""
    if not hasattr(model, "probabilities"):
        from stance.api import load

        key = str(model)
        if key not in _MODELS:
            _MODELS[key] = load(model)
        model = _MODELS[key]
    return tuple(model.classes_), model.probabilities(list(texts))


@dataclass(slots=True)
class Evidence:
    """One sentence about one agency, as the evidence file lists it."""

    text: str
    probability: float
    label: str
    url: str
    date: dt.date | None
    source: str
    sentence: int
    title: str = ""

    def as_dict(self) -> dict:
        return {"text": self.text, "probability": round(self.probability, 4), "label": self.label, "url": self.url,
                "date": self.date.isoformat() if self.date else "", "source": self.source, "sentence": self.sentence}


@dataclass(slots=True)
class _Bucket:
    """What the articles of one date (or the undated ones) say about one agency. The best
    neutral sentence is kept only while the bucket has no directional one: it can then never
    be the evidence of a stance, nor the bucket's point on the timeline."""

    score: float = 0.0
    directional: int = 0
    articles: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LABELS, 0))
    best: dict[str, Evidence] = field(default_factory=dict)

    @property
    def position(self) -> str | None:
        if not self.directional or self.score == 0:
            return None
        return "cooperate" if self.score > 0 else "decline"


@dataclass
class AgencyReport:
    """Everything `track` knows about one agency once all articles are read."""

    agency: Agency
    stance: str
    since: dt.date | None
    last_seen: dt.date | None
    counts: dict[str, int]
    articles: int
    undated_articles: int
    evidence: Evidence | None
    reversals: list[dict]
    timeline: list[dict]      # one point per dated bucket: date, position, score, articles, best sentence
    examples: list[Evidence]  # the best sentence of each label and date, strongest first (for the HTML page)
    roster: dict = field(default_factory=dict)

    def row(self) -> dict:
        """The flat row of the per-agency CSV / JSON lines output."""
        e = self.evidence
        row = {"agency": self.agency.name, "state": self.agency.state, "kind": self.agency.kind,
               "stance": self.stance, "since": _iso(self.since), "last_seen": _iso(self.last_seen),
               **{label: self.counts[label] for label in LABELS}, "articles": self.articles,
               "undated_articles": self.undated_articles,
               "evidence": e.text if e else "", "evidence_url": e.url if e else "",
               "evidence_date": _iso(e.date) if e else "", "evidence_prob": round(e.probability, 4) if e else "",
               "reversals": "; ".join(f"{r['from']} (last {r['from_last'] or 'undated'}) -> {r['to']} "
                                      f"(from {r['to_first']})" for r in self.reversals)}
        row.update(self.roster)
        return row


@dataclass
class TrackResult:
    agencies: list[AgencyReport]
    articles: int
    undated: int
    sentences: int
    sentences_about_agencies: int
    below_min_prob: int
    seconds: float


def _iso(date: dt.date | None) -> str:
    return date.isoformat() if date else ""


class _Tracker:
    def __init__(self, min_prob: float):
        self.min_prob = min_prob
        self.buckets: dict[Agency, dict[dt.date | None, _Bucket]] = {}

    def add_article(self, article: Article, rows: list[tuple[int, str, Agency, str, dict[str, float]]]) -> None:
        """Fold one article's confident (sentence, agency) pairs into its agencies' buckets."""
        per_agency: dict[Agency, list] = {}
        for number, text, agency, label, proba in rows:
            if label != UNCERTAIN:
                per_agency.setdefault(agency, []).append((number, text, label, proba))
        for agency, sentences in per_agency.items():
            bucket = self.buckets.setdefault(agency, {}).setdefault(article.date, _Bucket())
            bucket.articles += 1
            for number, text, label, proba in sentences:
                bucket.counts[label] += 1
                if label in DIRECTIONS:
                    bucket.directional += 1
                    bucket.score += proba[label] if label == "cooperate" else -proba[label]
                if label == "neutral" and bucket.directional:
                    continue
                best = bucket.best.get(label)
                if best is None or proba[label] > best.probability:
                    bucket.best[label] = Evidence(text, proba[label], label, article.url, article.date,
                                                  article.source, number, article.title)
            if bucket.directional:
                bucket.best.pop("neutral", None)

    def reports(self) -> list[AgencyReport]:
        return [self._report(agency, buckets) for agency, buckets in sorted(self.buckets.items(),
                                                                              key=lambda kv: (kv[0].state, kv[0].name))]

    def _report(self, agency: Agency, buckets: dict[dt.date | None, _Bucket]) -> AgencyReport:
        dated = sorted((d, b) for d, b in buckets.items() if d is not None)
        undated = buckets.get(None)
        counts = dict.fromkeys(LABELS, 0)
        for bucket in buckets.values():
            for label, n in bucket.counts.items():
                counts[label] += n
        runs: list[dict] = []
        for date, bucket in dated:
            position = bucket.position
            if position is None:
                continue
            if runs and runs[-1]["position"] == position:
                runs[-1]["last"] = date
                runs[-1]["dates"].append(date)
            else:
                runs.append({"position": position, "first": date, "last": date, "dates": [date]})
        reversals = [{"from": a["position"], "from_last": _iso(a["last"]), "to": b["position"], "to_first": _iso(b["first"])}
                     for a, b in zip(runs, runs[1:])]
        if runs:
            stance, since = runs[-1]["position"], runs[-1]["first"]
            support = [buckets[d] for d in runs[-1]["dates"]]
        elif undated and undated.position:
            stance, since, support = undated.position, None, [undated]
        else:
            stance, since, support = "neutral", None, list(buckets.values())
        # The best evidence backs the current stance from the run that established it.
        candidates = [b.best[stance] for b in support if stance in b.best]
        evidence = max(candidates, key=lambda e: (e.probability, _iso(e.date))) if candidates else None
        timeline = [{"date": _iso(d), "position": b.position or "neutral", "score": round(b.score, 4),
                     "articles": b.articles, "counts": dict(b.counts),
                     "best": max(b.best.values(), key=lambda e: e.probability).as_dict() if b.best else None}
                    for d, b in dated]
        examples = sorted((e for b in buckets.values() for e in b.best.values()),
                          key=lambda e: (-e.probability, _iso(e.date)))[:12]
        return AgencyReport(agency, stance, since, dated[-1][0] if dated else None, counts,
                            sum(b.articles for b in buckets.values()), undated.articles if undated else 0,
                            evidence, reversals, timeline, examples)


def _label(classes: tuple[str, ...], probabilities, min_prob: float) -> tuple[str, dict[str, float]]:
    proba = {c: float(p) for c, p in zip(classes, probabilities)}
    best = max(proba, key=proba.get)
    return (best if proba[best] >= min_prob else UNCERTAIN), proba


def track(articles: Iterable[Article], model_dir: Path, min_prob: float = 0.6,
          evidence: Callable[[dict], None] | None = None, progress: Callable[[str], None] | None = None,
          progress_every: int = 1000, classify: Callable | None = None) -> TrackResult:
    """Read every article once and report per agency (see the module's docstring for the rules).

    `evidence` receives one row per (sentence, agency), confident or not, as it is labelled;
    `progress` a line every `progress_every` articles."""
    classify = classify or _classify
    started = time.perf_counter()
    tracker = _Tracker(min_prob)
    stats = {"articles": 0, "undated": 0, "sentences": 0, "about": 0, "below": 0}
    pending: list[tuple[Article, list[tuple[int, str, list[Agency]]]]] = []
    waiting = 0

    def flush() -> None:
        texts = [text for _, found in pending for _, text, _ in found]
        if texts:
            classes, proba = classify(model_dir, texts)
        row = 0
        for article, found in pending:
            rows = []
            for number, text, agencies in found:
                label, p = _label(classes, proba[row], min_prob)
                row += 1
                if label == UNCERTAIN:
                    stats["below"] += 1
                for agency in agencies:
                    rows.append((number, text, agency, label, p))
                    if evidence:
                        evidence({"agency": agency.name, "state": agency.state, "kind": agency.kind, "label": label,
                                  **{f"p_{c}": round(p.get(c, 0.0), 6) for c in LABELS},
                                  "counted": "yes" if label != UNCERTAIN else "no", "text": text,
                                  "source": article.source, "sentence": number, "url": article.url,
                                  "date": _iso(article.date), "title": article.title})
            tracker.add_article(article, rows)
        pending.clear()

    for article in articles:
        stats["articles"] += 1
        stats["undated"] += article.date is None
        context = ArticleContext(article.text, article.state or None)
        found = []
        for number, (sentence, speaker) in enumerate(extract_statements(article.text), start=1):
            stats["sentences"] += 1
            agencies = resolve_mentions(sentence, context, speaker)
            if agencies:
                found.append((number, sentence, agencies))
        stats["about"] += len(found)
        pending.append((article, found))
        waiting += len(found)
        if waiting >= BATCH_SENTENCES:
            flush()
            waiting = 0
        if progress and stats["articles"] % progress_every == 0:
            progress(f"track: {stats['articles']:,} articles, {stats['sentences']:,} sentences, "
                     f"{len(tracker.buckets):,} agencies so far ({time.perf_counter() - started:.1f} s)")
    flush()
    return TrackResult(tracker.reports(), stats["articles"], stats["undated"], stats["sentences"], stats["about"],
                       stats["below"], time.perf_counter() - started)


def roster_columns(report: AgencyReport, agreements: list, roster_date: str = "") -> dict:
    """The roster's word on one agency and, where it and the news disagree, a lead to check."""
    listed = bool(agreements)
    latest = max(agreements, key=lambda a: a.signed) if listed else None
    supports = "; ".join(sorted({a.support for a in agreements}))
    signed = "; ".join(sorted({a.signed for a in agreements}))
    since = f" since {_iso(report.since)[:7]}" if report.since else ""
    lead = ""
    if report.stance == "decline" and listed:
        lead = f"news says decline{since}; roster lists a {latest.support} agreement signed {latest.signed}"
    elif report.stance == "cooperate" and not listed and report.agency.kind in ("sheriff", "police", "jail"):
        on = f" of {roster_date}" if roster_date else ""
        lead = f"news says cooperate{since}; the 287(g) roster{on} does not list it"
    return {"roster": "listed" if listed else "not listed", "roster_support": supports, "roster_signed": signed,
            "lead": lead}


def iter_rows(result: TrackResult) -> Iterator[dict]:
    for report in result.agencies:
        yield report.row()


ROW_COLUMNS = ["agency", "state", "kind", "stance", "since", "last_seen", *LABELS, "articles", "undated_articles",
               "evidence", "evidence_url", "evidence_date", "evidence_prob", "reversals"]
ROSTER_COLUMNS = ["roster", "roster_support", "roster_signed", "lead"]


def row_columns(with_roster: bool) -> list[str]:
    """The columns of the per-agency table, in order."""
    return ROW_COLUMNS + (ROSTER_COLUMNS if with_roster else [])
