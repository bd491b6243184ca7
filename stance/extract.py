"""One article's text to clean, de-duplicated statement sentences.

The steps, in order: split the article into paragraphs (one per non-blank line), drop page
furniture (navigation, bylines, share and newsletter prompts, comment widgets, one-word lines),
drop paragraphs the article repeats (a lede printed twice, a title that reappears truncated or in
capitals), split each paragraph into sentences with a rule-based segmenter, re-attach attribution
fragments to the quote they belong to, and drop sentences that are furniture or repeats.

Every sentence returned is a substring of the article: nothing is added or rewritten.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from stance.errors import InputFileError
from stance.inputs import read_text

# Lines that are page furniture however long they are: these phrases only occur in site chrome.
_FURNITURE = re.compile(
    r"""
    ^breaking\ news$ | ^more\s*\(\)\s*» | ^trending(\ topics)?$ | ^back\ to\ top$
    | ^leave\ a\ (reply|comment) | ^comments?\ (off|closed) | \b\d[\d,]*\ views$
    | your\ email\ address\ will\ not\ be\ published | required\ fields\ are\ marked
    | akismet | ^powered\ by\b | ^print\ friendly | ^about\ the\ author$
    | \bnewsletter\b | ^subscribe\b | ^sign\ up\b | ^follow\ us\b | ^share\ (this|on)\b
    | ^(facebook|twitter|instagram|youtube|linkedin|tiktok)\s*: | ^social\ media\ channels
    | check\ this\ out | ^click\ here | ^read\ more\b | ^related\b | ^advertisement$
    | ^read: | ^what\ people\ are\ saying$ | all\ rights\ reserved | ^copyright\b | ^©
    | ^media\ archive | let\ us\ know\ (in|on)\b | \bcomments\ below\b
    | ^(do|what\ do)\ you\ think\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
_WEB_ADDRESS = re.compile(r"https?://|www\.|\b[\w-]+\.(com|org|net|gov|edu|tv)\b|(^|\s)@\w+", re.I)
_TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*$|[\"”]$")
# A site name glued to a page title: "Headline - | WBTV Charlotte", "Headline | Site".
_SITE_SUFFIX = re.compile(r"\s+[-–—]?\s*\|\s*[^|]{1,40}$")
# An attribution fragment that a segmenter may cut off after a closing quote: "he said."
_ATTRIBUTION = re.compile(
    r"^[\"”’]?\s*(,\s*)?((he|she|they|it|[A-Z][\w.'’-]*(\s+[A-Z][\w.'’-]*){0,3})\s+"
    r"(said|says|added|wrote|continued|stated|told \w+)|(said|says|added|wrote)\s+[A-Z])[^.!?]{0,60}[.!?]$"
)
_WORD = re.compile(r"\w+")
# A dateline that a segmenter cuts after the state's abbreviation: "LITTLE ROCK, Ark."
_DATELINE = re.compile(r"^[A-Z][A-Z .'-]+,\s*[A-Z][a-z]{1,5}\.$")
_SPEECH = r"(?:said|says|added|agreed|continued|concluded|stated|wrote|told)"
# A date word after "said" is when, not who: "she said Monday", "said Tuesday the sheriff",
# "said March 3"; a month only before a number, so "said May Chen" keeps its speaker. A weekday or
# a date also ends a name ("said Sheriff Smith Tuesday"); "Today" only straight after the verb, as
# inside a name it is part of it ("said USA Today").
_DATE = (r"(?:(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
         r"|(?:January|February|March|April|May|June|July|August|September|October|November|December"
         r"|Jan|Feb|Mar|Apr|Aug|Sept?|Oct|Nov|Dec)\.?\s+\d)")
_WHEN = rf"(?:{_DATE}|(?:Today|Yesterday|Tonight)\b)"
_NAME_WORD = rf"(?!{_DATE})[A-Z][\w'’-]*"
_NAME = rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,4}}"
_ROLE = r"(?:\s+(?:spokesperson|spokesman|spokeswoman|of\s+the)\s+" + _NAME + ")?"
# Who a quote belongs to: "..., said Mayor Stodola." or "... Chief Buckner agreed."
_SPEAKER = re.compile(
    rf"[,”\"]\s*[”\"]?\s*(?P<subject>the\s+[\w’' -]{{2,50}}?)(?:,[^,]{{0,80}},)?\s+{_SPEECH}\b"
    rf"|{_SPEECH}:?\s+(?:(?:on\s+)?{_WHEN}[\w.,]*\s+)?(?P<after>{_NAME}{_ROLE})|(?P<before>{_NAME}{_ROLE})\s+{_SPEECH}\b"
)
_QUOTES = "\"“”"
# Titles that stand before a name (or No. before a number): a piece ending in one is cut mid-sentence.
_TITLE_END = re.compile(r"(?:^|[\s(“\"])(?:Gov|Govs|Lt|Rep|Reps|Sen|Sens|Rev|Gen|Col|Maj|Capt|Sgt|Cpl|Det|Dep|Atty|"
                        r"Supt|Insp|Cmdr|Dr|Mr|Mrs|Ms|Prof|Hon|No|St)\.$")

SEGMENTERS = ("syntok", "pysbd")


@dataclass(frozen=True)
class Sentence:
    """A candidate statement: its text, the article it came from and its position there."""

    text: str
    source: str
    sentence: int
    speaker: str = ""


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def is_furniture(text: str) -> bool:
    """True when a line or sentence looks like page chrome rather than a statement."""
    line = " ".join(text.split())
    if not line:
        return True
    if _FURNITURE.search(line):
        return True
    if _WEB_ADDRESS.search(line) and _words(line) < 8:
        return True
    # Short lines with no sentence ending are labels, tags and section names: "lapd trump".
    return _words(line) <= 4 and not _TERMINAL.search(line)


def _key(text: str) -> str:
    """Fold case, punctuation and spacing so that repeats and truncations compare equal."""
    return " ".join(_WORD.findall(text.casefold()))


def _paragraphs(text: str) -> list[str]:
    paragraphs = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line or is_furniture(line):
            continue
        line = _SITE_SUFFIX.sub("", line)
        paragraphs.append(line)
    keys = [_key(p) for p in paragraphs]
    kept, seen = [], set()
    for i, (paragraph, key) in enumerate(zip(paragraphs, keys)):
        if not key or key in seen:
            continue
        # A title cut short by the page ("... despite the Presi") is a prefix of the full one.
        if any(j != i and other != key and other.startswith(key) for j, other in enumerate(keys)):
            continue
        seen.add(key)
        kept.append(paragraph)
    return kept


@lru_cache(maxsize=None)
def _pysbd():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def segment(paragraph: str, segmenter: str = "syntok") -> list[str]:
    """Split one paragraph into sentences with the named rule-based segmenter."""
    if segmenter == "pysbd":
        return [s.strip() for s in _pysbd().segment(paragraph) if s.strip()]
    if segmenter == "syntok":
        import syntok.segmenter as syntok

        sentences = []
        for para in syntok.process(paragraph):
            for tokens in para:
                start, end = tokens[0].offset, tokens[-1].offset + len(tokens[-1].value)
                sentences.append(paragraph[start:end])
        return [s.strip() for s in sentences if s.strip()]
    raise ValueError(f"unknown segmenter {segmenter!r}; choose one of {', '.join(SEGMENTERS)}")


def _reattach(sentences: list[str]) -> list[str]:
    """Join pieces that belong to a neighbour: attributions cut off after a quote, stray closing
    quotes, pieces starting in lower case, a dateline cut after its state ("LITTLE ROCK, Ark."),
    and a title cut from its name ("... signed by Gov." + "Jan Brewer on Friday.")."""
    out: list[str] = []
    for sentence in sentences:
        stray = sentence in {"”", '"', "’", "'"} or sentence[0].islower() or _ATTRIBUTION.match(sentence)
        title = out and _TITLE_END.search(out[-1]) and (sentence[0].isupper() or sentence[0].isdigit())
        if out and (stray or title or _DATELINE.match(out[-1])):
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.append(sentence)
    return out


def _quoted(pieces: list[str]) -> list[bool]:
    """Which pieces of a paragraph are quoted speech: they open with a quotation mark or start
    inside one. A phrase quoted mid-sentence ("so-called “sanctuary cities”") is not speech."""
    flags, inside = [], False
    for piece in pieces:
        marks = [c for c in piece if c in _QUOTES]
        flags.append(inside or piece[0] in _QUOTES)
        for mark in marks:
            inside = {"“": True, "”": False}.get(mark, not inside)
    return flags


def _speaker(paragraph: str) -> str:
    match = _SPEAKER.search(paragraph)
    return next((name for name in match.groups() if name), "") if match else ""


def extract_statements(text: str, segmenter: str = "syntok") -> list[tuple[str, str]]:
    """Return (sentence, speaker) pairs for one article's text, in order, without repeats.

    A sentence inside a quotation is attributed to the speaker named in its paragraph, or, for
    a paragraph that continues a quote without naming anyone, to the last speaker named."""
    statements, seen, last_speaker = [], set(), ""
    for paragraph in _paragraphs(text):
        if not _TERMINAL.search(paragraph) and _words(paragraph) <= 25:
            pieces = [paragraph]  # a headline: one statement, whatever its inner punctuation
        else:
            pieces = _reattach(segment(paragraph, segmenter))
        named = _speaker(paragraph)
        # A paragraph that opens a quote and names nobody continues the last speaker's quote.
        speaker = named or (last_speaker if paragraph[0] in _QUOTES else "")
        last_speaker = named or last_speaker
        for piece, quoted in zip(pieces, _quoted(pieces)):
            key = _key(piece)
            if _words(piece) < 3 or key in seen or is_furniture(piece):
                continue
            seen.add(key)
            statements.append((piece, speaker if quoted else ""))
    return statements


def extract_sentences(text: str, segmenter: str = "syntok") -> list[str]:
    """Return the statement sentences of one article's text, in order, without repeats."""
    return [sentence for sentence, _ in extract_statements(text, segmenter)]


def read_article(path: Path) -> str:
    """Read an article as UTF-8 text; raise InputFileError naming the file otherwise."""
    return read_text(path, empty_hint="Give an article with text in it.")


def extract_article(path: Path, segmenter: str = "syntok") -> list[Sentence]:
    """Read one article file and return its sentences, each tagged with the file name."""
    source = Path(path).name
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:  # its undecodable bytes reach Python as lone surrogates
        shown = os.fsencode(str(path)).decode("utf-8", "backslashreplace")
        raise InputFileError(f"{shown}: the file name is not valid UTF-8, and it would go into the source column. "
                             "Rename the file.") from None
    text = read_article(path)
    statements = extract_statements(text, segmenter)
    return [Sentence(s, source, i, who) for i, (s, who) in enumerate(statements, start=1)]
